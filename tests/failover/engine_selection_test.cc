// Selection (default and validated), NAPTR service records and the seed P
// "Selection Order" example, sticky routes on DNS reordering, failover
// triggers and non-triggers, recovery delay, explainability.

#include <gtest/gtest.h>

#include "tests/failover/sim.h"

namespace sipedge::failover::test {

using V = std::vector<int>;

TrunkKnobs validated() {
    TrunkKnobs k;
    k.mode = SelectMode::validated;
    return k;
}

TEST(Selection, DefaultModeEveryDialogStartsAtTheTop) {
    Sim s;
    TrunkKnobs k;
    k.register_enabled = false;
    const uint32_t t = s.add(servers(3), k, 0);
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
    // seed A default: a failure of the primary does not move new dialogs.
    s.event(t, 0, EventKind::timeout);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::failed);
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
    TrunkRoutes r = s.e.routes(t, s.now);
    EXPECT_TRUE(r.cand[0].flags & cand_failed);
    EXPECT_EQ(r.cand[0].budget_ms, 3000u);  // seed A rollover 3 s is the per-server budget
    // A success brings it back to up.
    s.event(t, 0, EventKind::success);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::up);
}

TEST(Selection, ValidatedRoutesOnlyToTheRegisteredServer) {
    Sim s;
    const uint32_t t = s.add(servers(3), validated());
    auto r = s.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].server, 0);
    // Before validation: onlySignalWithRegistered leaves no route.
    EXPECT_EQ(s.cands(t), V{});
    EXPECT_TRUE(s.e.routes(t, s.now).flags & routes_no_registration);
    s.reply(r[0], 200);
    EXPECT_EQ(s.cands(t), V{0});
    TrunkRoutes routes = s.e.routes(t, s.now);
    EXPECT_TRUE(routes.cand[0].flags & cand_validated);
    EXPECT_TRUE(routes.may_signal(0));
    EXPECT_FALSE(routes.may_signal(1));
    const std::string call_id = s.t(t).regs[0].call_id;

    // seed A steps 1–5: the dialog fails, the OSID is unregistered from the
    // failed server, REGISTER goes to the candidate, which becomes valid.
    s.event(t, 0, EventKind::timeout);
    r = s.registers();
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].server, 0);
    EXPECT_EQ(r[0].expires, 0u);  // unregister
    EXPECT_EQ(r[1].server, 1);
    EXPECT_EQ(r[1].expires, 3600u);
    EXPECT_EQ(s.cands(t), V{});  // failRegistrationOn: invalidated at once
    s.reply(r[1], 200);
    EXPECT_EQ(s.cands(t), V{1});
    EXPECT_EQ(s.t(t).regs[0].call_id, call_id);  // seed P: Call-ID kept across failover
    EXPECT_EQ(s.notices(NoticeKind::failed_over).size(), 1u);
}

TEST(Selection, ValidatedWithoutOnlySignalKeepsTheRestAsFallback) {
    Sim s;
    TrunkKnobs k = validated();
    k.only_signal_with_registered = false;
    const uint32_t t = s.add(servers(3), k);
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));  // no registration yet: default order
    s.event(t, 0, EventKind::icmp_unreachable);  // not the active server: health only
    s.reply_all(200);  // the REGISTER to #0 (an ICMP from an unrelated request is health only)
    // New requests go to the validated server first, the rest follow as fall-back.
    const int16_t a = s.t(t).active;
    ASSERT_GE(a, 0);
    EXPECT_EQ(s.cands(t)[0], a);
    EXPECT_TRUE(s.e.routes(t, s.now).may_signal(2));
}

// seed P "DNSNaptr Records for Mixed Transports": the ten routes, numbered
// by Selection Order 1,1,2,2,3,4,5,6,7,8 → indices 0..9.
ServerSet naptr_example() {
    ServerSet set;
    set.from_dns = true;
    auto rec = [&](sip::Transport tr, uint16_t order, std::vector<std::pair<std::string, uint16_t>> t) {
        ServiceRecord r;
        r.transport = tr;
        r.order = order;
        r.preference = 10;
        for (auto& [a, prio] : t) {
            Target x = udp(a, prio, 50);
            x.transport = tr;
            r.targets.push_back(x);
        }
        set.records.push_back(r);
    };
    rec(sip::Transport::tcp, 50, {{"200.1.1.5", 100}, {"200.2.2.9", 100}});
    rec(sip::Transport::tcp, 100, {{"192.168.0.50", 100}, {"192.168.0.100", 100}});
    rec(sip::Transport::tls, 150, {{"192.148.100.5", 140}, {"192.148.100.20", 240}, {"192.148.200.4", 340},
                                   {"192.148.200.30", 440}});
    rec(sip::Transport::udp, 200, {{"192.168.50.6", 140}, {"192.168.50.64", 240}});
    return set;
}

