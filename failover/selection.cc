// Selection: the order in which servers are ranked (NAPTR service records,
// sticky route, enhanced transport grouping), the next candidate of a
// failover walk (seed P "Selection Order"), and the routes a trunk publishes
// for new requests in default (top_first) and validated modes. Part of Engine.

#include <algorithm>
#include <cstring>

#include "failover/backoff.h"
#include "failover/engine.h"

namespace sipedge::failover {

// The primary: the sticky route after a DNS reorder, else the top of the
// primary service record (seed P: "the primary SBC is the lowest priority SBC
// for its currently registered service record").
int16_t Engine::primary(const Trunk& t) const noexcept {
    if (t.anchor >= 0) return t.anchor;
    for (size_t s = 0; s < t.servers.size(); s++)
        if (t.servers[s].record == t.primary_record) return int16_t(s);
    return t.servers.empty() ? int16_t(-1) : int16_t(0);
}

// Every server once, best first: the sticky route, then the primary record's
// servers, the records after it, then the records before it (wrapping), each
// record's targets in their DNS order. With enhanced failover, the servers of
// the first one's transport come first (seed P enhanced 2: "try all routes
// within a transport before moving to a route that uses a different
// transport protocol").
void Engine::rank_order(const Trunk& t, uint16_t* out, size_t& n) const {
    n = 0;
    if (t.anchor >= 0) out[n++] = uint16_t(t.anchor);
    const size_t nrec = t.records.size();
    for (size_t k = 0; k < nrec; k++) {
        const size_t rec = (t.primary_record + k) % nrec;
        for (size_t s = 0; s < t.servers.size(); s++)
            if (t.servers[s].record == rec && int16_t(s) != t.anchor) out[n++] = uint16_t(s);
    }
    if (t.knobs.enhanced && n > 1) {
        const sip::Transport first = t.servers[out[0]].target.transport;
        std::stable_partition(out, out + n,
                              [&](uint16_t s) { return t.servers[s].target.transport == first; });
    }
}

// The next server of the current walk: seed P "the phone will failover and
// try SBCs in order starting from the top of its service record (the primary
// SBC) but skipping its current and known failed SBC, so for our example, SBC
// 5 fails, the phone will try SBC 3, 4, 6, then move to a new service record
// for SBC 7". "Known failed" is what this walk has tried (the seed's SBCs 3
// and 4 were down before, yet are tried again) plus servers in a recovery
// delay (seed A: the delay is what keeps a previously unreachable server from
// being selected). Unresolved host names are skipped.
// Returns -1 when every server has been tried or is unusable.
int Engine::next_candidate(Trunk& t, Millis now) {
    uint16_t order[max_servers];
    size_t n = 0;
    if (t.walk_origin >= 0) {
        const size_t nrec = t.records.size();
        const size_t home = t.servers[size_t(t.walk_origin)].record;
        for (size_t k = 0; k < nrec; k++) {
            const size_t rec = (home + k) % nrec;
            for (size_t s = 0; s < t.servers.size(); s++)
                if (t.servers[s].record == rec) order[n++] = uint16_t(s);
        }
        if (t.knobs.enhanced && n > 1) {
            const sip::Transport tr = t.servers[size_t(t.walk_origin)].target.transport;
            std::stable_partition(order, order + n,
                                  [&](uint16_t s) { return t.servers[s].target.transport == tr; });
        }
    } else {
        rank_order(t, order, n);
    }
    for (size_t i = 0; i < n; i++) {
        const ServerState& sv = t.servers[order[i]];
        if (t.walk_tried >> order[i] & 1u) continue;
        if (sv.recover_at > now || sv.family == 0 || sv.maintenance) continue;
        return order[i];
    }
    return -1;
}

void Engine::build_routes(Trunk& t, Millis now, TrunkRoutes& r) {
    r = TrunkRoutes{};
    r.trunk_id = t.id;
    r.list_epoch = t.list_epoch;
    r.provisional_timeout_s = uint16_t(std::min<uint32_t>(t.knobs.provisional_timeout_s, 3600));
    r.ruri_host = t.knobs.ruri_host;
    if (r.ruri_host == RuriHost::domain) {
        r.ruri_domain_len = uint8_t(std::min(t.domain.size(), sizeof r.ruri_domain));
        std::memcpy(r.ruri_domain, t.domain.data(), r.ruri_domain_len);
    }
    r.policy[size_t(RequestKind::invite)] = t.knobs.invite_policy;
    r.policy[size_t(RequestKind::register_)] = t.knobs.register_policy;
    r.policy[size_t(RequestKind::other)] = t.knobs.other_policy;
    if (t.backoff_until > now) r.flags |= routes_backoff;
    if (t.knobs.hide_topology) r.flags |= routes_hide_topology;
    cancel_delays_if_isolated(t, now);

    uint16_t order[max_servers];
    size_t n = 0;
    rank_order(t, order, n);
    uint16_t pick[max_servers];
    size_t m = 0;
    const bool validated = t.knobs.mode == SelectMode::validated;
    const bool only_reg = validated && t.knobs.only_signal_with_registered;
    if (validated && t.active >= 0 && !t.servers[size_t(t.active)].maintenance) {
        // seed A validated step 6: "used for all future dialog initiations".
        pick[m++] = uint16_t(t.active);
    } else if (validated && only_reg) {
        r.flags |= routes_no_registration;  // seed P onlySignalWithRegistered: nowhere to send
    }
    if (!only_reg) {
        // top_first, or validated without onlySignalWithRegistered: the rest
        // of the list in rank order, recovering and Retry-After-held servers left out.
        if (!validated && t.auth_hint >= 0 && now < t.auth_hint_until &&
            !t.servers[size_t(t.auth_hint)].maintenance)
            pick[m++] = uint16_t(t.auth_hint);
        // Top-first failback hold: the server new requests failed over to
        // keeps them until the hold ends (failback.cc).
        if (!validated && t.tf_current >= 0 && t.tf_hold_until > now) {
            const int16_t c = tf_serving(t, now);
            if (c == t.tf_current && std::find(pick, pick + m, uint16_t(c)) == pick + m) pick[m++] = uint16_t(c);
        }
        // With the monitor on, a failed server waits for its probes: it is
        // listed after every healthy one (still a last resort when all fail).
        const bool probed = t.knobs.probe_mode != ProbeMode::off;
        for (int pass = 0; pass < (probed ? 2 : 1); pass++)
            for (size_t i = 0; i < n; i++) {
                const uint16_t s = order[i];
                const ServerState& sv = t.servers[s];
                if (std::find(pick, pick + m, s) != pick + m) continue;
                if (sv.recover_at > now || sv.hold_until > now || sv.family == 0 || sv.maintenance) continue;
                if (probed && sv.failed != (pass == 1)) continue;
                pick[m++] = s;
            }
    }
    if (validated && t.active >= 0 && only_reg) {
        r.signal_mask = 1u << t.active;
    } else if (only_reg) {
        r.signal_mask = 0;
    } else {
        r.signal_mask = t.servers.size() >= 32 ? ~0u : (1u << t.servers.size()) - 1;
    }
    // Maintenance drains: dialogs set up on the server left for maintenance
    // keep their in-dialog signalling there (the other branches already
    // include every server).
    if (only_reg)
        for (size_t s = 0; s < t.servers.size() && s < 32; s++)
            if (t.servers[s].maintenance && t.servers[s].draining) r.signal_mask |= 1u << s;
    const RetryPolicy& p = t.knobs.invite_policy;
    const uint32_t budget = uint32_t(std::min<Millis>(server_budget_ms(p), ~uint32_t(0)));
    for (size_t i = 0; i < m; i++) {
        const ServerState& sv = t.servers[pick[i]];
        if (sv.family == 0) continue;
        Candidate& c = r.cand[r.count++];
        std::copy(sv.addr, sv.addr + 16, c.addr);
        c.port = sv.target.port;
        c.server_idx = pick[i];
        c.budget_ms = budget;
        c.attempts = p.attempts_per_server;
        c.transport = sv.target.transport;
        c.family = sv.family;
        if (sv.failed) c.flags |= cand_failed;
        if (validated && int16_t(pick[i]) == t.active) c.flags |= cand_validated;
        for (const Registration& reg : t.regs)
            if (reg.bound == int16_t(pick[i])) c.flags |= cand_registered;
    }
}

}  // namespace sipedge::failover
