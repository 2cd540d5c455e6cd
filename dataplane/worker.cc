// The worker loop and its L2/L3: see worker.h.

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

namespace {
// A parked mbuf travels through the ARP cache as an opaque cookie; bit 0 set
// marks the head of a fragment train (mbufs are cache-line aligned).
uint64_t cookie_of(rte_mbuf* m, bool train = false) noexcept {
    return reinterpret_cast<uintptr_t>(m) | uint64_t(train);
}
rte_mbuf* mbuf_of(uint64_t c) noexcept { return reinterpret_cast<rte_mbuf*>(uintptr_t(c & ~1ull)); }
bool is_train(uint64_t c) noexcept { return c & 1; }

constexpr uint16_t ethertype_vlan = 0x8100;
constexpr size_t vlan_hdr_len = 4;

// 802.1Q on receive: true when <m> belongs to VLAN <vid> (0: untagged only);
// a tag in the frame is removed so that everything after sees an untagged
// frame. A tag the PMD stripped (vlan_tci) counts as the frame's tag.
bool vlan_accept(rte_mbuf* m, uint16_t vid) noexcept {
    if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) return (m->vlan_tci & 0xfff) == vid && vid;
    auto* p = rte_pktmbuf_mtod(m, uint8_t*);
    const bool tagged = rte_pktmbuf_data_len(m) >= eth_hdr_len + vlan_hdr_len &&
                        p[12] == (ethertype_vlan >> 8) && p[13] == (ethertype_vlan & 0xff);
    if (!tagged) return vid == 0;
    if (vid == 0 || ((uint16_t(p[14]) << 8 | p[15]) & 0xfff) != vid) return false;
    std::memmove(p + vlan_hdr_len, p, 12);  // the MACs move up over the tag
    rte_pktmbuf_adj(m, vlan_hdr_len);
    return true;
}

