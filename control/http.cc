#include "control/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <string_view>
#include <vector>

#include "control/number.h"

namespace sipedge::ctl {

namespace {

Error sys_error(const std::string& what) { return err(errno, what + ": " + std::strerror(errno)); }

uint64_t now_ms() {
    return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now().time_since_epoch()).count());
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool tchar(char c) {  // RFC 9110 token characters
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

}  // namespace

Result<std::pair<std::string, uint16_t>> parse_ip_port(const std::string& s, uint16_t default_port,
                                                       bool allow_zero) {
    std::string ip, port;
    if (!s.empty() && s[0] == '[') {
        const size_t close = s.find(']');
        if (close == std::string::npos) return err(EINVAL, "'" + s + "': missing ']'");
        ip = s.substr(1, close - 1);
        if (close + 1 < s.size()) {
            if (s[close + 1] != ':') return err(EINVAL, "'" + s + "': expected ':' after ']'");
            port = s.substr(close + 2);
            if (port.empty()) return err(EINVAL, "'" + s + "': empty port");
        }
        in6_addr a6;
        if (inet_pton(AF_INET6, ip.c_str(), &a6) != 1) return err(EINVAL, "'" + ip + "' is not an IPv6 address");
    } else {
        const size_t colon = s.find(':');
        if (colon != s.rfind(':')) return err(EINVAL, "'" + s + "': an IPv6 address must be written [addr]:port");
        ip = s.substr(0, colon);
        if (colon != std::string::npos) {
            port = s.substr(colon + 1);
            if (port.empty()) return err(EINVAL, "'" + s + "': empty port");
        }
        in_addr a4;
        if (inet_pton(AF_INET, ip.c_str(), &a4) != 1) return err(EINVAL, "'" + ip + "' is not an IPv4 address");
    }
    uint32_t p = default_port;
    if (!port.empty()) {
        auto v = number_arg("port", port, allow_zero ? 0 : 1, 65535);  // control/number.h
        if (!v) return v.error();
        p = uint32_t(v.value());
    } else if (default_port == 0) {
        return err(EINVAL, "'" + s + "': a port is required (<ip>:<port>)");
    }
    return std::make_pair(ip, uint16_t(p));
}

Result<std::unique_ptr<HttpServer>> HttpServer::create(HttpOptions opt, Render render) {
    std::unique_ptr<HttpServer> s(new HttpServer(opt, std::move(render)));
    s->epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd_ < 0) return sys_error("metrics-http: epoll_create1");
    s->tfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (s->tfd_ < 0) return sys_error("metrics-http: timerfd_create");
    // The idle sweep: a quarter of idle_ms (at least 50 ms, at most 1 s).
    uint64_t step = std::min<uint64_t>(1000, std::max<uint64_t>(50, opt.idle_ms / 4));
    itimerspec its{};
    its.it_interval.tv_sec = time_t(step / 1000);
    its.it_interval.tv_nsec = long(step % 1000) * 1000000;
    its.it_value = its.it_interval;
    if (timerfd_settime(s->tfd_, 0, &its, nullptr) != 0) return sys_error("metrics-http: timerfd_settime");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = s->tfd_;
    if (epoll_ctl(s->epfd_, EPOLL_CTL_ADD, s->tfd_, &ev) != 0) return sys_error("metrics-http: epoll_ctl");
    return s;
}

HttpServer::~HttpServer() {
    close_listener();
    if (tfd_ >= 0) close(tfd_);
    if (epfd_ >= 0) close(epfd_);
}

Status HttpServer::listen(const std::string& ip, uint16_t port) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family = AF_INET;
    if (ip.find(':') != std::string::npos) {
        family = AF_INET6;
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        if (inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) != 1) return err(EINVAL, "'" + ip + "' is not an IP address");
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        if (inet_pton(AF_INET, ip.c_str(), &a->sin_addr) != 1) return err(EINVAL, "'" + ip + "' is not an IP address");
        len = sizeof *a;
    }
    const std::string where = "metrics-http " + (family == AF_INET6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
    const int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return sys_error(where + ": socket");
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 64) != 0) {
        Error e = sys_error(where + ": bind/listen");
        close(fd);
        return e;
    }
    sockaddr_storage got{};
    socklen_t gl = sizeof got;
    getsockname(fd, reinterpret_cast<sockaddr*>(&got), &gl);
    const uint16_t bound = family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&got)->sin6_port)
                                              : ntohs(reinterpret_cast<sockaddr_in*>(&got)->sin_port);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        Error e = sys_error(where + ": epoll_ctl");
        close(fd);
        return e;
    }
    if (lfd_ >= 0) close(lfd_);  // closing removes it from the epoll set
    lfd_ = fd;
    port_ = bound;
    return Ok{};
}

