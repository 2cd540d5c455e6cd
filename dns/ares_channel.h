#pragma once
// The thin c-ares layer: one ares_channel driven by the control thread's event
// loop, never by a thread of its own and never blocking. c-ares tells us which
// sockets it wants watched (ARES_OPT_SOCK_STATE_CB); the loop calls
// process_fd() when one is ready and process_timeouts() at timeout_ms().
// Answers are decoded here into dns::Answer and classified for the restore
// rule; everything else (RFC 3263, caching) is pure code elsewhere.
//
// Debian 12 ships c-ares 1.18, which has ares_process_fd() but not the newer
// ares_process_fds(). Truncated UDP answers are retried over TCP by c-ares
// itself unless ignore_truncation is set (ARES_FLAG_IGNTC).
// Single-threaded, as Envoy's dns_impl.h also requires of c-ares.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "base/result.h"
#include "dns/records.h"
#include "dns/types.h"

typedef struct ares_channeldata* ares_channel;

namespace sipedge::dns {

/// One DNS server (address and port).
struct ServerAddr {
    IpAddr addr;
    uint16_t port = 53;
};

/// Resolver settings.
struct ChannelConfig {
    std::vector<ServerAddr> servers;  // empty: /etc/resolv.conf
    uint32_t timeout_ms = 2000;       // first-try timeout (c-ares grows it per try); 100–30000
    uint32_t tries = 2;               // per server; 1–10
    uint16_t edns_bufsize = 0;        // 0: no EDNS0 (512-byte UDP answers); else 512–4096
    bool ignore_truncation = false;   // keep a truncated UDP answer instead of retrying on TCP
};

Status validate(const ChannelConfig& cfg);

/// A socket c-ares wants watched.
struct WatchedFd {
    int fd = -1;
    bool read = false;
    bool write = false;
};

/// Classifies a c-ares status for the restore rule (seed P dynamicRestore).
AnswerStatus classify(int ares_status);

/// Decodes the reply <abuf, alen> that c-ares delivered with <ares_status>
/// for a question of type <type>. Record TTLs are read from the answer section.
Answer decode_answer(int ares_status, RrType type, const unsigned char* abuf, int alen);

class AresChannel {
public:
    using SocketCb = std::function<void(int fd, bool read, bool write)>;
    using AnswerCb = std::function<void(Answer)>;

    /// Creates a channel with <cfg> (validated here). <on_socket> is called for
    /// every change of the sockets to watch (read = write = false: stop watching).
    static Result<std::unique_ptr<AresChannel>> create(const ChannelConfig& cfg, SocketCb on_socket);
    ~AresChannel();
    AresChannel(const AresChannel&) = delete;
    AresChannel& operator=(const AresChannel&) = delete;

    /// Sends <q>; <cb> runs exactly once, from process_fd(), process_timeouts()
    /// or the destructor (then with a no_answer "cancelled" Answer).
    void query(const Question& q, AnswerCb cb);

    /// Processes a ready socket. Answer callbacks run inside.
    void process_fd(int fd, bool readable, bool writable);
    /// Processes expired query timeouts. Answer callbacks run inside.
    void process_timeouts();
    /// Milliseconds until c-ares next needs process_timeouts(), or nullopt when idle.
    std::optional<uint32_t> timeout_ms() const;
    /// The sockets to watch now.
    std::vector<WatchedFd> sockets() const;
    size_t in_flight() const { return in_flight_; }

private:
    AresChannel() = default;
    static void on_sock_state(void* data, int fd, int readable, int writable);
    static void on_reply(void* arg, int status, int timeouts, unsigned char* abuf, int alen);

    ares_channel channel_ = nullptr;
    SocketCb on_socket_;
    std::map<int, WatchedFd> sockets_;
    size_t in_flight_ = 0;
};

}  // namespace sipedge::dns
