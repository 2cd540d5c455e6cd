// Stream transport benchmarks (issue 14). See bench/RESULTS-stream.md.
//
//   BM_Inbound/<tls>     a peer in the benchmark thread writes messages over one
//                        connection; the stream thread reads (and decrypts),
//                        frames and hands them to the channel the benchmark
//                        thread drains: the inbound path of one stream thread.
//   BM_Outbound/<tls>    the benchmark thread queues messages on a channel for
//                        one connection; the stream thread writes (encrypts)
//                        them; the peer in the benchmark thread reads them.
//   BM_Pipeline/<tls>    worker → client stream thread → loopback → server
//                        stream thread → worker (two stream threads).
//   BM_IdleTlsMemory/<n> n idle TLS connections held open: RSS growth per
//                        connection on the client side (this process) and on
//                        the server side (a child process the benchmark forks).
// Messages are ~560-byte OPTIONS requests (Content-Length framed).

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <csignal>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "stream/transport.h"
#include "tests/stream/test_pki.h"

namespace {

using namespace sipedge::stream;
using sipedge::stream::testing::Pem;
using sipedge::stream::testing::TestPki;

std::string sip_msg(int i) {
    const std::string tag = std::to_string(100000 + i);
    const std::string body(300, 'b');
    return "OPTIONS sip:carrier.example SIP/2.0\r\n"
           "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK" + tag + "\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:edge@127.0.0.1>;tag=a" + tag + "\r\n"
           "To: <sip:carrier.example>\r\n"
           "Call-ID: " + tag + "@edge\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TestPki& pki() {
    static TestPki p;
    return p;
}
const Pem& server_leaf() {
    static Pem p = pki().issue("carrier.example", {"carrier.example"});
    return p;
}

StreamConfig bench_config() {
    StreamConfig c;
    c.channel.rx_pool = {.small_count = 8192, .large_count = 8};
    c.channel.tx_pool = {.small_count = 8192, .large_count = 8};
    c.event_ring = 16384;
    return c;
}

void set_server_profile(StreamTransport& t) {
    TlsServerConfig sc;
    sc.cert_pem = server_leaf().cert;
    sc.key_pem = server_leaf().key;
    if (!t.set_server_profile(1, sc).ok()) std::abort();
}
void set_client_profile(StreamTransport& t) {
    TlsClientConfig cc;
    cc.server_name = "carrier.example";
    cc.ca_pem = pki().ca_pem();
    if (!t.set_client_profile(1, cc).ok()) std::abort();
}

// The peer in the benchmark thread: a non-blocking socket, TLS or not.
struct Peer {
    int fd = -1;
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;

