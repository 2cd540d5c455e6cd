// Server health: failure triggers, recovery delay and its cancellation,
// recovery on success, and the decision/notification records every change
// leaves behind. Part of Engine (engine.h).

#include <algorithm>

#include "failover/backoff.h"
#include "failover/engine.h"

namespace sipedge::failover {

// Marks <s> failed after <why>. Known failed servers are skipped by failover
// walks; the recovery delay, when enabled, keeps <s> out of every candidate
// list until it ends (seed A: "the delay goes into effect for a given server
// when the AOS device transitions it to the failed state").
void Engine::mark_failed(Trunk& t, uint16_t s, Trigger why, Millis now) {
    ServerState& sv = t.servers[s];
    sv.last_trigger = why;
    sv.last_trigger_at = now;
    monitor_.on_failed(t, s, !sv.failed, now);  // up-threshold counting restarts; probe wait shortened
    if (!sv.failed) {
        sv.failed = true;
        sv.failed_at = now;
        notify(t, NoticeKind::server_failed, now, s);
    }
    // A failure after an earlier delay ran out starts a new one (the server was
    // selectable again, so this is a new transition to failed).
    if (t.knobs.recover_delay_enabled && sv.recover_at <= now) {
        const Millis d = recover_delay_ms(t.knobs, rng_);
        sv.recover_at = d ? now + d : 0;
    }
    t.dirty = true;
    cancel_delays_if_isolated(t, now);
}

// A response from <s>: it is alive. The recovery delay is not shortened by
// it (seed A: "The delay expires once the specified timeout period is reached").
void Engine::mark_alive(Trunk& t, uint16_t s, Trigger why, Millis now) {
    ServerState& sv = t.servers[s];
    if (!sv.failed) return;
    sv.failed = false;
    sv.last_trigger = why;
    sv.last_trigger_at = now;
    if (sv.recover_at <= now) {
        sv.recover_at = 0;
        notify(t, NoticeKind::server_recovered, now, s);
    }
    t.dirty = true;
}

// seed A: the recovery delay "is cancelled if all other servers in the list
// are unreachable". Applied to each server in its delay.
void Engine::cancel_delays_if_isolated(Trunk& t, Millis now) {
    bool cancel[max_servers] = {};
    bool any = false;
    for (size_t x = 0; x < t.servers.size(); x++) {
        if (t.servers[x].recover_at <= now) continue;
        bool others_down = true;
        for (size_t y = 0; y < t.servers.size() && others_down; y++)
            if (y != x && !t.servers[y].failed && t.servers[y].recover_at <= now && t.servers[y].family != 0)
                others_down = false;
        cancel[x] = others_down;
        any |= others_down;
    }
    if (!any) return;
    for (size_t x = 0; x < t.servers.size(); x++)
        if (cancel[x]) {
            t.servers[x].recover_at = 0;
            record(t, Decision::recovery_cancelled, now, int16_t(x));
            notify(t, NoticeKind::server_recovered, now, uint16_t(x));
        }
    t.dirty = true;
}

// A failover trigger on <s> from a request (worker or our own REGISTER).
// top_first: only the server's health changes; every new dialog still starts
// at the top, and one transaction's failure removes the server from nobody's
// list unless the recovery delay says so (Kamailio #4911). validated: the
// working server failed, so the trunk fails over (seed A validated steps 1–4).
void Engine::server_failed_in_use(Trunk& t, uint16_t s, Trigger why, Millis now) {
    const bool serving = t.knobs.mode == SelectMode::top_first && tf_serving(t, now) == int16_t(s);
    mark_failed(t, s, why, now);
    if (serving) tf_failed_over(t, s, now);
    if (t.knobs.mode != SelectMode::validated || t.active != int16_t(s)) return;
    leave_working_server(t, s, now);
    record(t, Decision::failover, now, -1, int16_t(s), why);
    reg_.start_walk(t, int16_t(s), now);
}

// The working server <s> of a validated trunk is left (failure, or
// maintenance): its bindings are dropped per unregister_on_failover /
// fail_registration_on and the trunk has no working server. The caller
// records the decision and starts the walk.
void Engine::leave_working_server(Trunk& t, uint16_t s, Millis now) {
    for (uint16_t i = 0; i < t.regs.size(); i++) {
        Registration& r = t.regs[i];
        if (r.bound != int16_t(s)) continue;
        if (t.knobs.unregister_on_failover) {
            // seed A step 3: "The originating SIP identity (OSID) is unregistered."
            reg_.unregister(t, i, s, now);
        } else if (t.knobs.fail_registration_on) {
            // seed P failRegistrationOn=1: "silently invalidate an existing registration".
            r.bound = -1;
            r.refresh_at = never_ms;
        } else {
            // failRegistrationOn=0: the binding stays valid until it expires;
            // failback may return to it without registering first.
            r.kept = int16_t(s);
            r.kept_expires_at = r.expires_at;
            r.bound = -1;
            r.refresh_at = never_ms;
        }
        r.next_attempt_at = std::min(r.next_attempt_at, now);
    }
    if (t.anchor == int16_t(s)) t.anchor = -1;
    t.active = -1;
    t.failback_at = never_ms;
    t.failback_walk = false;
}

void Engine::record(Trunk& t, Decision d, Millis now, int16_t server, int16_t from, Trigger why) {
    t.last.what = d;
    t.last.at = now;
    t.last.server = server;
    t.last.from = from;
    t.last.trigger = why;
    t.dirty = true;
    decision_seq_++;  // Monitor::collect skips its walk while this stands still
}

void Engine::notify(const Trunk& t, NoticeKind k, Millis now, uint16_t server, uint16_t identity,
                    uint32_t count) {
    Action a;
    a.kind = ActionKind::notify;
    a.trunk = t.id;
    a.server = server;
    a.identity = identity;
    a.notice.at_ms = now;
    a.notice.trunk_id = t.id;
    a.notice.kind = k;
    a.notice.server_idx = server;
    a.notice.identity = identity;
    a.notice.count = count;
    actions_.push_back(a);
}

const char* trigger_name(Trigger t) noexcept {
    switch (t) {
    case Trigger::none: return "none";
    case Trigger::timeout: return "timeout";
    case Trigger::rejected_503: return "503";
    case Trigger::icmp_unreachable: return "icmp-unreachable";
    case Trigger::register_failed: return "register-failed";
    case Trigger::probe_down: return "probe-down";
    case Trigger::success: return "success";
    case Trigger::probe_up: return "probe-up";
    }
    return "?";
}

const char* health_name(Health h) noexcept {
    switch (h) {
    case Health::up: return "up";
    case Health::failed: return "failed";
    case Health::recovering: return "recovering";
    case Health::maintenance: return "maintenance";
    }
    return "?";
}

const char* decision_name(Decision d) noexcept {
    switch (d) {
    case Decision::none: return "none";
    case Decision::initial: return "initial";
    case Decision::top_first: return "top-first";
    case Decision::validated: return "validated";
    case Decision::failover: return "failover";
    case Decision::failover_exhausted: return "failover-exhausted";
    case Decision::backoff_over: return "backoff-over";
    case Decision::failback: return "failback";
    case Decision::failback_deferred: return "failback-deferred";
    case Decision::failed_back: return "failed-back";
    case Decision::registration_expired: return "registration-expired";
    case Decision::dns_sticky: return "dns-sticky";
    case Decision::dns_removed: return "dns-removed";
    case Decision::recovery_cancelled: return "recovery-cancelled";
    case Decision::auth_optimized: return "auth-optimized";
    case Decision::health_change: return "health-change";
    case Decision::maintenance: return "maintenance";
    case Decision::in_service: return "in-service";
    case Decision::awaiting_dns: return "awaiting-dns";
    }
    return "?";
}

}  // namespace sipedge::failover
