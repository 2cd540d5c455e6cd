#include "control/monitor.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

#include "control/socket.h"

namespace sipedge::ctl {

namespace {

const char* transport_text(sip::Transport t) {
    switch (t) {
    case sip::Transport::tcp: return "tcp";
    case sip::Transport::tls: return "tls";
    default: return "udp";
    }
}

std::string server_address(const failover::Trunk& t, int s) {
    if (s < 0 || size_t(s) >= t.servers.size()) return "";
    const failover::Target& g = t.servers[size_t(s)].target;
    return std::string(transport_text(g.transport)) + ":" + g.address + ":" + std::to_string(g.port);
}

// Operator-facing name of an engine notice.
const char* notice_event(failover::NoticeKind k) {
    using failover::NoticeKind;
    switch (k) {
    case NoticeKind::server_failed: return "server_down";
    case NoticeKind::server_recovered: return "server_up";
    case NoticeKind::failed_over: return "failover";
    case NoticeKind::failed_back: return "failback";
    case NoticeKind::registered: return "registered";
    case NoticeKind::registration_lost: return "registration_lost";
    case NoticeKind::registration_failures: return "registration_failures";
    default: return nullptr;
    }
}

// Decisions that are news to an operator and that no notice reports already.
bool decision_is_event(failover::Decision d) {
    using failover::Decision;
    switch (d) {
    case Decision::failover:
    case Decision::failover_exhausted:
    case Decision::backoff_over:
    case Decision::failback:
    case Decision::failback_deferred:
    case Decision::registration_expired:
    case Decision::dns_removed:
    case Decision::recovery_cancelled:
        return true;
    default: return false;
    }
}

bool same_decision(const failover::DecisionRecord& a, const failover::DecisionRecord& b) {
    return a.what == b.what && a.at == b.at && a.server == b.server && a.from == b.from && a.trigger == b.trigger;
}

std::string ip_text(const uint8_t* a, uint8_t family) {
    char b[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, b, sizeof b)) return "?";
    return b;
}

}  // namespace

Json event_json(const EventRecord& e) {
    Json j = Json::object();
    j.set("seq", e.seq);
    j.set("at_ms", int64_t(e.at));
    j.set("trunk", e.trunk);
    j.set("event", e.kind);
    j.set("server", e.server);
    j.set("address", e.address);
    j.set("identity", e.identity);
    j.set("detail", e.detail);
    return j;
}

const EventRecord& EventLog::push(EventRecord e) {
    e.seq = ++seq_;
    if (ring_.size() == cap_) ring_.pop_front();
    ring_.push_back(std::move(e));
    return ring_.back();
}

std::vector<EventRecord> EventLog::last(size_t n) const {
    const size_t k = n < ring_.size() ? n : ring_.size();
    return std::vector<EventRecord>(ring_.end() - long(k), ring_.end());
}

Result<TraceFilter> parse_trace_filter(const std::vector<std::string>& w) {
    TraceFilter f;
    if (w.empty()) return f;
    if (w.size() != 2) return err(EINVAL, "usage: monitor trace [trunk <t>|address <ip>|call-id <id>]");
    f.value = w[1];
    if (w[0] == "trunk") {
        f.by = TraceFilter::By::trunk;
    } else if (w[0] == "address") {
        f.by = TraceFilter::By::address;
        const int fam = failover::parse_ip(w[1], f.addr);
        if (fam == 0) return err(EINVAL, "address '" + w[1] + "' is not an IPv4/IPv6 literal");
        f.family = uint8_t(fam);
    } else if (w[0] == "call-id") {
        f.by = TraceFilter::By::call_id;
    } else {
        return err(EINVAL, "unknown trace filter '" + w[0] + "'; expected 'trunk', 'address' or 'call-id'");
    }
    return f;
}