void HttpServer::close_listener() {
    if (lfd_ >= 0) close(lfd_);
    lfd_ = -1;
    port_ = 0;
    while (!clients_.empty()) close_client(clients_.begin()->first);
}

void HttpServer::poll_once(int timeout_ms) {
    pollfd p{epfd_, POLLIN, 0};  // an epoll fd is readable when any member is ready
    if (poll(&p, 1, timeout_ms) > 0) on_ready();
}

void HttpServer::on_ready() {
    epoll_event evs[64];
    // Bounded: at most 8 rounds per call, then back to the caller's loop.
    for (int round = 0; round < 8; round++) {
        const int n = epoll_wait(epfd_, evs, 64, 0);
        if (n <= 0) return;
        for (int i = 0; i < n; i++) {
            const int fd = evs[i].data.fd;
            if (fd == tfd_) {
                uint64_t x;
                while (read(tfd_, &x, sizeof x) == ssize_t(sizeof x)) {}
                expire_idle();
            } else if (fd == lfd_) {
                accept_all();
            } else {
                auto it = clients_.find(fd);
                if (it != clients_.end()) on_client(*it->second, evs[i].events);
            }
        }
    }
}

void HttpServer::accept_all() {
    for (int k = 0; k < 256; k++) {
        const int fd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        if (clients_.size() >= opt_.max_clients) {
            static const char busy[] =
                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            (void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            rejected_++;
            continue;
        }
        auto c = std::make_unique<Client>();
        c->fd = fd;
        c->last_ms = now_ms();
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = fd;
        if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            continue;
        }
        clients_[fd] = std::move(c);
    }
}

void HttpServer::on_client(Client& c, uint32_t events) {
    const int fd = c.fd;
    if (events & (EPOLLERR | EPOLLHUP)) return close_client(fd);
    if (events & EPOLLOUT) {
        flush(c);
        if (!clients_.count(fd)) return;
    }
    if ((events & (EPOLLIN | EPOLLRDHUP)) && !c.close_after && c.out.size() < opt_.max_pending) {
        char buf[4096];
        bool eof = false;
        for (int k = 0; k < 16; k++) {
            const ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                c.in.append(buf, size_t(n));
                c.last_ms = now_ms();
                if (c.in.size() > opt_.max_request + sizeof buf) break;  // serve() answers 431
                continue;
            }
            if (n == 0) eof = true;
            else if (errno == EINTR) continue;
            else if (errno != EAGAIN && errno != EWOULDBLOCK) return close_client(fd);
            break;
        }
        serve(c);
        if (!clients_.count(fd)) return;
        if (eof) {
            c.close_after = true;
            if (c.out.empty()) return close_client(fd);
        }
    }
    flush(c);
}

