#pragma once
// Control's side of the worker links (STYLE.md §3): publishes the routing
// snapshot (the failover engine's Table plus the data-plane settings) through
// an atomic pointer and reclaims old snapshots after an rte_rcu_qsbr grace
// period; drains the workers' ServerEvent ring into Engine::on_event; turns the
// engine's send_register/send_options actions into datagrams on the
// control → worker ring; hands responses steered back by their control-core
// branch to Engine::on_register_response/on_probe_response, and ICMP errors
// quoting a REGISTER to Engine::on_register_transport_error.
//
// Route patterns (issue 6): each snapshot also carries the compiled pattern
// tables (State::route_cache, control/cmd_route.h) with one Hyperscan
// scratch per worker and table, the outbound targets mapped to engine trunk
// ids and the inbound targets parsed into endpoints (dp::PatternRoutes). A
// new compile gets new scratches; snapshots that share a compile share its
// scratches (each worker only ever uses its own, one at a time). The tables
// and scratches are freed with the last snapshot that holds them, i.e. only
// after the RCU grace period.
//
// N workers (issue 6): worker w gets RCU thread id w and route scratch w
// (its dp::WorkerConfig::core must be w); every registered worker must be
// quiescent (or offline) before a snapshot is freed.
//
// Control thread only (the main lcore). Rings: events MP/SC (workers enqueue,
// we dequeue), ctl_tx SP/SC (we enqueue, worker 0 dequeues), ctl_rx MP/SC.
// Capacity: events_ring_size events (~32 B each) and ctl_ring_size messages
// (~1.5 KB each) per ring; a full ring drops and counts on the producer side.
// Live trace (issue 7): one SP/SC ring of dp::TraceSample per worker
// (trace_ring_size, 512 KiB each), drained each tick into Monitor::feed_trace;
// the workers' trace_wanted flag mirrors Monitor::trace_wanted() each tick.

#include <atomic>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "control/carrier_index.h"
#include "control/cmd_access.h"
#include "control/cmd_route.h"
#include "control/commands.h"
#include "dataplane/proxy_types.h"
#include "dataplane/worker.h"

struct rte_ring;
struct rte_rcu_qsbr;

namespace sipedge::ctl {

struct DpLinkCounters {
    uint64_t published = 0;      // snapshots published
    uint64_t reclaimed = 0;      // old snapshots freed after their grace period
    uint64_t events = 0;         // ServerEvents handed to the engine
    uint64_t sent = 0;           // REGISTER/OPTIONS put on the control → worker ring
    uint64_t send_dropped = 0;   // ring full, unroutable server or message not written
    uint64_t responses = 0;      // responses handed to the engine
    uint64_t responses_bad = 0;  // unparseable or not a known control branch
    uint64_t unreachable = 0;    // ICMP unreachable quoting our REGISTER (transport error)
    uint64_t notices = 0;        // notify actions seen
    uint64_t pattern_sets = 0;   // pattern compiles made ready for the workers (scratches)
    uint64_t pattern_errors = 0; // patterns not published: compile or scratch refused (no patterns)
    uint64_t pattern_compiles_deferred = 0;  // tables compiled off the control thread (started)
    uint64_t trace_samples = 0;  // TraceSamples drained from the workers' trace rings
    uint64_t settings_builds = 0;  // settings part recomputed (once per commit, not per tick)
    uint64_t carrier_builds = 0;   // carrier address set recomputed (a commit or a server list changed)
};

class DpLink {
public:
    static constexpr uint32_t events_ring_size = 4096;
    static constexpr uint32_t ctl_ring_size = 256;
    static constexpr uint32_t trace_ring_size = 1024;  // per worker, 512 B each (512 KiB)

    /// Creates the rings and the QSBR variable for <workers> worker threads.
    /// nullptr (and <why>) when DPDK refuses (call after rte_eal_init).
    static std::unique_ptr<DpLink> create(uint32_t workers, std::string& why);
    /// Frees the rings, the QSBR variable and every snapshot: call only after
    /// the workers have stopped.
    ~DpLink();
    DpLink(const DpLink&) = delete;
    DpLink& operator=(const DpLink&) = delete;

    /// What worker <w> is given (its RCU thread id is <w>).
    dp::WorkerLinks worker_links(uint32_t w) const noexcept;

    /// One control tick: events and responses in, engine timers, actions
    /// out, a new snapshot when anything it is built from changed, old
    /// snapshots freed when their grace period is over.
    void tick(Controller& ctl);
    /// Publishes a snapshot now if anything changed (also used before the
    /// workers start, so they never run without routes).
    void sync(Controller& ctl);

