#include "stream/loop.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sipedge::stream {

namespace {

// epoll tags besides ConnIds (whose generation, the high half, is never 0 or ~0).
constexpr uint64_t wake_tag = ~uint64_t(0);
constexpr uint64_t listener_tag = uint64_t(0xfffffffe) << 32;  // | listener index

constexpr size_t tx_burst_max = 256;

bool to_sockaddr(const PeerAddr& a, sockaddr_storage& ss, socklen_t& len) noexcept {
    std::memset(&ss, 0, sizeof ss);
    if (a.family == AF_INET) {
        auto* s = reinterpret_cast<sockaddr_in*>(&ss);
        s->sin_family = AF_INET;
        s->sin_port = htons(a.port);
        std::memcpy(&s->sin_addr, a.addr, 4);
        len = sizeof *s;
        return true;
    }
    if (a.family == AF_INET6) {
        auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(a.port);
        std::memcpy(&s->sin6_addr, a.addr, 16);
        len = sizeof *s;
        return true;
    }
    return false;
}

}  // namespace

uint64_t steady_ms() noexcept {
    return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count());
}

size_t ReuseHash::operator()(const ReuseKey& k) const noexcept {
    // FNV-1a over the fields that make the key.
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    };
    mix(&k.peer.family, 1);
    mix(&k.peer.port, 2);
    mix(k.peer.addr, k.peer.family == AF_INET ? 4 : 16);
    mix(&k.identity, 4);
    mix(&k.profile, 2);
    mix(&k.transport, 1);
    return size_t(h);
}

Loop::Loop(const StreamConfig& c)
    : cfg_(c), events_(c.event_ring ? c.event_ring : 1024), rbuf_(new char[65536]) {
    const uint32_t n = c.channels ? c.channels : 1;
    for (uint32_t i = 0; i < n; i++) channels_.push_back(std::make_unique<Channel>(i, c.channel, &waker_));
    rx_kick_.assign(n, 0);
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
}

Loop::~Loop() {
    stop();
    close_all();
    for (Listener& l : listeners_) close(l.fd);
    for (Listener& l : new_listeners_) close(l.fd);
    if (epfd_ >= 0) close(epfd_);
}

// ---- control side ---------------------------------------------------------------------

Status Loop::set_client_profile(uint32_t id, const TlsClientConfig& c) {
    auto t = TlsContext::client(c);
    if (!t) return t.error();
    std::lock_guard<std::mutex> g(mu_);
    client_profiles_[id] = std::move(t.value());
    return Ok{};
}

Status Loop::set_server_profile(uint32_t id, const TlsServerConfig& c) {
    auto t = TlsContext::server(c);
    if (!t) return t.error();
    std::lock_guard<std::mutex> g(mu_);
    server_profiles_[id] = std::move(t.value());
    return Ok{};
}

void Loop::set_profile_knobs(uint32_t profile, const StreamKnobs& k) {
    std::lock_guard<std::mutex> g(mu_);
    profile_knobs_[profile] = k;
}

void Loop::set_peer_profiles(const std::vector<std::pair<PeerAddr, uint32_t>>& m) {
    std::map<PeerKey, uint32_t> next;
    for (const auto& [peer, id] : m) next.emplace(peer_key(peer), id);
    std::lock_guard<std::mutex> g(mu_);
    peer_profiles_.swap(next);
}

Result<PeerAddr> Loop::listen(const ListenConfig& c) {
    if (c.transport != Transport::tcp && c.transport != Transport::tls)
        return err(EINVAL, "listen: transport must be tcp or tls");
    Listener l;
    l.transport = c.transport;
    if (c.transport == Transport::tls) {
        std::lock_guard<std::mutex> g(mu_);
        const auto it = server_profiles_.find(c.tls_profile);
        if (it == server_profiles_.end())
            return err(ENOENT, "listen: no TLS server profile " + std::to_string(c.tls_profile));
        l.tls = it->second;
    }
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!to_sockaddr(c.addr, ss, len)) return err(EINVAL, "listen: no address");
    const int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return err(errno, std::string("listen: socket: ") + strerror(errno));
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, c.backlog) != 0) {
        const int e = errno;
        close(fd);
        return err(e, "listen on " + to_string(c.addr) + ": " + strerror(e));
    }
    len = sizeof ss;
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    l.fd = fd;
    l.addr = c.addr;
    l.addr.port = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                                : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    {
        std::lock_guard<std::mutex> g(mu_);
        new_listeners_.push_back(l);
    }
    // release: pairs with the loop's acquire exchange; the listener is in the vector.
    commands_.store(true, std::memory_order_release);
    waker_.signal();
    return l.addr;
}

