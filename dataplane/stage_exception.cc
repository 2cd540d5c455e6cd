// Stage: the kernel exception path (issue 14; see stage.h and docs/stream.md
// "Exception path"). A data port may have a net_tap port beside it whose
// kernel interface holds the same address and MAC: TCP segments for our
// address go there (the kernel's TCP terminates them; the stream thread's
// sockets live on it), with every ARP reply to us (the kernel resolves its own
// next hops), and the kernel's frames on that tap leave by the data port.
// Frames cross untagged: a VLAN port's tag is taken off on the way in and put
// back on the way out.

#include <cstring>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dataplane/worker.h"

namespace sipedge::dp {

namespace {

// <m> without its 802.1Q tag when <eth_len> (bytes before l3) says it has one.
bool untag(rte_mbuf* m, size_t eth_len) noexcept {
    if (eth_len == eth_hdr_len) return true;
    if (eth_len != eth_hdr_len + 4) return false;
    auto* d = rte_pktmbuf_mtod(m, uint8_t*);
    std::memmove(d + 4, d, 12);  // the MACs over the tag
    return rte_pktmbuf_adj(m, 4) != nullptr;
}

}  // namespace

// A TCP segment for our address: to the kernel, untagged.
StageOut Worker::to_kernel(Pkt& p) noexcept {
    rte_mbuf* m = p.m;
    if (!m) return dropped(DropReason::ipv4_proto);  // a reassembled copy: TCP sets DF
    // A veth peer's segment read through a packet socket may carry the
    // pseudo-header partial sum where its checksum belongs (the offload
    // never ran): the kernel behind the tap would drop it, so it is completed
    // here, as the UDP path accepts such datagrams (RxCsum::verify_partial).
    if (cfg_.ports[p.f].rx_csum == RxCsum::verify_partial && p.tot > p.ihl) {
        uint32_t s, d;
        std::memcpy(&s, p.l3 + 12, 4);
        std::memcpy(&d, p.l3 + 16, 4);
        tcp_complete_partial_csum(be32(s), be32(d), p.l3 + p.ihl, p.tot - p.ihl);
    }
    const size_t eth_len = size_t(p.l3 - rte_pktmbuf_mtod(m, uint8_t*));
    if (!untag(m, eth_len)) return dropped(DropReason::eth_type);
    if (rte_eth_tx_burst(cfg_.ports[p.f].exception_port, cfg_.queue, &m, 1) != 1)
        return dropped(DropReason::exception_full);
    stats_.exception_to_kernel++;
    return kept();
}

// An ARP reply to us: a copy for the kernel (it may be the one that asked).
void Worker::copy_to_kernel(const Pkt& p) noexcept {
    rte_mbuf* c = rte_pktmbuf_copy(p.m, pool_, 0, UINT32_MAX);
    if (!c) {
        stats_.drop(DropReason::mbuf_exhausted);
        return;
    }
    const size_t eth_len = size_t(p.l3 - rte_pktmbuf_mtod(p.m, uint8_t*));
    if (!untag(c, eth_len)) {
        drop(c, DropReason::eth_type);
        return;
    }
    if (rte_eth_tx_burst(cfg_.ports[p.f].exception_port, cfg_.queue, &c, 1) != 1) {
        drop(c, DropReason::exception_full);
        return;
    }
    stats_.exception_to_kernel++;
}

// A frame the kernel sent on the tap of port <f>: out of port <f> when it is
// ARP or IPv4 from our address (its MACs are the kernel's choice: source ours,
// destination from its own ARP); anything else (IPv6 neighbour discovery, a
// datagram from another address) is not ours to send.
void Worker::from_kernel(uint8_t f, rte_mbuf* m) noexcept {
    const size_t len = rte_pktmbuf_data_len(m);
    const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
    bool ok = false;
    if (m->nb_segs == 1 && len >= eth_hdr_len + 20) {
        const uint16_t type = uint16_t(d[12] << 8 | d[13]);
        if (type == ethertype_arp) {
            ok = true;
        } else if (type == ethertype_ipv4) {
            uint32_t src;
            std::memcpy(&src, d + eth_hdr_len + 12, 4);
            ok = be32(src) == cfg_.ports[f].ip;
        }
    }
    if (!ok) {
        drop(m, DropReason::exception_other);
        return;
    }
    stats_.exception_from_kernel++;
    enqueue_frame(m, f);
}

}  // namespace sipedge::dp
