// sip-server monitor (seed A): optional OPTIONS probes per server, always or
// only while the server is failed, with down/up thresholds; a 503 counts as
// down and its Retry-After holds the server down; first probes are spread
// over one interval. A server in maintenance is not probed (its planned
// outage raises no failure, counter or trap) and an answer that arrives
// after maintenance began is ignored; leaving maintenance probes it at once
// (Engine::set_admin). Part of Engine.

#include <algorithm>
#include <cstdio>

#include "failover/backoff.h"
#include "failover/engine.h"

namespace sipedge::failover {

void Engine::monitor_tick(Trunk& t, Millis now) {
    if (t.knobs.probe_mode == ProbeMode::off) return;
    for (uint16_t s = 0; s < t.servers.size(); s++) {
        ServerState& sv = t.servers[s];
        if (sv.probe_deadline != never_ms && now >= sv.probe_deadline) {
            sv.probe_deadline = never_ms;
            if (!sv.maintenance) probe_result(t, s, false, 0, now);
        }
        if (sv.family == 0 || sv.maintenance || sv.probe_deadline != never_ms ||
            now < sv.next_probe_at)
            continue;
        const bool down = sv.failed || sv.recover_at > now;
        // Catch up without bursting: the next probe is one interval from its
        // slot, so probes keep the spread they were given at start.
        const Millis interval = Millis(t.knobs.probe_interval_s) * 1000;
        sv.next_probe_at += interval;
        if (sv.next_probe_at <= now) sv.next_probe_at = now + interval;
        if (t.knobs.probe_mode == ProbeMode::while_failed && !down) continue;
        sv.probe_cseq++;
        sv.probe_deadline = now + server_budget_ms(t.knobs.other_policy);
        Action a;
        a.kind = ActionKind::send_options;
        a.trunk = t.id;
        a.server = s;
        a.cseq = sv.probe_cseq;
        actions_.push_back(a);
    }
}

void Engine::on_probe_response(uint32_t trunk, uint16_t server, uint32_t cseq, uint16_t status,
                               uint32_t retry_after_s, Millis now) {
    if (trunk >= trunks_.size() || server >= trunks_[trunk].servers.size()) return;
    Trunk& t = trunks_[trunk];
    ServerState& sv = t.servers[server];
    if (sv.probe_deadline == never_ms || cseq != sv.probe_cseq || status < 200) return;
    sv.probe_deadline = never_ms;
    if (sv.maintenance) return;  // sent before maintenance began: says nothing now
    // Any final answer shows the server alive (405/404 included), except 503.
    probe_result(t, server, status != 503, status == 503 ? retry_after_s : 0, now);
}

void Engine::probe_result(Trunk& t, uint16_t s, bool up, uint32_t retry_after_s, Millis now) {
    ServerState& sv = t.servers[s];
    if (!up) {
        sv.probe_oks = 0;
        if (sv.probe_fails < 255) sv.probe_fails++;
        if (retry_after_s) {
            // A 503's Retry-After holds the server down for that long.
            sv.hold_until = std::max<Millis>(sv.hold_until, now + Millis(retry_after_s) * 1000);
            sv.recover_at = std::max<Millis>(sv.recover_at, now + Millis(retry_after_s) * 1000);
        }
        if (sv.probe_fails >= t.knobs.probe_down_threshold) {
            if (!sv.failed) server_failed_in_use(t, s, Trigger::probe_down, now);
            else t.dirty = true;
        }
        return;
    }
    sv.probe_fails = 0;
    if (sv.hold_until > now) return;  // still inside a Retry-After: answers do not count
    if (sv.probe_oks < 255) sv.probe_oks++;
    if (sv.failed && sv.probe_oks >= t.knobs.probe_up_threshold) mark_alive(t, s, Trigger::probe_up, now);
}

size_t Engine::write_options(const Action& a, const SendContext& ctx, char* buf, size_t cap) const {
    if (a.trunk >= trunks_.size() || a.server >= trunks_[a.trunk].servers.size()) return 0;
    const Trunk& t = trunks_[a.trunk];
    const ServerState& sv = t.servers[a.server];
    const bool v6 = sv.family == 6;
    const char* tr = sv.target.transport == sip::Transport::tcp   ? "TCP"
                     : sv.target.transport == sip::Transport::tls ? "TLS"
                                                                  : "UDP";
    const int n = std::snprintf(
        buf, cap,
        "OPTIONS sip:%s%s%s:%u SIP/2.0\r\n"
        "Via: SIP/2.0/%s %.*s;branch=%.*s;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:monitor@%s>;tag=mon%u-%u\r\n"
        "To: <sip:%s%s%s:%u>\r\n"
        "Call-ID: mon-%u-%u@%s\r\n"
        "CSeq: %u OPTIONS\r\n"
        "User-Agent: %s\r\n"
        "Content-Length: 0\r\n\r\n",
        v6 ? "[" : "", sv.target.address.c_str(), v6 ? "]" : "", unsigned(sv.target.port), tr,
        int(ctx.sent_by.size()), ctx.sent_by.data(), int(ctx.branch.size()), ctx.branch.data(), t.domain.c_str(),
        unsigned(t.id), unsigned(a.server), v6 ? "[" : "", sv.target.address.c_str(), v6 ? "]" : "",
        unsigned(sv.target.port), unsigned(t.id), unsigned(a.server), t.domain.c_str(), unsigned(a.cseq),
        opt_.user_agent.c_str());
    return n > 0 && size_t(n) < cap ? size_t(n) : 0;
}

}  // namespace sipedge::failover