Status Loop::start() {
    if (running_) return err(EALREADY, "stream transport already running");
    if (epfd_ < 0) return err(errno, "epoll_create1 failed");
    if (waker_.fd() < 0 || event_waker_.fd() < 0) return err(EMFILE, "eventfd failed");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = wake_tag;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, waker_.fd(), &ev) != 0)
        return err(errno, std::string("epoll_ctl: ") + strerror(errno));
    stop_.store(false, std::memory_order_relaxed);
    commands_.store(true, std::memory_order_release);
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), "sipedge-stream");
    if (cfg_.cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cfg_.cpu, &set);
        if (const int e = pthread_setaffinity_np(thread_.native_handle(), sizeof set, &set); e != 0) {
            stop_.store(true, std::memory_order_release);
            waker_.signal();
            thread_.join();
            return err(e, "cannot run the stream thread on CPU " + std::to_string(cfg_.cpu) + ": " + strerror(e));
        }
    }
    running_ = true;
    return Ok{};
}

void Loop::stop() {
    if (!running_) return;
    stop_.store(true, std::memory_order_release);
    waker_.signal();
    thread_.join();
    running_ = false;
    epoll_ctl(epfd_, EPOLL_CTL_DEL, waker_.fd(), nullptr);
    close_all();
}

void Loop::post_close(ConnId id) {
    {
        std::lock_guard<std::mutex> g(mu_);
        closes_.push_back(id);
    }
    commands_.store(true, std::memory_order_release);
    waker_.signal();
}

bool Loop::wait_event(StreamEvent& out, int timeout_ms) noexcept {
    const uint64_t until = steady_ms() + uint64_t(timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        if (events_.pop(out)) return true;
        const uint64_t now = steady_ms();
        if (now >= until) return false;
        event_waker_.arm();
        if (events_.pop(out)) {
            event_waker_.disarm();
            return true;
        }
        event_waker_.wait(int(until - now));
    }
}

StreamStats Loop::stats() const noexcept {
    StreamStats s;
    auto& src = const_cast<StreamStats&>(stats_);
#define SIPEDGE_STREAM_COPY(n) s.n = std::atomic_ref<uint64_t>(src.n).load(std::memory_order_relaxed);
    SIPEDGE_STREAM_STATS(SIPEDGE_STREAM_COPY)
#undef SIPEDGE_STREAM_COPY
    return s;
}

// ---- stream thread ------------------------------------------------------------------------

void Loop::run() {
    // OpenSSL writes TLS records with write(2): a peer gone mid-write would
    // raise SIGPIPE. Blocked on this thread only (the EPIPE is handled).
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    pthread_setname_np(pthread_self(), "sipedge-stream");

    epoll_event evs[256];
    while (!stop_.load(std::memory_order_acquire)) {
        now_ms_ = steady_ms();
        // acquire: pairs with the release stores of listen()/post_close().
        if (commands_.exchange(false, std::memory_order_acquire)) adopt_commands();
        drain_tx();
        for (ConnId id : deferred_)
            if (Conn* c = lookup(id)) fail_connect(*c, c->deferred_errno);
        deferred_.clear();
        flush_dirty();
        fire_timers();
        if (listeners_resume_ms_ && now_ms_ >= listeners_resume_ms_) {
            listeners_resume_ms_ = 0;
            for (Listener& l : listeners_) {
                if (!l.paused) continue;
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.u64 = l.tag;
                epoll_ctl(epfd_, EPOLL_CTL_MOD, l.fd, &ev);
                l.paused = false;
            }
        }
        resume_paused();
        flush_dirty();
        kick_channels();

        int timeout = wait_timeout_ms();
        waker_.arm();
        bool busy = commands_.load(std::memory_order_relaxed) || stop_.load(std::memory_order_relaxed);
        for (const auto& ch : channels_) busy = busy || ch->tx_pending();
        if (busy) timeout = 0;
        const int n = epoll_wait(epfd_, evs, 256, timeout);
        waker_.disarm();
        now_ms_ = steady_ms();
        for (int i = 0; i < n; i++) {
            const uint64_t tag = evs[i].data.u64;
            if (tag == wake_tag) continue;
            if ((tag >> 32) == (listener_tag >> 32)) {
                const uint32_t li = uint32_t(tag);
                if (li < listeners_.size()) on_accept(listeners_[li]);
                continue;
            }
            if (Conn* c = lookup(tag)) on_conn_event(*c, evs[i].events);
        }
        flush_dirty();
        kick_channels();
    }
}

