// RFC 3261 §17 / RFC 6026 transaction state machines on a simulated clock:
// every transition, written as the list of actions it emits.

#include "dataplane/transaction.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipedge::dp {
namespace {

using failover::RequestKind;
using V = std::vector<std::string>;

const char* reason(TxnReason r) {
    switch (r) {
    case TxnReason::none: return "";
    case TxnReason::timeout: return "timeout";
    case TxnReason::rejected_503: return "503";
    case TxnReason::transport_error: return "icmp";
    case TxnReason::cancelled: return "cancelled";
    case TxnReason::no_ack: return "no_ack";
    case TxnReason::timer_c: return "timer_c";
    case TxnReason::provisional_timeout: return "provisional";
    }
    return "?";
}

std::string str(const TxnAction& a) {
    const std::string re = a.retransmit ? " re" : "";
    const std::string at = std::string(timer_name(a.timer)) + "@" + std::to_string(a.deadline);
    switch (a.kind) {
    case TxnActKind::send_request:
        return "send s" + std::to_string(a.server) + " a" + std::to_string(a.attempt) + re;
    case TxnActKind::send_ack: return "ack s" + std::to_string(a.server) + " " + std::to_string(a.status) + re;
    case TxnActKind::send_response: return "rsp " + std::to_string(a.status) + re;
    case TxnActKind::send_trying: return "trying";
    case TxnActKind::deliver: return "deliver " + std::to_string(a.status);
    case TxnActKind::arm_timer: return "arm " + at;
    case TxnActKind::disarm_timer: return "disarm";
    case TxnActKind::rollover:
        return "rollover s" + std::to_string(a.from) + "->s" + std::to_string(a.server) + " b" +
               std::to_string(a.attempt) + " " + reason(a.reason);
    case TxnActKind::retire_branch:
        return "retire s" + std::to_string(a.server) + " b" + std::to_string(a.attempt) + " " + at;
    case TxnActKind::cancel_ready:
        return "cancel s" + std::to_string(a.server) + (a.reason == TxnReason::timer_c ? " timer_c" : "") +
               (a.reason == TxnReason::provisional_timeout ? " b" + std::to_string(a.attempt) + " provisional"
                                                           : "");
    case TxnActKind::failed: return std::string("failed ") + reason(a.reason);
    case TxnActKind::terminated: return "terminated";
    }
    return "?";
}

V str(const TxnOut& o) {
    V v;
    for (const TxnAction& a : o) v.push_back(str(a));
    return v;
}

// Calls <f>(out) on a fresh TxnOut and returns what it emitted.
template <class F>
V run(F&& f) {
    TxnOut o;
    f(o);
    return str(o);
}

ClientTxn::Setup client_setup(const failover::RetryPolicy& p, sip::Method m, uint16_t servers,
                              bool reliable = false) {
    ClientTxn::Setup s;
    s.policy = p;
    s.method = m;
    s.kind = m == sip::Method::invite     ? RequestKind::invite
             : m == sip::Method::register_ ? RequestKind::register_
                                           : RequestKind::other;
    s.server_count = servers;
    s.reliable = reliable;
    s.branch = BranchId{.slot = 42, .nonce = 0xabcdef, .generation = 7, .core = 2, .attempt = 0};
    s.trunk_id = 9;
    return s;
}

ClientTxn started(const ClientTxn::Setup& s, Millis now = 0) {
    ClientTxn t;
    TxnOut o;
    t.start(s, now, o);
    return t;
}

const failover::RetryPolicy rfc_invite = failover::rfc3261_policy(500, 4000, RequestKind::invite);
const failover::RetryPolicy rfc_other = failover::rfc3261_policy(500, 4000, RequestKind::other);
const failover::RetryPolicy poly = failover::make_policy(failover::PolyTiming{}, RequestKind::invite);

TEST(TxnSizes, FitTheBudget) {
    // DESIGN.md: transaction state ≤ 256 bytes; tombstones small.
    EXPECT_LE(sizeof(ClientTxn), 256u);
    EXPECT_LE(sizeof(ServerTxn), 256u);
    EXPECT_LE(sizeof(Tombstone), 16u);
    RecordProperty("client_txn_bytes", int(sizeof(ClientTxn)));
    RecordProperty("server_txn_bytes", int(sizeof(ServerTxn)));
}

// ---- client INVITE -----------------------------------------------------------------

TEST(ClientInvite, TimerADoublesUntilTimerB) {
    ClientTxn t;
    EXPECT_EQ(run([&](TxnOut& o) { t.start(client_setup(rfc_invite, sip::Method::invite, 1), 0, o); }),
              (V{"send s0 a1", "arm A@500"}));
    EXPECT_EQ(t.state(), ClientState::calling);
    V all;
    while (t.state() != ClientState::terminated) {
        const Millis at = t.deadline();
        ASSERT_NE(at, never_ms);
        for (const std::string& s : run([&](TxnOut& o) { t.on_timer(at, o); }))
            all.push_back(std::to_string(at) + " " + s);
    }
    // §17.1.1.2: A = 500, 1000, 2000, … (no cap for INVITE); B = 64·T1 = 32 s.
    EXPECT_EQ(all, (V{"500 send s0 a2 re", "500 arm A@1500", "1500 send s0 a3 re", "1500 arm A@3500",
                      "3500 send s0 a4 re", "3500 arm A@7500", "7500 send s0 a5 re", "7500 arm A@15500",
                      "15500 send s0 a6 re", "15500 arm A@31500", "31500 send s0 a7 re",
                      "31500 arm B@32000", "32000 failed timeout", "32000 terminated"}));
}

TEST(ClientInvite, ProvisionalStopsRetransmissionAnd2xxGoesToAccepted) {
    ClientTxn t = started(client_setup(rfc_invite, sip::Method::invite, 1));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(100, 100, o); }), (V{"deliver 100", "disarm"}));
    EXPECT_EQ(t.state(), ClientState::proceeding);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(180, 200, o); }), (V{"deliver 180"}));
    // RFC 6026 §8.4: 2xx → Accepted, Timer M = 64·T1.
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(200, 1000, o); }), (V{"deliver 200", "arm M@33000"}));
    EXPECT_EQ(t.state(), ClientState::accepted);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(200, 1500, o); }), (V{"deliver 200"}));  // retransmission
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(486, 1600, o); }), V{});               // absorbed
    Tombstone ts;
    ASSERT_TRUE(make_tombstone(t, ts));
    EXPECT_EQ(ts.kind, TombKind::client_invite_accepted);
    EXPECT_EQ(ts.on_message(2000, 200, sip::Method::invite), TombVerdict::deliver);
    EXPECT_EQ(ts.on_message(2000, 486, sip::Method::invite), TombVerdict::absorb);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(33000, o); }), (V{"terminated"}));
}

