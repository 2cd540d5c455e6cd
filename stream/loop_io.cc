// Per-connection I/O of the stream thread: connect, accept, TLS handshake,
// read + frame + hand over, write, close. See stream/loop.h.
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sipparse/headers.h"
#include "stream/loop.h"

namespace sipedge::stream {

namespace {

constexpr size_t rbuf_size = 65536;
// Reads per readiness event before yielding to other connections (fairness):
// 16 × 64 KiB.
constexpr int read_rounds = 16;

PeerAddr from_sockaddr(const sockaddr_storage& ss) noexcept {
    PeerAddr a;
    if (ss.ss_family == AF_INET) {
        const auto* s = reinterpret_cast<const sockaddr_in*>(&ss);
        a.family = AF_INET;
        a.port = ntohs(s->sin_port);
        std::memcpy(a.addr, &s->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        const auto* s = reinterpret_cast<const sockaddr_in6*>(&ss);
        a.family = AF_INET6;
        a.port = ntohs(s->sin6_port);
        std::memcpy(a.addr, &s->sin6_addr, 16);
    }
    return a;
}

PeerAddr local_of(int fd) noexcept {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return PeerAddr{};
    return from_sockaddr(ss);
}

void tune_socket(int fd, const StreamKnobs& k) noexcept {
    const int one = 1;
    // SIP messages are written whole; Nagle would only add latency.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    apply_keepalive(fd, k);
}

}  // namespace

void consume_sigpipe() noexcept {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    timespec zero{0, 0};
    sigtimedwait(&s, nullptr, &zero);
}

Conn* Loop::lookup(ConnId id) noexcept {
    const uint32_t slot = uint32_t(id);
    const uint32_t gen = uint32_t(id >> 32);
    if (slot >= slots_.size() || gens_[slot] != gen || !slots_[slot]) return nullptr;
    return slots_[slot].get();
}

Conn* Loop::new_conn(int fd, Transport t, bool outbound) {
    uint32_t slot;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        if (slots_.size() >= cfg_.max_conns) return nullptr;
        slot = uint32_t(slots_.size());
        slots_.emplace_back();
        gens_.push_back(0);
    }
    // Generations skip 0 and the epoll tags' values (~0 and 0xfffffffe).
    uint32_t g = gens_[slot] + 1;
    if (g == 0 || g >= 0xfffffffeu) g = 1;
    gens_[slot] = g;
    slots_[slot] = std::make_unique<Conn>();
    Conn* c = slots_[slot].get();
    c->id = (uint64_t(g) << 32) | slot;
    c->knobs = cfg_.knobs;
    c->fd = fd;
    c->transport = t;
    c->outbound = outbound;
    c->last_rx_ms = c->last_tx_ms = now_ms_;
    bump(stats_.conns_open);
    return c;
}

// Opens a connection for <m>'s destination (RFC 3261 §18.1.1) and registers it
// for reuse. nullptr (with a send_failed event) when no connection can be
// made at all: no TLS profile, no socket, too many connections.
Conn* Loop::open_outbound(const StreamMsg& m, uint32_t channel) {
    std::shared_ptr<const TlsContext> tls;
    Conn probe;
    probe.peer = m.peer;
    probe.route = m.route;
    probe.identity = m.identity;
    probe.transport = m.transport;
    probe.outbound = true;
    probe.profile = m.tls_profile;
    if (m.transport == Transport::tls) {
        std::lock_guard<std::mutex> g(mu_);
        // No profile named (an in-dialog request, a response): the profile
        // control set for that peer (a trunk's TLS server), if any.
        if (probe.profile == 0) probe.profile = peer_profile_locked(m.peer);
        const auto it = client_profiles_.find(probe.profile);
        if (it != client_profiles_.end()) tls = it->second;
    }
    StreamKnobs knobs = cfg_.knobs;
    if (probe.profile) {  // a trunk's timing (TCP too: the profile then only names its knobs)
        std::lock_guard<std::mutex> g(mu_);
        const auto k = profile_knobs_.find(probe.profile);
        if (k != profile_knobs_.end()) knobs = k->second;
    }
    auto refuse = [&](int e, const std::string& why) -> Conn* {
        if (m.len) bump(stats_.tx_dropped);
        emit(probe, StreamEventKind::send_failed, e, why);
        return nullptr;
    };
    if (m.transport == Transport::tls && !tls)
        return refuse(ENOENT, "no TLS client profile " + std::to_string(probe.profile) + " for " + to_string(m.peer));
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (m.peer.family == AF_INET) {
        auto* s = reinterpret_cast<sockaddr_in*>(&ss);
        s->sin_family = AF_INET;
        s->sin_port = htons(m.peer.port);
        std::memcpy(&s->sin_addr, m.peer.addr, 4);
        len = sizeof *s;
    } else {
        auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(m.peer.port);
        std::memcpy(&s->sin6_addr, m.peer.addr, 16);
        len = sizeof *s;
    }
    const int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return refuse(errno, std::string("socket: ") + strerror(errno));
    Conn* c = new_conn(fd, m.transport, true);
    if (c == nullptr) {
        close(fd);
        return refuse(EMFILE, "connection limit of " + std::to_string(cfg_.max_conns) + " reached");
    }
    c->peer = m.peer;
    c->route = m.route;
    c->identity = m.identity;
    c->profile = probe.profile;
    c->channel = channel;
    c->tls = std::move(tls);
    c->state = Conn::State::connecting;
    c->knobs = knobs;
    c->deadline_ms = now_ms_ + knobs.connect_timeout_ms;
    tune_socket(fd, knobs);
    reuse_[ReuseKey{m.peer, m.identity, m.transport == Transport::tls ? probe.profile : uint32_t(0),
                    m.transport}] = c->id;
    // And for messages naming only the peer (became_open() keeps it: the first
    // one open), so that those sent while it connects wait on it too.
    reuse_.try_emplace(ReuseKey{c->peer, 0, 0, c->transport}, c->id);
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
        // Refused at once (loopback answers the SYN synchronously): reported
        // after this drain, once the message is queued and counted.
        c->deferred_errno = errno;
        deferred_.push_back(c->id);
        return c;
    }
    update_interest(*c);
    arm_timer(*c, c->deadline_ms);
    return c;
}