// 802.1Q on send: the tag for <vid> after the MACs (priority 0). False when
// the mbuf has no headroom for it.
bool vlan_tag(rte_mbuf* m, uint16_t vid) noexcept {
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, vlan_hdr_len));
    if (!p) return false;
    std::memmove(p, p + vlan_hdr_len, 12);
    p[12] = ethertype_vlan >> 8;
    p[13] = ethertype_vlan & 0xff;
    p[14] = uint8_t(vid >> 8 & 0x0f);
    p[15] = uint8_t(vid);
    return true;
}
}  // namespace

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
    return proxy_.init(pc, cfg.core, seed, now_, *this, stats_);
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
            from_ring_ = true;
            const uint32_t d = links_.handoff->drain(cfg_.core, burst, [this](rte_mbuf* m) {
                handle(m);
            });
            stats_.handoff_drained += d;
            work += d;
            from_ring_ = false;
        }
        for (uint8_t f = 0; f < cfg_.nports; f++) {
            const uint16_t n = rte_eth_rx_burst(cfg_.ports[f].port_id, cfg_.queue, pkts, burst);
            read_clock();
            stats_.port_rx[f] += n;
            work += n;
            // Not every PMD stamps its port id (net_ring does not): handle()
            // and the handoff rings read it from the mbuf.
            if (cfg_.nports > 1)
                for (uint16_t i = 0; i < n; i++) pkts[i]->port = cfg_.ports[f].port_id;
            for (uint16_t i = 0; i < n; i++) {
                if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
                handle(pkts[i]);
            }
        }
        if (now_ != last_tick) {  // once per millisecond: timers, ARP retries
            last_tick = now_;
            proxy_.advance(now_);
            frag_.expire(now_);
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
        send_udp(msg_.peer, msg_.data, msg_.len);
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

// RSS hashes the 5-tuple: a CANCEL from another source port than its INVITE
// (a caller that changed sockets, a NAT that remapped) lands on a worker that
// does not hold the INVITE. Before answering 481, the CANCEL goes round the
// other workers, each asking its own table: worker k+1, k+2, ... until one
// holds the INVITE or every worker was asked (the last answers 481). Only
// CANCELs that match nothing travel; one received as one datagram (a
// reassembled one is answered where it is).
bool Worker::pass_on_cancel() noexcept {
    if (!in_m_ || !links_.handoff || links_.handoff->workers() < 2) return false;
    uint8_t* hops = RTE_MBUF_DYNFIELD(in_m_, hops_off_, uint8_t*);
    const uint8_t h = from_ring_ ? *hops : 0;
    const uint16_t nw = links_.handoff->workers();
    if (h + 1u >= nw) return false;  // every other worker has looked
    *hops = uint8_t(h + 1);
    handed_ = true;
    if (links_.handoff->push(uint16_t((cfg_.core + 1u) % nw), in_m_, stats_)) {
        stats_.handoff_pushed++;
        stats_.cancels_passed++;
    }
    stats_.cancels_rx--;  // counted where it is answered, once
    return true;
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

void Worker::drop(rte_mbuf* m, DropReason r) noexcept {
    stats_.drop(r);
    rte_pktmbuf_free(m);
}

void Worker::flush() noexcept {
    for (uint8_t f = 0; f < cfg_.nports; f++) {
        const uint16_t n = ntx_[f];
        if (n == 0) continue;
        const uint16_t sent = rte_eth_tx_burst(cfg_.ports[f].port_id, cfg_.queue, tx_[f], n);
        stats_.port_tx[f] += sent;
        for (uint16_t i = sent; i < n; i++) drop(tx_[f][i], DropReason::tx_full);
        ntx_[f] = 0;
    }
}

// The frame in <m> (untagged, Ethernet header in place) out of port <f>.
void Worker::enqueue(rte_mbuf* m, const MacAddr& dst, uint8_t f) noexcept {
    const PortConfig& pc = cfg_.ports[f];
    auto* eth = rte_pktmbuf_mtod(m, EthHdr*);
    eth->dst = dst;
    eth->src = pc.mac;
    if (pc.vlan && !vlan_tag(m, pc.vlan)) {
        drop(m, DropReason::mbuf_exhausted);  // no headroom: never with our pools
        return;
    }
    stats_.tx_packets++;
    stats_.tx_bytes += rte_pktmbuf_pkt_len(m);
    tx_[f][ntx_[f]++] = m;
    if (ntx_[f] == burst * 4) flush();
}

// A train: fragments of one datagram linked through the train dynfield.
void Worker::enqueue_train(rte_mbuf* m, const MacAddr& dst, uint8_t f) noexcept {
    while (m) {
        rte_mbuf* next = *RTE_MBUF_DYNFIELD(m, train_off_, rte_mbuf**);
        enqueue(m, dst, f);
        m = next;
    }
}

// What an ARP cache of port <f> held for an address now known at <mac>.
void Worker::release_parked(uint64_t parked, const MacAddr& mac, uint8_t f) noexcept {
    if (!parked) return;
    if (is_train(parked)) enqueue_train(mbuf_of(parked), mac, f);
    else enqueue(mbuf_of(parked), mac, f);
}

// The WorkerConfig::ports index of DPDK port <port_id>; -1 when not ours.
int Worker::port_index(uint16_t port_id) const noexcept {
    for (uint8_t f = 0; f < cfg_.nports; f++)
        if (cfg_.ports[f].port_id == port_id) return f;
    return -1;
}

void Worker::drop_train(rte_mbuf* m, DropReason r) noexcept {
    while (m) {
        rte_mbuf* next = *RTE_MBUF_DYNFIELD(m, train_off_, rte_mbuf**);
        drop(m, r);
        m = next;
    }
}

// Out of port <f> towards next hop <nh> (Ifaces::egress()): ARP, then the
// TX batch. A <train> (the fragments of one datagram) is parked and released
// as one.
void Worker::route_out(rte_mbuf* m, uint8_t f, uint32_t nh, bool train) noexcept {
    MacAddr mac;
    const ArpCache::Result r = arp_[f].resolve(nh, now_, mac, cookie_of(m, train));
    if (r.replaced) {
        if (is_train(r.replaced)) drop_train(mbuf_of(r.replaced), DropReason::arp_unresolved);
        else drop(mbuf_of(r.replaced), DropReason::arp_unresolved);
    }
    if (r.send_request) send_arp_request(f, nh);
    switch (r.status) {
    case ArpCache::Status::hit:
        if (train) enqueue_train(m, mac, f);
        else enqueue(m, mac, f);
        break;
    case ArpCache::Status::parked: break;
    case ArpCache::Status::full:
        if (train) drop_train(m, DropReason::arp_unresolved);
        else drop(m, DropReason::arp_unresolved);
        break;
    }
}

void Worker::send_udp(Endpoint to, const char* data, size_t len) noexcept {
    if (len > 0xffff - ipv4_hdr_len - udp_hdr_len) {
        stats_.drop(DropReason::sip_too_big);
        return;
    }
    uint32_t nh = 0;
    const int fi = ifs_.egress(to.ip, nh);
    if (fi < 0) {
        stats_.drop(DropReason::ipv4_no_route);
        return;
    }
    const uint8_t f = uint8_t(fi);
    if (ipv4_hdr_len + udp_hdr_len + len > cfg_.ports[f].mtu) {
        send_fragmented(f, nh, to, data, len);
        return;
    }
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) {
        stats_.drop(DropReason::mbuf_exhausted);
        return;
    }
    const size_t hdr = eth_hdr_len + ipv4_hdr_len + udp_hdr_len;
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, uint16_t(hdr + len)));
    if (!p || hdr + len > 0xffff) {
        drop(m, DropReason::sip_too_big);
        return;
    }
    std::memcpy(p + hdr, data, len);
    EthHdr eth{};
    eth.type = be16(ethertype_ipv4);
    std::memcpy(p, &eth, sizeof(eth));
    // Software checksums: af_packet/veth has no offload worth trusting here.
    build_ipv4_udp(p + eth_hdr_len, cfg_.ports[f].ip, cfg_.sip_port, to.ip, to.port, len, ip_id_++);
    stats_.udp_tx++;
    route_out(m, f, nh);
}

