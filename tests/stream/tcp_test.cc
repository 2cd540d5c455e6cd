// StreamTransport over TCP on 127.0.0.1: round trip and connection reuse,
// framing of real segments, RFC 5626 keep-alives both ways, oversize refusal,
// and the failover events of seed P (connect refused → trigger within the
// connect timeout; peer close → connection_closed, next send reconnects).
// Every wait is bounded and waits on an event or a message, never a sleep.
#include <gtest/gtest.h>

#include <chrono>

#include "stream/transport.h"
#include "tests/stream/stream_helpers.h"

namespace sipedge::stream {
namespace {

using namespace testing;

StreamConfig small_config() {
    StreamConfig c;
    c.knobs.connect_timeout_ms = 2000;  // tcp-fast-failover-timeout minimum
    c.channel.rx_pool = {.small_count = 256, .large_count = 4};
    c.channel.tx_pool = {.small_count = 256, .large_count = 4};
    return c;
}

struct Pair {
    StreamTransport client{small_config()};
    StreamTransport server{small_config()};
    PeerAddr server_addr;
    Pair() {
        auto l = server.listen(ListenConfig{.addr = loopback(0), .transport = Transport::tcp});
        EXPECT_TRUE(l.ok());
        server_addr = l.value();
        EXPECT_TRUE(client.start().ok());
        EXPECT_TRUE(server.start().ok());
    }
};

TEST(StreamTcp, RoundTripAndReuse) {
    Pair p;
    Dest d{.peer = p.server_addr, .route = {.trunk_id = 4, .list_epoch = 9, .server_idx = 0}};
    send(p.client, sip_msg("rt1"), d);
    auto got = recv(p.server);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->text, sip_msg("rt1"));
    EXPECT_EQ(got->hdr.transport, Transport::tcp);
    EXPECT_EQ(got->hdr.local, p.server_addr);
    EXPECT_EQ(to_string(got->hdr.peer).rfind("127.0.0.1:", 0), 0u);

    auto conn = wait_kind(p.client, StreamEventKind::connected);
    ASSERT_TRUE(conn);
    EXPECT_EQ(conn->route.trunk_id, 4u);
    EXPECT_TRUE(conn->flags & sev_outbound);
    auto acc = wait_kind(p.server, StreamEventKind::accepted);
    ASSERT_TRUE(acc);
    EXPECT_EQ(acc->conn, got->hdr.conn);

    // RFC 3261 §18.2.2: the response goes back on the request's connection.
    send(p.server, sip_msg("rt1-resp", 20), Dest{}, got->hdr.conn);
    auto back = recv(p.client);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->text, sip_msg("rt1-resp", 20));
    EXPECT_EQ(back->hdr.conn, conn->conn);
    EXPECT_EQ(back->hdr.route.trunk_id, 4u);

    // RFC 3261 §18.1.1: the next request to the same destination reuses it.
    send(p.client, sip_msg("rt2"), d);
    auto again = recv(p.server);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->hdr.conn, got->hdr.conn);
    EXPECT_EQ(p.client.stats().conns_opened, 1u);

    // Another local identity gets its own connection.
    Dest other = d;
    other.identity = 2;
    send(p.client, sip_msg("rt3"), other);
    auto third = recv(p.server);
    ASSERT_TRUE(third);
    EXPECT_NE(third->hdr.conn, got->hdr.conn);
    EXPECT_EQ(p.client.stats().conns_opened, 2u);
}

TEST(StreamTcp, SplitAndCoalescedSegmentsFromARawPeer) {
    Pair p;
    const int fd = raw_connect(p.server_addr.port);
    ASSERT_GE(fd, 0);
    const std::string a = sip_msg("seg-a", 500), b = sip_msg("seg-b"), c = sip_msg("seg-c", 3);
    // a in three writes (cut inside the headers, then inside the body), then b
    // and c in one write.
    ASSERT_TRUE(write_all(fd, a.substr(0, 40)));
    ASSERT_TRUE(write_all(fd, a.substr(40, a.size() - 240)));
    ASSERT_TRUE(write_all(fd, a.substr(a.size() - 200)));
    ASSERT_TRUE(write_all(fd, b + c));
    for (const std::string& want : {a, b, c}) {
        auto got = recv(p.server);
        ASSERT_TRUE(got);
        EXPECT_EQ(got->text, want);
    }
    EXPECT_EQ(p.server.stats().msgs_rx, 3u);
    close(fd);
}

