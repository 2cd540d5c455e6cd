// The proxy's decisions read as a table (issue 13): a Proxy calls nothing
// back; each call leaves actions in its outbox (dataplane/proxy_outbox.h),
// and a bounded outbox makes the loops that send by the hundred (timers due
// together, a revive scan) stop and go on in advance() without losing or
// repeating a message.

#include <map>
#include <set>

#include "tests/dataplane/proxy_fixture.h"

namespace sipedge::dp {
namespace {

using Kind = ProxyAction::Kind;

class ProxyActions : public ::testing::Test {
protected:
    void init(uint32_t outbox_actions = 1024) {
        ProxyConfig c;
        c.self = edge;
        c.max_txns = 1024;
        c.outbox_actions = outbox_actions;
        ASSERT_TRUE(p.init(c, 0, 1234, 0, st));
        table = make_table({primary, secondary}, {0, 1}, 1, true, 8);  // rollover 8 s
        fill_routes(routes, table.get(), caller, primary, secondary, cars);
        p.set_routes(&routes);
    }
    // The outbox as (kind, peer, message) rows, then cleared.
    struct Row {
        Kind kind;
        Endpoint peer;
        std::string msg;
        ProxyAction a;
    };
    std::vector<Row> take() {
        std::vector<Row> rows;
        for (const ProxyAction& a : p.outbox())
            rows.push_back({a.kind, a.peer, std::string(p.outbox().bytes(a), a.len), a});
        p.outbox().clear();
        return rows;
    }
    // advance() until it is done; every send, and how many calls it took.
    std::vector<Row> advance_all(Millis now, uint32_t& calls) {
        std::vector<Row> all;
        calls = 0;
        for (bool more = true; more;) {
            more = p.advance(now);
            calls++;
            EXPECT_LE(p.outbox().size(), p.outbox().capacity());
            for (Row& r : take()) all.push_back(std::move(r));
        }
        return all;
    }
    // OPTIONS number <i>: its own branch and Call-ID.
    static std::string options(int i) {
        std::string m = invite(("z9hG4bK-o" + std::to_string(i)).c_str(), 70, "OPTIONS");
        m.replace(m.find("Call-ID: c1@"), 12, "Call-ID: o" + std::to_string(i) + "@");
        return m;
    }
    static std::string branch_of(const std::string& m) {
        const size_t b = m.find("branch=");
        return b == std::string::npos ? std::string() : m.substr(b + 7, m.find_first_of(";\r", b) - b - 7);
    }

    WorkerStats st;
    std::unique_ptr<const failover::Table> table;
    Routes routes;
    uint32_t cars[2] = {};
    Proxy p;
};

TEST_F(ProxyActions, AnInviteIsATryingUpAndTheRequestToThePrimary) {
    init();
    const std::string inv = invite();
    p.on_datagram(caller, inv.data(), inv.size(), 0);
    const auto rows = take();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].kind, Kind::send);
    EXPECT_EQ(rows[0].peer, caller);
    EXPECT_EQ(status_of(rows[0].msg), 100);
    EXPECT_FALSE(rows[0].a.noted);
    EXPECT_EQ(rows[1].kind, Kind::send);
    EXPECT_EQ(rows[1].peer, primary);
    EXPECT_TRUE(starts(rows[1].msg, "INVITE sip:1000@"));
    ASSERT_TRUE(rows[1].a.noted);  // a trunk server: a connection opened for it is its
    EXPECT_EQ(rows[1].a.note.server_idx, 0u);
    EXPECT_TRUE(p.outbox().empty());
}

