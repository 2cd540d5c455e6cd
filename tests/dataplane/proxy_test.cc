// The stateful proxy core (dataplane/proxy.h) driven with injected time, a
// recording sink and a hand-built failover::Table (what control publishes):
// one table row per decision it makes. Request-URI host policy, the access
// policy and the access guard: proxy_policy_test.cc (same executable).

#include "tests/dataplane/proxy_fixture.h"

namespace sipedge::dp {
namespace {

TEST_F(ProxyTest, InviteGetsTryingAndGoesToThePrimary) {
    in(caller, invite());
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(status_of(sink.out[0].msg), 100);
    EXPECT_EQ(sink.out[1].to, primary);
    const std::string& f = sink.out[1].msg;
    EXPECT_TRUE(starts(f, "INVITE sip:1000@192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsE"));
    EXPECT_NE(f.find("Record-Route: " + rr_value("192.0.2.10:5060", "c1@192.0.2.1", "f1") + "\r\n"),
              std::string::npos)
        << f;
    EXPECT_NE(f.find("Max-Forwards: 69\r\n"), std::string::npos);
    EXPECT_EQ(st.calls_attempted, 1u);
}

TEST_F(ProxyTest, RequestDecisionsTable) {
    struct Row {
        const char* what;
        std::string msg;
        int want_status;        // first response upstream (0: none)
        size_t want_downstream; // requests sent downstream
    } rows[] = {
        {"max-forwards 0 is answered 483", invite("z9hG4bK-mf", 0), 483, 0},
        {"OPTIONS is forwarded without 100", invite("z9hG4bK-o", 70, "OPTIONS"), 0, 1},
        {"CANCEL for nothing: 481", invite("z9hG4bK-x", 70, "CANCEL"), 481, 0},
        {"garbage is dropped", "NOT SIP\r\n\r\n", 0, 0},
    };
    for (const Row& r : rows) {
        in(caller, r.msg);
        int status = 0;
        size_t down = 0;
        for (const Sent& s : sink.out) {
            if (s.to == caller && !status) status = status_of(s.msg);
            if (s.to == primary) down++;
        }
        EXPECT_EQ(status, r.want_status) << r.what;
        EXPECT_EQ(down, r.want_downstream) << r.what;
    }
}

TEST_F(ProxyTest, RetransmissionIsAbsorbed) {
    in(caller, invite());
    ASSERT_EQ(sink.out.size(), 2u);
    const std::string trying = sink.out[0].msg;
    ASSERT_EQ(status_of(trying), 100);
    // Issue 15: the 100 Trying is not retained; the client side holds the
    // forwarded INVITE, the server side nothing yet.
    EXPECT_EQ(p.retained_messages(), 1u);
    in(caller, invite(), 100);
    ASSERT_EQ(sink.out.size(), 1u);  // the 100 again, nothing downstream
    EXPECT_EQ(sink.out[0].msg, trying);  // built again from the retransmission: the same bytes
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(st.sip_retransmissions_rx, 1u);
    EXPECT_EQ(st.sip_retransmissions_tx, 1u);
    EXPECT_EQ(p.retained_messages(), 1u);
}

TEST_F(ProxyTest, ResponsesAreRelayedWithoutOurVia) {
    const std::string f = forward_invite();
    for (int code : {180, 200}) {
        in(primary, response_to(f, code, "X"), 50);
        ASSERT_EQ(sink.out.size(), 1u) << code;
        EXPECT_EQ(sink.out[0].to, caller);
        EXPECT_EQ(status_of(sink.out[0].msg), code);
        EXPECT_EQ(sink.out[0].msg.find("192.0.2.10:5060;branch"), std::string::npos);
        EXPECT_NE(sink.out[0].msg.find("branch=z9hG4bK-c1"), std::string::npos);
    }
    EXPECT_EQ(st.calls_answered, 1u);
    in(primary, response_to(f, 100, "Trying"), 60);  // late 100: not forwarded
    EXPECT_TRUE(sink.out.empty());
}

TEST_F(ProxyTest, TimeoutRollsOverToTheSecondaryWithANewBranch) {
    const std::string f = forward_invite();
    p.advance(999);
    sink.out.clear();
    p.advance(1000);  // seed A rollover 1 s (retransmissions at 500 ms went to the primary)
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, secondary);
    EXPECT_EQ(st.rollover_timeout, 1u);
    const auto branch = [](const std::string& m) {
        const size_t b = m.find("branch=") + 7;
        return m.substr(b, branch_len);
    };
    EXPECT_NE(branch(sink.out[0].msg), branch(f));
    // The old branch's late answer is stale; the new one's is relayed.
    in(primary, response_to(f, 180, "Ringing"), 1100);
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(st.drops[size_t(DropReason::sip_stale_branch)], 1u);
}

TEST_F(ProxyTest, IcmpRollsOverAtOnceAndEveryServerFailingGives503) {
    const std::string f = forward_invite();
    EXPECT_TRUE(p.on_icmp_unreachable(primary, f.data(), f.size(), 10));
    sink.out.clear();
    p.advance(10);
    EXPECT_EQ(st.rollover_icmp, 1u);
    // The secondary is unreachable too: the walk ends, 503 upstream.
    in(caller, invite(), 20);  // (retransmission: absorbed)
    sink.out.clear();
    const size_t branch_at = f.find("branch=") + 7;
    std::string f2 = f;
    BranchId b;
    ASSERT_TRUE(decode_branch(std::string_view(f).substr(branch_at, branch_len), b));
    b.attempt = 1;
    encode_branch(b, f2.data() + branch_at);
    EXPECT_TRUE(p.on_icmp_unreachable(secondary, f2.data(), f2.size(), 30));
    bool got503 = false;
    for (const Sent& s : sink.out)
        if (s.to == caller && status_of(s.msg) == 503) {
            got503 = true;
            // The configured Retry-After (ProxyConfig default: 30 s).
            EXPECT_NE(s.msg.find("\r\nRetry-After: 30\r\n"), std::string::npos) << s.msg;
        }
    EXPECT_TRUE(got503);
    EXPECT_EQ(st.txn_failed_icmp, 1u);
    EXPECT_EQ(st.calls_failed, 1u);
}

// Every server failed, one of them with 503 + Retry-After: our 503 carries
// the shortest Retry-After the servers gave (here the primary's 120 s); the
// stateless 503 for a trunk with no candidate carries the configured one.
TEST_F(ProxyTest, Generated503CarriesRetryAfter) {
    const std::string f = forward_invite();
    std::string busy = response_to(f, 503, "Service Unavailable");
    busy.insert(busy.find("Content-Length:"), "Retry-After: 120\r\n");
    in(primary, busy, 10);  // failover on 503: rollover to the secondary
    ASSERT_EQ(st.rollover_503, 1u);
    const size_t branch_at = f.find("branch=") + 7;
    std::string f2 = f;
    BranchId b;
    ASSERT_TRUE(decode_branch(std::string_view(f).substr(branch_at, branch_len), b));
    b.attempt = 1;
    encode_branch(b, f2.data() + branch_at);
    sink.out.clear();
    EXPECT_TRUE(p.on_icmp_unreachable(secondary, f2.data(), f2.size(), 30));
    int n503 = 0;
    for (const Sent& s : sink.out)
        if (s.to == caller && status_of(s.msg) == 503) {
            n503++;
            EXPECT_NE(s.msg.find("\r\nRetry-After: 120\r\n"), std::string::npos) << s.msg;
        }
    EXPECT_EQ(n503, 1);
    // No candidate at all: a stateless 503 with the configured Retry-After.
    publish(make_table({}, {}));
    in(caller, invite("z9hG4bK-none"));
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(status_of(sink.out[0].msg), 503);
    EXPECT_NE(sink.out[0].msg.find("\r\nRetry-After: 30\r\n"), std::string::npos) << sink.out[0].msg;
}

TEST_F(ProxyTest, NoAnswerAnywhereGives408) {
    forward_invite();
    bool got408 = false;
    for (Millis t = 1; t <= 40000 && !got408; t += 10) {
        sink.out.clear();
        p.advance(t);
        for (const Sent& s : sink.out) got408 |= s.to == caller && status_of(s.msg) == 408;
    }
    EXPECT_TRUE(got408);
    EXPECT_EQ(st.txn_failed_timeout, 1u);
}

TEST_F(ProxyTest, CancelFollowsTheInviteBranch) {
    const std::string f = forward_invite();
    in(primary, response_to(f, 180, "Ringing"), 10);
    std::string c = invite("z9hG4bK-c1", 70, "CANCEL");
    in(caller, c, 20);
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(status_of(sink.out[0].msg), 200);
    EXPECT_EQ(sink.out[1].to, primary);
    EXPECT_TRUE(starts(sink.out[1].msg, "CANCEL sip:1000@192.0.2.10:5060 SIP/2.0\r\n"));
    const size_t b = f.find("branch=");
    EXPECT_NE(sink.out[1].msg.find(f.substr(b, 7 + branch_len)), std::string::npos);
    // 487 for the INVITE goes upstream and is ACKed downstream by us.
    in(primary, response_to(f, 487, "Request Terminated"), 30);
    int acks = 0, up487 = 0;
    for (const Sent& s : sink.out) {
        acks += s.to == primary && starts(s.msg, "ACK ");
        up487 += s.to == caller && status_of(s.msg) == 487;
    }
    EXPECT_EQ(acks, 1);
    EXPECT_EQ(up487, 1);
}

// Timer C (§16.8): a server that rings and never answers gets a CANCEL on
// the INVITE's branch; its 487 goes upstream. A server that then says
// nothing at all: 408 upstream. Neither is reported as a server failure.
TEST_F(ProxyTest, TimerCCancelsARingingServerThenGives408) {
    SinkProxy q;
    Sink qs;
    WorkerStats qst;
    ProxyConfig c;
    c.self = edge;
    c.max_txns = 64;
    c.timer_c_ms = 181000;
    ASSERT_TRUE(q.init(c, 0, 99, 0, qs, qst));
    q.set_routes(&routes);
    const std::string inv = invite();
    q.on_datagram(caller, inv.data(), inv.size(), 0);
    ASSERT_EQ(qs.out.size(), 2u);
    const std::string f = qs.out[1].msg;
    const std::string ringing = response_to(f, 180, "Ringing");
    q.on_datagram(primary, ringing.data(), ringing.size(), 1000);
    const size_t events = qs.events.size();
    qs.out.clear();
    q.advance(182000);  // 1 s + 181 s after the 180
    ASSERT_EQ(qs.out.size(), 1u);
    EXPECT_EQ(qs.out[0].to, primary);
    EXPECT_TRUE(starts(qs.out[0].msg, "CANCEL sip:1000@192.0.2.10:5060 SIP/2.0\r\n"));
    const size_t b = f.find("branch=");
    EXPECT_NE(qs.out[0].msg.find(f.substr(b, 7 + branch_len)), std::string::npos);
    EXPECT_EQ(qst.timer_c_fired, 1u);
    // Silence: 64*T1 later the caller gets 408.
    qs.out.clear();
    for (Millis t = 183000; t <= 182000 + 64 * 500 + 1000; t += 1000) q.advance(t);
    int up408 = 0;
    for (const Sent& s : qs.out) up408 += s.to == caller && status_of(s.msg) == 408;
    EXPECT_GE(up408, 1);  // retransmitted (Timer G) while the caller does not ACK
    EXPECT_EQ(qst.txn_failed_timer_c, 1u);
    EXPECT_EQ(qst.txn_failed_timeout, 1u);  // the unanswered CANCEL's own Timer F
    for (size_t i = events; i < qs.events.size(); i++)
        EXPECT_NE(qs.events[i].kind, failover::EventKind::timeout) << "Timer C is no server failure";
}

TEST_F(ProxyTest, InDialogRequestsFollowRouteAndRequestUri) {
    // ACK for a 2xx with our Record-Route (its token) on top of Route and
    // the UAS contact as Request-URI.
    const std::string ack =
        "ACK sip:b@192.0.2.22:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-a1\r\n"
        "Route: " + rr_value("192.0.2.10:5060", "c9@192.0.2.1", "f1") + "\r\n"
        "From: <sip:a@192.0.2.1>;tag=f1\r\nTo: <sip:b@192.0.2.10>;tag=t9\r\n"
        "Call-ID: c9@192.0.2.1\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    in(caller, ack);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, secondary);
    EXPECT_EQ(sink.out[0].msg.find("Route:"), std::string::npos);
    EXPECT_EQ(st.stateless_forwarded, 1u);
}

TEST_F(ProxyTest, WorkerEventsNameTrunkServerAndGeneration) {
    // Timeout at the primary: a timeout event for server 0 at gen 1.
    const std::string f = forward_invite();
    sink.events.clear();
    sink.out.clear();
    p.advance(1000);
    ASSERT_EQ(sink.events.size(), 1u);
    EXPECT_EQ(sink.events[0].kind, failover::EventKind::timeout);
    EXPECT_EQ(sink.events[0].trunk_id, 0u);
    EXPECT_EQ(sink.events[0].server_idx, 0u);
    EXPECT_EQ(sink.events[0].list_epoch, 1u);
    EXPECT_EQ(sink.events[0].at_ms, 1000u);
    EXPECT_EQ(sink.events[0].flags & failover::ev_last_route, 0);
    // The secondary answers 200: success for server 1, on the last route.
    const std::string f2 = sink.out[0].msg;
    in(secondary, response_to(f2, 200, "OK"), 1100);
    ASSERT_EQ(sink.events.size(), 2u);
    EXPECT_EQ(sink.events[1].kind, failover::EventKind::success);
    EXPECT_EQ(sink.events[1].server_idx, 1u);
    EXPECT_EQ(sink.events[1].status, 200u);
    EXPECT_NE(sink.events[1].flags & failover::ev_last_route, 0);
    // A retransmitted 200 (no ACK yet) is relayed again but not reported again.
    in(secondary, response_to(f2, 200, "OK"), 1200);
    EXPECT_EQ(sink.events.size(), 2u);
}

TEST_F(ProxyTest, SuccessCarriesTheRttOfTheServersFirstAnswer) {
    // Sent at 0, the carrier's 100 Trying at 7 ms, its 200 much later (a
    // ringing phone is no RTT): the success event says 7 ms.
    const std::string f = forward_invite();
    sink.events.clear();
    in(primary, response_to(f, 100, "Trying"), 7);
    EXPECT_TRUE(sink.events.empty());
    in(primary, response_to(f, 200, "OK"), 20000);
    ASSERT_EQ(sink.events.size(), 1u);
    EXPECT_EQ(sink.events[0].kind, failover::EventKind::success);
    EXPECT_EQ(sink.events[0].rtt_us, 7000u);

    // With the worker's µs clock: 2.35 ms between the send and the answer.
    p.set_clock_us(50'000'000);
    in(caller, invite("z9hG4bK-c2"), 50000);
    ASSERT_EQ(sink.out.size(), 2u);
    const std::string f2 = sink.out[1].msg;
    sink.events.clear();
    p.set_clock_us(50'002'350);
    in(primary, response_to(f2, 200, "OK"), 50002);
    ASSERT_EQ(sink.events.size(), 1u);
    EXPECT_EQ(sink.events[0].rtt_us, 2350u);
}

TEST_F(ProxyTest, ARetransmittedAttemptGivesNoRttSample) {
    // Karn: the INVITE was sent twice (Timer A at T1 = 500 ms) before the
    // answer, which may be to either send: no sample.
    const std::string f = forward_invite();
    p.advance(500);
    EXPECT_EQ(st.sip_retransmissions_tx, 1u);
    sink.events.clear();
    in(primary, response_to(f, 200, "OK"), 600);
    ASSERT_EQ(sink.events.size(), 1u);
    EXPECT_EQ(sink.events[0].kind, failover::EventKind::success);
    EXPECT_EQ(sink.events[0].rtt_us, 0u);
}

TEST_F(ProxyTest, A503IsReportedOnceWithItsRetryAfter) {
    const std::string f = forward_invite();
    sink.events.clear();
    std::string r = response_to(f, 503, "Service Unavailable");
    r.insert(r.size() - 2 - std::string("Content-Length: 0\r\n").size(), "Retry-After: 30\r\n");
    in(primary, r, 10);
    ASSERT_EQ(sink.events.size(), 1u);  // not again as a rollover
    EXPECT_EQ(sink.events[0].kind, failover::EventKind::rejected_503);
    EXPECT_EQ(sink.events[0].retry_after_s, 30u);
    EXPECT_EQ(st.rollover_503, 1u);
    bool to_secondary = false;
    for (const Sent& s : sink.out) to_secondary |= s.to == secondary && starts(s.msg, "INVITE ");
    EXPECT_TRUE(to_secondary);
}

TEST_F(ProxyTest, Without503FailoverThe503IsRelayed) {
    publish(make_table({primary, secondary}, {0, 1}, 2, false));
    const std::string f = forward_invite();
    in(primary, response_to(f, 503, "Service Unavailable"), 10);
    int up503 = 0, to_secondary = 0;
    for (const Sent& s : sink.out) {
        up503 += s.to == caller && status_of(s.msg) == 503;
        to_secondary += s.to == secondary;
    }
    EXPECT_EQ(up503, 1);
    EXPECT_EQ(to_secondary, 0);
    EXPECT_EQ(st.calls_failed, 1u);
}

TEST_F(ProxyTest, NewRequestsFollowTheCurrentSnapshot) {
    // Control moved the secondary first (the primary failed): new requests go there.
    publish(make_table({secondary, primary}, {1, 0}, 2));
    in(caller, invite());
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(sink.out[1].to, secondary);
    // A trunk with no candidate (validated, nothing registered): 503 at once.
    publish(make_table({}, {}, 3));
    in(caller, invite("z9hG4bK-c2"));
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(status_of(sink.out[0].msg), 503);
    // No snapshot at all: the same.
    p.set_routes(nullptr);
    in(caller, invite("z9hG4bK-c3"));
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(status_of(sink.out[0].msg), 503);
}

TEST_F(ProxyTest, AWalkLooksServersUpAgainByIndex) {
    forward_invite();
    // Before the rollover, control republishes with the secondary's address
    // changed (same server index 1): the rollover uses the new address.
    const Endpoint moved{ip_of(23), 5070};
    publish(make_table({primary, moved}, {0, 1}, 2));
    sink.out.clear();
    p.advance(1000);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, moved);
}

