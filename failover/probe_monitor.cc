// sip-server monitor (seed A): optional OPTIONS probes per server, always or
// only while the server is failed, with down/up thresholds. Each probe is a
// new non-INVITE transaction (RFC 3261 §8.1.1.4: its own Call-ID, From tag
// and branch) retransmitted by Timer E (T1 doubling to T2 of the trunk's
// non-INVITE policy) until a final answer or the probe timeout
// (monitor-timeout, default 64·T1): one lost datagram does not fail a healthy
// server. A probe to a server already known failed waits one interval at
// most, so a server that comes back is seen within interval × up-threshold.
// A 503 fails the server at once; its Retry-After (bounded by
// retry-after-max) holds it down for that long and answers inside the hold
// do not count. First probes are spread over one interval. A server in
// maintenance is not probed (its planned outage raises no failure, counter or
// trap) and an answer that arrives after maintenance began is ignored;
// leaving maintenance probes it at once (Engine::set_admin → probe_soon()).
// The ProbeMonitor type: probe_monitor.h.
//
// Health, with the monitor on, is one state machine per server: up → failed
// on the trunk's rule (rollover timeouts, ICMP, 503 from live traffic; probe
// down-threshold or a probe's 503) → up only after up-threshold consecutive
// answered probes (and the recovery delay, when set, has ended). Live
// successes do not bring a failed server back while probes decide
// (Engine::on_event): a late answer to a request sent before the failure says
// nothing about now. build_routes() lists failed servers after every healthy
// one.

#include "failover/probe_monitor.h"

#include <algorithm>
#include <cstdio>

#include "failover/backoff.h"

