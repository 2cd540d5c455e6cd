// The HTTP /metrics listener over real TCP sockets on 127.0.0.1: GET
// /metrics, HEAD, 404, 405, 400, oversize request (431), keep-alive,
// connection limit (503), idle close, rebinding; and a scrape of the
// Controller's metrics through `set global metrics-http`.

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "control/http.h"
#include "control/metrics.h"
#include "ctl_util.h"

namespace sipedge::ctl {
namespace {

int connect_to(uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Serves <srv> while reading from <fd> until <done>(received) or EOF or ~2 s.
template <class Done>
std::string pump(HttpServer& srv, int fd, Done done, bool* eof = nullptr) {
    std::string got;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < end && !done(got)) {
        srv.poll_once(10);
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 10) <= 0) continue;
        char buf[65536];
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            if (eof) *eof = true;
            break;
        }
        got.append(buf, size_t(n));
    }
    return got;
}

// One complete response (head + Content-Length body) at the start of <s>.
bool complete(const std::string& s, size_t count = 1) {
    size_t pos = 0;
    for (size_t i = 0; i < count; i++) {
        const size_t h = s.find("\r\n\r\n", pos);
        if (h == std::string::npos) return false;
        const size_t cl = s.find("Content-Length: ", pos);
        if (cl == std::string::npos || cl > h) return false;
        const size_t len = std::stoul(s.substr(cl + 16));
        if (s.size() < h + 4 + len) return false;
        pos = h + 4 + len;
    }
    return true;
}

std::string exchange(HttpServer& srv, const std::string& req, bool* eof = nullptr) {
    const int fd = connect_to(srv.port());
    EXPECT_GE(fd, 0);
    EXPECT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), ssize_t(req.size()));
    std::string r = pump(srv, fd, [](const std::string& s) { return complete(s); });
    if (eof) {
        // Let the server finish and see whether it closes.
        pump(srv, fd, [](const std::string&) { return false; }, eof);
    }
    close(fd);
    return r;
}

const char body[] = "# HELP x X.\n# TYPE x gauge\nx 1\n";

struct Http : ::testing::Test {
    std::unique_ptr<HttpServer> srv;
    void SetUp() override {
        HttpOptions o;
        o.max_request = 1024;
        o.max_clients = 4;
        o.idle_ms = 300;
        auto s = HttpServer::create(o, [] { return std::string(body); });
        ASSERT_TRUE(s) << s.error().message;
        srv = std::move(s.value());
        ASSERT_TRUE(srv->listen("127.0.0.1", 0));
        ASSERT_NE(srv->port(), 0);
    }
};

TEST_F(Http, GetMetrics) {
    const std::string r = exchange(*srv, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
    EXPECT_NE(r.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("\r\nContent-Length: " + std::to_string(sizeof body - 1) + "\r\n"), std::string::npos);
    EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), body);
    EXPECT_EQ(srv->requests(), 1u);
    // A query string is ignored; bare LF line ends are accepted.
    EXPECT_EQ(exchange(*srv, "GET /metrics?name[]=x HTTP/1.0\n\n").rfind("HTTP/1.1 200 OK", 0), 0u);
}

TEST_F(Http, HeadHasNoBody) {
    const int fd = connect_to(srv->port());
    const std::string req = "HEAD /metrics HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n";
    send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    const std::string r = pump(*srv, fd, [](const std::string& s) { return s.find("404") != std::string::npos && complete(s.substr(s.find("HTTP/1.1 404"))); });
    close(fd);
    EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
    // The 404 follows the HEAD head directly: no body was sent for HEAD.
    EXPECT_NE(r.find("\r\n\r\nHTTP/1.1 404 Not Found\r\n"), std::string::npos) << r;
}

