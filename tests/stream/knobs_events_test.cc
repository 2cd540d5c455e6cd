// Knobs acting on sockets (TCP keep-alive) and the mapping of stream events
// to failover (seed P: failed connect = trigger; FIN/RST, keep-alive loss = not).
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream/knobs.h"
#include "stream/stream_types.h"

namespace sipedge::stream {
namespace {

int opt(int fd, int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    getsockopt(fd, level, name, &v, &len);
    return v;
}

TEST(Knobs, KeepaliveOptionsFromTheSeedKnobs) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    StreamKnobs k;
    k.tcp_keepalive_idle_s = 45;       // tcp-keepalive-idle
    k.tcp_keepalive_interval_s = 7;    // tcp-keepalive-no-response
    k.tcp_keepalive_attempts = 3;      // tcp-keepalive-attempts
    ASSERT_EQ(apply_keepalive(fd, k), 0);
    EXPECT_EQ(opt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    EXPECT_EQ(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 45);
    EXPECT_EQ(opt(fd, IPPROTO_TCP, TCP_KEEPINTVL), 7);
    EXPECT_EQ(opt(fd, IPPROTO_TCP, TCP_KEEPCNT), 3);
    k.tcp_keepalive_idle_s = 0;
    ASSERT_EQ(apply_keepalive(fd, k), 0);
    EXPECT_EQ(opt(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
    close(fd);
}

TEST(Knobs, ConnectTimeoutFollowsTcpFastFailover) {
    EXPECT_EQ(connect_timeout_ms(true, 2000), 2000u);   // seed P tcpFastFailover.timeout
    EXPECT_EQ(connect_timeout_ms(false, 2000), 32000u); // Timer B at T1 500 ms
    EXPECT_EQ(connect_timeout_ms(false, 2000, 250), 16000u);
}

TEST(Events, FailoverMappingFollowsSeedP) {
    using K = StreamEventKind;
    for (K k : {K::connect_refused, K::connect_timeout, K::connect_failed, K::tls_verify_failed,
                K::tls_handshake_failed}) {
        EXPECT_TRUE(is_failover_trigger(k)) << event_name(k);
        EXPECT_EQ(failover_kind(k), failover::EventKind::timeout) << event_name(k);
    }
    for (K k : {K::connection_closed, K::keepalive_lost, K::message_too_large, K::framing_error}) {
        EXPECT_FALSE(is_failover_trigger(k)) << event_name(k);
        EXPECT_EQ(failover_kind(k), failover::EventKind::connection_closed) << event_name(k);
    }
    for (K k : {K::connected, K::accepted, K::send_failed}) {
        EXPECT_FALSE(is_failover_trigger(k));
        EXPECT_EQ(failover_kind(k), failover::EventKind::none);
    }
}

TEST(Events, ToServerEventCarriesTheRoute) {
    StreamEvent ev;
    ev.at_ms = 1234;
    ev.kind = StreamEventKind::connect_refused;
    ev.route = RouteTag{.trunk_id = 7, .list_epoch = 3, .server_idx = 1};
    const failover::ServerEvent s = to_server_event(ev);
    EXPECT_EQ(s.kind, failover::EventKind::timeout);
    EXPECT_EQ(s.trunk_id, 7u);
    EXPECT_EQ(s.list_epoch, 3u);
    EXPECT_EQ(s.server_idx, 1u);
    EXPECT_EQ(s.at_ms, 1234u);
    ev.route = RouteTag{};  // access side: no server
    EXPECT_EQ(to_server_event(ev).kind, failover::EventKind::none);
}

TEST(Types, PeerAddrText) {
    EXPECT_EQ(to_string(make_peer("127.0.0.1", 5061)), "127.0.0.1:5061");
    EXPECT_EQ(to_string(make_peer("::1", 5060)), "[::1]:5060");
    EXPECT_TRUE(make_peer("nonsense", 1).empty());
}

}  // namespace
}  // namespace sipedge::stream