// A datagram over the MTU: the frame is built contiguous in tx_dgram_, copied
// into an mbuf chain and split (RFC 791; DF cleared: we are its source).
// Pool exhaustion counts mbuf_exhausted, anything else sip_too_big.
void Worker::send_fragmented(uint8_t f, uint32_t nh, Endpoint to, const char* data,
                             size_t len) noexcept {
    const size_t hdr = eth_hdr_len + ipv4_hdr_len + udp_hdr_len;
    EthHdr eth{};
    eth.type = be16(ethertype_ipv4);
    std::memcpy(tx_dgram_, &eth, sizeof(eth));
    std::memcpy(tx_dgram_ + hdr, data, len);
    build_ipv4_udp(tx_dgram_ + eth_hdr_len, cfg_.ports[f].ip, cfg_.sip_port, to.ip, to.port, len,
                   ip_id_++);
    rte_mbuf* m = copy_in(pool_, tx_dgram_, hdr + len);
    if (!m) {
        stats_.drop(DropReason::mbuf_exhausted);
        return;
    }
    rte_mbuf* frags[max_frags];
    uint16_t n = 0;
    const FragmentResult r = fragmenter_.fragment(m, eth_hdr_len, cfg_.ports[f].mtu, frags, max_frags, n);
    if (r != FragmentResult::ok || n == 0) {  // <m> was freed
        stats_.drop(r == FragmentResult::no_mbuf ? DropReason::mbuf_exhausted
                                                 : DropReason::sip_too_big);
        return;
    }
    for (uint16_t i = 0; i < n; i++)
        *RTE_MBUF_DYNFIELD(frags[i], train_off_, rte_mbuf**) = i + 1 < n ? frags[i + 1] : nullptr;
    stats_.udp_tx++;
    stats_.ipv4_fragmented_tx++;
    stats_.ipv4_fragments_tx += n;
    route_out(frags[0], f, nh, true);
}

void Worker::send_arp_request(uint8_t f, uint32_t ip) noexcept {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) {
        stats_.drop(DropReason::mbuf_exhausted);
        return;
    }
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, eth_hdr_len + arp_pkt_len));
    EthHdr eth{};
    eth.type = be16(ethertype_arp);
    std::memcpy(p, &eth, sizeof(eth));
    ArpPkt a{};
    a.htype = be16(1);
    a.ptype = be16(ethertype_ipv4);
    a.hlen = 6;
    a.plen = 4;
    a.op = be16(1);
    a.sha = cfg_.ports[f].mac;
    a.spa = be32(cfg_.ports[f].ip);
    a.tpa = be32(ip);
    std::memcpy(p + eth_hdr_len, &a, sizeof(a));
    stats_.arp_requests_tx++;
    MacAddr bcast;
    std::memset(bcast.b, 0xff, 6);
    enqueue(m, bcast, f);
}

