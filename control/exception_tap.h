#pragma once
// The kernel exception path's set-up (issue 14, docs/stream.md "Exception
// path"): for data port <k>, a net_tap port whose kernel interface
// "sipedge<k>" holds the port's address and MAC, with one queue per worker.
// The workers write TCP for our address (and ARP replies) to it and send
// what the kernel writes there out of the data port
// (dataplane/stage_exception.cc). Control thread, start-up only.

#include <cstdint>
#include <string>

#include "base/result.h"
#include "dataplane/inet.h"

struct rte_mempool;

namespace sipedge::ctl {

/// The kernel interface's name for data port index <k>: "sipedge<k>".
std::string exception_ifname(unsigned k);

/// Creates the net_tap vdev for data port index <k> (MAC <mac>), i.e. the
/// kernel interface exception_ifname(k), turns IPv6 off on it (no router
/// solicitations to drop) and gives it <ip>/<prefix>. The DPDK port id, to be
/// configured and started by the caller (it brings the interface up).
Result<uint16_t> create_exception_tap(unsigned k, const dp::MacAddr& mac, uint32_t ip, uint8_t prefix);

}  // namespace sipedge::ctl
