#pragma once
// The edge's data plane as one object (control/main.cc): the EAL, the packet
// mempools, the ports, the control links (control/dp_link.h), the handoff
// rings and the workers on their lcores. Edge::start() brings them up in that
// order; whatever had come up is torn down in reverse order when the Edge
// goes, on every path: a startup step that fails half-way (port 2 refused
// after port 1 started), the control loop's end (SIGINT/SIGTERM, --duration,
// a socket error), an early return or an exception in main(). Teardown:
// workers asked to stop and their lcores joined, DpLink and handoff rings
// freed, ports stopped and closed, workers freed, mempools freed,
// rte_eal_cleanup(). Control thread (the main lcore) only.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <tuple>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "control/state.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"

struct rte_mempool;

namespace sipedge::dp {
class Handoff;
}
#include "stream/knobs.h"
#include "stream/stream_types.h"

namespace sipedge::stream {
class StreamTransport;
}

namespace sipedge::ctl {

class Controller;
class DpLink;
class Ops;
struct EdgeArgs;

/// rte_eal_init(), and rte_eal_cleanup() on destruction once it succeeded (a
/// failed init is not cleaned up: the EAL may be half-made, DPDK 22.11).
class EalScope {
public:
    EalScope() = default;
    ~EalScope() { stop(); }
    EalScope(const EalScope&) = delete;
    EalScope& operator=(const EalScope&) = delete;

    /// dp::eal_start() on <argc>/<argv>; false (with a message) on failure.
    bool start(int argc, char** argv) noexcept { return up_ = dp::eal_start(argc, argv); }
    /// rte_eal_cleanup() if started; idempotent.
    void stop() noexcept;

private:
    bool up_ = false;
};

/// rte_mempool_free() as a deleter.
struct MempoolFree {
    void operator()(rte_mempool* p) const noexcept;
};
using MempoolPtr = std::unique_ptr<rte_mempool, MempoolFree>;

/// The ports taken into use, closed in reverse order on destruction: a
/// started port is stopped and closed, one whose setup failed half-way
/// (configured, queues partly set up) is closed.
class PortSet {
public:
    PortSet() = default;
    ~PortSet() { close_all(); }
    PortSet(const PortSet&) = delete;
    PortSet& operator=(const PortSet&) = delete;

    /// dp::port_start(<s>, <pool>, <mac>); the port is this set's to close
    /// whatever the outcome. False (with a message) when it did not start.
    bool start(const dp::PortSetup& s, rte_mempool* pool, dp::MacAddr& mac);
    /// Whether DPDK port <port_id> is in the set.
    bool holds(uint16_t port_id) const noexcept;
    /// Stops and closes every port, last taken first; idempotent.
    void close_all() noexcept;

private:
    struct Taken {
        uint16_t port_id;
        bool started;
    };
    std::vector<Taken> taken_;
};

/// Workers running on lcores: on stop() or destruction the stop flag is set
/// and every lcore launched is joined (rte_eal_wait_lcore), so no worker
/// runs once this is gone.
class LcoreRuns {
public:
    LcoreRuns() = default;
    ~LcoreRuns() { stop(); }
    LcoreRuns(const LcoreRuns&) = delete;
    LcoreRuns& operator=(const LcoreRuns&) = delete;

    /// Runs <w>.run() on <lcore> (rte_eal_remote_launch); false when the
    /// lcore cannot take it. <w> must outlive this.
    bool launch(dp::Worker& w, unsigned lcore);
    /// Asks the workers to end and waits for each; idempotent.
    void stop() noexcept;

private:
    struct Run {
        dp::Worker* w;
        const std::atomic<bool>* stop;
    };
    static int lcore_main(void* arg);