TEST_F(ProxyTest, CarrierRequestsGoToTheAccessTarget) {
    in(secondary, invite("z9hG4bK-in1"));
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(sink.out[0].to, secondary);  // 100 Trying back to the carrier
    EXPECT_EQ(sink.out[1].to, caller);
    routes.access = {};
    in(secondary, invite("z9hG4bK-in2"));
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(status_of(sink.out[0].msg), 404);
}

TEST_F(ProxyTest, ControlBranchResponsesGoToControl) {
    BranchId b{7, 0x1234, 3, control_core, 1};
    char br[branch_len];
    encode_branch(b, br);
    const std::string rsp = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=" +
                            std::string(br, branch_len) +
                            "\r\nFrom: <sip:u@d>;tag=1\r\nTo: <sip:u@d>;tag=2\r\nCall-ID: r1\r\n"
                            "CSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n";
    in(primary, rsp);
    EXPECT_TRUE(sink.out.empty());
    ASSERT_EQ(sink.control.size(), 1u);
    EXPECT_EQ(sink.control[0].to, primary);
    EXPECT_EQ(sink.control[0].msg, rsp);
    EXPECT_EQ(st.control_rx, 1u);
    // An ICMP unreachable quoting control's REGISTER: its branch goes to control.
    const std::string reg = "REGISTER sip:d SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=" +
                            std::string(br, branch_len) + ";rport\r\nCall-ID: r1\r\n";
    EXPECT_TRUE(p.on_icmp_unreachable(primary, reg.data(), reg.size(), 5));
    ASSERT_EQ(sink.unreachable.size(), 1u);
    EXPECT_EQ(sink.unreachable[0].to, primary);
    EXPECT_EQ(sink.unreachable[0].msg, std::string(br, branch_len));
}