// RFC 5923: a caller connected from an ephemeral port asks in its Via for
// an alias of its listening address; a message to that address then goes on
// its connection, not on a new one (nothing listens there: a new connection
// would be refused).
TEST(StreamTcp, AViaAliasMakesTheConnectionServeTheSentByAddress) {
    Pair p;
    RawSocket closed_port(false);  // bound, not listening: the caller's "listening" address
    const int fd = raw_connect(p.server_addr.port);
    ASSERT_GE(fd, 0);
    const std::string req = "OPTIONS sip:edge@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:" +
                            std::to_string(closed_port.port) + ";branch=z9hG4bK-al;alias\r\n"
                            "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:edge@127.0.0.1>\r\nCall-ID: al\r\n"
                            "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    ASSERT_TRUE(write_all(fd, req));
    ASSERT_TRUE(recv(p.server));
    EXPECT_EQ(p.server.stats().aliases, 1u);
    const std::string to_contact = sip_msg("to-contact");
    send(p.server, to_contact, Dest{.peer = loopback(closed_port.port), .transport = Transport::tcp});
    EXPECT_EQ(read_some(fd, to_contact.size(), 3000), to_contact);
    EXPECT_EQ(p.server.stats().conns_opened, 0u);
    EXPECT_EQ(p.server.stats().connect_refused, 0u);
    // Without ;alias nothing is aliased.
    const int fd2 = raw_connect(p.server_addr.port);
    std::string plain = req;
    plain.replace(plain.find(";alias"), 6, "");
    ASSERT_TRUE(write_all(fd2, plain));
    ASSERT_TRUE(recv(p.server));
    EXPECT_EQ(p.server.stats().aliases, 1u);
    close(fd2);
    close(fd);
}

TEST(StreamTcp, AnswersCrlfPingWithPong) {
    Pair p;
    const int fd = raw_connect(p.server_addr.port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(write_all(fd, "\r\n\r\n"));
    EXPECT_EQ(read_some(fd, 2, 3000), "\r\n");  // RFC 5626 §4.4.1 pong
    // The connection still carries messages after the keep-alive.
    ASSERT_TRUE(write_all(fd, sip_msg("after-ping")));
    auto got = recv(p.server);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->text, sip_msg("after-ping"));
    EXPECT_EQ(p.server.stats().pings_rx, 1u);
    close(fd);
}

TEST(StreamTcp, OversizeMessageClosesTheConnectionWithAReason) {
    Pair p;
    const int fd = raw_connect(p.server_addr.port);
    ASSERT_GE(fd, 0);
    std::string big = sip_msg("big");
    big.replace(big.find("Content-Length: 0"), 17, "Content-Length: 70000");
    ASSERT_TRUE(write_all(fd, big + std::string(1000, 'x')));
    auto ev = wait_kind(p.server, StreamEventKind::message_too_large);
    ASSERT_TRUE(ev);
    const std::string why = ev->reason;
    EXPECT_NE(why.find("exceeds the 65535-byte limit"), std::string::npos) << why;
    bool eof = false;
    read_some(fd, 1, 3000, &eof);
    EXPECT_TRUE(eof);  // closed by the edge
    EXPECT_EQ(p.server.stats().too_large, 1u);
    EXPECT_EQ(p.server.stats().msgs_rx, 0u);
    close(fd);
}

TEST(StreamTcp, ConnectRefusedIsAFailoverTriggerWithinTheTimeout) {
    StreamTransport t(small_config());
    ASSERT_TRUE(t.start().ok());
    RawSocket closed(false);  // bound, not listening: the SYN gets a RST
    const auto t0 = std::chrono::steady_clock::now();
    send(t, sip_msg("refused"), Dest{.peer = loopback(closed.port), .route = {.trunk_id = 1, .server_idx = 0}});
    auto ev = wait_kind(t, StreamEventKind::connect_refused, 2000);
    ASSERT_TRUE(ev);
    EXPECT_LT(ms_since(t0), 2000u);
    EXPECT_TRUE(is_failover_trigger(ev->kind));
    EXPECT_EQ(to_server_event(*ev).kind, failover::EventKind::timeout);
    EXPECT_EQ(ev->sys_errno, ECONNREFUSED);
    EXPECT_NE(std::string(ev->reason).find("refused"), std::string::npos);
    EXPECT_EQ(t.stats().tx_dropped, 1u);  // the message that was waiting for it
}

TEST(StreamTcp, PeerCloseIsNotFailoverAndTheNextSendReconnects) {
    Pair p;
    Dest d{.peer = p.server_addr, .route = {.trunk_id = 2, .server_idx = 0}};
    send(p.client, sip_msg("c1"), d);
    auto first = recv(p.server);
    ASSERT_TRUE(first);
    auto c1 = wait_kind(p.client, StreamEventKind::connected);
    ASSERT_TRUE(c1);

    p.server.close_connection(first->hdr.conn);  // the carrier closes mid-way (FIN)
    std::vector<StreamEvent> seen;
    auto closed = wait_kind(p.client, StreamEventKind::connection_closed, 3000, &seen);
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->conn, c1->conn);
    EXPECT_FALSE(is_failover_trigger(closed->kind));
    EXPECT_EQ(to_server_event(*closed).kind, failover::EventKind::connection_closed);
    // The workers hear of it (msg_closed, no data): what they wrote into it
    // and got no answer to may be lost (Proxy::on_stream_closed resends).
    auto notice = recv(p.client);
    ASSERT_TRUE(notice);
    EXPECT_EQ(notice->hdr.flags, msg_closed);
    EXPECT_EQ(notice->hdr.len, 0u);
    EXPECT_EQ(notice->hdr.peer, p.server_addr);
    EXPECT_EQ(notice->hdr.conn, c1->conn);
    EXPECT_EQ(p.client.stats().close_notices, 1u);
    EXPECT_EQ(p.server.stats().close_notices, 0u);  // inbound, closed on request: its workers are not told

    send(p.client, sip_msg("c2"), d);
    auto second = recv(p.server);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->text, sip_msg("c2"));
    auto c2 = wait_kind(p.client, StreamEventKind::connected, 3000, &seen);
    ASSERT_TRUE(c2);
    EXPECT_NE(c2->conn, c1->conn);
    for (const StreamEvent& e : seen) EXPECT_FALSE(is_failover_trigger(e.kind)) << event_name(e.kind);
    for (const StreamEvent& e : drain_events(p.client)) EXPECT_FALSE(is_failover_trigger(e.kind));
    const StreamStats s = p.client.stats();
    EXPECT_EQ(s.connect_refused + s.connect_timeout + s.connect_failed, 0u);
    EXPECT_EQ(s.conns_opened, 2u);
}

