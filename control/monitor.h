#pragma once
// Operator views that are fed rather than configured: the event log (server
// up/down, failover, failback, registration state changes, taken from the
// failover engine's notices and decisions), the live SIP message trace (fed by
// the data plane through TraceSample records) and the per-core counters (fed
// by whoever reads the workers' stats blocks). `show events`, `show stats`,
// `monitor events` and `monitor trace` (control/cmd_show.cc) read them.
//
// Subscribers: `monitor ...` turns the socket connection that sent it into a
// subscriber (SocketServer::mark_subscriber): it then receives one JSON line
// per event or trace record until it disconnects. Each subscriber has a
// bounded buffer in the socket (SocketOptions::max_subscriber_pending); a
// subscriber that falls behind is dropped and counted, never waited for.
//
// Capacity: the event log keeps the last `event_capacity` events (1024 by
// default, ~200 bytes each); the trace keeps nothing, it only fans out.
// Control thread only: nothing here is thread-safe except Monitor::trace_wanted().

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/result.h"
#include "control/json.h"
#include "dataplane/trace_types.h"
#include "failover/engine.h"

namespace sipedge::ctl {

class SocketServer;

/// One operator event. `kind`: server_down, server_up, failover, failback,
/// registered, registration_lost, registration_failures, or decision (a
/// routing decision of the engine not covered by a notice: failover walk,
/// back-off, failback attempt...).
struct EventRecord {
    uint64_t seq = 0;          // 1, 2, ... in arrival order (gaps never happen)
    failover::Millis at = 0;   // engine clock (ms)
    std::string trunk;
    std::string kind;
    int server = -1;           // server index in the engine, -1 = trunk-wide
    std::string address;       // that server's transport:address:port
    std::string identity;      // identity user, "" = trunk-wide
    std::string detail;        // decision name / trigger / count
};
Json event_json(const EventRecord& e);

/// The last <capacity> events, oldest first.
class EventLog {
public:
    explicit EventLog(size_t capacity = 1024) : cap_(capacity ? capacity : 1) {}
    /// Stores <e> (seq assigned here) and returns the stored copy.
    const EventRecord& push(EventRecord e);
    /// The newest min(n, size) events, oldest first.
    std::vector<EventRecord> last(size_t n) const;
    size_t size() const noexcept { return ring_.size(); }
    size_t capacity() const noexcept { return cap_; }
    uint64_t total() const noexcept { return seq_; }

private:
    size_t cap_;
    uint64_t seq_ = 0;
    std::deque<EventRecord> ring_;
};

/// One SIP message seen by a worker (dataplane/trace_types.h: it crosses the
/// worker → control trace ring by value).
using TraceSample = dp::TraceSample;

/// What `monitor trace` selects: every message, or one trunk, one address
/// (source or destination IP), or one Call-ID.
struct TraceFilter {
    enum class By : uint8_t { all, trunk, address, call_id } by = By::all;
    std::string value;      // trunk name, IP literal, Call-ID
    uint8_t addr[16] = {};
    uint8_t family = 0;     // By::address
};
/// Parses the words after `monitor trace`: none, `trunk <t>`, `address <ip>`
/// or `call-id <id>`. Rejects anything else, and an address that is not an
/// IPv4/IPv6 literal.
Result<TraceFilter> parse_trace_filter(const std::vector<std::string>& words);
/// Whether <s>, routed on trunk <trunk> ("" = unknown), passes <f>.
bool trace_matches(const TraceFilter& f, const TraceSample& s, std::string_view trunk) noexcept;
/// The JSON line of one trace record (addresses as text, head as text).
Json trace_json(const TraceSample& s, const std::string& trunk);

/// Per-core counters as read from one worker's stats block. The control side
/// keeps the last reading per core; `show stats` prints it and the sum.
struct CoreStats {
    unsigned core = 0;
    std::vector<std::pair<std::string, uint64_t>> counters;  // name → value, in print order
    std::vector<std::pair<std::string, uint64_t>> drops;     // drop reason → count
    uint64_t tsc_hz = 0;  // the cycle counters' clock (busy_cycles...); 0: not given
};

/// One data-plane port as the running sipedge started it (issue 12: `show
/// dataplane` "running", `show ready`).
struct PortStatus {
    unsigned port = 0;          // configuration index (`set dataplane port <n>`)
    unsigned dpdk_port = 0;     // the ethdev it runs on
    std::string driver;         // rte_eth_dev_info::driver_name (net_af_packet, net_tap, net_ice...)
    std::string rx_udp_csum;    // dp::rx_csum_name(): verify, verify+accept-partial, off
    bool link_up = false;
    uint64_t udp_csum_partial = 0;  // datagrams accepted with a partial checksum (all workers)
};

/// The data plane as its process sees it now.
struct DataplaneStatus {
    bool attached = false;          // false: no data plane in this process (sipedge-control, tests)
    bool ports_started = false;
    unsigned workers = 0;           // worker lcores started
    unsigned workers_running = 0;   // ... whose loop has run once (dp::Worker::running())
    unsigned workers_with_routes = 0;  // ... that have loaded a routing snapshot
    uint64_t tables_published = 0;  // routing snapshots control published
    std::vector<PortStatus> ports;
};
/// "" when <s> is ready for traffic (or has no data plane), else why not, in
/// words: ports not started, a worker not running, no snapshot published or
/// loaded yet. A port whose link is down is said but does not make it unready
/// (the edge is up; the cable, veth peer or switch is not).
std::string dataplane_not_ready(const DataplaneStatus& s);
/// Reads the data plane's status now (sipedge's main sets one; control thread).
using DataplaneProbe = std::function<DataplaneStatus()>;

class Monitor {
public:
    explicit Monitor(size_t event_capacity = 1024) : log_(event_capacity) {}

