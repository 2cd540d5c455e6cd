// Registration agent: REGISTER text, granted expiry thresholds,
// max-concurrent-reg, start-up spreading, digest (401/407, MD5/SHA-256,
// nc/cnonce), 423, 403 back-off, RFC 5626 back-off and Call-ID rules,
// monitor probes, failure notifications.

#include <gtest/gtest.h>

#include <map>

#include "failover/digest.h"
#include "sipparse/message.h"
#include "tests/failover/sim.h"

namespace sipedge::failover::test {

TEST(Register, MessageParsesAndCarriesTheIdentity) {
    Sim s;
    s.add(servers(1));
    auto r = s.registers();
    ASSERT_EQ(r.size(), 1u);
    const std::string m = s.text(r[0]);
    sip::Message msg;
    ASSERT_EQ(sip::parse(m.data(), m.size(), msg), sip::ParseStatus::ok) << m;
    ASSERT_EQ(sip::validate(m.data(), msg), sip::ParseStatus::ok) << m;
    EXPECT_EQ(msg.method, sip::Method::register_);
    EXPECT_EQ(msg.request_uri.str(m.data()), "sip:carrier.example");
    EXPECT_EQ(Sim::header(m, "Expires"), "3600");
    EXPECT_EQ(Sim::header(m, "Contact"), "<sip:100@198.51.100.7:5060>");
    EXPECT_NE(m.find("branch=z9hG4bKsE"), std::string::npos);
    char small[64];
    EXPECT_EQ(s.e.write_register(r[0], SendContext{"a", "b"}, small, sizeof small), 0u);  // does not fit
}

TEST(Register, RefreshAtThresholdOfTheGrantedExpiry) {
    Sim s;
    s.add(servers(1));
    auto r = s.registers();
    s.reply(r[0], 200, "", 600);  // asked 3600, granted 600 → refresh 300 s before expiry
    s.run(299000);
    EXPECT_TRUE(s.registers().empty());
    s.run(1100);
    EXPECT_EQ(s.registers().size(), 1u);

    Sim p;
    TrunkKnobs k;
    k.threshold_kind = ThresholdKind::percentage;
    k.threshold = 10;
    p.add(servers(1), k);
    p.reply(p.registers()[0], 200, "", 1000);
    p.run(899000);
    EXPECT_TRUE(p.registers().empty());
    p.run(1100);
    EXPECT_EQ(p.registers().size(), 1u);
}

TEST(Register, MaxConcurrentReg) {
    Sim s;
    TrunkKnobs k;
    k.max_concurrent_reg = 2;
    s.add(servers(1), k, 10);
    auto r = s.registers();
    ASSERT_EQ(r.size(), 2u);
    s.reply(r[0], 200);
    EXPECT_EQ(s.registers().size(), 1u);  // one slot freed, one more sent
}

TEST(Register, StartupSpreadingOf10000Trunks) {
    Sim s(42, 10000);
    for (int i = 0; i < 10000; i++) s.add(servers(2));
    // First REGISTER of each trunk, by millisecond.
    std::map<Millis, int> per_ms;
    std::vector<bool> seen(10000, false);
    const Millis t0 = s.now;
    auto collect = [&] {
        for (const Action& a : s.registers())
            if (!seen[a.trunk]) {
                seen[a.trunk] = true;
                per_ms[s.now - t0]++;
            }
    };
    collect();
    for (Millis t = 1; t <= 10000; t++) {
        s.now = t0 + t;
        s.tick();
        collect();
    }
    int total = 0, peak = 0;
    for (auto& [t, n] : per_ms) {
        total += n;
        peak = std::max(peak, n);
    }
    EXPECT_EQ(total, 10000);   // every trunk registered within the window
    EXPECT_LE(peak, 10);       // ~1 per ms on average, never a burst
    EXPECT_GE(per_ms.size(), 6000u);
}

TEST(Register, Digest401And407WithMd5AndSha256) {
    for (bool proxy : {false, true})
        for (const char* alg : {"MD5", "SHA-256"}) {
            Sim s;
            const uint32_t t = s.add(servers(1));
            auto r = s.registers();
            const std::string hdr = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
            s.reply(r[0], proxy ? 407 : 401,
                    hdr + ": Digest realm=\"carrier\", nonce=\"n1\", opaque=\"o\", qop=\"auth,auth-int\", algorithm=" +
                        alg + "\r\n");
            auto r2 = s.registers();
            ASSERT_EQ(r2.size(), 1u);
            const std::string m = s.text(r2[0]);
            EXPECT_EQ(Sim::header(m, "Call-ID"), s.t(t).regs[0].call_id);
            const std::string a = Sim::header(m, proxy ? "Proxy-Authorization" : "Authorization");
            ASSERT_FALSE(a.empty()) << m;
            EXPECT_NE(a.find("nc=00000001"), std::string::npos) << a;
            EXPECT_NE(a.find("qop=auth"), std::string::npos);
            EXPECT_NE(a.find("opaque=\"o\""), std::string::npos);
            // Recompute the response independently.
            const size_t c0 = a.find("cnonce=\"") + 8;
            const std::string cnonce = a.substr(c0, a.find('"', c0) - c0);
            DigestInput in;
            in.alg = digest_alg_from(alg);
            in.username = "100";
            in.realm = "carrier";
            in.password = "secret100";
            in.method = "REGISTER";
            in.uri = "sip:carrier.example";
            in.nonce = "n1";
            in.cnonce = cnonce;
            in.qop = "auth";
            in.nc = 1;
            char want[64];
            const size_t n = digest_response(in, want);
            EXPECT_NE(a.find("response=\"" + std::string(want, n) + "\""), std::string::npos) << a;
            s.reply(r2[0], 200, "", 600);
            EXPECT_EQ(s.t(t).regs[0].bound, 0);
            // The refresh reuses the nonce with the next nc.
            s.run(300100);
            auto r3 = s.registers();
            ASSERT_EQ(r3.size(), 1u);
            EXPECT_NE(s.text(r3[0]).find("nc=00000002"), std::string::npos);
        }
}

TEST(Register, WrongPasswordIsADenialNotALoop) {
    Sim s;
    const uint32_t t = s.add(servers(2));
    const std::string ch = "WWW-Authenticate: Digest realm=\"c\", nonce=\"n1\", qop=\"auth\"\r\n";
    s.reply(s.registers()[0], 401, ch);
    s.reply(s.registers()[0], 401, ch);  // same nonce again, no stale=true
    EXPECT_TRUE(s.registers().empty());
    EXPECT_EQ(s.t(t).reg_target, 0);  // not a failover
    EXPECT_GE(s.t(t).regs[0].next_attempt_at, s.now + 60000);
}

TEST(Register, MinExpires423) {
    Sim s;
    s.add(servers(1));
    s.reply(s.registers()[0], 423, "Min-Expires: 7200\r\n");
    auto r = s.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].expires, 7200u);
}

