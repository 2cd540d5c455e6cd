#include "stream/stream_types.h"

#include <arpa/inet.h>
#include <cstdio>
#include <sys/socket.h>

namespace sipedge::stream {

const char* transport_name(Transport t) noexcept {
    switch (t) {
    case Transport::tcp: return "tcp";
    case Transport::tls: return "tls";
    case Transport::none: break;
    }
    return "none";
}

std::string to_string(const PeerAddr& a) {
    char ip[INET6_ADDRSTRLEN] = "-";
    char out[INET6_ADDRSTRLEN + 10];
    if (a.family == AF_INET) {
        inet_ntop(AF_INET, a.addr, ip, sizeof ip);
        std::snprintf(out, sizeof out, "%s:%u", ip, unsigned(a.port));
        return out;
    }
    if (a.family == AF_INET6) {
        inet_ntop(AF_INET6, a.addr, ip, sizeof ip);
        std::snprintf(out, sizeof out, "[%s]:%u", ip, unsigned(a.port));
        return out;
    }
    return "-";
}

PeerAddr make_peer(const char* ip, uint16_t port) noexcept {
    PeerAddr a;
    if (inet_pton(AF_INET, ip, a.addr) == 1) {
        a.family = AF_INET;
    } else if (inet_pton(AF_INET6, ip, a.addr) == 1) {
        a.family = AF_INET6;
    } else {
        return PeerAddr{};
    }
    a.port = port;
    return a;
}

const char* event_name(StreamEventKind k) noexcept {
    switch (k) {
    case StreamEventKind::none: return "none";
    case StreamEventKind::connected: return "connected";
    case StreamEventKind::accepted: return "accepted";
    case StreamEventKind::connect_refused: return "connect-refused";
    case StreamEventKind::connect_timeout: return "connect-timeout";
    case StreamEventKind::connect_failed: return "connect-failed";
    case StreamEventKind::tls_verify_failed: return "tls-verify-failed";
    case StreamEventKind::tls_handshake_failed: return "tls-handshake-failed";
    case StreamEventKind::connection_closed: return "connection-closed";
    case StreamEventKind::keepalive_lost: return "keepalive-lost";
    case StreamEventKind::message_too_large: return "message-too-large";
    case StreamEventKind::framing_error: return "framing-error";
    case StreamEventKind::send_failed: return "send-failed";
    case StreamEventKind::count_: break;
    }
    return "?";
}

bool is_failover_trigger(StreamEventKind k) noexcept {
    return failover_kind(k) == failover::EventKind::timeout;
}

failover::EventKind failover_kind(StreamEventKind k) noexcept {
    switch (k) {
    // seed P "Triggering Failover": the connection could not be made. With
    // tcp-fast-failover the connect timeout is tcp-fast-failover-timeout, so the
    // route fails after that wait instead of Timer B (stream/knobs.h).
    case StreamEventKind::connect_refused:
    case StreamEventKind::connect_timeout:
    case StreamEventKind::connect_failed:
    // A carrier whose certificate does not verify cannot take requests either.
    case StreamEventKind::tls_verify_failed:
    case StreamEventKind::tls_handshake_failed:
        return failover::EventKind::timeout;
    // seed P "When Failover Is Not Triggered": TCP FIN/RST from the far end and
    // keep-alive failure lose the registration, not the server.
    case StreamEventKind::connection_closed:
    case StreamEventKind::keepalive_lost:
    case StreamEventKind::message_too_large:
    case StreamEventKind::framing_error:
        return failover::EventKind::connection_closed;
    default:
        return failover::EventKind::none;
    }
}

failover::ServerEvent to_server_event(const StreamEvent& ev) noexcept {
    failover::ServerEvent out;
    out.at_ms = ev.at_ms;
    out.trunk_id = ev.route.trunk_id;
    out.list_epoch = ev.route.list_epoch;
    out.server_idx = ev.route.server_idx;
    out.kind = ev.route.server_idx == 0xffff ? failover::EventKind::none : failover_kind(ev.kind);
    return out;
}

}  // namespace sipedge::stream
