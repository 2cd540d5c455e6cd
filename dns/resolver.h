#pragma once
// The control thread's DNS service: one c-ares channel, the answer cache with
// restore and static records, and one RFC 3263 Locator per trunk host being
// resolved. Each started host is resolved at once and then refreshed in the
// background before its answers expire; every new ServerList goes to the
// host's callback, where the failover engine applies its sticky-route rule
// (seed P "DNS Ordering Changes While a Phone Is Registered").
//
// Event-loop integration (no thread per query, nothing blocks):
//   - set_socket_watch(): told of every socket to add/modify/remove in epoll
//     (or read sockets() before each poll());
//   - on_fd(): a watched socket is ready;
//   - next_deadline() / on_timer(): c-ares timeouts and refresh times.
// Time is passed in as <now> (monotonic ms); randomness is injected (Rng).
// Callbacks run from on_fd(), on_timer() or start(), after the c-ares work
// of that call is done, so they may call start() and stop().

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "base/result.h"
#include "dns/ares_channel.h"
#include "dns/cache.h"
#include "dns/locator.h"
#include "dns/records.h"
#include "dns/srv_order.h"
#include "dns/types.h"

namespace sipedge::dns {

struct ResolverConfig {
    ChannelConfig channel;  // servers, timeout, tries
    CacheConfig cache;      // restore, static records, refresh lead
};

Status validate(const ResolverConfig& cfg);

using LocateId = uint64_t;
/// Receives every new list for a host; <changed> is false when the servers
/// are the same as in the previous delivery (same_servers()).
using OnUpdate = std::function<void(LocateId id, const ServerList& list, bool changed)>;

/// One row of `show dns hosts`.
struct LocateStatus {
    LocateId id = 0;
    LocateRequest request;
    ServerList current;     // the list in use (generation 0: none yet)
    bool resolving = false;
    Millis refresh_at = 0;  // next background refresh
    uint64_t updates = 0;
};

class Resolver {
public:
    /// Validates <cfg> and opens the channel. <rng> orders SRV weights.
    static Result<std::unique_ptr<Resolver>> create(ResolverConfig cfg, Rng rng = make_default_rng());
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    /// Starts locating <req> at <now>; <cb> receives the first list and every
    /// refresh. Rejects an invalid request (EINVAL).
    Result<LocateId> start(LocateRequest req, OnUpdate cb, Millis now);
    /// Stops refreshing <id>; its callback is not called again. Unknown ids are ignored.
    void stop(LocateId id);

    /// A watched socket <fd> is readable and/or writable.
    void on_fd(int fd, bool readable, bool writable, Millis now);
    /// Call at next_deadline(): c-ares timeouts and due refreshes.
    void on_timer(Millis now);
    /// When on_timer() is next needed; never_ms when nothing is pending.
    Millis next_deadline(Millis now) const;

    /// Called with every socket change (read = write = false: remove), for epoll.
    void set_socket_watch(AresChannel::SocketCb cb) { socket_watch_ = std::move(cb); }
    /// The sockets to watch now (for poll()).
    std::vector<WatchedFd> sockets() const { return channel_->sockets(); }

    /// The list in use for <id>, or null for an unknown id.
    const ServerList* current(LocateId id) const;
    std::vector<LocateStatus> locate_status() const;
    /// Per name and type: the answer in use, its source and expiry, the last error.
    std::vector<NameStatus> name_status() const { return cache_.status(); }
    Cache& cache() { return cache_; }
    size_t queries_in_flight() const { return channel_->in_flight(); }

private:
    struct Locate {
        LocateRequest req;
        OnUpdate cb;
        ServerList current;
        bool changed = false;
        std::unique_ptr<Locator> job;
        Millis job_refresh_at = never_ms;  // earliest refresh time of the answers the job used
        Millis refresh_at = never_ms;
        uint64_t updates = 0;
    };
    struct Arrived {
        Question q;
        Answer a;
    };

    Resolver(ResolverConfig cfg, Rng rng);
    void begin_job(LocateId id, Locate& l);
    void pump(LocateId id, Locate& l);
    void finish(LocateId id, Locate& l);
    void drain();
    void deliver();

    ResolverConfig cfg_;
    Rng rng_;
    Cache cache_;
    std::unique_ptr<AresChannel> channel_;
    AresChannel::SocketCb socket_watch_;
    std::map<LocateId, Locate> locates_;
    std::map<Question, std::vector<LocateId>> inflight_;  // network questions and who waits
    std::vector<Arrived> arrived_;     // answers queued by c-ares callbacks
    std::vector<LocateId> completed_;  // lists to deliver after the c-ares work
    LocateId next_id_ = 1;
    Millis now_ = 0;
    bool closing_ = false;
};

}  // namespace sipedge::dns