    /// Attaches the socket whose connections can subscribe (and whose close
    /// hook removes them); nullptr detaches. Without one, `monitor ...` is refused.
    void bind(SocketServer* srv);
    SocketServer* socket() const noexcept { return srv_; }

    /// Turns the connection serving the current command into a subscriber of
    /// events (<trace> empty) or of the trace with <trace>'s filter. Fails
    /// when no socket is bound or no connection is being served.
    Status subscribe_current(std::optional<TraceFilter> trace);

    /// Reads the engine's pending notify actions and the trunks' last
    /// decisions since the previous call, logs them and sends them to the
    /// event subscribers. Call once before each Engine::clear_actions()
    /// (Controller::tick does). After an engine rebuild call reset_decisions().
    /// Cost: the notices, plus nothing more while the engine's decision_seq()
    /// stands still; otherwise one O(1) check per trunk and a name lookup
    /// only for the trunks whose decision changed (a new engine: one lookup each).
    void collect(const failover::Engine& eng, failover::Millis now);
    void reset_decisions() {
        last_decision_.clear();
        seen_instance_ = 0;
        seen_.clear();
    }
    /// Trunks whose last decision collect() compared (tests: an idle tick compares none).
    uint64_t decision_checks() const noexcept { return decision_checks_; }
    /// Logs and sends one event (tests, and sources other than the engine).
    void publish_event(EventRecord e);

    /// Data plane → control: one traced message; <eng> names its trunk for
    /// the filter and the line. Cheap when nobody traces.
    void feed_trace(const TraceSample& s, const failover::Engine& eng);
    /// True while a trace subscriber exists. Relaxed atomic: workers may read
    /// it to skip copying TraceSamples; a stale value costs one sample or one
    /// miss, nothing more.
    bool trace_wanted() const noexcept { return trace_wanted_.load(std::memory_order_relaxed); }

    /// The data plane's status source (sipedge's main; none: "no data plane").
    void set_dataplane_probe(DataplaneProbe p) { probe_ = std::move(p); }
    /// The status now (default-constructed, attached false, without a probe).
    DataplaneStatus dataplane_status() const { return probe_ ? probe_() : DataplaneStatus{}; }

    /// Replaces the per-core readings (data plane wiring, once per second or on demand).
    void set_core_stats(std::vector<CoreStats> s) {
        stats_ = std::move(s);
        stats_readings_++;
    }
    const std::vector<CoreStats>& core_stats() const noexcept { return stats_; }
    /// How many readings set_core_stats() took since start: `show stats`
    /// gives it, so a script that wants counters as of now waits for the next
    /// reading instead of sleeping a second.
    uint64_t core_stats_readings() const noexcept { return stats_readings_; }

    const EventLog& events() const noexcept { return log_; }
    /// server_down events seen for (<trunk>, <address>) since start (address
    /// as in EventRecord: transport:ip:port, so it survives engine rebuilds).
    uint64_t server_failures(const std::string& trunk, const std::string& address) const;
    size_t subscriber_count() const noexcept { return subs_.size(); }
    uint64_t trace_fed() const noexcept { return trace_fed_; }
    uint64_t trace_sent() const noexcept { return trace_sent_; }

private:
    struct Sub {
        bool trace = false;
        TraceFilter filter;
    };
    void send_events(const std::string& line);
    void on_close(uint64_t conn);
    void update_wanted();

    EventLog log_;
    SocketServer* srv_ = nullptr;
    std::map<uint64_t, Sub> subs_;  // connection id → subscription
    std::map<std::string, failover::DecisionRecord> last_decision_;  // trunk name → last seen
    // The same by engine trunk id, for the engine seen_instance_ (its ids are
    // dense and never reused): a trunk is looked up by name only when its
    // decision changed, or when the engine is new. seen_seq_: the engine's
    // decision_seq() at the last walk.
    struct Seen {
        bool known = false;  // last_decision_ holds this trunk's name
        failover::DecisionRecord last;
    };
    uint64_t seen_instance_ = 0;
    uint64_t seen_seq_ = 0;
    std::vector<Seen> seen_;
    uint64_t decision_checks_ = 0;
    std::vector<CoreStats> stats_;
    uint64_t stats_readings_ = 0;
    DataplaneProbe probe_;
    std::map<std::pair<std::string, std::string>, uint64_t> failures_;
    std::atomic<bool> trace_wanted_{false};
    uint64_t trace_fed_ = 0, trace_sent_ = 0;
};

}  // namespace sipedge::ctl