// Answers every complete request head in c.in, in order.
void HttpServer::serve(Client& c) {
    while (!c.close_after) {
        size_t end = c.in.find("\r\n\r\n");
        size_t skip = 4;
        const size_t lf = c.in.find("\n\n");
        if (lf != std::string::npos && (end == std::string::npos || lf < end)) {
            end = lf;
            skip = 2;
        }
        if (end == std::string::npos) {
            if (c.in.size() > opt_.max_request)
                respond(c, 431, "Request Header Fields Too Large", "request too large\n", false);
            return;
        }
        if (end + skip > opt_.max_request)
            return respond(c, 431, "Request Header Fields Too Large", "request too large\n", false);
        const std::string head = c.in.substr(0, end);
        c.in.erase(0, end + skip);

        // Request line: method SP target SP HTTP/1.x
        const size_t eol = head.find('\n');
        const std::string_view line = trim(std::string_view(head).substr(0, eol));
        const size_t sp1 = line.find(' ');
        const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
        if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
            return respond(c, 400, "Bad Request", "malformed request line\n", false);
        const std::string_view method = line.substr(0, sp1);
        const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        const std::string_view version = line.substr(sp2 + 1);
        bool ok = !method.empty() && !target.empty() && target[0] == '/';
        for (const char ch : method) ok = ok && tchar(ch);
        for (const char ch : target) ok = ok && ch > 0x20 && ch < 0x7f;
        if (!ok || (version != "HTTP/1.1" && version != "HTTP/1.0"))
            return respond(c, 400, "Bad Request", "malformed request line\n", false);
        bool close_conn = version == "HTTP/1.0";

        // Headers: Connection, and no body (Content-Length > 0 / Transfer-Encoding).
        std::string_view rest = eol == std::string::npos ? std::string_view() : std::string_view(head).substr(eol + 1);
        while (!rest.empty()) {
            const size_t nl = rest.find('\n');
            std::string_view h = rest.substr(0, nl);
            rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
            if (!h.empty() && h.back() == '\r') h.remove_suffix(1);
            const size_t colon = h.find(':');
            if (colon == std::string_view::npos || colon == 0)
                return respond(c, 400, "Bad Request", "malformed header\n", false);
            const std::string_view name = h.substr(0, colon);
            for (const char ch : name)
                if (!tchar(ch)) return respond(c, 400, "Bad Request", "malformed header\n", false);
            const std::string_view value = trim(h.substr(colon + 1));
            if (iequals(name, "connection")) {
                if (iequals(value, "close")) close_conn = true;
                else if (iequals(value, "keep-alive")) close_conn = false;
            } else if (iequals(name, "transfer-encoding") ||
                       (iequals(name, "content-length") && value != "0")) {
                return respond(c, 400, "Bad Request", "request bodies are not accepted\n", false);
            }
        }

        const std::string_view path = target.substr(0, target.find('?'));
        const bool head_only = method == "HEAD";
        if (path != "/metrics") {
            respond(c, 404, "Not Found", "not found; try /metrics\n", head_only);
        } else if (method != "GET" && !head_only) {
            respond(c, 405, "Method Not Allowed", "only GET and HEAD\n", false, "Allow: GET, HEAD\r\n");
        } else {
            std::string text;
            try {  // the control loop runs this outside the command boundary: no std exception escapes
                if (render_) text = render_();
            } catch (const std::exception&) {
                respond(c, 500, "Internal Server Error", "metrics unavailable\n", head_only);
                continue;
            }
            respond(c, 200, "OK", text, head_only);
        }
        if (close_conn) c.close_after = true;
    }
}

void HttpServer::respond(Client& c, int code, const char* reason, const std::string& body, bool head,
                         const char* extra) {
    if (code == 200) requests_++;
    else rejected_++;
    const bool fatal = code == 400 || code == 431;
    if (fatal) {
        c.close_after = true;
        c.in.clear();
    }
    std::string r = "HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\n";
    r += code == 200 ? "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                     : "Content-Type: text/plain; charset=utf-8\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    r += extra;
    if (fatal) r += "Connection: close\r\n";
    r += "\r\n";
    c.out += r;
    if (!head) c.out += body;
}

void HttpServer::flush(Client& c) {
    const int fd = c.fd;
    while (!c.out.empty()) {
        const ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n > 0) {
            c.out.erase(0, size_t(n));
            c.last_ms = now_ms();
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        return close_client(fd);
    }
    if (c.out.empty() && c.close_after) {
        shutdown(fd, SHUT_WR);
        return close_client(fd);
    }
    update_events(c);
}

void HttpServer::update_events(Client& c) {
    const bool want = !c.out.empty();
    if (want == c.want_out) return;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want ? uint32_t(EPOLLOUT) : 0u);
    ev.data.fd = c.fd;
    if (epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev) == 0) c.want_out = want;
}

void HttpServer::close_client(int fd) {
    auto it = clients_.find(fd);
    if (it == clients_.end()) return;
    close(fd);
    clients_.erase(it);
}

void HttpServer::expire_idle() {
    const uint64_t now = now_ms();
    std::vector<int> idle;
    for (const auto& [fd, c] : clients_)
        if (now - c->last_ms >= opt_.idle_ms) idle.push_back(fd);
    for (const int fd : idle) close_client(fd);
}

}  // namespace sipedge::ctl