void Loop::finish_connect(Conn& c) {
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0) e = errno;
    if (e != 0) return fail_connect(c, e);
    c.local = local_of(c.fd);
    if (c.transport == Transport::tls) {
        if (!start_tls(c)) return;
        return handshake_step(c);
    }
    became_open(c);
}

void Loop::fail_connect(Conn& c, int e) {
    if (e == ECONNREFUSED) {
        bump(stats_.connect_refused);
        return close_conn(c, StreamEventKind::connect_refused, e,
                          "connection refused by " + to_string(c.peer));
    }
    bump(stats_.connect_failed);
    close_conn(c, StreamEventKind::connect_failed, e, "connect to " + to_string(c.peer) + ": " + strerror(e));
}

bool Loop::start_tls(Conn& c) {
    c.link = std::make_unique<TlsLink>();
    c.link->peer = c.peer;
    c.link->profile = c.profile;
    c.link->tls = c.tls.get();
    SSL_SESSION* resume = nullptr;
    if (c.outbound) {
        c.link->cache = &sessions_;
        resume = sessions_.get(c.peer, c.profile, c.tls.get());
        c.resume_tried = resume != nullptr;
    }
    c.ssl = tls_new(*c.tls, c.fd, c.link.get(), resume);
    if (c.ssl == nullptr) {
        bump(stats_.tls_handshake_failed);
        close_conn(c, StreamEventKind::tls_handshake_failed, ENOMEM, "TLS: cannot create the session");
        return false;
    }
    c.state = Conn::State::handshaking;
    return true;
}

void Loop::handshake_step(Conn& c) {
    ERR_clear_error();
    const int r = SSL_do_handshake(c.ssl);
    if (r == 1) return became_open(c);
    const int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        c.want_out = e == SSL_ERROR_WANT_WRITE;
        update_interest(c);
        return;
    }
    if (e == SSL_ERROR_SYSCALL) consume_sigpipe();
    bool verify_failed = false;
    const std::string expected = c.tls && c.tls->is_client() ? c.tls->server_name() : std::string();
    std::string why = tls_failure_text(c.ssl, *c.link, expected, verify_failed);
    if (c.outbound && c.resume_tried) sessions_.drop(c.peer, c.profile);
    if (verify_failed) {
        bump(stats_.tls_verify_failed);
        return close_conn(c, StreamEventKind::tls_verify_failed, 0, why);
    }
    bump(stats_.tls_handshake_failed);
    close_conn(c, StreamEventKind::tls_handshake_failed, 0, why);
}

