// Issue 12: failover that holds under sustained faults — events matched to
// their server list however many tables were published, probes as real
// transactions (own Call-ID, Timer E, their own timeout), health as one state
// machine fed by live traffic and probes, Retry-After held per server.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "sim.h"

namespace sipedge::failover::test {
namespace {

using V = std::vector<int>;

TrunkKnobs monitored(uint32_t interval_s = 2) {
    TrunkKnobs k;
    k.register_enabled = false;
    k.probe_mode = ProbeMode::always;
    k.probe_interval_s = interval_s;
    return k;
}

// Round 1: 8-bit generations compared in a 128 window; every timeout
// republished the table, so one rollover wave exhausted it and later events
// of the trunk were dropped. 5,000 publications later a timeout still counts.
TEST(Sustained, EventsCountAfterThousandsOfPublications) {
    Sim s;
    TrunkKnobs k;
    k.register_enabled = false;
    k.recover_delay_enabled = true;
    k.recover_delay_min_s = 1;
    const uint32_t t = s.add(servers(3), k, 0);
    std::unique_ptr<const Table> tab = s.e.publish(nullptr, s.now);
    const uint32_t epoch = tab->find(t)->list_epoch;
    for (int i = 0; i < 5000; i++) {
        ServerEvent ev;
        ev.at_ms = s.now;
        ev.trunk_id = t;
        ev.server_idx = uint16_t(i % 2);
        ev.kind = i % 3 ? EventKind::success : EventKind::timeout;
        ev.list_epoch = epoch;
        s.e.on_event(ev);
        s.now += 5;
        s.e.tick(s.now);
        tab = s.e.publish(tab.get(), s.now);  // every change republishes
        ASSERT_EQ(tab->find(t)->list_epoch, epoch);
    }
    EXPECT_GT(s.e.trunk(t)->gen, 1000u);
    s.run(2000);  // every delay over
    ServerEvent ev;
    ev.at_ms = s.now;
    ev.trunk_id = t;
    ev.server_idx = 2;
    ev.kind = EventKind::timeout;
    ev.list_epoch = tab->find(t)->list_epoch;
    s.e.on_event(ev);
    EXPECT_EQ(s.e.health(t, 2, s.now), Health::recovering);
    EXPECT_EQ(s.e.stale_events(), 0u);
    // An event routed with the previous server list is ignored, and counted.
    ASSERT_EQ(s.e.update_servers(t, servers(4), s.now), ConfigError::ok);
    ev.server_idx = 3;
    s.e.on_event(ev);
    EXPECT_EQ(s.e.health(t, 3, s.now), Health::up);
    EXPECT_EQ(s.e.stale_events(), 1u);
}

// Every probe its own Call-ID, tag and branch id; Timer E retransmissions
// repeat the probe exactly; a lost answer is made good by a retransmission.
TEST(Sustained, ProbesAreTransactionsWithTimerE) {
    Sim s;
    TrunkKnobs k = monitored(1);
    const uint32_t t = s.add(servers(1), k, 0);
    std::set<std::string> call_ids;
    std::map<uint32_t, std::string> by_probe;
    int firsts = 0, retx = 0;
    for (int i = 0; i < 20; i++) {
        s.log.clear();
        s.run(1000);
        for (const Action& a : s.log) {
            if (a.kind != ActionKind::send_options) continue;
            char buf[1024];
            const size_t n = s.e.write_options(a, SendContext{"192.0.2.10:5060", "z9hG4bKx"}, buf, sizeof buf);
            ASSERT_GT(n, 0u);
            const std::string cid = Sim::header(std::string(buf, n), "Call-ID");
            if (a.retransmit) {
                retx++;
                EXPECT_EQ(by_probe[a.nonce], cid);  // the same request again
                // The second transmission is answered: the first answer was lost.
                s.e.on_probe_response(t, a.server, a.cseq, 200, 0, s.now);
            } else {
                firsts++;
                EXPECT_TRUE(call_ids.insert(cid).second) << "Call-ID reused: " << cid;
                by_probe[a.nonce] = cid;
            }
        }
        EXPECT_EQ(s.e.health(t, 0, s.now), Health::up);
    }
    EXPECT_GE(firsts, 8);
    EXPECT_GE(retx, 8);
    // Unanswered: T1 doubling to T2 until monitor-timeout, then one failure.
    s.log.clear();
    s.run(40000);
    std::map<uint32_t, std::vector<Millis>> sends;
    for (const Action& a : s.log)
        if (a.kind == ActionKind::send_options) sends[a.nonce].push_back(0);
    ASSERT_FALSE(sends.empty());
    // 0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, ... 31.5 s: 11 transmissions in 32 s.
    EXPECT_EQ(sends.begin()->second.size(), 11u);
    EXPECT_EQ(s.t(t).servers[0].probe_fails, 1u);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::up);  // down-threshold is 3
}

// Monitor on: a server failed by live traffic goes after every healthy one,
// a late live answer does not bring it back, up-threshold answered probes do
// — within interval × up-threshold, even when a probe was in flight (sent
// while it was up, with the 32 s monitor-timeout) when it failed.
TEST(Sustained, HealthStateMachineFedByTrafficAndProbes) {
    Sim s;
    TrunkKnobs k = monitored(2);
    const uint32_t t = s.add(servers(3), k, 0);
    s.run(2500);  // first probes out
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
    s.log.clear();
    s.event(t, 0, EventKind::timeout);
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::failed);
    EXPECT_EQ(s.cands(t), (V{1, 2, 0}));  // last resort only
    s.event(t, 0, EventKind::success);    // a late answer to an old request
    EXPECT_EQ(s.e.health(t, 0, s.now), Health::failed);
    // Silent for 30 s: it stays failed and listed last.
    for (int i = 0; i < 300; i++) s.run(100);
    EXPECT_EQ(s.cands(t), (V{1, 2, 0}));
    // It answers again: every probe (first sends and retransmissions) answered.
    const Millis back = s.now;
    Millis up_at = 0;
    for (int i = 0; i < 100 && !up_at; i++) {
        s.log.clear();
        s.run(100);
        for (const Action& a : s.log)
            if (a.kind == ActionKind::send_options && a.server == 0)
                s.e.on_probe_response(t, 0, a.cseq, 200, 0, s.now);
        if (s.e.health(t, 0, s.now) == Health::up) up_at = s.now;
    }
    ASSERT_NE(up_at, 0);
    EXPECT_LE(up_at - back, Millis(k.probe_interval_s * k.probe_up_threshold) * 1000 + 100);
    EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
    EXPECT_EQ(s.t(t).servers[0].last_trigger, Trigger::probe_up);
}