void Loop::adopt_commands() {
    std::vector<Listener> ls;
    std::vector<ConnId> closes;
    {
        std::lock_guard<std::mutex> g(mu_);
        ls.swap(new_listeners_);
        closes.swap(closes_);
    }
    for (Listener& l : ls) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        l.tag = listener_tag | listeners_.size();
        ev.data.u64 = l.tag;
        epoll_ctl(epfd_, EPOLL_CTL_ADD, l.fd, &ev);
        listeners_.push_back(std::move(l));
    }
    for (ConnId id : closes) {
        Conn* c = lookup(id);
        if (c == nullptr) continue;
        // An orderly TLS close (close_notify, best effort): the peer keeps a
        // resumable session.
        if (c->ssl && c->state == Conn::State::open) {
            SSL_shutdown(c->ssl);
            consume_sigpipe();
        }
        c->closing_locally = true;
        close_conn(*c, StreamEventKind::connection_closed, 0, "closed locally");
    }
}

void Loop::drain_tx() {
    StreamMsg* burst[tx_burst_max];
    for (const auto& ch : channels_) {
        const size_t n = ch->tx_burst(burst, tx_burst_max);
        for (size_t i = 0; i < n; i++) {
            handle_send(*ch, *burst[i]);
            ch->tx_free(burst[i]);
        }
    }
}

// Accepts a message naming an open connection, or a destination (peer +
// transport) to reuse or open a connection for; refuses (send_failed) one
// with neither, or over the connection's queue limit.
void Loop::handle_send(Channel& ch, const StreamMsg& m) {
    Conn* c = m.conn != no_conn ? lookup(m.conn) : nullptr;
    if (c == nullptr && !m.peer.empty() && (m.transport == Transport::tcp || m.transport == Transport::tls)) {
        ReuseKey k{m.peer, m.identity, m.transport == Transport::tls ? m.tls_profile : uint32_t(0), m.transport};
        auto it = reuse_.find(k);
        if (it == reuse_.end() && k.profile == 0 && m.transport == Transport::tls) {
            // No profile named (an in-dialog request) and no connection with
            // the peer open yet: the one being opened with the profile control
            // set for that peer (else each such message would open another).
            if (const uint32_t p = peer_profile(m.peer)) it = reuse_.find(ReuseKey{m.peer, m.identity, p, m.transport});
        }
        c = it != reuse_.end() ? lookup(it->second) : nullptr;
        if (c == nullptr) c = open_outbound(m, ch.index());
        if (c == nullptr) return;  // open_outbound reported why
    }
    if (c == nullptr) {
        if (m.len == 0) return;
        bump(stats_.tx_dropped);
        Conn gone;
        gone.id = m.conn;
        gone.peer = m.peer;
        gone.route = m.route;
        gone.transport = m.transport;
        emit(gone, StreamEventKind::send_failed, 0,
             "connection " + std::to_string(m.conn) + " is closed and the message names no destination");
        return;
    }
    if (m.len == 0) return;
    if (!queue_bytes(*c, m.data, m.len)) {
        bump(stats_.tx_dropped);
        emit(*c, StreamEventKind::send_failed, ENOBUFS,
             "queue limit of " + std::to_string(cfg_.tx_queue_limit) + " bytes reached on " +
                 to_string(c->peer) + " (peer not reading)");
        return;
    }
    bump(stats_.msgs_tx);
    if (c->state != Conn::State::open) {
        c->pending_msgs++;
        c->pending.emplace_back(ch.index(), m.len);
    }
}

// One live entry per connection: a later deadline waits for the armed entry
// (which re-checks every deadline when it fires); an earlier one supersedes
// it, and the superseded entry is skipped when popped (lazy deletion).
void Loop::arm_timer(Conn& c, uint64_t at) {
    if (c.timer_armed && c.timer_at <= at) return;
    c.timer_armed = true;
    c.timer_at = at;
    timers_.push(TimerEntry{at, c.id});
}

void Loop::fire_timers() {
    while (!timers_.empty() && timers_.top().at <= now_ms_) {
        const TimerEntry e = timers_.top();
        timers_.pop();
        Conn* c = lookup(e.id);
        if (c && c->timer_armed && c->timer_at == e.at) {
            c->timer_armed = false;
            on_timer(*c);
        }
    }
}