TEST(Register, Forbidden403BacksOffWithoutFailover) {
    Sim s;
    TrunkKnobs k;
    k.registration_failure_retry_s = 120;
    const uint32_t t = s.add(servers(2), k);
    s.reply(s.registers()[0], 403);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::up);
    s.run(119000);
    EXPECT_TRUE(s.registers().empty());
    s.run(1100);
    auto r = s.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].server, 0);  // registration-failure-retry, same server
}

TEST(Register, Rfc5626BackoffAfterAllServersFailedThenNewCallId) {
    for (bool new_call : {true, false}) {
        Sim s;
        TrunkKnobs k;
        k.register_retry_base_s = 10;
        k.register_retry_max_s = 120;
        k.new_call_on_unregister = new_call;
        const uint32_t t = s.add(servers(2), k);
        s.reply_all(200);
        const std::string cid = s.t(t).regs[0].call_id;
        s.run(3300 * 1000);  // refresh to #0 times out, then #1 times out
        s.run(6200);
        EXPECT_EQ(s.t(t).reg_target, -1);
        const Millis until = s.t(t).backoff_until;
        EXPECT_GE(until, s.now + 5000 - 100);  // W = 10 s: wait in [5, 10] s
        EXPECT_LE(until, s.now + 10000);
        EXPECT_TRUE(s.e.routes(t, s.now).flags & routes_backoff);
        EXPECT_EQ(s.notices(NoticeKind::registration_lost).size(), 1u);
        s.log.clear();
        s.run(until - s.now + 100);
        auto r = s.registers();
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].server, 0);
        EXPECT_EQ(s.t(t).regs[0].call_id != cid, new_call);
        // Second exhausted walk: W = 20 s.
        s.run(6200);
        EXPECT_GE(s.t(t).backoff_until, s.now + 10000 - 100);
    }
}

TEST(Register, CallIdKeptAcrossRetriesOnOtherServers) {
    Sim s;
    const uint32_t t = s.add(servers(3));
    const std::string cid = s.t(t).regs[0].call_id;
    EXPECT_EQ(s.registers(0).size(), 1u);  // the first try, which #0 never answers
    s.run(3100);
    auto r = s.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].server, 1);
    EXPECT_EQ(Sim::header(s.text(r[0]), "Call-ID"), cid);
    s.reply(r[0], 200);
    EXPECT_EQ(s.t(t).active, 1);
    // top_first: the refresh goes back to the primary (seed A default).
    s.run(3300 * 1000);
    r = s.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].server, 0);
}

