// control/dp_link.*: control's side of the worker links on a real EAL
// (--no-huge, no port): the routing snapshot published through the atomic
// pointer and reclaimed only after the worker's quiescent report
// (rte_rcu_qsbr), worker events into the engine, the engine's REGISTER on the
// control → worker ring with a control-core branch, and the response steered
// back into Engine::on_register_response. This test plays the worker's part
// with the same ring and RCU calls dp::Worker makes. Exits 77 when the EAL
// cannot start.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "control/cmd_route.h"
#include "control/commands.h"
#include "control/config.h"
#include "control/dp_link.h"
#include "dataplane/branch.h"
#include "dataplane/route_table.h"
#include "failover/table.h"
#include "sipparse/message.h"
#include "tests/control/ctl_util.h"
#include "tests/eal_scope.h"

namespace sipedge::ctl {
namespace {

const char* base_config =
    "set dataplane address 192.0.2.10/24\n"
    "set dataplane access 192.0.2.1:5060\n"
    "add trunk carrier\n"
    "set trunk carrier server 1 192.0.2.21:5060 udp\n"
    "set trunk carrier server 2 192.0.2.22:5060 udp\n"
    "set dataplane default-trunk carrier\n";

struct Fixture : ::testing::Test {
    void load(const std::string& extra) {
        dir.write("edge.cfg", std::string(base_config) + extra);
        Status s = load_config_file(ctl, dir.file("edge.cfg"));
        ASSERT_TRUE(s.ok()) << s.error().message;
        std::string why;
        link = DpLink::create(nworkers, why);
        ASSERT_TRUE(link) << why;
        links = link->worker_links(0);
    }
    // The worker's read side: the snapshot it would acquire-load now.
    const dp::Routes* worker_view() const { return links.routes->load(std::memory_order_acquire); }

    test::TempDir dir;
    failover::Millis now = 0;
    Controller ctl{test::manual_clock(&now)};
    std::unique_ptr<DpLink> link;
    dp::WorkerLinks links;
    uint32_t nworkers = 1;
};

TEST_F(Fixture, SnapshotsArePublishedAndFreedAfterTheGracePeriod) {
    load("set trunk carrier register off\n");
    link->sync(ctl);
    const dp::Routes* r = worker_view();
    ASSERT_TRUE(r && r->table);
    EXPECT_EQ(r, link->current());
    const auto id = ctl.engine_id("carrier");
    ASSERT_TRUE(id);
    EXPECT_EQ(r->default_trunk, *id);
    EXPECT_EQ(r->access, (dp::Endpoint{0xc0000201u, 5060}));
    EXPECT_EQ(r->carrier_count, 2u);
    const failover::TrunkRoutes* tr = r->table->find(*id);
    ASSERT_TRUE(tr);
    ASSERT_EQ(tr->count, 2u);
    EXPECT_EQ(tr->cand[0].server_idx, 0u);
    // Nothing changed: no new snapshot.
    link->tick(ctl);
    EXPECT_EQ(link->counters().published, 1u);

    // The worker is online and holds the first snapshot.
    rte_rcu_qsbr_thread_online(links.rcu, links.rcu_id);
    ASSERT_EQ(test::status_of(ctl.execute_json("set dataplane access 192.0.2.2:5070")), 0);
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().published, 2u);
    EXPECT_NE(worker_view(), r);
    EXPECT_EQ(worker_view()->access, (dp::Endpoint{0xc0000202u, 5070}));
    // Not yet quiescent: the old snapshot is kept (still readable).
    link->tick(ctl);
    EXPECT_EQ(link->counters().reclaimed, 0u);
    EXPECT_EQ(r->table->find(*id)->count, 2u);
    rte_rcu_qsbr_quiescent(links.rcu, links.rcu_id);
    link->tick(ctl);
    EXPECT_EQ(link->counters().reclaimed, 1u);
    rte_rcu_qsbr_thread_offline(links.rcu, links.rcu_id);
}

// bench/RESULTS-control.md: the settings part of a snapshot (default trunk,
// access, carriers) walked every trunk's servers on every 10 ms tick (1.6 ms
// of the 6 ms idle tick at 10,000 trunks). It is rebuilt only after a commit,
// and a commit still reaches the workers.
TEST_F(Fixture, SettingsAreRebuiltOnlyAfterACommit) {
    load("set trunk carrier register off\n");
    link->sync(ctl);
    EXPECT_EQ(link->counters().settings_builds, 1u);
    for (int i = 0; i < 50; i++) {
        now += 10;
        link->tick(ctl);
    }
    EXPECT_EQ(link->counters().settings_builds, 1u) << "idle ticks rebuilt the settings";
    EXPECT_EQ(link->counters().published, 1u);
    // Refused: nothing committed, nothing rebuilt.
    EXPECT_NE(test::status_of(ctl.execute_json("set trunk carrier server 3 not..valid udp")), 0);
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().settings_builds, 1u);
    // A third server: the carriers follow at the next tick.
    ASSERT_EQ(test::status_of(ctl.execute_json("set trunk carrier server 3 192.0.2.23:5062 udp")), 0);
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().settings_builds, 2u);
    ASSERT_EQ(worker_view()->carrier_count, 3u);
    EXPECT_EQ(worker_view()->carriers[2], 0xc0000217u);  // sorted: .21, .22, .23
    // Another trunk made the default: its engine id.
    ASSERT_EQ(test::status_of(ctl.execute_json("add trunk other")), 0);
    ASSERT_EQ(test::status_of(ctl.execute_json("set trunk other server 1 192.0.2.31:5060 udp")), 0);
    ASSERT_EQ(test::status_of(ctl.execute_json("set trunk other register off")), 0);
    ASSERT_EQ(test::status_of(ctl.execute_json("set dataplane default-trunk other")), 0);
    now += 10;
    link->tick(ctl);
    const auto other = ctl.engine_id("other");
    ASSERT_TRUE(other);
    EXPECT_EQ(worker_view()->default_trunk, *other);
    EXPECT_EQ(worker_view()->carrier_count, 4u);
    const uint64_t builds = link->counters().settings_builds;
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().settings_builds, builds);
}