void Worker::handle(rte_mbuf* m) noexcept {
    if (!from_ring_) {  // counted once, by the worker whose queue received it
        stats_.rx_packets++;
        stats_.rx_bytes += rte_pktmbuf_pkt_len(m);
    }
    if (m->nb_segs != 1 && from_ring_) {  // a datagram another worker reassembled for us
        handle_chained(m);
        return;
    }
    if (m->nb_segs != 1 || rte_pktmbuf_data_len(m) < eth_hdr_len) {
        drop(m, DropReason::eth_short);
        return;
    }
    // The port it came in on (kept on handoff copies); one port: always it.
    const int fi = cfg_.nports == 1 ? 0 : port_index(m->port);
    if (fi < 0) {
        drop(m, DropReason::eth_not_for_us);
        return;
    }
    const uint8_t f = uint8_t(fi);
    // Ring packets were untagged by the worker that received them.
    if (!from_ring_ && !vlan_accept(m, cfg_.ports[f].vlan)) {
        drop(m, DropReason::vlan_mismatch);
        return;
    }
    auto* p = rte_pktmbuf_mtod(m, uint8_t*);
    const size_t len = rte_pktmbuf_data_len(m);
    EthHdr eth;
    std::memcpy(&eth, p, sizeof(eth));
    if (!(eth.dst == cfg_.ports[f].mac) && !eth.dst.is_broadcast()) {
        drop(m, DropReason::eth_not_for_us);
        return;
    }
    const uint16_t type = be16(eth.type);
    if (type == ethertype_arp) handle_arp(m, f, p + eth_hdr_len, len - eth_hdr_len);
    else if (type == ethertype_ipv4) handle_ipv4(m, f, p + eth_hdr_len, len - eth_hdr_len);
    else drop(m, DropReason::eth_type);
}

// RFC 826: learn the sender when the request is for us (or we asked), answer
// requests for our address in place.
void Worker::handle_arp(rte_mbuf* m, uint8_t f, uint8_t* l3, size_t len) noexcept {
    ArpPkt a;
    if (len < arp_pkt_len) {
        drop(m, DropReason::arp_malformed);
        return;
    }
    std::memcpy(&a, l3, sizeof(a));
    if (be16(a.htype) != 1 || be16(a.ptype) != ethertype_ipv4 || a.hlen != 6 || a.plen != 4) {
        drop(m, DropReason::arp_malformed);
        return;
    }
    const uint16_t op = be16(a.op);
    const uint32_t spa = be32(a.spa), tpa = be32(a.tpa);
    const bool for_us = tpa == cfg_.ports[f].ip;
    if (from_ring_) {  // another worker's copy: learn only (it answers and counts)
        stats_.arp_shared++;
        if (spa != 0) release_parked(arp_[f].learn(spa, a.sha, now_, for_us), a.sha, f);
        rte_pktmbuf_free(m);
        return;
    }
    if (spa != 0 && (op == 1 || op == 2)) share_arp(m);
    if (op == 2) stats_.arp_replies_rx++;
    if (op == 1 && for_us) stats_.arp_requests_rx++;
    if (spa != 0) release_parked(arp_[f].learn(spa, a.sha, now_, for_us), a.sha, f);
    if (op == 2) {  // a reply: learned above, consumed
        rte_pktmbuf_free(m);
        return;
    }
    if (op != 1) {
        drop(m, DropReason::arp_malformed);
        return;
    }
    if (!for_us) {
        drop(m, DropReason::arp_not_for_us);
        return;
    }
    ArpPkt r = a;
    r.op = be16(2);
    r.tha = a.sha;
    r.tpa = a.spa;
    r.sha = cfg_.ports[f].mac;
    r.spa = be32(cfg_.ports[f].ip);
    std::memcpy(l3, &r, sizeof(r));
    rte_pktmbuf_trim(m, uint16_t(len - arp_pkt_len));  // drop Ethernet padding
    stats_.arp_replies_tx++;
    enqueue(m, a.sha, f);
}