namespace sipedge::failover {

ProbeMonitor::ProbeMonitor(Random& rng, std::vector<Action>& out, ProbeHost& host, std::string user_agent,
                           uint32_t first_id)
    : rng_(rng), out_(out), host_(host), user_agent_(std::move(user_agent)), probe_seq_(first_id) {}

void ProbeMonitor::spread(Trunk& t, Millis now) {
    const uint64_t interval_ms = uint64_t(t.knobs.probe_interval_s) * 1000;
    for (ServerState& s : t.servers) s.next_probe_at = now + rng_.uniform(0, interval_ms - 1);
}

void ProbeMonitor::probe_soon(Trunk& t, uint16_t s, Millis now) { t.servers[s].next_probe_at = now; }

void ProbeMonitor::on_failed(Trunk& t, uint16_t s, bool newly, Millis now) {
    ServerState& sv = t.servers[s];
    sv.probe_oks = 0;
    // A probe sent while it was up waits monitor-timeout (32 s): now that it
    // is failed, one interval is enough, so that its return is seen within
    // interval × up-threshold.
    if (newly && t.knobs.probe_mode != ProbeMode::off && sv.probe_deadline != never_ms)
        sv.probe_deadline = std::min(sv.probe_deadline, now + Millis(t.knobs.probe_interval_s) * 1000);
}

void ProbeMonitor::send(const Trunk& t, uint16_t s, bool retransmit) {
    const ServerState& sv = t.servers[s];
    Action a;
    a.kind = ActionKind::send_options;
    a.trunk = t.id;
    a.server = s;
    a.cseq = sv.probe_cseq;
    a.nonce = sv.probe_id;
    a.retransmit = retransmit;
    out_.push_back(a);
}

bool hold_for_retry_after(Trunk& t, uint16_t s, uint32_t ra_s, Millis now) {
    if (ra_s == 0 || t.knobs.retry_after_max_s == 0) return false;
    ServerState& sv = t.servers[s];
    const Millis until = now + Millis(std::min(ra_s, t.knobs.retry_after_max_s)) * 1000;
    if (until > sv.hold_until) sv.hold_until = until;
    t.dirty = true;
    return true;
}

void ProbeMonitor::on_tick(Trunk& t, Millis now) {
    if (t.knobs.probe_mode == ProbeMode::off) return;
    const RetryPolicy& p = t.knobs.other_policy;
    for (uint16_t s = 0; s < t.servers.size(); s++) {
        ServerState& sv = t.servers[s];
        if (sv.probe_deadline != never_ms && now >= sv.probe_deadline) {
            sv.probe_deadline = never_ms;
            sv.probe_retx_at = never_ms;
            if (!sv.maintenance) result(t, s, false, 0, now);
        }
        if (sv.probe_deadline != never_ms && now >= sv.probe_retx_at) {
            // Timer E: the same request again (same Call-ID, CSeq, branch).
            send(t, s, true);
            sv.probe_retx_at = now + sv.probe_retx_ms;
            sv.probe_retx_ms = std::min(sv.probe_retx_ms * 2, p.t2_ms);
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
        sv.probe_id = ++probe_seq_;
        Millis wait = Millis(t.knobs.probe_timeout_s) * 1000;
        if (sv.failed) wait = std::min(wait, interval);  // its next probe is due then
        sv.probe_deadline = now + wait;
        sv.probe_retx_at = now + p.t1_ms;
        sv.probe_retx_ms = std::min(p.t1_ms * 2, p.t2_ms);
        send(t, s);
    }
}

void ProbeMonitor::on_response(Trunk& t, uint16_t server, uint32_t cseq, uint16_t status, uint32_t retry_after_s,
                               Millis now) {
    if (server >= t.servers.size()) return;
    ServerState& sv = t.servers[server];
    if (sv.probe_deadline == never_ms || cseq != sv.probe_cseq || status < 200) return;
    sv.probe_deadline = never_ms;
    sv.probe_retx_at = never_ms;
    if (sv.maintenance) return;  // sent before maintenance began: says nothing now
    // Any final answer shows the server alive (405/404 included), except 503.
    result(t, server, status != 503, status == 503 ? retry_after_s : 0, now);
}

void ProbeMonitor::result(Trunk& t, uint16_t s, bool up, uint32_t retry_after_s, Millis now) {
    ServerState& sv = t.servers[s];
    if (!up) {
        sv.probe_oks = 0;
        if (sv.probe_fails < 255) sv.probe_fails++;
        // A 503 with Retry-After: down at once, and for that long (bounded).
        const bool held = hold_for_retry_after(t, s, retry_after_s, now);
        if (held || sv.probe_fails >= t.knobs.probe_down_threshold) {
            if (!sv.failed) host_.server_failed_in_use(t, s, Trigger::probe_down, now);
            else t.dirty = true;
        }
        return;
    }
    sv.probe_fails = 0;
    if (sv.hold_until > now) return;  // still inside a Retry-After: answers do not count
    if (sv.probe_oks < 255) sv.probe_oks++;
    if (sv.failed && sv.probe_oks >= t.knobs.probe_up_threshold) host_.mark_alive(t, s, Trigger::probe_up, now);
}

size_t ProbeMonitor::write_options(const Trunk& t, const Action& a, const SendContext& ctx, char* buf,
                                   size_t cap) const {
    if (a.server >= t.servers.size()) return 0;
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
        "From: <sip:monitor@%s>;tag=mon%u-%u-%x\r\n"
        "To: <sip:%s%s%s:%u>\r\n"
        "Call-ID: mon-%u-%u-%x@%s\r\n"
        "CSeq: %u OPTIONS\r\n"
        "User-Agent: %s\r\n"
        "Content-Length: 0\r\n\r\n",
        v6 ? "[" : "", sv.target.address.c_str(), v6 ? "]" : "", unsigned(sv.target.port), tr,
        int(ctx.sent_by.size()), ctx.sent_by.data(), int(ctx.branch.size()), ctx.branch.data(), t.domain.c_str(),
        unsigned(t.id), unsigned(a.server), unsigned(a.nonce), v6 ? "[" : "", sv.target.address.c_str(),
        v6 ? "]" : "", unsigned(sv.target.port), unsigned(t.id), unsigned(a.server), unsigned(a.nonce),
        t.domain.c_str(), unsigned(a.cseq),
        user_agent_.c_str());
    return n > 0 && size_t(n) < cap ? size_t(n) : 0;
}

}  // namespace sipedge::failover