TEST_F(Fixture, EveryServerAddressIsCarrierSideResolvedOnesToo) {
    // Hundreds of trunks (the workers once knew 64 carriers at most), and a
    // server list replaced the way a DNS answer replaces it (no commit).
    load("set trunk carrier register off\n");
    std::vector<std::string> lines;
    for (int i = 0; i < 300; i++) {
        const std::string t = "k" + std::to_string(i);
        lines.push_back("add trunk " + t);
        lines.push_back("set trunk " + t + " server 1 10.9." + std::to_string(i / 200) + "." +
                        std::to_string(1 + i % 200) + " udp");
        lines.push_back("set trunk " + t + " register off");
    }
    ASSERT_TRUE(ctl.apply_lines(lines, "test").ok());
    now += 10;
    link->tick(ctl);
    const dp::Routes* r = worker_view();
    ASSERT_EQ(r->carrier_count, 302u);  // 192.0.2.21, .22 and the 300
    EXPECT_TRUE(std::is_sorted(r->carriers, r->carriers + r->carrier_count));
    EXPECT_TRUE(std::binary_search(r->carriers, r->carriers + r->carrier_count, 0x0a090164u))  // 10.9.1.100
        << "a server past the 64th is carrier-side";
    const uint64_t builds = link->counters().carrier_builds;
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().carrier_builds, builds) << "an idle tick rebuilt the carrier set";
    // k7's servers as a DNS answer gives them: 198.51.100.7 replaces 10.9.0.8.
    const auto k7 = ctl.engine_id("k7");
    ASSERT_TRUE(k7);
    failover::Target tg;
    tg.address = "198.51.100.7";
    ASSERT_EQ(ctl.engine().update_servers(*k7, failover::static_servers({tg}), now), failover::ConfigError::ok);
    now += 10;
    link->tick(ctl);
    r = worker_view();
    EXPECT_EQ(link->counters().carrier_builds, builds + 1);
    EXPECT_TRUE(std::binary_search(r->carriers, r->carriers + r->carrier_count, 0xc6336407u))
        << "a resolved server is carrier-side";
    EXPECT_TRUE(std::binary_search(r->carriers, r->carriers + r->carrier_count, 0x0a090008u))
        << "the configured literal stays carrier-side";
}