    // relaxed: the flag only asks the worker loops to end; wait_lcore joins them.
    std::atomic<bool> stop_{false};
    std::deque<Run> runs_;  // stable addresses: each lcore holds a pointer to its Run
    std::vector<unsigned> launched_;
};

/// The data plane of one sipedge process (see the top of this file).
class Edge {
public:
    /// Brings the data plane up for <ctl>'s loaded startup configuration and
    /// the options <a>: EAL (<argc>/<argv> with "--" at <sep>, plus what the
    /// configuration adds, control/edge_args.h), mempools, ports, links,
    /// workers launched on every lcore but the main one. Returns nullptr
    /// after a message on stderr when any step fails; what had started is
    /// torn down by then. <ctl> must outlive the Edge.
    static std::unique_ptr<Edge> start(Controller& ctl, const EdgeArgs& a, int argc, char** argv, int sep);
    ~Edge();
    Edge(const Edge&) = delete;
    Edge& operator=(const Edge&) = delete;

    /// The control loop (control/loop.h) on this thread until SIGINT/SIGTERM,
    /// --duration or a loop error, with the workers' counters served to
    /// <ops> (may be null), DPDK telemetry and the monitor while it runs.
    /// Returns the loop's exit code (0, or 1 after a message).
    int run(Controller& ctl, Ops* ops, const EdgeArgs& a);
    /// Stops the workers (joins their lcores) and prints the exit JSON on
    /// stdout (control/edge_report.h). Call once, after run().
    void stop_and_report();

private:
    Edge() = default;
    bool bring_up(Controller& ctl, const EdgeArgs& a, int argc, char** argv, int sep);
    bool start_ports(const EdgeArgs& a, uint32_t af_room);
    bool start_workers(Controller& ctl, const EdgeArgs& a);
    bool start_stream(uint16_t workers, const EdgeArgs& a);
    void drain_stream_events(Controller& ctl, bool verbose);
    void sync_stream_profiles(Controller& ctl);

    // Declared in bring-up order; members are destroyed in reverse, which is
    // the teardown order above (workers_ are freed after the ports close,
    // as they always were; nothing runs them by then).
    EalScope eal_;
    MempoolPtr pool_, af_pool_;
    std::vector<std::unique_ptr<dp::Worker>> workers_;
    PortSet ports_;
    std::unique_ptr<dp::Handoff> handoff_;
    // --sip-tcp (issue 14): the stream thread and its channels; the workers
    // use the channels, so it goes after them (runs_ joins them first).
    std::unique_ptr<stream::StreamTransport> stream_;
    uint64_t tls_synced_ = ~0ull;  // ctl.commit_count() the TLS client profiles were set at
    // engine id -> (CA, server name, client certificate, client key) set
    std::map<uint32_t, std::tuple<std::string, std::string, std::string, std::string>> tls_applied_;
    std::vector<std::pair<stream::PeerAddr, uint32_t>> tls_peers_;        // set_peer_profiles()
    std::map<uint32_t, stream::StreamKnobs> knobs_applied_;                // engine id -> set_profile_knobs()
    uint32_t tls_peer_ticks_ = 0;
    std::unique_ptr<DpLink> link_;
    LcoreRuns runs_;  // last: joined first

    DataplaneSettings dps_;           // read once at start: the ports' identity
    std::vector<uint16_t> port_ids_;  // configured port index of each pcs_ entry
    std::vector<dp::PortConfig> pcs_;
    std::vector<std::string> drivers_;  // per pcs_ entry: rte_eth_dev_info::driver_name
    std::vector<unsigned> lcores_;      // worker i runs on lcores_[i]
    std::vector<dp::Worker*> ws_;       // workers_, as the report functions take them
    std::chrono::steady_clock::time_point started_;
};

/// --check: dataplane_check_host (control/commands.h) against the cores this
/// process may run on (sched_getaffinity: a systemd CPUAffinity= or taskset
/// narrows them) and this DPDK build's RTE_MAX_LCORE.
Status check_host(const DataplaneSettings& d);

}  // namespace sipedge::ctl