    const DpLinkCounters& counters() const noexcept { return c_; }
    /// The snapshot now published (control thread; tests, show).
    const dp::Routes* current() const noexcept { return cur_ ? &cur_->routes : nullptr; }
    /// Snapshots published and not yet reclaimed (waiting for the grace period).
    size_t retired() const noexcept { return retired_.size(); }

private:
    // One compile of the patterns, ready for the workers: shared by every
    // snapshot published while the compile stays the same.
    struct PatternSet {
        std::shared_ptr<const CompiledRoutes> compiled;
        std::vector<dp::RouteScratch> scratch[2];     // [outbound, inbound][worker]
        std::vector<dp::RouteScratch*> scratch_ptr[2];
        std::vector<dp::Endpoint> targets;           // inbound targets, parsed
        std::vector<uint32_t> target_ips;            // their addresses, sorted, unique (issue 16:
                                                     //   access-side destinations, Proxy::access_dest)
        uint64_t version = 0;
    };
    /// Every trunk server's IPv4 address (sorted, unique), and those of trunks
    /// with topology-hiding on (issue 16).
    struct CarrierSet {
        std::vector<uint32_t> all, hidden;
        bool operator==(const CarrierSet&) const = default;
    };
    struct Snapshot {
        std::unique_ptr<const failover::Table> table;
        std::shared_ptr<const PatternSet> patterns;
        std::vector<uint32_t> trunk_ids;  // outbound target -> engine trunk id (~0u: none)
        std::shared_ptr<const CarrierSet> carriers;  // routes.carriers/hidden point here
        std::shared_ptr<const AccessPeerSet> access;            // routes.access_peers points here
        dp::Routes routes;
    };
    DpLink() = default;
    void drain_events(Controller& ctl);
    void drain_responses(Controller& ctl);
    void drain_trace(Controller& ctl);
    void run_actions(Controller& ctl);
    void reclaim();
    void settings_routes(const Controller& ctl, dp::Routes& r) const;
    std::shared_ptr<const CarrierSet> carrier_set(Controller& ctl);
    std::shared_ptr<const PatternSet> pattern_set(const Controller& ctl);

    rte_ring* events_ = nullptr;
    rte_ring* ctl_tx_ = nullptr;
    rte_ring* ctl_rx_ = nullptr;
    rte_rcu_qsbr* rcu_ = nullptr;
    uint32_t workers_ = 0;
    // release store in sync(), acquire load on the workers (dp::Worker::run).
    std::atomic<const dp::Routes*> routes_{nullptr};
    std::unique_ptr<Snapshot> cur_;
    std::deque<std::pair<uint64_t, std::unique_ptr<Snapshot>>> retired_;  // (QSBR token, snapshot)
    const failover::Engine* engine_seen_ = nullptr;  // a rebuilt engine: publish from scratch
    // settings_routes() of the committed state Controller::commit_count()
    // settings_commit_ (of <settings_ctl_>): it walks every trunk's servers,
    // so it runs again only after a commit, not every tick.
    dp::Routes settings_;
    std::shared_ptr<const AccessPeerSet> access_;  // built with settings_ (cmd_access.cc)
    const Controller* settings_ctl_ = nullptr;
    uint64_t settings_commit_ = 0;
    // carrier_set(): every trunk server's IPv4 address, configured or
    // resolved, for the commit, engine and engine server list it was made of.
    std::shared_ptr<const CarrierSet> carriers_;
    uint64_t carriers_commit_ = 0, carriers_engine_ = 0, carriers_seq_ = 0;
    std::vector<uint32_t> cfg_all_, cfg_hidden_;  // the configured literals (per commit)
    CarrierIndex carrier_index_;                  // the engine's servers, kept incrementally
    uint32_t nonce_ = 0;
    uint64_t pattern_versions_ = 0;
    using PatternMaps = std::pair<std::map<uint32_t, RoutePatternConfig>, std::map<uint32_t, RoutePatternConfig>>;
    std::unique_ptr<PatternMaps> failed_;  // the patterns whose compile failed last
    // Deferred compile (Controller::defer_route_compile): one at a time, on
    // its own thread, of a copy of the patterns; the result is used only if
    // the committed patterns are still those.
    std::future<Result<std::shared_ptr<const CompiledRoutes>>> job_;
    std::unique_ptr<PatternMaps> job_maps_;
    std::shared_ptr<const PatternSet> deferred_pattern_set(const Controller& ctl);
    DpLinkCounters c_;
    dp::ControlMsg msg_;
    std::vector<rte_ring*> trace_;        // per worker: TraceSample, SP (worker w) / SC (us)
    // Mirrors Monitor::trace_wanted() each tick; workers read it relaxed once per burst.
    std::atomic<bool> trace_wanted_{false};
    dp::TraceSample trace_buf_;
};

}  // namespace sipedge::ctl
