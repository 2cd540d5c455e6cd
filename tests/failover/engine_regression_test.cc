// Regressions from other SIP stacks' trackers, reproduced against the engine
// (and, for the ACK, the data plane's client transaction fed from its table).

#include <gtest/gtest.h>

#include <algorithm>

#include "dataplane/transaction.h"
#include "tests/failover/sim.h"

namespace sipedge::failover::test {

using V = std::vector<int>;

// Kamailio #4911: one transaction's failure must not mark a server failed for
// other requests beyond the configured rule.
TEST(Regression, Kamailio4911OneTransactionDoesNotEvictAServer) {
    Sim s;
    TrunkKnobs k;
    k.register_enabled = false;
    const uint32_t t = s.add(servers(2), k, 0);
    s.event(t, 0, EventKind::timeout);
    EXPECT_EQ(s.cands(t), (V{0, 1}));  // rule: no recovery delay configured → still first
    // A stale event from a table generation before the list changed is ignored.
    ServerSet other = servers(3);
    ASSERT_EQ(s.e.update_servers(t, other, s.now), ConfigError::ok);
    auto tab = s.e.publish(nullptr, s.now);
    ServerEvent ev;
    ev.at_ms = s.now;
    ev.trunk_id = t;
    ev.server_idx = 2;
    ev.kind = EventKind::timeout;
    ev.list_epoch = tab->find(t)->list_epoch - 1;
    s.e.on_event(ev);
    EXPECT_EQ(s.e.health(t, 2, s.now), Health::up);
    // With the configured rule (recovery delay) the server is left out for the delay only.
    k.recover_delay_enabled = true;
    k.recover_delay_min_s = 30;
    s.e.set_knobs(t, k, s.now);
    s.event(t, 1, EventKind::timeout);
    EXPECT_EQ(s.cands(t), (V{0, 2}));
    s.run(30100);
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
}

// Asterisk #1927: registration succeeded on the third SRV target while the
// first two were dead, but calls kept going to the first targets.
TEST(Regression, Asterisk1927CallsGoWhereTheRegistrationWent) {
    Sim s;
    TrunkKnobs k;
    k.mode = SelectMode::validated;
    ServerSet set;
    set.from_dns = true;
    set.records.resize(1);
    set.records[0].targets = {udp("10.0.0.1", 10), udp("10.0.0.2", 20), udp("10.0.0.3", 30)};
    const uint32_t t = s.add(set, k);
    s.run(3100);
    s.run(3100);
    auto r = s.registers();
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r.back().server, 2);
    s.reply(r.back(), 200);
    auto tab = s.e.publish(nullptr, s.now);
    const Candidate* c = select_candidate(*tab, t, 0);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->server_idx, 2);
    EXPECT_EQ(select_candidate(*tab, t, 1), nullptr);
}

// FreeSWITCH #142: REGISTER must follow DNS changes.
TEST(Regression, FreeSwitch142RegisterFollowsDns) {
    Sim s;
    ServerSet set;
    set.from_dns = true;
    set.records.resize(1);
    set.records[0].targets = {udp("10.0.0.1"), udp("10.0.0.2")};
    const uint32_t t = s.add(set);  // default mode
    s.reply_all(200);
    set.records[0].targets = {udp("10.0.9.1"), udp("10.0.9.2")};
    ASSERT_EQ(s.e.update_servers(t, set, s.now), ConfigError::ok);
    s.pull();
    auto r = s.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(s.t(t).servers[r[0].server].target.address, "10.0.9.1");
    s.reply(r[0], 200);
    EXPECT_EQ(s.t(t).regs[0].bound, 0);
}