TEST_F(Fixture, WorkerEventsReachTheEngineAndChangeTheRoutes) {
    load("set trunk carrier register off\nset trunk carrier recover-delay 30\n");
    link->sync(ctl);
    const auto id = ctl.engine_id("carrier");
    ASSERT_TRUE(id);
    const failover::TrunkRoutes* tr = worker_view()->table->find(*id);
    failover::ServerEvent ev;
    ev.trunk_id = *id;
    ev.server_idx = 0;
    ev.list_epoch = tr->list_epoch;
    ev.kind = failover::EventKind::timeout;
    // The worker's side: MP enqueue of a fixed-size record.
    ASSERT_EQ(rte_ring_mp_enqueue_elem(links.events, &ev, sizeof(ev)), 0);
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().events, 1u);
    EXPECT_EQ(ctl.engine().health(*id, 0, now), failover::Health::recovering);
    // Republished without the primary (in its recovery delay).
    const failover::TrunkRoutes* after = worker_view()->table->find(*id);
    ASSERT_TRUE(after);
    ASSERT_EQ(after->count, 1u);
    EXPECT_EQ(after->cand[0].server_idx, 1u);
}

TEST_F(Fixture, RegisterGoesOutThroughTheWorkerAndItsAnswerComesBack) {
    load("set trunk carrier validation register\n"
         "set trunk carrier identity 1000 auth-user 1000 password pw contact sip:1000@192.0.2.10:5060\n");
    link->sync(ctl);
    const auto id = ctl.engine_id("carrier");
    ASSERT_TRUE(id);
    // Validated and not registered yet: no candidate.
    EXPECT_EQ(worker_view()->table->find(*id)->count, 0u);
    dp::ControlMsg m;
    bool got = false;
    for (int i = 0; i < 1200 && !got; i++) {  // first REGISTERs are spread over 10 s
        now += 10;
        link->tick(ctl);
        got = rte_ring_sc_dequeue_elem(links.ctl_tx, &m, sizeof(m)) == 0;
    }
    ASSERT_TRUE(got);
    EXPECT_EQ(m.peer, (dp::Endpoint{0xc0000215u, 5060}));  // the primary
    const std::string reg(m.data, m.len);
    ASSERT_EQ(reg.rfind("REGISTER ", 0), 0u) << reg;
    EXPECT_NE(reg.find("Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKsE"), std::string::npos) << reg;
    sip::Message pm;
    ASSERT_EQ(sip::parse(m.data, m.len, pm), sip::ParseStatus::ok);
    dp::BranchId b;
    ASSERT_TRUE(dp::decode_branch(pm.top_via.branch.str(m.data), b));
    EXPECT_EQ(b.core, dp::control_core);
    EXPECT_EQ(b.slot, *id);

    // The registrar's 200, as the worker steers it back (MP enqueue).
    auto line = [&](const char* name) {
        const size_t p = reg.find(std::string("\r\n") + name + ":");
        return reg.substr(p + 2, reg.find("\r\n", p + 2) - p - 2);
    };
    std::string ok = "SIP/2.0 200 OK\r\n" + line("Via") + "\r\n" + line("From") + "\r\n" + line("To") +
                     ";tag=r1\r\n" + line("Call-ID") + "\r\n" + line("CSeq") + "\r\n" + line("Contact") +
                     "\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n";
    dp::ControlMsg back;
    back.peer = m.peer;
    back.len = uint16_t(ok.size());
    ok.copy(back.data, ok.size());
    ASSERT_EQ(rte_ring_mp_enqueue_elem(links.ctl_rx, &back, sizeof(back)), 0);
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().responses, 1u);
    EXPECT_EQ(link->counters().responses_bad, 0u);
    // Registered with the primary: the validated trunk now routes there only.
    const failover::TrunkRoutes* tr = worker_view()->table->find(*id);
    ASSERT_TRUE(tr);
    ASSERT_EQ(tr->count, 1u);
    EXPECT_EQ(tr->cand[0].server_idx, 0u);
    EXPECT_NE(tr->cand[0].flags & failover::cand_registered, 0);

    // The worker reports an ICMP unreachable quoting a REGISTER: a transport
    // error for that identity (counted; the engine walks on).
    dp::ControlMsg icmp;
    icmp.kind = dp::ControlMsg::unreachable;
    icmp.peer = m.peer;
    icmp.len = uint16_t(dp::branch_len);
    dp::encode_branch(b, icmp.data);
    ASSERT_EQ(rte_ring_mp_enqueue_elem(links.ctl_rx, &icmp, sizeof(icmp)), 0);
    link->tick(ctl);
    EXPECT_EQ(link->counters().unreachable, 1u);
    EXPECT_EQ(link->counters().responses_bad, 0u);

    // Garbage and foreign branches on the ring are counted, not handed on.
    dp::ControlMsg junk;
    const std::string j = "not sip";
    junk.len = uint16_t(j.size());
    j.copy(junk.data, j.size());
    ASSERT_EQ(rte_ring_mp_enqueue_elem(links.ctl_rx, &junk, sizeof(junk)), 0);
    link->tick(ctl);
    EXPECT_EQ(link->counters().responses_bad, 1u);
}

