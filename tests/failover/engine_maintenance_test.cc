// Issue 7: a server put in maintenance (Engine::set_admin) gets no new
// requests and no new registrations, in-dialog signalling to it keeps
// working while it drains, a validated trunk registered there moves like a
// failover, and no failure state, counter or notice is touched.

#include <gtest/gtest.h>

#include "tests/failover/sim.h"

namespace sipedge::failover::test {

using V = std::vector<int>;

namespace {
TrunkKnobs validated(uint32_t failback_s = 60) {
    TrunkKnobs k;
    k.mode = SelectMode::validated;
    k.failback_mode = FailbackMode::duration;
    k.failback_timeout_s = failback_s;
    return k;
}
}  // namespace

TEST(Maintenance, BadArgumentsChangeNothing) {
    Sim s;
    const uint32_t t = s.add(servers(2));
    EXPECT_EQ(s.e.set_admin(t + 1, 0, true, s.now), ConfigError::unknown_trunk);
    EXPECT_EQ(s.e.set_admin(t, 2, true, s.now), ConfigError::bad_server);
    EXPECT_FALSE(s.t(t).servers[0].maintenance);
    EXPECT_FALSE(s.t(t).servers[1].maintenance);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::up);
}

TEST(Maintenance, TopFirstNewRequestsAvoidItNoFailureCounted) {
    Sim s;
    TrunkKnobs k;
    k.recover_delay_enabled = true;
    const uint32_t t = s.add(servers(3), k);
    s.reply_all(200);
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
    s.log.clear();
    ASSERT_EQ(s.e.set_admin(t, 1, true, s.now), ConfigError::ok);
    s.pull();
    EXPECT_EQ(s.cands(t), (V{0, 2}));
    EXPECT_EQ(s.e.health(t, 1, s.now), Health::maintenance);
    EXPECT_STREQ(health_name(Health::maintenance), "maintenance");
    const ServerState& sv = s.t(t).servers[1];
    EXPECT_FALSE(sv.failed);
    EXPECT_EQ(sv.recover_at, 0);
    EXPECT_EQ(s.t(t).backoff_count, 0u);
    EXPECT_TRUE(s.notices(NoticeKind::server_failed).empty());
    EXPECT_TRUE(s.notices(NoticeKind::failed_over).empty());
    EXPECT_TRUE(s.registers().empty());  // registered on #0: nothing moves
    EXPECT_EQ(s.t(t).last.what, Decision::maintenance);
    // top_first in-dialog: every server stays signallable.
    EXPECT_TRUE(s.e.routes(t, s.now).may_signal(1));
    // Idempotent, and publish() rebuilds the trunk with it left out.
    EXPECT_EQ(s.e.set_admin(t, 1, true, s.now), ConfigError::ok);
    auto tab = s.e.publish(nullptr, s.now);
    const TrunkRoutes* r = tab->find(t);
    ASSERT_NE(r, nullptr);
    ASSERT_EQ(r->count, 2);
    EXPECT_EQ(r->cand[0].server_idx, 0);
    EXPECT_EQ(r->cand[1].server_idx, 2);
    // Back in service at once: no recovery delay (it did not fail).
    ASSERT_EQ(s.e.set_admin(t, 1, false, s.now), ConfigError::ok);
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
    EXPECT_EQ(s.e.health(t, 1, s.now), Health::up);
    EXPECT_EQ(s.t(t).last.what, Decision::in_service);
    EXPECT_NE(s.e.explain(t, s.now).find("in-service"), std::string::npos);
}

