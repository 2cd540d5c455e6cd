#pragma once
// Records that cross between the stream thread and its users (STYLE.md §2
// "Types headers"): the message header a worker receives or sends (StreamMsg,
// handed by pointer through an SPSC ring, its bytes in a pool slot) and the
// connection events for the control thread (StreamEvent, by value). All are
// trivially copyable and fixed-size, so an rte_ring can carry them later.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "failover/events_types.h"

namespace sipedge::stream {

/// RFC 3261 §18: the stream transports this module terminates.
enum class Transport : uint8_t { none = 0, tcp = 1, tls = 2 };
const char* transport_name(Transport t) noexcept;

/// An IPv4 or IPv6 transport address. 20 bytes, no sockaddr padding.
struct PeerAddr {
    uint8_t family = 0;    // AF_INET or AF_INET6; 0 = unset
    uint8_t pad_ = 0;
    uint16_t port = 0;     // host byte order
    uint8_t addr[16] = {};  // IPv4: the first 4 bytes, network order

    bool operator==(const PeerAddr& o) const noexcept {
        return family == o.family && port == o.port && std::memcmp(addr, o.addr, 16) == 0;
    }
    bool empty() const noexcept { return family == 0; }
};
static_assert(std::is_trivially_copyable_v<PeerAddr> && sizeof(PeerAddr) == 20);

/// "127.0.0.1:5060" or "[::1]:5061"; "-" when unset.
std::string to_string(const PeerAddr& a);
/// IPv4 dotted quad (or IPv6 text) and port; unset on a malformed address.
PeerAddr make_peer(const char* ip, uint16_t port) noexcept;

/// One connection, for its whole life: slot index (low 32 bits) and a
/// generation (high 32 bits), so an id of a closed connection never names
/// its successor in the same slot. 0 = none.
using ConnId = uint64_t;
inline constexpr ConnId no_conn = 0;

/// Who a connection serves: the trunk and server a worker opened it for,
/// echoed in every event about it so that failover can attribute the event
/// (failover::ServerEvent's trunk_id / list_epoch / server_idx).
struct RouteTag {
    uint32_t trunk_id = 0;
    uint32_t list_epoch = 0;
    uint16_t server_idx = 0xffff;  // 0xffff = no server (access side)
    uint16_t pad_ = 0;
};
static_assert(std::is_trivially_copyable_v<RouteTag> && sizeof(RouteTag) == 12);

/// One SIP message between the stream thread and a worker (either way),
/// in a slot of a channel's pool (stream/msg_pool.h). The header is written by
/// whoever allocated the slot; `data` and `cap` belong to the pool.
///
/// Received (stream → worker): `conn` is the connection it arrived on, `peer`
/// the remote address, `local` the address it arrived at (the "port"),
/// `transport` tcp or tls, `data[0, len)` one whole message (Content-Length
/// framed, RFC 3261 §18.3).
///
/// Sent (worker → stream): `conn` names the connection to write to (a
/// response goes back on the connection its request came on, RFC 3261
/// §18.2.2); when it is 0 or no longer open, the message goes to `peer` over
/// `transport`, reusing the open connection for (peer, transport, identity,
/// tls_profile) or opening one (RFC 3261 §18.1.1). `route` is echoed in the
/// events of a connection this message opens. `len` 0 opens (or keeps) the
/// connection without writing anything.
struct StreamMsg {
    ConnId conn = no_conn;
    PeerAddr peer;
    PeerAddr local;
    RouteTag route;
    uint32_t identity = 0;     // local identity (e.g. trunk) in the reuse key; 0 = shared
    uint32_t len = 0;
    uint32_t cap = 0;          // bytes at `data` (pool-owned)
    uint32_t slot = 0;         // pool-owned
    uint32_t tls_profile = 0;  // TLS: the client profile (CA, server name, client cert)
    Transport transport = Transport::none;
    uint8_t flags = 0;         // StreamMsgFlag bits (received messages)
    uint8_t pool_class = 0;    // pool-owned
    char* data = nullptr;      // pool-owned
};

/// StreamMsg::flags bits.
enum StreamMsgFlag : uint8_t {
    /// Received: not a message from the peer but one of ours coming back
    /// undelivered — it was queued on an outbound connection that then failed
    /// (refused, timed out, TLS refused), like a datagram an ICMP error quotes.
    /// The worker that sent it gets it (its transaction rolls over at once).
    msg_bounced = 1 << 0,
    /// Received, no data: an open connection we opened to `peer` over
    /// `transport` closed (FIN/RST, keep-alive lost, framing; not a failover trigger,
    /// seed P). What a worker wrote into it and got no answer to may be lost
    /// (TCP gives no per-message receipt; a peer that closes discards what it
    /// had not read): every worker hears of it and resends such requests
    /// once, on a new connection (Proxy::on_stream_closed).
    msg_closed = 1 << 1,
};
static_assert(std::is_trivially_copyable_v<StreamMsg>);

/// What happened to a connection. Failover reads connect_* and tls_* as
/// triggers (seed P: "a failed TCP connection" fails the route; with
/// tcp-fast-failover the wait is tcp-fast-failover-timeout) and
/// connection_closed / keepalive_lost as NOT triggers (seed P "When Failover
/// Is Not Triggered": TCP FIN/RST, keep-alive failure → registration lost).
enum class StreamEventKind : uint8_t {
    none = 0,
    connected,             // outbound TCP connected (and TLS verified): info
    accepted,              // inbound connection accepted (and TLS handshaken): info
    connect_refused,       // RST to our SYN (ECONNREFUSED): trigger
    connect_timeout,       // TCP connect or TLS handshake not done within the connect timeout: trigger
    connect_failed,        // other connect error (EHOSTUNREACH, ENETUNREACH, ...): trigger
    tls_verify_failed,     // the server certificate failed verification (reason says why): trigger
    tls_handshake_failed,  // TLS alert, protocol version, peer closed during the handshake: trigger
    connection_closed,     // FIN/RST or error on an open connection: NOT a trigger
    keepalive_lost,        // no RFC 5626 pong / TCP keep-alive gave up: NOT a trigger
    message_too_large,     // a message over 65535 bytes arrived: connection closed
    framing_error,         // unparseable stream (no Content-Length, bad start line): closed
    send_failed,           // a message could not be sent (no connection, queue overflow)
    count_
};
const char* event_name(StreamEventKind k) noexcept;

/// Whether failover treats <k> as a server failure (seed P).
bool is_failover_trigger(StreamEventKind k) noexcept;
/// The failover::EventKind <k> maps to: connect_* and tls_* → timeout (a
/// failed connect fails the route at once, whatever failover-on-icmp says),
/// connection_closed / keepalive_lost → connection_closed, others → none.
failover::EventKind failover_kind(StreamEventKind k) noexcept;

/// StreamEvent::flags bits.
enum StreamEventFlag : uint8_t {
    sev_outbound = 1 << 0,     // we opened the connection
    sev_tls_resumed = 1 << 1,  // connected: the TLS session was resumed (RFC 5077 / TLS 1.3 PSK)
};

/// One event about one connection (stream thread → control thread). 192 bytes.
struct StreamEvent {
    uint64_t at_ms = 0;        // steady clock, milliseconds
    ConnId conn = no_conn;
    PeerAddr peer;
    RouteTag route;
    uint32_t identity = 0;
    int32_t sys_errno = 0;     // errno behind the event, 0 when none
    uint32_t tls_profile = 0;
    Transport transport = Transport::none;
    StreamEventKind kind = StreamEventKind::none;
    uint8_t flags = 0;         // StreamEventFlag bits
    uint8_t pad_[1] = {};
    char reason[128] = {};     // NUL-terminated, human-readable; never key material
};
static_assert(std::is_trivially_copyable_v<StreamEvent> && sizeof(StreamEvent) == 192);

/// The failover record for <ev> (kind from failover_kind(); none when the
/// event is not about a server: accepted, or a connection without a route).
failover::ServerEvent to_server_event(const StreamEvent& ev) noexcept;

}  // namespace sipedge::stream