TEST(Selection, PolySelectionOrderExample) {
    Sim s;
    const uint32_t t = s.add(naptr_example(), validated());
    // SBCs 1 & 2 are not routable (ICMP), 3 & 4 are down (no answer).
    for (int idx : {0, 1, 2, 3}) {
        auto r = s.registers();
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].server, idx);
        s.e.on_register_transport_error(t, 0, s.now);
        s.pull();
    }
    for (int idx : {4, 5}) {
        auto r = s.registers();
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].server, idx);
        s.log.clear();
        s.run(3100);  // REGISTER rollover budget (seed A 3 s)
    }
    auto r = s.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].server, 6);  // Selection Order 5: the first that registers
    s.reply(r[0], 200);
    EXPECT_EQ(s.t(t).active, 6);
    // "considered to be in the failover state since the primary SBC is ...
    // Selection Order=3": the primary is index 4 and failback is scheduled.
    EXPECT_EQ(s.t(t).primary_record, 2);
    EXPECT_NE(s.t(t).failback_at, never_ms);

    // "SBC 5 fails, the phone will try SBC 3, 4, 6, then move to a new service
    // record for SBC 7 where if it registers, [it] will now treat SBC 7 as the new primary."
    s.event(t, 6, EventKind::timeout);
    std::vector<int> tried;
    for (int i = 0; i < 4; i++) {
        auto rr = s.registers();
        std::vector<Action> binds;
        for (auto& a : rr)
            if (a.expires) binds.push_back(a);
        ASSERT_EQ(binds.size(), 1u);
        tried.push_back(binds[0].server);
        if (binds[0].server == 8) {
            s.reply(binds[0], 200);
            break;
        }
        s.run(3100);
    }
    EXPECT_EQ(tried, (V{4, 5, 7, 8}));
    EXPECT_EQ(s.t(t).active, 8);
    EXPECT_EQ(s.t(t).primary_record, 3);
    EXPECT_EQ(s.t(t).failback_at, never_ms);  // on its primary now: no failback
    EXPECT_EQ(s.cands(t), V{8});
}

TEST(Selection, EnhancedTriesOneTransportFirst) {
    Sim s;
    TrunkKnobs k;
    k.register_enabled = false;
    k.enhanced = true;
    ServerSet set;
    for (auto [tr, a] : {std::pair{sip::Transport::tcp, "10.0.0.1"}, {sip::Transport::udp, "10.0.0.2"},
                         {sip::Transport::tcp, "10.0.0.3"}}) {
        ServiceRecord r;
        r.transport = tr;
        Target x = udp(a);
        x.transport = tr;
        r.targets.push_back(x);
        set.records.push_back(r);
    }
    const uint32_t t = s.add(set, k, 0);
    EXPECT_EQ(s.cands(t), (V{0, 2, 1}));
    k.enhanced = false;
    ASSERT_EQ(s.e.set_knobs(t, k, s.now), ConfigError::ok);
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
}