// The same with a recovery delay on top: up needs both the probes and the delay.
TEST(Sustained, RecoverDelayOnTopOfProbes) {
    Sim s;
    TrunkKnobs k = monitored(1);
    k.recover_delay_enabled = true;
    k.recover_delay_min_s = 10;
    const uint32_t t = s.add(servers(2), k, 0);
    s.event(t, 0, EventKind::timeout);
    EXPECT_EQ(s.cands(t), V{1});  // held out for the delay
    auto answer_all = [&](Millis dt) {
        for (Millis x = 0; x < dt; x += 100) {
            s.log.clear();
            s.run(100);
            for (const Action& a : s.log)
                if (a.kind == ActionKind::send_options) s.e.on_probe_response(t, a.server, a.cseq, 200, 0, s.now);
        }
    };
    answer_all(5000);
    EXPECT_EQ(s.cands(t), V{1});  // probes fine, delay still running
    answer_all(6000);
    EXPECT_EQ(s.cands(t), (V{0, 1}));
}

// A probe answered 503 with Retry-After: down at once, for min(Retry-After,
// retry-after-max); answers inside the hold do not count.
TEST(Sustained, Probe503RetryAfterHoldsDownBounded) {
    Sim s;
    TrunkKnobs k = monitored(1);
    k.retry_after_max_s = 20;
    const uint32_t t = s.add(servers(2), k, 0);
    uint16_t status = 503;
    Millis up_at = 0;
    const Millis start = s.now;
    for (int i = 0; i < 400 && !up_at; i++) {
        s.log.clear();
        s.run(100);
        for (const Action& a : s.log)
            if (a.kind == ActionKind::send_options && a.server == 0) {
                s.e.on_probe_response(t, 0, a.cseq, status, 3600, s.now);
                if (status == 503) {
                    EXPECT_EQ(s.e.health(t, 0, s.now), Health::failed);
                    EXPECT_EQ(s.cands(t), V{1});
                    status = 200;
                }
            }
        if (status == 200 && s.e.health(t, 0, s.now) == Health::up) up_at = s.now;
    }
    ASSERT_NE(up_at, 0);
    EXPECT_GE(up_at - start, 20000);  // bounded by retry-after-max, not 3600 s
    EXPECT_LE(up_at - start, 24000);
}

}  // namespace
}  // namespace sipedge::failover::test