// ---- route patterns (issue 6) ------------------------------------------------------
//
// Three trunks in the engine table: A (id 0: primary, secondary), B (id 1:
// carrier_b), C (id 2: carrier_c, the default trunk). Outbound patterns:
// 1XXX -> A, 2XXX -> B, 3XXX from the caller only (/32) -> B. Inbound: the
// DID range 555XXXX -> a second access target (pbx2).

const Endpoint carrier_b{ip_of(31), 5060}, carrier_c{ip_of(41), 5060};
const Endpoint other_pbx{ip_of(5), 5060}, pbx2{ip_of(50), 5062};

std::shared_ptr<failover::TrunkRoutes> trunk_routes(uint32_t id, std::vector<Endpoint> servers,
                                                    uint8_t gen) {
    auto r = std::make_shared<failover::TrunkRoutes>();
    r->trunk_id = id;
    r->list_epoch = gen;
    failover::AdtranTimers at;
    at.rollover_s = 1;
    for (auto k : {failover::RequestKind::invite, failover::RequestKind::register_,
                   failover::RequestKind::other})
        r->policy[size_t(k)] = failover::make_policy(at, k);
    for (size_t i = 0; i < servers.size(); i++) r->cand[r->count++] = cand(servers[i], uint16_t(i));
    return r;
}