void Loop::became_open(Conn& c) {
    c.state = Conn::State::open;
    c.pending_msgs = 0;
    c.pending.clear();
    // A message naming only the peer's address and transport (no identity,
    // no TLS profile: a response to a request that came on an inbound
    // connection, RFC 3261 §18.2.2; an in-dialog request to a caller whose
    // contact is its source, or to a carrier behind our Record-Route) goes on
    // an open connection with that peer, inbound or outbound (RFC 5923's
    // reuse without the alias negotiation). The first one open keeps it.
    reuse_.try_emplace(ReuseKey{c.peer, 0, 0, c.transport}, c.id);
    c.last_rx_ms = c.last_tx_ms = now_ms_;
    if (c.outbound) {
        bump(stats_.conns_opened);
        if (c.ssl && SSL_session_reused(c.ssl)) bump(stats_.tls_resumed);
        std::string what = c.ssl ? std::string("TLS ") + SSL_get_version(c.ssl) + " to " : "TCP to ";
        what += to_string(c.peer);
        if (c.ssl && SSL_session_reused(c.ssl)) what += " (session resumed)";
        emit(c, StreamEventKind::connected, 0, what);
        if (c.knobs.crlf_ping_interval_s)
            arm_timer(c, now_ms_ + uint64_t(c.knobs.crlf_ping_interval_s) * 1000);
    } else {
        bump(stats_.conns_accepted);
        emit(c, StreamEventKind::accepted, 0, std::string(c.ssl ? "TLS from " : "TCP from ") + to_string(c.peer));
    }
    c.deadline_ms = 0;
    c.want_out = false;  // a handshake step may have left it set; flush() sets it again if needed
    update_interest(c);
    if (c.out.size() > c.out_off) flush(c);
}

void Loop::on_accept(Listener& l) {
    for (;;) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        const int fd = accept4(l.fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors: the listener stays readable, so leave it
                // out of the set for a while instead of spinning; the backlog
                // keeps the waiting connections.
                epoll_event none{};
                none.data.u64 = l.tag;
                epoll_ctl(epfd_, EPOLL_CTL_MOD, l.fd, &none);
                l.paused = true;
                listeners_resume_ms_ = now_ms_ + 100;
            }
            return;
        }
        Conn* c = new_conn(fd, l.transport, false);
        if (c == nullptr) {
            close(fd);
            continue;
        }
        tune_socket(fd, cfg_.knobs);
        c->peer = from_sockaddr(ss);
        c->local = local_of(fd);
        c->channel = next_inbound_channel_++ % uint32_t(channels_.size());
        if (l.transport == Transport::tls) {
            c->tls = l.tls;
            if (!start_tls(*c)) continue;
            // An access-side peer that never finishes its handshake is dropped.
            c->deadline_ms = now_ms_ + cfg_.knobs.connect_timeout_ms;
            arm_timer(*c, c->deadline_ms);
            update_interest(*c);
            continue;
        }
        became_open(*c);
    }
}

void Loop::on_conn_event(Conn& c, uint32_t ev) {
    switch (c.state) {
    case Conn::State::connecting:
        if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) finish_connect(c);
        return;
    case Conn::State::handshaking:
        handshake_step(c);
        return;
    case Conn::State::open:
        break;
    }
    if ((ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) || (c.ssl_read_wants_write && (ev & EPOLLOUT))) {
        if (!on_readable(c)) return;
    }
    if (c.out.size() > c.out_off) {
        // Writable, or a TLS write that waited for a read (key update) may go on.
        if ((ev & EPOLLOUT) || !c.want_out) flush(c);
    } else if (c.want_out && !c.ssl_read_wants_write) {
        c.want_out = false;  // nothing left to write: stop asking for EPOLLOUT
        update_interest(c);
    }
}

