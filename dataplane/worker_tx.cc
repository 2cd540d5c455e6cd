// IPv4/UDP out (see stage.h): the egress interface, fragmentation of a
// datagram over the MTU, ARP resolution (parking what waits), 802.1Q tags
// and the per-port TX batches.

#include <cstring>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "dataplane/worker.h"

namespace sipedge::dp {

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
    enqueue_frame(m, f);
}

// The untagged frame in <m>, its MACs in place, out of port <f> (tagged there
// when the port has a VLAN).
void Worker::enqueue_frame(rte_mbuf* m, uint8_t f) noexcept {
    const PortConfig& pc = cfg_.ports[f];
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
void Worker::release_parked(const ArpCache::Parked& parked, const MacAddr& mac, uint8_t f) noexcept {
    for (uint8_t i = 0; i < parked.n; i++) {
        if (is_train(parked.c[i])) enqueue_train(mbuf_of(parked.c[i]), mac, f);
        else enqueue(mbuf_of(parked.c[i]), mac, f);
    }
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

void Worker::send_sip(Endpoint to, const char* data, size_t len, const SendNote* note) noexcept {
    if (to.stream()) [[unlikely]] {
        send_stream(to, data, len, note);
        return;
    }
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

}  // namespace sipedge::dp
