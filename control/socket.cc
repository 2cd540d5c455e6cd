#include "control/socket.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "control/number.h"

namespace sipedge::ctl {

namespace {

// epoll user data: listen socket, watched fds and clients are told apart by fd.
Error sys_error(const std::string& what) { return err(errno, what + ": " + std::strerror(errno)); }

bool fill_addr(const std::string& path, sockaddr_un& a) {
    std::memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof a.sun_path) return false;
    std::memcpy(a.sun_path, path.data(), path.size());
    return true;
}

// Whether something accepts connections at <path> (a live control socket).
bool socket_is_live(const std::string& path) {
    sockaddr_un a;
    if (!fill_addr(path, a)) return false;
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const bool live = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return live;
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// One error line for a connection we will not serve; never waits (the
// socket is new, its buffer empty).
void refuse(int fd, const std::string& why) {
    const std::string line = "{\"status\":16,\"error\":\"" + why + "\"}\n";  // ASCII, no quotes in <why>
    (void)!send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}

Result<gid_t> lookup_group(const std::string& name) {
    if (name.empty()) return getegid();
    std::vector<char> buf(16384);
    group g{};
    group* res = nullptr;
    const int rc = getgrnam_r(name.c_str(), &g, buf.data(), buf.size(), &res);
    if (rc != 0 || !res) {
        // A numeric group id is accepted too.
        uint64_t v = 0;
        if (parse_number(name, 0, UINT32_MAX - 1, v) == NumStatus::ok) return gid_t(v);  // control/number.h
        return err(ENOENT, "socket group '" + name + "' does not exist");
    }
    return res->gr_gid;
}

}  // namespace

Result<std::unique_ptr<SocketServer>> SocketServer::open(const SocketOptions& opt, Handler handler) {
    sockaddr_un addr;
    if (!fill_addr(opt.path, addr)) return err(ENAMETOOLONG, "socket path '" + opt.path + "' is empty or too long");
    const std::string tmp = opt.path + ".tmp." + std::to_string(getpid());
    sockaddr_un taddr;
    if (!fill_addr(tmp, taddr)) return err(ENAMETOOLONG, "socket path '" + opt.path + "' is too long");
    auto gid = lookup_group(opt.group);
    if (!gid) return gid.error();

    struct stat st{};
    if (lstat(opt.path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return err(EEXIST, opt.path + " exists and is not a socket");
        if (socket_is_live(opt.path)) return err(EADDRINUSE, opt.path + " is live: another control loop listens on it");
        // Stale: the rename below replaces it atomically.
    }

    std::unique_ptr<SocketServer> s(new SocketServer(opt, std::move(handler)));
    s->epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd_ < 0) return sys_error("epoll_create1");
    s->lfd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->lfd_ < 0) return sys_error("socket");
    unlink(tmp.c_str());
    // The file never exists with more than <mode>: bind under a tight umask.
    const mode_t old = umask(0177);
    const int rc = bind(s->lfd_, reinterpret_cast<sockaddr*>(&taddr), sizeof taddr);
    umask(old);
    if (rc != 0) return sys_error("bind " + tmp);
    auto fail = [&](const std::string& what) {
        Error e = sys_error(what);
        unlink(tmp.c_str());
        return e;
    };
    // Owned by root (when we are root) and the configured group.
    if (chown(tmp.c_str(), geteuid() == 0 ? 0 : uid_t(-1), gid.value()) != 0)
        return fail("chown " + tmp + " to group " + (opt.group.empty() ? std::string("(own)") : opt.group));
    if (chmod(tmp.c_str(), opt.mode) != 0) return fail("chmod " + tmp);
    if (listen(s->lfd_, 64) != 0) return fail("listen");
    if (rename(tmp.c_str(), opt.path.c_str()) != 0) return fail("rename " + tmp + " to " + opt.path);
    if (stat(opt.path.c_str(), &st) == 0) {
        s->dev_ = st.st_dev;
        s->ino_ = st.st_ino;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = s->lfd_;
    if (epoll_ctl(s->epfd_, EPOLL_CTL_ADD, s->lfd_, &ev) != 0) return sys_error("epoll_ctl");
    if (opt.idle_ms > 0) {
        // The idle sweep runs every quarter of idle_ms (20 ms to 1 s): a client
        // is closed between idle_ms and 1.25 * idle_ms after its last byte.
        s->tfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (s->tfd_ < 0) return sys_error("timerfd_create");
        const uint32_t step = std::clamp<uint32_t>(opt.idle_ms / 4, 20, 1000);
        itimerspec its{};
        its.it_interval.tv_sec = step / 1000;
        its.it_interval.tv_nsec = long(step % 1000) * 1000000L;
        its.it_value = its.it_interval;
        if (timerfd_settime(s->tfd_, 0, &its, nullptr) != 0) return sys_error("timerfd_settime");
        ev.data.fd = s->tfd_;
        if (epoll_ctl(s->epfd_, EPOLL_CTL_ADD, s->tfd_, &ev) != 0) return sys_error("epoll_ctl");
    }
    return s;
}

SocketServer::~SocketServer() {
    for (auto& c : clients_) {
        close(c->fd);
        if (close_hook_) close_hook_(c->id);
    }
    if (lfd_ >= 0) {
        close(lfd_);
        // Remove the file only while it is still ours (not a successor's).
        struct stat st{};
        if (stat(opt_.path.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) unlink(opt_.path.c_str());
    }
    if (tfd_ >= 0) close(tfd_);
    if (epfd_ >= 0) close(epfd_);
}

Status SocketServer::watch(int fd, std::function<void()> on_ready) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return sys_error("epoll_ctl watch");
    watches_.push_back(Watch{fd, std::move(on_ready)});
    return Ok{};
}

void SocketServer::accept_all() {
    for (;;) {
        const int fd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN, or a transient error: try at the next wake-up
        ucred cred{};
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) cred.uid = uid_t(-1);
        size_t same_uid = 0;
        for (const auto& c : clients_) same_uid += c->uid == cred.uid;
        // Per uid first: one user's idle connections must not take every slot.
        if (same_uid >= opt_.max_clients_per_uid) {
            refused_.fetch_add(1, std::memory_order_relaxed);
            refuse(fd, "too many control connections for uid " + std::to_string(cred.uid) + " (" +
                           std::to_string(opt_.max_clients_per_uid) + "); close idle ones");
            continue;
        }
        if (clients_.size() >= opt_.max_clients) {
            refused_.fetch_add(1, std::memory_order_relaxed);
            refuse(fd, "too many control clients (" + std::to_string(opt_.max_clients) + ")");
            continue;
        }
        auto c = std::make_unique<Client>();
        c->fd = fd;
        c->id = next_id_++;
        c->uid = cred.uid;
        c->last_ms = now_ms();
        epoll_event ev{};
        ev.events = c->mask;
        ev.data.fd = fd;
        if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            continue;
        }
        clients_.push_back(std::move(c));
    }
}

