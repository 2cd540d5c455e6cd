// Stage: ARP in (RFC 826) and ARP requests out (see stage.h).

#include <cstring>

#include <rte_mbuf.h>

#include "dataplane/worker.h"

namespace sipedge::dp {

// Learn the sender when the request is for us (or we asked), answer requests
// for our address in place; a copy to every other worker, which only learns.
StageOut Worker::arp_in(Pkt& p) noexcept {
    ArpPkt a;
    if (p.len < arp_pkt_len) return dropped(DropReason::arp_malformed);
    std::memcpy(&a, p.l3, sizeof(a));
    if (be16(a.htype) != 1 || be16(a.ptype) != ethertype_ipv4 || a.hlen != 6 || a.plen != 4)
        return dropped(DropReason::arp_malformed);
    const uint8_t f = p.f;
    const uint16_t op = be16(a.op);
    const uint32_t spa = be32(a.spa), tpa = be32(a.tpa);
    const bool for_us = tpa == cfg_.ports[f].ip;
    if (p.from_ring) {  // another worker's copy: learn only (it answers and counts)
        stats_.arp_shared++;
        if (spa != 0) release_parked(arp_[f].learn(spa, a.sha, now_, for_us), a.sha, f);
        return done();
    }
    if (spa != 0 && (op == 1 || op == 2)) share_arp(p.m);
    if (op == 2) stats_.arp_replies_rx++;
    if (op == 1 && for_us) stats_.arp_requests_rx++;
    if (spa != 0) release_parked(arp_[f].learn(spa, a.sha, now_, for_us), a.sha, f);
    if (op == 2) {  // a reply: learned above, consumed (the kernel may have asked: its copy)
        if (for_us && cfg_.ports[f].exception_port != PortConfig::none) copy_to_kernel(p);
        return done();
    }
    if (op != 1) return dropped(DropReason::arp_malformed);
    if (!for_us) return dropped(DropReason::arp_not_for_us);
    ArpPkt r = a;
    r.op = be16(2);
    r.tha = a.sha;
    r.tpa = a.spa;
    r.sha = cfg_.ports[f].mac;
    r.spa = be32(cfg_.ports[f].ip);
    std::memcpy(p.l3, &r, sizeof(r));
    rte_pktmbuf_trim(p.m, uint16_t(p.len - arp_pkt_len));  // drop Ethernet padding
    stats_.arp_replies_tx++;
    enqueue(p.m, a.sha, f);
    return kept();
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

// Trunk servers' next hops resolved ahead of traffic: after start, and for a
// backup carrier never used yet, the first burst towards it (a rollover wave
// after the primary went silent) would otherwise find no MAC and lose all but
// ArpCache::park_max packets to arp_unresolved, each lost request then waiting
// for its Timer A retransmission. Walks the snapshot's carrier addresses a few
// per millisecond (a new snapshot starts the walk again); ArpCache::prime()
// leaves known next hops alone and never takes more than half the cache.
void Worker::prime_next_hops() noexcept {
    const Routes* r = routes_now_;
    if (r == nullptr || r->carriers == nullptr) return;
    if (r->version != primed_version_) {
        primed_version_ = r->version;
        prime_next_ = 0;
    }
    constexpr uint32_t per_ms = 16;
    for (uint32_t k = 0; k < per_ms && prime_next_ < r->carrier_count; k++, prime_next_++) {
        uint32_t nh = 0;
        const int f = ifs_.egress(r->carriers[prime_next_], nh);
        if (f < 0 || nh == 0) continue;
        if (arp_[f].prime(nh, now_)) {
            stats_.arp_primed++;
            send_arp_request(uint8_t(f), nh);
        }
    }
}

}  // namespace sipedge::dp