TEST(ClientInvite, Non2xxIsAckedHopByHopAndRetransmissionsAbsorbed) {
    ClientTxn t = started(client_setup(rfc_invite, sip::Method::invite, 1));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(486, 200, o); }),
              (V{"ack s0 486", "deliver 486", "arm D@32200"}));
    EXPECT_EQ(t.state(), ClientState::completed);
    // §17.1.1.2: a retransmitted final is ACKed again, not passed up.
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(486, 300, o); }), (V{"ack s0 486 re"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(180, 300, o); }), V{});
    Tombstone ts;
    ASSERT_TRUE(make_tombstone(t, ts));
    EXPECT_EQ(ts.kind, TombKind::client_invite_completed);
    EXPECT_EQ(ts.expires, 32200u);
    EXPECT_EQ(ts.on_message(400, 486, sip::Method::invite), TombVerdict::resend);
    EXPECT_EQ(ts.on_message(400, 180, sip::Method::invite), TombVerdict::absorb);
    EXPECT_EQ(ts.on_message(32200, 486, sip::Method::invite), TombVerdict::expired);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(32199, o); }), (V{"arm D@32200"}));  // early: re-arm only
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(32200, o); }), (V{"terminated"}));
}

TEST(ClientInvite, ReliableTransportHasNoRetransmissionsAndNoTimerD) {
    ClientTxn t;
    EXPECT_EQ(run([&](TxnOut& o) { t.start(client_setup(rfc_invite, sip::Method::invite, 1, true), 0, o); }),
              (V{"send s0 a1", "arm B@32000"}));
    Tombstone ts;
    EXPECT_FALSE(make_tombstone(t, ts));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(486, 100, o); }),
              (V{"ack s0 486", "deliver 486", "terminated"}));
}

