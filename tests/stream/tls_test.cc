// StreamTransport over TLS on 127.0.0.1 with a CA and certificates the test
// makes (tests/stream/test_pki.h): handshake and messages both ways, session
// resumption on reconnect, RFC 5922 name check refusing a wrong name with a
// clear event, an unknown CA, mutual TLS, a silent peer (listening, never
// answering TLS) failing within the connect timeout, and key material kept
// out of error texts.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <chrono>

#include "stream/transport.h"
#include "tests/stream/stream_helpers.h"
#include "tests/stream/test_pki.h"

namespace sipedge::stream {
namespace {

using namespace testing;

StreamConfig tls_config() {
    StreamConfig c;
    c.knobs.connect_timeout_ms = 2000;
    c.channel.rx_pool = {.small_count = 256, .large_count = 4};
    c.channel.tx_pool = {.small_count = 256, .large_count = 4};
    return c;
}

TestPki& pki() {
    static TestPki p;
    return p;
}

struct TlsPair {
    StreamTransport client{tls_config()};
    StreamTransport server{tls_config()};
    PeerAddr server_addr;
    // The carrier (server) presents a certificate for <cert_name>; the client
    // expects <expect_name>, trusting <ca_pem>.
    TlsPair(const std::string& cert_name, const std::string& expect_name, const std::string& ca_pem,
            const TlsServerConfig* server_cfg = nullptr, const TlsClientConfig* client_cfg = nullptr) {
        const Pem leaf = pki().issue(cert_name, {cert_name});
        TlsServerConfig sc = server_cfg ? *server_cfg : TlsServerConfig{};
        if (sc.cert_pem.empty()) {
            sc.cert_pem = leaf.cert;
            sc.key_pem = leaf.key;
        }
        auto st = server.set_server_profile(1, sc);
        EXPECT_TRUE(st.ok()) << st.error().message;
        auto l = server.listen(ListenConfig{.addr = loopback(0), .transport = Transport::tls, .tls_profile = 1});
        EXPECT_TRUE(l.ok());
        server_addr = l.value();
        TlsClientConfig cc = client_cfg ? *client_cfg : TlsClientConfig{};
        cc.server_name = expect_name;
        if (cc.ca_pem.empty()) cc.ca_pem = ca_pem;
        st = client.set_client_profile(7, cc);
        EXPECT_TRUE(st.ok()) << st.error().message;
        EXPECT_TRUE(client.start().ok());
        EXPECT_TRUE(server.start().ok());
    }
    Dest dest() const {
        return Dest{.peer = server_addr, .transport = Transport::tls, .profile = 7,
                    .route = {.trunk_id = 5, .server_idx = 0}};
    }
};

TEST(StreamTls, HandshakeMessagesAndResumption) {
    TlsPair p("carrier.example", "carrier.example", pki().ca_pem());
    send(p.client, sip_msg("tls1", 1200), p.dest());
    auto got = recv(p.server);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->text, sip_msg("tls1", 1200));
    EXPECT_EQ(got->hdr.transport, Transport::tls);
    auto c1 = wait_kind(p.client, StreamEventKind::connected);
    ASSERT_TRUE(c1);
    EXPECT_NE(std::string(c1->reason).find("TLS"), std::string::npos) << c1->reason;
    EXPECT_FALSE(c1->flags & sev_tls_resumed);

    send(p.server, sip_msg("tls1-resp"), Dest{}, got->hdr.conn);
    auto back = recv(p.client);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->text, sip_msg("tls1-resp"));  // by now the client holds the session ticket

    // The carrier closes; the next request reconnects and resumes the session.
    p.server.close_connection(got->hdr.conn);
    ASSERT_TRUE(wait_kind(p.client, StreamEventKind::connection_closed));
    send(p.client, sip_msg("tls2"), p.dest());
    auto again = recv(p.server);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->text, sip_msg("tls2"));
    auto c2 = wait_kind(p.client, StreamEventKind::connected);
    ASSERT_TRUE(c2);
    EXPECT_TRUE(c2->flags & sev_tls_resumed) << c2->reason;
    EXPECT_EQ(p.client.stats().tls_resumed, 1u);
}