void SocketServer::close_client(int fd) {
    epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    for (const auto& c : clients_)
        if (c->fd == fd && close_hook_) close_hook_(c->id);
    clients_.erase(std::remove_if(clients_.begin(), clients_.end(), [fd](const auto& c) { return c->fd == fd; }),
                   clients_.end());
}

void SocketServer::reply_line(Client& c, std::string_view line) {
    if (line.size() > opt_.max_line) {
        c.out += "{\"status\":7,\"error\":\"line longer than " + std::to_string(opt_.max_line) + " bytes\"}\n";
        return;
    }
    // A client that keeps sending while earlier replies pile up unread is
    // dropped: its memory stays bounded by max_pending plus one reply.
    if (c.out.size() > opt_.max_pending) {
        const bool had_eof = c.eof;
        flush(c);
        if (c.eof && !had_eof) return;  // peer gone: <line> pointed into the cleared input
    }
    if (c.out.size() > opt_.max_pending) {
        clients_dropped_.fetch_add(1, std::memory_order_relaxed);
        c.out.clear();
        c.in.clear();
        c.eof = true;  // closed by on_client
        return;
    }
    // Every line is the handler's, empty ones included: one reply per line.
    current_ = c.id;
    c.out += handler_(line);
    current_ = 0;
    c.out += '\n';
}

void SocketServer::serve_lines(Client& c) {
    // One reply line per command line, in order. A subscriber's input is not
    // served: read and dropped, only its EOF matters.
    size_t pos = 0;
    while (!c.subscriber && !(c.eof && c.in.empty())) {
        const size_t nl = c.in.find('\n', pos);
        if (nl == std::string::npos) {
            const size_t left = c.in.size() - pos;
            if (left > opt_.max_line) {
                c.out += "{\"status\":7,\"error\":\"line longer than " + std::to_string(opt_.max_line) + " bytes\"}\n";
                c.in.clear();
                c.eof = true;  // close after the reply
                return;
            }
            if (c.eof && left > 0) {  // the last line, without a newline
                const std::string line = c.in.substr(pos);
                c.in.clear();
                reply_line(c, line);
                return;
            }
            break;
        }
        const std::string_view line(c.in.data() + pos, nl - pos);
        pos = nl + 1;
        reply_line(c, line);  // may drop <c>: then in is empty and eof set
        if (c.in.empty()) return;
    }
    if (c.subscriber) c.in.clear();
    else c.in.erase(0, pos);
}

