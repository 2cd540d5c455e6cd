// Issue 16, capacity: completed transactions shrink to tombstones at once and
// still answer late copies (dataplane/proxy_tomb.cc); per-class retained-
// message pools; overload control (503 + Retry-After for new out-of-dialog
// requests above the watermark, everything of admitted calls goes on).

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dataplane/branch.h"
#include "tests/dataplane/proxy_calls.h"

namespace sipedge::dp {
namespace {

using namespace calls;

class Capacity : public ::testing::Test {
protected:
    void SetUp() override { start(64); }
    void start(uint32_t max_txns, uint32_t overload_percent = 90) {
        ProxyConfig c;
        c.self = edge;
        c.max_txns = max_txns;
        c.overload_percent = overload_percent;
        c.max_udp_payload = uint16_t(MsgPool::max_size);
        p = std::make_unique<SinkProxy>();
        st = WorkerStats{};
        ASSERT_TRUE(p->init(c, 0, 1234, 0, sink, st));
        table = make_table({primary, secondary});
        routes.table = table.get();
        routes.default_trunk = 0;
        routes.access = caller;
        cars[0] = primary.ip;
        cars[1] = secondary.ip;
        routes.carrier_count = 2;
        routes.carriers = cars;
        p->set_routes(&routes);
    }
    void in(Endpoint from, const std::string& m, Millis now) {
        sink.out.clear();
        now_ = now;
        p->advance(now);
        p->on_datagram(from, m.data(), m.size(), now);
    }
    // What went to <e> in the last in() (nullptr: nothing).
    const Sent* to(Endpoint e, int nth = 0) const {
        for (const Sent& s : sink.out)
            if (s.to == e && nth-- == 0) return &s;
        return nullptr;
    }
    // Call <i>: INVITE (of <body> bytes) forwarded to the primary, which says 180.
    std::string ringing(int i, Millis now, size_t body = 0) {
        in(caller, invite(i, body), now);
        const Sent* f = to(primary);
        if (!f) return {};
        const std::string fwd = f->msg;
        in(primary, response_to(fwd, 180, "Ringing", i), now + 1);
        return fwd;
    }
    uint64_t drops(DropReason r) const { return st.drops[size_t(r)]; }
    // Call <i>'s CANCEL at <now>: answered 200 here and sent on to the primary.
    void cancel_passes(int i, Millis now) {
        in(caller, cancel_of(i), now);
        ASSERT_NE(to(caller), nullptr);
        EXPECT_EQ(status_of(to(caller)->msg), 200);
        ASSERT_NE(to(primary), nullptr);
        EXPECT_TRUE(starts(to(primary)->msg, "CANCEL "));
    }
    // The caller's CANCEL of call <i> (§9.1: its INVITE's lines, method CANCEL).
    static std::string cancel_of(int i) {
        std::string c = invite(i);
        c.replace(0, 6, "CANCEL");
        c.replace(c.find("CSeq: 1 INVITE"), 14, "CSeq: 1 CANCEL");
        return c;
    }