TEST(StreamTls, IdleConnectionsDoNotSpinAfterBackPressure) {
    // The carrier's worker holds every rx slot, so the carrier stops reading,
    // the client's socket fills and its writes wait for EPOLLOUT; then the
    // worker catches up and everything drains.
    StreamConfig sc = tls_config();
    sc.channel.rx_pool = {.small_count = 2, .large_count = 1};
    StreamConfig cc = tls_config();
    cc.channel.tx_pool = {.small_count = 4096, .large_count = 4};
    cc.tx_queue_limit = 64u << 20;
    StreamTransport client(cc), server(sc);
    const Pem leaf = pki().issue("carrier.example", {"carrier.example"});
    TlsServerConfig scfg;
    scfg.cert_pem = leaf.cert;
    scfg.key_pem = leaf.key;
    ASSERT_TRUE(server.set_server_profile(1, scfg).ok());
    auto l = server.listen(ListenConfig{.addr = loopback(0), .transport = Transport::tls, .tls_profile = 1});
    ASSERT_TRUE(l.ok());
    TlsClientConfig ccfg;
    ccfg.server_name = "carrier.example";
    ccfg.ca_pem = pki().ca_pem();
    ASSERT_TRUE(client.set_client_profile(7, ccfg).ok());
    ASSERT_TRUE(client.start().ok());
    ASSERT_TRUE(server.start().ok());
    const Dest d{.peer = l.value(), .transport = Transport::tls, .profile = 7};
    // 3000 × ~3.5 KB = 10.5 MB: more than the socket buffers hold (4 MB send
    // buffer at most; the paused receiver's buffer does not grow).
    constexpr int n = 3000;
    for (int i = 0; i < n; i++) send(client, sip_msg("bp" + std::to_string(i), 3300), d);
    std::vector<StreamMsg*> held;
    while (held.size() < 3) {  // every slot: the carrier stops reading
        ASSERT_TRUE(server.channel(0).rx_wait(3000));
        StreamMsg* m = nullptr;
        while (server.channel(0).rx_burst(&m, 1)) held.push_back(m);
    }
    // Wait until the client has something queued that the kernel would not take.
    const auto t0 = std::chrono::steady_clock::now();
    while (server.stats().rx_paused == 0 && ms_since(t0) < 3000) server.channel(0).rx_wait(10);
    for (StreamMsg* m : held) server.channel(0).rx_free(m);
    for (int i = 3; i < n; i++) ASSERT_TRUE(recv(server)) << i;
    EXPECT_GE(server.stats().rx_paused, 1u);
    EXPECT_EQ(client.stats().tx_dropped, 0u);
    // Both stream threads now hold one idle TLS connection: over a 300 ms
    // window (a measurement, not a synchronisation) they must sleep in
    // epoll_wait, not poll an EPOLLOUT they no longer need.
    auto cpu_ms = [] {
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000.0 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000.0;
    };
    StreamEvent ev;
    while (client.poll_event(ev)) {
    }
    const double before = cpu_ms();
    while (client.wait_event(ev, 300)) {
    }
    EXPECT_LT(cpu_ms() - before, 60.0);
}

// In-dialog requests name no TLS profile (only the peer): sent while the
// trunk's connection to that peer is still being opened, they wait on it —
// one connection, not one per message (seen: 238 connections left open, never
// reused, after 3,000 calls whose carrier closed a connection after every ACK).
TEST(StreamTls, MessagesNamingOnlyThePeerWaitOnTheConnectionBeingOpened) {
    TlsPair p("carrier.example", "carrier.example", pki().ca_pem());
    p.client.set_peer_profiles({{p.server_addr, 7}});
    const Dest peer_only{.peer = p.server_addr, .transport = Transport::tls};
    send(p.client, sip_msg("in-dialog-1"), peer_only);  // opens it, with the peer's profile
    send(p.client, sip_msg("trunk"), p.dest());
    send(p.client, sip_msg("in-dialog-2"), peer_only);
    ConnId conn = no_conn;
    for (const char* want : {"in-dialog-1", "trunk", "in-dialog-2"}) {
        auto got = recv(p.server);
        ASSERT_TRUE(got) << want;
        EXPECT_EQ(got->text, sip_msg(want));
        if (conn == no_conn) conn = got->hdr.conn;
        EXPECT_EQ(got->hdr.conn, conn) << want;
    }
    EXPECT_EQ(p.client.stats().conns_opened, 1u);
    EXPECT_EQ(p.server.stats().conns_accepted, 1u);
}

