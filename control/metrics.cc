#include "control/metrics.h"

#include "dataplane/stats_table.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "control/commands.h"
#include "control/dns_link.h"
#include "control/http.h"
#include "control/snmp_trap.h"

namespace sipedge::ctl {

// ---- MetricsText -----------------------------------------------------------------------

bool valid_metric_name(std::string_view n) noexcept {
    if (n.empty()) return false;
    for (size_t i = 0; i < n.size(); i++) {
        const char c = n[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

bool valid_label_name(std::string_view n) noexcept {
    if (n.empty() || n.find(':') != std::string_view::npos) return false;
    return valid_metric_name(n);
}

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (const char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

namespace {

std::string escape_help(std::string_view v) {
    std::string out;
    for (const char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

}  // namespace

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[40];
    if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15)
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    else
        std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

void MetricsText::family(std::string_view name, MetricType type, std::string_view help) {
    if (index_.find(name) != index_.end()) return;
    index_.emplace(std::string(name), families_.size());
    families_.push_back(Family{std::string(name), std::string(help), type, {}});
}

void MetricsText::add(std::string_view name, Labels labels, double value) {
    auto it = index_.find(name);
    if (it == index_.end()) return;  // undeclared: a programming error; dropped rather than malformed output
    families_[it->second].samples.push_back(Sample{std::move(labels), value});
}

std::string MetricsText::render() const {
    std::string out;
    for (const Family& f : families_) {
        if (!valid_metric_name(f.name)) continue;
        out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
        out += "# TYPE " + f.name + (f.type == MetricType::counter ? " counter\n" : " gauge\n");
        for (const Sample& s : f.samples) {
            out += f.name;
            bool first = true;
            for (const auto& [k, v] : s.labels) {
                if (!valid_label_name(k)) continue;
                out += first ? "{" : ",";
                first = false;
                out += k + "=\"" + escape_label_value(v) + "\"";
            }
            if (!first) out += "}";
            out += " " + format_value(s.value) + "\n";
        }
    }
    return out;
}

// ---- gathering -------------------------------------------------------------------------

namespace {

using C = MetricType;

std::string target_text(const failover::Target& t) {
    const bool v6 = t.address.find(':') != std::string::npos;
    return (v6 ? "[" + t.address + "]" : t.address) + ":" + std::to_string(t.port);
}

void gather_control(MetricsText& m, Controller& ctl, const OpsCounters* oc) {
    const failover::Millis now = ctl.now();
    failover::Engine& eng = ctl.engine();
    m.family("sipedge_trunks", C::gauge, "Configured trunks.");
    m.add("sipedge_trunks", {}, double(ctl.state().trunks.size()));
    m.family("sipedge_trunk_running", C::gauge, "1 when the trunk runs in the failover engine, 0 when idle (incomplete).");
    m.family("sipedge_trunk_active_server", C::gauge,
             "Engine index + 1 of the trunk's validated/working server; 0 = none.");
    m.family("sipedge_trunk_backoff", C::gauge, "1 while every server failed and the trunk is in back-off.");
    m.family("sipedge_server_health", C::gauge,
             "Server health state set: 1 for the current state (up, failed, recovering), else 0.");
    m.family("sipedge_server_srtt_seconds", C::gauge, "Smoothed round-trip time to the server; 0 = no sample.");
    m.family("sipedge_server_active_dialogs", C::gauge, "Dialogs established through the server.");
    m.family("sipedge_registrations", C::gauge,
             "Identities by registration state (registered, registering, unregistered).");
    for (const auto& [name, t] : ctl.state().trunks) {
        const auto id = ctl.engine_id(name);
        m.add("sipedge_trunk_running", {{"trunk", name}}, id ? 1 : 0);
        if (!id) continue;
        const failover::Trunk* tr = eng.trunk(*id);
        if (!tr) continue;
        m.add("sipedge_trunk_active_server", {{"trunk", name}}, double(tr->active + 1));
        m.add("sipedge_trunk_backoff", {{"trunk", name}}, tr->backoff_until > now ? 1 : 0);
        for (size_t s = 0; s < tr->servers.size(); s++) {
            const failover::ServerState& sv = tr->servers[s];
            const std::string idx = std::to_string(s + 1);
            const failover::Health h = eng.health(*id, uint16_t(s), now);
            for (const failover::Health st :
                 {failover::Health::up, failover::Health::failed, failover::Health::recovering,
                  failover::Health::maintenance})
                m.add("sipedge_server_health",
                      {{"trunk", name}, {"server", idx}, {"target", target_text(sv.target)},
                       {"state", failover::health_name(st)}},
                      h == st ? 1 : 0);
            m.add("sipedge_server_srtt_seconds", {{"trunk", name}, {"server", idx}}, double(sv.srtt_us) / 1e6);
            m.add("sipedge_server_active_dialogs", {{"trunk", name}, {"server", idx}}, double(sv.active_dialogs));
        }
        uint32_t registered = 0, registering = 0, unregistered = 0;
        for (const failover::Registration& r : tr->regs) {
            if (r.bound >= 0) registered++;
            else if (r.txn_server >= 0) registering++;
            else unregistered++;
        }
        m.add("sipedge_registrations", {{"trunk", name}, {"state", "registered"}}, registered);
        m.add("sipedge_registrations", {{"trunk", name}, {"state", "registering"}}, registering);
        m.add("sipedge_registrations", {{"trunk", name}, {"state", "unregistered"}}, unregistered);
    }
    // DNS (control/dns_link.h): per name and record type the resolver asked
    // about, what it asked and how it went; server sets handed to the engine.
    if (DnsLink* dl = ctl.dns()) {
        m.family("sipedge_dns_server_sets_applied_total", C::counter,
                 "Resolved server lists handed to the failover engine.");
        m.add("sipedge_dns_server_sets_applied_total", {}, double(dl->applied()));
        if (dns::Resolver* res = dl->resolver()) {
            m.family("sipedge_dns_queries_total", C::counter, "DNS queries sent, per name and type.");
            m.family("sipedge_dns_failures_total", C::counter,
                     "DNS queries that failed (timeout, SERVFAIL, NXDOMAIN...), per name and type.");
            m.family("sipedge_dns_fallback_answers_total", C::counter,
                     "Answers served from a fallback instead of the network: restored (last good, "
                     "serve-stale) or static records.");
            m.family("sipedge_dns_answer_ok", C::gauge,
                     "1 when the answer in use for the name and type is usable, else 0.");
            for (const dns::NameStatus& n : res->name_status()) {
                const Labels l{{"name", n.question.name}, {"type", dns::to_string(n.question.type)}};
                m.add("sipedge_dns_queries_total", l, double(n.queries));
                m.add("sipedge_dns_failures_total", l, double(n.failures));
                Labels r = l;
                r.emplace_back("source", "restored");
                m.add("sipedge_dns_fallback_answers_total", r, double(n.restores));
                Labels s = l;
                s.emplace_back("source", "static");
                m.add("sipedge_dns_fallback_answers_total", s, double(n.static_uses));
                m.add("sipedge_dns_answer_ok", l, n.status == dns::AnswerStatus::ok ? 1.0 : 0.0);
            }
        }
    }
    if (!oc) return;
    m.family("sipedge_server_failures_total", C::counter,
             "Transitions of a server to failed, by the trigger that failed it.");
    for (const auto& [k, n] : oc->server_failures)
        m.add("sipedge_server_failures_total",
              {{"trunk", std::get<0>(k)}, {"server", std::to_string(std::get<1>(k) + 1)}, {"trigger", std::get<2>(k)}},
              double(n));
    m.family("sipedge_notices_total", C::counter, "Operator notices the failover engine emitted, by kind.");
    for (const auto& [k, n] : oc->notices)
        m.add("sipedge_notices_total", {{"trunk", k.first}, {"kind", failover::notice_name(k.second)}}, double(n));
    m.family("sipedge_snmp_traps_total", C::counter, "SNMP traps handed to the network, and those that failed.");
    m.add("sipedge_snmp_traps_total", {{"result", "sent"}}, double(oc->traps_sent));
    m.add("sipedge_snmp_traps_total", {{"result", "failed"}}, double(oc->traps_failed));
}

void gather_workers(MetricsText& m, std::span<const CoreCounters> cores) {
    if (cores.empty()) return;
    m.family("sipedge_worker_packets_total", C::counter, "Packets received/sent by the worker core.");
    m.family("sipedge_worker_bytes_total", C::counter, "Bytes received/sent by the worker core.");
    m.family("sipedge_worker_drops_total", C::counter, "Packets dropped by the worker core, by reason.");
    m.family("sipedge_worker_sip_requests_total", C::counter, "SIP requests received/forwarded.");
    m.family("sipedge_worker_sip_responses_total", C::counter, "SIP responses received/sent.");
    m.family("sipedge_worker_retransmissions_total", C::counter,
             "Retransmissions absorbed (rx) and sent by timers (tx).");
    m.family("sipedge_worker_transactions_total", C::counter, "Transactions created.");
    m.family("sipedge_worker_transactions_active", C::gauge, "Transactions alive now.");
    m.family("sipedge_worker_transaction_failures_total", C::counter, "Client transactions failed, by trigger.");
    m.family("sipedge_worker_rollovers_total", C::counter, "Requests rolled over to the next server, by trigger.");
    m.family("sipedge_worker_calls_total", C::counter, "INVITEs: attempted, answered (2xx), failed (>= 300).");
    m.family("sipedge_worker_route_lookups_total", C::counter,
             "Route-pattern lookups of new requests: matched, no match (fallback), bad input, scan error.");
    m.family("sipedge_worker_ipv4_fragments_total", C::counter,
             "IPv4 fragments handed to the reassembler (rx) and sent (tx).");
    m.family("sipedge_worker_ipv4_datagrams_fragmented_total", C::counter,
             "Datagrams reassembled from fragments, and datagrams sent fragmented.");
    m.family("sipedge_worker_handoff_total", C::counter,
             "Packets handed to the worker their branch names (pushed), taken from our ring (drained), ARP copies shared.");
    m.family("sipedge_worker_trace_samples_total", C::counter,
             "SIP messages copied for `monitor trace` subscribers, and copies dropped (trace ring full).");
    m.family("sipedge_worker_timer_c_fired_total", C::counter,
             "Forwarded INVITEs cancelled by Timer C (no final response in time after a provisional).");
    m.family("sipedge_worker_cross_interface_requests_total", C::counter,
             "Rollovers to a server behind another interface (our Via and Record-Route rewritten for it).");
    m.family("sipedge_worker_overload_rejected_total", C::counter,
             "New out-of-dialog requests answered 503 + Retry-After because the worker's transaction "
             "slots, timers or retained-message slots were past the overload watermark.");
    m.family("sipedge_worker_tombstones_total", C::counter,
             "Completed transactions kept as tombstones (created), late copies they answered or "
             "absorbed (hit), and tombstones dropped before their expiry for room (evicted).");
    m.family("sipedge_worker_policy_refusals_total", C::counter,
             "Requests the access policy refused (403; 482 for loop; ACKs dropped), by reason: route (a Route "
             "we did not write), dialog (in dialog without our Record-Route), token (our Record-Route without "
             "the dialog's token), loop.");
    m.family("sipedge_worker_acks_absorbed_total", C::counter,
             "ACKs of our stateless rejections (To tag we minted), consumed instead of forwarded.");
    m.family("sipedge_worker_reject_records_overwritten_total", C::counter,
             "Stateless-rejection records reused before their 32 s (more rejections than the ring holds).");
    m.family("sipedge_worker_guard_refusals_total", C::counter,
             "Out-of-dialog requests from the access side refused by the access guard, by reason: not_peer "
             "(403: restrict-sources on and the source is in no access peer's networks), source_flood (the "
             "source passed source-rps and is blocked), peer_rate (its peer's bucket for the kind was empty).");
    m.family("sipedge_worker_guard_dropped_total", C::counter,
             "Of the source_flood and peer_rate refusals, those dropped silently (access-guard action drop) "
             "instead of answered 503 + Retry-After.");
    m.family("sipedge_worker_overload_shed_milliseconds_total", C::counter,
             "Milliseconds the worker shed load: behind for 5 ms in a row (3 of 4 RX polls of each returned a "
             "full burst) with 512 packets drained since, it dropped new INVITEs unparsed "
             "(sipedge_worker_drops_total{reason=\"sip_shed\"}; dataplane/overload.h).");
    m.family("sipedge_worker_exception_packets_total", C::counter,
             "The kernel exception path (--exception-tap; TCP/TLS behind the data port), by direction: "
             "to_kernel (TCP segments for our address and ARP replies, written to the tap), from_kernel "
             "(the kernel's frames sent out of the data port).");
    m.family("sipedge_worker_topology_hiding_total", C::counter,
             "Topology hiding toward carriers (trunk topology-hiding on), by op: request_hidden, "
             "response_hidden (Contact encoded, access Record-Routes cut), vias_restored, uri_decoded "
             "(a ;sxh= Request-URI sent to its Contact), uri_refused (404: a ;sxh= not ours), contact_kept "
             "(a Contact that is not an IPv4 sip/sips URI, left as it was).");
    m.family("sipedge_worker_malformed_answered_total", C::counter,
             "Requests the parser refused that were answered 400/505 (a Via was readable).");
    m.family("sipedge_worker_transactions_revived_total", C::counter,
             "Requests resent at once because a server that had left them unanswered answered again "
             "(a probe's answer or any response), instead of at the next retransmission timer.");
    m.family("sipedge_worker_responses_generated_total", C::counter,
             "Responses sipedge generated itself (100/400/403/404/408/481/482/483/487/503).");
    m.family("sipedge_worker_stateless_forwarded_total", C::counter,
             "Requests forwarded end to end without a transaction (ACK for a 2xx, strays the policy allows).");
    m.family("sipedge_worker_sip_methods_rx_total", C::counter, "ACK, BYE and CANCEL requests received.");
    m.family("sipedge_worker_control_ring_total", C::counter,
             "The rings between a worker and the control thread: failover events reported and dropped (ring "
             "full), control's REGISTER/OPTIONS sent, responses steered to control and dropped (ring full).");
    m.family("sipedge_worker_interface_packets_total", C::counter,
             "Packets received/sent per interface (index of the configured ports, in port order).");
    m.family("sipedge_worker_busy_cycles_total", C::counter,
             "TSC cycles of worker loop iterations that received, drained or sent packets "
             "(divide by sipedge_worker_tsc_hz for seconds).");
    m.family("sipedge_worker_idle_cycles_total", C::counter,
             "TSC cycles of worker loop iterations that found nothing to do.");
    m.family("sipedge_worker_polls_total", C::counter, "Worker loop iterations, busy and idle.");
    m.family("sipedge_worker_tsc_hz", C::gauge, "The TSC frequency the worker cycle counters run at (Hz).");
    m.family("sipedge_worker_udp_csum_partial_total", C::counter,
             "UDP datagrams accepted whose checksum a peer left to an offload (pseudo-header partial sum "
             "on net_af_packet/net_tap ports, or flagged by the PMD).");
    for (const CoreCounters& c : cores) {
        const std::string core = std::to_string(c.lcore);
        // Every counter of the one table (dataplane/stats_table.h) that has a family.
        for (const dp::CounterInfo& f : dp::worker_counters()) {
            if (!f.metric) continue;
            if (f.label) m.add(f.metric, {{"core", core}, {f.label, f.value}}, double(c.stats.*f.field));
            else m.add(f.metric, {{"core", core}}, double(c.stats.*f.field));
        }
        for (size_t i = 0; i < std::size(c.stats.port_rx); i++) {
            if (!c.stats.port_rx[i] && !c.stats.port_tx[i]) continue;  // unused interface
            const std::string f = std::to_string(i);
            m.add("sipedge_worker_interface_packets_total", {{"core", core}, {"iface", f}, {"direction", "rx"}},
                  double(c.stats.port_rx[i]));
            m.add("sipedge_worker_interface_packets_total", {{"core", core}, {"iface", f}, {"direction", "tx"}},
                  double(c.stats.port_tx[i]));
        }
        // Issue 12: loop time and checksums left to an offload. The worker
        // index (its position, = branch core and queue) beside the lcore.
        const Labels wl{{"core", core}, {"worker", std::to_string(&c - cores.data())}};
        m.add("sipedge_worker_busy_cycles_total", wl, double(c.stats.busy_cycles));
        m.add("sipedge_worker_idle_cycles_total", wl, double(c.stats.idle_cycles));
        m.add("sipedge_worker_polls_total", [&] { Labels l = wl; l.emplace_back("kind", "busy"); return l; }(),
              double(c.stats.busy_polls));
        m.add("sipedge_worker_polls_total", [&] { Labels l = wl; l.emplace_back("kind", "idle"); return l; }(),
              double(c.stats.idle_polls));
        if (c.tsc_hz) m.add("sipedge_worker_tsc_hz", wl, double(c.tsc_hz));
        m.add("sipedge_worker_udp_csum_partial_total", {{"core", core}}, double(c.stats.rx_udp_csum_partial));
        for (size_t r = 0; r < dp::drop_reason_count; r++)
            m.add("sipedge_worker_drops_total",
                  {{"core", core}, {"reason", dp::drop_reason_name(dp::DropReason(r))}}, double(c.stats.drops[r]));
    }
}

}  // namespace

void gather_metrics(MetricsText& m, Controller& ctl, const OpsCounters* counters, std::span<const CoreCounters> cores) {
    gather_control(m, ctl, counters);
    gather_workers(m, cores);
}

std::string metrics_text(Controller& ctl, const OpsCounters* counters, std::span<const CoreCounters> cores) {
    MetricsText m;
    gather_metrics(m, ctl, counters, cores);
    return m.render();
}

// ---- Ops -------------------------------------------------------------------------------

namespace {

uint64_t steady_ms() {
    return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now().time_since_epoch()).count());
}
const uint64_t process_start_ms = steady_ms();

}  // namespace

Ops::Ops(Controller& ctl) : ctl_(ctl) {
    ctl_.set_ops(this);
    ctl_.set_notice_sink([this](const failover::Notification& n) { on_notice(n); });
    auto h = HttpServer::create(HttpOptions{}, [this] { return render(); });
    if (h) http_ = std::move(h.value());
    else std::fprintf(stderr, "sipedge: %s\n", h.error().message.c_str());
}

Ops::~Ops() {
    ctl_.set_notice_sink(nullptr);
    ctl_.set_ops(nullptr);
}

int Ops::fd() const noexcept { return http_ ? http_->fd() : -1; }

void Ops::on_ready() {
    if (!http_) return;
    http_->on_ready();
    counters_.http_requests = http_->requests();
    counters_.http_rejected = http_->rejected();
}

std::string Ops::render() {
    std::vector<CoreCounters> cores;
    if (stats_) stats_(cores);
    return metrics_text(ctl_, &counters_, cores);
}

Status Ops::set_http(const std::string& addr) {
    if (addr == http_addr_) return Ok{};
    if (!http_) return err(EIO, "metrics-http: the listener could not be created at start-up");
    if (addr.empty()) {
        http_->close_listener();
        http_addr_.clear();
        return Ok{};
    }
    auto ap = parse_ip_port(addr);
    if (!ap) return ap.error();
    if (Status s = http_->listen(ap.value().first, ap.value().second); !s) return s;
    http_addr_ = addr;
    return Ok{};
}

Status Ops::set_trap_receiver(const std::string& addr, const std::string& community) {
    if (addr.empty()) {
        trap_.reset();
        return Ok{};
    }
    auto ap = parse_ip_port(addr, 162);
    if (!ap) return ap.error();
    auto t = TrapSender::open(ap.value().first, ap.value().second, community);
    if (!t) return t.error();
    trap_ = std::move(t.value());
    return Ok{};
}

void Ops::on_notice(const failover::Notification& n) {
    const failover::Trunk* t = ctl_.engine().trunk(n.trunk_id);
    if (!t) return;
    counters_.notices[{t->name, n.kind}]++;
    if (n.kind == failover::NoticeKind::server_failed && n.server_idx < t->servers.size())
        counters_.server_failures[{t->name, n.server_idx, failover::trigger_name(t->servers[n.server_idx].last_trigger)}]++;
    if (n.kind != failover::NoticeKind::registration_failures || !trap_) return;

    // The notice names the trunk and the count; the identity, server and
    // reason come from the trunk's state at the time of the notice.
    TrapInfo info;
    info.trunk = t->name;
    info.failures = n.count;
    const failover::Registration* worst = nullptr;
    if (n.identity < t->regs.size()) worst = &t->regs[n.identity];
    for (const failover::Registration& r : t->regs)
        if (!worst || r.failures > worst->failures) worst = &r;
    if (worst) info.identity = worst->id.user;
    // The server: the notice's, else the one whose failure is the most recent,
    // else where REGISTERs go now.
    int16_t s = -1;
    for (size_t x = 0; x < t->servers.size(); x++) {
        const failover::ServerState& sv = t->servers[x];
        if (sv.failed && (s < 0 || sv.last_trigger_at > t->servers[size_t(s)].last_trigger_at)) s = int16_t(x);
    }
    if (n.server_idx != 0xffff) s = int16_t(n.server_idx);
    if (s < 0) s = t->reg_target;
    if (s >= 0 && size_t(s) < t->servers.size()) {
        const failover::ServerState& sv = t->servers[size_t(s)];
        info.server = target_text(sv.target);
        info.reason = sv.failed ? failover::trigger_name(sv.last_trigger) : "denied";
    } else {
        info.reason = "no_server";
    }
    const uint64_t up_cs = (steady_ms() - process_start_ms) / 10;
    Status st = trap_->send_registration_failures(info, uint32_t(up_cs));
    if (st) {
        counters_.traps_sent++;
    } else {
        counters_.traps_failed++;
        std::fprintf(stderr, "sipedge: %s\n", st.error().message.c_str());
    }
}

}  // namespace sipedge::ctl