void SocketServer::flush(Client& c) {
    while (!c.out.empty()) {
        const ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out.erase(0, size_t(n));
            c.last_ms = now_ms();  // reading replies is activity too
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        c.out.clear();  // peer gone
        c.eof = true;
        c.in.clear();
        return;
    }
}

void SocketServer::update_events(Client& c) {
    // Level-triggered: ask for input until EOF, for output only while
    // replies wait.
    const uint32_t mask = (c.eof ? 0u : uint32_t(EPOLLIN | EPOLLRDHUP)) | (c.out.empty() ? 0u : uint32_t(EPOLLOUT));
    if (mask == c.mask) return;
    c.mask = mask;
    epoll_event ev{};
    ev.events = mask;
    ev.data.fd = c.fd;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void SocketServer::on_client(Client& c, uint32_t events) {
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        char buf[16384];
        // At most 4 reads (64 KiB) per wake-up: a client that writes without
        // pause does not hold the loop; level-triggered epoll comes back to it.
        for (int k = 0; k < 4 && !c.eof; k++) {
            const ssize_t n = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                c.in.append(buf, size_t(n));
                c.last_ms = now_ms();
                serve_lines(c);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            c.eof = true;  // 0 = orderly shutdown; error = gone
        }
    }
    serve_lines(c);  // at EOF: the last line without a newline
    flush(c);
    if (c.eof && c.out.empty()) {
        close_client(c.fd);
        return;
    }
    update_events(c);
}

void SocketServer::expire_idle() {
    const int64_t now = now_ms();
    std::vector<int> idle;
    for (auto& c : clients_) {
        // Subscribers wait for pushes by design; a slow one is dropped by push().
        if (c->subscriber || now - c->last_ms < int64_t(opt_.idle_ms)) continue;
        // One line saying why, if the socket takes it now; then closed.
        const std::string why = "{\"status\":110,\"error\":\"idle for " + std::to_string(opt_.idle_ms) +
                                " ms (nothing sent or read): connection closed\"}\n";
        if (c->out.empty()) (void)!send(c->fd, why.data(), why.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        idle.push_back(c->fd);
    }
    for (const int fd : idle) {
        idle_closed_.fetch_add(1, std::memory_order_relaxed);
        close_client(fd);
    }
}

Status SocketServer::poll_once(int timeout_ms) {
    epoll_event evs[64];
    const int n = epoll_wait(epfd_, evs, 64, timeout_ms);
    if (n < 0) {
        if (errno == EINTR) return Ok{};
        return sys_error("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
        const int fd = evs[i].data.fd;
        if (fd == lfd_) {
            accept_all();
            continue;
        }
        if (fd == tfd_) {
            uint64_t ticks;
            while (read(tfd_, &ticks, sizeof ticks) == ssize_t(sizeof ticks)) {}
            expire_idle();
            continue;
        }
        bool handled = false;
        for (Watch& w : watches_)
            if (w.fd == fd) {
                w.cb();
                handled = true;
                break;
            }
        if (handled) continue;
        for (auto& c : clients_)
            if (c->fd == fd) {
                on_client(*c, evs[i].events);
                break;
            }
    }
    close_doomed();
    return Ok{};
}

SocketServer::Client* SocketServer::find_conn(ConnId id) {
    for (auto& c : clients_)
        if (c->id == id) return c.get();
    return nullptr;
}

bool SocketServer::mark_subscriber(ConnId id) {
    Client* c = find_conn(id);
    if (!c) return false;
    c->subscriber = true;
    return true;
}

bool SocketServer::push(ConnId id, std::string_view line) {
    Client* c = find_conn(id);
    if (!c || !c->subscriber || c->eof) return false;
    if (c->out.size() + line.size() + 1 > opt_.max_subscriber_pending) {
        // Too slow: drop it rather than buffer without bound or block. Closed
        // after this poll round so callers iterating subscribers stay valid.
        subs_dropped_++;
        c->eof = true;
        c->out.clear();
        c->in.clear();
        doomed_.push_back(c->id);
        return false;
    }
    c->out.append(line);
    c->out += '\n';
    flush(*c);
    if (c->eof) {  // peer gone
        doomed_.push_back(c->id);
        return false;
    }
    update_events(*c);
    return true;
}

void SocketServer::close_doomed() {
    std::vector<ConnId> ids;
    ids.swap(doomed_);
    for (const ConnId id : ids)
        if (Client* c = find_conn(id)) close_client(c->fd);
}

Status SocketServer::run() {
    stop_ = false;
    while (!stop_) {
        Status s = poll_once(-1);
        if (!s) return s;
    }
    return Ok{};
}

}  // namespace sipedge::ctl
