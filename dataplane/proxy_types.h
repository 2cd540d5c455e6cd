#pragma once
// What the proxy core needs from its configuration and from the worker. The
// config is validated by control/ before it reaches the data plane.

#include <cstddef>
#include <cstdint>

#include "failover/retry_policy.h"

namespace sipedge::dp {

/// IPv4 address and UDP port, host byte order.
struct Endpoint {
    uint32_t ip = 0;
    uint16_t port = 0;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// Static configuration of the one trunk of the thin path (issue 6).
/// TODO(lead): replaced by the RCU-published failover::Table with issue 7.
struct ProxyConfig {
    static constexpr size_t max_servers = 8;
    Endpoint self;                       // our address and SIP port (Via, Record-Route)
    Endpoint servers[max_servers];       // the trunk's servers, in priority order
    uint16_t server_count = 0;
    Endpoint access;                     // where requests from the trunk go; ip 0 = none
    failover::RetryPolicy invite_policy; // per-request retransmission and rollover
    failover::RetryPolicy other_policy;
    uint32_t t4_ms = 5000;
    uint32_t max_txns = 16384;           // server + client transactions (slots) per core
    uint16_t max_udp_payload = 1472;     // MTU 1500 - 28: we do not fragment
};

/// Where the proxy's datagrams go: the worker builds UDP/IPv4/Ethernet around
/// them. Called on the worker's own core; must not block.
class PacketSink {
public:
    /// Sends <data>[0, len) from our SIP port to <to>. The bytes are copied
    /// before it returns.
    virtual void send_udp(Endpoint to, const char* data, size_t len) noexcept = 0;

protected:
    ~PacketSink() = default;
};

}  // namespace sipedge::dp