TEST(Maintenance, TopFirstRegisteredServerMovesRegistration) {
    Sim s;
    const uint32_t t = s.add(servers(2));
    s.reply_all(200, 0);
    ASSERT_EQ(s.t(t).regs[0].bound, 0);
    ASSERT_EQ(s.e.set_admin(t, 0, true, s.now), ConfigError::ok);
    s.pull();
    for (const Action& a : s.registers(0)) EXPECT_EQ(a.expires, 0u);  // only the old binding's removal
    EXPECT_EQ(s.reply_all(200, 1), 1u);
    EXPECT_EQ(s.t(t).regs[0].bound, 1);
    EXPECT_EQ(s.cands(t), V{1});
    // Refreshes stay on #1: no re-registration to the primary in maintenance.
    for (int i = 0; i < 40; i++) {
        s.run(100 * 1000);
        for (const Action& a : s.registers(0)) EXPECT_EQ(a.expires, 0u) << i;  // unregister only
        s.reply_all(200, 1);
    }
    EXPECT_EQ(s.t(t).regs[0].bound, 1);
    EXPECT_GT(s.t(t).regs[0].cseq, 2u);  // refreshed at least once meanwhile
}

TEST(Maintenance, ValidatedMovesLikeFailoverAndMaskKeepsDrainingServer) {
    Sim s;
    const uint32_t t = s.add(servers(3), validated());
    s.reply_all(200);
    ASSERT_EQ(s.t(t).active, 0);
    EXPECT_EQ(s.cands(t), V{0});
    s.log.clear();
    ASSERT_EQ(s.e.set_admin(t, 0, true, s.now), ConfigError::ok);
    s.pull();
    // Default unregister_on_failover: the binding on #0 is removed, the walk goes to #1.
    auto u = s.registers(0);
    ASSERT_EQ(u.size(), 1u);
    EXPECT_EQ(u[0].expires, 0u);
    EXPECT_EQ(s.t(t).reg_target, 1);
    // While the new registration runs, new requests have no route
    // (onlySignalWithRegistered), yet dialogs on #0 still signal there.
    TrunkRoutes r = s.e.routes(t, s.now);
    EXPECT_EQ(r.count, 0);
    EXPECT_TRUE(r.may_signal(0));
    EXPECT_EQ(s.reply_all(200, 1), 1u);
    EXPECT_EQ(s.t(t).active, 1);
    r = s.e.routes(t, s.now);
    ASSERT_EQ(r.count, 1);
    EXPECT_EQ(r.cand[0].server_idx, 1);
    EXPECT_TRUE(r.may_signal(0));   // draining
    EXPECT_TRUE(r.may_signal(1));
    EXPECT_FALSE(r.may_signal(2));
    EXPECT_NE(s.e.explain(t, s.now).find("maintenance draining"), std::string::npos);
    // Not a failure.
    EXPECT_FALSE(s.t(t).servers[0].failed);
    EXPECT_EQ(s.t(t).backoff_count, 0u);
    EXPECT_TRUE(s.notices(NoticeKind::server_failed).empty());
    EXPECT_TRUE(s.notices(NoticeKind::registration_lost).empty());
    // No failback onto a server in maintenance, however long it lasts.
    s.run(120 * 1000);
    EXPECT_TRUE(s.registers(0).empty());
    EXPECT_EQ(s.t(t).failback_at, never_ms);
    // Back in service: failback per the failback rules (timeout from connected_at, already past).
    ASSERT_EQ(s.e.set_admin(t, 0, false, s.now), ConfigError::ok);
    s.pull();
    EXPECT_FALSE(s.e.routes(t, s.now).may_signal(0));  // only the registered server again
    EXPECT_NE(s.t(t).failback_at, never_ms);
    s.run(1000);
    auto fb = s.registers(0);
    ASSERT_EQ(fb.size(), 1u);
    EXPECT_NE(fb[0].expires, 0u);
    s.reply(fb[0], 200);
    EXPECT_EQ(s.t(t).active, 0);
    EXPECT_EQ(s.cands(t), V{0});
}

