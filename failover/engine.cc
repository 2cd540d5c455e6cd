#include "failover/engine.h"

#include <algorithm>
#include <atomic>

#include "failover/backoff.h"

namespace sipedge::failover {

namespace {

// Fills <out> from <set>, records first; false when a target is unusable.
ConfigError flatten(const ServerSet& set, std::vector<ServiceRecord>& records,
                    std::vector<ServerState>& out) {
    size_t n = 0;
    for (const ServiceRecord& r : set.records) n += r.targets.size();
    if (n == 0) return ConfigError::no_servers;
    if (n > max_servers) return ConfigError::too_many_servers;
    records.clear();
    out.clear();
    for (const ServiceRecord& r : set.records) {
        if (r.targets.empty()) continue;
        ServiceRecord head = r;
        head.targets.clear();
        records.push_back(std::move(head));
        for (const Target& tg : r.targets) {
            if (tg.address.empty() || tg.port == 0) return ConfigError::bad_server;
            ServerState s;
            s.target = tg;
            s.record = uint16_t(records.size() - 1);
            s.family = uint8_t(parse_ip(tg.address, s.addr));
            out.push_back(std::move(s));
        }
    }
    return ConfigError::ok;
}

}  // namespace

Engine::Engine(uint64_t seed, EngineOptions opt)
    : rng_(seed),
      opt_(std::move(opt)),
      reg_(rng_, actions_, *this, opt_.user_agent),
      // Probe ids start from the seed (no draw: the rng's sequence stays the
      // tests'), so Call-IDs of one run differ from the previous run's.
      monitor_(rng_, actions_, *this, opt_.user_agent, uint32_t((seed * 0x9e3779b97f4a7c15ull) >> 32)) {
    // relaxed: only uniqueness matters; engines are made on the control thread.
    static std::atomic<uint64_t> instances{0};
    instance_ = instances.fetch_add(1, std::memory_order_relaxed) + 1;
}

AddResult Engine::add_trunk(AddTrunk spec, Millis now) {
    AddResult res;
    normalize(spec.knobs);
    res.error = validate(spec.knobs);
    if (res.error != ConfigError::ok) return res;
    if (spec.knobs.register_enabled && spec.identities.empty()) {
        res.error = ConfigError::no_identity;
        return res;
    }
    for (const Identity& i : spec.identities)
        if (i.user.empty()) {
            res.error = ConfigError::bad_identity;
            return res;
        }
    Trunk t;
    res.error = flatten(spec.servers, t.records, t.servers);
    if (res.error != ConfigError::ok) return res;
    t.id = uint32_t(trunks_.size());
    t.name = std::move(spec.name);
    t.domain = spec.domain.empty() ? t.servers[0].target.address : std::move(spec.domain);
    t.knobs = spec.knobs;
    t.from_dns = spec.servers.from_dns;
    // Start-up spreading: the whole trunk's first REGISTERs go out at one
    // random offset inside the window.
    const Millis start = now + (t.knobs.register_enabled ? startup_offset_ms(opt_.startup_spread_ms, rng_) : 0);
    reg_.add_identities(t, spec.identities, start);
    monitor_.spread(t, now);
    record(t, Decision::initial, now, 0);
    // A DNS-named trunk registers once its first answer is in, waiting for it
    // this long before the ordinary back-off (EngineOptions::dns_wait_ms).
    t.dns_wait_until = now + opt_.dns_wait_ms;
    if (t.knobs.register_enabled) reg_.start_walk(t, -1, now);
    res.trunk_id = t.id;
    trunks_.push_back(std::move(t));
    servers_seq_++;
    reg_.pump(trunks_.back(), now);
    return res;
}

ConfigError Engine::set_knobs(uint32_t id, TrunkKnobs k, Millis now) {
    if (id >= trunks_.size() || trunks_[id].removed) return ConfigError::unknown_trunk;
    normalize(k);
    const ConfigError e = validate(k);
    if (e != ConfigError::ok) return e;
    Trunk& t = trunks_[id];
    const bool delay_off = t.knobs.recover_delay_enabled && !k.recover_delay_enabled;
    t.knobs = k;
    // seed A: the recovery delay "is cancelled ... if the delay is disabled in
    // the trunk configuration".
    if (delay_off)
        for (ServerState& s : t.servers) s.recover_at = std::min(s.recover_at, now);
    schedule_failback(t, now);
    t.dirty = true;
    return ConfigError::ok;
}

ConfigError Engine::update_servers(uint32_t id, const ServerSet& set, Millis now) {
    if (id >= trunks_.size() || trunks_[id].removed) return ConfigError::unknown_trunk;
    Trunk& t = trunks_[id];
    std::vector<ServiceRecord> records;
    std::vector<ServerState> servers;
    const ConfigError e = flatten(set, records, servers);
    if (e != ConfigError::ok) return e;

    // Old index → new index by endpoint (-1: gone).
    int16_t map[max_servers];
    bool same = servers.size() == t.servers.size();
    for (size_t o = 0; o < t.servers.size(); o++) {
        map[o] = -1;
        for (size_t n = 0; n < servers.size(); n++)
            if (same_endpoint(t.servers[o].target, servers[n].target)) {
                map[o] = int16_t(n);
                break;
            }
        if (map[o] != int16_t(o)) same = false;
    }
    for (size_t o = 0; o < t.servers.size(); o++) {
        if (map[o] < 0) continue;
        ServerState& dst = servers[size_t(map[o])];
        const ServerState& src = t.servers[o];
        const Target fresh = dst.target;   // new priority/weight/ttl
        const uint16_t rec = dst.record;
        dst = src;
        dst.target = fresh;
        dst.record = rec;
    }
    auto remap = [&](int16_t& i) { i = i < 0 ? int16_t(-1) : map[i]; };
    auto remap_mask = [&](uint32_t m) {
        uint32_t out = 0;
        for (size_t o = 0; o < t.servers.size(); o++)
            if ((m >> o & 1u) && map[o] >= 0) out |= 1u << map[o];
        return out;
    };
    const int16_t old_active = t.active;
    remap(t.active);
    remap(t.anchor);
    remap(t.sticky_pending);
    remap(t.tf_current);
    remap(t.reg_target);
    remap(t.walk_origin);
    remap(t.auth_hint);
    t.walk_tried = remap_mask(t.walk_tried);
    bool reg_lost = false;
    for (Registration& r : t.regs) {
        const int16_t was = r.bound;
        remap(r.bound);
        remap(r.kept);
        if (was >= 0 && r.bound < 0) {
            r.refresh_at = never_ms;
            reg_lost = true;
        }
        // In-flight transactions to a removed server are abandoned: their
        // responses no longer match (the CSeq moves on).
        const int16_t txn = r.txn_server;
        remap(r.txn_server);
        if (txn >= 0 && r.txn_server < 0) r.txn_deadline = never_ms;
        remap(r.unreg_server);
        if (r.unreg_server < 0) r.unreg_deadline = never_ms;
    }
    t.records = std::move(records);
    t.servers = std::move(servers);
    t.from_dns = set.from_dns;
    servers_seq_++;
    if (same) return ConfigError::ok;  // Kamailio #3547: a refresh with the same answer changes nothing

    t.list_epoch++;
    t.dirty = true;
    t.primary_record = 0;
    if (old_active >= 0 && t.active < 0) {
        // seed P: "If ... the IP address that is currently in use is no longer
        // listed, then the phone will immediately attempt to re-register with
        // the new ordering." seed A: a list without the validated server ends it.
        t.anchor = -1;
        record(t, Decision::dns_removed, now, 0, old_active);
        if (t.knobs.register_enabled) {
            t.backoff_until = 0;
            for (Registration& r : t.regs) r.next_attempt_at = now;
            reg_.start_walk(t, -1, now);
        }
    } else if (t.active >= 0) {
        // seed P sticky route: the registered, non-failed route ignores the reordering.
        if (t.anchor != t.active) t.anchor_since = now;
        t.anchor = t.active;
        t.primary_record = t.servers[size_t(t.active)].record;
        record(t, Decision::dns_sticky, now, t.active);
    } else if (t.reg_target >= 0 && t.knobs.register_enabled && !reg_lost) {
        // The reorder came while the first REGISTER of a walk is in flight:
        // the outcome must not depend on which came first, so that server
        // becomes the sticky route if the registration succeeds
        // (on_registered), exactly as if the answer had come just after.
        t.sticky_pending = t.reg_target;
    } else if (reg_lost && t.knobs.register_enabled) {
        // top_first: the registration's server left the answer (FreeSWITCH #142).
        record(t, Decision::dns_removed, now, 0);
        for (Registration& r : t.regs) r.next_attempt_at = now;
        reg_.start_walk(t, -1, now);
    } else if (t.reg_target < 0 && t.knobs.register_enabled && now >= t.backoff_until) {
        reg_.start_walk(t, -1, now);
    }
    schedule_failback(t, now);
    reg_.pump(t, now);
    return ConfigError::ok;
}

void Engine::on_event(const ServerEvent& ev) {
    if (ev.trunk_id >= trunks_.size() || trunks_[ev.trunk_id].removed) return;
    Trunk& t = trunks_[ev.trunk_id];
    // A request routed with an earlier server list used other indices. Equality,
    // not a window: any number of republishes leaves the epoch alone (round 1
    // compared 8-bit generations in a 128 window, which one rollover wave at
    // 100 calls/s exhausted, and every later event was dropped).
    if (ev.list_epoch != t.list_epoch) {
        stale_events_++;
        return;
    }
    if (ev.server_idx >= t.servers.size()) return;
    const uint16_t s = ev.server_idx;
    ServerState& sv = t.servers[s];
    const Millis now = ev.at_ms;
    switch (ev.kind) {
    case EventKind::timeout:
        server_failed_in_use(t, s, Trigger::timeout, now);
        break;
    case EventKind::rejected_503:
        // RFC 3261 §21.5.4: no new request to that server for Retry-After
        // (bounded by retry-after-max), whether or not the 503 fails over.
        // retry-after-max 0 leaves the seed P failoverOn503Response rule
        // alone: 0 → Retry-After honoured before a new dialog; 1 → "only
        // applied when sending a request through the last failover route".
        if (ev.retry_after_s > 0 && !hold_for_retry_after(t, s, ev.retry_after_s, now) &&
            (!t.knobs.failover_on_503 || (ev.flags & ev_last_route))) {
            sv.hold_until = std::max<Millis>(sv.hold_until, now + Millis(ev.retry_after_s) * 1000);
            t.dirty = true;
        }
        if (t.knobs.failover_on_503) server_failed_in_use(t, s, Trigger::rejected_503, now);
        break;
    case EventKind::icmp_unreachable:
        if (t.knobs.failover_on_icmp) server_failed_in_use(t, s, Trigger::icmp_unreachable, now);
        break;
    case EventKind::success:
        if (ev.rtt_us) {
            // RFC 6298 §2.3 smoothing, α = 1/8.
            sv.srtt_us = sv.srtt_us == 0 ? ev.rtt_us : uint32_t((7ull * sv.srtt_us + ev.rtt_us) / 8);
        }
        // With the monitor on, probes alone bring a failed server back (probe_monitor.cc).
        if (t.knobs.probe_mode == ProbeMode::off) mark_alive(t, s, Trigger::success, now);
        if (t.auth_hint == int16_t(s)) {
            t.auth_hint = -1;  // the authenticated request went through: back to the normal order
            t.dirty = true;
        }
        break;
    case EventKind::challenged:
        // seed P authOptimizedInFailover: the request resent with credentials
        // goes to the server that challenged, not the primary.
        if (t.knobs.auth_optimized_in_failover && t.knobs.mode == SelectMode::top_first) {
            uint16_t order[max_servers];
            size_t n = 0;
            rank_order(t, order, n);
            if (n > 0 && order[0] != s) {
                t.auth_hint = int16_t(s);
                t.auth_hint_until = now + 32000;  // one transaction's lifetime (64·T1)
                t.dirty = true;
                record(t, Decision::auth_optimized, now, int16_t(s));
            }
        }
        break;
    case EventKind::denied:
    case EventKind::connection_closed:
        // seed P "When Failover Is Not Triggered": no health change. A closed
        // connection loses the registration held over it; the agent backs off.
        if (ev.kind == EventKind::connection_closed)
            for (uint16_t i = 0; i < t.regs.size(); i++)
                if (t.regs[i].bound == int16_t(s)) reg_.deny(t, i, 0, now);
        break;
    case EventKind::dialog_start:
        sv.active_dialogs++;
        t.active_calls++;
        break;
    case EventKind::dialog_end:
        if (sv.active_dialogs) sv.active_dialogs--;
        if (t.active_calls) t.active_calls--;
        break;
    case EventKind::none:
    case EventKind::count_:
        break;
    }
    reg_.pump(t, now);
}

void Engine::tick(Millis now) {
    for (Trunk& t : trunks_) {
        if (t.removed) continue;
        for (uint16_t s = 0; s < t.servers.size(); s++) {
            ServerState& sv = t.servers[s];
            if (sv.recover_at != 0 && sv.recover_at <= now) {
                // Recovery delay over: selectable again (still known failed).
                notify(t, NoticeKind::server_recovered, now, s);
                sv.recover_at = 0;
                t.dirty = true;
            }
            if (sv.hold_until && sv.hold_until <= now) {
                sv.hold_until = 0;
                t.dirty = true;
            }
        }
        if (t.auth_hint >= 0 && now >= t.auth_hint_until) {
            t.auth_hint = -1;
            t.dirty = true;
        }
        reg_.on_tick(t, now);
        refresh_failback(t, now);
        check_failback(t, now);
        tf_check_hold(t, now);
        monitor_.on_tick(t, now);
        reg_.pump(t, now);
    }
}

std::unique_ptr<const Table> Engine::publish(const Table* prev, Millis now) {
    TableBuilder b(prev);
    for (Trunk& t : trunks_) {
        if (t.removed) {
            if (t.dirty) b.remove(t.id);
            t.dirty = false;
            continue;
        }
        if (!t.dirty && prev != nullptr && prev->find(t.id) != nullptr) continue;
        auto r = std::make_shared<TrunkRoutes>();
        t.gen++;
        build_routes(t, now, *r);
        t.dirty = false;
        b.set(std::move(r));
    }
    return b.build();
}

bool Engine::any_dirty() const noexcept {
    for (const Trunk& t : trunks_)
        if (t.dirty) return true;
    return false;
}

ConfigError Engine::remove_trunk(uint32_t id, Millis now) {
    if (id >= trunks_.size() || trunks_[id].removed) return ConfigError::unknown_trunk;
    Trunk& t = trunks_[id];
    // What stays: the id, the epoch and generation counters (a late worker
    // event for it names an epoch that no longer matches anything), and the
    // name for logs of in-flight notices. Everything else is released.
    Trunk gone;
    gone.id = t.id;
    gone.name = std::move(t.name);
    gone.gen = t.gen;
    gone.list_epoch = t.list_epoch + 1;
    gone.last = DecisionRecord{};
    gone.removed = true;
    gone.dirty = true;
    (void)now;
    t = std::move(gone);
    removed_++;
    servers_seq_++;  // its addresses leave the carrier set (control/dp_link.cc)
    decision_seq_++;
    return ConfigError::ok;
}

TrunkRoutes Engine::routes(uint32_t id, Millis now) {
    TrunkRoutes r;
    if (id < trunks_.size() && !trunks_[id].removed) build_routes(trunks_[id], now, r);
    return r;
}

void Engine::on_register_response(uint32_t trunk, uint16_t ident, const char* msg, size_t len, Millis now) {
    if (trunk < trunks_.size() && !trunks_[trunk].removed) reg_.on_response(trunks_[trunk], ident, msg, len, now);
}

void Engine::on_register_transport_error(uint32_t trunk, uint16_t ident, Millis now) {
    if (trunk < trunks_.size() && !trunks_[trunk].removed) reg_.on_transport_error(trunks_[trunk], ident, now);
}

size_t Engine::write_register(const Action& a, const SendContext& ctx, char* buf, size_t cap) const {
    return a.trunk < trunks_.size() && !trunks_[a.trunk].removed ? reg_.write_register(trunks_[a.trunk], a, ctx, buf, cap) : 0;
}

void Engine::on_probe_response(uint32_t trunk, uint16_t server, uint32_t cseq, uint16_t status,
                               uint32_t retry_after_s, Millis now) {
    if (trunk < trunks_.size() && !trunks_[trunk].removed) monitor_.on_response(trunks_[trunk], server, cseq, status, retry_after_s, now);
}

size_t Engine::write_options(const Action& a, const SendContext& ctx, char* buf, size_t cap) const {
    return a.trunk < trunks_.size() && !trunks_[a.trunk].removed ? monitor_.write_options(trunks_[a.trunk], a, ctx, buf, cap) : 0;
}

Health Engine::health(uint32_t trunk, uint16_t server, Millis now) const noexcept {
    if (trunk >= trunks_.size() || trunks_[trunk].removed || server >= trunks_[trunk].servers.size())
        return Health::failed;
    const ServerState& s = trunks_[trunk].servers[server];
    if (s.maintenance) return Health::maintenance;
    if (s.recover_at > now) return Health::recovering;
    return s.failed ? Health::failed : Health::up;
}

const char* event_name(EventKind k) noexcept {
    switch (k) {
    case EventKind::none: return "none";
    case EventKind::timeout: return "timeout";
    case EventKind::rejected_503: return "503";
    case EventKind::icmp_unreachable: return "icmp-unreachable";
    case EventKind::success: return "success";
    case EventKind::challenged: return "challenged";
    case EventKind::denied: return "denied";
    case EventKind::connection_closed: return "connection-closed";
    case EventKind::dialog_start: return "dialog-start";
    case EventKind::dialog_end: return "dialog-end";
    case EventKind::count_: break;
    }
    return "?";
}

const char* notice_name(NoticeKind k) noexcept {
    switch (k) {
    case NoticeKind::none: return "none";
    case NoticeKind::registration_failures: return "registration-failures";
    case NoticeKind::registered: return "registered";
    case NoticeKind::registration_lost: return "registration-lost";
    case NoticeKind::server_failed: return "server-failed";
    case NoticeKind::server_recovered: return "server-recovered";
    case NoticeKind::failed_over: return "failed-over";
    case NoticeKind::failed_back: return "failed-back";
    case NoticeKind::count_: break;
    }
    return "?";
}

}  // namespace sipedge::failover
