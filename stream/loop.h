#pragma once
// Internal: the stream thread's state and event loop behind StreamTransport.
// loop.cc holds the thread, commands, timers and the tx drain; loop_io.cc the
// per-connection I/O (connect, accept, TLS handshake, read/frame, write, close).
// Everything here but the members marked "control" runs on the stream thread.

#include <array>
#include <atomic>
#include <cstring>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sipparse/message.h"
#include "stream/channel.h"
#include "stream/framer.h"
#include "stream/spsc_ring.h"
#include "stream/tls.h"
#include "stream/transport.h"

namespace sipedge::stream {

/// One TCP or TLS connection. ~250 bytes plus OpenSSL's SSL object; queues
/// and the framer's partial-message buffer are empty (unallocated) when idle.
struct Conn {
    enum class State : uint8_t { connecting, handshaking, open };

    ConnId id = no_conn;
    int fd = -1;
    Transport transport = Transport::tcp;
    State state = State::connecting;
    bool outbound = false;
    bool registered = false;       // in the epoll set
    bool rx_paused = false;        // waiting for rx slots (back-pressure)
    bool want_out = false;         // a write or TLS step waits for EPOLLOUT
    bool ssl_read_wants_write = false;
    bool ping_out = false;         // RFC 5626 ping sent, no bytes back since
    bool timer_armed = false;      // a live timer-heap entry exists (at timer_at)
    bool in_dirty = false;         // in Loop::dirty_ (to flush)
    bool resume_tried = false;     // a cached TLS session was offered
    bool alias_checked = false;    // inbound: its first request was looked at for ;alias
    bool closing_locally = false;  // closed on request (close_connection): workers are not told
    PeerAddr alias;                // RFC 5923: the sent-by its peer aliased to it (family 0: none)
    uint32_t events = 0;           // registered epoll events
    uint32_t channel = 0;
    uint32_t identity = 0;
    uint32_t profile = 0;
    int deferred_errno = 0;        // connect() failed at once: reported after the tx drain
    uint32_t pending_msgs = 0;     // queued before the connection was usable
    /// Those messages (their channel and length, in queue order): bounced
    /// back to their workers when the connection fails (StreamMsgFlag).
    std::vector<std::pair<uint32_t, uint32_t>> pending;
    PeerAddr peer;
    PeerAddr local;
    RouteTag route;
    StreamKnobs knobs;             // its timing: the profile's (set_profile_knobs) or the defaults
    uint64_t deadline_ms = 0;      // connecting/handshaking: give up; ping_out: pong due
    uint64_t timer_at = 0;         // the live timer-heap entry's time (when timer_armed)
    uint64_t last_rx_ms = 0;
    uint64_t last_tx_ms = 0;
    SSL* ssl = nullptr;
    std::unique_ptr<TlsLink> link;
    std::shared_ptr<const TlsContext> tls;
    Framer framer;
    std::vector<char> out;         // bytes to write, from out_off
    size_t out_off = 0;
};

/// RFC 3261 §18.1.1 reuse key (plus the local identity and TLS profile, so a
/// trunk with its own client certificate never shares another's connection).
struct ReuseKey {
    PeerAddr peer;
    uint32_t identity = 0;
    uint32_t profile = 0;
    Transport transport = Transport::tcp;
    bool operator==(const ReuseKey& o) const noexcept {
        return peer == o.peer && identity == o.identity && profile == o.profile && transport == o.transport;
    }
};
struct ReuseHash {
    size_t operator()(const ReuseKey& k) const noexcept;
};

struct Listener {
    int fd = -1;
    uint64_t tag = 0;     // epoll data
    bool paused = false;  // out of descriptors: not polled until listeners_resume_ms_
    Transport transport = Transport::tcp;
    PeerAddr addr;
    std::shared_ptr<const TlsContext> tls;
};

class Loop {
public:
    explicit Loop(const StreamConfig& c);
    ~Loop();

    // ---- control side -----------------------------------------------------------
    Status set_client_profile(uint32_t id, const TlsClientConfig& c);
    Status set_server_profile(uint32_t id, const TlsServerConfig& c);
    void set_peer_profiles(const std::vector<std::pair<PeerAddr, uint32_t>>& m);
    void set_profile_knobs(uint32_t profile, const StreamKnobs& k);
    using PeerKey = std::array<uint8_t, sizeof(PeerAddr)>;
    static PeerKey peer_key(const PeerAddr& a) noexcept {
        PeerKey k;
        std::memcpy(k.data(), &a, sizeof a);
        return k;
    }
    Result<PeerAddr> listen(const ListenConfig& c);
    Status start();
    void stop();
    void post_close(ConnId id);
    Channel& channel(uint32_t i) noexcept { return *channels_[i]; }
    uint32_t channels() const noexcept { return uint32_t(channels_.size()); }
    bool poll_event(StreamEvent& out) noexcept { return events_.pop(out); }
    bool wait_event(StreamEvent& out, int timeout_ms) noexcept;
    int event_fd() const noexcept { return event_waker_.fd(); }
    void event_arm() noexcept { event_waker_.arm(); }
    StreamStats stats() const noexcept;

private:
    // ---- loop.cc ----------------------------------------------------------------------
    void run();
    void adopt_commands();
    void drain_tx();
    void handle_send(Channel& ch, const StreamMsg& m);
    void fire_timers();
    void on_timer(Conn& c);
    void arm_timer(Conn& c, uint64_t at);
    void resume_paused();
    void flush_dirty();
    void kick_channels();
    int wait_timeout_ms() const;
    void emit(const Conn& c, StreamEventKind k, int sys_errno, const std::string& reason);
    void close_all();