TEST(ClientInvite, TimeoutRollsOverWithANewBranch) {
    ClientTxn t = started(client_setup(poly, sip::Method::invite, 2));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(500, o); }), (V{"send s0 a2 re", "arm A@1500"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(1500, o); }), (V{"send s0 a3 re", "arm rollover@3500"}));
    // seed P: 3.5 s to failover; same request, new branch (attempt 1).
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(3500, o); }),
              (V{"rollover s0->s1 b1 timeout", "send s1 a1", "arm A@4000"}));
    EXPECT_EQ(t.server(), 1);
    EXPECT_EQ(t.branch().attempt, 1);
    EXPECT_EQ(t.branch().slot, 42u);
    EXPECT_EQ(t.branch().core, 2);
    EXPECT_EQ(t.state(), ClientState::calling);
}

TEST(ClientInvite, Rollover503RetiresTheOldBranchWhenConfigured) {
    ClientTxn t = started(client_setup(poly, sip::Method::invite, 2));
    // seed P failoverOn503Response=1: ACK the 503, keep a tombstone for its
    // retransmissions (Timer D), try the next server at once.
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(503, 200, o); }),
              (V{"ack s0 503", "retire s0 b0 D@32200", "rollover s0->s1 b1 503", "send s1 a1", "arm A@700"}));
    // On the last server a 503 is final.
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(503, 900, o); }),
              (V{"ack s1 503", "deliver 503", "arm D@32900"}));

    // seed A timeout-only (the default): a 503 is an ordinary final response.
    ClientTxn a = started(client_setup(failover::make_policy(failover::AdtranTimers{}, RequestKind::invite),
                                       sip::Method::invite, 2));
    EXPECT_EQ(run([&](TxnOut& o) { a.on_response(503, 200, o); }),
              (V{"ack s0 503", "deliver 503", "arm D@32200"}));
}

TEST(ClientInvite, IcmpRollsOverAtOnceThenFails) {
    ClientTxn t = started(client_setup(poly, sip::Method::invite, 2));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_icmp(50, o); }),
              (V{"rollover s0->s1 b1 icmp", "send s1 a1", "arm A@550"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_icmp(60, o); }), (V{"failed icmp", "terminated"}));
    EXPECT_EQ(t.state(), ClientState::terminated);
}

TEST(ClientInvite, CancelWaitsForAProvisional) {
    ClientTxn t = started(client_setup(poly, sip::Method::invite, 2));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_cancel_request(100, o); }), V{});  // §9.1: not yet
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(180, 200, o); }), (V{"deliver 180", "cancel s0", "disarm"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_cancel_request(300, o); }), (V{"cancel s0"}));

    // The CANCEL goes where the INVITE went, with its branch, and never rolls over.
    const ClientTxn::Setup cs = cancel_setup(t);
    EXPECT_EQ(cs.method, sip::Method::cancel);
    EXPECT_EQ(cs.branch, t.branch());
    EXPECT_EQ(cs.first_server, 0);
    EXPECT_EQ(cs.server_count, 1);
    ClientTxn c;
    EXPECT_EQ(run([&](TxnOut& o) { c.start(cs, 300, o); }), (V{"send s0 a1", "arm E@800"}));
    EXPECT_EQ(run([&](TxnOut& o) { c.on_response(200, 400, o); }), (V{"deliver 200", "arm K@5400"}));
}

TEST(ClientInvite, CancelledBeforeAnswerDoesNotRollOver) {
    ClientTxn t = started(client_setup(poly, sip::Method::invite, 2));
    TxnOut o;
    t.on_cancel_request(100, o);
    t.on_timer(500, o);
    t.on_timer(1500, o);
    EXPECT_EQ(run([&](TxnOut& x) { t.on_timer(3500, x); }), (V{"failed cancelled", "terminated"}));
}