TEST_F(Fixture, OptionsProbesGoOutAndTheirAnswersComeBack) {
    load("set trunk carrier register off\nset trunk carrier monitor always\n"
         "set trunk carrier monitor-interval 5\n");
    link->sync(ctl);
    const auto id = ctl.engine_id("carrier");
    ASSERT_TRUE(id);
    std::vector<dp::ControlMsg> probes;
    for (int i = 0; i < 1200 && probes.size() < 2; i++) {
        now += 10;
        link->tick(ctl);
        dp::ControlMsg m;
        while (rte_ring_sc_dequeue_elem(links.ctl_tx, &m, sizeof(m)) == 0) probes.push_back(m);
    }
    ASSERT_GE(probes.size(), 2u);  // one per server
    for (const dp::ControlMsg& m : probes) {
        const std::string req(m.data, m.len);
        ASSERT_EQ(req.rfind("OPTIONS ", 0), 0u) << req;
        sip::Message pm;
        ASSERT_EQ(sip::parse(m.data, m.len, pm), sip::ParseStatus::ok);
        dp::BranchId b;
        ASSERT_TRUE(dp::decode_branch(pm.top_via.branch.str(m.data), b));
        EXPECT_EQ(b.core, dp::control_core);
        auto line = [&](const char* name) {
            const size_t p = req.find(std::string("\r\n") + name + ":");
            return req.substr(p + 2, req.find("\r\n", p + 2) - p - 2);
        };
        std::string ok = "SIP/2.0 200 OK\r\n" + line("Via") + "\r\n" + line("From") + "\r\n" +
                         line("To") + ";tag=o1\r\n" + line("Call-ID") + "\r\n" + line("CSeq") +
                         "\r\nContent-Length: 0\r\n\r\n";
        dp::ControlMsg back;
        back.peer = m.peer;
        back.len = uint16_t(ok.size());
        ok.copy(back.data, ok.size());
        ASSERT_EQ(rte_ring_mp_enqueue_elem(links.ctl_rx, &back, sizeof(back)), 0);
    }
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().responses, probes.size());
    EXPECT_EQ(link->counters().responses_bad, 0u);
    EXPECT_EQ(ctl.engine().health(*id, 0, now), failover::Health::up);
}

// Route patterns (issue 6): the snapshot carries the compiled tables, a
// scratch per worker made for them, the outbound targets as engine trunk ids
// and the inbound targets as endpoints.
const char* pattern_config =
    "add trunk other\n"
    "set trunk other server 1 192.0.2.31:5060 udp\n"
    "set trunk other register off\n"
    "set trunk carrier register off\n"
    "route-pattern 1 digits 1XXX trunk carrier\n"
    "route-pattern 2 digits 2XXX trunk other\n"
    "route-pattern 3 digits 3XXX trunk other source 192.0.2.1/32\n"
    "inbound-pattern 1 digits 555XXXX target 192.0.2.50:5062\n";