// Reads what the socket holds (bounded by read_rounds), frames it and hands
// whole messages to the connection's channel. False when <c> was closed.
bool Loop::on_readable(Conn& c) {
    c.ssl_read_wants_write = false;
    for (int round = 0; round < read_rounds && !c.rx_paused; round++) {
        ssize_t n;
        if (c.ssl) {
            ERR_clear_error();
            const int r = SSL_read(c.ssl, rbuf_.get(), int(rbuf_size));
            if (r > 0) {
                n = r;
            } else {
                const int e = SSL_get_error(c.ssl, r);
                if (e == SSL_ERROR_WANT_READ) break;
                if (e == SSL_ERROR_WANT_WRITE) {
                    c.ssl_read_wants_write = c.want_out = true;
                    update_interest(c);
                    break;
                }
                if (e == SSL_ERROR_ZERO_RETURN) {
                    close_conn(c, StreamEventKind::connection_closed, 0,
                               "peer closed the TLS session (close_notify)");
                    return false;
                }
                if (e == SSL_ERROR_SYSCALL) {
                    const int se = errno;
                    ERR_clear_error();
                    if (se == 0 || se == EAGAIN) {
                        close_conn(c, StreamEventKind::connection_closed, 0,
                                   "peer closed the connection (FIN without TLS close_notify)");
                        return false;
                    }
                    read_error(c, se);
                    return false;
                }
                close_conn(c, StreamEventKind::connection_closed, EPROTO, "TLS error: " + tls_error_queue());
                return false;
            }
        } else {
            n = recv(c.fd, rbuf_.get(), rbuf_size, 0);
            if (n == 0) {
                close_conn(c, StreamEventKind::connection_closed, 0, "peer closed the connection (FIN)");
                return false;
            }
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                if (errno == EINTR) continue;
                read_error(c, errno);
                return false;
            }
        }
        if (!deliver(c, rbuf_.get(), size_t(n))) return false;
        if (!c.ssl && size_t(n) < rbuf_size) break;  // drained; level-triggered epoll says if more comes
    }
    return true;
}

void Loop::read_error(Conn& c, int e) {
    if (e == ETIMEDOUT) {
        // TCP keep-alive (tcp-keepalive-*) gave up, or retransmissions did.
        bump(stats_.keepalive_lost);
        close_conn(c, StreamEventKind::keepalive_lost, e,
                   "TCP keep-alive: no answer from " + to_string(c.peer) + " (ETIMEDOUT)");
        return;
    }
    if (e == ECONNRESET) {
        close_conn(c, StreamEventKind::connection_closed, e, "connection reset by peer (RST)");
        return;
    }
    close_conn(c, StreamEventKind::connection_closed, e, std::string("read: ") + strerror(e));
}

// <n> bytes arrived: any byte answers an outstanding ping (the flow is alive).
bool Loop::deliver(Conn& c, const char* p, size_t n) {
    bump(stats_.bytes_rx, n);
    c.last_rx_ms = now_ms_;
    // Framed while the pong is still expected, so that a lone "\r\n" counts as one.
    const Framer::Status st = c.framer.feed(p, n, scratch_msg_, [&](const Frame& f, const char* b) {
        return deliver_frame(c, f, b);
    });
    if (c.ping_out) {
        c.ping_out = false;
        c.framer.set_pong_expected(false);
    }
    if (st == Framer::Status::stopped) {
        bump(stats_.rx_paused);
        c.rx_paused = true;
        update_interest(c);
        paused_.push_back(c.id);
        return true;
    }
    return frame_status(c, st);
}

bool Loop::deliver_frame(Conn& c, const Frame& f, const char* p) {
    switch (f.kind) {
    case FrameKind::message: {
        if (!c.outbound && !c.alias_checked) note_alias(c, p, f.len);
        Channel& ch = *channels_[c.channel];
        StreamMsg* m = ch.rx_alloc(f.len);
        if (m == nullptr) return false;  // back-pressure: keep the bytes, stop reading
        header_from(*m, c, 0, f.len);
        std::memcpy(m->data, p, f.len);
        bump(stats_.msgs_rx);  // before the push: whoever got the message sees it counted
        ch.rx_push(m);
        rx_kick_[c.channel] = 1;
        return true;
    }
    case FrameKind::ping:
        // RFC 5626 §4.4.1: answer a double-CRLF ping with a single CRLF pong.
        bump(stats_.pings_rx);
        queue_bytes(c, "\r\n", 2);
        return true;
    case FrameKind::pong:
        bump(stats_.pongs_rx);
        return true;
    default:
        return true;
    }
}

