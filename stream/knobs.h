#pragma once
// The stream transport's timing knobs and where they come from
// (shared/seed-knobs.md, control/knob_table.cc: stored per trunk, validated by
// control; this module only applies them):
//   tcp-fast-failover / -timeout   seed P voIpProt.SIP.tcpFastFailover(.timeout):
//                                  the connect (and TLS handshake) wait before
//                                  the route fails; off → Timer B (64·T1)
//   tcp-keepalive-idle             seed P tcpIpApp.keepalive.tcp.idleTransmitInterval → TCP_KEEPIDLE
//   tcp-keepalive-no-response      seed P ...noResponseTransmitInterval → TCP_KEEPINTVL
//   tcp-keepalive-attempts         seed P (4 attempts) → TCP_KEEPCNT
//   keepalive-interval             seed P nat.keepalive.interval: RFC 5626
//                                  CRLF ping period on idle outbound connections

#include <cstdint>

namespace sipedge::stream {

struct StreamKnobs {
    /// Outbound: TCP connect plus TLS handshake must finish within this, or the
    /// connection fails with connect_timeout (a failover trigger).
    uint32_t connect_timeout_ms = 5000;
    /// TCP keep-alive (SO_KEEPALIVE) on every connection; 0 idle = off.
    uint32_t tcp_keepalive_idle_s = 30;
    uint32_t tcp_keepalive_interval_s = 20;
    uint32_t tcp_keepalive_attempts = 4;
    /// RFC 5626 §4.4.1: "\r\n\r\n" on an outbound connection idle this long; 0 = off.
    uint32_t crlf_ping_interval_s = 0;
    /// A ping with no pong (or any other bytes) within this closes the
    /// connection (keepalive_lost). RFC 5626 §4.4.1: 10 s.
    uint32_t crlf_pong_timeout_ms = 10000;
    bool operator==(const StreamKnobs&) const = default;
};

/// seed P: the connect wait. With tcp-fast-failover, tcp-fast-failover-timeout
/// (2000–5000 ms); without it, Timer B = 64·<t1_ms> (the request would wait
/// that long on a silent server anyway).
constexpr uint32_t connect_timeout_ms(bool tcp_fast_failover, uint32_t fast_timeout_ms,
                                      uint32_t t1_ms = 500) noexcept {
    return tcp_fast_failover ? fast_timeout_ms : 64 * t1_ms;
}

/// Turns on TCP keep-alive on socket <fd> with <k>'s idle / interval / count
/// (TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT). Idle 0 leaves it off.
/// Returns 0, or the errno of the first setsockopt that failed.
int apply_keepalive(int fd, const StreamKnobs& k) noexcept;

}  // namespace sipedge::stream