TEST(Maintenance, ValidatedNonWorkingServerIsSkippedByWalk) {
    Sim s;
    const uint32_t t = s.add(servers(3), validated());
    s.reply_all(200);
    ASSERT_EQ(s.e.set_admin(t, 1, true, s.now), ConfigError::ok);
    s.pull();
    EXPECT_TRUE(s.registers(1).empty());
    EXPECT_EQ(s.cands(t), V{0});
    EXPECT_FALSE(s.e.routes(t, s.now).may_signal(1));  // never carried a dialog: not draining
    // #0 really fails: the walk skips #1 (maintenance) and lands on #2.
    s.event(t, 0, EventKind::timeout);
    s.registers(0);
    EXPECT_EQ(s.t(t).reg_target, 2);
    EXPECT_TRUE(s.registers(1).empty());
    EXPECT_EQ(s.reply_all(200, 2), 1u);
    EXPECT_EQ(s.t(t).active, 2);
    EXPECT_EQ(s.notices(NoticeKind::server_failed).size(), 1u);  // #0's, not #1's
    EXPECT_EQ(s.notices(NoticeKind::server_failed)[0].server_idx, 0);
}

TEST(Maintenance, LastServerKeepsRegistrationNoBackoff) {
    Sim s;
    const uint32_t t = s.add(servers(1), validated());
    s.reply_all(200);
    ASSERT_EQ(s.e.set_admin(t, 0, true, s.now), ConfigError::ok);
    s.pull();
    EXPECT_EQ(s.t(t).backoff_until, 0);
    EXPECT_EQ(s.t(t).regs[0].bound, 0);
    EXPECT_TRUE(s.cands(t).empty());
    EXPECT_TRUE(s.e.routes(t, s.now).may_signal(0));
    ASSERT_EQ(s.e.set_admin(t, 0, false, s.now), ConfigError::ok);
    EXPECT_EQ(s.cands(t), V{0});
}

TEST(Maintenance, SurvivesDnsUpdate) {
    Sim s;
    const uint32_t t = s.add(servers(2));
    s.reply_all(200);
    ASSERT_EQ(s.e.set_admin(t, 1, true, s.now), ConfigError::ok);
    // Same endpoints reordered: the state follows the endpoint.
    ServerSet set = static_servers({udp(ip(1)), udp(ip(0))});
    ASSERT_EQ(s.e.update_servers(t, set, s.now), ConfigError::ok);
    EXPECT_TRUE(s.t(t).servers[0].maintenance);
    EXPECT_EQ(s.cands(t), V{1});
}

TEST(Maintenance, NotProbedWhileInMaintenanceAndProbedAtOnceAfter) {
    // sip-server monitor always on, three unanswered probes = down: a planned
    // outage behind maintenance must raise no failure and no trap.
    Sim s;
    TrunkKnobs k;
    k.register_enabled = false;
    k.probe_mode = ProbeMode::always;
    k.probe_interval_s = 30;
    k.probe_down_threshold = 3;
    const uint32_t t = s.add(servers(2), k, 0);
    auto probes_to = [&](uint16_t server) {
        int n = 0;
        for (const Action& a : s.log)
            n += a.kind == ActionKind::send_options && !a.retransmit && a.server == server;
        return n;
    };
    s.run(30000);  // first probes, spread over one interval
    ASSERT_EQ(probes_to(1), 1);
    // A probe in flight when maintenance begins: its timeout says nothing.
    ASSERT_EQ(s.e.set_admin(t, 1, true, s.now), ConfigError::ok);
    s.log.clear();
    s.run(5 * 30000);  // the server is down for its maintenance: nobody answers
    EXPECT_EQ(probes_to(1), 0);
    EXPECT_GE(probes_to(0), 4);  // the other server is still probed
    const ServerState& sv = s.t(t).servers[1];
    EXPECT_FALSE(sv.failed);
    EXPECT_EQ(sv.probe_fails, 0);
    for (const Notification& n : s.notices(NoticeKind::server_failed))
        EXPECT_NE(n.server_idx, 1) << "a trap for a server in maintenance";
    EXPECT_FALSE(s.notices(NoticeKind::server_failed).empty()) << "server 0, unanswered, does fail";
    EXPECT_EQ(s.e.health(t, 1, s.now), Health::maintenance);
    // Back in service: probed on the next tick, not an interval later.
    ASSERT_EQ(s.e.set_admin(t, 1, false, s.now), ConfigError::ok);
    s.log.clear();
    s.run(100);
    EXPECT_EQ(probes_to(1), 1);
}

}  // namespace sipedge::failover::test