// After a feed/resume: closes the connection on a framing failure. False when closed.
bool Loop::frame_status(Conn& c, Framer::Status st) {
    if (st == Framer::Status::too_large) {
        bump(stats_.too_large);
        close_conn(c, StreamEventKind::message_too_large, EMSGSIZE,
                   "from " + to_string(c.peer) + ": " + frame_error_text(c.framer.error()));
        return false;
    }
    if (st == Framer::Status::invalid) {
        bump(stats_.framing_errors);
        close_conn(c, StreamEventKind::framing_error, EPROTO,
                   "from " + to_string(c.peer) + ": " + frame_error_text(c.framer.error()));
        return false;
    }
    return true;
}

bool Loop::queue_bytes(Conn& c, const char* p, size_t n) {
    if (c.out.size() - c.out_off + n > cfg_.tx_queue_limit) return false;
    if (c.out_off == c.out.size()) {
        c.out.clear();
        c.out_off = 0;
    }
    c.out.insert(c.out.end(), p, p + n);
    mark_dirty(c);
    return true;
}

void Loop::mark_dirty(Conn& c) {
    if (c.in_dirty) return;
    c.in_dirty = true;
    dirty_.push_back(c.id);
}

// Writes the queue until the kernel takes no more. False when <c> was closed.
bool Loop::flush(Conn& c) {
    while (c.out_off < c.out.size()) {
        const size_t left = c.out.size() - c.out_off;
        ssize_t n;
        if (c.ssl) {
            ERR_clear_error();
            const int r = SSL_write(c.ssl, c.out.data() + c.out_off, int(left > (1u << 30) ? (1u << 30) : left));
            if (r > 0) {
                n = r;
            } else {
                const int e = SSL_get_error(c.ssl, r);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                    c.want_out = e == SSL_ERROR_WANT_WRITE;
                    update_interest(c);
                    return true;
                }
                const int se = errno;
                if (e == SSL_ERROR_SYSCALL) consume_sigpipe();
                close_conn(c, StreamEventKind::connection_closed, se,
                           e == SSL_ERROR_SYSCALL ? std::string("write: ") + strerror(se)
                                                  : "TLS error: " + tls_error_queue());
                return false;
            }
        } else {
            n = send(c.fd, c.out.data() + c.out_off, left, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    c.want_out = true;
                    update_interest(c);
                    return true;
                }
                const int e = errno;
                close_conn(c, StreamEventKind::connection_closed, e,
                           e == EPIPE ? std::string("peer closed the connection (EPIPE)")
                                      : std::string("write: ") + strerror(e));
                return false;
            }
        }
        c.out_off += size_t(n);
        bump(stats_.bytes_tx, uint64_t(n));
        c.last_tx_ms = now_ms_;
    }
    // All written: an idle connection keeps no queue memory.
    if (c.out.capacity() > 16384) std::vector<char>().swap(c.out);
    else c.out.clear();
    c.out_off = 0;
    if (c.want_out && !c.ssl_read_wants_write) {
        c.want_out = false;
        update_interest(c);
    }
    return true;
}

void Loop::update_interest(Conn& c) {
    uint32_t want;
    if (c.state == Conn::State::connecting)
        want = EPOLLOUT;
    else
        want = (c.rx_paused ? 0u : uint32_t(EPOLLIN | EPOLLRDHUP)) | (c.want_out ? uint32_t(EPOLLOUT) : 0u);
    if (c.registered && want == c.events) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = c.id;
    if (want == 0) {
        // Paused with nothing to write: out of the set, so that a hang-up
        // (reported whatever the mask) does not spin the loop.
        if (c.registered) epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
        c.registered = false;
    } else if (c.registered) {
        epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
    } else {
        epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev);
        c.registered = true;
    }
    c.events = want;
}

// RFC 5923: the first request on an inbound connection whose top Via asks
// for an alias (";alias", the Via naming this transport and an IP literal)
// makes the connection the one for messages to that sent-by address too (a
// caller that listens on 5060 but connected from an ephemeral port gets
// requests to its contact on this connection instead of a new one). The
// first connection to claim an address keeps it; it goes with the
// connection.
void Loop::note_alias(Conn& c, const char* p, size_t n) {
    c.alias_checked = true;
    if (sip::parse(p, n, scratch_msg_) != sip::ParseStatus::ok || !scratch_msg_.is_request) return;
    const sip::Via& v = scratch_msg_.top_via;
    const sip::Transport want = c.transport == Transport::tls ? sip::Transport::tls : sip::Transport::tcp;
    if (v.transport != want || v.sent_by.kind != sip::HostKind::ipv4) return;
    sip::ParamList pl(p, v.params);
    sip::Span name, value;
    bool alias = false;
    while (!alias && pl.next(name, value))
        alias = name.len == 5 && strncasecmp(p + name.off, "alias", 5) == 0;
    if (!alias) return;
    const std::string host(p + v.sent_by.host.off, v.sent_by.host.len);
    const uint16_t port = v.sent_by.has_port ? v.sent_by.port : (c.transport == Transport::tls ? 5061 : 5060);
    const PeerAddr a = make_peer(host.c_str(), port);
    if (a.empty() || a == c.peer) return;
    if (reuse_.try_emplace(ReuseKey{a, 0, 0, c.transport}, c.id).second) {
        c.alias = a;
        bump(stats_.aliases);
    }
}