namespace sipedge::failover::test {
namespace {

// A DNS-named trunk: its first REGISTER waits for the first answer instead
// of failing on the unresolved name and backing off (31-47 s in round 1).
TEST(Sustained, RegistrationWaitsForTheFirstDnsAnswer) {
    Sim s;
    TrunkKnobs k;
    ServerSet named = static_servers({udp("carrier.example")});
    named.from_dns = true;
    const uint32_t t = s.add(named, k);
    s.run(3000);
    EXPECT_TRUE(s.registers().empty());
    EXPECT_EQ(s.t(t).backoff_until, 0);
    EXPECT_EQ(s.t(t).last.what, Decision::awaiting_dns);
    ServerSet answer = static_servers({udp(ip(0)), udp(ip(1))});
    answer.from_dns = true;
    ASSERT_EQ(s.e.update_servers(t, answer, s.now), ConfigError::ok);
    s.tick();
    auto r = s.registers();
    ASSERT_EQ(r.size(), 1u);  // at once, to the top of the answer
    EXPECT_EQ(r[0].server, 0);
}

TEST(Sustained, NoDnsAnswerBacksOffAfterTheWait) {
    Sim s;
    ServerSet named = static_servers({udp("carrier.example")});
    named.from_dns = true;
    const uint32_t t = s.add(named, TrunkKnobs{});
    s.run(29000);
    EXPECT_EQ(s.t(t).backoff_until, 0);
    s.run(2000);
    EXPECT_GT(s.t(t).backoff_until, s.now);  // the ordinary RFC 5626 back-off
    EXPECT_EQ(s.t(t).last.what, Decision::failover_exhausted);
}

}  // namespace
}  // namespace sipedge::failover::test

