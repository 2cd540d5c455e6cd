#pragma once
// Helpers of the stream integration tests: SIP test messages, sending through
// a channel, waiting (with a bound, never a fixed sleep) for a message or an
// event, and raw loopback sockets to play peers that misbehave.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "stream/transport.h"

namespace sipedge::stream::testing {

/// An OPTIONS request of about <body> body bytes, tagged <tag> in its Call-ID.
inline std::string sip_msg(const std::string& tag, size_t body = 0) {
    std::string b(body, 'x');
    return "OPTIONS sip:carrier.example SIP/2.0\r\n"
           "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK" + tag + "\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:edge@127.0.0.1>;tag=a" + tag + "\r\n"
           "To: <sip:carrier.example>\r\n"
           "Call-ID: " + tag + "@edge\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Content-Length: " + std::to_string(body) + "\r\n\r\n" + b;
}

struct Dest {
    PeerAddr peer;
    Transport transport = Transport::tcp;
    uint16_t profile = 0;
    uint32_t identity = 0;
    RouteTag route{};
};

/// Sends <text> on connection <conn>, or to <d> when conn is 0.
inline void send(StreamTransport& t, const std::string& text, const Dest& d, ConnId conn = no_conn,
                 uint32_t ch = 0) {
    StreamMsg* m = t.channel(ch).tx_alloc(text.size());
    ASSERT_NE(m, nullptr);
    m->conn = conn;
    m->peer = d.peer;
    m->transport = d.transport;
    m->tls_profile = d.profile;
    m->identity = d.identity;
    m->route = d.route;
    m->len = uint32_t(text.size());
    std::memcpy(m->data, text.data(), text.size());
    t.channel(ch).tx_send(m);
}

struct Received {
    std::string text;
    StreamMsg hdr;  // data/cap are stale once freed
};

/// The next message on channel <ch> within <ms>, or nullopt.
inline std::optional<Received> recv(StreamTransport& t, int ms = 3000, uint32_t ch = 0) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
        StreamMsg* m = nullptr;
        if (t.channel(ch).rx_burst(&m, 1) == 1) {
            Received r{std::string(m->data, m->len), *m};
            t.channel(ch).rx_free(m);
            return r;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              until - std::chrono::steady_clock::now()).count();
        if (left <= 0) return std::nullopt;
        t.channel(ch).rx_wait(int(left));
    }
}

/// Waits up to <ms> for an event of kind <k>; events of other kinds seen on
/// the way are appended to <others> when given.
inline std::optional<StreamEvent> wait_kind(StreamTransport& t, StreamEventKind k, int ms = 3000,
                                            std::vector<StreamEvent>* others = nullptr) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              until - std::chrono::steady_clock::now()).count();
        StreamEvent ev;
        if (!t.wait_event(ev, int(left > 0 ? left : 0))) return std::nullopt;
        if (ev.kind == k) return ev;
        if (others) others->push_back(ev);
    }
}

/// Every event queued now (no wait).
inline std::vector<StreamEvent> drain_events(StreamTransport& t) {
    std::vector<StreamEvent> v;
    StreamEvent ev;
    while (t.poll_event(ev)) v.push_back(ev);
    return v;
}

inline PeerAddr loopback(uint16_t port) { return make_peer("127.0.0.1", port); }

// ---- raw sockets (the misbehaving peers) ---------------------------------------------

/// A TCP socket on 127.0.0.1 with a kernel-chosen port, listening when
/// <listen_too> (its backlog completes handshakes even if nobody accepts),
/// merely bound otherwise (a SYN to it is answered with RST: connect refused).
struct RawSocket {
    int fd = -1;
    uint16_t port = 0;
    explicit RawSocket(bool listen_too) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
        if (listen_too) ::listen(fd, 16);
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~RawSocket() {
        if (fd >= 0) close(fd);
    }
    /// Accepts one connection within <ms>; -1 on timeout.
    int accept_one(int ms = 3000) const {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, ms) != 1) return -1;
        return accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    }
};

/// A blocking client connection to 127.0.0.1:<port> (TCP_NODELAY), -1 on failure.
inline int raw_connect(uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
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

inline bool write_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += size_t(n);
    }
    return true;
}

/// Reads until <want> bytes arrived, EOF, or <ms> passed. <eof> set on EOF/reset.
inline std::string read_some(int fd, size_t want, int ms, bool* eof = nullptr) {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (out.size() < want) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              until - std::chrono::steady_clock::now()).count();
        if (left <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, int(left)) != 1) break;
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            if (eof) *eof = true;
            break;
        }
        out.append(buf, size_t(n));
    }
    return out;
}

inline uint64_t ms_since(std::chrono::steady_clock::time_point t0) {
    return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
                        .count());
}

}  // namespace sipedge::stream::testing