// A copy of an ARP packet to every other worker (their caches learn from it):
// mbufs from the packet pool, no heap; a full ring drops the copy (counted).
void Worker::share_arp(rte_mbuf* m) noexcept {
    Handoff* h = links_.handoff;
    if (!h || h->workers() < 2) return;
    for (uint16_t w = 0; w < h->workers(); w++) {
        if (w == cfg_.core) continue;
        rte_mbuf* c = rte_pktmbuf_copy(m, pool_, 0, UINT32_MAX);
        if (!c) {
            stats_.drop(DropReason::mbuf_exhausted);
            continue;
        }
        if (h->push(w, c, stats_)) stats_.arp_shared++;
    }
}

void Worker::handle_ipv4(rte_mbuf* m, uint8_t f, uint8_t* l3, size_t len) noexcept {
    size_t ihl = 0, tot = 0;
    switch (ipv4_check(l3, len, ihl, tot)) {
    case Ipv4Check::ok: break;
    case Ipv4Check::malformed: drop(m, DropReason::ipv4_malformed); return;
    case Ipv4Check::truncated: drop(m, DropReason::ipv4_truncated); return;  // said once (control/main.cc)
    case Ipv4Check::bad_csum: drop(m, DropReason::ipv4_bad_csum); return;
    case Ipv4Check::fragment: handle_fragment(m, f, l3); return;
    }
    Ipv4Hdr ip;
    std::memcpy(&ip, l3, sizeof(ip));
    if (be32(ip.dst) != cfg_.ports[f].ip) {
        drop(m, DropReason::ipv4_not_for_us);
        return;
    }
    if (ip.proto == ipproto_icmp) {
        handle_icmp(m, f, l3, ihl, tot);
        return;
    }
    if (ip.proto != ipproto_udp) {
        drop(m, DropReason::ipv4_proto);
        return;
    }
    rx_m_ = from_ring_ ? nullptr : m;
    in_m_ = m;
    handed_ = false;
    const DropReason r = handle_udp(f, l3, ihl, tot);
    rx_m_ = in_m_ = nullptr;
    if (handed_) return;  // now another worker's (or freed and counted)
    if (r == DropReason::count_) rte_pktmbuf_free(m);  // the proxy copied what it keeps
    else drop(m, r);
}

// An IPv4 fragment (header checksum already good): for our address it goes
// to the reassembler, which owns it from then on and counts its drops; a
// completed datagram is copied whole into rx_dgram_ and takes the UDP path.
// Reassembled ICMP and other protocols are dropped (ipv4_proto): ICMP errors
// quote 576 bytes at most, and we answer no oversized echo.
void Worker::handle_fragment(rte_mbuf* m, uint8_t f, const uint8_t* l3) noexcept {
    Ipv4Hdr ip;
    std::memcpy(&ip, l3, sizeof(ip));
    if (be32(ip.dst) != cfg_.ports[f].ip) {
        drop(m, DropReason::ipv4_not_for_us);
        return;
    }
    // Several workers: every fragment of a datagram is reassembled by the
    // worker its addresses name (RSS may hash the first fragment, which has
    // the UDP ports, elsewhere than the others).
    if (links_.handoff && !from_ring_ && links_.handoff->workers() > 1) {
        const uint16_t o = fragment_owner(be32(ip.src), be32(ip.dst), links_.handoff->workers());
        if (o != cfg_.core) {
            if (links_.handoff->push(o, m, stats_)) stats_.handoff_pushed++;
            return;
        }
    }
    stats_.ipv4_fragments_rx++;
    rte_mbuf* d = frag_.reassemble(m, eth_hdr_len, now_);
    if (!d) return;  // incomplete, or dropped and counted
    const size_t n = copy_out(d, 0, rx_dgram_, sizeof(rx_dgram_));
    rte_pktmbuf_free(d);
    handle_dgram(f, n, true);
}

