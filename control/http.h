#pragma once
// A minimal HTTP/1.1 listener for Prometheus scrapes, run on the control
// thread. It owns one epoll fd (fd()) that holds its listening socket, its
// clients and an idle timer; the control loop watches that one fd and calls
// on_ready(), so the listener can be rebound or closed without touching the
// loop. Everything is non-blocking.
//
//   GET|HEAD /metrics[?...]  200, Content-Type: text/plain; version=0.0.4
//   other methods on /metrics 405 (Allow: GET, HEAD)
//   any other path            404
//   malformed request line, HTTP version other than 1.0/1.1, a body   400, closed
//   request head over max_request bytes                                431, closed
//   more than max_clients connections                                  503, closed
//
// Keep-alive (HTTP/1.1 default, "Connection: close" honoured, HTTP/1.0
// closes); requests on one connection are answered in order; a connection
// idle for idle_ms is closed; a client not reading its responses is not read
// further once max_pending bytes wait.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "base/result.h"

namespace sipedge::ctl {

struct HttpOptions {
    size_t max_request = 8192;        // bytes of request line + headers
    size_t max_clients = 64;
    uint32_t idle_ms = 10000;
    size_t max_pending = 8u << 20;    // response bytes waiting for a slow reader
};

/// "<ipv4>:<port>" or "[<ipv6>]:<port>" → (ip, port). Port 1-65535 unless
/// <allow_zero>; <default_port> is used when the ":port" part is absent and
/// non-zero (otherwise the port is required).
Result<std::pair<std::string, uint16_t>> parse_ip_port(const std::string& s, uint16_t default_port = 0,
                                                       bool allow_zero = false);

class HttpServer {
public:
    /// The body of GET /metrics.
    using Render = std::function<std::string()>;

    static Result<std::unique_ptr<HttpServer>> create(HttpOptions opt, Render render);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Binds and listens on <ip>:<port> (port 0: any free port), then closes
    /// the previous listener (its connections stay until they end). On error
    /// nothing changes; the message names the address and errno.
    Status listen(const std::string& ip, uint16_t port);
    /// Stops listening and closes every connection.
    void close_listener();
    bool listening() const noexcept { return lfd_ >= 0; }
    /// The bound port (useful after listen(ip, 0)); 0 when not listening.
    uint16_t port() const noexcept { return port_; }

    /// Readable when a connection, a request or the idle timer is ready.
    int fd() const noexcept { return epfd_; }
    /// Serves what is ready; never blocks.
    void on_ready();
    /// Waits up to <timeout_ms> for fd() and serves (tests, standalone use).
    void poll_once(int timeout_ms);

    size_t client_count() const noexcept { return clients_.size(); }
    uint64_t requests() const noexcept { return requests_; }  // answered 200
    uint64_t rejected() const noexcept { return rejected_; }  // answered 4xx/5xx

private:
    struct Client {
        int fd = -1;
        std::string in, out;
        uint64_t last_ms = 0;
        bool close_after = false;  // close once `out` is written
        bool want_out = false;     // EPOLLOUT registered
    };

    HttpServer(HttpOptions opt, Render r) : opt_(opt), render_(std::move(r)) {}
    void accept_all();
    void on_client(Client& c, uint32_t events);
    void serve(Client& c);
    void respond(Client& c, int code, const char* reason, const std::string& body, bool head,
                 const char* extra = "");
    void flush(Client& c);
    void update_events(Client& c);
    void close_client(int fd);
    void expire_idle();

    HttpOptions opt_;
    Render render_;
    int epfd_ = -1;
    int tfd_ = -1;
    int lfd_ = -1;
    uint16_t port_ = 0;
    std::map<int, std::unique_ptr<Client>> clients_;
    uint64_t requests_ = 0, rejected_ = 0;
};

}  // namespace sipedge::ctl
