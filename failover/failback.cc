// Failback: when a trunk that failed over tries its primary again (seed P/E
// failBack.mode duration / newRequests / DNSTTL / registration, failBack.timeout),
// never while a call is active on the registration (retried every second,
// seed E), as a group with enhanced failover (seed P enhanced 1), with
// unRegisterOnFailBack and failRegistrationOn=0's kept binding. Part of Engine.

#include <algorithm>

#include "failover/backoff.h"
#include "failover/engine.h"

namespace sipedge::failover {

// Sets t.failback_at for the trunk's current working server. Only validated
// trunks fail back by timer: top_first starts every dialog at the top and
// re-registers to the primary at each refresh (seed A default).
void Engine::schedule_failback(Trunk& t, Millis now) {
    (void)now;
    t.failback_at = never_ms;
    if (t.knobs.mode != SelectMode::validated || t.active < 0 || t.active == primary(t)) return;
    const ServerState& a = t.servers[size_t(t.active)];
    switch (effective_failback(t.knobs.failback_mode, t.knobs.mode)) {
    case FailbackMode::duration:
        // seed P: "0 - The phone will not fail-back until a failover event occurs
        // with the current SBC."
        if (t.knobs.failback_timeout_s != 0)
            t.failback_at = t.connected_at + Millis(t.knobs.failback_timeout_s) * 1000;
        break;
    case FailbackMode::dns_ttl: {
        // seed E: "a timeout equal to the DNSTTL configured for the server the
        // phone is registered to". A static server has no TTL: never.
        uint32_t ttl = a.target.ttl_s;
        if (ttl == 0 && a.record < t.records.size()) ttl = t.records[a.record].ttl_s;
        if (ttl != 0) t.failback_at = t.connected_at + Millis(ttl) * 1000;
        break;
    }
    case FailbackMode::new_requests:
        // seed E: "all dialog-initiating requests are forwarded to the primary
        // server first": try it as soon as possible, at most once per
        // registration-failure-retry so a dead primary is not hammered.
        t.failback_at = std::max<Millis>(
            t.connected_at, t.last_failback_at ? t.last_failback_at + Millis(t.knobs.registration_failure_retry_s) * 1000 : 0);
        break;
    case FailbackMode::registration:
        break;  // reg_timers(): the next refresh goes to the primary
    case FailbackMode::automatic:
        break;  // resolved by effective_failback()
    }
}

// Top-first mode: the server new requests go to now: the one held after a
// failover while the hold lasts, else the first usable server in rank order
// (a known-failed one only when nothing else is usable).
int16_t Engine::tf_serving(const Trunk& t, Millis now) const {
    auto usable = [&](int16_t s) {
        const ServerState& sv = t.servers[size_t(s)];
        return sv.recover_at <= now && sv.hold_until <= now && sv.family != 0 && !sv.maintenance;
    };
    if (t.tf_current >= 0 && t.tf_hold_until > now && usable(t.tf_current) && !t.servers[size_t(t.tf_current)].failed)
        return t.tf_current;
    uint16_t order[max_servers];
    size_t n = 0;
    rank_order(t, order, n);
    int16_t fallback = -1;
    for (size_t i = 0; i < n; i++) {
        if (!usable(int16_t(order[i]))) continue;
        if (!t.servers[order[i]].failed) return int16_t(order[i]);
        if (fallback < 0) fallback = int16_t(order[i]);
    }
    return fallback;
}

// Top-first mode: server <s>, which new requests were going to, failed.
// failback-mode other than newRequests (seed P/E failBack.mode acting
// without validated mode) holds new requests on the server they move to:
// duration — failback-timeout from now (0: until that one fails); DNSTTL —
// the TTL of its record (a static server: until it fails); registration —
// until the next registration refresh (which goes to the primary).
void Engine::tf_failed_over(Trunk& t, uint16_t s, Millis now) {
    const FailbackMode fm = effective_failback(t.knobs.failback_mode, t.knobs.mode);
    t.tf_current = -1;
    t.tf_hold_until = 0;
    if (fm == FailbackMode::new_requests) return;
    const int16_t next = tf_serving(t, now);
    if (next < 0 || next == int16_t(s) || next == primary(t) || t.servers[size_t(next)].failed) return;
    Millis until = never_ms;
    switch (fm) {
    case FailbackMode::duration:
        if (t.knobs.failback_timeout_s != 0) until = now + Millis(t.knobs.failback_timeout_s) * 1000;
        break;
    case FailbackMode::dns_ttl: {
        const ServerState& a = t.servers[size_t(next)];
        uint32_t ttl = a.target.ttl_s;
        if (ttl == 0 && a.record < t.records.size()) ttl = t.records[a.record].ttl_s;
        if (ttl != 0) until = now + Millis(ttl) * 1000;
        break;
    }
    case FailbackMode::registration:
        if (!t.knobs.register_enabled) return;
        until = never_ms;
        for (const Registration& r : t.regs)
            if (r.refresh_at > now) until = std::min(until, r.refresh_at);
        if (until == never_ms) return;
        break;
    default: return;
    }
    t.tf_current = next;
    t.tf_hold_until = until;
    t.dirty = true;
}

// Top-first hold over: the primary (when healthy) takes new requests again.
void Engine::tf_check_hold(Trunk& t, Millis now) {
    if (t.tf_current < 0 || t.tf_hold_until > now) return;
    record(t, Decision::failed_back, now, primary(t), t.tf_current);
    t.tf_current = -1;
    t.tf_hold_until = 0;
    t.dirty = true;
}

bool Engine::group_has_calls(const Trunk& t) const noexcept {
    if (!t.knobs.enhanced || t.knobs.group_id == 0) return t.active_calls > 0;
    for (const Trunk& o : trunks_)
        if (!o.removed && o.knobs.enhanced && o.knobs.group_id == t.knobs.group_id && o.active_calls > 0) return true;
    return false;
}

void Engine::check_failback(Trunk& t, Millis now) {
    if (t.failback_at == never_ms || now < t.failback_at) return;
    if (t.reg_target != t.active || t.active < 0) {  // a walk is running: look again in a second
        t.failback_at = now + 1000;
        return;
    }
    // seed P: "A SIP registration will not attempt failback while a call is
    // active on that registration"; seed E: "If the timeout period expires and
    // call activity is detected, failback will be retried every second."
    // Enhanced: "failback will not occur while any SIP registration has an active call."
    if (group_has_calls(t)) {
        t.failback_at = now + 1000;
        if (t.last.what != Decision::failback_deferred) record(t, Decision::failback_deferred, now, primary(t), t.active);
        return;
    }
    const int16_t p = primary(t);
    if (p >= 0 && t.servers[size_t(p)].maintenance) {  // no failback onto it: set_admin() reschedules
        t.failback_at = never_ms;
        return;
    }
    if (p >= 0 && t.servers[size_t(p)].recover_at > now) {  // seed A recovery delay still running
        t.failback_at = t.servers[size_t(p)].recover_at;
        return;
    }
    if (!t.knobs.enhanced || t.knobs.group_id == 0) {
        start_failback(t, now);
        return;
    }
    // seed P enhanced 1: "phones with multiple SIP registrations will failback to
    // a primary as a group": every trunk of the group that is off its primary.
    for (Trunk& o : trunks_)
        if (!o.removed && o.knobs.enhanced && o.knobs.group_id == t.knobs.group_id && o.active >= 0 &&
            o.reg_target == o.active && o.active != primary(o))
            start_failback(o, now);
}

void Engine::start_failback(Trunk& t, Millis now) {
    const int16_t p = primary(t);
    if (p < 0 || t.active < 0 || p == t.active || t.servers[size_t(p)].maintenance) return;
    const uint16_t from = uint16_t(t.active);
    t.last_failback_at = now;
    t.failback_at = never_ms;
    // seed P failRegistrationOn=0: "the phone will attempt failback without first
    // attempting to register to the primary SBC": every identity still holds a
    // binding there, so switch without a REGISTER.
    bool kept_all = !t.regs.empty();
    for (const Registration& r : t.regs) kept_all &= r.kept == p && r.kept_expires_at > now;
    if (kept_all && t.knobs.mode == SelectMode::validated) {
        for (uint16_t i = 0; i < t.regs.size(); i++) {
            Registration& r = t.regs[i];
            const int16_t old = r.bound;
            const uint32_t left_s = uint32_t((r.kept_expires_at - now) / 1000);
            r.bound = p;
            r.kept = -1;
            r.expires_at = r.kept_expires_at;
            r.refresh_at = r.expires_at - Millis(refresh_lead_s(t.knobs, std::max(left_s, r.granted_s))) * 1000;
            if (r.refresh_at < now) r.refresh_at = now;
            if (old >= 0 && old != p && t.knobs.unregister_after_failback) reg_.unregister(t, i, uint16_t(old), now);
        }
        t.active = p;
        t.reg_target = p;
        t.connected_at = now;
        record(t, Decision::failed_back, now, p, int16_t(from));
        notify(t, NoticeKind::failed_back, now, uint16_t(p));
        return;
    }
    if (t.knobs.unregister_on_failback) {
        // seed P unRegisterOnFailBack=1: "send a REGISTER with expires:0 to
        // unregister from the current SBC" before failing back.
        for (uint16_t i = 0; i < t.regs.size(); i++)
            if (t.regs[i].bound == int16_t(from)) reg_.unregister(t, i, from, now);
    }
    record(t, Decision::failback, now, p, int16_t(from));
    t.failback_walk = true;
    t.walk_origin = -1;
    t.walk_tried = 0;
    t.reg_target = p;  // even when known failed: failback is the probe of the primary
    for (Registration& r : t.regs) r.next_attempt_at = std::min(r.next_attempt_at, now);
    t.dirty = true;
}

// Refresh due off the primary (after the agent's timers, every tick): the
// refresh is a failback attempt to the primary when the mode says so.
void Engine::refresh_failback(Trunk& t, Millis now) {
    if (!t.knobs.register_enabled) return;
    // Refresh due off the primary: seed A default re-registers "to the primary
    // server based on the expiration value"; seed P/E failBack.mode registration
    // "when the current working server's registration requires renewal".
    const bool refresh_to_primary = t.knobs.mode == SelectMode::top_first ||
                                    effective_failback(t.knobs.failback_mode, t.knobs.mode) == FailbackMode::registration;
    if (refresh_to_primary && t.active >= 0 && t.reg_target == t.active && t.active != primary(t)) {
        bool due = false;
        for (const Registration& r : t.regs) due |= r.bound == t.active && now >= r.refresh_at;
        const int16_t p = primary(t);
        if (due && p >= 0 && t.servers[size_t(p)].recover_at <= now && !t.servers[size_t(p)].maintenance) {
            if (t.knobs.mode == SelectMode::validated && group_has_calls(t)) return;  // refresh in place
            start_failback(t, now);
        }
    }
}

// The walk settled on <t.reg_target> without a new binding being needed (the
// identities are still registered there): a failback attempt failed back onto
// the working server. Restart the failback clock from now.
void Engine::walk_landed(Trunk& t, Millis now) {
    t.walk_origin = -1;
    t.walk_tried = 0;
    if (t.failback_walk) {
        t.failback_walk = false;
        t.connected_at = now;
    }
    schedule_failback(t, now);
}

}  // namespace sipedge::failover