// A whole frame in rx_dgram_[0, n) (reassembled here, or by another worker
// and handed to us): IPv4 checks, then UDP. A SIP response reassembled here
// for another worker's transaction goes to that worker, copied into a
// chained mbuf (handle_chained() there).
void Worker::handle_dgram(uint8_t f, size_t n, bool reassembled_here) noexcept {
    const auto* l3d = reinterpret_cast<const uint8_t*>(rx_dgram_) + eth_hdr_len;
    size_t ihl = 0, tot = 0;
    if (n < eth_hdr_len + ipv4_hdr_len) {
        stats_.drop(DropReason::ipv4_fragment);
        return;
    }
    if (ipv4_check(l3d, n - eth_hdr_len, ihl, tot) != Ipv4Check::ok) {
        stats_.drop(DropReason::ipv4_malformed);
        return;
    }
    Ipv4Hdr ip;
    std::memcpy(&ip, l3d, sizeof(ip));
    if (reassembled_here) {
        stats_.ipv4_reassembled++;
        if (links_.handoff && ip.proto == ipproto_udp && tot >= ihl + udp_hdr_len) {
            const char* payload = reinterpret_cast<const char*>(l3d + ihl + udp_hdr_len);
            const int o = response_owner(payload, tot - ihl - udp_hdr_len);
            if (o >= 0 && o != int(cfg_.core)) {
                rte_mbuf* c = copy_in(pool_, rx_dgram_, eth_hdr_len + tot);
                if (!c) {
                    stats_.drop(DropReason::mbuf_exhausted);
                    return;
                }
                c->port = cfg_.ports[f].port_id;
                if (links_.handoff->push(uint16_t(o), c, stats_)) stats_.handoff_pushed++;
                return;
            }
        }
    }
    const DropReason r = ip.proto == ipproto_udp ? handle_udp(f, l3d, ihl, tot) : DropReason::ipv4_proto;
    if (r != DropReason::count_) stats_.drop(r);
}

// A chained mbuf from our handoff ring: a datagram another worker
// reassembled (untagged, its port in m->port).
void Worker::handle_chained(rte_mbuf* m) noexcept {
    const int fi = cfg_.nports == 1 ? 0 : port_index(m->port);
    const size_t n = copy_out(m, 0, rx_dgram_, sizeof(rx_dgram_));
    rte_pktmbuf_free(m);
    if (fi < 0) {
        stats_.drop(DropReason::eth_not_for_us);
        return;
    }
    stats_.handoff_reassembled_rx++;
    handle_dgram(uint8_t(fi), n, false);
}

// UDP in <l3>[0, tot) (IPv4 header of <ihl> bytes, checked): checksum, our
// SIP port, then the proxy. Returns the drop reason, or count_ when the
// datagram was consumed. Reads bytes only: the caller owns and frees them.
// Checksum: the PMD's per-packet verdict when it gives one (in_m_'s
// RTE_MBUF_F_RX_L4_CKSUM_GOOD, or _NONE: data intact, field not filled in,
// counted as partial), else port <f>'s RxCsum: verify in software; with
// verify_partial a field that holds the pseudo-header partial sum (a veth
// peer's CHECKSUM_PARTIAL read through a packet socket) is accepted and
// counted; off: lengths only. Reassembled datagrams have no mbuf: the mode.
DropReason Worker::handle_udp(uint8_t f, const uint8_t* l3, size_t ihl, size_t tot) noexcept {
    Ipv4Hdr ip;
    std::memcpy(&ip, l3, sizeof(ip));
    const uint32_t src = be32(ip.src);
    const uint8_t* udp = l3 + ihl;
    size_t plen = 0;
    UdpHdr u;
    if (tot - ihl >= udp_hdr_len) std::memcpy(&u, udp, sizeof(u));
    const RxCsum mode = cfg_.rx_udp_csum ? cfg_.ports[f].rx_csum : RxCsum::off;
    const uint64_t l4 = in_m_ ? in_m_->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK : 0;
    const bool vouched = l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE;
    UdpCheck c = udp_check(src, cfg_.ports[f].ip, udp, tot - ihl, plen, mode != RxCsum::off && !vouched);
    if (c == UdpCheck::ok && l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE && u.csum != 0 && mode != RxCsum::off)
        note_partial(f, src, be16(u.sport), true);
    if (c == UdpCheck::bad_csum && mode == RxCsum::verify_partial &&
        udp_csum_is_partial(src, cfg_.ports[f].ip, udp, tot - ihl)) {
        c = UdpCheck::ok;
        plen = be16(u.len) - udp_hdr_len;
        note_partial(f, src, be16(u.sport), false);
    }
    if (c != UdpCheck::ok)
        return c == UdpCheck::malformed ? DropReason::udp_malformed : DropReason::udp_bad_csum;
    if (be16(u.dport) != cfg_.sip_port) return DropReason::udp_port;
    const char* payload = reinterpret_cast<const char*>(udp + udp_hdr_len);
    if (rx_m_ && links_.handoff) {  // a response to another worker's transaction goes there
        const int o = response_owner(payload, plen);
        if (o >= 0 && o != int(cfg_.core)) {
            handed_ = true;
            if (links_.handoff->push(uint16_t(o), rx_m_, stats_)) stats_.handoff_pushed++;
            return DropReason::count_;
        }
    }
    stats_.udp_rx++;
    proxy_.on_datagram(Endpoint{src, be16(u.sport)}, payload, plen, now_, f);
    return DropReason::count_;
}

