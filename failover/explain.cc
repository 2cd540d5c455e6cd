// Explainability: for one trunk, the candidates new requests would use now,
// every server's state, the registration state of each identity, and the
// reason for the last routing decision (control socket "show trunk <name>").

#include <cstdarg>
#include <cstdio>
#include <string>

#include "failover/engine.h"

namespace sipedge::failover {

namespace {

void appendf(std::string& s, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void appendf(std::string& s, const char* fmt, ...) {
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    if (n > 0) s.append(b, size_t(n) < sizeof b ? size_t(n) : sizeof b - 1);
}

double secs(Millis m) { return double(m) / 1000.0; }

}  // namespace

std::string Engine::explain(uint32_t id, Millis now) {
    std::string out;
    if (id >= trunks_.size() || trunks_[id].removed) return "unknown trunk\n";
    Trunk& t = trunks_[id];
    appendf(out, "trunk %u \"%s\" mode=%s failback=%s gen=%u list-epoch=%u active=%d primary=%d reg_target=%d\n", t.id,
            t.name.c_str(), t.knobs.mode == SelectMode::validated ? "validated" : "top-first",
            t.knobs.failback_mode == FailbackMode::duration       ? "duration"
            : t.knobs.failback_mode == FailbackMode::new_requests ? "newRequests"
            : t.knobs.failback_mode == FailbackMode::dns_ttl      ? "DNSTTL"
            : t.knobs.failback_mode == FailbackMode::registration ? "registration"
            : t.knobs.mode == SelectMode::validated               ? "auto(duration)"
                                                                  : "auto(newRequests)",
            unsigned(t.gen), unsigned(t.list_epoch), int(t.active), int(primary(t)), int(t.reg_target));
    if (t.backoff_until > now) appendf(out, "  back-off until %.3fs (%u exhausted walks)\n", secs(t.backoff_until), t.backoff_count);
    if (t.failback_at != never_ms) appendf(out, "  failback due at %.3fs\n", secs(t.failback_at));
    if (t.tf_current >= 0 && t.tf_hold_until > now)
        appendf(out, "  failback hold: new requests stay on #%d until %s (top-first, failback-mode)\n",
                int(t.tf_current), t.tf_hold_until == never_ms ? "it fails" : std::to_string(secs(t.tf_hold_until)).c_str());
    if (t.anchor >= 0)
        appendf(out, "  sticky route: #%d since %.3fs (registered there when DNS reordered the answer; kept until it "
                     "fails or leaves the answer)\n", int(t.anchor), secs(t.anchor_since));
    else if (t.sticky_pending >= 0)
        appendf(out, "  sticky route pending: #%d (DNS reordered while its REGISTER was in flight)\n",
                int(t.sticky_pending));
    else if (t.from_dns)
        out += "  sticky route: none (follows the DNS order until registered)\n";
    // The candidates, computed as publish() would.
    TrunkRoutes r;
    build_routes(t, now, r);
    out += "  candidates:";
    if (r.count == 0) out += (r.flags & routes_no_registration) ? " none (no registration, onlySignalWithRegistered)" : " none";
    for (size_t i = 0; i < r.count; i++) appendf(out, " #%u", unsigned(r.cand[i].server_idx));
    out += "\n";
    for (size_t s = 0; s < t.servers.size(); s++) {
        const ServerState& sv = t.servers[s];
        const Health h = health(t.id, uint16_t(s), now);
        appendf(out, "  #%zu rec=%u %s %s:%u prio=%u w=%u ttl=%u %s", s, unsigned(sv.record),
                sv.target.transport == sip::Transport::tcp   ? "tcp"
                : sv.target.transport == sip::Transport::tls ? "tls"
                                                             : "udp",
                sv.target.address.c_str(), unsigned(sv.target.port), unsigned(sv.target.priority),
                unsigned(sv.target.weight), sv.target.ttl_s, health_name(h));
        if (h == Health::recovering) appendf(out, "(until %.3fs)", secs(sv.recover_at));
        if (sv.maintenance && sv.failed) out += "(failed)";
        if (sv.maintenance && sv.draining) out += " draining";
        if (sv.hold_until > now) appendf(out, " held-until=%.3fs", secs(sv.hold_until));
        if (sv.last_trigger != Trigger::none)
            appendf(out, " last=%s@%.3fs", trigger_name(sv.last_trigger), secs(sv.last_trigger_at));
        if (sv.srtt_us) appendf(out, " srtt=%.1fms", sv.srtt_us / 1000.0);
        if (sv.active_dialogs) appendf(out, " dialogs=%u", sv.active_dialogs);
        if (sv.family == 0) out += " unresolved";
        out += "\n";
    }
    for (size_t i = 0; i < t.regs.size(); i++) {
        const Registration& g = t.regs[i];
        appendf(out, "  identity %zu %s: ", i, g.id.user.c_str());
        if (g.bound >= 0)
            appendf(out, "registered on #%d, expires %.3fs, refresh %.3fs", int(g.bound), secs(g.expires_at),
                    secs(g.refresh_at));
        else
            out += "unregistered";
        if (g.txn_server >= 0) appendf(out, ", REGISTER in flight to #%d", int(g.txn_server));
        appendf(out, ", call-id %s\n", g.call_id.c_str());
    }
    appendf(out, "  last decision: %s at %.3fs", decision_name(t.last.what), secs(t.last.at));
    if (t.last.server >= 0) appendf(out, " server #%d", int(t.last.server));
    if (t.last.from >= 0) appendf(out, " from #%d", int(t.last.from));
    if (t.last.trigger != Trigger::none) appendf(out, " (%s)", trigger_name(t.last.trigger));
    out += "\n";
    return out;
}

}  // namespace sipedge::failover