bool trace_matches(const TraceFilter& f, const TraceSample& s, std::string_view trunk) noexcept {
    switch (f.by) {
    case TraceFilter::By::all: return true;
    case TraceFilter::By::trunk: return !trunk.empty() && trunk == f.value;
    case TraceFilter::By::address: {
        if (s.family != f.family) return false;
        const size_t n = f.family == 6 ? 16 : 4;
        return std::memcmp(s.src, f.addr, n) == 0 || std::memcmp(s.dst, f.addr, n) == 0;
    }
    case TraceFilter::By::call_id: {
        const size_t n = s.call_id_len < sizeof s.call_id ? s.call_id_len : sizeof s.call_id;
        return std::string_view(s.call_id, n) == f.value;
    }
    }
    return false;
}

Json trace_json(const TraceSample& s, const std::string& trunk) {
    Json j = Json::object();
    j.set("at_ms", int64_t(s.at_ms));
    j.set("core", unsigned(s.core));
    j.set("dir", s.dir ? "tx" : "rx");
    j.set("trunk", trunk);
    const std::string src = ip_text(s.src, s.family), dst = ip_text(s.dst, s.family);
    const bool v6 = s.family == 6;
    j.set("src", (v6 ? "[" + src + "]" : src) + ":" + std::to_string(s.src_port));
    j.set("dst", (v6 ? "[" + dst + "]" : dst) + ":" + std::to_string(s.dst_port));
    const size_t cl = s.call_id_len < sizeof s.call_id ? s.call_id_len : sizeof s.call_id;
    j.set("call_id", std::string(s.call_id, cl));
    j.set("len", unsigned(s.msg_len));
    const size_t hl = s.head_len < sizeof s.head ? s.head_len : sizeof s.head;
    j.set("truncated", hl < s.msg_len);
    j.set("text", std::string(s.head, hl));
    return j;
}

// ---- Monitor ----------------------------------------------------------------------------

void Monitor::bind(SocketServer* srv) {
    if (srv_) srv_->set_close_hook(nullptr);
    subs_.clear();
    srv_ = srv;
    if (srv_) srv_->set_close_hook([this](uint64_t id) { on_close(id); });
    update_wanted();
}

Status Monitor::subscribe_current(std::optional<TraceFilter> trace) {
    if (!srv_) return err(ENOTSUP, "monitor needs a control socket connection");
    const uint64_t id = srv_->current_conn();
    if (id == 0 || !srv_->mark_subscriber(id)) return err(ENOTSUP, "monitor needs a control socket connection");
    Sub s;
    s.trace = trace.has_value();
    if (trace) s.filter = std::move(*trace);
    subs_[id] = std::move(s);
    update_wanted();
    return Ok{};
}

void Monitor::on_close(uint64_t conn) {
    subs_.erase(conn);
    update_wanted();
}

void Monitor::update_wanted() {
    bool any = false;
    for (const auto& [id, s] : subs_) any = any || s.trace;
    // relaxed: a hint for workers (see trace_wanted()); no data is published with it.
    trace_wanted_.store(any, std::memory_order_relaxed);
}

void Monitor::send_events(const std::string& line) {
    if (!srv_ || subs_.empty()) return;
    // Ids first: a dropped subscriber leaves subs_ only when the socket closes it.
    std::vector<uint64_t> ids;
    for (const auto& [id, sub] : subs_)
        if (!sub.trace) ids.push_back(id);
    for (const uint64_t id : ids) srv_->push(id, line);
}

uint64_t Monitor::server_failures(const std::string& trunk, const std::string& address) const {
    auto it = failures_.find({trunk, address});
    return it == failures_.end() ? 0 : it->second;
}

void Monitor::publish_event(EventRecord e) {
    if (e.kind == "server_down") failures_[{e.trunk, e.address}]++;
    const EventRecord& stored = log_.push(std::move(e));
    send_events(event_json(stored).dump());
}