// The engine trunk id the worker would route <user> from <src> to (~0u: no match).
// <worker>: whose scratch the lookup uses.
uint32_t routed_trunk(const dp::Routes& r, const char* user, uint32_t src, uint32_t worker = 0) {
    const dp::PatternRoutes& p = r.outbound;
    dp::RouteHit hit;
    if (!p.table || p.workers <= worker ||
        p.table->lookup(*p.scratch[worker], user, src, hit) != dp::RouteStatus::matched ||
        hit.target >= p.target_count)
        return ~0u;
    return p.trunk_ids[hit.target];
}

TEST_F(Fixture, SnapshotsCarryTheRoutePatterns) {
    load(pattern_config);
    link->sync(ctl);
    const dp::Routes* r = worker_view();
    ASSERT_TRUE(r);
    const auto carrier = ctl.engine_id("carrier"), other = ctl.engine_id("other");
    ASSERT_TRUE(carrier && other);
    ASSERT_TRUE(r->outbound.table);
    EXPECT_EQ(r->outbound.table->size(), 3u);
    EXPECT_EQ(r->outbound.workers, 1u);
    EXPECT_EQ(r->outbound.target_count, 2u);
    EXPECT_NE(r->patterns_version, 0u);
    EXPECT_EQ(routed_trunk(*r, "1234", 0xc0000205u), *carrier);
    EXPECT_EQ(routed_trunk(*r, "2345", 0xc0000205u), *other);
    EXPECT_EQ(routed_trunk(*r, "3456", 0xc0000201u), *other);   // from the /32
    EXPECT_EQ(routed_trunk(*r, "3456", 0xc0000205u), ~0u);       // from elsewhere
    EXPECT_EQ(routed_trunk(*r, "9999", 0xc0000201u), ~0u);
    // Inbound: one target, parsed.
    ASSERT_TRUE(r->inbound.table);
    ASSERT_EQ(r->inbound.target_count, 1u);
    EXPECT_EQ(r->inbound.targets[0], (dp::Endpoint{0xc0000232u, 5062}));
    dp::RouteHit hit;
    EXPECT_EQ(r->inbound.table->lookup(*r->inbound.scratch[0], "5551234", 0xc0000215u, hit),
              dp::RouteStatus::matched);
    EXPECT_EQ(link->counters().pattern_sets, 1u);
    EXPECT_EQ(link->counters().pattern_errors, 0u);
    // Nothing changed: no new snapshot, no new scratch.
    const dp::RouteTable* table = r->outbound.table;
    dp::RouteScratch* scratch = r->outbound.scratch[0];
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().published, 1u);
    // A setting changed: a new snapshot sharing the same compile and scratches
    // (the worker is offline here: snapshot 1 is freed at once, they are not).
    ASSERT_EQ(test::status_of(ctl.execute_json("set dataplane access 192.0.2.2:5070")), 0);
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().published, 2u);
    EXPECT_EQ(link->counters().pattern_sets, 1u);
    EXPECT_EQ(link->counters().reclaimed, 1u);
    EXPECT_EQ(worker_view()->outbound.table, table);
    EXPECT_EQ(worker_view()->outbound.scratch[0], scratch);
    EXPECT_EQ(routed_trunk(*worker_view(), "2345", 0xc0000205u), *other);
}

// Issue 16: access peers travel with the snapshot; the same peer set after
// an unrelated commit is the same pointer (the workers' buckets stay).
TEST_F(Fixture, SnapshotsCarryTheAccessPeers) {
    load("set trunk carrier register off\n");
    link->sync(ctl);
    EXPECT_EQ(worker_view()->access_peers, nullptr);  // nothing configured: nothing checked
    ASSERT_EQ(test::status_of(ctl.execute_json("access-peer pbx networks 192.0.2.0/28 invite-rps 10")), 0);
    now += 10;
    link->tick(ctl);
    const dp::AccessPeers* a = worker_view()->access_peers;
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(a->peer_count, 1u);
    EXPECT_EQ(dp::peer_of(*a, 0xc0000201u), 0);
    EXPECT_EQ(a->limits[0].rps[size_t(dp::RateKind::invite)], 10u);
    ASSERT_EQ(test::status_of(ctl.execute_json("set dataplane access 192.0.2.2:5070")), 0);
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(worker_view()->access_peers, a);
    ASSERT_EQ(test::status_of(ctl.execute_json("no access-peer pbx")), 0);
    const uint64_t published = link->counters().published;
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().published, published + 1);
    EXPECT_EQ(worker_view()->access_peers, nullptr);
}

