// The worker loop, its control rings and the receive dispatcher; the stages
// and the TX path live in their own files (dataplane/stage.h lists them).

#include "dataplane/worker.h"

#include <cstdio>
#include <cstring>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dataplane/tsc.h"

namespace sipedge::dp {

static_assert(sizeof(WorkerStats::port_rx) / sizeof(uint64_t) == Ifaces::max);

Worker::~Worker() {
    if (indirect_) rte_mempool_free(indirect_);
}

bool Worker::init(const WorkerConfig& cfg, const ProxyConfig& pcfg, rte_mempool* pool,
                  const WorkerLinks& links) noexcept {
    cfg_ = cfg;
    links_ = links;
    if (cfg.nports == 0 || cfg.nports > Ifaces::max) return false;
    ifs_ = Ifaces{};
    for (uint8_t f = 0; f < cfg.nports; f++)
        ifs_.add(cfg.ports[f].ip, cfg.ports[f].prefix, cfg.ports[f].gateway);
    pool_ = pool;
    tsc_hz_ = rte_get_tsc_hz();
    to_us_ = TscToUs(tsc_hz_);
    tsc0_ = links.tsc0 ? links.tsc0 : rte_rdtsc();
    read_clock();
    // Fragment trains link their mbufs through a dynamic field (set on every
    // fragment of a train, never read on other packets).
    static const rte_mbuf_dynfield train_desc = {"sipedge_train_next", sizeof(rte_mbuf*),
                                                 alignof(rte_mbuf*), 0};
    train_off_ = rte_mbuf_dynfield_register(&train_desc);
    // A CANCEL passed from worker to worker counts its hops here (written
    // before each push, read only on such a CANCEL).
    static const rte_mbuf_dynfield hops_desc = {"sipedge_cancel_hops", sizeof(uint8_t), 1, 0};
    hops_off_ = rte_mbuf_dynfield_register(&hops_desc);
    char name[RTE_MEMPOOL_NAMESIZE];
    std::snprintf(name, sizeof(name), "sipedge_ind%u", unsigned(cfg.core));
    indirect_ = rte_pktmbuf_pool_create(name, 1023, 32, 0, 0, int(rte_socket_id()));
    if (train_off_ < 0 || hops_off_ < 0 || !indirect_) {
        std::fprintf(stderr, "sipedge: worker %u: no indirect mbuf pool / dynfield\n",
                     unsigned(cfg.core));
        return false;
    }
    fragmenter_ = Fragmenter(pool, indirect_);
    ReassemblyConfig rc;
    rc.tsc_hz = 1000;  // reassemble()/expire() get our millisecond clock
    rc.socket = int(rte_socket_id());
    if (!frag_.init(rc, &stats_)) return false;
    const uint64_t seed = rte_rdtsc() * 0x9e3779b97f4a7c15ULL ^ uint64_t(cfg.ports[0].ip) << 17;
    ProxyConfig pc = pcfg;  // the proxy names the interfaces we send from
    pc.ifaces = ifs_;
    pc.self.ip = cfg.ports[0].ip;
    pc.self.port = cfg.sip_port;
    return proxy_.init(pc, cfg.core, seed, now_, stats_);
}

// The clocks since start-up (TSC → µs, monotonic): now_ in milliseconds
// (the wheel's and the proxy's), the proxy's µs clock for RTT samples.
void Worker::read_clock() noexcept {
    const uint64_t us = to_us_(rte_rdtsc() - tsc0_);
    now_ = us / 1000;
    proxy_.set_clock_us(us);
}

// Busy/idle accounting: one rte_rdtsc() per iteration, at its end; the
// cycles since the previous one go to busy when the iteration received
// (queues or handoff ring), sent (TX batches, control's requests) or
// nothing at all (idle). An iteration's timers that only free state count
// as idle. The sums are the worker's own counters (plain stores, read by
// control a little behind, as every counter).
void Worker::run(const std::atomic<bool>& stop) noexcept {
    rte_mbuf* pkts[burst];
    uint64_t last_tick = now_;
    bool announced = false, routes_seen = false;
    if (links_.rcu) rte_rcu_qsbr_thread_online(links_.rcu, links_.rcu_id);
    uint64_t t_prev = rte_rdtsc();
    // relaxed: the flag only asks the loop to end; nothing is published with it.
    while (!stop.load(std::memory_order_relaxed)) {
        uint32_t work = 0;
        // acquire: pairs with control's release store of a new snapshot; the
        // snapshot is immutable and stays allocated until our next quiescent report.
        if (links_.routes) {
            const Routes* r = links_.routes->load(std::memory_order_acquire);
            proxy_.set_routes(r);
            routes_now_ = r;
            // release: readiness (control) may read it from another thread.
            if (r && !routes_seen) {
                routes_seen = true;
                has_routes_.store(true, std::memory_order_release);
            }
        }
        // relaxed: a hint from control (someone runs `monitor trace`); a stale
        // value costs one burst of samples or misses, nothing is published with it.
        proxy_.set_trace(links_.trace && links_.trace_wanted &&
                         links_.trace_wanted->load(std::memory_order_relaxed));
        if (links_.handoff) {  // what other workers handed us: handled here, never pushed on
            read_clock();
            const uint32_t d = links_.handoff->drain(cfg_.core, burst, [this](rte_mbuf* m) {
                handle(m, true);
            });
            stats_.handoff_drained += d;
            work += d;
        }
        for (uint8_t f = 0; f < cfg_.nports; f++) {
            const uint16_t n = rte_eth_rx_burst(cfg_.ports[f].port_id, cfg_.queue, pkts, burst);
            read_clock();
            behind_.poll(n, burst);
            stats_.port_rx[f] += n;
            work += n;
            // Not every PMD stamps its port id (net_ring does not): handle()
            // and the handoff rings read it from the mbuf.
            if (cfg_.nports > 1)
                for (uint16_t i = 0; i < n; i++) pkts[i]->port = cfg_.ports[f].port_id;
            for (uint16_t i = 0; i < n; i++) {
                if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
                handle(pkts[i], false);
            }
            // The kernel's side of this port (stage_exception.cc): what it sent.
            if (cfg_.ports[f].exception_port != PortConfig::none) {
                const uint16_t k = rte_eth_rx_burst(cfg_.ports[f].exception_port, cfg_.queue, pkts, burst);
                for (uint16_t i = 0; i < k; i++) from_kernel(f, pkts[i]);
                work += k;
            }
        }
        if (links_.stream) work += stream_in();  // SIP over TCP/TLS (stage_stream.cc)
        if (now_ != last_tick) {  // once per millisecond: timers, ARP retries
            last_tick = now_;
            // Behind (dataplane/overload.h): new INVITEs are dropped before
            // parsing until a millisecond is not behind; their callers
            // retransmit, the calls already admitted complete
            // (docs/capacity.md "Shedding when the worker is behind").
            shed_ = behind_.tick() && cfg_.overload_shed;
            stats_.shed_ms += shed_;
            while (proxy_.advance(now_)) carry_out();  // the outbox filled: it goes on
            carry_out();
            frag_.expire(now_);
            prime_next_hops();
            for (uint8_t f = 0; f < cfg_.nports; f++)
                arp_[f].tick(
                    now_, [this, f](uint32_t ip) { send_arp_request(f, ip); },
                    [this](uint64_t c) {
                        if (is_train(c)) drop_train(mbuf_of(c), DropReason::arp_unresolved);
                        else drop(mbuf_of(c), DropReason::arp_unresolved);
                    });
            work += drain_control();
            if (cfg_.run_ms && now_ >= cfg_.run_ms) break;
        }
        for (uint8_t f = 0; f < cfg_.nports; f++) work += ntx_[f];
        flush();
        // No pointer into the snapshot survives this point (transactions keep ids).
        if (links_.rcu) rte_rcu_qsbr_quiescent(links_.rcu, links_.rcu_id);
        const uint64_t t = rte_rdtsc();
        if (work) {
            stats_.busy_cycles += t - t_prev;
            stats_.busy_polls++;
        } else {
            stats_.idle_cycles += t - t_prev;
            stats_.idle_polls++;
        }
        t_prev = t;
        if (!announced) {  // one full iteration done: polling, routes loaded if given
            announced = true;
            running_.store(true, std::memory_order_release);  // pairs with running()
        }
    }
    flush();
    proxy_.set_routes(nullptr);
    routes_now_ = nullptr;
    running_.store(false, std::memory_order_release);
    if (links_.rcu) rte_rcu_qsbr_thread_offline(links_.rcu, links_.rcu_id);
}

bool Worker::first_partial(uint8_t f, Endpoint& from, bool& flagged) const noexcept {
    if (f >= Ifaces::max) return false;
    // relaxed: a report for the log; the value is self-contained.
    const uint64_t v = first_partial_[f].load(std::memory_order_relaxed);
    if (!v) return false;
    from = Endpoint{uint32_t(v >> 16), uint16_t(v)};
    flagged = (v >> 48 & 1) != 0;
    return true;
}

// A datagram accepted with a partial checksum on port <f>: counted; the
// first one per port is kept for control's one log line.
void Worker::note_partial(uint8_t f, uint32_t src, uint16_t sport, bool flagged) noexcept {
    stats_.rx_udp_csum_partial++;
    stats_.port_udp_csum_partial[f]++;
    // relaxed: only this worker writes; control reads a self-contained value.
    if (first_partial_[f].load(std::memory_order_relaxed) == 0)
        first_partial_[f].store(uint64_t(1) << 63 | uint64_t(flagged) << 48 | uint64_t(src) << 16 | sport,
                                std::memory_order_relaxed);
}

// Control's REGISTER/OPTIONS: sent from our SIP address like any request.
// SC: only this worker dequeues; at most ctl_burst per tick.
uint16_t Worker::drain_control() noexcept {
    uint16_t sent = 0;
    if (!links_.ctl_tx) return 0;
    for (uint16_t i = 0; i < ctl_burst; i++) {
        if (rte_ring_sc_dequeue_elem(links_.ctl_tx, &msg_, sizeof(msg_)) != 0) return sent;
        if (msg_.len == 0 || msg_.len > ControlMsg::max_len) continue;
        stats_.control_tx++;
        stats_.sip_requests_tx++;
        send_sip(msg_.peer, msg_.data, msg_.len, nullptr);
        sent++;
    }
    return sent;
}

void Worker::report(const failover::ServerEvent& ev) noexcept {
    // MP: every worker enqueues; SC: only the control thread dequeues.
    failover::ServerEvent copy = ev;  // the DPDK 22.11 prototype takes a non-const pointer
    if (!links_.events || rte_ring_mp_enqueue_elem(links_.events, &copy, sizeof(copy)) != 0)
        stats_.events_dropped++;  // control is behind; the next failure re-reports
}

void Worker::trace(const TraceSample& s) noexcept {
    // SP: only this core enqueues on its trace ring; SC: only control dequeues.
    // Full: the sample is lost and counted, the worker never waits.
    if (!links_.trace || rte_ring_sp_enqueue_elem(links_.trace, const_cast<TraceSample*>(&s),
                                                  sizeof(TraceSample)) != 0)
        stats_.trace_dropped++;
}

void Worker::to_control(Endpoint from, const char* data, size_t len) noexcept {
    push_control(from, ControlMsg::sip, data, len);
}

void Worker::control_unreachable(Endpoint to, const char* branch, size_t len) noexcept {
    push_control(to, ControlMsg::unreachable, branch, len);
}

void Worker::push_control(Endpoint peer, ControlMsg::Kind kind, const char* data,
                          size_t len) noexcept {
    if (!links_.ctl_rx || len > ControlMsg::max_len) {
        stats_.control_rx_dropped++;
        return;
    }
    msg_.peer = peer;
    msg_.len = uint16_t(len);
    msg_.kind = kind;
    std::memcpy(msg_.data, data, len);
    // MP/SC as the event ring; the copy is taken by value.
    if (rte_ring_mp_enqueue_elem(links_.ctl_rx, &msg_, sizeof(msg_)) != 0)
        stats_.control_rx_dropped++;
}

// One received frame (or one from our handoff ring) through the stages;
// the only place a verdict is acted on: a drop counted, the frame freed
// when the stages left it to us.
void Worker::handle(rte_mbuf* m, bool from_ring) noexcept {
    if (!from_ring) {  // counted once, by the worker whose queue received it
        stats_.rx_packets++;
        stats_.rx_bytes += rte_pktmbuf_pkt_len(m);
    }
    Pkt p;
    p.m = m;
    p.from_ring = from_ring;
    // A chained mbuf from a ring: a datagram another worker reassembled for us.
    const StageOut r = m->nb_segs != 1 && from_ring ? chained_in(p) : eth_in(p);
    switch (r.v) {
    case Verdict::kept:
    case Verdict::handed_off: return;
    case Verdict::drop: stats_.drop(r.why); [[fallthrough]];
    case Verdict::done:
        if (p.m) rte_pktmbuf_free(p.m);  // nullptr: the packet in hand was a copy
        return;
    }
}

}  // namespace sipedge::dp