// §16.6 step 11 / §16.7 step 2 / §16.8: Timer C from the forward, restarted
// by 101-199 (not 100); fired after a provisional: CANCEL, then 64*T1 for
// the final before giving up; 408-style failure, not a server failure.
TEST(ClientInvite, TimerCCancelsAfterAProvisionalAndRestartsOn1xx) {
    ClientTxn::Setup s = client_setup(rfc_invite, sip::Method::invite, 1);
    s.timer_c_ms = 181000;
    ClientTxn t = started(s);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(100, 100, o); }), (V{"deliver 100", "arm C@181000"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(180, 60000, o); }), (V{"deliver 180", "arm C@241000"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(181000, o); }), (V{"arm C@241000"}));  // early: re-armed
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(241000, o); }), (V{"cancel s0 timer_c", "arm C@273000"}));
    // A provisional after the CANCEL does not buy more time.
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(183, 250000, o); }), (V{"deliver 183"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(273000, o); }), (V{"failed timer_c", "terminated"}));
}

TEST(ClientInvite, TimerCAnsweredByThe487EndsNormally) {
    ClientTxn::Setup s = client_setup(rfc_invite, sip::Method::invite, 1);
    s.timer_c_ms = 181000;
    ClientTxn t = started(s);
    run([&](TxnOut& o) { t.on_response(180, 10, o); });
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(181010, o); }), (V{"cancel s0 timer_c", "arm C@213010"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(487, 181100, o); }),
              (V{"ack s0 487", "deliver 487", "arm D@213100"}));
    EXPECT_EQ(t.state(), ClientState::completed);
}

TEST(ClientInvite, TimerCBeforeAnyProvisionalFailsAtOnce) {
    // A walk longer than Timer C (Poly timing: long rollover budget): C ends it.
    ClientTxn::Setup s = client_setup(rfc_invite, sip::Method::invite, 1);
    s.timer_c_ms = 10000;  // shorter than Timer B here, to reach the case
    ClientTxn t = started(s);
    Millis at = 0;
    V last;
    while (t.state() != ClientState::terminated && at < 40000) {
        at = t.deadline();
        last = run([&](TxnOut& o) { t.on_timer(at, o); });
    }
    EXPECT_EQ(at, 10000u);
    EXPECT_EQ(last, (V{"failed timer_c", "terminated"}));
}

TEST(ClientInvite, NoTimerCWithoutOneConfiguredOrForNonInvite) {
    ClientTxn t = started(client_setup(rfc_invite, sip::Method::invite, 1));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(180, 100, o); }), (V{"deliver 180", "disarm"}));
    ClientTxn::Setup s = client_setup(rfc_other, sip::Method::bye, 1);
    s.timer_c_ms = 181000;
    ClientTxn b = started(s);
    EXPECT_EQ(b.deadline(), 500u);  // Timer E, nothing else
}

// Issue 12: a server that sends 100 Trying and dies. provisional-timeout
// CANCELs that branch (named by the action: the transaction has already
// rolled over) and rolls the call over; after a 180 (or on the last server)
// the caller gets 408.
TEST(ClientInvite, ProvisionalTimeoutAfterBare100RollsOver) {
    ClientTxn::Setup s = client_setup(rfc_invite, sip::Method::invite, 2);
    s.timer_c_ms = 181000;
    s.provisional_timeout_ms = 4000;
    ClientTxn t = started(s);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(100, 100, o); }), (V{"deliver 100", "arm provisional@4100"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(4100, o); }),
              (V{"cancel s0 b0 provisional", "rollover s0->s1 b1 timeout", "send s1 a1", "arm A@4600"}));
    EXPECT_EQ(t.branch().attempt, 1u);
    // The next server rings and answers: a normal call.
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(180, 4200, o); }), (V{"deliver 180", "arm provisional@8200"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(200, 5000, o); }), (V{"deliver 200", "arm M@37000"}));
}

