// Stage: ICMP in — echo reply in place; destination unreachable quoting a
// UDP datagram we sent from our SIP port → the client transaction it
// concerns (RFC 3261 §17.1.4). See stage.h.

#include <cstring>

#include <rte_mbuf.h>

#include "dataplane/worker.h"

namespace sipedge::dp {

StageOut Worker::icmp_in(Pkt& p) noexcept {
    uint8_t* l3 = p.l3;
    uint8_t* icmp = l3 + p.ihl;
    const size_t ilen = p.tot - p.ihl;
    if (ilen < sizeof(IcmpHdr)) return dropped(DropReason::icmp_malformed);
    if (csum_fold(csum_add(0, icmp, ilen)) != 0) return dropped(DropReason::icmp_bad_csum);
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
        const uint16_t c = csum_fold(csum_add(0, l3, p.ihl));
        std::memcpy(l3 + 10, &c, 2);
        icmp[0] = 0;  // echo reply
        icmp[2] = icmp[3] = 0;
        const uint16_t ic = csum_fold(csum_add(0, icmp, ilen));
        std::memcpy(icmp + 2, &ic, 2);
        EthHdr eth;
        std::memcpy(&eth, rte_pktmbuf_mtod(p.m, uint8_t*), sizeof(eth));
        rte_pktmbuf_trim(p.m, uint16_t(rte_pktmbuf_pkt_len(p.m) - eth_hdr_len - p.tot));
        enqueue(p.m, eth.src, p.f);  // answer the sender's MAC: no ARP round
        return kept();
    }
    if (h.type != 3) return dropped(DropReason::icmp_other);
    if (!p.from_ring) stats_.icmp_unreach_rx++;  // counted once, where it arrived
    // Quoted: the original IPv4 header (with options) + at least 8 bytes.
    const uint8_t* in = icmp + sizeof(IcmpHdr);
    const size_t inlen = ilen - sizeof(IcmpHdr);
    Ipv4Hdr q;
    if (inlen < ipv4_hdr_len) return dropped(DropReason::icmp_malformed);
    std::memcpy(&q, in, sizeof(q));
    const size_t qihl = size_t(q.ver_ihl & 0xf) * 4;
    UdpHdr qu;
    if (qihl < ipv4_hdr_len || inlen < qihl + udp_hdr_len || q.proto != ipproto_udp ||
        be32(q.src) != cfg_.ports[p.f].ip)
        return dropped(DropReason::icmp_other);
    std::memcpy(&qu, in + qihl, sizeof(qu));
    if (be16(qu.sport) != cfg_.sip_port) return dropped(DropReason::icmp_other);
    const Endpoint to{be32(q.dst), be16(qu.dport)};
    const char* payload = reinterpret_cast<const char*>(in + qihl + udp_hdr_len);
    if (links_.handoff && !p.from_ring) {  // the quoted request's branch names its owner
        const int o = via_branch_owner(payload, inlen - qihl - udp_hdr_len);
        if (o >= 0 && o != int(cfg_.core)) {
            if (links_.handoff->push(uint16_t(o), p.m, stats_)) stats_.handoff_pushed++;
            return handed_off();
        }
    }
    if (proxy_.on_icmp_unreachable(to, payload, inlen - qihl - udp_hdr_len, now_)) stats_.icmp_unreach_matched++;
    carry_out();
    return done();  // counted above: consumed, not dropped
}

}  // namespace sipedge::dp
