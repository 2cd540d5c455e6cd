// The proxy core's policies (dataplane/proxy.h, part of dp_proxy with
// proxy_test.cc): the Request-URI host per trunk (issue 12), what a request
// may target — no open relay (issue 16, docs/security.md) — and the access
// peers' rates and the per-source flood guard (issue 16).

#include "tests/dataplane/proxy_fixture.h"

namespace sipedge::dp {
namespace {

// Issue 12: request-uri-host. keep: as the caller sent it; domain: the
// trunk's domain; server: the selected server's address, moved on by a
// rollover (the CANCEL then names the same Request-URI as its INVITE).
class RuriHostTest : public ProxyTest {
protected:
    void policy(failover::RuriHost h, const std::string& domain = "") {
        auto t = make_table({primary, Endpoint{secondary.ip, 5080}}, {0, 1});
        auto r = std::make_shared<failover::TrunkRoutes>(*t->find(0));
        r->ruri_host = h;
        r->ruri_domain_len = uint8_t(domain.size());
        std::memcpy(r->ruri_domain, domain.data(), domain.size());
        failover::TableBuilder b(nullptr);
        b.set(std::move(r));
        publish(b.build());
    }
    static void sipparse_ok(const std::string& m) {
        sip::Message msg;
        EXPECT_EQ(sip::parse(m.data(), m.size(), msg), sip::ParseStatus::ok) << m;
    }
    static std::string request_line(const std::string& m) { return m.substr(0, m.find("\r\n")); }
};

TEST_F(RuriHostTest, KeepDomainAndServer) {
    policy(failover::RuriHost::keep);
    EXPECT_EQ(request_line(forward_invite()), "INVITE sip:1000@192.0.2.10:5060 SIP/2.0");
    policy(failover::RuriHost::domain, "carrier.example.net");
    in(caller, invite("z9hG4bK-c2"));
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(request_line(sink.out[1].msg), "INVITE sip:1000@carrier.example.net SIP/2.0");
    policy(failover::RuriHost::server);
    in(caller, invite("z9hG4bK-c3"));
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(request_line(sink.out[1].msg), "INVITE sip:1000@192.0.2.21 SIP/2.0");
    sipparse_ok(sink.out[1].msg);
}

TEST_F(RuriHostTest, ServerFollowsTheRolloverAndTheCancel) {
    policy(failover::RuriHost::server);
    const std::string f = forward_invite();
    EXPECT_EQ(request_line(f), "INVITE sip:1000@192.0.2.21 SIP/2.0");
    p.advance(999);
    sink.out.clear();
    p.advance(1000);  // rollover to the secondary (port 5080)
    ASSERT_EQ(sink.out.size(), 1u);
    const std::string g = sink.out[0].msg;
    EXPECT_EQ(request_line(g), "INVITE sip:1000@192.0.2.22:5080 SIP/2.0");
    // Everything after the request line moved intact: the Via's branch and
    // our Record-Route are still found and answered.
    EXPECT_NE(g.find("Record-Route: "), std::string::npos);
    sipparse_ok(g);
    in(Endpoint{secondary.ip, 5080}, response_to(g, 180, "Ringing"), 1100);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(status_of(sink.out[0].msg), 180);
    EXPECT_EQ(sink.out[0].to, caller);
    // CANCEL from the caller: same Request-URI as the INVITE on that branch.
    std::string cancel = invite("z9hG4bK-c1", 70, "CANCEL");
    in(caller, cancel, 1200);
    bool seen = false;
    for (const Sent& s : sink.out)
        if (starts(s.msg, "CANCEL ")) {
            seen = true;
            EXPECT_EQ(request_line(s.msg), "CANCEL sip:1000@192.0.2.22:5080 SIP/2.0");
        }
    EXPECT_TRUE(seen);
}


// Issue 16, no open relay: what an access-side or carrier-side request may
// target (dataplane/proxy.cc route(), docs/security.md), the ACKs of our
// stateless rejections, 400 for malformed requests with a readable Via. A
// key of its own (not the zero key), so that a token minted under another
// key is a forgery.
const Endpoint victim{ip_of(30), 5070};  // a third host: nothing may reach it unless allowed
constexpr uint64_t policy_key[2] = {0x0123456789abcdefull, 0xfedcba9876543210ull};

class AccessPolicyTest : public ::testing::Test {
protected:
    void SetUp() override {
        ProxyConfig c;
        c.self = edge;
        c.max_txns = 64;
        c.rr_key[0] = policy_key[0];
        c.rr_key[1] = policy_key[1];
        ASSERT_TRUE(p.init(c, 0, 99, 0, sink, st));
        publish(make_table({primary, secondary}, {0, 1}));
    }
    void publish(std::unique_ptr<const failover::Table> t) {
        table = std::move(t);
        fill_routes(routes, table.get(), caller, primary, secondary, cars);
        p.set_routes(&routes);
    }
    void in(Endpoint from, const std::string& m, Millis now = 0) {
        sink.out.clear();
        p.on_datagram(from, m.data(), m.size(), now);
    }
    // The first final response sent to <to> (0: none).
    int answered(Endpoint to) const {
        for (const Sent& s : sink.out)
            if (s.to == to && status_of(s.msg) >= 200) return status_of(s.msg);
        return 0;
    }
    // Where the request went on (not one of our responses): {} when nowhere.
    Endpoint forwarded() const {
        for (const Sent& s : sink.out)
            if (!starts(s.msg, "SIP/2.0 ")) return s.to;
        return Endpoint{};
    }
    size_t sent_to(Endpoint e) const {
        size_t n = 0;
        for (const Sent& s : sink.out) n += s.to == e;
        return n;
    }
    Sink sink;
    WorkerStats st;
    std::unique_ptr<const failover::Table> table;
    Routes routes;
    uint32_t cars[2] = {};
    SinkProxy p;
};

// A request <method> <ruri> with <routes> (Route header lines, each ending
// CRLF), Call-ID <cid>, From tag <ftag>, To tag <ttag> ("" for none).
std::string req(const std::string& method, const std::string& ruri, const std::string& routes,
                const std::string& cid, const std::string& ftag, const std::string& ttag,
                const std::string& branch, int mf = 70) {
    return method + " " + ruri + " SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-" + branch + "\r\n" + routes +
           "From: <sip:a@192.0.2.1>;tag=" + ftag + "\r\n"
           "To: <sip:b@192.0.2.10>" + (ttag.empty() ? "" : ";tag=" + ttag) + "\r\n"
           "Call-ID: " + cid + "\r\nCSeq: 2 " + method + "\r\n"
           "Max-Forwards: " + std::to_string(mf) + "\r\nContent-Length: 0\r\n\r\n";
}
std::string route_line(const std::string& v) { return "Route: " + v + "\r\n"; }
// Our Record-Route value for dialog <cid> with initiator tag <tag>, under <key>.
std::string ours(const std::string& cid, const std::string& tag, const uint64_t key[2] = policy_key) {
    return rr_value("192.0.2.10:5060", cid, tag, key);
}

TEST_F(AccessPolicyTest, WhatARequestMayTargetTable) {
    const std::string vuri = "sip:x@192.0.2.30:5070";
    const std::string vroute = route_line("<sip:192.0.2.30:5070;lr>");
    const uint64_t other_key[2] = {1, 2};
    struct Row {
        const char* what;
        Endpoint from;
        std::string msg;
        int want_status;    // final response to the sender (0: none)
        Endpoint want_to;   // where the request goes on ({}: nowhere)
        uint64_t WorkerStats::*counter;  // the counter that must move (nullptr: none)
    } rows[] = {
        {"INVITE with a Route to a third host: 403", caller,
         req("INVITE", "sip:1000@192.0.2.10", vroute, "r1", "f1", "", "r1"), 403, {},
         &WorkerStats::policy_route_denied},
        {"OPTIONS via our address (outbound proxy) then a third host: 403", caller,
         req("OPTIONS", "sip:1000@192.0.2.10", route_line("<sip:192.0.2.10:5060;lr>") + vroute, "r2", "f1",
             "", "r2"),
         403, {}, &WorkerStats::policy_route_denied},
        {"in-dialog BYE, Request-URI a third host, no Route: 403", caller,
         req("BYE", vuri, "", "r3", "f1", "t9", "r3"), 403, {}, &WorkerStats::policy_dialog_denied},
        {"in-dialog MESSAGE, Request-URI a third host, no Route: 403", caller,
         req("MESSAGE", vuri, "", "r4", "f1", "t9", "r4"), 403, {}, &WorkerStats::policy_dialog_denied},
        {"in-dialog BYE through our Record-Route (valid token): to its remote target", caller,
         req("BYE", vuri, route_line(ours("r5", "f1")), "r5", "f1", "t9", "r5"), 0, victim, nullptr},
        {"the same with the token forged: 403", caller,
         req("BYE", vuri, route_line("<sip:192.0.2.10:5060;lr;sx=0123456789abcdef>"), "r6", "f1", "t9", "r6"),
         403, {}, &WorkerStats::policy_token_bad},
        {"the same with our address and no token: 403", caller,
         req("BYE", vuri, route_line("<sip:192.0.2.10:5060;lr>"), "r7", "f1", "t9", "r7"), 403, {},
         &WorkerStats::policy_token_bad},
        {"another dialog's token (Call-ID differs): 403", caller,
         req("BYE", vuri, route_line(ours("another-call", "f1")), "r8", "f1", "t9", "r8"), 403, {},
         &WorkerStats::policy_token_bad},
        {"a token under another key: 403", caller,
         req("BYE", vuri, route_line(ours("r9", "f1", other_key)), "r9", "f1", "t9", "r9"), 403, {},
         &WorkerStats::policy_token_bad},
        {"the callee's BYE (initiator tag in To) through our Record-Route: to the caller's contact", secondary,
         req("BYE", "sip:a@192.0.2.1:5060", route_line(ours("r10", "t9")), "r10", "f7", "t9", "r10"), 0,
         caller, nullptr},
        {"a carrier's in-dialog request without our Record-Route to a third host: 403", secondary,
         req("BYE", vuri, "", "r11", "f7", "t9", "r11"), 403, {}, &WorkerStats::policy_dialog_denied},
        {"... to the access target: allowed (c)", secondary,
         req("BYE", "sip:a@192.0.2.1:5060", "", "r12", "f7", "t9", "r12"), 0, caller, nullptr},
        {"a stray BYE (no Route, Request-URI us) from the access side: 403, not the trunk", caller,
         req("BYE", "sip:1000@192.0.2.10:5060", "", "r13", "f1", "t9", "r13"), 403, {},
         &WorkerStats::policy_dialog_denied},
        {"a stray ACK from the access side: dropped, not the trunk", caller,
         req("ACK", "sip:1000@192.0.2.10:5060", "", "r14", "f1", "t9", "r14"), 0, {},
         &WorkerStats::policy_dialog_denied},
        {"three Routes naming us: 482 (two are ours, the third a loop)", caller,
         req("INVITE", "sip:1000@192.0.2.10",
             route_line("<sip:192.0.2.10:5060;lr>") + route_line("<sip:192.0.2.10:5060;lr>") +
                 route_line("<sip:192.0.2.10:5060;lr>"),
             "r15", "f1", "", "r15"),
         482, {}, &WorkerStats::policy_loop},
        {"a next Route naming our address on another port: 482", caller,
         req("BYE", vuri, route_line(ours("r16", "f1") + ",<sip:192.0.2.10:5080;lr>"), "r16", "f1", "t9", "r16"),
         482, {}, &WorkerStats::policy_loop},
        {"a spiral (ours again behind another hop): followed", caller,
         req("BYE", vuri, route_line(ours("r22", "f1") + ",<sip:192.0.2.30:5070;lr>," + ours("r22", "f1")), "r22",
             "f1", "t9", "r22"),
         0, victim, nullptr},
        {"a Request-URI on loopback through our Record-Route: 482", caller,
         req("BYE", "sip:x@127.0.0.1:5060", route_line(ours("r17", "f1")), "r17", "f1", "t9", "r17"), 482, {},
         &WorkerStats::policy_loop},
        {"a name after our Record-Route: 404 (no DNS on the data plane)", caller,
         req("BYE", vuri, route_line(ours("r18", "f1") + ",<sip:proxy.example;lr>"), "r18", "f1", "t9", "r18"),
         404, {}, nullptr},
        {"a new INVITE via our address (outbound proxy): the trunk", caller,
         req("INVITE", "sip:1000@192.0.2.10", route_line("<sip:192.0.2.10:5060;lr>"), "r19", "f1", "", "r19"), 0,
         primary, nullptr},
        {"a new INVITE naming a third host in its Request-URI only: the trunk", caller,
         req("INVITE", vuri, "", "r20", "f1", "", "r20"), 0, primary, nullptr},
    };
    for (const Row& r : rows) {
        const WorkerStats before = st;
        in(r.from, r.msg);
        EXPECT_EQ(answered(r.from), r.want_status) << r.what;
        EXPECT_EQ(forwarded(), r.want_to) << r.what;
        if (!(r.want_to == victim)) {
            EXPECT_EQ(sent_to(victim), 0u) << r.what;
        }
        if (r.counter) {
            EXPECT_EQ(st.*r.counter, before.*r.counter + 1) << r.what;
        }
        // Refusals are drops with their reason; forwarded requests are not.
        const uint64_t refused = st.drops[size_t(DropReason::sip_forbidden)] +
                                 st.drops[size_t(DropReason::sip_loop)] +
                                 st.drops[size_t(DropReason::sip_no_route)];
        const uint64_t refused0 = before.drops[size_t(DropReason::sip_forbidden)] +
                                  before.drops[size_t(DropReason::sip_loop)] +
                                  before.drops[size_t(DropReason::sip_no_route)];
        EXPECT_EQ(refused - refused0, r.want_to == Endpoint{} ? 1u : 0u) << r.what;
    }
    // A forwarded in-dialog request lost our Route and kept nothing of ours.
    in(caller, req("BYE", vuri, route_line(ours("r21", "f1")), "r21", "f1", "t9", "r21"));
    ASSERT_EQ(forwarded(), victim);
    for (const Sent& s : sink.out)
        if (s.to == victim) {
            EXPECT_EQ(s.msg.find("Route:"), std::string::npos) << s.msg;
        }
}

// The token written into the Record-Route of an INVITE is the one the
// dialog's requests must bring back: what the caller's BYE (From tag) and
// the callee's (To tag) carry is accepted, on the secondary after a rollover
// too (the dialog's Route set does not depend on the server).
TEST_F(AccessPolicyTest, TheRecordRouteTokenOpensTheDialogBothWays) {
    in(caller, req("INVITE", "sip:1000@192.0.2.10", "", "call-7", "caller-tag", "", "c7"));
    ASSERT_EQ(forwarded(), primary);
    p.advance(1000);  // seed A: the primary times out, rollover
    ASSERT_EQ(sink.out.back().to, secondary);
    const std::string f = sink.out.back().msg;
    const size_t at = f.find("Record-Route: ");
    ASSERT_NE(at, std::string::npos) << f;
    const std::string rr = f.substr(at + 14, f.find("\r\n", at) - at - 14);
    EXPECT_EQ(rr, ours("call-7", "caller-tag"));
    // The caller's BYE (route set: our Record-Route), to the callee's contact.
    in(caller, req("BYE", "sip:b@192.0.2.22:5060", route_line(rr), "call-7", "caller-tag", "callee-tag", "b1"),
       2000);
    EXPECT_EQ(forwarded(), secondary);
    // The callee's BYE: From and To swapped.
    std::string bye = req("BYE", "sip:a@192.0.2.1:5060", route_line(rr), "call-7", "callee-tag", "caller-tag", "b2");
    in(secondary, bye, 2000);
    EXPECT_EQ(forwarded(), caller);
    EXPECT_EQ(st.policy_token_bad + st.policy_dialog_denied + st.policy_route_denied, 0u);
}

// Stateless rejections of INVITEs absorb their ACK: the To tag we minted is
// remembered for 64*T1 (32 s); the ACK is consumed, never forwarded.
TEST_F(AccessPolicyTest, TheAckOfAStatelessRejectionIsAbsorbed) {
    auto to_tag_of = [](const std::string& rsp) {
        const size_t to = rsp.find("\r\nTo: ");
        const size_t t = rsp.find(";tag=", to);
        return rsp.substr(t + 5, rsp.find("\r\n", t) - t - 5);
    };
    auto ack_for = [&](const std::string& rsp, const std::string& branch, const std::string& cid) {
        return req("ACK", "sip:1000@192.0.2.10", "", cid, "f1", to_tag_of(rsp), branch);
    };
    // 503: the trunk has no candidate.
    publish(make_table({}, {}));
    in(caller, req("INVITE", "sip:1000@192.0.2.10", "", "a1", "f1", "", "a1"));
    ASSERT_EQ(answered(caller), 503);
    const std::string r503 = sink.out[0].msg;
    publish(make_table({primary, secondary}, {0, 1}));
    in(caller, ack_for(r503, "a1", "a1"), 100);
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(st.acks_absorbed, 1u);
    // 483 (Max-Forwards 0) and 403 (policy) likewise.
    in(caller, req("INVITE", "sip:1000@192.0.2.10", "", "a2", "f1", "", "a2", 0));
    ASSERT_EQ(answered(caller), 483);
    const std::string r483 = sink.out[0].msg;
    in(caller, ack_for(r483, "a2", "a2"), 200);
    EXPECT_TRUE(sink.out.empty());
    in(caller, req("INVITE", "sip:1000@192.0.2.10", route_line("<sip:192.0.2.30:5070;lr>"), "a3", "f1", "", "a3"));
    ASSERT_EQ(answered(caller), 403);
    const std::string r403 = sink.out[0].msg;
    in(caller, ack_for(r403, "a3", "a3"), 300);
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(st.acks_absorbed, 3u);
    // A copy of the ACK a little later: still absorbed.
    in(caller, ack_for(r503, "a1", "a1"), 30000);
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(st.acks_absorbed, 4u);
    // After 32 s the record is gone: the ACK is a stray (dropped by the
    // policy, still not forwarded), not counted as absorbed.
    in(caller, ack_for(r503, "a1", "a1"), 33000);
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(st.acks_absorbed, 4u);
    EXPECT_GE(st.drops[size_t(DropReason::sip_forbidden)], 1u);
    // A tag of our form we never minted is not absorbed.
    in(caller, req("ACK", "sip:1000@192.0.2.10", "", "a4", "f1", "sr00000000", "a4"), 33000);
    EXPECT_EQ(st.acks_absorbed, 4u);
    EXPECT_EQ(st.stateless_forwarded, 0u);
    EXPECT_EQ(st.reject_records_overwritten, 0u);
}

// A request parse() refuses is answered 400 with the reason whenever a Via
// can be read (From/To/Call-ID/CSeq missing or broken included); without a
// Via it is only counted. The 400 of an INVITE absorbs its ACK too.
TEST_F(AccessPolicyTest, MalformedRequestsWithAViaGet400) {
    struct Row {
        const char* what;
        std::string msg;
        int want;
        const char* reason;
    } rows[] = {
        {"bad CSeq", "INVITE sip:1000@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-m1\r\n"
                     "From: <sip:a@192.0.2.1>;tag=f1\r\nTo: <sip:b@192.0.2.10>\r\nCall-ID: m1\r\n"
                     "CSeq: abc INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
         400, "Malformed CSeq"},
        {"no Call-ID, no From", "OPTIONS sip:1000@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-m2\r\n"
                                "To: <sip:b@192.0.2.10>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
         400, nullptr},
        {"bad Max-Forwards", "INVITE sip:1000@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-m3\r\n"
                             "From: <sip:a@192.0.2.1>;tag=f1\r\nTo: <sip:b@192.0.2.10>\r\nCall-ID: m3\r\n"
                             "CSeq: 1 INVITE\r\nMax-Forwards: -1\r\nContent-Length: 0\r\n\r\n",
         400, nullptr},
        {"no Via: dropped", "INVITE sip:1000@192.0.2.10 SIP/2.0\r\nFrom: <sip:a@192.0.2.1>;tag=f1\r\n"
                            "To: <sip:b@192.0.2.10>\r\nCall-ID: m4\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
         0, nullptr},
        {"garbage: dropped", "\x01\x02 not SIP at all\r\n\r\n", 0, nullptr},
    };
    uint64_t answered_n = 0;
    for (const Row& r : rows) {
        const uint64_t drops0 = st.drops[size_t(DropReason::sip_parse)];
        in(caller, r.msg);
        EXPECT_EQ(st.drops[size_t(DropReason::sip_parse)], drops0 + 1) << r.what;
        EXPECT_EQ(answered(caller), r.want) << r.what;
        EXPECT_EQ(forwarded(), Endpoint{}) << r.what;
        if (r.want) answered_n++;
        if (r.reason && !sink.out.empty()) {
            EXPECT_TRUE(starts(sink.out[0].msg, (std::string("SIP/2.0 400 ") + r.reason + "\r\n").c_str()))
                << sink.out[0].msg;
        }
    }
    EXPECT_EQ(st.malformed_answered, answered_n);
    // The 400 to the bad-CSeq INVITE carries our tag; its ACK is absorbed.
    in(caller, rows[0].msg);
    ASSERT_EQ(answered(caller), 400);
    const std::string& r400 = sink.out[0].msg;
    const size_t t = r400.find(";tag=", r400.find("\r\nTo: "));
    ASSERT_NE(t, std::string::npos) << r400;
    const std::string tag = r400.substr(t + 5, r400.find("\r\n", t) - t - 5);
    in(caller, req("ACK", "sip:1000@192.0.2.10", "", "m1", "f1", tag, "m1"));
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(st.acks_absorbed, 1u);
}

// Issue 16: access peers and the per-source flood guard (flood_guard.h) in
// the proxy: a source in no peer's networks gets 403 (restrict-sources), a
// peer over its INVITE rate and a flooding source get 503 + Retry-After (or
// nothing, action drop); in-dialog requests, retransmissions and carriers are
// not held to rates.
class AccessGuardTest : public ProxyTest {
protected:
    void guard(uint32_t invite_rps, uint32_t burst, uint32_t source_rps, bool restrict_sources,
               FloodAction action = FloodAction::reject_503) {
        nets[0] = PeerNet{ip_of(0), 0xfffffff0u, 0, 28, 0};  // 192.0.2.0/28: the caller
        limits[0] = PeerLimit{};
        limits[0].rps[size_t(RateKind::invite)] = invite_rps;
        limits[0].burst[size_t(RateKind::invite)] = burst;
        ap = AccessPeers{};
        ap.nets = nets;
        ap.net_count = 1;
        ap.limits = limits;
        ap.peer_count = 1;
        ap.restrict_sources = restrict_sources;
        ap.action = action;
        ap.source_rps = source_rps;
        ap.block_s = 10;
        routes.access_peers = &ap;
        p.set_routes(&routes);
    }
    // A new INVITE (its own branch) from <from> at <now>: the first message sent.
    std::string try_invite(Endpoint from, int n, Millis now) {
        const std::string b = "z9hG4bK-g" + std::to_string(n);
        in(from, invite(b.c_str()), now);
        return sink.out.empty() ? std::string() : sink.out[0].msg;
    }
    static std::string retry_after(const std::string& m) {
        const size_t a = m.find("Retry-After: ");
        return a == std::string::npos ? "" : m.substr(a + 13, m.find("\r\n", a) - a - 13);
    }
    PeerNet nets[1];
    PeerLimit limits[1];
    AccessPeers ap;
};

TEST_F(AccessGuardTest, ASourceInNoPeersNetworksGets403) {
    guard(0, 0, 0, true);
    const Endpoint stranger{ip_of(99), 5060};  // outside 192.0.2.0/28
    EXPECT_EQ(status_of(try_invite(stranger, 1, 0)), 403);
    EXPECT_EQ(sink.out.size(), 1u);  // nothing towards the trunk
    EXPECT_EQ(st.guard_not_peer, 1u);
    EXPECT_EQ(status_of(try_invite(caller, 2, 0)), 100);  // the peer's caller goes on
    EXPECT_EQ(sink.out.size(), 2u);
    // A carrier server's new request is not an access-side one.
    in(primary, invite("z9hG4bK-from-car"), 0);
    ASSERT_FALSE(sink.out.empty());
    EXPECT_EQ(sink.out.back().to, caller);
    EXPECT_EQ(st.guard_not_peer, 1u);
    // Off again: the stranger passes.
    guard(0, 0, 0, false);
    EXPECT_EQ(status_of(try_invite(stranger, 3, 0)), 100);
}

TEST_F(AccessGuardTest, APeerOverItsInviteRateGets503WithRetryAfter) {
    guard(2, 2, 0, false);
    EXPECT_EQ(status_of(try_invite(caller, 1, 0)), 100);
    EXPECT_EQ(status_of(try_invite(caller, 2, 0)), 100);
    const std::string r = try_invite(caller, 3, 0);
    EXPECT_EQ(status_of(r), 503);
    EXPECT_EQ(retry_after(r), "1");
    EXPECT_EQ(st.guard_peer_rate, 1u);
    // A retransmission of an admitted INVITE is absorbed, not charged.
    in(caller, invite("z9hG4bK-g1"), 10);
    EXPECT_EQ(st.guard_peer_rate, 1u);
    // Other kinds have no limit here; in-dialog requests are never rated.
    in(caller, invite("z9hG4bK-o1", 70, "OPTIONS"), 20);
    ASSERT_FALSE(sink.out.empty());
    EXPECT_NE(status_of(sink.out[0].msg), 503);
    // Half a second refills one token (2/s).
    EXPECT_EQ(status_of(try_invite(caller, 4, 500)), 100);
    EXPECT_EQ(status_of(try_invite(caller, 5, 500)), 503);
    EXPECT_EQ(st.guard_peer_rate, 2u);
}

TEST_F(AccessGuardTest, AFloodingSourceIsBlockedForTheBlockTime) {
    guard(0, 0, 3, false);
    for (int i = 1; i <= 3; i++) EXPECT_EQ(status_of(try_invite(caller, i, 100)), 100) << i;
    const std::string r = try_invite(caller, 4, 100);
    EXPECT_EQ(status_of(r), 503);
    EXPECT_EQ(retry_after(r), "10");
    // Still blocked 5 s later, whatever its rate: Retry-After says how long.
    const std::string r2 = try_invite(caller, 5, 5100);
    EXPECT_EQ(status_of(r2), 503);
    EXPECT_EQ(retry_after(r2), "5");
    // Another source is not affected.
    EXPECT_EQ(status_of(try_invite(Endpoint{ip_of(2), 5060}, 6, 5100)), 100);
    EXPECT_EQ(st.guard_source_flood, 2u);
    // After the block: served again.
    EXPECT_EQ(status_of(try_invite(caller, 7, 10200)), 100);
    // The ACK of a guard 503 is absorbed like any stateless rejection's.
    EXPECT_EQ(st.guard_dropped, 0u);
}

TEST_F(AccessGuardTest, ActionDropAnswersNothing) {
    guard(1, 1, 0, false, FloodAction::drop);
    EXPECT_EQ(status_of(try_invite(caller, 1, 0)), 100);
    in(caller, invite("z9hG4bK-g2"), 0);
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(st.guard_peer_rate, 1u);
    EXPECT_EQ(st.guard_dropped, 1u);
}

}  // namespace
}  // namespace sipedge::dp
