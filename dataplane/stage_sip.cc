// Stage: UDP in to our SIP port, then the proxy (see stage.h).

#include <cstring>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>

#include "dataplane/worker.h"

namespace sipedge::dp {

// UDP in p.l3[0, p.tot) (IPv4 header of p.ihl bytes, checked): checksum, our
// SIP port, then the proxy, which copies what it keeps (done: the caller
// frees the frame). Checksum: the PMD's per-packet verdict when it gives one
// (RTE_MBUF_F_RX_L4_CKSUM_GOOD, or _NONE: data intact, field not filled in,
// counted as partial), else port p.f's RxCsum: verify in software; with
// verify_partial a field that holds the pseudo-header partial sum (a veth
// peer's CHECKSUM_PARTIAL read through a packet socket) is accepted and
// counted; off: lengths only. Reassembled datagrams have no mbuf: the mode.
StageOut Worker::sip_in(Pkt& p) noexcept {
    const uint8_t f = p.f;
    Ipv4Hdr ip;
    std::memcpy(&ip, p.l3, sizeof(ip));
    const uint32_t src = be32(ip.src);
    const uint8_t* udp = p.l3 + p.ihl;
    size_t plen = 0;
    UdpHdr u;
    if (p.tot - p.ihl >= udp_hdr_len) std::memcpy(&u, udp, sizeof(u));
    const RxCsum mode = cfg_.rx_udp_csum ? cfg_.ports[f].rx_csum : RxCsum::off;
    const uint64_t l4 = p.m ? p.m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK : 0;
    const bool vouched = l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE;
    UdpCheck c = udp_check(src, cfg_.ports[f].ip, udp, p.tot - p.ihl, plen, mode != RxCsum::off && !vouched);
    if (c == UdpCheck::ok && l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE && u.csum != 0 && mode != RxCsum::off)
        note_partial(f, src, be16(u.sport), true);
    if (c == UdpCheck::bad_csum && mode == RxCsum::verify_partial &&
        udp_csum_is_partial(src, cfg_.ports[f].ip, udp, p.tot - p.ihl)) {
        c = UdpCheck::ok;
        plen = be16(u.len) - udp_hdr_len;
        note_partial(f, src, be16(u.sport), false);
    }
    if (c != UdpCheck::ok) return dropped(c == UdpCheck::malformed ? DropReason::udp_malformed : DropReason::udp_bad_csum);
    if (be16(u.dport) != cfg_.sip_port) return dropped(DropReason::udp_port);
    const char* payload = reinterpret_cast<const char*>(udp + udp_hdr_len);
    // A response to another worker's transaction goes there, on its mbuf
    // (one received here; what came from a ring is never pushed again).
    if (p.m && !p.from_ring && links_.handoff) {
        const int o = response_owner(payload, plen);
        if (o >= 0 && o != int(cfg_.core)) {
            if (links_.handoff->push(uint16_t(o), p.m, stats_)) stats_.handoff_pushed++;
            return handed_off();
        }
    }
    // Behind (worker.cc): a new call is the work to refuse first, and cheaply.
    if (shed_ && plen > 7 && std::memcmp(payload, "INVITE ", 7) == 0) return dropped(DropReason::sip_shed);
    stats_.udp_rx++;
    if (cfg_.bench_spin_ns) [[unlikely]] {  // benchmarks only: a slower core's SIP processing
        const uint64_t until = rte_rdtsc() + uint64_t(rte_get_tsc_hz() / 1e9 * cfg_.bench_spin_ns);
        while (rte_rdtsc() < until) rte_pause();
    }
    // RSS hashes the 5-tuple: a CANCEL from another source port than its
    // INVITE (a caller that changed sockets, a NAT that remapped) lands on a
    // worker that does not hold the INVITE. Before answering 481, the CANCEL
    // goes round the other workers, each asking its own table: worker k+1,
    // k+2, ... until one holds the INVITE or every worker was asked (the
    // last answers 481). Only one received as one datagram travels (a
    // reassembled one is answered where it is).
    const uint16_t nw = links_.handoff ? links_.handoff->workers() : 1;
    uint8_t* hops = p.m && nw > 1 ? RTE_MBUF_DYNFIELD(p.m, hops_off_, uint8_t*) : nullptr;
    const uint8_t h = hops && p.from_ring ? *hops : 0;
    const bool may_pass = hops && h + 1u < nw;
    const Proxy::RxAction rx = proxy_.on_datagram(Endpoint{src, be16(u.sport)}, payload, plen, now_, f, may_pass);
    carry_out();
    if (rx != Proxy::RxAction::pass_cancel) return done();
    *hops = uint8_t(h + 1);
    if (links_.handoff->push(uint16_t((cfg_.core + 1u) % nw), p.m, stats_)) {
        stats_.handoff_pushed++;
        stats_.cancels_passed++;
    }
    return handed_off();
}

}  // namespace sipedge::dp
