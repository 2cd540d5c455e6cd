// Stage: Ethernet and 802.1Q in, ethertype dispatch; 802.1Q out (see stage.h).

#include <cstring>

#include <rte_mbuf.h>

#include "dataplane/worker.h"

namespace sipedge::dp {

namespace {
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
}  // namespace

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

// The port the frame came in on (kept on handoff copies; one port: always
// it), its VLAN (ring packets were untagged by the worker that received
// them), our MAC or broadcast, then ARP or IPv4.
StageOut Worker::eth_in(Pkt& p) noexcept {
    rte_mbuf* m = p.m;
    if (m->nb_segs != 1 || rte_pktmbuf_data_len(m) < eth_hdr_len) return dropped(DropReason::eth_short);
    const int fi = cfg_.nports == 1 ? 0 : port_index(m->port);
    if (fi < 0) return dropped(DropReason::eth_not_for_us);
    p.f = uint8_t(fi);
    if (!p.from_ring && !vlan_accept(m, cfg_.ports[p.f].vlan)) return dropped(DropReason::vlan_mismatch);
    auto* d = rte_pktmbuf_mtod(m, uint8_t*);
    EthHdr eth;
    std::memcpy(&eth, d, sizeof(eth));
    if (!(eth.dst == cfg_.ports[p.f].mac) && !eth.dst.is_broadcast()) return dropped(DropReason::eth_not_for_us);
    p.l3 = d + eth_hdr_len;
    p.len = rte_pktmbuf_data_len(m) - eth_hdr_len;
    const uint16_t type = be16(eth.type);
    if (type == ethertype_arp) return arp_in(p);
    if (type == ethertype_ipv4) return ipv4_in(p);
    return dropped(DropReason::eth_type);
}

}  // namespace sipedge::dp