std::unique_ptr<const failover::Table> three_trunks() {
    failover::TableBuilder b(nullptr);
    b.set(trunk_routes(0, {primary, secondary}, 1));
    b.set(trunk_routes(1, {carrier_b}, 1));
    b.set(trunk_routes(2, {carrier_c}, 1));
    return b.build();
}

RouteSpec spec(uint32_t id, const char* pattern, uint32_t target, uint32_t src = 0,
               uint8_t src_len = 0) {
    RouteSpec s;
    s.id = id;
    s.pattern = pattern;
    s.target = target;
    s.src_addr = src;
    s.src_len = src_len;
    return s;
}

// What control publishes for one compile (control/dp_link.cc): the tables, a
// scratch each for worker 0, the target maps.
struct Compiled {
    std::unique_ptr<RouteTable> out, in;
    RouteScratch out_s, in_s;
    RouteScratch* out_p[1] = {};
    RouteScratch* in_p[1] = {};
    std::vector<uint32_t> trunk_ids;
    std::vector<Endpoint> targets;

    Compiled(const std::vector<RouteSpec>& outbound, std::vector<uint32_t> ids,
             const std::vector<RouteSpec>& inbound, std::vector<Endpoint> tg)
        : trunk_ids(std::move(ids)), targets(std::move(tg)) {
        auto o = RouteTable::compile(outbound);
        auto i = RouteTable::compile(inbound);
        EXPECT_TRUE(o && i);
        if (!o || !i) return;
        out = std::move(o.value());
        in = std::move(i.value());
        auto os = out->clone_scratch();
        auto is = in->clone_scratch();
        EXPECT_TRUE(os && is);
        if (!os || !is) return;
        out_s = std::move(os.value());
        in_s = std::move(is.value());
        out_p[0] = &out_s;
        in_p[0] = &in_s;
    }
    void into(Routes& r) const {
        r.outbound = PatternRoutes{out.get(), out_p, 1, uint32_t(trunk_ids.size()), trunk_ids.data(),
                                   nullptr};
        r.inbound = PatternRoutes{in.get(), in_p, 1, uint32_t(targets.size()), nullptr,
                                  targets.data()};
    }
};

std::unique_ptr<Compiled> standard_patterns() {
    const uint32_t caller_only = caller.ip;
    return std::make_unique<Compiled>(
        std::vector<RouteSpec>{spec(1, "1XXX", 0), spec(2, "2XXX", 1),
                               spec(3, "3XXX", 1, caller_only, 32)},
        std::vector<uint32_t>{0, 1},  // target 0 = trunk A, 1 = trunk B
        std::vector<RouteSpec>{spec(1, "555XXXX", 0)}, std::vector<Endpoint>{pbx2});
}

