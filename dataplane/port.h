#pragma once
// EAL start-up and port setup (any PMD: a NIC, net_af_packet, net_tap,
// net_memif, net_ring). Start-up only: failures are reported with a message
// on stderr and the caller exits.

#include <cstdint>

#include "dataplane/inet.h"

struct rte_mempool;

namespace sipedge::dp {

/// rte_eal_init() on <argc>/<argv> (argv[0] is the program name). False on failure.
bool eal_start(int argc, char** argv) noexcept;
/// rte_eal_cleanup().
void eal_stop() noexcept;

/// The packet mempool: <mbufs> buffers (2 KiB data room, or <data_room>
/// bytes after the headroom when nonzero: net_af_packet frames, af_packet.h)
/// with a per-lcore cache, on the calling core's socket. nullptr on failure.
rte_mempool* make_pktmbuf_pool(const char* name, uint32_t mbufs, uint32_t data_room = 0) noexcept;

struct PortSetup {
    uint16_t port_id = 0;
    uint16_t rx_desc = 1024;
    uint16_t tx_desc = 1024;
    uint16_t queues = 1;  // one RX and one TX queue per worker (RSS when > 1: dataplane/rss.h)
};

/// Configures and starts <s.port_id> with <s.queues> RX/TX queues fed from
/// <pool>, promiscuous off unless the PMD needs it, and reads its MAC into
/// <mac>. False (with a message) on any failure.
bool port_start(const PortSetup& s, rte_mempool* pool, MacAddr& mac) noexcept;
/// Stops and closes the port.
void port_stop(uint16_t port_id) noexcept;

}  // namespace sipedge::dp
