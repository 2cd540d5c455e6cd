// Administrative state: a server put in maintenance gets no new requests and
// no new registrations, while the transactions and dialogs already on it
// complete (issue 7). Not a failure: the server's failure state, recovery
// delay, failure counters and failover notices are untouched. Part of Engine.
//
// Registrations: when the trunk's REGISTERs go to the server (a validated
// trunk working on it, or a top_first trunk registered there), they move to
// the next server the way a failover walk would (bindings dropped per
// unregister_on_failover / fail_registration_on, walk from the server). When
// no other server is usable, nothing moves: the bindings stay (refreshes keep
// going there) and new requests have no candidate until maintenance ends —
// putting the last server in maintenance does not start a back-off.
// Leaving maintenance: selectable at once (no recovery delay: it did not
// fail); a validated trunk fails back to it by its failback rules.

#include <algorithm>

#include "failover/engine.h"

namespace sipedge::failover {

ConfigError Engine::set_admin(uint32_t id, uint16_t s, bool maintenance, Millis now) {
    if (id >= trunks_.size() || trunks_[id].removed) return ConfigError::unknown_trunk;
    Trunk& t = trunks_[id];
    if (s >= t.servers.size()) return ConfigError::bad_server;
    ServerState& sv = t.servers[s];
    if (sv.maintenance == maintenance) return ConfigError::ok;  // idempotent
    t.dirty = true;
    if (!maintenance) {
        sv.maintenance = false;
        sv.draining = false;
        monitor_.probe_soon(t, s, now);  // sip-server monitor: its health known again soon
        record(t, Decision::in_service, now, int16_t(s));
        if (t.knobs.register_enabled && t.reg_target < 0 && now >= t.backoff_until) reg_.start_walk(t, -1, now);
        schedule_failback(t, now);
        reg_.pump(t, now);
        return ConfigError::ok;
    }
    bool bound_here = false;
    for (const Registration& r : t.regs) bound_here |= r.bound == int16_t(s);
    sv.maintenance = true;
    sv.draining = t.active == int16_t(s) || bound_here;
    bool other = false;  // another server a walk could land on
    for (size_t x = 0; x < t.servers.size(); x++) {
        const ServerState& o = t.servers[x];
        other |= x != s && !o.maintenance && o.family != 0 && o.recover_at <= now;
    }
    const bool validated = t.knobs.mode == SelectMode::validated;
    if (other && validated && t.active == int16_t(s)) {
        leave_working_server(t, s, now);
        record(t, Decision::maintenance, now, int16_t(s), int16_t(s));
        reg_.start_walk(t, int16_t(s), now);
    } else if (other && t.knobs.register_enabled && t.reg_target == int16_t(s)) {
        // top_first (or a walk on its way to <s>): REGISTERs go elsewhere;
        // pump() re-registers every identity bound here on the new target.
        for (Registration& r : t.regs) r.next_attempt_at = std::min(r.next_attempt_at, now);
        record(t, Decision::maintenance, now, int16_t(s), int16_t(s));
        if (t.active == int16_t(s)) t.active = -1;
        if (t.anchor == int16_t(s)) t.anchor = -1;
        reg_.start_walk(t, int16_t(s), now);
    } else {
        record(t, Decision::maintenance, now, int16_t(s));
    }
    if (t.failback_at != never_ms) schedule_failback(t, now);
    reg_.pump(t, now);
    return ConfigError::ok;
}

}  // namespace sipedge::failover