TEST(ClientInvite, ProvisionalTimeoutAfterRingingOrOnTheLastServerIs408) {
    ClientTxn::Setup s = client_setup(rfc_invite, sip::Method::invite, 2);
    s.provisional_timeout_ms = 4000;
    ClientTxn t = started(s);
    run([&](TxnOut& o) { t.on_response(180, 100, o); });
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(4100, o); }),
              (V{"cancel s0 b0 provisional", "failed provisional", "terminated"}));
    ClientTxn u = started(client_setup(rfc_invite, sip::Method::invite, 1));
    ClientTxn::Setup s1 = client_setup(rfc_invite, sip::Method::invite, 1);
    s1.provisional_timeout_ms = 4000;
    u = started(s1);
    run([&](TxnOut& o) { u.on_response(100, 100, o); });
    EXPECT_EQ(run([&](TxnOut& o) { u.on_timer(4100, o); }),
              (V{"cancel s0 b0 provisional", "failed provisional", "terminated"}));
    // Off (0): a bare 100 waits for Timer C as before.
    ClientTxn w = started(client_setup(rfc_invite, sip::Method::invite, 2));
    EXPECT_EQ(run([&](TxnOut& o) { w.on_response(100, 100, o); }), (V{"deliver 100", "disarm"}));
}

TEST(ClientInvite, AckIsNotATransaction) {
    ClientTxn t;
    EXPECT_EQ(run([&](TxnOut& o) { t.start(client_setup(rfc_invite, sip::Method::ack, 1), 0, o); }),
              (V{"terminated"}));
}

// ---- client non-INVITE ---------------------------------------------------------------

TEST(ClientNonInvite, TimerECapsAtT2AndProvisionalKeepsT2) {
    ClientTxn t;
    EXPECT_EQ(run([&](TxnOut& o) { t.start(client_setup(rfc_other, sip::Method::options, 1), 0, o); }),
              (V{"send s0 a1", "arm E@500"}));
    EXPECT_EQ(t.state(), ClientState::trying);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(500, o); }), (V{"send s0 a2 re", "arm E@1500"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(1500, o); }), (V{"send s0 a3 re", "arm E@3500"}));
    // §17.1.2.2: a provisional moves to Proceeding; the pending E keeps its time, then T2.
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(100, 2000, o); }), (V{"deliver 100"}));
    EXPECT_EQ(t.state(), ClientState::proceeding);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(3500, o); }), (V{"send s0 a4 re", "arm E@7500"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(200, 8000, o); }), (V{"deliver 200", "arm K@13000"}));
    EXPECT_EQ(t.state(), ClientState::completed);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(200, 9000, o); }), V{});  // absorbed
    Tombstone ts;
    ASSERT_TRUE(make_tombstone(t, ts));
    EXPECT_EQ(ts.kind, TombKind::client_completed);
    EXPECT_EQ(ts.on_message(9000, 200, sip::Method::options), TombVerdict::absorb);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(13000, o); }), (V{"terminated"}));
}

TEST(ClientNonInvite, TimerFEndsIt) {
    ClientTxn t = started(client_setup(rfc_other, sip::Method::options, 1));
    V last;
    while (t.state() != ClientState::terminated) {
        const Millis at = t.deadline();
        ASSERT_NE(at, never_ms);
        last = run([&](TxnOut& o) { t.on_timer(at, o); });
        if (t.state() == ClientState::terminated) {
            EXPECT_EQ(at, 32000u);
        }
    }
    EXPECT_EQ(last, (V{"failed timeout", "terminated"}));
}

TEST(ClientNonInvite, ReliableFinalTerminatesAtOnce) {
    ClientTxn t = started(client_setup(rfc_other, sip::Method::options, 1, true));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(200, 10, o); }), (V{"deliver 200", "terminated"}));
}

TEST(ClientNonInvite, Register503RetiresWithTimerK) {
    ClientTxn t = started(client_setup(failover::make_policy(failover::PolyTiming{}, RequestKind::register_),
                                       sip::Method::register_, 3));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_response(503, 100, o); }),
              (V{"retire s0 b0 K@5100", "rollover s0->s1 b1 503", "send s1 a1", "arm E@600"}));
}