TEST_F(Http, NotFoundAndMethodNotAllowed) {
    EXPECT_EQ(exchange(*srv, "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
    EXPECT_EQ(exchange(*srv, "GET /metricsx HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
    const std::string r = exchange(*srv, "DELETE /metrics HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << r;
    EXPECT_NE(r.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
    EXPECT_EQ(srv->requests(), 0u);
    EXPECT_EQ(srv->rejected(), 3u);
}

TEST_F(Http, BadRequestsCloseTheConnection) {
    for (const char* req : {"GARBAGE\r\n\r\n", "GET /metrics\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n",
                            "GET metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.1 extra\r\n\r\n",
                            "G(T /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
                            "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
                            "GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
        bool eof = false;
        const std::string r = exchange(*srv, req, &eof);
        EXPECT_EQ(r.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << req << " -> " << r;
        EXPECT_NE(r.find("Connection: close"), std::string::npos);
        EXPECT_TRUE(eof) << req;
    }
}

TEST_F(Http, OversizeRequest) {
    // A head that never ends, longer than max_request (1024).
    bool eof = false;
    std::string req = "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(3000, 'a');
    std::string r = exchange(*srv, req, &eof);
    EXPECT_EQ(r.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u) << r;
    EXPECT_TRUE(eof);
    // A complete head that is too long is refused the same way.
    eof = false;
    r = exchange(*srv, "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(1100, 'b') + "\r\n\r\n", &eof);
    EXPECT_EQ(r.rfind("HTTP/1.1 431", 0), 0u) << r;
    EXPECT_TRUE(eof);
    EXPECT_EQ(srv->client_count(), 0u);
}

TEST_F(Http, KeepAliveAndConnectionClose) {
    const int fd = connect_to(srv->port());
    const std::string req = "GET /metrics HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n";
    send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    bool eof = false;
    const std::string r = pump(*srv, fd, [](const std::string&) { return false; }, &eof);
    close(fd);
    EXPECT_TRUE(eof);
    EXPECT_TRUE(complete(r, 2)) << r;
    EXPECT_EQ(srv->requests(), 2u);
}

TEST_F(Http, ConnectionLimitAndIdleClose) {
    int fds[4];
    for (int& fd : fds) {
        fd = connect_to(srv->port());
        ASSERT_GE(fd, 0);
    }
    for (int i = 0; i < 20 && srv->client_count() < 4; i++) srv->poll_once(10);
    EXPECT_EQ(srv->client_count(), 4u);
    // The fifth gets 503 and is closed.
    const std::string r = exchange(*srv, "GET /metrics HTTP/1.1\r\n\r\n");
    EXPECT_EQ(r.rfind("HTTP/1.1 503", 0), 0u) << r;
    // Idle connections (300 ms) are closed by the server.
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (srv->client_count() > 0 && std::chrono::steady_clock::now() < end) srv->poll_once(50);
    EXPECT_EQ(srv->client_count(), 0u);
    char c;
    EXPECT_EQ(recv(fds[0], &c, 1, 0), 0);  // EOF
    for (int fd : fds) close(fd);
}

TEST_F(Http, RebindAndClose) {
    const uint16_t old = srv->port();
    ASSERT_TRUE(srv->listen("127.0.0.1", 0));
    EXPECT_NE(srv->port(), old);
    EXPECT_LT(connect_to(old), 0);  // the old port is closed
    EXPECT_EQ(exchange(*srv, "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
    // A failing bind keeps the current listener.
    auto bad = srv->listen("192.0.2.1", 9100);
    EXPECT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("192.0.2.1:9100"), std::string::npos);
    EXPECT_EQ(exchange(*srv, "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
    srv->close_listener();
    EXPECT_FALSE(srv->listening());
}

TEST(ParseIpPort, Forms) {
    auto a = parse_ip_port("127.0.0.1:9100");
    ASSERT_TRUE(a);
    EXPECT_EQ(a.value().first, "127.0.0.1");
    EXPECT_EQ(a.value().second, 9100);
    auto b = parse_ip_port("[::1]:80");
    ASSERT_TRUE(b);
    EXPECT_EQ(b.value().first, "::1");
    auto c = parse_ip_port("10.0.0.1", 162);
    ASSERT_TRUE(c);
    EXPECT_EQ(c.value().second, 162);
    EXPECT_FALSE(parse_ip_port("10.0.0.1"));
    EXPECT_FALSE(parse_ip_port("10.0.0.1:"));
    EXPECT_FALSE(parse_ip_port("[::1]x"));
    EXPECT_FALSE(parse_ip_port("300.0.0.1:1"));
    EXPECT_TRUE(parse_ip_port("127.0.0.1:0", 0, true));
}

// The whole path: command → Ops → HTTP listener → scrape of the Controller's metrics.
TEST(HttpScrape, ControllerMetricsOverHttp) {
    failover::Millis now = 1000;
    Controller ctl{test::manual_clock(&now)};
    Ops ops(ctl);
    ops.set_stats_source([](std::vector<CoreCounters>& v) {
        CoreCounters c;
        c.lcore = 1;
        c.stats.rx_packets = 42;
        v.push_back(c);
    });
    ASSERT_EQ(test::status_of(ctl.execute_json("add trunk acme")), 0);
    // Find a free port, then give it to the command.
    const int probe = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
    const uint16_t port = ntohs(a.sin_port);
    close(probe);
    const Json r = ctl.execute_json("set global metrics-http 127.0.0.1:" + std::to_string(port));
    ASSERT_EQ(test::status_of(r), 0) << test::error_of(r);
    ASSERT_NE(ops.http(), nullptr);
    EXPECT_EQ(ops.http()->port(), port);
    const std::string resp = exchange(*ops.http(), "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    EXPECT_EQ(resp.rfind("HTTP/1.1 200 OK", 0), 0u) << resp;
    EXPECT_NE(resp.find("\nsipedge_trunks 1\n"), std::string::npos) << resp;
    EXPECT_NE(resp.find("\nsipedge_trunk_running{trunk=\"acme\"} 0\n"), std::string::npos);
    EXPECT_NE(resp.find("\nsipedge_worker_packets_total{core=\"1\",direction=\"rx\"} 42\n"), std::string::npos);
    // unset closes the listener.
    ASSERT_EQ(test::status_of(ctl.execute_json("unset global metrics-http")), 0);
    EXPECT_FALSE(ops.http()->listening());
    EXPECT_LT(connect_to(port), 0);
}

}  // namespace
}  // namespace sipedge::ctl

namespace sipedge::ctl {
namespace {

TEST(HttpV6, ServesOnLoopbackV6) {
    auto s = HttpServer::create(HttpOptions{}, [] { return std::string("x 1\n"); });
    ASSERT_TRUE(s);
    HttpServer& srv = *s.value();
    if (!srv.listen("::1", 0)) GTEST_SKIP() << "no IPv6 loopback";
    const int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(srv.port());
    a.sin6_addr = in6addr_loopback;
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string req = "GET /metrics HTTP/1.1\r\n\r\n";
    send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    const std::string r = pump(srv, fd, [](const std::string& x) { return complete(x); });
    close(fd);
    EXPECT_EQ(r.rfind("HTTP/1.1 200 OK", 0), 0u) << r;
    EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "x 1\n");
}

}  // namespace
}  // namespace sipedge::ctl
