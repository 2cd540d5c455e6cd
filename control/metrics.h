#pragma once
// Metrics in the Prometheus text exposition format 0.0.4, and the process's
// "ops" runtime that serves them (HTTP listener) and sends SNMP traps.
//
// MetricsText is a small registry: families (name, type, help) in the order
// first declared, each with its samples (labels, value); render() writes the
// HELP and TYPE lines once per family followed by its samples, with label
// values escaped (\\, \", \n). gather_metrics() fills one from the Controller
// (trunks, servers, registrations), the notice/trap counters and any number of
// worker stats blocks the caller hands in. Control thread only.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "base/result.h"
#include "dataplane/stats_types.h"
#include "failover/events_types.h"

namespace sipedge::ctl {

class Controller;
class HttpServer;  // control/http.h
class TrapSender;  // control/snmp_trap.h

enum class MetricType : uint8_t { counter, gauge };

using Labels = std::vector<std::pair<std::string, std::string>>;

class MetricsText {
public:
    /// Declares family <name> (once; later calls with the same name are
    /// ignored). Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, counters end in _total.
    void family(std::string_view name, MetricType type, std::string_view help);
    /// Adds a sample to family <name> (declared first). Label names must match
    /// [a-zA-Z_][a-zA-Z0-9_]*; values are any bytes (escaped on render).
    void add(std::string_view name, Labels labels, double value);
    /// The exposition text; ends with a newline (empty registry: "").
    std::string render() const;
    size_t family_count() const noexcept { return families_.size(); }

private:
    struct Sample {
        Labels labels;
        double value;
    };
    struct Family {
        std::string name, help;
        MetricType type;
        std::vector<Sample> samples;
    };
    std::vector<Family> families_;
    std::map<std::string, size_t, std::less<>> index_;
};

/// "metric name" / "label name" syntax checks (exposed for tests).
bool valid_metric_name(std::string_view n) noexcept;
bool valid_label_name(std::string_view n) noexcept;
/// Label value escaping of the text format: \ → \\, " → \", newline → \n.
std::string escape_label_value(std::string_view v);
/// A sample value: integers without a fraction, others with up to 17 digits,
/// +Inf/-Inf/NaN spelled as the format wants.
std::string format_value(double v);

/// One worker core's counters as the caller read them.
struct CoreCounters {
    unsigned lcore = 0;
    dp::WorkerStats stats;
    uint64_t tsc_hz = 0;  // the clock of stats.busy_cycles/idle_cycles (0: not known)
};

/// Counters the ops runtime keeps from the engine's notices and the traps it sent.
struct OpsCounters {
    std::map<std::pair<std::string, failover::NoticeKind>, uint64_t> notices;          // (trunk, kind)
    std::map<std::tuple<std::string, uint16_t, std::string>, uint64_t> server_failures;  // (trunk, server, trigger)
    uint64_t traps_sent = 0, traps_failed = 0;
    uint64_t http_requests = 0, http_rejected = 0;
};

/// Fills <m> from the committed state and engine of <ctl> (at ctl.now()),
/// <counters> (may be null) and <cores>.
void gather_metrics(MetricsText& m, Controller& ctl, const OpsCounters* counters, std::span<const CoreCounters> cores);
/// gather + render.
std::string metrics_text(Controller& ctl, const OpsCounters* counters, std::span<const CoreCounters> cores);

/// Reads the workers' counters now (sipedge's main sets it; none in sipedge-control).
using StatsSource = std::function<void(std::vector<CoreCounters>&)>;

/// The process's metrics and trap runtime. Attaches itself to the Controller
/// (set_ops, notice sink): every notify action the engine emits is counted
/// and, for registration-failure notices, sent as an SNMPv2c trap when a
/// receiver is configured. The HTTP listener is created lazily by the
/// `set global metrics-http` command; its poll fd (fd()) is stable for the
/// life of Ops so the loop watches it once.
class Ops {
public:
    explicit Ops(Controller& ctl);
    ~Ops();
    Ops(const Ops&) = delete;
    Ops& operator=(const Ops&) = delete;

    /// Fd to watch for readability (the HTTP listener's epoll fd); on_ready() serves it.
    int fd() const noexcept;
    void on_ready();

    void set_stats_source(StatsSource s) { stats_ = std::move(s); }
    /// The exposition text now (Controller + counters + workers).
    std::string render();

    /// cmd_ops.cc: binds the listener at <ip>:<port> ("" closes it). On error
    /// the previous listener stays as it was.
    Status set_http(const std::string& addr);
    const std::string& http_address() const noexcept { return http_addr_; }
    /// cmd_ops.cc: the trap receiver ("" = none).
    Status set_trap_receiver(const std::string& addr, const std::string& community);

    void on_notice(const failover::Notification& n);
    const OpsCounters& counters() const noexcept { return counters_; }
    HttpServer* http() noexcept { return http_.get(); }

private:
    Controller& ctl_;
    StatsSource stats_;
    OpsCounters counters_;
    std::unique_ptr<HttpServer> http_;
    std::string http_addr_;
    std::unique_ptr<TrapSender> trap_;
};

}  // namespace sipedge::ctl
