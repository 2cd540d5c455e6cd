#pragma once
// Access peers and flood guards (issue 16): who on the access side may send
// requests at all, at what rate, and what a single source flooding us gets.
//
// - AccessPeers (immutable, published by control in the routing snapshot):
//   the configured access peers, each a set of IPv4 networks and its request
//   rates per kind (INVITE, REGISTER, other), requests/s with a burst. With
//   `restrict_sources`, a request from an address in no peer's networks is
//   refused (403) — the edge is not an open door to the carriers.
// - FloodGuard (one per worker, fixed memory, no allocation after init): a
//   token bucket per (peer, kind), and a per-source counter (Kamailio's
//   "pike" idea) that blocks a source sending more than `source_rps`
//   requests in a one-second window for `block_s` seconds.
//
// Limits are per worker: RSS keeps one source on one worker, so a peer with
// one address gets exactly its rate; a peer whose addresses spread over W
// workers gets at most W times it (docs/security.md says so).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "base/millis.h"

namespace sipedge::dp {

/// Milliseconds of the worker's monotonic clock (base/millis.h).
using Millis = sipedge::Millis;

/// Access peers a configuration may hold (control refuses more): the bucket
/// sets every worker's FloodGuard allocates.
inline constexpr uint32_t max_access_peers = 256;
/// Networks over all peers (peer_of() scans them in order).
inline constexpr uint32_t max_access_networks = 1024;

/// Request kinds a peer's rates are given for.
enum class RateKind : uint8_t { invite, register_, other, count_ };

/// One network of an access peer (host order), `mask` from its prefix length.
struct PeerNet {
    uint32_t net = 0;
    uint32_t mask = 0;
    uint16_t peer = 0;   // index into AccessPeers::limits
    uint8_t prefix = 0;  // 0–32
    uint8_t pad_ = 0;
};
static_assert(std::is_trivially_copyable_v<PeerNet>);

/// A peer's rates: requests/s per kind (0: unlimited) and the burst each
/// bucket holds (0: one second's worth).
struct PeerLimit {
    uint32_t rps[size_t(RateKind::count_)] = {};
    uint32_t burst[size_t(RateKind::count_)] = {};
};
static_assert(std::is_trivially_copyable_v<PeerLimit>);

/// What a flooding or over-rate source gets.
enum class FloodAction : uint8_t { reject_503, drop };

/// The access side as control configured it (owned by the snapshot).
struct AccessPeers {
    const PeerNet* nets = nullptr;      // longest prefix first (peer_of() takes the first match)
    uint32_t net_count = 0;
    const PeerLimit* limits = nullptr;  // [peer]
    uint32_t peer_count = 0;
    bool restrict_sources = false;      // a source in no peer's networks: 403
    FloodAction action = FloodAction::reject_503;
    uint32_t source_rps = 0;            // per-source flood guard: requests/s per address; 0 = off
    uint32_t block_s = 10;              // how long a flooding source stays blocked
    uint32_t retry_after_s = 10;        // Retry-After on the 503s (0: none)
};
static_assert(std::is_trivially_copyable_v<AccessPeers>);

/// The peer whose network holds <ip> (host order): its index, or -1.
int peer_of(const AccessPeers& p, uint32_t ip) noexcept;

/// Classification of one request by FloodGuard::check().
enum class FloodVerdict : uint8_t {
    pass,
    not_a_peer,     // restrict_sources and <ip> in no peer's networks
    source_flood,   // the per-source guard blocks this address
    peer_rate,      // the peer's bucket for this kind is empty
};

/// Per-worker state: token buckets and the per-source table. Not thread-safe
/// (one per worker); init() allocates, check() never does.
class FloodGuard {
public:
    /// <max_peers> buckets sets, <sources> per-source entries (rounded up to
    /// a power of two; 0 = 65,536). False when allocation fails.
    bool init(uint32_t max_peers, uint32_t sources = 0);

    /// Decides for one request of <kind> from <ip> at <now>. Counts nothing
    /// itself: the caller counts by verdict. <peer_out>: the peer, or -1.
    FloodVerdict check(const AccessPeers& p, uint32_t ip, RateKind kind, Millis now, int& peer_out) noexcept;

    /// Seconds a blocked <ip> still waits (Retry-After), at least 1.
    uint32_t blocked_for_s(uint32_t ip, Millis now) const noexcept;

    /// Every peer bucket back to full (a new peer set: indices mean other peers).
    void reset_buckets() noexcept;

    /// Sources currently blocked (for show stats / tests).
    uint32_t blocked_sources(Millis now) const noexcept;
    /// Per-source entries evicted because the table was full around them.
    uint64_t evictions() const noexcept { return evictions_; }

private:
    struct Bucket {
        uint64_t tokens_milli = 0;  // tokens × 1000
        Millis at = 0;              // last refill
        bool primed = false;
    };
    struct Source {
        uint32_t ip = 0;            // 0: empty
        uint32_t count = 0;         // requests in the window starting at `window`
        Millis window = 0;
        Millis blocked_until = 0;
    };
    static constexpr uint32_t probe_len = 8;

    bool take(Bucket& b, uint32_t rps, uint32_t burst, Millis now) noexcept;
    Source* source(uint32_t ip, Millis now) noexcept;
    const Source* find(uint32_t ip) const noexcept;

    std::unique_ptr<Bucket[]> buckets_;  // [peer × RateKind::count_]
    uint32_t max_peers_ = 0;
    std::unique_ptr<Source[]> sources_;
    uint32_t mask_ = 0;
    uint64_t evictions_ = 0;
};

}  // namespace sipedge::dp