    Sink sink;
    WorkerStats st;
    std::unique_ptr<const failover::Table> table;
    Routes routes;
    uint32_t cars[2] = {};
    std::unique_ptr<SinkProxy> p;
    Millis now_ = 0;
};

TEST_F(Capacity, AnAnsweredCallGivesItsSlotsAndBuffersBackAtOnce) {
    const std::string fwd = ringing(1, 0);
    ASSERT_FALSE(fwd.empty());
    const std::string rr = header(fwd, "Record-Route");
    EXPECT_EQ(p->active_slots(), 2u);
    in(primary, response_to(fwd, 200, "OK", 1), 20);
    ASSERT_NE(to(caller), nullptr);
    EXPECT_EQ(status_of(to(caller)->msg), 200);
    const std::string ok_up = to(caller)->msg;
    // Timer L / Timer M still run, as tombstones: no slot, no buffer.
    EXPECT_EQ(p->active_slots(), 0u);
    EXPECT_EQ(p->retained_messages(), 0u);
    EXPECT_EQ(p->tombstones().size(), 2u);
    EXPECT_EQ(st.tombs_created, 2u);

    // A late INVITE copy is absorbed (RFC 6026 §7.1), not a new call.
    in(caller, invite(1), 100);
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(st.tomb_hits, 1u);
    EXPECT_EQ(st.calls_attempted, 1u);
    // A 2xx retransmission is relayed upstream (RFC 6026 §8.4), without our Via.
    in(primary, response_to(fwd, 200, "OK", 1), 600);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(sink.out[0].msg, ok_up);
    EXPECT_EQ(st.tomb_hits, 2u);

    // The dialog goes on: ACK end to end, BYE as a transaction.
    in(caller, in_dialog("ACK", 1, rr, 1, "z9hG4bK-a1"), 700);
    ASSERT_NE(to(primary), nullptr) << (sink.out.empty() ? "" : sink.out[0].msg);
    EXPECT_TRUE(starts(to(primary)->msg, "ACK "));
    in(caller, in_dialog("BYE", 1, rr, 2, "z9hG4bK-b1"), 1000);
    ASSERT_NE(to(primary), nullptr);
    const std::string bye = to(primary)->msg;
    in(primary, response_to(bye, 200, "OK", 1), 1010);
    ASSERT_NE(to(caller), nullptr);
    const std::string bye_ok = to(caller)->msg;
    EXPECT_EQ(p->active_slots(), 0u);
    EXPECT_EQ(p->retained_messages(), 0u);
    EXPECT_EQ(p->tombstones().size(), 4u);
    // §17.2.2: a retransmitted BYE gets the same 200 again, from the tombstone.
    in(caller, in_dialog("BYE", 1, rr, 2, "z9hG4bK-b1"), 1500);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(sink.out[0].msg, bye_ok);
    // Timers J/L/M (32 s) over: nothing is left.
    p->advance(40000);
    EXPECT_EQ(p->tombstones().size(), 0u);
    EXPECT_EQ(p->tombstones().held(), 0u);
    in(caller, in_dialog("BYE", 1, rr, 2, "z9hG4bK-b1"), 41000);
    EXPECT_NE(to(primary), nullptr);  // a new transaction now
}

TEST_F(Capacity, ARejectedInviteReAcksRetransmittedFinalsFromItsTombstone) {
    const std::string fwd = ringing(1, 0);
    in(primary, response_to(fwd, 486, "Busy Here", 1), 10);
    ASSERT_NE(to(primary), nullptr);
    const std::string ack = to(primary)->msg;
    EXPECT_TRUE(starts(ack, "ACK sip:1000@192.0.2.10:5060 SIP/2.0\r\n")) << ack;
    ASSERT_NE(to(caller), nullptr);
    const std::string busy = to(caller)->msg;
    EXPECT_EQ(status_of(busy), 486);
    // The client side is a tombstone; the server side waits for the ACK (Timer G/H).
    EXPECT_EQ(p->active_slots(), 1u);
    EXPECT_EQ(p->tombstones().size(), 1u);
    in(primary, response_to(fwd, 486, "Busy Here", 1), 500);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, primary);
    EXPECT_EQ(sink.out[0].msg, ack);  // §17.1.1.2: the same ACK again
    EXPECT_EQ(drops(DropReason::sip_stale_branch), 0u);
    // The caller's ACK: Confirmed (Timer I), the buffer goes back now.
    std::string cack = invite(1);
    cack.replace(0, 6, "ACK");
    cack.replace(cack.find("CSeq: 1 INVITE"), 14, "CSeq: 1 ACK");
    cack.replace(cack.find("To: <sip:1000@192.0.2.10>"), 25, "To: <sip:1000@192.0.2.10>;tag=t1");
    in(caller, cack, 600);
    EXPECT_EQ(to(primary), nullptr);  // hop by hop: absorbed
    EXPECT_EQ(p->retained_messages(), 0u);
    EXPECT_EQ(p->active_slots(), 1u);
    p->advance(600 + 5000);
    EXPECT_EQ(p->active_slots(), 0u);
}

TEST_F(Capacity, TheOldBranchOfARolloverReAcksIts503) {
    const std::string fwd = [&] {
        in(caller, invite(1), 0);
        return to(primary)->msg;
    }();
    in(primary, response_to(fwd, 503, "Service Unavailable", 1), 10);
    ASSERT_NE(to(primary), nullptr);
    const std::string ack = to(primary)->msg;
    EXPECT_TRUE(starts(ack, "ACK "));
    ASSERT_NE(to(secondary), nullptr);  // rolled over, new branch
    in(primary, response_to(fwd, 503, "Service Unavailable", 1), 300);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, primary);
    EXPECT_EQ(sink.out[0].msg, ack);
    EXPECT_EQ(drops(DropReason::sip_stale_branch), 0u);
}

