// RegistrationAgent on its own (issue 13): driven with a scripted
// RegistrationHost instead of the Engine, so what the agent asks of the rest
// of the engine (health, selection, decisions, failback) is visible. The
// behaviour through the Engine is covered by engine_registration_test.cc and
// the other engine_*_test.cc files.

#include "failover/registration_agent.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipedge::failover::test {
namespace {

struct HostCall {
    std::string what;  // mark_alive, server_failed, record, notify, schedule_failback, walk_landed
    int server = -1;
    Trigger trigger = Trigger::none;
    Decision decision = Decision::none;
    NoticeKind notice = NoticeKind::none;
};

// Selection is the walk order 0, 1, ... skipping tried servers; the primary is 0.
struct FakeHost final : RegistrationHost {
    std::vector<HostCall> calls;

    int next_candidate(Trunk& t, Millis) override {
        for (size_t s = 0; s < t.servers.size(); s++)
            if (!(t.walk_tried >> s & 1u) && t.servers[s].family != 0) return int(s);
        return -1;
    }
    int16_t primary(const Trunk&) const noexcept override { return 0; }
    void mark_alive(Trunk&, uint16_t s, Trigger why, Millis) override { calls.push_back({"mark_alive", s, why}); }
    void server_failed_in_use(Trunk&, uint16_t s, Trigger why, Millis) override {
        calls.push_back({"server_failed", s, why});
    }
    void record(Trunk& t, Decision d, Millis now, int16_t server, int16_t from, Trigger why) override {
        t.last = DecisionRecord{d, now, server, from, why};
        calls.push_back({"record", server, why, d});
    }
    void notify(const Trunk&, NoticeKind k, Millis, uint16_t server, uint16_t, uint32_t) override {
        calls.push_back({"notify", server == 0xffff ? -1 : int(server), Trigger::none, Decision::none, k});
    }
    void schedule_failback(Trunk&, Millis) override { calls.push_back({"schedule_failback"}); }
    void walk_landed(Trunk&, Millis) override { calls.push_back({"walk_landed"}); }

    bool saw(const std::string& what, int server = -1) const {
        for (const HostCall& c : calls)
            if (c.what == what && (server < 0 || c.server == server)) return true;
        return false;
    }
    bool decided(Decision d) const {
        for (const HostCall& c : calls)
            if (c.what == "record" && c.decision == d) return true;
        return false;
    }
    bool noticed(NoticeKind k) const {
        for (const HostCall& c : calls)
            if (c.what == "notify" && c.notice == k) return true;
        return false;
    }
};

struct Rig {
    Random rng{42};
    std::vector<Action> out;
    FakeHost host;
    RegistrationAgent agent{rng, out, host, "agent-test"};
    Trunk t;
    Millis now = 1000;

    explicit Rig(size_t nservers = 2, SelectMode mode = SelectMode::validated) {
        t.name = "t";
        t.domain = "carrier.example";
        t.knobs.mode = mode;
        normalize(t.knobs);
        for (size_t i = 0; i < nservers; i++) {
            ServerState s;
            s.target.address = "10.0.0." + std::to_string(i + 1);
            s.target.port = 5060;
            s.family = 4;
            t.servers.push_back(s);
        }
        t.records.resize(1);
        std::vector<Identity> ids{{"100", "", "secret", "sip:100@198.51.100.7:5060"}};
        agent.add_identities(t, ids, now);
        agent.start_walk(t, -1, now);
        agent.pump(t, now);
    }
    std::vector<Action> registers() {
        std::vector<Action> r;
        for (const Action& a : out)
            if (a.kind == ActionKind::send_register) r.push_back(a);
        out.clear();
        return r;
    }
    std::string text(const Action& a) const {
        char buf[4096];
        const size_t n = agent.write_register(t, a, SendContext{"192.0.2.1:5060", "z9hG4bKtest"}, buf, sizeof buf);
        return std::string(buf, n);
    }
    static std::string header(const std::string& msg, const std::string& name) {
        size_t p = msg.find("\r\n" + name + ": ");
        if (p == std::string::npos) return {};
        p += 4 + name.size();
        return msg.substr(p, msg.find("\r\n", p) - p);
    }
    void reply(const Action& a, int status, const std::string& extra = "") { reply_to(a, text(a), status, extra); }
    /// Answers the REGISTER text <req> (as sent for <a>) with <status>.
    void reply_to(const Action& a, const std::string& req, int status, const std::string& extra = "") {
        ASSERT_FALSE(req.empty());
        std::string r = "SIP/2.0 " + std::to_string(status) + " X\r\n";
        for (const char* h : {"Via", "From", "Call-ID", "CSeq"}) r += std::string(h) + ": " + header(req, h) + "\r\n";
        r += "To: " + header(req, "To") + ";tag=r\r\n";
        if (status / 100 == 2) r += "Contact: " + header(req, "Contact") + ";expires=600\r\n";
        r += extra + "Content-Length: 0\r\n\r\n";
        agent.on_response(t, a.identity, r.data(), r.size(), now);
    }
};

TEST(RegistrationAgent, FirstRegisterGoesToTheWalksCandidate) {
    Rig g;
    auto r = g.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].server, 0);
    EXPECT_EQ(r[0].expires, 3600u);
    EXPECT_EQ(g.t.reg_target, 0);
    const std::string m = g.text(r[0]);
    EXPECT_EQ(m.rfind("REGISTER sip:carrier.example SIP/2.0\r\n", 0), 0u) << m;
    EXPECT_EQ(Rig::header(m, "CSeq"), "1 REGISTER");
    EXPECT_EQ(Rig::header(m, "User-Agent"), "agent-test");
    const std::string cid = Rig::header(m, "Call-ID");
    EXPECT_EQ(cid.substr(cid.size() - 2), "@t");
}

