// Failback modes, calls blocking failback, enhanced group failback,
// unRegisterOnFailBack, unregister from the secondary, failRegistrationOn=0.

#include <gtest/gtest.h>

#include "tests/failover/sim.h"

namespace sipedge::failover::test {

using V = std::vector<int>;

namespace {
TrunkKnobs vk(FailbackMode m, uint32_t timeout_s = 60) {
    TrunkKnobs k;
    k.mode = SelectMode::validated;
    k.failback_mode = m;
    k.failback_timeout_s = timeout_s;
    return k;
}
// Registered on #0, then #0 fails and the trunk validates #1 at s.now.
uint32_t failed_over(Sim& s, TrunkKnobs k, ServerSet set = servers(2)) {
    const uint32_t t = s.add(std::move(set), k);
    s.reply_all(200);
    s.event(t, 0, EventKind::timeout);
    s.registers(0);  // the unregister
    EXPECT_EQ(s.reply_all(200, 1), 1u);
    EXPECT_EQ(s.t(t).active, 1);
    return t;
}
}  // namespace

TEST(Failback, DurationThenUnregisterFromSecondary) {
    Sim s;
    const uint32_t t = failed_over(s, vk(FailbackMode::duration, 60));
    const std::string cid = s.t(t).regs[0].call_id;
    s.run(59000);
    EXPECT_TRUE(s.registers(0).empty());
    s.run(1100);
    auto r = s.registers(0);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(s.cands(t), V{1});  // still on the secondary while the primary is tried
    s.reply(r[0], 200);
    EXPECT_EQ(s.t(t).active, 0);
    EXPECT_EQ(s.cands(t), V{0});
    EXPECT_EQ(s.t(t).regs[0].call_id, cid);  // seed P: same Call-ID on failback
    // seed A: "Once it has reconnected to the primary server, it unregisters from the secondary."
    auto u = s.registers(1);
    ASSERT_EQ(u.size(), 1u);
    EXPECT_EQ(u[0].expires, 0u);
    EXPECT_EQ(s.notices(NoticeKind::failed_back).size(), 1u);
}

TEST(Failback, TimeoutZeroNeverFailsBackAnd1To59Is60) {
    Sim s;
    const uint32_t t = failed_over(s, vk(FailbackMode::duration, 0));
    for (int i = 0; i < 3; i++) {  // three refresh cycles of 3600 s − 300 s
        s.run(3300 * 1000);
        EXPECT_TRUE(s.registers(0).empty());
        EXPECT_EQ(s.reply_all(200, 1), 1u);  // refreshes stay on #1
    }
    Sim s2;
    const uint32_t u = failed_over(s2, vk(FailbackMode::duration, 20));
    EXPECT_EQ(s2.t(u).failback_at, s2.t(u).connected_at + 60000);
}

TEST(Failback, FailedAttemptFallsBackAndRestartsTheClock) {
    Sim s;
    const uint32_t t = failed_over(s, vk(FailbackMode::duration, 60));
    s.run(60100);
    ASSERT_EQ(s.registers(0).size(), 1u);
    s.run(3100);  // the primary does not answer
    EXPECT_EQ(s.t(t).active, 1);
    EXPECT_TRUE(s.registers(1).empty());  // still bound there: nothing to re-send
    EXPECT_EQ(s.t(t).failback_at, s.t(t).connected_at + 60000);
    EXPECT_GT(s.t(t).connected_at, 60000u);
}

TEST(Failback, NotWhileACallIsActiveRetriedEverySecond) {
    Sim s;
    const uint32_t t = failed_over(s, vk(FailbackMode::duration, 60));
    s.event(t, 1, EventKind::dialog_start);
    s.run(65000);
    EXPECT_TRUE(s.registers(0).empty());
    EXPECT_EQ(s.t(t).last.what, Decision::failback_deferred);
    s.event(t, 1, EventKind::dialog_end);
    s.run(1000);
    EXPECT_EQ(s.registers(0).size(), 1u);
}

TEST(Failback, NewRequestsDnsTtlAndRegistrationModes) {
    {  // newRequests: the primary is tried at once, then at most once per failure-retry.
        Sim s;
        const uint32_t t = failed_over(s, vk(FailbackMode::new_requests));
        s.tick();
        ASSERT_EQ(s.registers(0).size(), 1u);
        s.run(3100);  // no answer
        s.run(50000);
        EXPECT_TRUE(s.registers(0).empty());
        s.run(10000);
        EXPECT_EQ(s.registers(0).size(), 1u);
        (void)t;
    }
    {  // DNSTTL: after the TTL of the record registered to.
        Sim s;
        ServerSet set = servers(2);
        set.records[0].targets[1].ttl_s = 120;
        const uint32_t t = failed_over(s, vk(FailbackMode::dns_ttl), set);
        EXPECT_EQ(s.t(t).failback_at, s.t(t).connected_at + 120000);
        s.run(120100);
        EXPECT_EQ(s.registers(0).size(), 1u);
    }
    {  // registration: at the working server's refresh, REGISTER goes to the primary.
        Sim s;
        const uint32_t t = failed_over(s, vk(FailbackMode::registration));
        EXPECT_EQ(s.t(t).failback_at, never_ms);
        s.run(3299 * 1000);
        EXPECT_TRUE(s.registers().empty());
        s.run(1100);
        auto r = s.registers();
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].server, 0);
    }
}