// FreeSWITCH #2144: a 503 is ACKed, and after the SRV targets are exhausted
// there is no silent fall-back to an A record on 5060.
TEST(Regression, FreeSwitch2144Ack503AndNoARecordFallback) {
    // The INVITE client transaction ACKs the 503 (RFC 3261 §17.1.1.3) and rolls over.
    AdtranTimers at;
    at.rollover_on_503 = true;
    dp::ClientTxn txn;
    dp::ClientTxn::Setup setup;
    setup.policy = make_policy(at, RequestKind::invite);
    setup.server_count = 2;
    dp::TxnOut out;
    txn.start(setup, 0, out);
    out.clear();
    txn.on_response(503, 10, out);
    bool acked = false, rolled = false;
    for (const dp::TxnAction& a : out) {
        acked |= a.kind == dp::TxnActKind::send_ack && a.server == 0;
        rolled |= a.kind == dp::TxnActKind::rollover;
    }
    EXPECT_TRUE(acked);
    EXPECT_TRUE(rolled);

    // Registration: both SRV targets answer 503; afterwards nothing else is tried.
    Sim s;
    TrunkKnobs k;
    k.failover_on_503 = true;
    ServerSet set;
    set.from_dns = true;
    set.records.resize(1);
    set.records[0].targets = {udp("10.0.0.1", 10), udp("10.0.0.2", 20)};
    set.records[0].targets[0].port = 5070;
    set.records[0].targets[1].port = 5080;
    const uint32_t t = s.add(set, k);
    s.reply(s.registers()[0], 503);
    s.reply(s.registers()[0], 503);
    EXPECT_TRUE(s.registers().empty());
    EXPECT_EQ(s.t(t).reg_target, -1);
    EXPECT_GT(s.t(t).backoff_until, s.now);
    for (size_t i = 0; i < s.t(t).servers.size(); i++) EXPECT_NE(s.t(t).servers[i].target.port, 5060);
    // Calls see only the SRV targets too.
    for (int c : s.cands(t)) EXPECT_LT(c, 2);
}

// Kamailio #3547: an SRV-only domain lost its registration when the SRV TTL
// expired. Re-resolution with the same answer, or a failed one, keeps it.
TEST(Regression, Kamailio3547SrvOnlyDomainKeepsRegistrationAcrossTtl) {
    Sim s;
    ServerSet set;
    set.from_dns = true;
    set.records.resize(1);
    set.records[0].ttl_s = 300;
    set.records[0].targets = {udp("10.0.0.1", 10, 0, 300), udp("10.0.0.2", 20, 0, 300)};
    TrunkKnobs k;
    k.mode = SelectMode::validated;
    const uint32_t t = s.add(set, k);
    s.reply_all(200);
    const std::string cid = s.t(t).regs[0].call_id;
    for (int i = 0; i < 12; i++) {  // one hour of TTL expiries
        s.run(300 * 1000);
        ASSERT_EQ(s.e.update_servers(t, set, s.now), ConfigError::ok);
        ServerSet empty;
        empty.from_dns = true;
        EXPECT_EQ(s.e.update_servers(t, empty, s.now), ConfigError::no_servers);
        s.pull();
        for (const Action& a : s.registers()) {
            EXPECT_EQ(a.server, 0);  // only the refresh, to the same server
            s.reply(a, 200);
        }
        EXPECT_EQ(s.t(t).regs[0].bound, 0);
        EXPECT_EQ(s.cands(t), V{0});
    }
    EXPECT_EQ(s.t(t).regs[0].call_id, cid);
}

TEST(Table, PublishSharesUnchangedTrunksAndBumpsGen) {
    Sim s;
    TrunkKnobs k;
    k.register_enabled = false;
    for (int i = 0; i < 3; i++) s.add(servers(2), k, 0);
    auto t1 = s.e.publish(nullptr, s.now);
    ASSERT_EQ(t1->trunk_count(), 3u);
    s.event(1, 0, EventKind::timeout);
    auto t2 = s.e.publish(t1.get(), s.now);
    EXPECT_EQ(t2->find(0), t1->find(0));  // shared
    EXPECT_EQ(t2->find(2), t1->find(2));
    EXPECT_NE(t2->find(1), t1->find(1));  // rebuilt
    EXPECT_EQ(t2->find(1)->list_epoch, t1->find(1)->list_epoch);  // same server list
    EXPECT_EQ(t2->version(), t1->version() + 1);
    EXPECT_EQ(t2->find(7), nullptr);
}

}  // namespace sipedge::failover::test
