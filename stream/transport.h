#pragma once
// StreamTransport: SIP over TCP and TLS on the kernel's TCP stack, on one
// thread of its own (epoll, non-blocking sockets). It will sit behind the DPDK
// exception path (a net_tap port per data port, DESIGN.md "Transports beyond
// UDP"); today it runs on any kernel address (tests: 127.0.0.1).
//
//   workers ──Channel.tx (StreamMsg*)──► stream thread ──► sockets (TCP / TLS)
//   workers ◄─Channel.rx (StreamMsg*)─── stream thread ◄── framing (sipparse)
//   control ◄─events (StreamEvent)────── stream thread    connect/close/TLS
//
// - Outbound: a message for (peer, transport, identity, tls profile) goes on
//   the open connection for that key or opens one (RFC 3261 §18.1.1, reuse);
//   connect + TLS handshake must finish within knobs.connect_timeout_ms
//   (tcp-fast-failover-timeout) or the connection fails with an event.
// - Inbound: listen() on an address, TCP or TLS; responses go back on the
//   connection their request came on (RFC 3261 §18.2.2) by ConnId.
// - Framing: stream/framer.h; RFC 5626 CRLF keep-alives answered and sent;
//   messages over 65535 bytes close the connection (message_too_large).
// - Events: stream_types.h StreamEventKind; to_server_event() feeds failover.
//
// Threading: configuration calls (set_*_profile, listen, start, stop) from one
// control thread; each Channel from its worker; poll_event/wait_event from one
// consumer thread; stats() from any.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/result.h"
#include "stream/channel.h"
#include "stream/knobs.h"
#include "stream/stream_types.h"
#include "stream/tls.h"

namespace sipedge::stream {

struct StreamConfig {
    StreamKnobs knobs;
    uint32_t channels = 1;          // one per worker
    ChannelConfig channel;          // pool sizes per channel
    uint32_t event_ring = 4096;     // events queued for control before counting drops
    uint32_t max_conns = 65536;     // connections (in + out) at once
    /// Bytes queued for one connection (waiting for connect, or for the peer
    /// to read) beyond which further messages are dropped with send_failed.
    uint32_t tx_queue_limit = 4u << 20;
    /// The CPU the stream thread runs on (pthread affinity); -1: wherever
    /// the scheduler puts it (the process's affinity).
    int cpu = -1;
};

struct ListenConfig {
    PeerAddr addr;                  // port 0: the kernel picks (see the returned address)
    Transport transport = Transport::tcp;
    uint32_t tls_profile = 0;       // TLS: a server profile set with set_server_profile
    int backlog = 4096;
};

/// Counters, written by the stream thread only (relaxed single-writer
/// stores), read from anywhere with stats().
#define SIPEDGE_STREAM_STATS(X)                                                        \
    X(conns_open)           /* connections now (in + out, any state) */                \
    X(conns_opened)         /* outbound connections that became usable */             \
    X(conns_accepted)       /* inbound connections that became usable */              \
    X(conns_closed)         /* connection objects closed, for any reason */            \
    X(connect_refused)                                                                 \
    X(connect_timeout)      /* TCP connect or TLS handshake over the connect timeout */\
    X(connect_failed)                                                                  \
    X(tls_verify_failed)                                                               \
    X(tls_handshake_failed)                                                            \
    X(tls_resumed)          /* outbound TLS handshakes that resumed a session */       \
    X(msgs_rx)              /* whole messages handed to channels */                    \
    X(msgs_tx)              /* messages queued on a connection */                      \
    X(bytes_rx)                                                                        \
    X(bytes_tx)                                                                        \
    X(pings_rx)             /* RFC 5626 "\r\n\r\n" received (answered with a pong) */  \
    X(pongs_rx)                                                                        \
    X(pings_tx)                                                                        \
    X(keepalive_lost)       /* no pong in time, or TCP keep-alive gave up */           \
    X(too_large)            /* messages over 65535 bytes: connection closed */         \
    X(framing_errors)       /* unframeable streams: connection closed */               \
    X(rx_paused)            /* times a connection waited for free rx slots */          \
    X(tx_dropped)           /* messages not sent: no connection, queue limit, failed connect */ \
    X(bounced)              /* of those, handed back to their worker (msg_bounced) */ \
    X(aliases)              /* RFC 5923 aliases taken from inbound requests' Via */ \
    X(close_notices)        /* msg_closed handed to workers (one per channel per closed open connection) */ \
    X(events_dropped)       /* event ring full */

struct StreamStats {
#define SIPEDGE_STREAM_FIELD(n) uint64_t n = 0;
    SIPEDGE_STREAM_STATS(SIPEDGE_STREAM_FIELD)
#undef SIPEDGE_STREAM_FIELD
};

class Loop;

class StreamTransport {
public:
    explicit StreamTransport(const StreamConfig& c);
    ~StreamTransport();  // stops and closes everything
    StreamTransport(const StreamTransport&) = delete;
    StreamTransport& operator=(const StreamTransport&) = delete;

    /// Adds or replaces TLS client profile <id> (used by later connections).
    Status set_client_profile(uint32_t id, const TlsClientConfig& c);
    /// Adds or replaces TLS server profile <id> (used by listeners set up after).
    Status set_server_profile(uint32_t id, const TlsServerConfig& c);
    /// The client profile for a TLS connection to a peer when the message
    /// names none (tls_profile 0: an in-dialog request or a response to a
    /// trunk's TLS server after its connection closed): peer address →
    /// profile id, replacing the previous map.
    void set_peer_profiles(const std::vector<std::pair<PeerAddr, uint32_t>>& m);
    /// Timing for outbound connections opened for profile <profile> (a
    /// trunk: connect timeout from tcp-fast-failover, TCP keep-alive, RFC 5626
    /// ping interval); other connections use StreamConfig::knobs.
    void set_profile_knobs(uint32_t profile, const StreamKnobs& k);
    /// Binds and listens (SO_REUSEADDR); returns the bound address. Works
    /// before or after start().
    Result<PeerAddr> listen(const ListenConfig& c);

    /// Starts the stream thread.
    Status start();
    /// Stops it and closes every connection (no events). Idempotent.
    void stop();
    /// Closes connection <id> from the stream thread (event connection_closed,
    /// reason "closed locally"); nothing when it is already gone.
    void close_connection(ConnId id);

    Channel& channel(uint32_t i) noexcept;
    uint32_t channels() const noexcept;

    /// Next event, false when none is queued (one consumer thread).
    bool poll_event(StreamEvent& out) noexcept;
    /// Waits up to <timeout_ms> for the next event.
    bool wait_event(StreamEvent& out, int timeout_ms) noexcept;
    /// eventfd readable when events are queued for a consumer that called event_arm().
    int event_fd() const noexcept;
    void event_arm() noexcept;

    StreamStats stats() const noexcept;

private:
    std::unique_ptr<Loop> loop_;
};

}  // namespace sipedge::stream