// ICMP echo → reply in place; destination unreachable quoting a UDP datagram
// we sent from our SIP port → the client transaction it concerns (§17.1.4).
void Worker::handle_icmp(rte_mbuf* m, uint8_t f, uint8_t* l3, size_t ihl, size_t tot) noexcept {
    uint8_t* icmp = l3 + ihl;
    const size_t ilen = tot - ihl;
    if (ilen < sizeof(IcmpHdr)) {
        drop(m, DropReason::icmp_malformed);
        return;
    }
    if (csum_fold(csum_add(0, icmp, ilen)) != 0) {
        drop(m, DropReason::icmp_bad_csum);
        return;
    }
    IcmpHdr h;
    std::memcpy(&h, icmp, sizeof(h));
    if (h.type == 8 && h.code == 0) {
        stats_.icmp_echo_rx++;
        Ipv4Hdr ip;
        std::memcpy(&ip, l3, sizeof(ip));
        const uint32_t peer = ip.src;
        ip.src = ip.dst;
        ip.dst = peer;
        ip.ttl = 64;
        ip.csum = 0;
        std::memcpy(l3, &ip, sizeof(ip));
        const uint16_t c = csum_fold(csum_add(0, l3, ihl));
        std::memcpy(l3 + 10, &c, 2);
        icmp[0] = 0;  // echo reply
        icmp[2] = icmp[3] = 0;
        const uint16_t ic = csum_fold(csum_add(0, icmp, ilen));
        std::memcpy(icmp + 2, &ic, 2);
        EthHdr eth;
        std::memcpy(&eth, rte_pktmbuf_mtod(m, uint8_t*), sizeof(eth));
        rte_pktmbuf_trim(m, uint16_t(rte_pktmbuf_pkt_len(m) - eth_hdr_len - tot));
        enqueue(m, eth.src, f);  // answer the sender's MAC: no ARP round
        return;
    }
    if (h.type != 3) {
        drop(m, DropReason::icmp_other);
        return;
    }
    if (!from_ring_) stats_.icmp_unreach_rx++;  // counted once, where it arrived
    // Quoted: the original IPv4 header (with options) + at least 8 bytes.
    const uint8_t* in = icmp + sizeof(IcmpHdr);
    const size_t inlen = ilen - sizeof(IcmpHdr);
    Ipv4Hdr q;
    if (inlen < ipv4_hdr_len) {
        drop(m, DropReason::icmp_malformed);
        return;
    }
    std::memcpy(&q, in, sizeof(q));
    const size_t qihl = size_t(q.ver_ihl & 0xf) * 4;
    UdpHdr qu;
    if (qihl < ipv4_hdr_len || inlen < qihl + udp_hdr_len || q.proto != ipproto_udp ||
        be32(q.src) != cfg_.ports[f].ip) {
        drop(m, DropReason::icmp_other);
        return;
    }
    std::memcpy(&qu, in + qihl, sizeof(qu));
    if (be16(qu.sport) != cfg_.sip_port) {
        drop(m, DropReason::icmp_other);
        return;
    }
    const Endpoint to{be32(q.dst), be16(qu.dport)};
    const char* payload = reinterpret_cast<const char*>(in + qihl + udp_hdr_len);
    if (links_.handoff && !from_ring_) {  // the quoted request's branch names its owner
        const int o = via_branch_owner(payload, inlen - qihl - udp_hdr_len);
        if (o >= 0 && o != int(cfg_.core)) {
            if (links_.handoff->push(uint16_t(o), m, stats_)) stats_.handoff_pushed++;
            return;
        }
    }
    if (proxy_.on_icmp_unreachable(to, payload, inlen - qihl - udp_hdr_len, now_))
        stats_.icmp_unreach_matched++;
    rte_pktmbuf_free(m);  // counted above: consumed, not dropped
}

}  // namespace sipedge::dp