// ---- server INVITE -------------------------------------------------------------------

ServerTxn::Setup server_setup(sip::Method m, bool reliable = false) {
    ServerTxn::Setup s;
    s.method = m;
    s.reliable = reliable;
    return s;
}

TEST(ServerInvite, Non2xxRetransmitsUntilAckThenConfirmed) {
    ServerTxn t;
    EXPECT_EQ(run([&](TxnOut& o) { t.start(server_setup(sip::Method::invite), 0, o); }),
              (V{"trying", "deliver 0"}));
    EXPECT_EQ(t.state(), ServerState::proceeding);
    EXPECT_TRUE(t.cancellable());
    // Retransmissions are answered here, never reaching the client side.
    EXPECT_EQ(run([&](TxnOut& o) { t.on_request(sip::Method::invite, 50, o); }), (V{"rsp 100 re"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.respond(180, 100, o); }), (V{"rsp 180"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_request(sip::Method::invite, 150, o); }), (V{"rsp 180 re"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.respond(486, 1000, o); }), (V{"rsp 486", "arm G@1500"}));
    EXPECT_EQ(t.state(), ServerState::completed);
    EXPECT_FALSE(t.cancellable());
    Tombstone ts;
    EXPECT_FALSE(make_tombstone(t, ts));  // still retransmitting
    // §17.2.1: Timer G doubles up to T2.
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(1500, o); }), (V{"rsp 486 re", "arm G@2500"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(2500, o); }), (V{"rsp 486 re", "arm G@4500"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(4500, o); }), (V{"rsp 486 re", "arm G@8500"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(8500, o); }), (V{"rsp 486 re", "arm G@12500"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_request(sip::Method::invite, 9000, o); }), (V{"rsp 486 re"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.respond(500, 9000, o); }), V{});  // further finals discarded
    // ACK for a non-2xx is absorbed hop by hop: Confirmed, Timer I = T4.
    EXPECT_EQ(run([&](TxnOut& o) { t.on_request(sip::Method::ack, 10000, o); }), (V{"arm I@15000"}));
    EXPECT_EQ(t.state(), ServerState::confirmed);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_request(sip::Method::ack, 10100, o); }), V{});
    ASSERT_TRUE(make_tombstone(t, ts));
    EXPECT_EQ(ts.kind, TombKind::server_invite_confirmed);
    EXPECT_EQ(ts.on_message(11000, 0, sip::Method::ack), TombVerdict::absorb);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(15000, o); }), (V{"terminated"}));
}

TEST(ServerInvite, TimerHWithoutAck) {
    ServerTxn t;
    TxnOut o;
    t.start(server_setup(sip::Method::invite), 0, o);
    t.respond(500, 0, o);
    V times;
    V last;
    while (t.state() != ServerState::terminated) {
        const Millis at = t.deadline();
        ASSERT_NE(at, never_ms);
        last = run([&](TxnOut& x) { t.on_timer(at, x); });
        times.push_back(std::to_string(at));
    }
    // G at 0.5, 1.5, 3.5, then every T2 = 4 s; H = 64·T1 = 32 s.
    EXPECT_EQ(times, (V{"500", "1500", "3500", "7500", "11500", "15500", "19500", "23500", "27500",
                        "31500", "32000"}));
    EXPECT_EQ(last, (V{"failed no_ack", "terminated"}));
}