TEST(StreamTcp, SendOnAClosedConnectionWithoutDestinationFails) {
    Pair p;
    send(p.client, sip_msg("x"), Dest{}, ConnId(0x500000007));
    auto ev = wait_kind(p.client, StreamEventKind::send_failed);
    ASSERT_TRUE(ev);
    EXPECT_EQ(p.client.stats().tx_dropped, 1u);
}

TEST(StreamTcp, CrlfKeepaliveSentAndLossDetected) {
    StreamConfig c = small_config();
    c.knobs.crlf_ping_interval_s = 1;
    c.knobs.crlf_pong_timeout_ms = 300;
    StreamTransport t(c);
    ASSERT_TRUE(t.start().ok());
    RawSocket carrier(true);
    send(t, sip_msg("ka"), Dest{.peer = loopback(carrier.port), .route = {.trunk_id = 3, .server_idx = 1}});
    const int fd = carrier.accept_one();
    ASSERT_GE(fd, 0);
    const std::string m = sip_msg("ka");
    const auto tk = std::chrono::steady_clock::now();
    EXPECT_EQ(read_some(fd, m.size(), 3000), m);
    // First ping after ~1 s idle; answer it.
    EXPECT_EQ(read_some(fd, 4, 3000), "\r\n\r\n");
    // keepalive-interval 1 s after the last traffic (the message), not later.
    EXPECT_GE(ms_since(tk), 900u);
    EXPECT_LT(ms_since(tk), 1500u);
    ASSERT_TRUE(write_all(fd, "\r\n"));
    // Second ping: leave it unanswered → keepalive_lost after the pong timeout.
    EXPECT_EQ(read_some(fd, 4, 3000), "\r\n\r\n");
    const auto t0 = std::chrono::steady_clock::now();
    auto ev = wait_kind(t, StreamEventKind::keepalive_lost, 3000);
    ASSERT_TRUE(ev);
    EXPECT_GE(ms_since(t0), 250u);   // crlf_pong_timeout_ms 300
    EXPECT_LT(ms_since(t0), 1000u);
    EXPECT_FALSE(is_failover_trigger(ev->kind));
    EXPECT_EQ(to_server_event(*ev).kind, failover::EventKind::connection_closed);
    EXPECT_EQ(ev->route.server_idx, 1u);
    const StreamStats s = t.stats();
    EXPECT_EQ(s.pings_tx, 2u);
    EXPECT_EQ(s.pongs_rx, 1u);
    EXPECT_EQ(s.keepalive_lost, 1u);
    close(fd);
}

TEST(StreamTcp, BackPressureWhenTheWorkerHoldsEverySlot) {
    StreamConfig c = small_config();
    c.channel.rx_pool = {.small_count = 4, .large_count = 1};
    StreamTransport server(c);
    auto l = server.listen(ListenConfig{.addr = loopback(0)});
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE(server.start().ok());
    const int fd = raw_connect(l.value().port);
    std::string burst;
    for (int i = 0; i < 20; i++) burst += sip_msg("bp" + std::to_string(i));
    ASSERT_TRUE(write_all(fd, burst));
    // Hold the first 5 (every slot) without freeing, then free and read the rest.
    std::vector<StreamMsg*> held;
    while (held.size() < 5) {
        ASSERT_TRUE(server.channel(0).rx_wait(3000));
        StreamMsg* m = nullptr;
        while (server.channel(0).rx_burst(&m, 1)) held.push_back(m);
    }
    EXPECT_EQ(held.size(), 5u);
    for (StreamMsg* m : held) server.channel(0).rx_free(m);
    for (int i = 5; i < 20; i++) {
        auto got = recv(server);
        ASSERT_TRUE(got) << i;
        EXPECT_EQ(got->text, sip_msg("bp" + std::to_string(i)));
    }
    EXPECT_GE(server.stats().rx_paused, 1u);
    close(fd);
}

}  // namespace
}  // namespace sipedge::stream