TEST(Selection, StickyRouteOnDnsReorderAndReRegisterWhenItLeaves) {
    Sim s;
    ServerSet set;
    set.from_dns = true;
    set.records.resize(1);
    set.records[0].targets = {udp("10.0.0.1", 10), udp("10.0.0.2", 20)};
    const uint32_t t = s.add(set, validated());
    s.reply_all(200);
    ASSERT_EQ(s.t(t).active, 0);
    // Reorder: 10.0.0.2 now first. Registered route still present: sticky.
    set.records[0].targets = {udp("10.0.0.2", 10), udp("10.0.0.1", 20)};
    ASSERT_EQ(s.e.update_servers(t, set, s.now), ConfigError::ok);
    s.pull();
    EXPECT_TRUE(s.registers().empty());
    EXPECT_EQ(s.t(t).active, 1);
    EXPECT_EQ(s.t(t).servers[1].target.address, "10.0.0.1");
    EXPECT_EQ(s.cands(t), V{1});
    EXPECT_EQ(s.t(t).last.what, Decision::dns_sticky);
    EXPECT_EQ(s.t(t).failback_at, never_ms);  // not a failover state
    // The registered address disappears: re-register at once with the new order.
    set.records[0].targets = {udp("10.0.0.3", 10), udp("10.0.0.2", 20)};
    ASSERT_EQ(s.e.update_servers(t, set, s.now), ConfigError::ok);
    s.pull();
    auto r = s.registers();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].server, 0);
    EXPECT_EQ(s.t(t).servers[0].target.address, "10.0.0.3");
    EXPECT_EQ(s.t(t).last.what, Decision::dns_removed);
}

TEST(Triggers, Rollover503PolicyAndRetryAfter) {
    {  // seed A timeout-only: a 503 is final, no failover; Retry-After holds new dialogs.
        Sim s;
        const uint32_t t = s.add(servers(2), validated());
        s.reply_all(200);
        s.event(t, 0, EventKind::rejected_503, 30);
        EXPECT_EQ(s.t(t).active, 0);
        EXPECT_EQ(s.e.health(t, 0, s.now), Health::up);
        EXPECT_TRUE(s.registers().empty());
        TrunkKnobs k;
        k.register_enabled = false;
        const uint32_t d = s.add(servers(2), k, 0);
        s.event(d, 0, EventKind::rejected_503, 30);
        EXPECT_EQ(s.cands(d), V{1});  // held for 30 s
        s.run(30000);
        EXPECT_EQ(s.cands(d), (V{0, 1}));
    }
    {  // service-unavailable-or-timeout / failoverOn503Response=1: failover at once;
       // Retry-After only applies when the request was on the last route.
        Sim s;
        TrunkKnobs k = validated();
        k.failover_on_503 = true;
        const uint32_t t = s.add(servers(3), k);
        s.reply_all(200);
        s.event(t, 0, EventKind::rejected_503, 30);
        EXPECT_EQ(s.t(t).active, -1);
        // RFC 3261 §21.5.4 (retry-after-max, default 300 s): held for its
        // Retry-After even though the 503 failed over (issue 12).
        EXPECT_EQ(s.t(t).servers[0].hold_until, s.now + 30000);
        EXPECT_EQ(s.t(t).reg_target, 1);
        s.event(t, 2, EventKind::rejected_503, 30, ev_last_route);
        EXPECT_EQ(s.t(t).servers[2].hold_until, s.now + 30000);
    }
    {  // retry-after-max 0: seed P's rule alone — Retry-After only on the last route.
        Sim s;
        TrunkKnobs k = validated();
        k.failover_on_503 = true;
        k.retry_after_max_s = 0;
        const uint32_t t = s.add(servers(3), k);
        s.reply_all(200);
        s.event(t, 0, EventKind::rejected_503, 30);
        EXPECT_EQ(s.t(t).servers[0].hold_until, 0u);
        s.event(t, 2, EventKind::rejected_503, 30, ev_last_route);
        EXPECT_EQ(s.t(t).servers[2].hold_until, s.now + 30000);
    }
    {  // retry-after-max bounds a long Retry-After.
        Sim s;
        TrunkKnobs k;
        k.register_enabled = false;
        k.failover_on_503 = true;
        k.retry_after_max_s = 60;
        const uint32_t t = s.add(servers(2), k, 0);
        s.event(t, 0, EventKind::rejected_503, 3600);
        EXPECT_EQ(s.t(t).servers[0].hold_until, s.now + 60000);
        EXPECT_EQ(s.cands(t), V{1});
    }
}