TEST(Failback, UnRegisterOnFailBackSendsExpiresZeroFirst) {
    Sim s;
    TrunkKnobs k = vk(FailbackMode::duration, 60);
    k.unregister_on_failback = true;
    const uint32_t t = failed_over(s, k);
    s.run(60100);
    auto r = s.registers();
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].server, 1);
    EXPECT_EQ(r[0].expires, 0u);
    EXPECT_EQ(r[1].server, 0);
    EXPECT_EQ(r[1].expires, 3600u);
    (void)t;
}

TEST(Failback, FailRegistrationOffReturnsWithoutRegistering) {
    Sim s;
    TrunkKnobs k = vk(FailbackMode::duration, 60);
    k.fail_registration_on = false;
    k.unregister_on_failover = false;
    const uint32_t t = s.add(servers(2), k);
    s.reply_all(200);
    s.event(t, 0, EventKind::timeout);
    EXPECT_TRUE(s.registers(0).empty());  // no unregister: the binding is kept
    s.reply_all(200, 1);
    s.run(60100);
    EXPECT_TRUE(s.registers(0).empty());  // seed P: "without first attempting to register"
    EXPECT_EQ(s.t(t).active, 0);
    EXPECT_EQ(s.t(t).last.what, Decision::failed_back);
}

TEST(Failback, EnhancedGroupFailsBackTogetherNeverDuringACall) {
    Sim s;
    TrunkKnobs k = vk(FailbackMode::duration, 60);
    k.enhanced = true;
    k.group_id = 5;
    const uint32_t a = failed_over(s, k);
    const uint32_t b = failed_over(s, k);
    s.event(b, 1, EventKind::dialog_start);  // a call on the other trunk of the group
    s.run(70000);
    EXPECT_TRUE(s.registers(0).empty());
    s.event(b, 1, EventKind::dialog_end);
    s.run(1000);
    auto r = s.registers(0);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_NE(r[0].trunk, r[1].trunk);
    (void)a;
}

TEST(OnlySignalWithRegistered, SignalMaskFollowsTheKnob) {
    Sim s;
    TrunkKnobs k = vk(FailbackMode::duration, 60);
    const uint32_t t = failed_over(s, k);
    TrunkRoutes r = s.e.routes(t, s.now);
    EXPECT_FALSE(r.may_signal(0));  // in-dialog requests via #0 end the call
    EXPECT_TRUE(r.may_signal(1));
    k.only_signal_with_registered = false;
    s.e.set_knobs(t, k, s.now);
    r = s.e.routes(t, s.now);
    EXPECT_TRUE(r.may_signal(0));
    EXPECT_EQ(s.cands(t)[0], 1);
}

}  // namespace sipedge::failover::test