TEST(StreamTls, WrongServerNameIsRefusedWithAClearEvent) {
    TlsPair p("other.example", "carrier.example", pki().ca_pem());
    send(p.client, sip_msg("wrong"), p.dest());
    auto ev = wait_kind(p.client, StreamEventKind::tls_verify_failed);
    ASSERT_TRUE(ev);
    EXPECT_STREQ(ev->reason, "certificate name mismatch: expected carrier.example, got other.example");
    EXPECT_TRUE(is_failover_trigger(ev->kind));
    EXPECT_EQ(to_server_event(*ev).trunk_id, 5u);
    EXPECT_EQ(p.client.stats().tls_verify_failed, 1u);
    EXPECT_EQ(p.client.stats().conns_opened, 0u);
    EXPECT_FALSE(recv(p.server, 200));  // nothing reached the server's worker
}

TEST(StreamTls, WildcardCertificateIsNotAcceptedForTheDomain) {
    // RFC 5922 §7.2: no wildcard matching.
    StreamTransport client(tls_config()), server(tls_config());
    const Pem leaf = pki().issue("*.example", {"*.example"});
    ASSERT_TRUE(server.set_server_profile(1, TlsServerConfig{.cert_pem = leaf.cert, .key_pem = leaf.key}).ok());
    auto l = server.listen(ListenConfig{.addr = loopback(0), .transport = Transport::tls, .tls_profile = 1});
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE(client.set_client_profile(7, TlsClientConfig{.server_name = "carrier.example",
                                                              .ca_pem = pki().ca_pem()}).ok());
    ASSERT_TRUE(client.start().ok());
    ASSERT_TRUE(server.start().ok());
    send(client, sip_msg("wild"), Dest{.peer = l.value(), .transport = Transport::tls, .profile = 7});
    auto ev = wait_kind(client, StreamEventKind::tls_verify_failed);
    ASSERT_TRUE(ev);
    EXPECT_NE(std::string(ev->reason).find("name mismatch"), std::string::npos) << ev->reason;
}

TEST(StreamTls, UnknownCaIsRefused) {
    TestPki stranger("another CA");
    TlsPair p("carrier.example", "carrier.example", stranger.ca_pem());
    send(p.client, sip_msg("unknown-ca"), p.dest());
    auto ev = wait_kind(p.client, StreamEventKind::tls_verify_failed);
    ASSERT_TRUE(ev);
    EXPECT_NE(std::string(ev->reason).find("certificate verify failed: unable to get local issuer"),
              std::string::npos)
        << ev->reason;
}

TEST(StreamTls, ClientCertificateForMutualTls) {
    const Pem client_leaf = pki().issue("edge.example", {"edge.example"});
    const Pem server_leaf = pki().issue("carrier.example", {"carrier.example"});
    TlsServerConfig sc{.cert_pem = server_leaf.cert, .key_pem = server_leaf.key, .ca_pem = pki().ca_pem(),
                       .verify_client = true};
    TlsClientConfig cc{.cert_pem = client_leaf.cert, .key_pem = client_leaf.key};
    TlsPair p("carrier.example", "carrier.example", pki().ca_pem(), &sc, &cc);
    send(p.client, sip_msg("mtls"), p.dest());
    auto got = recv(p.server);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->text, sip_msg("mtls"));
    ASSERT_TRUE(wait_kind(p.server, StreamEventKind::accepted));
}

TEST(StreamTls, MissingClientCertificateIsRefusedByTheServer) {
    const Pem server_leaf = pki().issue("carrier.example", {"carrier.example"});
    TlsServerConfig sc{.cert_pem = server_leaf.cert, .key_pem = server_leaf.key, .ca_pem = pki().ca_pem(),
                       .verify_client = true};
    TlsPair p("carrier.example", "carrier.example", pki().ca_pem(), &sc);
    send(p.client, sip_msg("no-cert"), p.dest());
    ASSERT_TRUE(wait_kind(p.server, StreamEventKind::tls_handshake_failed));
    EXPECT_FALSE(recv(p.server, 200));
}