TEST(ServerInvite, Accepted2xxPassesAckAndAbsorbsInvite) {
    ServerTxn t;
    TxnOut o;
    t.start(server_setup(sip::Method::invite), 0, o);
    EXPECT_EQ(run([&](TxnOut& x) { t.respond(200, 100, x); }), (V{"rsp 200", "arm L@32100"}));
    EXPECT_EQ(t.state(), ServerState::accepted);
    EXPECT_EQ(run([&](TxnOut& x) { t.on_request(sip::Method::invite, 200, x); }), V{});
    EXPECT_EQ(run([&](TxnOut& x) { t.respond(200, 600, x); }), (V{"rsp 200 re"}));  // 2xx retransmission
    EXPECT_EQ(run([&](TxnOut& x) { t.on_request(sip::Method::ack, 700, x); }), (V{"deliver 0"}));
    Tombstone ts;
    ASSERT_TRUE(make_tombstone(t, ts));
    EXPECT_EQ(ts.on_message(800, 0, sip::Method::ack), TombVerdict::deliver);
    EXPECT_EQ(ts.on_message(800, 0, sip::Method::invite), TombVerdict::absorb);
    EXPECT_EQ(run([&](TxnOut& x) { t.on_timer(32100, x); }), (V{"terminated"}));
}

TEST(ServerInvite, ReliableNoTimerGAndAckEndsIt) {
    ServerTxn t;
    TxnOut o;
    t.start(server_setup(sip::Method::invite, true), 0, o);
    EXPECT_EQ(run([&](TxnOut& x) { t.respond(486, 10, x); }), (V{"rsp 486", "arm H@32010"}));
    EXPECT_EQ(run([&](TxnOut& x) { t.on_request(sip::Method::ack, 20, x); }), (V{"terminated"}));
}

TEST(ServerInvite, TransportErrorEndsIt) {
    ServerTxn t;
    TxnOut o;
    t.start(server_setup(sip::Method::invite), 0, o);
    EXPECT_EQ(run([&](TxnOut& x) { t.on_transport_error(5, x); }), (V{"failed icmp", "terminated"}));
}

TEST(ServerInvite, Rfc2543ToTagChecks) {
    ServerTxn t;
    TxnOut o;
    ServerTxn::Setup s = server_setup(sip::Method::invite);
    s.req_to_tag = 0;
    t.start(s, 0, o);
    t.respond(486, 10, o, 0x1234);
    EXPECT_TRUE(t.accepts_2543(sip::Method::invite, 0));
    EXPECT_FALSE(t.accepts_2543(sip::Method::invite, 0x1234));
    EXPECT_TRUE(t.accepts_2543(sip::Method::ack, 0x1234));
    EXPECT_FALSE(t.accepts_2543(sip::Method::ack, 0x9999));
}

// ---- server non-INVITE ---------------------------------------------------------------

TEST(ServerNonInvite, TryingProceedingCompleted) {
    ServerTxn t;
    EXPECT_EQ(run([&](TxnOut& o) { t.start(server_setup(sip::Method::bye), 0, o); }), (V{"deliver 0"}));
    EXPECT_EQ(t.state(), ServerState::trying);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_request(sip::Method::bye, 10, o); }), V{});  // discarded in Trying
    EXPECT_EQ(run([&](TxnOut& o) { t.respond(100, 20, o); }), (V{"rsp 100"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.on_request(sip::Method::bye, 30, o); }), (V{"rsp 100 re"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.respond(200, 500, o); }), (V{"rsp 200", "arm J@32500"}));
    EXPECT_EQ(t.state(), ServerState::completed);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_request(sip::Method::bye, 600, o); }), (V{"rsp 200 re"}));
    EXPECT_EQ(run([&](TxnOut& o) { t.respond(500, 700, o); }), V{});
    Tombstone ts;
    ASSERT_TRUE(make_tombstone(t, ts));
    EXPECT_EQ(ts.kind, TombKind::server_completed);
    EXPECT_EQ(ts.on_message(800, 0, sip::Method::bye), TombVerdict::resend);
    EXPECT_EQ(ts.on_message(32500, 0, sip::Method::bye), TombVerdict::expired);
    EXPECT_EQ(run([&](TxnOut& o) { t.on_timer(32500, o); }), (V{"terminated"}));
}

TEST(ServerNonInvite, ReliableFinalTerminatesAtOnce) {
    ServerTxn t;
    TxnOut o;
    t.start(server_setup(sip::Method::register_, true), 0, o);
    EXPECT_EQ(run([&](TxnOut& x) { t.respond(200, 5, x); }), (V{"rsp 200", "terminated"}));
}

}  // namespace
}  // namespace sipedge::dp