// A new out-of-dialog request for <user> (Call-ID and branch from <tag>).
std::string request_for(const std::string& user, const std::string& tag,
                        const char* method = "INVITE", const char* to_tag = nullptr) {
    std::string to = "To: <sip:" + user + "@192.0.2.10>";
    if (to_tag) to += std::string(";tag=") + to_tag;
    return std::string(method) + " sip:" + user + "@192.0.2.10:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-" + tag + "\r\n"
           "From: <sip:a@192.0.2.1>;tag=f1\r\n" + to + "\r\n"
           "Call-ID: " + tag + "@192.0.2.1\r\nCSeq: 1 " + method + "\r\n"
           "Contact: <sip:a@192.0.2.1:5060>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

class RoutePatternTest : public ProxyTest {
protected:
    void SetUp() override {
        ProxyTest::SetUp();
        table = three_trunks();
        routes.table = table.get();
        routes.default_trunk = 2;  // C
        pats = standard_patterns();
        pats->into(routes);
    }
    // Where the request (not our 100 Trying) went: "" when nothing went downstream.
    Endpoint forwarded_to(Endpoint from, const std::string& m) {
        in(from, m);
        for (const Sent& s : sink.out)
            if (!starts(s.msg, "SIP/2.0 ")) return s.to;
        return Endpoint{};
    }
    // The first response sent back to <to> (0: none).
    int answered(Endpoint to) const {
        for (const Sent& s : sink.out)
            if (s.to == to && status_of(s.msg) >= 200) return status_of(s.msg);
        return 0;
    }
    std::unique_ptr<Compiled> pats;
};

TEST_F(RoutePatternTest, EachPatternSendsItsNumbersToItsTrunk) {
    struct Row {
        const char* user;
        Endpoint from;
        Endpoint want;
        const char* why;
    } rows[] = {
        {"1000", caller, primary, "1XXX -> trunk A (its first candidate)"},
        {"1999", other_pbx, primary, "1XXX has no source restriction"},
        {"2345", caller, carrier_b, "2XXX -> trunk B"},
        {"3456", caller, carrier_b, "3XXX from the caller (/32) -> trunk B"},
        {"3456", other_pbx, carrier_c, "3XXX from elsewhere: no match, default trunk C"},
        {"10000", caller, carrier_c, "five digits match no pattern: default trunk C"},
        {"", caller, carrier_c, "no user part: default trunk"},
    };
    int n = 0;
    for (const Row& r : rows) {
        const std::string m = r.user[0]
            ? request_for(r.user, "r" + std::to_string(n++))
            : "OPTIONS sip:192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-nouser\r\n"
              "From: <sip:a@192.0.2.1>;tag=f1\r\nTo: <sip:192.0.2.10>\r\nCall-ID: nouser\r\n"
              "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
        EXPECT_EQ(forwarded_to(r.from, m), r.want) << r.why;
    }
    EXPECT_EQ(st.route_matched, 4u);
    EXPECT_EQ(st.route_no_match, 3u);
    EXPECT_EQ(st.route_scan_error + st.route_bad_input, 0u);
}

TEST_F(RoutePatternTest, OutOfDialogMethodsAreRoutedInDialogOnesAreNot) {
    // MESSAGE and SUBSCRIBE without a To tag create a transaction: looked up.
    EXPECT_EQ(forwarded_to(caller, request_for("2001", "m1", "MESSAGE")), carrier_b);
    EXPECT_EQ(forwarded_to(caller, request_for("2002", "s1", "SUBSCRIBE")), carrier_b);
    EXPECT_EQ(st.route_matched, 2u);
    // A BYE with a To tag and our own address as Request-URI: an in-dialog
    // request is never looked up. With our Record-Route (its token) on top
    // of Route it takes the fallback; without, it is a stray (issue 16: 403,
    // never sent to a trunk).
    std::string bye = request_for("2003", "b1", "BYE", "t9");
    bye.insert(bye.find("From:"), "Route: " + rr_value("192.0.2.10:5060", "b1@192.0.2.1", "f1") + "\r\n");
    EXPECT_EQ(forwarded_to(caller, bye), carrier_c);
    EXPECT_EQ(forwarded_to(caller, request_for("2004", "b2", "BYE", "t9")), Endpoint{});
    EXPECT_EQ(answered(caller), 403);
    EXPECT_EQ(st.route_matched, 2u);
    EXPECT_EQ(st.route_no_match, 0u);
}

TEST_F(RoutePatternTest, NoMatchWithoutADefaultTrunkIs404) {
    routes.default_trunk = ~0u;
    in(caller, request_for("9999", "n1"));
    ASSERT_EQ(sink.out.size(), 1u);  // no 100 Trying, nothing downstream
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(status_of(sink.out[0].msg), 404);
    EXPECT_EQ(st.drops[size_t(DropReason::sip_no_route)], 1u);
    EXPECT_EQ(p.active_slots(), 0u);
    // A matching number still goes to its trunk.
    EXPECT_EQ(forwarded_to(caller, request_for("1234", "n2")), primary);
    // The same without any pattern table.
    routes.outbound = {};
    in(caller, request_for("1234", "n3"));
    EXPECT_EQ(answered(caller), 404);
}

TEST_F(RoutePatternTest, APatternTrunkThatDoesNotRunIs503) {
    pats->trunk_ids[1] = ~0u;  // trunk B is configured but not in the engine
    in(caller, request_for("2000", "d1"));
    EXPECT_EQ(answered(caller), 503);
    EXPECT_EQ(forwarded_to(caller, request_for("1000", "d2")), primary);
}

TEST_F(RoutePatternTest, InboundDidsGoToTheirAccessTarget) {
    // From a carrier server (one of the configured carriers): the inbound table.
    EXPECT_EQ(forwarded_to(primary, request_for("5551234", "i1")), pbx2);
    EXPECT_EQ(forwarded_to(secondary, request_for("5559999", "i2")), pbx2);
    // A number outside the DID range: the access target.
    EXPECT_EQ(forwarded_to(primary, request_for("5561234", "i3")), caller);
    // The outbound patterns are not used for carrier-side requests.
    EXPECT_EQ(forwarded_to(primary, request_for("1000", "i4")), caller);
    EXPECT_EQ(st.route_matched, 2u);
    // No match and no access target: 404.
    routes.access = {};
    in(primary, request_for("1000", "i5"));
    EXPECT_EQ(answered(primary), 404);
    EXPECT_EQ(forwarded_to(primary, request_for("5551000", "i6")), pbx2);
}

TEST_F(RoutePatternTest, BadInputAndScanErrorsFallBackAndAreCounted) {
    // A user part over 128 bytes (route_table.h: never matches).
    EXPECT_EQ(forwarded_to(caller, request_for(std::string(130, '1'), "e1")), carrier_c);
    EXPECT_EQ(st.route_bad_input, 1u);
    // A scratch that does not belong to the table (an empty one) and a core
    // with no scratch at all: scan errors, the default trunk.
    RouteScratch none;
    RouteScratch* bad[1] = {&none};
    routes.outbound.scratch = bad;
    EXPECT_EQ(forwarded_to(caller, request_for("1000", "e2")), carrier_c);
    routes.outbound.workers = 0;
    EXPECT_EQ(forwarded_to(caller, request_for("1000", "e3")), carrier_c);
    EXPECT_EQ(st.route_scan_error, 2u);
    EXPECT_EQ(st.route_matched, 0u);
}

TEST_F(RoutePatternTest, RepublishKeepsInFlightTransactionsOnTheirTrunk) {
    // 1000 goes to trunk A; before its primary times out, control publishes a
    // new compile sending 1XXX to trunk B and frees the old one.
    const Endpoint first = forwarded_to(caller, request_for("1000", "f1"));
    ASSERT_EQ(first, primary);
    auto next = std::make_unique<Compiled>(
        std::vector<RouteSpec>{spec(1, "1XXX", 1), spec(2, "2XXX", 0)}, std::vector<uint32_t>{0, 1},
        std::vector<RouteSpec>{}, std::vector<Endpoint>{});
    next->into(routes);
    pats = std::move(next);  // the old table and scratch are gone
    // New requests use the new table.
    EXPECT_EQ(forwarded_to(caller, request_for("1001", "f2")), carrier_b);
    EXPECT_EQ(forwarded_to(caller, request_for("2001", "f3")), primary);
    // The first INVITE's rollover stays on trunk A: its secondary.
    sink.out.clear();
    sink.events.clear();
    p.advance(1000);
    bool to_secondary = false;
    for (const Sent& s : sink.out) to_secondary |= s.to == secondary && starts(s.msg, "INVITE sip:1000@");
    EXPECT_TRUE(to_secondary);
    bool a_timeout = false;
    for (const auto& ev : sink.events)
        a_timeout |= ev.kind == failover::EventKind::timeout && ev.trunk_id == 0 && ev.server_idx == 0;
    EXPECT_TRUE(a_timeout);
    // Its answer from there is relayed to the caller.
    std::string fwd;
    for (const Sent& s : sink.out)
        if (s.to == secondary && starts(s.msg, "INVITE sip:1000@")) fwd = s.msg;
    in(secondary, response_to(fwd, 200, "OK"), 1100);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(status_of(sink.out[0].msg), 200);
    EXPECT_NE(sink.out[0].msg.find("branch=z9hG4bK-f1"), std::string::npos);
}

// Live trace (issue 7): off (the default), nothing is copied; on, the INVITE
// received and the 100 Trying and the forwarded INVITE sent are copied with
// direction, both ends, the trunk of the forwarded request and the Call-ID.
// A server that left a request unanswered (retransmitted) and then answers
// something else: what still waits on it is resent at once (Proxy::revive),
// once; nothing is resent to a server that never went silent.
TEST_F(ProxyTest, ASilentServerThatAnswersAgainGetsWhatWaitsResentAtOnce) {
    publish(make_table({primary, secondary}, {0, 1}, 1, true, 8));  // no rollover within the test
    in(caller, invite("z9hG4bK-o1", 70, "OPTIONS"), 0);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, primary);
    const std::string options = sink.out[0].msg;
    sink.out.clear();
    p.advance(500);  // Timer E: the first retransmission, unanswered
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(st.sip_retransmissions_tx, 1u);
    // One lost datagram is not a silent server: an answer now resends nothing.
    std::string inv0 = invite("z9hG4bK-i0");
    inv0.replace(inv0.find("Call-ID: c1@"), 12, "Call-ID: c0@");
    in(caller, inv0, 510);
    ASSERT_EQ(sink.out.size(), 2u);
    in(primary, response_to(sink.out[1].msg, 100, "Trying"), 520);
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(st.txn_revived, 0u);
    sink.out.clear();
    p.advance(1500);  // the second retransmission, unanswered: the server may be gone
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(st.sip_retransmissions_tx, 2u);
    // Another request to the same server, answered: the server is back.
    std::string inv = invite("z9hG4bK-i2");
    inv.replace(inv.find("Call-ID: c1@"), 12, "Call-ID: c2@");
    in(caller, inv, 1600);
    ASSERT_EQ(sink.out.size(), 2u);
    const std::string fwd = sink.out[1].msg;
    // A third request, sent a moment ago and not retransmitted: not resent.
    std::string inv3 = invite("z9hG4bK-i3");
    inv3.replace(inv3.find("Call-ID: c1@"), 12, "Call-ID: c3@");
    in(caller, inv3, 1690);
    ASSERT_EQ(sink.out.size(), 2u);
    in(primary, response_to(fwd, 100, "Trying"), 1700);
    ASSERT_EQ(sink.out.size(), 1u) << "the OPTIONS resent, nothing relayed for a 100, not the fresh INVITE";
    EXPECT_EQ(sink.out[0].to, primary);
    EXPECT_EQ(sink.out[0].msg, options);
    EXPECT_EQ(st.txn_revived, 1u);
    EXPECT_EQ(st.sip_retransmissions_tx, 3u);
    // Once: the next answer from it resends nothing.
    in(primary, response_to(fwd, 180, "Ringing"), 1750);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(status_of(sink.out[0].msg), 180);
    EXPECT_EQ(st.txn_revived, 1u);
}