// A 503 from the primary (seed A: rollover on 503): the engine hears of it
// first, then the primary gets its ACK and the secondary the INVITE.
TEST_F(ProxyActions, A503IsAReportAnAckAndTheRequestToTheSecondary) {
    init();
    const std::string inv = invite();
    p.on_datagram(caller, inv.data(), inv.size(), 0);
    const std::string fwd = take().at(1).msg;
    const std::string r503 = response_to(fwd, 503, "Service Unavailable");
    p.on_datagram(primary, r503.data(), r503.size(), 20);
    const auto rows = take();
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].kind, Kind::report);
    EXPECT_EQ(rows[0].a.ev.kind, failover::EventKind::rejected_503);
    EXPECT_EQ(rows[0].a.ev.server_idx, 0u);
    EXPECT_EQ(rows[0].a.ev.status, 503u);
    EXPECT_EQ(rows[1].kind, Kind::send);
    EXPECT_EQ(rows[1].peer, primary);
    EXPECT_TRUE(starts(rows[1].msg, "ACK ")) << rows[1].msg;
    EXPECT_EQ(rows[2].kind, Kind::send);
    EXPECT_EQ(rows[2].peer, secondary);
    EXPECT_TRUE(starts(rows[2].msg, "INVITE ")) << rows[2].msg;
    ASSERT_TRUE(rows[2].a.noted);
    EXPECT_EQ(rows[2].a.note.server_idx, 1u);
}

// 200 requests whose retransmission timers fall in one millisecond, and an
// outbox of 32 actions (a step needs 16 free): advance() stops, says so,
// and goes on; each request goes out once, nothing is dropped.
TEST_F(ProxyActions, TimersDueTogetherGoOutOverSeveralOutboxes) {
    init(32);
    std::set<std::string> sent;
    for (int i = 0; i < 200; i++) {
        const std::string m = options(i);
        p.on_datagram(caller, m.data(), m.size(), 0);
        const auto rows = take();
        ASSERT_EQ(rows.size(), 1u);
        sent.insert(branch_of(rows[0].msg));
    }
    ASSERT_EQ(sent.size(), 200u);
    uint32_t calls = 0;
    const auto rows = advance_all(500, calls);  // Timer E: every one at 500 ms
    EXPECT_GE(calls, 200u / 16);
    std::map<std::string, int> again;
    for (const Row& r : rows) {
        ASSERT_EQ(r.kind, Kind::send);
        EXPECT_EQ(r.peer, primary);
        again[branch_of(r.msg)]++;
    }
    EXPECT_EQ(again.size(), 200u);
    for (const auto& [b, n] : again) EXPECT_EQ(n, 1) << b;
    EXPECT_EQ(st.sip_retransmissions_tx, 200u);
    EXPECT_EQ(st.drops[size_t(DropReason::outbox_full)], 0u);
}

// The same outbox, and a revive scan of 200 requests to a server that went
// silent and answers again: what the outbox cannot take when the answer
// comes is resent by the next advance() calls, each request once.
TEST_F(ProxyActions, ARevivalOfManyRequestsGoesOnInAdvance) {
    init(32);
    for (int i = 0; i < 200; i++) {
        const std::string m = options(i);
        p.on_datagram(caller, m.data(), m.size(), 0);
        p.outbox().clear();
    }
    uint32_t calls = 0;
    EXPECT_EQ(advance_all(500, calls).size(), 200u);
    EXPECT_EQ(advance_all(1500, calls).size(), 200u);  // unanswered twice: the primary is silent
    std::string inv = invite("z9hG4bK-i2");
    inv.replace(inv.find("Call-ID: c1@"), 12, "Call-ID: c2@");
    p.on_datagram(caller, inv.data(), inv.size(), 1600);
    const std::string fwd = take().at(1).msg;
    const std::string trying = response_to(fwd, 100, "Trying");
    p.on_datagram(primary, trying.data(), trying.size(), 1700);
    std::map<std::string, int> revived;
    const auto first = take();
    EXPECT_LE(first.size(), 32u);
    for (const Row& r : first) revived[branch_of(r.msg)]++;
    EXPECT_LT(revived.size(), 200u) << "the outbox took them all: the test proves nothing";
    for (const Row& r : advance_all(1700, calls)) revived[branch_of(r.msg)]++;
    EXPECT_GE(calls, 2u);
    EXPECT_EQ(revived.size(), 200u);
    for (const auto& [b, n] : revived) EXPECT_EQ(n, 1) << b;
    EXPECT_EQ(st.txn_revived, 200u);
    EXPECT_EQ(st.drops[size_t(DropReason::outbox_full)], 0u);
    // Done: the next call has nothing more to do.
    EXPECT_FALSE(p.advance(1701));
    EXPECT_TRUE(p.outbox().empty());
}

}  // namespace
}  // namespace sipedge::dp
