#pragma once
// The worker's receive path as stages (issue 13), after DPDK's grout: each
// stage takes the packet in hand (Pkt) and returns what became of it
// (Verdict); only Worker::handle() acts on a verdict, so no stage frees,
// counts a drop or remembers the packet in a member. One file per stage:
//
//   stage_eth.cc    Ethernet + 802.1Q in (vlan_accept), ethertype dispatch;
//                   802.1Q out (vlan_tag) for the TX path
//   stage_arp.cc    ARP in (learn, answer, share with the other workers), ARP requests out
//   stage_ipv4.cc   IPv4 in: header checks, our address, protocol dispatch
//   stage_frag.cc   IPv4 fragments: to their owner worker or the reassembler;
//                   reassembled datagrams (ours, or handed to us chained)
//   stage_icmp.cc   ICMP echo reply, destination unreachable → the proxy
//   stage_sip.cc    UDP checks and our SIP port, a response for another
//                   worker's transaction handed there, the proxy; a CANCEL
//                   matching nothing here passed to the next worker
//   stage_stream.cc SIP over TCP/TLS: whole messages from / to the stream thread
//   worker_tx.cc    IPv4/UDP out: egress interface, fragmentation, ARP, TX batches
//   worker.cc       the loop, the control rings, handle()
//
// The proxy (proxy.h) is the last stage of the SIP path and returns actions,
// not calls: each call into it leaves its decisions in its outbox
// (proxy_outbox.h: send, report to control, hand to control, trace), which
// the stage carries out at once (Worker::carry_out(): worker_tx.cc,
// stage_stream.cc, control's rings); the timer pass does the same until
// Proxy::advance() says it is done.
//
// Verdicts: kept (the stage owns the mbuf now: a TX batch, the reassembler,
// an ARP slot), handed_off (pushed to another worker's ring; a full ring
// freed and counted it), done (handled, the caller frees it), drop(reason)
// (the caller counts <reason> and frees it).

#include <cstddef>
#include <cstdint>

#include "dataplane/stats_types.h"

struct rte_mbuf;

namespace sipedge::dp {

/// The packet in hand.
struct Pkt {
    rte_mbuf* m = nullptr;   // the frame; nullptr for a datagram copied out (reassembled)
    uint8_t f = 0;           // the interface it came in on (WorkerConfig::ports index)
    bool from_ring = false;  // taken from our handoff ring (another worker received it)
    uint8_t* l3 = nullptr;   // past the Ethernet header
    size_t len = 0;          // bytes from l3 to the end of the frame
    size_t ihl = 0;          // IPv4 header length, once checked
    size_t tot = 0;          // IPv4 total length, once checked
};

enum class Verdict : uint8_t { kept, handed_off, done, drop };

struct StageOut {
    Verdict v = Verdict::done;
    DropReason why = DropReason::count_;  // Verdict::drop only
};
inline constexpr StageOut kept() noexcept { return {Verdict::kept}; }
inline constexpr StageOut handed_off() noexcept { return {Verdict::handed_off}; }
inline constexpr StageOut done() noexcept { return {Verdict::done}; }
inline constexpr StageOut dropped(DropReason r) noexcept { return {Verdict::drop, r}; }

/// 802.1Q on send (stage_eth.cc): the tag for <vid> after the MACs
/// (priority 0). False when the mbuf has no headroom for it.
bool vlan_tag(rte_mbuf* m, uint16_t vid) noexcept;

// A parked mbuf travels through the ARP cache as an opaque cookie; bit 0 set
// marks the head of a fragment train (mbufs are cache-line aligned).
inline uint64_t cookie_of(rte_mbuf* m, bool train = false) noexcept {
    return reinterpret_cast<uintptr_t>(m) | uint64_t(train);
}
inline rte_mbuf* mbuf_of(uint64_t c) noexcept { return reinterpret_cast<rte_mbuf*>(uintptr_t(c & ~1ull)); }
inline bool is_train(uint64_t c) noexcept { return c & 1; }

}  // namespace sipedge::dp
