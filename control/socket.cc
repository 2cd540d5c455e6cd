#include "control/socket.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

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

Result<gid_t> lookup_group(const std::string& name) {
    if (name.empty()) return getegid();
    std::vector<char> buf(16384);
    group g{};
    group* res = nullptr;
    const int rc = getgrnam_r(name.c_str(), &g, buf.data(), buf.size(), &res);
    if (rc != 0 || !res) {
        // A numeric group id is accepted too.
        char* end = nullptr;
        const unsigned long v = std::strtoul(name.c_str(), &end, 10);
        if (end && *end == '\0' && !name.empty()) return gid_t(v);
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
        if (clients_.size() >= opt_.max_clients) {
            static const char busy[] = "{\"status\":16,\"error\":\"too many control clients\"}\n";
            (void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            continue;
        }
        auto c = std::make_unique<Client>();
        c->fd = fd;
        c->id = next_id_++;
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

void SocketServer::serve_lines(Client& c) {
    // One reply line per command line, in order; stop while replies pile up.
    // A subscriber's input is not served: read and dropped, only EOF matters.
    while (c.out.size() < opt_.max_pending) {
        if (c.subscriber) {
            c.in.clear();
            return;
        }
        const size_t nl = c.in.find('\n');
        if (nl == std::string::npos) {
            if (c.in.size() > opt_.max_line) {
                c.out += "{\"status\":7,\"error\":\"line longer than " + std::to_string(opt_.max_line) + " bytes\"}\n";
                c.in.clear();
                c.eof = true;  // close after the reply
            } else if (c.eof && !c.in.empty()) {
                std::string line = std::move(c.in);  // last line without a newline
                c.in.clear();
                current_ = c.id;
                c.out += handler_(line);
                current_ = 0;
                c.out += '\n';
            }
            return;
        }
        std::string_view line(c.in.data(), nl);
        if (nl > opt_.max_line) {
            c.out += "{\"status\":7,\"error\":\"line longer than " + std::to_string(opt_.max_line) + " bytes\"}\n";
        } else if (!line.empty() && !(line.size() == 1 && line[0] == '\r')) {
            current_ = c.id;
            c.out += handler_(line);
            current_ = 0;
            c.out += '\n';
        }
        c.in.erase(0, nl + 1);
    }
}

void SocketServer::flush(Client& c) {
    while (!c.out.empty()) {
        const ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out.erase(0, size_t(n));
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
    // Level-triggered: ask for input only while we will read it (not after
    // EOF, not while max_pending reply bytes wait), for output only while
    // replies wait.
    const bool read = !c.eof && c.out.size() < opt_.max_pending;
    const uint32_t mask = (read ? uint32_t(EPOLLIN | EPOLLRDHUP) : 0u) | (c.out.empty() ? 0u : uint32_t(EPOLLOUT));
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
        // Read only while replies drain; a client that never reads is not served further.
        while (!c.eof && c.out.size() < opt_.max_pending) {
            const ssize_t n = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                c.in.append(buf, size_t(n));
                serve_lines(c);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            c.eof = true;  // 0 = orderly shutdown; error = gone
        }
    }
    serve_lines(c);
    flush(c);
    serve_lines(c);  // replies drained: serve lines held back
    flush(c);
    if (c.eof && c.out.empty() && c.in.find('\n') == std::string::npos) {
        close_client(c.fd);
        return;
    }
    update_events(c);
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