TEST(Triggers, IcmpTimeoutTriggerAndDenialsDoNot) {
    Sim s;
    const uint32_t t = s.add(servers(2), validated());
    s.reply_all(200);
    s.event(t, 0, EventKind::denied);  // 403
    s.event(t, 0, EventKind::connection_closed);  // FIN/RST: registration lost, no failover
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::up);
    EXPECT_EQ(s.t(t).reg_target, 0);
    EXPECT_TRUE(s.t(t).regs[0].lost);
    EXPECT_GT(s.t(t).regs[0].next_attempt_at, s.now + 29999);  // randomized back-off
    EXPECT_TRUE(s.registers().empty());

    Sim s2;
    const uint32_t u = s2.add(servers(2), validated());
    s2.reply_all(200);
    s2.event(u, 0, EventKind::icmp_unreachable);
    EXPECT_EQ(s2.t(u).reg_target, 1);
    EXPECT_EQ(s2.t(u).servers[0].last_trigger, Trigger::icmp_unreachable);

    Sim s3;
    TrunkKnobs k = validated();
    k.failover_on_icmp = false;
    const uint32_t w = s3.add(servers(2), k);
    s3.reply_all(200);
    s3.event(w, 0, EventKind::icmp_unreachable);
    EXPECT_EQ(s3.t(w).active, 0);
}

TEST(Recovery, DelayRandomInRangeAndCancelledWhenOthersUnreachable) {
    Sim s;
    TrunkKnobs k;
    k.register_enabled = false;
    k.recover_delay_enabled = true;
    k.recover_delay_min_s = 60;
    k.recover_delay_max_s = 120;
    const uint32_t t = s.add(servers(3), k, 0);
    s.event(t, 0, EventKind::timeout);
    const Millis until = s.t(t).servers[0].recover_at;
    EXPECT_GE(until, s.now + 60000);
    EXPECT_LE(until, s.now + 120000);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::recovering);
    EXPECT_EQ(s.cands(t), (V{1, 2}));
    s.event(t, 1, EventKind::timeout);
    EXPECT_EQ(s.cands(t), V{2});
    // seed A: cancelled once every other server is unreachable.
    s.event(t, 2, EventKind::timeout);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::failed);
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
    EXPECT_EQ(s.t(t).last.what, Decision::recovery_cancelled);

    // Expiry on its own: back in the list, with a notice.
    Sim s2;
    const uint32_t u = s2.add(servers(2), k, 0);
    s2.event(u, 0, EventKind::timeout);
    EXPECT_EQ(s2.cands(u), V{1});
    s2.run(120100);
    EXPECT_EQ(s2.cands(u), (V{0, 1}));
    EXPECT_FALSE(s2.notices(NoticeKind::server_recovered).empty());
    // Disabling the delay cancels it.
    s2.event(u, 0, EventKind::timeout);
    EXPECT_EQ(s2.cands(u), V{1});
    k.recover_delay_enabled = false;
    ASSERT_EQ(s2.e.set_knobs(u, k, s2.now), ConfigError::ok);
    EXPECT_EQ(s2.cands(u), (V{0, 1}));
}

TEST(Selection, AuthOptimizedInFailover) {
    Sim s;
    TrunkKnobs k;
    k.register_enabled = false;
    k.auth_optimized_in_failover = true;
    const uint32_t t = s.add(servers(3), k, 0);
    s.event(t, 1, EventKind::challenged);  // a request that failed over to #1 got 407 there
    EXPECT_EQ(s.cands(t), (V{1, 0, 2}));
    EXPECT_EQ(s.t(t).last.what, Decision::auth_optimized);
    s.event(t, 1, EventKind::success);  // the authenticated request went through
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
    k.auth_optimized_in_failover = false;
    s.e.set_knobs(t, k, s.now);
    s.event(t, 1, EventKind::challenged);
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
}

TEST(Explain, ListsCandidatesStatesAndLastDecision) {
    Sim s;
    const uint32_t t = s.add(servers(2), validated());
    s.reply_all(200);
    s.event(t, 0, EventKind::timeout);
    s.reply_all(200, 1);
    const std::string x = s.e.explain(t, s.now);
    EXPECT_NE(x.find("candidates: #1"), std::string::npos) << x;
    EXPECT_NE(x.find("#0 rec=0 udp 10.0.0.1:5060"), std::string::npos) << x;
    EXPECT_NE(x.find("failed last=timeout"), std::string::npos) << x;
    EXPECT_NE(x.find("registered on #1"), std::string::npos) << x;
    EXPECT_NE(x.find("last decision: validated"), std::string::npos) << x;
    EXPECT_NE(x.find("from #0"), std::string::npos) << x;
}

}  // namespace sipedge::failover::test