// Issue 14, seen at 100 calls/s: the retransmission that marks a server
// silent goes out in the very millisecond an answer to an earlier request
// arrives; revive() must not send that request a second time (the server
// got two copies within a millisecond and a UAS took the second for a new
// INVITE). Resent is only what was last sent before the answered request.
TEST_F(ProxyTest, ReviveLeavesARequestSentAfterTheAnsweredOne) {
    publish(make_table({primary, secondary}, {0, 1}, 1, true, 8));
    in(caller, invite("z9hG4bK-o1", 70, "OPTIONS"), 0);
    ASSERT_EQ(sink.out.size(), 1u);
    sink.out.clear();
    p.advance(500);  // the first retransmission
    ASSERT_EQ(sink.out.size(), 1u);
    sink.out.clear();
    std::string inv = invite("z9hG4bK-i2");
    inv.replace(inv.find("Call-ID: c1@"), 12, "Call-ID: c2@");
    in(caller, inv, 1100);
    ASSERT_EQ(sink.out.size(), 2u);
    const std::string fwd = sink.out[1].msg;
    sink.out.clear();
    p.advance(1500);  // the second, unanswered: the server is marked silent
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(st.sip_retransmissions_tx, 2u);
    sink.out.clear();
    in(primary, response_to(fwd, 100, "Trying"), 1500);  // answers the INVITE sent at 1100
    EXPECT_TRUE(sink.out.empty()) << "the OPTIONS just retransmitted is not sent again";
    EXPECT_EQ(st.txn_revived, 0u);
    EXPECT_EQ(st.sip_retransmissions_tx, 2u);
}

// And the other way round: revive() resends a request a moment before its
// own retransmission timer fires; that retransmission sends nothing (the
// revived copy stands for it), the one after it goes out as before.
TEST_F(ProxyTest, ARevivedRequestsNextTimerSoonAfterSendsNothing) {
    publish(make_table({primary, secondary}, {0, 1}, 1, true, 8));
    in(caller, invite("z9hG4bK-o1", 70, "OPTIONS"), 0);
    ASSERT_EQ(sink.out.size(), 1u);
    const std::string options = sink.out[0].msg;
    p.advance(500);
    p.advance(1500);  // the second retransmission: the server is marked silent
    EXPECT_EQ(st.sip_retransmissions_tx, 2u);
    sink.out.clear();
    std::string inv = invite("z9hG4bK-i2");
    inv.replace(inv.find("Call-ID: c1@"), 12, "Call-ID: c2@");
    in(caller, inv, 3300);
    ASSERT_EQ(sink.out.size(), 2u);
    const std::string fwd = sink.out[1].msg;
    sink.out.clear();
    in(primary, response_to(fwd, 100, "Trying"), 3400);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].msg, options);
    EXPECT_EQ(st.txn_revived, 1u);
    EXPECT_EQ(st.sip_retransmissions_tx, 3u);
    sink.out.clear();
    p.advance(3500);  // Timer E (2 s after 1500): 100 ms after the revived copy
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(st.sip_retransmissions_tx, 3u);
    p.advance(7500);  // the next one (4 s later, T2) goes out
    bool options_again = false;
    for (const auto& o : sink.out) options_again |= o.msg == options;
    EXPECT_TRUE(options_again);
}

TEST_F(ProxyTest, TraceOffCopiesNothing) {
    forward_invite();
    EXPECT_TRUE(sink.traces.empty());
    EXPECT_EQ(st.trace_copied, 0u);
}