// A received message's header: connection <c>'s, with <flags> and <len>.
void Loop::header_from(StreamMsg& m, const Conn& c, uint8_t flags, uint32_t len) noexcept {
    m.conn = c.id;
    m.peer = c.peer;
    m.local = c.local;
    m.route = c.route;
    m.identity = c.identity;
    m.tls_profile = c.profile;
    m.transport = c.transport;
    m.flags = flags;
    m.len = len;
}

// The messages queued on <c> before it became usable go back to the
// channels that sent them, flagged msg_bounced (no rx slot: dropped, counted
// in tx_dropped as before). Nothing of them was written: a connection that
// never opened wrote nothing of its queue.
void Loop::bounce_pending(Conn& c) {
    size_t pos = c.out_off;
    for (const auto& [chi, len] : c.pending) {
        if (pos + len > c.out.size() || chi >= channels_.size()) break;
        Channel& ch = *channels_[chi];
        if (StreamMsg* m = ch.rx_alloc(len)) {
            header_from(*m, c, msg_bounced, len);
            std::memcpy(m->data, c.out.data() + pos, len);
            bump(stats_.bounced);
            ch.rx_push(m);
            rx_kick_[chi] = 1;
        }
        pos += len;
    }
    c.pending.clear();
}

// Open connection <c>, one we opened (to a trunk server, or to an address an
// in-dialog request named), closes, not as a failover trigger: every channel
// gets a msg_closed notice (no data; no rx slot: that worker is not told —
// its requests then wait for their timers as before). Not for inbound
// connections: an access peer opening and closing connections must not make
// every worker scan its transactions.
void Loop::notify_closed(const Conn& c) {
    for (size_t chi = 0; chi < channels_.size(); chi++) {
        Channel& ch = *channels_[chi];
        if (StreamMsg* m = ch.rx_alloc(0)) {
            header_from(*m, c, msg_closed, 0);
            bump(stats_.close_notices);
            ch.rx_push(m);
            rx_kick_[chi] = 1;
        }
    }
}

void Loop::close_conn(Conn& c, StreamEventKind k, int sys_errno, const std::string& reason) {
    // Counters first: a consumer that saw the event sees them updated.
    if (c.pending_msgs) bump(stats_.tx_dropped, c.pending_msgs);
    bump(stats_.conns_closed);
    std::atomic_ref<uint64_t> open(stats_.conns_open);
    open.store(open.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    if (k != StreamEventKind::none) emit(c, k, sys_errno, reason);
    if (!c.pending.empty() && is_failover_trigger(k)) bounce_pending(c);
    if (c.outbound && c.state == Conn::State::open && !c.closing_locally && k != StreamEventKind::none &&
        !is_failover_trigger(k))
        notify_closed(c);
    // Its reuse keys: outbound, its own; any, the peer's address (became_open);
    // an RFC 5923 alias (note_alias).
    for (const ReuseKey& key : {ReuseKey{c.peer, c.identity, c.transport == Transport::tls ? c.profile : uint32_t(0),
                                         c.transport},
                                ReuseKey{c.peer, 0, 0, c.transport}, ReuseKey{c.alias, 0, 0, c.transport}}) {
        if (key.peer.empty()) continue;
        const auto it = reuse_.find(key);
        if (it != reuse_.end() && it->second == c.id) reuse_.erase(it);
    }
    if (c.registered) epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
    if (c.ssl) {
        SSL_free(c.ssl);
        c.ssl = nullptr;
    }
    if (c.fd >= 0) close(c.fd);
    const uint32_t slot = uint32_t(c.id);
    slots_[slot].reset();  // <c> is gone from here on
    free_slots_.push_back(slot);
}

}  // namespace sipedge::stream