TEST_F(Capacity, ACancelAfterTheFinalIsAnswered200) {
    const std::string fwd = ringing(1, 0);
    in(primary, response_to(fwd, 200, "OK", 1), 10);
    const std::string cancel = cancel_of(1);
    in(caller, cancel, 20);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(status_of(sink.out[0].msg), 200);  // §16.10; no effect
}

// The table past its watermark: new INVITEs get 503 + Retry-After; in-dialog
// requests, ACKs, CANCELs and responses of admitted calls keep flowing.
TEST_F(Capacity, AboveTheWatermarkNewInvitesGet503InDialogTrafficFlows) {
    // An established call, to send in-dialog requests later.
    const std::string fwd0 = ringing(0, 0);
    const std::string rr0 = header(fwd0, "Record-Route");
    in(primary, response_to(fwd0, 200, "OK", 0), 5);
    // 29 ringing calls: 58 of 64 slots (90 %).
    std::string fwd[30];
    for (int i = 1; i <= 29; i++) {
        fwd[i] = ringing(i, 10 * i);
        ASSERT_FALSE(fwd[i].empty()) << i;
    }
    EXPECT_EQ(p->active_slots(), 58u);
    EXPECT_GE(p->load_percent(), 90u);
    // A new INVITE: 503 with the overload Retry-After, nothing downstream.
    in(caller, invite(100), 400);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, caller);
    EXPECT_EQ(status_of(sink.out[0].msg), 503);
    EXPECT_NE(sink.out[0].msg.find("\r\nRetry-After: 5\r\n"), std::string::npos) << sink.out[0].msg;
    EXPECT_EQ(st.overload_503, 1u);
    EXPECT_EQ(st.calls_attempted, 30u);
    // An OPTIONS (out of dialog) too.
    std::string opt = invite(101);
    opt.replace(0, 6, "OPTIONS");
    opt.replace(opt.find("CSeq: 1 INVITE"), 14, "CSeq: 1 OPTIONS");
    in(caller, opt, 401);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(status_of(sink.out[0].msg), 503);
    EXPECT_EQ(st.overload_503, 2u);
    // In dialog: ACK and BYE of call 0 go on.
    in(caller, in_dialog("ACK", 0, rr0, 1, "z9hG4bK-a0"), 410);
    ASSERT_NE(to(primary), nullptr);
    in(caller, in_dialog("BYE", 0, rr0, 2, "z9hG4bK-b0"), 420);
    ASSERT_NE(to(primary), nullptr);
    EXPECT_TRUE(starts(to(primary)->msg, "BYE "));
    const std::string bye = to(primary)->msg;
    in(primary, response_to(bye, 200, "OK", 0), 430);
    ASSERT_NE(to(caller), nullptr);
    EXPECT_EQ(status_of(to(caller)->msg), 200);
    // Responses: call 3 is answered and relayed.
    in(primary, response_to(fwd[3], 200, "OK", 3), 440);
    ASSERT_NE(to(caller), nullptr);
    EXPECT_EQ(status_of(to(caller)->msg), 200);
    // CANCEL of call 4: 200 here, CANCEL downstream.
    cancel_passes(4, 450);
    EXPECT_EQ(st.overload_503, 2u);
    // Below the mark again (calls answered): new INVITEs pass.
    for (int i = 5; i <= 12; i++) in(primary, response_to(fwd[i], 200, "OK", i), 460 + i);
    EXPECT_LT(p->load_percent(), 90u);
    in(caller, invite(102), 500);
    ASSERT_NE(to(primary), nullptr);
    EXPECT_EQ(st.overload_503, 2u);
}

