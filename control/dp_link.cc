#include "control/dp_link.h"

#include "dataplane/iface.h"

#include <algorithm>
#include <iterator>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "control/monitor.h"
#include "control/number.h"
#include "dataplane/branch.h"
#include "dataplane/iface.h"
#include "failover/table.h"
#include "sipparse/headers.h"
#include "sipparse/message.h"

namespace sipedge::ctl {

namespace {

// Branch attempt values that say what control sent (dp::BranchId::attempt):
// the slot carries the engine trunk id, the generation the identity
// (REGISTER) or the server index (OPTIONS), the nonce a per-process sequence.
constexpr uint8_t branch_register = 0;
constexpr uint8_t branch_options = 1;

bool ipv4_of(const std::string& s, uint32_t& out) {
    uint8_t b[16];
    if (failover::parse_ip(s, b) != 4) return false;
    out = uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
    return true;
}

}  // namespace

std::unique_ptr<DpLink> DpLink::create(uint32_t workers, std::string& why) {
    std::unique_ptr<DpLink> l(new DpLink());
    l->workers_ = workers;
    // Events: any worker enqueues (MP), control dequeues (SC).
    l->events_ = rte_ring_create_elem("se_events", sizeof(failover::ServerEvent), events_ring_size,
                                      int(rte_socket_id()), RING_F_SC_DEQ);
    // Control's datagrams go out through worker 0 only: SP/SC.
    l->ctl_tx_ = rte_ring_create_elem("se_ctl_tx", sizeof(dp::ControlMsg), ctl_ring_size,
                                      int(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    l->ctl_rx_ = rte_ring_create_elem("se_ctl_rx", sizeof(dp::ControlMsg), ctl_ring_size,
                                      int(rte_socket_id()), RING_F_SC_DEQ);
    if (!l->events_ || !l->ctl_tx_ || !l->ctl_rx_) {
        why = std::string("rings: ") + rte_strerror(rte_errno);
        return nullptr;
    }
    const size_t sz = rte_rcu_qsbr_get_memsize(workers);
    l->rcu_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("se_rcu", sz, RTE_CACHE_LINE_SIZE));
    if (!l->rcu_ || rte_rcu_qsbr_init(l->rcu_, workers) != 0) {
        why = "rcu: cannot allocate the QSBR variable";
        return nullptr;
    }
    for (uint32_t w = 0; w < workers; w++) rte_rcu_qsbr_thread_register(l->rcu_, w);
    // Live trace (issue 7): one ring per worker, that worker enqueues (SP),
    // control dequeues (SC).
    l->trace_.assign(workers, nullptr);
    for (uint32_t w = 0; w < workers; w++) {
        const std::string name = "se_trace" + std::to_string(w);
        l->trace_[w] = rte_ring_create_elem(name.c_str(), sizeof(dp::TraceSample), trace_ring_size,
                                            int(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!l->trace_[w]) {
            why = std::string("trace ring: ") + rte_strerror(rte_errno);
            return nullptr;
        }
    }
    return l;
}

DpLink::~DpLink() {
    // The workers are stopped: no reader is left, free without waiting.
    routes_.store(nullptr, std::memory_order_relaxed);
    retired_.clear();
    cur_.reset();
    rte_ring_free(events_);
    rte_ring_free(ctl_tx_);
    rte_ring_free(ctl_rx_);
    for (rte_ring* r : trace_) rte_ring_free(r);
    rte_free(rcu_);
}

dp::WorkerLinks DpLink::worker_links(uint32_t w) const noexcept {
    dp::WorkerLinks l;
    l.routes = &routes_;
    l.rcu = rcu_;
    l.rcu_id = w;
    l.events = events_;
    l.ctl_tx = w == 0 ? ctl_tx_ : nullptr;
    l.ctl_rx = ctl_rx_;
    l.trace = w < trace_.size() ? trace_[w] : nullptr;
    l.trace_wanted = &trace_wanted_;
    return l;
}

void DpLink::tick(Controller& ctl) {
    drain_events(ctl);
    drain_responses(ctl);
    drain_trace(ctl);
    ctl.engine().tick(ctl.now());
    ctl.deliver_notices();  // metrics, traps, event log
    run_actions(ctl);
    sync(ctl);
    reclaim();
}

// Worker observations into the engine. The worker's clock is not control's:
// the event is stamped with the time control reads it (at most a tick late).
void DpLink::drain_events(Controller& ctl) {
    failover::ServerEvent ev[32];
    const failover::Millis now = ctl.now();
    for (uint32_t total = 0; total < events_ring_size;) {
        const unsigned n = rte_ring_sc_dequeue_burst_elem(events_, ev, sizeof(ev[0]), 32, nullptr);
        if (n == 0) break;
        for (unsigned i = 0; i < n; i++) {
            ev[i].at_ms = now;
            ctl.engine().on_event(ev[i]);
        }
        c_.events += n;
        total += n;
    }
}

// The workers' trace samples to Monitor::feed_trace (at most one ring's worth
// per worker per tick), then the workers' flag mirrored from the monitor: a
// subscriber that came or went is seen by the workers at their next burst.
void DpLink::drain_trace(Controller& ctl) {
    for (rte_ring* r : trace_) {
        for (uint32_t i = 0; i < trace_ring_size; i++) {
            if (rte_ring_sc_dequeue_elem(r, &trace_buf_, sizeof(trace_buf_)) != 0) break;
            ctl.monitor().feed_trace(trace_buf_, ctl.engine());
            c_.trace_samples++;
        }
    }
    // relaxed: a hint read by the workers once per burst; nothing is published with it.
    trace_wanted_.store(ctl.monitor().trace_wanted(), std::memory_order_relaxed);
}

// Responses to our REGISTER/OPTIONS, steered here by their control-core branch.
void DpLink::drain_responses(Controller& ctl) {
    for (uint32_t i = 0; i < ctl_ring_size; i++) {
        if (rte_ring_sc_dequeue_elem(ctl_rx_, &msg_, sizeof(msg_)) != 0) return;
        if (msg_.kind == dp::ControlMsg::unreachable) {
            // ICMP quoting our REGISTER: the engine walks on at once (its own
            // timeout covers OPTIONS probes).
            dp::BranchId ub;
            const bool ours = msg_.len == dp::branch_len &&
                              dp::decode_branch({msg_.data, msg_.len}, ub) &&
                              ub.core == dp::control_core;
            if (ours && ub.attempt == branch_register) {
                ctl.engine().on_register_transport_error(ub.slot, ub.generation, ctl.now());
                c_.unreachable++;
            } else if (!ours) {
                c_.responses_bad++;
            }
            continue;
        }
        sip::Message m;
        dp::BranchId b;
        if (msg_.len == 0 || msg_.len > dp::ControlMsg::max_len ||
            sip::parse(msg_.data, msg_.len, m) != sip::ParseStatus::ok || m.is_request ||
            !m.top_via.has_branch || !dp::decode_branch(m.top_via.branch.str(msg_.data), b) ||
            b.core != dp::control_core) {
            c_.responses_bad++;
            continue;
        }
        if (m.status < 200) continue;  // provisional: the final follows
        const failover::Millis now = ctl.now();
        if (b.attempt == branch_register && m.cseq.method == sip::Method::register_) {
            ctl.engine().on_register_response(b.slot, b.generation, msg_.data, msg_.len, now);
        } else if (b.attempt == branch_options && m.cseq.method == sip::Method::options) {
            uint32_t retry_after = 0;
            if (const sip::Header* h = m.find(sip::HeaderId::retry_after)) {
                sip::RetryAfter ra;
                if (sip::parse_retry_after(msg_.data, h->value, ra)) retry_after = ra.seconds;
            }
            ctl.engine().on_probe_response(b.slot, b.generation, m.cseq.number, m.status,
                                           retry_after, now);
        } else {
            c_.responses_bad++;
            continue;
        }
        c_.responses++;
    }
}

// The engine's actions: REGISTER/OPTIONS written here and queued for worker 0
// (it sends them from our SIP address); notices logged. Actions raised while
// these run wait for the next tick.
void DpLink::run_actions(Controller& ctl) {
    failover::Engine& e = ctl.engine();
    const std::vector<failover::Action> acts = e.actions();
    e.clear_actions();
    // Our Via names the interface that reaches the server (dataplane/iface.h):
    // the worker sends from that interface's address.
    const DataplaneSettings& dps = ctl.state().dataplane;
    dp::Ifaces ifs;
    for (const PortSettings& p : dps.ports)
        if (p.ip) ifs.add(p.ip, p.prefix, p.gateway);
    for (const failover::Action& a : acts) {
        if (a.kind == failover::ActionKind::notify) {
            c_.notices++;
            const failover::Trunk* t = e.trunk(a.notice.trunk_id);
            std::fprintf(stderr, "sipedge: notice %s trunk %s server %d\n",
                         failover::notice_name(a.notice.kind), t ? t->name.c_str() : "?",
                         a.notice.server_idx == 0xffff ? -1 : int(a.notice.server_idx));
            continue;
        }
        const bool reg = a.kind == failover::ActionKind::send_register;
        const failover::Trunk* t = e.trunk(a.trunk);
        if (!t || a.server >= t->servers.size() || t->servers[a.server].family != 4 ||
            t->servers[a.server].target.transport != sip::Transport::udp) {
            // Only IPv4 UDP goes through this data plane.
            c_.send_dropped++;
            if (reg && t) e.on_register_transport_error(a.trunk, a.identity, ctl.now());
            continue;
        }
        const failover::ServerState& sv = t->servers[a.server];
        const uint32_t sip = uint32_t(sv.addr[0]) << 24 | uint32_t(sv.addr[1]) << 16 |
                             uint32_t(sv.addr[2]) << 8 | sv.addr[3];
        const int f = ifs.egress(sip);
        const uint32_t self = f >= 0 ? ifs.ip[f] : ifs.n ? ifs.ip[0] : 0;
        char host[32];
        std::snprintf(host, sizeof host, "%u.%u.%u.%u:%u", self >> 24, self >> 16 & 255,
                      self >> 8 & 255, self & 255, unsigned(dps.sip_port));
        // A probe's branch nonce is its id: its Timer E retransmissions repeat it.
        const dp::BranchId id{a.trunk, reg ? ++nonce_ : a.nonce, reg ? a.identity : a.server, dp::control_core,
                              reg ? branch_register : branch_options};
        char br[dp::branch_len];
        dp::encode_branch(id, br);
        const failover::SendContext sc{std::string_view(host), std::string_view(br, dp::branch_len)};
        const size_t n = reg ? e.write_register(a, sc, msg_.data, sizeof(msg_.data))
                             : e.write_options(a, sc, msg_.data, sizeof(msg_.data));
        if (n == 0) {  // stale or does not fit
            c_.send_dropped++;
            continue;
        }
        msg_.peer = dp::Endpoint{sip, sv.target.port};
        msg_.len = uint16_t(n);
        msg_.kind = dp::ControlMsg::sip;
        // SP: control is the only producer.
        if (rte_ring_sp_enqueue_elem(ctl_tx_, &msg_, sizeof(msg_)) != 0) {
            c_.send_dropped++;
            continue;
        }
        c_.sent++;
    }
}

// The pattern tables of the committed state with a scratch per worker and
// table: the current set again when the compile has not changed, a new one
// otherwise; nullptr when there are no patterns or they cannot be readied
// (counted; the workers then route by default trunk / access only).
std::shared_ptr<const DpLink::PatternSet> DpLink::pattern_set(const Controller& ctl) {
    const State& st = ctl.state();
    if (st.route_patterns.empty() && st.inbound_patterns.empty()) return nullptr;
    if (!st.route_cache.tables && ctl.defer_route_compile()) {
        std::shared_ptr<const PatternSet> keep = deferred_pattern_set(ctl);
        if (!st.route_cache.tables) return keep;  // still compiling, or failed: the old table stays
    }
    // Patterns that failed once are not compiled again every tick.
    if (failed_ && !st.route_cache.tables && failed_->first == st.route_patterns &&
        failed_->second == st.inbound_patterns)
        return nullptr;
    auto compiled = compiled_routes(st);
    if (!compiled) {
        std::fprintf(stderr, "sipedge: route patterns not published: %s\n",
                     compiled.error().message.c_str());
        c_.pattern_errors++;
        failed_ = std::make_unique<PatternMaps>(st.route_patterns, st.inbound_patterns);
        return nullptr;
    }
    failed_.reset();
    if (cur_ && cur_->patterns && cur_->patterns->compiled == compiled.value()) return cur_->patterns;
    auto ps = std::make_shared<PatternSet>();
    ps->compiled = compiled.value();
    const CompiledRoutes& cr = *ps->compiled;
    const dp::RouteTable* tabs[2] = {cr.outbound.get(), cr.inbound.get()};
    for (int k = 0; k < 2; k++) {
        ps->scratch[k].reserve(workers_);  // no reallocation: scratch_ptr points into it
        for (uint32_t w = 0; w < workers_ && tabs[k]; w++) {
            auto sc = tabs[k]->clone_scratch();
            if (!sc) {
                std::fprintf(stderr, "sipedge: route patterns not published: %s\n",
                             sc.error().message.c_str());
                c_.pattern_errors++;
                return nullptr;
            }
            ps->scratch[k].push_back(std::move(sc.value()));
            ps->scratch_ptr[k].push_back(&ps->scratch[k].back());
        }
    }
    for (const std::string& t : cr.targets) {  // "<ipv4>:<port>", checked by the command
        const size_t colon = t.rfind(':');
        uint32_t ip = 0;
        unsigned port = 0;
        if (colon != std::string::npos) {
            (void)parse_ipv4(std::string_view(t).substr(0, colon), ip);
            uint64_t v = 0;
            if (parse_number(std::string_view(t).substr(colon + 1), 1, 65535, v) == NumStatus::ok) port = unsigned(v);
        }
        ps->targets.push_back(dp::Endpoint{ip, uint16_t(port)});
        if (ip) ps->target_ips.push_back(ip);
    }
    std::sort(ps->target_ips.begin(), ps->target_ips.end());
    ps->target_ips.erase(std::unique(ps->target_ips.begin(), ps->target_ips.end()), ps->target_ips.end());
    ps->version = ++pattern_versions_;
    c_.pattern_sets++;
    return ps;
}

// Patterns committed without a compile (runtime change, deferred): a compile
// of a copy runs on its own thread; until it is done, and when it fails, the
// workers keep the table they have (what the previous snapshot carried). A
// finished compile of patterns that changed again meanwhile is dropped and
// the next one starts. When it is done, the committed State's cache gets the
// tables (mutable derived data) and pattern_set() goes on as usual.
std::shared_ptr<const DpLink::PatternSet> DpLink::deferred_pattern_set(const Controller& ctl) {
    const State& st = ctl.state();
    std::shared_ptr<const PatternSet> keep = cur_ ? cur_->patterns : nullptr;
    const bool current = job_maps_ && job_maps_->first == st.route_patterns &&
                         job_maps_->second == st.inbound_patterns;
    if (job_.valid() && job_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
        auto res = job_.get();
        if (current) {
            if (!res) {
                std::fprintf(stderr, "sipedge: route patterns not published (the previous ones stay): %s\n",
                             res.error().message.c_str());
                c_.pattern_errors++;
                failed_ = std::move(job_maps_);
                return keep;
            }
            st.route_cache.tables = std::move(res.value());
            job_maps_.reset();
            return keep;
        }
        job_maps_.reset();
    }
    if (job_.valid()) return keep;  // busy with older patterns: next tick
    if (failed_ && failed_->first == st.route_patterns && failed_->second == st.inbound_patterns)
        return keep;  // failed once: not again every tick
    job_maps_ = std::make_unique<PatternMaps>(st.route_patterns, st.inbound_patterns);
    job_ = std::async(std::launch::async, [maps = *job_maps_] {
        return compile_route_maps(maps.first, maps.second);
    });
    c_.pattern_compiles_deferred++;
    return keep;
}

// The settings part of a snapshot: default trunk (engine id), access target.
void DpLink::settings_routes(const Controller& ctl, dp::Routes& r) const {
    const DataplaneSettings& d = ctl.state().dataplane;
    r.default_trunk = ~0u;
    if (!d.default_trunk.empty())
        if (auto id = ctl.engine_id(d.default_trunk)) r.default_trunk = *id;
    r.access = dp::Endpoint{d.access_ip, d.access_ip ? d.access_port : uint16_t(0)};
}

// Carrier-side detection: the IPv4 address of every trunk server, those
// configured as literals and those the engine holds (DNS answers included),
// sorted and unique for the workers' binary search. Recomputed only when a
// commit, a rebuilt engine or a changed server list (Engine::servers_seq)
// could change it; the same set keeps its pointer, so a snapshot is not
// republished for nothing.
std::shared_ptr<const DpLink::CarrierSet> DpLink::carrier_set(Controller& ctl) {
    const failover::Engine& e = ctl.engine();
    if (carriers_ && carriers_commit_ == ctl.commit_count() && carriers_engine_ == e.instance() &&
        carriers_seq_ == e.servers_seq())
        return carriers_;
    // The configured literals change only with a commit: kept apart, so a
    // DNS answer does not walk the configuration again.
    if (!carriers_ || carriers_commit_ != ctl.commit_count()) {
        cfg_all_.clear();
        cfg_hidden_.clear();
        for (const auto& [name, t] : ctl.state().trunks)
            for (const auto& s : t.servers) {
                uint32_t ip = 0;
                if (!s || !ipv4_of(s->host, ip)) continue;
                cfg_all_.push_back(ip);
                if (t.knobs.topology_hiding) cfg_hidden_.push_back(ip);
            }
        for (std::vector<uint32_t>* v : {&cfg_all_, &cfg_hidden_}) {
            std::sort(v->begin(), v->end());
            v->erase(std::unique(v->begin(), v->end()), v->end());
        }
    }
    carriers_commit_ = ctl.commit_count();
    carriers_engine_ = e.instance();
    carriers_seq_ = e.servers_seq();
    c_.carrier_builds++;
    // The engine's servers (resolved ones too), re-counted per changed trunk.
    carrier_index_.update(e);
    CarrierSet cs;
    cs.all.reserve(cfg_all_.size() + carrier_index_.all().size());
    std::set_union(cfg_all_.begin(), cfg_all_.end(), carrier_index_.all().begin(), carrier_index_.all().end(),
                   std::back_inserter(cs.all));
    std::set_union(cfg_hidden_.begin(), cfg_hidden_.end(), carrier_index_.hidden().begin(),
                   carrier_index_.hidden().end(), std::back_inserter(cs.hidden));
    if (!carriers_ || !(*carriers_ == cs)) carriers_ = std::make_shared<const CarrierSet>(std::move(cs));
    return carriers_;
}

void DpLink::sync(Controller& ctl) {
    failover::Engine& e = ctl.engine();
    const bool same_engine = cur_ && &e == engine_seen_;
    if (settings_ctl_ != &ctl || settings_commit_ != ctl.commit_count() || c_.settings_builds == 0) {
        settings_ = dp::Routes{};
        settings_routes(ctl, settings_);
        // A new set only when the workers would decide differently: their
        // buckets restart full whenever the pointer changes.
        auto peers = build_access_peers(ctl.state());
        if (!same_access_peers(peers.get(), access_.get())) access_ = std::move(peers);
        settings_ctl_ = &ctl;
        settings_commit_ = ctl.commit_count();
        c_.settings_builds++;
    }
    dp::Routes r = settings_;
    std::shared_ptr<const CarrierSet> carriers = carrier_set(ctl);
    std::shared_ptr<const PatternSet> ps = pattern_set(ctl);
    // Outbound targets by engine id, looked up again for every snapshot (a
    // rebuilt engine renumbers its trunks; a trunk may not run yet).
    std::vector<uint32_t> trunk_ids;
    if (ps)
        for (const std::string& name : ps->compiled->trunks) {
            const auto id = ctl.engine_id(name);
            trunk_ids.push_back(id ? *id : ~0u);
        }
    bool changed = !same_engine || ps != cur_->patterns || trunk_ids != cur_->trunk_ids ||
                   carriers != cur_->carriers || access_ != cur_->access;
    if (!changed) {
        const dp::Routes& o = cur_->routes;
        changed = o.default_trunk != r.default_trunk || !(o.access == r.access) ||
                  cur_->table->trunk_count() != e.trunk_count();
    }
    changed = changed || e.any_dirty();
    if (!changed) return;
    auto s = std::make_unique<Snapshot>();
    s->table = e.publish(same_engine ? cur_->table.get() : nullptr, ctl.now());
    s->patterns = std::move(ps);
    s->trunk_ids = std::move(trunk_ids);
    s->carriers = std::move(carriers);
    s->routes = r;
    s->routes.table = s->table.get();
    s->routes.carrier_count = uint32_t(s->carriers->all.size());
    s->routes.carriers = s->carriers->all.data();
    s->routes.hidden_count = uint32_t(s->carriers->hidden.size());
    s->routes.hidden = s->carriers->hidden.data();
    s->access = access_;
    s->routes.access_peers = access_ ? &access_->view : nullptr;
    if (const PatternSet* p = s->patterns.get()) {
        const CompiledRoutes& cr = *p->compiled;
        dp::PatternRoutes& out = s->routes.outbound;
        out.table = cr.outbound.get();
        out.scratch = p->scratch_ptr[0].data();
        out.workers = uint32_t(p->scratch_ptr[0].size());
        out.target_count = uint32_t(s->trunk_ids.size());
        out.trunk_ids = s->trunk_ids.data();
        dp::PatternRoutes& in = s->routes.inbound;
        in.table = cr.inbound.get();
        in.scratch = p->scratch_ptr[1].data();
        in.workers = uint32_t(p->scratch_ptr[1].size());
        in.target_count = uint32_t(p->targets.size());
        in.targets = p->targets.data();
        in.target_ips = p->target_ips.data();
        in.target_ip_count = uint32_t(p->target_ips.size());
        s->routes.patterns_version = p->version;
    }
    s->routes.version = ++c_.published;
    // release: the snapshot is complete before any worker can load the pointer.
    routes_.store(&s->routes, std::memory_order_release);
    if (cur_) retired_.emplace_back(rte_rcu_qsbr_start(rcu_), std::move(cur_));
    cur_ = std::move(s);
    engine_seen_ = &e;
}

// Frees snapshots whose grace period is over: every online worker has
// reported a quiescent state since they were replaced (non-blocking check).
void DpLink::reclaim() {
    while (!retired_.empty() && rte_rcu_qsbr_check(rcu_, retired_.front().first, false) == 1) {
        retired_.pop_front();
        c_.reclaimed++;
    }
}

}  // namespace sipedge::ctl