    // ---- loop_io.cc ---------------------------------------------------------------------
    Conn* new_conn(int fd, Transport t, bool outbound);
    Conn* lookup(ConnId id) noexcept;
    Conn* open_outbound(const StreamMsg& m, uint32_t channel);
    void finish_connect(Conn& c);
    void fail_connect(Conn& c, int e);
    bool start_tls(Conn& c);
    void handshake_step(Conn& c);
    void became_open(Conn& c);
    void on_accept(Listener& l);
    void on_conn_event(Conn& c, uint32_t ev);
    bool on_readable(Conn& c);
    bool deliver(Conn& c, const char* p, size_t n);
    bool deliver_frame(Conn& c, const Frame& f, const char* p);
    bool frame_status(Conn& c, Framer::Status st);
    bool flush(Conn& c);
    bool queue_bytes(Conn& c, const char* p, size_t n);
    void mark_dirty(Conn& c);
    void update_interest(Conn& c);
    void close_conn(Conn& c, StreamEventKind k, int sys_errno, const std::string& reason);
    void bounce_pending(Conn& c);
    void notify_closed(const Conn& c);
    void note_alias(Conn& c, const char* p, size_t n);
    static void header_from(StreamMsg& m, const Conn& c, uint8_t flags, uint32_t len) noexcept;
    void read_error(Conn& c, int e);

    template <class T>
    void bump(T& field, uint64_t n = 1) noexcept {
        // Single writer: a relaxed load+store is enough for readers of stats().
        std::atomic_ref<uint64_t> r(field);
        r.store(r.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    const StreamConfig cfg_;
    std::vector<std::unique_ptr<Channel>> channels_;
    SpscRing<StreamEvent> events_;
    Waker waker_;        // wakes the stream thread (tx, commands, stop)
    Waker event_waker_;  // wakes the event consumer
    int epfd_ = -1;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    bool running_ = false;  // control

    // Control → stream thread, under mu_.
    std::mutex mu_;
    std::map<uint32_t, std::shared_ptr<const TlsContext>> client_profiles_;
    std::map<uint32_t, std::shared_ptr<const TlsContext>> server_profiles_;
    std::map<PeerKey, uint32_t> peer_profiles_;  // set_peer_profiles()
    /// The TLS profile control set for <peer> (set_peer_profiles), 0 when none;
    /// the _locked one with mu_ held.
    uint32_t peer_profile_locked(const PeerAddr& peer) const {
        const auto p = peer_profiles_.find(peer_key(peer));
        return p == peer_profiles_.end() ? 0 : p->second;
    }
    uint32_t peer_profile(const PeerAddr& peer) {
        std::lock_guard<std::mutex> g(mu_);
        return peer_profile_locked(peer);
    }
    std::map<uint32_t, StreamKnobs> profile_knobs_;  // set_profile_knobs()
    std::vector<Listener> new_listeners_;
    std::vector<ConnId> closes_;
    std::atomic<bool> commands_{false};

    // Stream thread.
    std::vector<Listener> listeners_;
    std::vector<std::unique_ptr<Conn>> slots_;
    std::vector<uint32_t> gens_;
    std::vector<uint32_t> free_slots_;
    std::unordered_map<ReuseKey, ConnId, ReuseHash> reuse_;
    struct TimerEntry {
        uint64_t at;
        ConnId id;
        bool operator>(const TimerEntry& o) const noexcept { return at > o.at; }
    };
    std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<TimerEntry>> timers_;
    std::vector<ConnId> dirty_;
    std::vector<ConnId> paused_;
    std::vector<ConnId> deferred_;  // connects that failed at once
    std::vector<uint8_t> rx_kick_;  // per channel: messages pushed since the last kick
    uint32_t next_inbound_channel_ = 0;
    uint64_t listeners_resume_ms_ = 0;  // 0 = no listener paused
    uint64_t now_ms_ = 0;
    TlsSessionCache sessions_;
    sip::Message scratch_msg_;
    std::unique_ptr<char[]> rbuf_;  // read buffer, 64 KiB
    StreamStats stats_;
};

/// Steady-clock milliseconds.
uint64_t steady_ms() noexcept;
/// Takes a SIGPIPE left pending by OpenSSL's write(2) on the stream thread
/// (blocked there, so it would otherwise stay pending).
void consume_sigpipe() noexcept;

}  // namespace sipedge::stream