// Connect/handshake deadline, then RFC 5626 §4.4.1 keep-alive: a ping after
// crlf_ping_interval_s without traffic, and the connection closed when no byte
// (the pong or anything else) comes back within crlf_pong_timeout_ms.
void Loop::on_timer(Conn& c) {
    const StreamKnobs& k = c.knobs;
    if (c.state != Conn::State::open) {
        if (now_ms_ < c.deadline_ms) return arm_timer(c, c.deadline_ms);
        bump(stats_.connect_timeout);
        const bool tls = c.state == Conn::State::handshaking;
        const std::string what = tls ? "TLS handshake with " : "TCP connect to ";
        close_conn(c, StreamEventKind::connect_timeout, ETIMEDOUT,
                   what + to_string(c.peer) + " not complete after " + std::to_string(k.connect_timeout_ms) +
                       " ms");
        return;
    }
    if (!c.outbound || k.crlf_ping_interval_s == 0) return;
    if (c.ping_out) {
        if (now_ms_ < c.deadline_ms) return arm_timer(c, c.deadline_ms);
        bump(stats_.keepalive_lost);
        close_conn(c, StreamEventKind::keepalive_lost, 0,
                   "no CRLF keep-alive pong within " + std::to_string(k.crlf_pong_timeout_ms) +
                       " ms (RFC 5626)");
        return;
    }
    const uint64_t idle_since = c.last_rx_ms > c.last_tx_ms ? c.last_rx_ms : c.last_tx_ms;
    const uint64_t due = idle_since + uint64_t(k.crlf_ping_interval_s) * 1000;
    if (now_ms_ < due) return arm_timer(c, due);
    if (!queue_bytes(c, "\r\n\r\n", 4)) return;
    bump(stats_.pings_tx);
    c.ping_out = true;
    c.framer.set_pong_expected(true);
    c.deadline_ms = now_ms_ + k.crlf_pong_timeout_ms;
    arm_timer(c, c.deadline_ms);
}

void Loop::resume_paused() {
    if (paused_.empty()) return;
    // Taken out first: a connection resumed here may pause again inside
    // on_readable(), which appends it to paused_ anew.
    std::vector<ConnId> list;
    list.swap(paused_);
    for (ConnId id : list) {
        Conn* c = lookup(id);
        if (c == nullptr) continue;
        const Framer::Status st = c->framer.resume(scratch_msg_, [&](const Frame& f, const char* p) {
            return deliver_frame(*c, f, p);
        });
        if (st == Framer::Status::stopped) {
            paused_.push_back(id);
            continue;
        }
        if (!frame_status(*c, st)) continue;
        c->rx_paused = false;
        update_interest(*c);
        on_readable(*c);  // bytes OpenSSL holds decrypted do not wake epoll
    }
}

void Loop::flush_dirty() {
    for (size_t i = 0; i < dirty_.size(); i++) {
        Conn* c = lookup(dirty_[i]);
        if (c == nullptr) continue;
        c->in_dirty = false;
        if (c->state == Conn::State::open) flush(*c);
    }
    dirty_.clear();
}

void Loop::kick_channels() {
    for (size_t i = 0; i < rx_kick_.size(); i++) {
        if (!rx_kick_[i]) continue;
        rx_kick_[i] = 0;
        channels_[i]->rx_kick();
    }
}

int Loop::wait_timeout_ms() const {
    if (!paused_.empty()) return 1;  // poll for rx slots coming back
    uint64_t at = timers_.empty() ? ~uint64_t(0) : timers_.top().at;
    if (listeners_resume_ms_ && listeners_resume_ms_ < at) at = listeners_resume_ms_;
    if (at == ~uint64_t(0)) return -1;
    if (at <= now_ms_) return 0;
    const uint64_t d = at - now_ms_;
    return d > 60000 ? 60000 : int(d);
}

void Loop::emit(const Conn& c, StreamEventKind k, int sys_errno, const std::string& reason) {
    StreamEvent ev;
    ev.at_ms = now_ms_ ? now_ms_ : steady_ms();
    ev.conn = c.id;
    ev.peer = c.peer;
    ev.route = c.route;
    ev.identity = c.identity;
    ev.sys_errno = sys_errno;
    ev.tls_profile = c.profile;
    ev.transport = c.transport;
    ev.kind = k;
    ev.flags = uint8_t((c.outbound ? sev_outbound : 0) |
                       (c.ssl && SSL_session_reused(c.ssl) ? sev_tls_resumed : 0));
    const size_t n = reason.size() < sizeof ev.reason - 1 ? reason.size() : sizeof ev.reason - 1;
    std::memcpy(ev.reason, reason.data(), n);
    ev.reason[n] = 0;
    if (!events_.push(ev)) {
        bump(stats_.events_dropped);
        return;
    }
    event_waker_.kick();
}

void Loop::close_all() {
    for (auto& s : slots_) {
        if (!s) continue;
        Conn& c = *s;
        if (c.ssl) {
            // No close_notify here: this runs on the caller's thread, where a
            // write to a vanished peer would raise SIGPIPE.
            SSL_free(c.ssl);
            c.ssl = nullptr;
        }
        if (c.fd >= 0) close(c.fd);
        c.fd = -1;
    }
    slots_.clear();
    reuse_.clear();
}

}  // namespace sipedge::stream
