// Stage: IPv4 fragments and reassembled datagrams (see stage.h).

#include <cstring>

#include <rte_mbuf.h>

#include "dataplane/worker.h"

namespace sipedge::dp {

// An IPv4 fragment (header checksum already good): for our address it goes
// to the reassembler, which owns it from then on and counts its drops; a
// completed datagram is copied whole into rx_dgram_ and becomes the packet
// in hand (p.m = nullptr), taking the UDP path. Reassembled ICMP and other
// protocols are dropped (ipv4_proto): ICMP errors quote 576 bytes at most,
// and we answer no oversized echo.
StageOut Worker::frag_in(Pkt& p) noexcept {
    Ipv4Hdr ip;
    std::memcpy(&ip, p.l3, sizeof(ip));
    if (be32(ip.dst) != cfg_.ports[p.f].ip) return dropped(DropReason::ipv4_not_for_us);
    // Several workers: every fragment of a datagram is reassembled by the
    // worker its addresses name (RSS may hash the first fragment, which has
    // the UDP ports, elsewhere than the others).
    if (links_.handoff && !p.from_ring && links_.handoff->workers() > 1) {
        const uint16_t o = fragment_owner(be32(ip.src), be32(ip.dst), links_.handoff->workers());
        if (o != cfg_.core) {
            if (links_.handoff->push(o, p.m, stats_)) stats_.handoff_pushed++;
            return handed_off();
        }
    }
    stats_.ipv4_fragments_rx++;
    rte_mbuf* d = frag_.reassemble(p.m, eth_hdr_len, now_);
    p.m = nullptr;  // the reassembler's now
    if (!d) return kept();  // incomplete, or dropped and counted
    const size_t n = copy_out(d, 0, rx_dgram_, sizeof(rx_dgram_));
    rte_pktmbuf_free(d);
    return dgram_in(p, n, true);
}

// A chained mbuf from our handoff ring: a datagram another worker
// reassembled (untagged, its port in m->port), copied out and freed.
StageOut Worker::chained_in(Pkt& p) noexcept {
    const int fi = cfg_.nports == 1 ? 0 : port_index(p.m->port);
    const size_t n = copy_out(p.m, 0, rx_dgram_, sizeof(rx_dgram_));
    rte_pktmbuf_free(p.m);
    p.m = nullptr;
    if (fi < 0) return dropped(DropReason::eth_not_for_us);
    p.f = uint8_t(fi);
    stats_.handoff_reassembled_rx++;
    return dgram_in(p, n, false);
}

// A whole frame in rx_dgram_[0, n) (reassembled here, or by another worker
// and handed to us), no mbuf: IPv4 checks, then UDP. A SIP response
// reassembled here for another worker's transaction goes to that worker,
// copied into a chained mbuf (chained_in() there).
StageOut Worker::dgram_in(Pkt& p, size_t n, bool reassembled_here) noexcept {
    p.m = nullptr;
    p.l3 = reinterpret_cast<uint8_t*>(rx_dgram_) + eth_hdr_len;
    if (n < eth_hdr_len + ipv4_hdr_len) return dropped(DropReason::ipv4_fragment);
    p.len = n - eth_hdr_len;
    if (ipv4_check(p.l3, p.len, p.ihl, p.tot) != Ipv4Check::ok) return dropped(DropReason::ipv4_malformed);
    Ipv4Hdr ip;
    std::memcpy(&ip, p.l3, sizeof(ip));
    if (reassembled_here) {
        stats_.ipv4_reassembled++;
        if (links_.handoff && ip.proto == ipproto_udp && p.tot >= p.ihl + udp_hdr_len) {
            const char* payload = reinterpret_cast<const char*>(p.l3 + p.ihl + udp_hdr_len);
            const int o = response_owner(payload, p.tot - p.ihl - udp_hdr_len);
            if (o >= 0 && o != int(cfg_.core)) {
                rte_mbuf* c = copy_in(pool_, rx_dgram_, eth_hdr_len + p.tot);
                if (!c) return dropped(DropReason::mbuf_exhausted);
                c->port = cfg_.ports[p.f].port_id;
                if (links_.handoff->push(uint16_t(o), c, stats_)) stats_.handoff_pushed++;
                return handed_off();
            }
        }
    }
    if (ip.proto != ipproto_udp) return dropped(DropReason::ipv4_proto);
    return sip_in(p);
}

}  // namespace sipedge::dp