TEST(StreamTls, SilentPeerFailsWithinTheConnectTimeout) {
    StreamTransport client(tls_config());
    ASSERT_TRUE(client.set_client_profile(7, TlsClientConfig{.server_name = "carrier.example",
                                                              .ca_pem = pki().ca_pem()}).ok());
    ASSERT_TRUE(client.start().ok());
    RawSocket silent(true);  // the kernel completes TCP; nobody ever answers TLS
    const auto t0 = std::chrono::steady_clock::now();
    send(client, sip_msg("silent"),
         Dest{.peer = loopback(silent.port), .transport = Transport::tls, .profile = 7,
              .route = {.trunk_id = 9, .server_idx = 2}});
    auto ev = wait_kind(client, StreamEventKind::connect_timeout, 4000);
    ASSERT_TRUE(ev);
    const uint64_t waited = ms_since(t0);
    EXPECT_GE(waited, 1900u);  // tcp-fast-failover-timeout 2000 ms (timer granularity 1 ms)
    EXPECT_LT(waited, 2600u);
    EXPECT_NE(std::string(ev->reason).find("TLS handshake with 127.0.0.1:"), std::string::npos) << ev->reason;
    EXPECT_TRUE(is_failover_trigger(ev->kind));
    EXPECT_EQ(to_server_event(*ev).server_idx, 2u);
    EXPECT_EQ(client.stats().connect_timeout, 1u);
}

// A trunk's own timing (set_profile_knobs: tcp-fast-failover-timeout as its
// connect timeout) wins over the transport's default for connections opened
// for its profile; another profile keeps the default.
TEST(StreamTls, AProfilesKnobsSetItsConnectTimeout) {
    StreamTransport client(tls_config());  // default connect timeout 2000 ms
    for (uint32_t id : {7u, 8u})
        ASSERT_TRUE(client.set_client_profile(id, TlsClientConfig{.server_name = "carrier.example",
                                                                   .ca_pem = pki().ca_pem()}).ok());
    StreamKnobs fast;
    fast.connect_timeout_ms = 400;
    client.set_profile_knobs(7, fast);
    ASSERT_TRUE(client.start().ok());
    RawSocket silent(true);
    const auto t0 = std::chrono::steady_clock::now();
    send(client, sip_msg("fast"),
         Dest{.peer = loopback(silent.port), .transport = Transport::tls, .profile = 7,
              .route = {.trunk_id = 6, .server_idx = 0}});
    auto ev = wait_kind(client, StreamEventKind::connect_timeout, 4000);
    ASSERT_TRUE(ev);
    EXPECT_GE(ms_since(t0), 380u);
    EXPECT_LT(ms_since(t0), 1500u);
    EXPECT_NE(std::string(ev->reason).find("not complete after 400 ms"), std::string::npos) << ev->reason;
    const auto t1 = std::chrono::steady_clock::now();
    send(client, sip_msg("default"),
         Dest{.peer = loopback(silent.port), .transport = Transport::tls, .profile = 8,
              .route = {.trunk_id = 5, .server_idx = 0}});
    ev = wait_kind(client, StreamEventKind::connect_timeout, 4000);
    ASSERT_TRUE(ev);
    EXPECT_GE(ms_since(t1), 1900u);
    EXPECT_NE(std::string(ev->reason).find("not complete after 2000 ms"), std::string::npos) << ev->reason;
}

TEST(StreamTls, ProfileErrorsNeverCarryKeyBytes) {
    StreamTransport t(tls_config());
    const std::string secret = "-----BEGIN PRIVATE KEY-----\nU0VDUkVUS0VZQllURVM=\n-----END PRIVATE KEY-----\n";
    const Pem leaf = pki().issue("edge.example", {"edge.example"});
    auto st = t.set_client_profile(1, TlsClientConfig{.server_name = "carrier.example", .ca_pem = pki().ca_pem(),
                                                      .cert_pem = leaf.cert, .key_pem = secret});
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message.find("U0VDUkVUS0VZQllURVM"), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("private key"), std::string::npos) << st.error().message;
    // A key that does not belong to the certificate.
    const Pem other = pki().issue("x.example", {"x.example"});
    st = t.set_client_profile(1, TlsClientConfig{.server_name = "carrier.example", .ca_pem = pki().ca_pem(),
                                                 .cert_pem = leaf.cert, .key_pem = other.key});
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("does not match"), std::string::npos) << st.error().message;
    // No server name: refused (RFC 5922 needs one to check).
    st = t.set_client_profile(1, TlsClientConfig{.ca_pem = pki().ca_pem()});
    EXPECT_FALSE(st.ok());
}

TEST(StreamTls, NoProfileMeansSendFailed) {
    StreamTransport t(tls_config());
    ASSERT_TRUE(t.start().ok());
    send(t, sip_msg("np"), Dest{.peer = loopback(5061), .transport = Transport::tls, .profile = 42});
    auto ev = wait_kind(t, StreamEventKind::send_failed);
    ASSERT_TRUE(ev);
    EXPECT_NE(std::string(ev->reason).find("no TLS client profile 42"), std::string::npos);
}

}  // namespace
}  // namespace sipedge::stream