TEST_F(ProxyTest, TraceOnCopiesEveryMessageInAndOut) {
    p.set_trace(true);
    const std::string inv = invite();
    in(caller, inv, 7);
    ASSERT_EQ(sink.out.size(), 2u);
    ASSERT_EQ(sink.traces.size(), 3u);
    EXPECT_EQ(st.trace_copied, 3u);
    const TraceSample& rx = sink.traces[0];
    EXPECT_EQ(rx.dir, 0);
    EXPECT_EQ(rx.at_ms, 7u);
    EXPECT_EQ(rx.trunk_id, 0xffffffffu);
    EXPECT_EQ(std::string(rx.call_id, rx.call_id_len), "c1@192.0.2.1");
    EXPECT_EQ(rx.msg_len, inv.size());
    EXPECT_EQ(std::string(rx.head, rx.head_len), inv.substr(0, rx.head_len));
    EXPECT_EQ(rx.src[0], 192);
    EXPECT_EQ(rx.src[3], uint8_t(caller.ip));
    EXPECT_EQ(rx.src_port, caller.port);
    EXPECT_EQ(rx.dst[3], uint8_t(edge.ip));
    EXPECT_EQ(rx.dst_port, edge.port);
    // 100 Trying back to the caller: no trunk.
    EXPECT_EQ(sink.traces[1].dir, 1);
    EXPECT_TRUE(starts(std::string(sink.traces[1].head, sink.traces[1].head_len), "SIP/2.0 100"));
    EXPECT_EQ(sink.traces[1].dst[3], uint8_t(caller.ip));
    EXPECT_EQ(sink.traces[1].trunk_id, 0xffffffffu);
    // The INVITE to the primary: trunk 0, same Call-ID.
    const TraceSample& tx = sink.traces[2];
    EXPECT_EQ(tx.dir, 1);
    EXPECT_EQ(tx.trunk_id, 0u);
    EXPECT_EQ(std::string(tx.call_id, tx.call_id_len), "c1@192.0.2.1");
    EXPECT_EQ(tx.dst[3], uint8_t(primary.ip));
    EXPECT_EQ(tx.dst_port, primary.port);
    EXPECT_EQ(tx.msg_len, sink.out[1].msg.size());
    // Off again: nothing more.
    p.set_trace(false);
    in(caller, invite("z9hG4bK-c2"));
    EXPECT_EQ(sink.traces.size(), 3u);
}

// Interfaces (dataplane/iface.h): on-link first, in index order; else the
// first with a gateway; else none.
TEST(IfaceTable, EgressPicksTheSubnetThenTheFirstGateway) {
    Ifaces f;
    ASSERT_TRUE(f.add(0xc000020au, 24, 0));             // 192.0.2.10/24, no gateway
    ASSERT_TRUE(f.add(0xc633640au, 24, 0xc6336401u));   // 198.51.100.10/24 via .1
    uint32_t nh = 0;
    EXPECT_EQ(f.egress(0xc0000263u, nh), 0);  // 192.0.2.99: on-link on 0
    EXPECT_EQ(nh, 0xc0000263u);
    EXPECT_EQ(f.egress(0xc6336415u, nh), 1);  // 198.51.100.21: on-link on 1
    EXPECT_EQ(nh, 0xc6336415u);
    EXPECT_EQ(f.egress(0xcb007101u, nh), 1);  // 203.0.113.1: off-link, port 1's gateway
    EXPECT_EQ(nh, 0xc6336401u);
    EXPECT_EQ(f.find(0xc633640au), 1);
    EXPECT_EQ(f.find(0xc6336401u), -1);
    Ifaces none;
    ASSERT_TRUE(none.add(0xc000020au, 24, 0));
    EXPECT_EQ(none.egress(0xcb007101u, nh), -1);
    ASSERT_TRUE(none.add(2, 8, 0) && none.add(3, 8, 0) && none.add(4, 8, 0));
    EXPECT_FALSE(none.add(5, 8, 0));  // four at most
}

// Access side on interface 0 (192.0.2.10), carriers behind interface 1
// (198.51.100.10): Via names the interface a request leaves by, a dialog gets
// a double Record-Route (RFC 5658) and both of our Routes come off again.
constexpr uint32_t net2(uint8_t last) { return 0xc6336400u | last; }  // 198.51.100.x
const Endpoint car_a{net2(21), 5060}, car_b{net2(22), 5060};

class TwoIfaceTest : public ::testing::Test {
protected:
    void SetUp() override {
        ProxyConfig c;
        c.self = edge;
        c.ifaces.add(edge.ip, 24, 0);
        c.ifaces.add(net2(10), 24, 0);
        c.max_txns = 64;
        ASSERT_TRUE(p.init(c, 0, 1234, 0, sink, st));
        publish(make_table({car_a, car_b}, {0, 1}));
    }
    void publish(std::unique_ptr<const failover::Table> t) {
        table = std::move(t);
        fill_routes(routes, table.get(), caller, car_a, car_b, cars);
        p.set_routes(&routes);
    }
    void in(Endpoint from, const std::string& m, uint8_t iface, Millis now = 0) {
        sink.out.clear();
        p.on_datagram(from, m.data(), m.size(), now, iface);
    }
    Sink sink;
    WorkerStats st;
    std::unique_ptr<const failover::Table> table;
    Routes routes;
    uint32_t cars[2] = {};  // routes.carriers
    SinkProxy p;
};

TEST_F(TwoIfaceTest, ViaAndDoubleRecordRouteNameTheInterfaces) {
    in(caller, invite(), 0);
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(status_of(sink.out[0].msg), 100);
    EXPECT_EQ(sink.out[1].to, car_a);
    const std::string& f = sink.out[1].msg;
    EXPECT_TRUE(starts(f, "INVITE sip:1000@192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.10:5060;branch="))
        << f;
    EXPECT_NE(f.find("Record-Route: " + rr_value("198.51.100.10:5060", "c1@192.0.2.1", "f1") + "," +
                     rr_value("192.0.2.10:5060", "c1@192.0.2.1", "f1") + "\r\n"),
              std::string::npos)
        << f;
    EXPECT_EQ(st.sip_cross_iface, 0u);
    // The answer comes back to the carrier-side address and is relayed.
    in(car_a, response_to(f, 200, "OK"), 1);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(status_of(sink.out[0].msg), 200);
}

TEST_F(TwoIfaceTest, InDialogRequestsLoseBothOfOurRoutes) {
    // From the caller: its route set is the Record-Route reversed, one header.
    const std::string bye_up =
        "BYE sip:b@198.51.100.21:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-b1\r\n"
        "Route: " + rr_value("192.0.2.10:5060", "d1@192.0.2.1", "f1") + "," +
        rr_value("198.51.100.10:5060", "d1@192.0.2.1", "f1") + "\r\n"
        "From: <sip:a@192.0.2.1>;tag=f1\r\nTo: <sip:b@192.0.2.10>;tag=t9\r\n"
        "Call-ID: d1@192.0.2.1\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    in(caller, bye_up, 0);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, car_a);
    EXPECT_EQ(sink.out[0].msg.find("Route:"), std::string::npos) << sink.out[0].msg;
    EXPECT_TRUE(starts(sink.out[0].msg, "BYE sip:b@198.51.100.21:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.10:5060;"));
    // From the carrier: the Record-Route in order, as two headers, and a third
    // Route that is not ours, which stays and is followed (the token checks
    // with the To tag: the callee's request names the initiator there).
    const std::string bye_down =
        "BYE sip:a@192.0.2.1:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 198.51.100.21:5060;branch=z9hG4bK-b2\r\n"
        "Route: " + rr_value("198.51.100.10:5060", "d1@192.0.2.1", "f1") + "\r\nRoute: " +
        rr_value("192.0.2.10:5060", "d1@192.0.2.1", "f1") + ", <sip:192.0.2.77;lr>\r\n"
        "From: <sip:b@192.0.2.10>;tag=t9\r\nTo: <sip:a@192.0.2.1>;tag=f1\r\n"
        "Call-ID: d1@192.0.2.1\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    in(car_a, bye_down, 1);
    ASSERT_EQ(sink.out.size(), 1u);  // no 100 Trying for BYE
    EXPECT_EQ(sink.out[0].to, (Endpoint{ip_of(77), 5060}));
    const std::string& f = sink.out[0].msg;
    EXPECT_NE(f.find("\r\nRoute: <sip:192.0.2.77;lr>\r\n"), std::string::npos) << f;
    EXPECT_EQ(f.find("198.51.100.10:5060;lr"), std::string::npos) << f;
    EXPECT_EQ(f.find("<sip:192.0.2.10:5060;lr"), std::string::npos) << f;
    EXPECT_TRUE(starts(f, "BYE sip:a@192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;")) << f;
}