namespace sipedge::failover::test {
namespace {

using V = std::vector<int>;

// The sticky route must not depend on whether the reordering DNS answer
// came before or after the REGISTER's 200: both orders end registered on
// 10.0.0.1 with calls routed there (round 1: two identical runs differed).
TEST(Sustained, StickyRouteDoesNotDependOnArrivalOrder) {
    for (const bool answer_first : {true, false}) {
        SCOPED_TRACE(answer_first ? "200 then reorder" : "reorder while REGISTER in flight");
        Sim s;
        ServerSet set;
        set.from_dns = true;
        set.records.resize(1);
        set.records[0].targets = {udp("10.0.0.1", 10), udp("10.0.0.2", 20)};
        TrunkKnobs k;  // top-first, registering
        const uint32_t t = s.add(set, k);
        auto regs = s.registers();
        ASSERT_EQ(regs.size(), 1u);
        ASSERT_EQ(regs[0].server, 0);
        const std::string sent = s.text(regs[0]);
        ServerSet re = set;
        re.records[0].targets = {udp("10.0.0.2", 10), udp("10.0.0.1", 20)};
        if (answer_first) {
            s.reply(regs[0], 200);
            ASSERT_EQ(s.e.update_servers(t, re, s.now), ConfigError::ok);
        } else {
            ASSERT_EQ(s.e.update_servers(t, re, s.now), ConfigError::ok);
            EXPECT_NE(s.e.explain(t, s.now).find("sticky route pending: #1"), std::string::npos);
            s.reply_to(regs[0], sent, 200);
        }
        s.pull();
        EXPECT_TRUE(s.registers().empty());
        EXPECT_EQ(s.t(t).anchor, 1);
        EXPECT_EQ(s.t(t).servers[1].target.address, "10.0.0.1");
        EXPECT_EQ(s.cands(t), (V{1, 0}));
        if (answer_first) EXPECT_EQ(s.t(t).last.what, Decision::dns_sticky);
        EXPECT_NE(s.e.explain(t, s.now).find("sticky route: #1"), std::string::npos);
    }
}

// A REGISTER in flight that fails: the pending sticky route is dropped and
// the new order rules.
TEST(Sustained, PendingStickyDroppedWhenThatRegistrationFails) {
    Sim s;
    ServerSet set;
    set.from_dns = true;
    set.records.resize(1);
    set.records[0].targets = {udp("10.0.0.1", 10), udp("10.0.0.2", 20)};
    const uint32_t t = s.add(set, TrunkKnobs{});
    auto regs = s.registers();
    ASSERT_EQ(regs.size(), 1u);
    const std::string sent = s.text(regs[0]);
    set.records[0].targets = {udp("10.0.0.2", 10), udp("10.0.0.1", 20)};
    ASSERT_EQ(s.e.update_servers(t, set, s.now), ConfigError::ok);
    EXPECT_EQ(s.t(t).sticky_pending, 1);
    s.reply_to(regs[0], sent, 403);
    s.pull();
    EXPECT_EQ(s.t(t).anchor, -1);
    EXPECT_EQ(s.t(t).sticky_pending, -1);
}

// Seed P/E failBack.mode acting in top-first mode: with duration 60, new
// requests stay on the server they failed over to for 60 s after the
// failover even though the primary answers probes again; auto (the default)
// is newRequests in top-first mode: back as soon as the probes say so.
TEST(Sustained, TopFirstFailbackModes) {
    auto run = [](FailbackMode m, uint32_t timeout_s) {
        Sim s;
        TrunkKnobs k;
        k.register_enabled = false;
        k.probe_mode = ProbeMode::always;
        k.probe_interval_s = 2;
        k.failback_mode = m;
        k.failback_timeout_s = timeout_s;
        const uint32_t t = s.add(servers(3), k, 0);
        EXPECT_EQ(s.cands(t), (V{0, 1, 2}));
        s.event(t, 0, EventKind::timeout);
        EXPECT_EQ(s.cands(t)[0], 1);
        // The primary answers every probe from now on.
        std::vector<int> first;  // first candidate each second
        for (int sec = 0; sec < 70; sec++) {
            for (int ms = 0; ms < 1000; ms += 100) {
                s.run(100);
                for (const Action& a : s.log)
                    if (a.kind == ActionKind::send_options) s.e.on_probe_response(t, a.server, a.cseq, 200, 0, s.now);
                s.log.clear();
            }
            first.push_back(s.cands(t)[0]);
        }
        return std::make_pair(first, s.e.explain(t, s.now));
    };
    {
        auto [first, ex] = run(FailbackMode::automatic, 3600);
        EXPECT_EQ(first[10], 0) << "auto = newRequests in top-first: back once probes answer";
    }
    {
        auto [first, ex] = run(FailbackMode::duration, 60);
        EXPECT_EQ(first[10], 1) << "duration 60: still held on the secondary";
        EXPECT_EQ(first[55], 1);
        EXPECT_EQ(first[62], 0) << "hold over: the primary again";
    }
    {
        auto [first, ex] = run(FailbackMode::duration, 0);
        EXPECT_EQ(first[69], 1) << "duration 0: until the secondary fails";
        EXPECT_NE(ex.find("failback hold: new requests stay on #1 until it fails"), std::string::npos) << ex;
    }
}

}  // namespace
}  // namespace sipedge::failover::test

namespace sipedge::failover::test {
namespace {

// request-uri-host reaches the workers through the routes: the policy, and
// for `domain` the trunk's domain (its first server's host when unset).
TEST(Sustained, RequestUriHostPolicyPublished) {
    Sim s;
    TrunkKnobs k;
    k.register_enabled = false;
    const uint32_t keep = s.add(servers(2), k, 0);
    EXPECT_EQ(s.e.routes(keep, s.now).ruri_host, RuriHost::keep);
    EXPECT_EQ(s.e.routes(keep, s.now).ruri_domain_len, 0u);
    k.ruri_host = RuriHost::domain;
    const uint32_t dom = s.add(servers(2), k, 0);
    const TrunkRoutes r = s.e.routes(dom, s.now);
    EXPECT_EQ(r.ruri_host, RuriHost::domain);
    EXPECT_EQ(std::string(r.ruri_domain, r.ruri_domain_len), s.t(dom).domain);
    EXPECT_FALSE(s.t(dom).domain.empty());
    k.ruri_host = RuriHost::server;
    ASSERT_EQ(s.e.set_knobs(dom, k, s.now), ConfigError::ok);
    EXPECT_EQ(s.e.routes(dom, s.now).ruri_host, RuriHost::server);
}

}  // namespace
}  // namespace sipedge::failover::test