TEST(Monitor, ThresholdsSpreadAnd503Hold) {
    Sim s;
    TrunkKnobs k;
    k.register_enabled = false;
    k.probe_mode = ProbeMode::always;
    k.probe_interval_s = 30;
    k.probe_down_threshold = 3;
    k.probe_up_threshold = 2;
    std::vector<uint32_t> ids;
    for (int i = 0; i < 200; i++) ids.push_back(s.add(servers(1), k, 0));
    std::map<Millis, int> first;
    for (Millis t = 0; t < 30000; t += 100) {
        s.run(100);
        for (auto& a : s.log)
            if (a.kind == ActionKind::send_options && !a.retransmit) first[t / 1000]++;
        s.log.clear();
    }
    int peak = 0, total = 0;
    for (auto& [t, n] : first) {
        peak = std::max(peak, n);
        total += n;
    }
    EXPECT_EQ(total, 200);
    EXPECT_LE(peak, 20);  // spread over the interval, not all at once
    // Trunk 0: three unanswered probes → failed (each waits monitor-timeout,
    // 32 s, retransmitted by Timer E meanwhile); two answers → up.
    const uint32_t t = ids[0];
    s.run(3 * 32000 + 30000);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::failed);
    EXPECT_EQ(s.t(t).servers[0].last_trigger, Trigger::probe_down);
    auto answer = [&](uint16_t status, uint32_t ra) {
        s.log.clear();
        s.run(30000);
        for (auto& a : s.log)
            if (a.kind == ActionKind::send_options && a.trunk == t) {
                char buf[1024];
                EXPECT_GT(s.e.write_options(a, SendContext{"192.0.2.1:5060", "z9hG4bKx"}, buf, sizeof buf), 0u);
                s.e.on_probe_response(t, a.server, a.cseq, status, ra, s.now);
            }
    };
    answer(200, 0);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::failed);
    answer(200, 0);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::up);
    // 503 Retry-After: 120 holds it down; answers inside the hold do not count.
    answer(503, 120);
    answer(503, 120);
    answer(503, 120);
    EXPECT_NE(s.e.health(t, 0, s.now), Health::up);
    answer(200, 0);
    answer(200, 0);
    EXPECT_NE(s.e.health(t, 0, s.now), Health::up);
    for (int i = 0; i < 6; i++) answer(200, 0);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::up);
}

TEST(Monitor, WhileFailedProbesOnlyFailedServers) {
    Sim s;
    TrunkKnobs k;
    k.register_enabled = false;
    k.probe_mode = ProbeMode::while_failed;
    const uint32_t t = s.add(servers(2), k, 0);
    s.run(60000);
    int probes = 0;
    for (auto& a : s.log) probes += a.kind == ActionKind::send_options;
    EXPECT_EQ(probes, 0);
    s.event(t, 1, EventKind::timeout);
    s.log.clear();
    s.run(30100);
    std::vector<int> to;
    for (auto& a : s.log)
        if (a.kind == ActionKind::send_options && !a.retransmit) to.push_back(a.server);
    EXPECT_EQ(to, std::vector<int>{1});
}

TEST(Notifications, RegistrationFailuresAtMostOncePerInterval) {
    Sim s;
    TrunkKnobs k;
    k.trap_failures = 3;
    k.trap_interval_s = 3600;
    k.registration_failure_retry_s = 10;
    k.register_retry_base_s = 10;
    k.register_retry_max_s = 60;
    s.add(servers(1), k);
    auto fail_once = [&] {
        for (int i = 0; i < 200 && s.registers().empty(); i++) s.run(1000);
        s.log.clear();
        s.run(3100);  // times out
    };
    for (int i = 0; i < 3; i++) fail_once();
    auto n = s.notices(NoticeKind::registration_failures);
    ASSERT_EQ(n.size(), 1u);  // after N = 3 failures
    EXPECT_EQ(n[0].count, 3u);
    // Failing continuously for three more hours: at most one notice per hour.
    s.run(3 * 3600 * 1000);
    n = s.notices(NoticeKind::registration_failures);
    ASSERT_GE(n.size(), 3u);
    ASSERT_LE(n.size(), 4u);
    for (size_t i = 1; i < n.size(); i++) {
        EXPECT_GE(n[i].at_ms - n[i - 1].at_ms, 3600u * 1000);
        EXPECT_GE(n[i].count, 3u);
    }
}

}  // namespace sipedge::failover::test
