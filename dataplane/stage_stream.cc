// Stage: SIP over TCP/TLS (issue 14). The stream thread (stream/,
// docs/stream.md) terminates the connections on the kernel's TCP stack
// behind the exception path and hands this worker whole messages on its
// Channel; they go to the proxy as if a datagram had arrived, with the
// transport in the source Endpoint, so that everything sent back to that
// address (100 Trying, responses, stateless answers) goes back through the
// stream thread on the connection the request came on (RFC 3261 §18.2.2).
// Messages the proxy sends to a TCP/TLS Endpoint (send_sip) are copied into
// a slot of the channel's tx pool; a full pool is counted (stream_full),
// never waited for.

#include <sys/socket.h>

#include <cstring>

#include "dataplane/worker.h"
#include "stream/channel.h"

namespace sipedge::dp {

namespace {

uint32_t ipv4_of(const stream::PeerAddr& a) noexcept {
    return uint32_t(a.addr[0]) << 24 | uint32_t(a.addr[1]) << 16 | uint32_t(a.addr[2]) << 8 | a.addr[3];
}

}  // namespace

uint32_t Worker::stream_in() noexcept {
    stream::StreamMsg* in[burst];
    const size_t n = links_.stream->rx_burst(in, burst);
    if (n == 0) return 0;
    read_clock();
    for (size_t i = 0; i < n; i++) {
        const stream::StreamMsg& m = *in[i];
        if (m.peer.family == AF_INET) {
            const int f = m.local.family == AF_INET ? ifs_.find(ipv4_of(m.local)) : -1;
            const Endpoint from{ipv4_of(m.peer), m.peer.port,
                                m.transport == stream::Transport::tls ? sip::Transport::tls
                                                                      : sip::Transport::tcp};
            if (m.flags & stream::msg_closed) {
                // An open connection with that peer closed (not a failover
                // trigger): what got no answer on it is resent once.
                stats_.stream_closed++;
                proxy_.on_stream_closed(from, now_);
            } else if (m.flags & stream::msg_bounced) {
                // One of our requests, its connection failed before it went
                // out: the transaction rolls over now (seed P: a failed TCP
                // connection fails the route), not at its timer.
                stats_.stream_bounced++;
                proxy_.on_stream_failure(from, m.data, m.len, now_);
            } else {
                stats_.stream_rx++;
                // A CANCEL comes on its INVITE's connection, hence to this worker: never passed on.
                proxy_.on_datagram(from, m.data, m.len, now_, f < 0 ? 0 : uint8_t(f), false);
            }
            carry_out();
        } else {
            stats_.drop(DropReason::ipv4_proto);  // IPv6: not on this data plane yet
        }
        links_.stream->rx_free(in[i]);
    }
    return uint32_t(n);
}

void Worker::send_stream(Endpoint to, const char* data, size_t len, const SendNote* note) noexcept {
    if (!links_.stream) {
        stats_.drop(DropReason::stream_off);
        return;
    }
    stream::StreamMsg* m = links_.stream->tx_alloc(len);
    if (!m) {
        stats_.drop(len > sip::max_message_size ? DropReason::sip_too_big : DropReason::stream_full);
        return;
    }
    m->conn = stream::no_conn;  // the stream thread finds the connection open with `peer`
    m->peer = stream::PeerAddr{};
    m->peer.family = AF_INET;
    m->peer.port = to.port;
    for (int i = 0; i < 4; i++) m->peer.addr[i] = uint8_t(to.ip >> (24 - 8 * i));
    m->local = stream::PeerAddr{};
    m->route = stream::RouteTag{};
    m->identity = 0;
    m->tls_profile = 0;
    m->flags = 0;
    if (note) {  // a trunk server: events about the connection name it (failover)
        m->route.trunk_id = note->trunk_id;
        m->route.list_epoch = note->list_epoch;
        m->route.server_idx = note->server_idx;
        // The trunk's profile, set by control under this id (stream_profile()):
        // TLS client identity and checks (CA bundle, server name), and for TCP
        // and TLS its connections' timing (connect timeout, keep-alives).
        m->tls_profile = stream_profile(note->trunk_id);
    }
    m->transport = to.tp == sip::Transport::tls ? stream::Transport::tls : stream::Transport::tcp;
    m->len = uint32_t(len);
    std::memcpy(m->data, data, len);
    links_.stream->tx_send(m);
    stats_.stream_tx++;
}

}  // namespace sipedge::dp