TEST_F(Fixture, AReplacedPatternTableIsFreedOnlyAfterTheQuiescentReport) {
    load(pattern_config);
    link->sync(ctl);
    const dp::Routes* r = worker_view();
    const auto carrier = ctl.engine_id("carrier"), other = ctl.engine_id("other");
    ASSERT_TRUE(r && carrier && other);
    std::weak_ptr<const CompiledRoutes> old = ctl.state().route_cache.tables;
    ASSERT_FALSE(old.expired());
    const dp::RouteTable* old_table = r->outbound.table;
    ASSERT_EQ(old_table, old.lock()->outbound.get());

    rte_rcu_qsbr_thread_online(links.rcu, links.rcu_id);  // the worker holds snapshot 1
    // 1XXX moves to the other trunk: a new compile, a new snapshot.
    auto res = ctl.execute_json("route-pattern 1 digits 1XXX trunk other");
    ASSERT_EQ(test::status_of(res), 0);
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().published, 2u);
    EXPECT_EQ(link->counters().pattern_sets, 2u);
    const dp::Routes* r2 = worker_view();
    ASSERT_NE(r2, r);
    EXPECT_NE(r2->outbound.table, old_table);
    EXPECT_NE(r2->outbound.scratch[0], r->outbound.scratch[0]);
    EXPECT_EQ(routed_trunk(*r2, "1234", 0xc0000205u), *other);
    // Not quiescent yet: the old table and its scratch are alive and still answer.
    link->tick(ctl);
    link->tick(ctl);
    EXPECT_EQ(link->counters().reclaimed, 0u);
    EXPECT_EQ(link->retired(), 1u);
    EXPECT_FALSE(old.expired());
    EXPECT_EQ(routed_trunk(*r, "1234", 0xc0000205u), *carrier);
    // The worker's quiescent report: the next tick frees them.
    rte_rcu_qsbr_quiescent(links.rcu, links.rcu_id);
    link->tick(ctl);
    EXPECT_EQ(link->counters().reclaimed, 1u);
    EXPECT_EQ(link->retired(), 0u);
    EXPECT_TRUE(old.expired());
    rte_rcu_qsbr_thread_offline(links.rcu, links.rcu_id);

    // All patterns removed: snapshots carry none.
    for (const char* c : {"no route-pattern 1", "no route-pattern 2", "no route-pattern 3",
                          "no inbound-pattern 1"})
        ASSERT_EQ(test::status_of(ctl.execute_json(c)), 0) << c;
    now += 10;
    link->tick(ctl);
    EXPECT_FALSE(worker_view()->outbound.table);
    EXPECT_FALSE(worker_view()->inbound.table);
    EXPECT_EQ(worker_view()->patterns_version, 0u);
}

