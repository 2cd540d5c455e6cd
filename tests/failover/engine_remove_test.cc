// Engine::remove_trunk: one trunk leaves the engine and nothing else changes
// (before, a deleted trunk rebuilt the whole engine: every other trunk's
// health and registrations started over, a REGISTER storm at 10,000 trunks).

#include <gtest/gtest.h>

#include "tests/failover/sim.h"

namespace sipedge::failover::test {

TEST(RemoveTrunk, OthersKeepStateAndTheTableDropsIt) {
    Sim s;
    const uint32_t a = s.add(servers(2));
    const uint32_t b = s.add(servers(2));
    s.reply_all(200);
    ASSERT_EQ(s.t(a).regs[0].bound, 0);
    ASSERT_EQ(s.t(b).regs[0].bound, 0);
    s.event(b, 1, EventKind::timeout);
    ASSERT_TRUE(s.t(b).servers[1].failed);
    auto tab = s.e.publish(nullptr, s.now);
    ASSERT_NE(tab->find(a), nullptr);
    const uint32_t epoch = s.t(a).list_epoch;
    const uint64_t seq = s.e.servers_seq();

    ASSERT_EQ(s.e.remove_trunk(a, s.now), ConfigError::ok);
    EXPECT_EQ(s.e.trunk(a), nullptr);
    EXPECT_EQ(s.e.live_trunks(), 1u);
    EXPECT_EQ(s.e.trunk_count(), 2u);  // ids are not reused
    EXPECT_NE(s.e.servers_seq(), seq);
    EXPECT_TRUE(s.e.any_dirty());
    EXPECT_EQ(s.e.remove_trunk(a, s.now), ConfigError::unknown_trunk);
    EXPECT_EQ(s.e.remove_trunk(7, s.now), ConfigError::unknown_trunk);
    auto tab2 = s.e.publish(tab.get(), s.now);
    EXPECT_EQ(tab2->find(a), nullptr);
    ASSERT_NE(tab2->find(b), nullptr);
    EXPECT_EQ(tab2->find(b), tab->find(b));  // b's routes shared, not rebuilt
    EXPECT_FALSE(s.e.any_dirty());

    // Late inputs for the removed trunk match nothing and change nothing.
    ServerEvent ev;
    ev.trunk_id = a;
    ev.server_idx = 0;
    ev.list_epoch = epoch;
    ev.kind = EventKind::timeout;
    s.e.on_event(ev);
    s.e.on_register_transport_error(a, 0, s.now);
    s.e.on_probe_response(a, 0, 1, 503, 0, s.now);
    EXPECT_EQ(s.e.health(a, 0, s.now), Health::failed);  // "no such server"
    EXPECT_EQ(s.e.explain(a, s.now), "unknown trunk\n");
    EXPECT_EQ(s.e.set_admin(a, 0, true, s.now), ConfigError::unknown_trunk);
    EXPECT_EQ(s.e.update_servers(a, servers(1), s.now), ConfigError::unknown_trunk);

    // b is untouched: binding, health; a run past its refresh sends REGISTERs
    // for b only.
    EXPECT_EQ(s.t(b).regs[0].bound, 0);
    EXPECT_TRUE(s.t(b).servers[1].failed);
    s.log.clear();
    s.run(4000 * 1000);
    const auto regs = s.registers();
    ASSERT_FALSE(regs.empty());
    for (const Action& r : regs) EXPECT_EQ(r.trunk, b);

    // A new trunk gets a new id.
    const uint32_t c = s.add(servers(1));
    EXPECT_EQ(c, 2u);
    EXPECT_EQ(s.e.live_trunks(), 2u);
}

}  // namespace sipedge::failover::test
