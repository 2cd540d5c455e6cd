#pragma once
// The control socket: a Unix stream socket served by one epoll loop on the
// control thread. Many clients; input is line-buffered; each line is handed
// to the command handler and its reply is written back as one line. The
// socket file is created atomically (bound under a temporary name, given mode
// 0660 and the configured group, then renamed into place); an existing file
// is replaced only when it is a stale socket nobody listens on.
//
// Every line gets exactly one reply line, an empty line included (the
// handler's error). Replies are written without blocking: a client that is
// slow to read never holds up another's replies.
//
// Capacity and bounds (docs/control.md "Socket"): at most max_clients
// connections and max_clients_per_uid per peer uid (SO_PEERCRED), so one
// user's idle connections cannot lock others out; a connection refused for
// either gets one error line (status 16 EBUSY) and is closed. A client that
// sends nothing and reads nothing for idle_ms is closed (one status 110
// ETIMEDOUT line first; subscribers are exempt). A line longer than max_line
// bytes gets an error reply (without a newline in sight: and the connection
// is closed). A client that keeps sending commands while more than
// max_pending bytes of its earlier replies are still unread is dropped
// (counted in clients_dropped()); one reply of any size is always delivered.

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace sipedge::ctl {

struct SocketOptions {
    std::string path;            // e.g. /run/sipedge.sock
    std::string group;           // --socket-group; "" = the process's group
    mode_t mode = 0660;
    size_t max_clients = 256;
    size_t max_clients_per_uid = 64;  // connections from one peer uid (root included)
    uint32_t idle_ms = 60000;         // nothing received or sent for this long: closed; 0 = never
    size_t max_line = 64 * 1024;
    size_t max_pending = 4u << 20;    // unread reply bytes before a new command drops the client
    // A subscriber (`monitor ...`) with more than this many bytes unsent is
    // dropped: a slow reader never holds the control loop back.
    size_t max_subscriber_pending = 256u << 10;
};

class SocketServer {
public:
    using Handler = std::function<std::string(std::string_view line)>;

    /// Creates the socket file and starts listening. Rejects a path too long
    /// for sun_path, a live socket at <path>, a non-socket file at <path>, an
    /// unknown group, and any failing syscall (with its errno).
    static Result<std::unique_ptr<SocketServer>> open(const SocketOptions& opt, Handler handler);
    ~SocketServer();
    SocketServer(const SocketServer&) = delete;
    SocketServer& operator=(const SocketServer&) = delete;

    /// Adds <fd> to the loop; <on_ready> runs when it is readable (timers,
    /// signals, a stop eventfd).
    Status watch(int fd, std::function<void()> on_ready);
    /// Waits up to <timeout_ms> (-1: forever) and serves what is ready.
    Status poll_once(int timeout_ms);
    /// Runs poll_once until stop() is called (from a watched fd's callback).
    Status run();
    void stop() noexcept { stop_ = true; }
    size_t client_count() const noexcept { return clients_.size(); }

    // ---- subscribers (control/monitor.h) -------------------------------------------
    using ConnId = uint64_t;  // 1, 2, ...; never reused
    /// The connection whose line the Handler is serving now; 0 outside a Handler call.
    ConnId current_conn() const noexcept { return current_; }
    /// Makes <id> a subscriber: its later input is read and discarded (so its
    /// EOF is seen), it only receives push() lines. false when <id> is gone.
    bool mark_subscriber(ConnId id);
    /// Queues <line> plus a newline for subscriber <id> and sends what the
    /// socket takes. A subscriber whose unsent bytes would pass
    /// max_subscriber_pending is dropped (closed at the end of the current
    /// poll_once, counted). false when <id> is gone, not a subscriber, or dropped.
    bool push(ConnId id, std::string_view line);
    /// Runs with the id of every connection that closes.
    void set_close_hook(std::function<void(ConnId)> h) { close_hook_ = std::move(h); }
    uint64_t subscribers_dropped() const noexcept { return subs_dropped_; }
    /// Clients dropped for more than max_pending unread reply bytes. Any thread (relaxed).
    uint64_t clients_dropped() const noexcept { return clients_dropped_.load(std::memory_order_relaxed); }
    /// Clients closed after idle_ms without traffic. Any thread (relaxed).
    uint64_t idle_closed() const noexcept { return idle_closed_.load(std::memory_order_relaxed); }
    /// Connections refused by max_clients or max_clients_per_uid. Any thread (relaxed).
    uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }
    const std::string& path() const noexcept { return opt_.path; }

private:
    struct Client {
        int fd = -1;
        std::string in;
        std::string out;
        bool eof = false;
        uint32_t mask = 0x2001;  // EPOLLIN | EPOLLRDHUP, as registered
        uint64_t id = 0;
        bool subscriber = false;
        uid_t uid = 0;        // SO_PEERCRED at accept
        int64_t last_ms = 0;  // monotonic ms of the last byte received or sent
    };
    struct Watch {
        int fd;
        std::function<void()> cb;
    };

    SocketServer(SocketOptions opt, Handler h) : opt_(std::move(opt)), handler_(std::move(h)) {}
    void accept_all();
    void on_client(Client& c, uint32_t events);
    void serve_lines(Client& c);
    void flush(Client& c);
    void update_events(Client& c);
    void close_client(int fd);
    Client* find_conn(ConnId id);
    void close_doomed();
    void reply_line(Client& c, std::string_view line);
    void expire_idle();

    SocketOptions opt_;
    Handler handler_;
    int epfd_ = -1;
    int lfd_ = -1;
    int tfd_ = -1;  // idle sweep timer (idle_ms > 0)
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    bool stop_ = false;
    std::vector<std::unique_ptr<Client>> clients_;
    std::vector<Watch> watches_;
    uint64_t next_id_ = 1;
    ConnId current_ = 0;
    std::vector<ConnId> doomed_;  // dropped subscribers, closed after the poll
    std::function<void(ConnId)> close_hook_;
    uint64_t subs_dropped_ = 0;
    // Written by the loop's thread, read by any (tests, metrics): relaxed counters.
    std::atomic<uint64_t> clients_dropped_{0};
    std::atomic<uint64_t> idle_closed_{0};
    std::atomic<uint64_t> refused_{0};
};

}  // namespace sipedge::ctl
