#pragma once
// Port configuration for N worker queues (issue 6): RSS over IPv4/UDP so
// each worker gets its share of flows. Start-up only; port.cc calls it before
// rte_eth_dev_configure().
//
// Hash fields: IPv4 | FRAG_IPV4 | NONFRAG_IPV4_UDP, masked by what the device
// offers. NICs hash fragments on the addresses only, so all fragments of a
// datagram meet on one core for reassembly (dataplane/ipfrag.h); where a PMD
// might not, fragment_owner() (dataplane/handoff.h) gives a software rule.
// A device without RSS (net_af_packet, which spreads queues with the kernel's
// PACKET_FANOUT_HASH) gets mq_mode NONE and spreads by its own rule.

#include <cstdint>

struct rte_eth_conf;

namespace sipedge::dp {

/// The hash fields sipedge asks for.
uint64_t rss_wanted_hf() noexcept;

/// Fills <conf> (which the caller zeroed, or set up otherwise) for <queues>
/// RX/TX queues on <port_id>: RSS with the device's default key over the hash
/// fields above when queues > 1 and the device hashes any of them; multi-
/// segment TX when the device offers it (fragments from Fragmenter are two
/// segments). <rss_hf> receives the hash fields in effect (0: no RSS).
/// False (with a message on stderr) when the port is unknown or has fewer
/// than <queues> RX or TX queues.
bool rss_port_conf(uint16_t port_id, uint16_t queues, rte_eth_conf& conf,
                   uint64_t* rss_hf = nullptr) noexcept;

}  // namespace sipedge::dp