void Monitor::collect(const failover::Engine& eng, failover::Millis now) {
    for (const failover::Action& a : eng.actions()) {
        if (a.kind != failover::ActionKind::notify) continue;
        const char* kind = notice_event(a.notice.kind);
        const failover::Trunk* t = eng.trunk(a.notice.trunk_id);
        if (!kind || !t) continue;
        EventRecord e;
        e.at = a.notice.at_ms;
        e.trunk = t->name;
        e.kind = kind;
        if (a.notice.server_idx != 0xffff) {
            e.server = a.notice.server_idx;
            e.address = server_address(*t, e.server);
            if (a.notice.kind == failover::NoticeKind::server_failed && e.server < int(t->servers.size()))
                e.detail = failover::trigger_name(t->servers[size_t(e.server)].last_trigger);
        }
        if (a.notice.identity != 0xffff && a.notice.identity < t->regs.size())
            e.identity = t->regs[a.notice.identity].id.user;
        if (a.notice.kind == failover::NoticeKind::registration_failures)
            e.detail = std::to_string(a.notice.count) + " failures";
        publish_event(std::move(e));
    }
    // Nothing decided since the last walk of this engine: no trunk to look at
    // (an idle 10 ms tick with thousands of trunks, bench/RESULTS-control.md).
    if (eng.instance() == seen_instance_ && eng.decision_seq() == seen_seq_ &&
        eng.trunk_count() == seen_.size())
        return;
    if (eng.instance() != seen_instance_) {
        // A new engine (rebuild): its trunk ids start over; names carry the history.
        seen_instance_ = eng.instance();
        seen_.clear();
    }
    seen_seq_ = eng.decision_seq();
    for (uint32_t id = 0; id < eng.trunk_count(); id++) {
        const failover::Trunk* t = eng.trunk(id);
        if (!t) {  // removed (ids are not reused): nothing more to report
            if (id == seen_.size()) seen_.push_back(Seen{});
            continue;
        }
        if (id == seen_.size()) {  // first walk over this trunk of this engine
            Seen s;
            auto it = last_decision_.find(t->name);
            s.known = it != last_decision_.end();
            if (s.known) s.last = it->second;
            seen_.push_back(s);
        }
        Seen& seen = seen_[id];
        decision_checks_++;
        if (seen.known && same_decision(seen.last, t->last)) continue;
        const bool first = !seen.known;
        seen.known = true;
        seen.last = t->last;
        last_decision_[t->name] = t->last;
        // A trunk seen for the first time reports only a decision made since the last tick.
        if (!decision_is_event(t->last.what) || (first && t->last.at + 1000 < now)) continue;
        EventRecord e;
        e.at = t->last.at;
        e.trunk = t->name;
        e.kind = "decision";
        e.server = t->last.server;
        e.address = server_address(*t, t->last.server);
        e.detail = std::string(failover::decision_name(t->last.what));
        if (t->last.from >= 0) e.detail += " from #" + std::to_string(t->last.from);
        if (t->last.trigger != failover::Trigger::none)
            e.detail += std::string(" (") + failover::trigger_name(t->last.trigger) + ")";
        publish_event(std::move(e));
    }
}

void Monitor::feed_trace(const TraceSample& s, const failover::Engine& eng) {
    trace_fed_++;
    if (!srv_ || !trace_wanted()) return;
    const failover::Trunk* t = s.trunk_id == 0xffffffff ? nullptr : eng.trunk(s.trunk_id);
    const std::string trunk = t ? t->name : std::string();
    std::string line;
    std::vector<uint64_t> ids;
    for (const auto& [id, sub] : subs_)
        if (sub.trace && trace_matches(sub.filter, s, trunk)) ids.push_back(id);
    if (ids.empty()) return;
    line = trace_json(s, trunk).dump();
    for (const uint64_t id : ids)
        if (srv_->push(id, line)) trace_sent_++;
}

std::string dataplane_not_ready(const DataplaneStatus& s) {
    if (!s.attached) return "";
    if (!s.ports_started) return "ports not started";
    if (s.workers == 0) return "no worker started";
    if (s.workers_running < s.workers)
        return std::to_string(s.workers - s.workers_running) + " of " + std::to_string(s.workers) +
               " worker(s) not polling yet";
    if (s.tables_published == 0) return "no routing table published yet";
    if (s.workers_with_routes < s.workers)
        return std::to_string(s.workers - s.workers_with_routes) + " of " + std::to_string(s.workers) +
               " worker(s) without the routing table yet";
    return "";
}

}  // namespace sipedge::ctl