    Peer(uint16_t port, bool tls) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::abort();
        if (tls) {
            ctx = SSL_CTX_new(TLS_client_method());
            BIO* b = BIO_new_mem_buf(pki().ca_pem().data(), int(pki().ca_pem().size()));
            X509* ca = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
            X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
            X509_free(ca);
            BIO_free(b);
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
            SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
            ssl = SSL_new(ctx);
            SSL_set_fd(ssl, fd);
            SSL_set_tlsext_host_name(ssl, "carrier.example");
            SSL_set1_host(ssl, "carrier.example");
            if (SSL_connect(ssl) != 1) std::abort();  // blocking handshake
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    ~Peer() {
        if (ssl) SSL_free(ssl);
        if (ctx) SSL_CTX_free(ctx);
        close(fd);
    }
    // Bytes written (0 when the socket is full).
    size_t write(const char* p, size_t n) {
        if (ssl) {
            const int r = SSL_write(ssl, p, int(n));
            return r > 0 ? size_t(r) : 0;
        }
        const ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
        return r > 0 ? size_t(r) : 0;
    }
    size_t read(char* p, size_t n) {
        if (ssl) {
            const int r = SSL_read(ssl, p, int(n));
            return r > 0 ? size_t(r) : 0;
        }
        const ssize_t r = ::recv(fd, p, n, 0);
        return r > 0 ? size_t(r) : 0;
    }
};

std::string block_of(int n) {
    std::string s;
    for (int i = 0; i < n; i++) s += sip_msg(i);
    return s;
}

constexpr int batch = 20000;  // messages per benchmark iteration

void BM_Inbound(benchmark::State& state) {
    const bool tls = state.range(0) != 0;
    StreamTransport server(bench_config());
    if (tls) set_server_profile(server);
    auto l = server.listen(ListenConfig{.addr = make_peer("127.0.0.1", 0),
                                        .transport = tls ? Transport::tls : Transport::tcp, .tls_profile = 1});
    if (!l.ok() || !server.start().ok()) std::abort();
    Peer peer(l.value().port, tls);
    const std::string block = block_of(64);
    const size_t msg_size = block.size() / 64;
    Channel& ch = server.channel(0);
    StreamMsg* got[256];
    uint64_t total = 0;
    for (auto _ : state) {
        int delivered = 0;
        size_t off = 0;       // within the current block
        int blocks_written = 0;
        while (delivered < batch) {
            // Keep at most 2048 messages in flight.
            if (blocks_written * 64 < batch && blocks_written * 64 - delivered < 2048) {
                const size_t w = peer.write(block.data() + off, block.size() - off);
                off += w;
                if (off == block.size()) {
                    off = 0;
                    blocks_written++;
                }
            }
            const size_t n = ch.rx_burst(got, 256);
            for (size_t i = 0; i < n; i++) ch.rx_free(got[i]);
            delivered += int(n);
            if (n == 0 && (blocks_written * 64 >= batch || blocks_written * 64 - delivered >= 2048))
                ch.rx_wait(5);
        }
        total += uint64_t(delivered);
    }
    state.counters["msgs/s"] = benchmark::Counter(double(total), benchmark::Counter::kIsRate);
    state.counters["msg_bytes"] = double(msg_size);
    state.SetBytesProcessed(int64_t(total * msg_size));
}

void BM_Outbound(benchmark::State& state) {
    const bool tls = state.range(0) != 0;
    StreamTransport server(bench_config());
    if (tls) set_server_profile(server);
    auto l = server.listen(ListenConfig{.addr = make_peer("127.0.0.1", 0),
                                        .transport = tls ? Transport::tls : Transport::tcp, .tls_profile = 1});
    if (!l.ok() || !server.start().ok()) std::abort();
    Peer peer(l.value().port, tls);
    StreamEvent ev;
    ConnId conn = no_conn;
    while (conn == no_conn && server.wait_event(ev, 5000))
        if (ev.kind == StreamEventKind::accepted) conn = ev.conn;
    if (conn == no_conn) std::abort();
    const std::string msg = sip_msg(1);
    Channel& ch = server.channel(0);
    std::vector<char> sink(1 << 18);
    uint64_t total = 0;
    for (auto _ : state) {
        uint64_t queued = 0, bytes_in = 0;
        const uint64_t want = uint64_t(batch) * msg.size();
        while (bytes_in < want) {
            while (queued < uint64_t(batch) && queued * msg.size() - bytes_in < 2048 * msg.size()) {
                StreamMsg* m = ch.tx_alloc(msg.size());
                if (m == nullptr) break;
                m->conn = conn;
                m->len = uint32_t(msg.size());
                std::memcpy(m->data, msg.data(), msg.size());
                ch.tx_send(m);
                queued++;
            }
            const size_t r = peer.read(sink.data(), sink.size());
            bytes_in += r;
            if (r == 0 && !peer.ssl) {
                pollfd p{peer.fd, POLLIN, 0};
                poll(&p, 1, 5);
            } else if (r == 0) {
                pollfd p{peer.fd, POLLIN, 0};
                if (SSL_pending(peer.ssl) == 0) poll(&p, 1, 5);
            }
        }
        total += uint64_t(batch);
    }
    state.counters["msgs/s"] = benchmark::Counter(double(total), benchmark::Counter::kIsRate);
    state.counters["msg_bytes"] = double(msg.size());
}

void BM_Pipeline(benchmark::State& state) {
    const bool tls = state.range(0) != 0;
    StreamTransport server(bench_config()), client(bench_config());
    if (tls) {
        set_server_profile(server);
        set_client_profile(client);
    }
    const Transport tr = tls ? Transport::tls : Transport::tcp;
    auto l = server.listen(ListenConfig{.addr = make_peer("127.0.0.1", 0), .transport = tr, .tls_profile = 1});
    if (!l.ok() || !server.start().ok() || !client.start().ok()) std::abort();
    const std::string msg = sip_msg(2);
    Channel& out = client.channel(0);
    Channel& in = server.channel(0);
    StreamMsg* got[256];
    uint64_t total = 0;
    for (auto _ : state) {
        int sent = 0, delivered = 0;
        while (delivered < batch) {
            while (sent < batch && sent - delivered < 2048) {
                StreamMsg* m = out.tx_alloc(msg.size());
                if (m == nullptr) break;
                m->peer = l.value();
                m->transport = tr;
                m->tls_profile = 1;
                m->len = uint32_t(msg.size());
                std::memcpy(m->data, msg.data(), msg.size());
                out.tx_send(m);
                sent++;
            }
            const size_t n = in.rx_burst(got, 256);
            for (size_t i = 0; i < n; i++) in.rx_free(got[i]);
            delivered += int(n);
            if (n == 0) in.rx_wait(5);
        }
        total += uint64_t(delivered);
    }
    state.counters["msgs/s"] = benchmark::Counter(double(total), benchmark::Counter::kIsRate);
    state.counters["msg_bytes"] = double(msg.size());
}

// ---- idle TLS connections ---------------------------------------------------------

long rss_kib() {
    long pages = 0, rss = 0;
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return 0;
    if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    std::fclose(f);
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

bool raise_nofile(rlim_t want) {
    rlimit r{};
    getrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_cur >= want) return true;
    r.rlim_cur = want <= r.rlim_max ? want : r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
    return r.rlim_cur >= want;
}

// The child: a TLS listener on 127.0.0.1:<port> (0: any); reports its port,
// then (after <n> accepts) its RSS growth, then waits for the parent to close
// the pipe.
[[noreturn]] void child_server(int to_parent, int from_parent, long n, uint16_t want_port = 0) {
    raise_nofile(rlim_t(n) + 64);
    const long before = rss_kib();
    {
        StreamConfig c = bench_config();
        c.channel.rx_pool = {.small_count = 64, .large_count = 1};
        c.channel.tx_pool = {.small_count = 64, .large_count = 1};
        c.knobs.connect_timeout_ms = 30000;
        StreamTransport server(c);
        set_server_profile(server);
        auto l = server.listen(ListenConfig{.addr = make_peer("127.0.0.1", want_port), .transport = Transport::tls,
                                            .tls_profile = 1, .backlog = 4096});
        if (!l.ok() || !server.start().ok()) _exit(2);
        const long base = rss_kib();
        const uint16_t port = l.value().port;
        if (write(to_parent, &port, sizeof port) != sizeof port) _exit(3);
        StreamEvent ev;
        while (server.stats().conns_accepted < uint64_t(n)) {
            while (server.poll_event(ev)) {
            }
            pollfd p{from_parent, POLLIN, 0};
            if (poll(&p, 1, 20) == 1) break;  // the parent gave up
        }
        const long grown = rss_kib() - base;
        if (write(to_parent, &grown, sizeof grown) != sizeof grown) _exit(4);
        char b;
        while (read(from_parent, &b, 1) > 0) {
        }
    }
    (void)before;
    _exit(0);
}

void BM_IdleTlsMemory(benchmark::State& state) {
    const long n = long(state.range(0));
    if (!raise_nofile(rlim_t(n) + 64)) {
        state.SkipWithError("RLIMIT_NOFILE too low for this many connections");
        return;
    }
    // Certificates are made before the fork so that the child shares them.
    (void)server_leaf();
    int up[2], down[2];
    if (pipe(up) != 0 || pipe(down) != 0) std::abort();
    const pid_t child = fork();
    if (child == 0) {
        close(up[0]);
        close(down[1]);
        child_server(up[1], down[0], n);
    }
    close(up[1]);
    close(down[0]);
    uint16_t port = 0;
    if (read(up[0], &port, sizeof port) != sizeof port) std::abort();

    for (auto _ : state) {
        StreamConfig c = bench_config();
        c.channel.rx_pool = {.small_count = 64, .large_count = 1};
        c.channel.tx_pool = {.small_count = 4096, .large_count = 1};
        c.knobs.connect_timeout_ms = 30000;
        StreamTransport client(c);
        set_client_profile(client);
        if (!client.start().ok()) std::abort();
        const long base = rss_kib();
        // Open in waves of 256 so that the listener's backlog never overflows.
        long asked = 0;
        StreamEvent ev;
        const auto t0 = std::chrono::steady_clock::now();
        for (;;) {
            const StreamStats s = client.stats();
            const long done = long(s.conns_opened + s.connect_refused + s.connect_timeout + s.connect_failed +
                                   s.tls_handshake_failed + s.tls_verify_failed);
            if (done >= n) break;
            while (asked < n && asked - done < 256) {
                StreamMsg* m = client.channel(0).tx_alloc(0);
                if (m == nullptr) break;
                m->peer = make_peer("127.0.0.1", port);
                m->transport = Transport::tls;
                m->tls_profile = 1;
                m->identity = uint32_t(asked);  // one connection per local identity
                m->len = 0;                     // open only
                client.channel(0).tx_send(m);
                asked++;
            }
            while (client.poll_event(ev)) {
            }
            client.wait_event(ev, 5);
        }
        const double setup_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        long server_kib = 0;
        if (read(up[0], &server_kib, sizeof server_kib) != sizeof server_kib) server_kib = -1;
        const long client_kib = rss_kib() - base;
        const StreamStats s = client.stats();
        state.counters["conns"] = double(s.conns_opened);
        state.counters["failed"] = double(n - long(s.conns_opened));
        state.counters["client_B/conn"] = double(client_kib) * 1024.0 / double(s.conns_opened ? s.conns_opened : 1);
        state.counters["server_B/conn"] = double(server_kib) * 1024.0 / double(s.conns_opened ? s.conns_opened : 1);
        state.counters["handshakes/s"] = double(s.conns_opened) / setup_s;
        client.stop();
    }
    close(down[1]);
    close(up[0]);
    waitpid(child, nullptr, 0);
}

// A carrier restart: <n> TLS connections from one stream thread (one per
// local identity) to a server process, which is then killed (every
// connection sees RST/EOF: connection_closed, not a failover trigger) and
// started again on the same port; then one message per identity at once —
// the storm: every connection is opened again, the stream thread doing
// <n> connects and handshakes while the server's backlog and CPU allow.
// A restarted server has new session-ticket keys, so these are full
// handshakes (the client offers its cached sessions; `resumed` counts
// those the server took). Reported: time from the first message to the last
// connection up, reconnects/s, failures.
pid_t fork_server(int (&up)[2], int (&down)[2], long n, uint16_t port) {
    if (pipe(up) != 0 || pipe(down) != 0) std::abort();
    const pid_t child = fork();
    if (child == 0) {
        close(up[0]);
        close(down[1]);
        child_server(up[1], down[0], n, port);
    }
    close(up[1]);
    close(down[0]);
    return child;
}

void BM_ReconnectStorm(benchmark::State& state) {
    const long n = long(state.range(0));
    if (!raise_nofile(rlim_t(n) + 64)) {
        state.SkipWithError("RLIMIT_NOFILE too low for this many connections");
        return;
    }
    (void)server_leaf();
    for (auto _ : state) {
        int up[2], down[2];
        pid_t child = fork_server(up, down, n, 0);
        uint16_t port = 0;
        if (read(up[0], &port, sizeof port) != sizeof port) std::abort();
        StreamConfig c = bench_config();
        c.channel.rx_pool = {.small_count = 64, .large_count = 1};
        c.channel.tx_pool = {.small_count = 4096, .large_count = 1};
        c.knobs.connect_timeout_ms = 30000;
        StreamTransport client(c);
        set_client_profile(client);
        if (!client.start().ok()) std::abort();
        StreamEvent ev;
        auto settled = [&](uint64_t want, double limit_s, auto done_of) {
            const auto t0 = std::chrono::steady_clock::now();
            while (done_of(client.stats()) < want &&
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < limit_s) {
                while (client.poll_event(ev)) {
                }
                client.wait_event(ev, 5);
            }
        };
        auto finished = [](const StreamStats& s) {
            return s.conns_opened + s.connect_refused + s.connect_timeout + s.connect_failed + s.tls_handshake_failed +
                   s.tls_verify_failed;
        };
        auto open_all = [&](bool paced) {
            long asked = 0;
            const uint64_t base = finished(client.stats());
            while (asked < n) {
                const uint64_t done = finished(client.stats()) - base;
                while (asked < n && (!paced || asked - long(done) < 256)) {
                    StreamMsg* m = client.channel(0).tx_alloc(0);
                    if (m == nullptr) break;
                    m->peer = make_peer("127.0.0.1", port);
                    m->transport = Transport::tls;
                    m->tls_profile = 1;
                    m->identity = uint32_t(asked);
                    m->len = 0;
                    client.channel(0).tx_send(m);
                    asked++;
                }
                while (client.poll_event(ev)) {
                }
                client.wait_event(ev, 2);
            }
            settled(base + uint64_t(n), 120, finished);
        };
        open_all(true);  // the first connections, paced (not measured)
        long ignored = 0;
        if (read(up[0], &ignored, sizeof ignored) != sizeof ignored) ignored = -1;
        const uint64_t opened_first = client.stats().conns_opened;
        kill(child, SIGKILL);
        close(down[1]);
        close(up[0]);
        waitpid(child, nullptr, 0);
        settled(opened_first, 30, [](const StreamStats& s) { return s.conns_closed; });
        const uint64_t closed = client.stats().conns_closed;
        child = fork_server(up, down, n, port);
        if (read(up[0], &port, sizeof port) != sizeof port) std::abort();
        const StreamStats before = client.stats();
        const auto t0 = std::chrono::steady_clock::now();
        open_all(false);  // the storm: every identity at once
        const double storm_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const StreamStats after = client.stats();
        const double again = double(after.conns_opened - before.conns_opened);
        state.counters["first_conns"] = double(opened_first);
        state.counters["closed_by_restart"] = double(closed);
        state.counters["reconnected"] = again;
        state.counters["failed"] = double(finished(after) - finished(before)) - again;
        state.counters["resumed"] = double(after.tls_resumed - before.tls_resumed);
        state.counters["storm_s"] = storm_s;
        state.counters["reconnects/s"] = again / storm_s;
        client.stop();
        close(down[1]);  // the child stops waiting for accepts, reports, and exits
        if (read(up[0], &ignored, sizeof ignored) != sizeof ignored) ignored = -1;
        close(up[0]);
        waitpid(child, nullptr, 0);
    }
}

BENCHMARK(BM_Inbound)->ArgName("tls")->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Outbound)->ArgName("tls")->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Pipeline)->ArgName("tls")->Arg(0)->Arg(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IdleTlsMemory)->ArgName("conns")->Arg(2000)->Arg(10000)->Iterations(1)->UseRealTime()
    ->Unit(benchmark::kSecond);
BENCHMARK(BM_ReconnectStorm)->ArgName("conns")->Arg(1000)->Arg(5000)->Iterations(1)->UseRealTime()
    ->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