TEST_F(Capacity, TheWatermarkCanBeTurnedOff) {
    start(64, 0);
    for (int i = 1; i <= 32; i++) ringing(i, 10 * i);
    EXPECT_EQ(p->active_slots(), 64u);
    in(caller, invite(100), 400);  // no slot at all: the old 503 (txn_exhausted)
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(status_of(sink.out[0].msg), 503);
    EXPECT_EQ(st.overload_503, 0u);
    EXPECT_EQ(drops(DropReason::txn_exhausted), 1u);
}

// Large requests have their own class: filling it sheds new large INVITEs
// (503) while small ones still pass, and never the other way round.
// Issue 15: server and client slots are pools of their own (half of
// max-txns each, the odd one a client's): 32 ringing calls take every server
// slot of 65; a new INVITE is refused although a client slot is free, and a
// CANCEL (a client transaction only) still goes downstream in it.
TEST_F(Capacity, ServerAndClientSlotsArePoolsOfTheirOwn) {
    start(65, 0);
    for (int i = 1; i <= 32; i++) ASSERT_FALSE(ringing(i, 10 * i).empty()) << i;
    EXPECT_EQ(p->active_slots(), 64u);
    EXPECT_EQ(st.txn_server_active, 32u);
    EXPECT_EQ(st.txn_client_active, 32u);
    in(caller, invite(100), 400);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(status_of(sink.out[0].msg), 503);
    EXPECT_EQ(drops(DropReason::txn_exhausted), 1u);
    EXPECT_EQ(p->load_percent(), 100u);
    cancel_passes(4, 450);
    EXPECT_EQ(st.txn_client_active, 33u);
    EXPECT_EQ(p->active_slots(), 65u);
    EXPECT_EQ(drops(DropReason::txn_exhausted), 1u);
}

TEST_F(Capacity, LargeInvitesFillOnlyTheirOwnClass) {
    const size_t cls = MsgPool::class_for(invite(1, 2000).size() + Proxy::retained_headroom);
    ASSERT_EQ(MsgPool::slot_bytes[cls], 4096u);
    const uint32_t n = p->retained_pool().class_count(cls);  // 16
    uint32_t admitted = 0;
    for (uint32_t i = 1; i <= n; i++) {
        in(caller, invite(int(i), 2000), 10 * i);
        admitted += to(primary) != nullptr;
    }
    EXPECT_EQ(admitted, n * 9 / 10 + 1);  // up to 90 % of the class
    EXPECT_EQ(st.overload_503, n - admitted);
    in(caller, invite(500), 1000);  // a small INVITE
    ASSERT_NE(to(primary), nullptr);
}

// The flood: 1,016 INVITEs of 1.6 KB in 4 s, answered. Before, each
// kept a large slot ~32 s (Timer M) and every later large INVITE got 503 for
// 20-25 s; now the slot goes back with the 200.
TEST_F(Capacity, TheSlotExhaustionFloodLeavesLargeInvitesServed) {
    start(16384);
    sink.keep = true;
    int answered = 0, refused = 0;
    for (int i = 0; i < 1016; i++) {
        const Millis t = Millis(i) * 4000 / 1016;
        in(caller, invite(i, 1450), t);
        const Sent* f = to(primary);
        if (!f) {
            refused++;
            continue;
        }
        ASSERT_GT(f->msg.size(), 1532u + 40);
        const std::string fwd = f->msg;
        in(primary, response_to(fwd, 200, "OK", i), t + 2);
        answered += to(caller) && status_of(to(caller)->msg) == 200;
    }
    EXPECT_EQ(refused, 0);
    EXPECT_EQ(answered, 1016);
    EXPECT_EQ(p->retained_pool().big_used(), 0u);
    EXPECT_EQ(p->active_slots(), 0u);
    // A normal large INVITE (1.8 KB) right after: served.
    in(caller, invite(5000, 1650), 4100);
    ASSERT_NE(to(primary), nullptr);
    EXPECT_EQ(st.overload_503, 0u);
}

}  // namespace
}  // namespace sipedge::dp