TEST_F(TwoIfaceTest, CarrierRequestsGoOutOfTheAccessInterface) {
    std::string inv = invite("z9hG4bK-in1");
    inv.replace(inv.find("192.0.2.1:5060;branch"), 14, "198.51.100.21:5060");
    in(car_a, inv, 1);
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(sink.out[0].to, (Endpoint{car_a.ip, 5060}));
    EXPECT_EQ(sink.out[1].to, caller);
    const std::string& f = sink.out[1].msg;
    EXPECT_NE(f.find("Via: SIP/2.0/UDP 192.0.2.10:5060;"), std::string::npos) << f;
    EXPECT_NE(f.find("Record-Route: " + rr_value("192.0.2.10:5060", "c1@192.0.2.1", "f1") + "," +
                     rr_value("198.51.100.10:5060", "c1@192.0.2.1", "f1") + "\r\n"),
              std::string::npos)
        << f;
}

TEST_F(TwoIfaceTest, ARolloverToAnotherInterfaceRewritesViaAndRecordRoute) {
    // The secondary sits on the access subnet: the rollover leaves by
    // interface 0, so the retained request now names 192.0.2.10 (a single
    // Record-Route: in and out are the same interface), and its answer,
    // sent to that Via, is matched by the patched branch and relayed.
    publish(make_table({car_a, Endpoint{ip_of(22), 5060}}, {0, 1}));
    in(caller, invite(), 0);
    ASSERT_EQ(sink.out.size(), 2u);
    const std::string first = sink.out[1].msg;
    sink.out.clear();
    p.advance(1000);  // seed A: rollover after 1 s
    ASSERT_GE(sink.out.size(), 1u);
    EXPECT_EQ(sink.out.back().to, (Endpoint{ip_of(22), 5060}));
    const std::string f = sink.out.back().msg;
    EXPECT_EQ(st.sip_cross_iface, 1u);
    EXPECT_TRUE(starts(f, "INVITE sip:1000@192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch="))
        << f;
    EXPECT_NE(f.find("Record-Route: " + rr_value("192.0.2.10:5060", "c1@192.0.2.1", "f1") + "\r\n"),
              std::string::npos)
        << f;
    EXPECT_EQ(f.find("198.51.100.10"), std::string::npos) << f;
    // Same message otherwise: the lengths differ by the two edits only.
    EXPECT_EQ(first.size() - f.size(),
              std::string("198.51.100.10").size() - std::string("192.0.2.10").size() +
                  ("," + rr_value("192.0.2.10:5060", "c1@192.0.2.1", "f1")).size() +
                  (std::string("198.51.100.10").size() - std::string("192.0.2.10").size()));
    // The branch is the rollover's: the secondary's 200 is relayed upstream.
    in(Endpoint{ip_of(22), 5060}, response_to(f, 200, "OK"), 0);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(status_of(sink.out[0].msg), 200);
    EXPECT_EQ(st.drops_total(), 0u);
}

// Issue 15: a request is retained in the smallest slot that holds it (a
// 1,152-byte one here); a rollover to a server behind the other interface needs a
// double Record-Route, longer than that slot: the request moves to a larger
// one (retained_grown) and goes out whole, and the answer is relayed.
TEST_F(TwoIfaceTest, ARolloverThatLengthensTheRequestMovesItToALargerSlot) {
    const Endpoint near{ip_of(22), 5060};
    publish(make_table({near, car_a}, {0, 1}));
    in(caller, invite(), 0, 0);  // its size forwarded to <near> (one Record-Route), then ended
    ASSERT_EQ(sink.out.size(), 2u);
    const size_t base = sink.out[1].msg.size();
    in(near, response_to(sink.out[1].msg, 200, "OK"), 0, 1);
    // The same INVITE, another call, a body that brings it to 1,100 bytes forwarded.
    const size_t body = 1100 - base - 2;  // "Content-Length: 0" becomes three digits
    std::string inv = invite("z9hG4bK-g1");
    inv.replace(inv.find("Call-ID: c1@"), 12, "Call-ID: g1@");
    inv.replace(inv.find("Content-Length: 0"), 17, "Content-Length: " + std::to_string(body));
    inv += std::string(body, 'v');
    in(caller, inv, 0, 10);
    ASSERT_EQ(sink.out.size(), 2u);
    const std::string first = sink.out[1].msg;
    ASSERT_EQ(first.size(), 1100u);
    ASSERT_EQ(MsgPool::slot_bytes[2], 1152u);
    EXPECT_EQ(p.retained_pool().class_used(2), 1u);  // a 1,152-byte slot
    EXPECT_EQ(p.retained_pool().class_used(3), 0u);
    sink.out.clear();
    p.advance(1010);  // seed A: rollover after 1 s, to the carrier side
    ASSERT_GE(sink.out.size(), 1u);
    EXPECT_EQ(sink.out.back().to, car_a);
    const std::string f = sink.out.back().msg;
    const std::string rr2 = "Record-Route: " + rr_value("198.51.100.10:5060", "g1@192.0.2.1", "f1") + "," +
                            rr_value("192.0.2.10:5060", "g1@192.0.2.1", "f1") + "\r\n";
    EXPECT_NE(f.find(rr2), std::string::npos) << f;
    EXPECT_GT(f.size(), MsgPool::slot_bytes[2] - 4);
    EXPECT_EQ(f.substr(f.size() - body), std::string(body, 'v'));  // the body moved whole
    EXPECT_EQ(st.retained_grown, 1u);
    EXPECT_EQ(p.retained_pool().class_used(2), 0u);
    EXPECT_EQ(p.retained_pool().class_used(3), 1u);  // now a 1,536-byte slot
    in(car_a, response_to(f, 200, "OK"), 1, 1020);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(status_of(sink.out[0].msg), 200);
    EXPECT_EQ(st.drops_total(), 0u);
}

}  // namespace
}  // namespace sipedge::dp