// Runtime pattern changes with the compile deferred (what sipedge does after
// its startup file): the command commits at once, the workers keep the old
// table until the compile made on another thread is ready, then get the new
// one; a compile overtaken by another change is dropped.
TEST_F(Fixture, DeferredCompileKeepsTheOldTableUntilTheNewOneIsReady) {
    load(pattern_config);
    link->sync(ctl);
    const auto carrier = ctl.engine_id("carrier"), other = ctl.engine_id("other");
    ASSERT_TRUE(carrier && other);
    const dp::RouteTable* old_table = worker_view()->outbound.table;
    ctl.set_defer_route_compile(true);
    ASSERT_EQ(test::status_of(ctl.execute_json("route-pattern 1 digits 1XXX trunk other")), 0);
    EXPECT_FALSE(ctl.state().route_cache.tables) << "committed without a compile";
    // A bad pattern alone is still refused by its command.
    EXPECT_NE(test::status_of(ctl.execute_json("route-pattern 9 regex 1(2 trunk other")), 0);
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().pattern_compiles_deferred, 1u);
    EXPECT_EQ(worker_view()->outbound.table, old_table);  // the old table meanwhile
    EXPECT_EQ(routed_trunk(*worker_view(), "1234", 0xc0000205u), *carrier);
    // Changed again before the first compile is taken: that one is dropped.
    ASSERT_EQ(test::status_of(ctl.execute_json("route-pattern 4 digits 4XXX trunk other")), 0);
    for (int i = 0; i < 1000 && link->counters().pattern_sets < 2; i++) {
        usleep(10000);
        now += 10;
        link->tick(ctl);
    }
    ASSERT_EQ(link->counters().pattern_sets, 2u);
    EXPECT_EQ(link->counters().pattern_compiles_deferred, 2u);
    EXPECT_EQ(link->counters().pattern_errors, 0u);
    EXPECT_NE(worker_view()->outbound.table, old_table);
    EXPECT_EQ(routed_trunk(*worker_view(), "1234", 0xc0000205u), *other);
    EXPECT_EQ(routed_trunk(*worker_view(), "4321", 0xc0000205u), *other);
    EXPECT_TRUE(ctl.state().route_cache.tables);
}

// Two workers (issue 6): each its own RCU thread id and route scratches; a
// replaced snapshot is freed only once both have reported a quiescent state;
// only worker 0 sends control's datagrams; events and responses share the
// MP rings.
TEST_F(Fixture, TwoWorkersBothQuiesceBeforeASnapshotIsFreed) {
    nworkers = 2;
    load(pattern_config);
    link->sync(ctl);
    const dp::WorkerLinks l1 = link->worker_links(1);
    EXPECT_EQ(links.rcu_id, 0u);
    EXPECT_EQ(l1.rcu_id, 1u);
    EXPECT_EQ(l1.rcu, links.rcu);
    EXPECT_EQ(l1.events, links.events);
    EXPECT_EQ(l1.ctl_rx, links.ctl_rx);
    EXPECT_TRUE(links.ctl_tx);
    EXPECT_FALSE(l1.ctl_tx);  // control's REGISTER/OPTIONS go out through worker 0 only
    const dp::Routes* r = worker_view();
    ASSERT_TRUE(r && r->outbound.table);
    ASSERT_EQ(r->outbound.workers, 2u);
    EXPECT_NE(r->outbound.scratch[0], r->outbound.scratch[1]);
    const auto carrier = ctl.engine_id("carrier");
    ASSERT_TRUE(carrier);
    EXPECT_EQ(routed_trunk(*r, "1234", 0xc0000205u, 1), *carrier);  // worker 1's scratch

    rte_rcu_qsbr_thread_online(links.rcu, 0);
    rte_rcu_qsbr_thread_online(links.rcu, 1);
    ASSERT_EQ(test::status_of(ctl.execute_json("set dataplane access 192.0.2.2:5070")), 0);
    now += 10;
    link->tick(ctl);
    EXPECT_EQ(link->counters().published, 2u);
    rte_rcu_qsbr_quiescent(links.rcu, 0);
    link->tick(ctl);
    EXPECT_EQ(link->counters().reclaimed, 0u) << "freed before worker 1 was quiescent";
    EXPECT_EQ(link->retired(), 1u);
    rte_rcu_qsbr_quiescent(links.rcu, 1);
    link->tick(ctl);
    EXPECT_EQ(link->counters().reclaimed, 1u);
    rte_rcu_qsbr_thread_offline(links.rcu, 0);
    rte_rcu_qsbr_thread_offline(links.rcu, 1);
}

}  // namespace
}  // namespace sipedge::ctl

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!sipedge::test::eal_up("dplink", "0", {}, "256")) return 77;
    const int rc = RUN_ALL_TESTS();
    sipedge::test::eal_down();
    return rc;
}