TEST(RegistrationAgent, AcceptedRegisterValidatesTheServerThroughTheHost) {
    Rig g;
    auto r = g.registers();
    const std::string req = g.text(r[0]);
    g.reply_to(r[0], req, 200);
    EXPECT_EQ(g.t.regs[0].bound, 0);
    EXPECT_EQ(g.t.regs[0].granted_s, 600u);
    EXPECT_EQ(g.t.active, 0);
    EXPECT_TRUE(g.host.saw("mark_alive", 0));
    EXPECT_TRUE(g.host.noticed(NoticeKind::registered));
    EXPECT_TRUE(g.host.decided(Decision::validated));
    EXPECT_TRUE(g.host.saw("schedule_failback"));
    // A second answer to the same transaction is stale.
    const size_t n = g.host.calls.size();
    g.reply_to(r[0], req, 200);
    EXPECT_EQ(g.host.calls.size(), n);
}

TEST(RegistrationAgent, TimeoutFailsTheServerAndWalksOn) {
    Rig g;
    g.registers();
    const Millis deadline = g.t.regs[0].txn_deadline;
    ASSERT_NE(deadline, never_ms);
    g.now = deadline;
    g.agent.on_tick(g.t, g.now);
    EXPECT_TRUE(g.host.saw("server_failed", 0));
    EXPECT_EQ(g.host.calls.back().what, "record");
    EXPECT_EQ(g.host.calls.back().decision, Decision::failover);
    EXPECT_EQ(g.t.reg_target, 1);
    g.agent.pump(g.t, g.now);
    auto r = g.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].server, 1);
    EXPECT_EQ(r[0].cseq, 2u);  // same Call-ID, next CSeq
}

TEST(RegistrationAgent, EveryServerFailedBacksOff) {
    Rig g;
    for (int s = 0; s < 2; s++) {
        g.registers();
        g.now = g.t.regs[0].txn_deadline;
        g.agent.on_tick(g.t, g.now);
        g.agent.pump(g.t, g.now);
    }
    EXPECT_EQ(g.t.reg_target, -1);
    EXPECT_GT(g.t.backoff_until, g.now);
    EXPECT_EQ(g.t.backoff_count, 1u);
    EXPECT_TRUE(g.host.decided(Decision::failover_exhausted));
    EXPECT_TRUE(g.host.noticed(NoticeKind::registration_lost));
    g.agent.pump(g.t, g.now);
    EXPECT_TRUE(g.registers().empty());  // nothing during the back-off
    g.now = g.t.backoff_until;
    g.agent.on_tick(g.t, g.now);
    EXPECT_TRUE(g.host.decided(Decision::backoff_over));
    g.agent.pump(g.t, g.now);
    auto r = g.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].server, 0);
}

TEST(RegistrationAgent, ChallengeIsAnsweredOnTheSameServer) {
    Rig g;
    auto r = g.registers();
    const std::string first = g.text(r[0]);
    g.reply(r[0], 401, "WWW-Authenticate: Digest realm=\"c\", nonce=\"n1\", qop=\"auth\"\r\n");
    EXPECT_TRUE(g.host.saw("mark_alive", 0));
    auto again = g.registers();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].server, 0);
    EXPECT_EQ(again[0].cseq, r[0].cseq + 1);
    const std::string m = g.text(again[0]);
    EXPECT_EQ(Rig::header(m, "Call-ID"), Rig::header(first, "Call-ID"));
    const std::string auth = Rig::header(m, "Authorization");
    EXPECT_NE(auth.find("Digest username=\"100\", realm=\"c\", nonce=\"n1\""), std::string::npos) << m;
    EXPECT_NE(auth.find("nc=00000001"), std::string::npos) << m;
}

TEST(RegistrationAgent, MinExpiresIsRetriedAndKept) {
    Rig g;
    auto r = g.registers();
    g.reply(r[0], 423, "Min-Expires: 7200\r\n");
    auto again = g.registers();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].expires, 7200u);
    EXPECT_EQ(g.t.regs[0].min_expires, 7200u);
}

TEST(RegistrationAgent, DenialIsNotAFailoverTrigger) {
    Rig g;
    auto r = g.registers();
    g.reply(r[0], 403);
    EXPECT_FALSE(g.host.saw("server_failed"));
    EXPECT_TRUE(g.host.saw("mark_alive", 0));
    EXPECT_EQ(g.t.reg_target, 0);
    EXPECT_GE(g.t.regs[0].next_attempt_at, g.now + Millis(g.t.knobs.registration_failure_retry_s) * 1000);
    EXPECT_EQ(g.t.regs[0].failures, 1u);
}

TEST(RegistrationAgent, UnregisterDropsTheBindingAtOnce) {
    Rig g;
    g.reply(g.registers()[0], 200);
    g.agent.unregister(g.t, 0, 0, g.now);
    EXPECT_EQ(g.t.regs[0].bound, -1);
    auto r = g.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].expires, 0u);
    EXPECT_EQ(Rig::header(g.text(r[0]), "Expires"), "0");
}

TEST(RegistrationAgent, TransportErrorIsAFailoverTrigger) {
    Rig g;
    g.registers();
    g.agent.on_transport_error(g.t, 0, g.now);
    EXPECT_TRUE(g.host.saw("server_failed", 0));
    EXPECT_EQ(g.t.reg_target, 1);
    const size_t n = g.host.calls.size();
    g.agent.on_transport_error(g.t, 7, g.now);  // no such identity: ignored
    EXPECT_EQ(g.host.calls.size(), n);
}

}  // namespace
}  // namespace sipedge::failover::test
