#pragma once
// The immutable routing snapshot workers read (STYLE.md §3.1): per trunk, the
// ordered candidates a new request may use, the retry budget of each, and
// which servers in-dialog signalling may use. Control builds a new Table with
// a TableBuilder and publishes it through an RCU-protected pointer; workers
// acquire-load it once per loop and keep only (trunk_id, server_idx,
// list_epoch) in their transactions.
//
// Memory: TrunkRoutes is 880 bytes (max_candidates = 16 × 32-byte
// candidates + 3 RetryPolicies + header with the 254-byte Request-URI
// domain), so 10,000 trunks take 8.8 MB. A
// rebuild after one server's state changes allocates one TrunkRoutes and
// copies 10,000 shared pointers: unchanged trunks are shared between
// consecutive tables (control side only; workers never touch the counts).

#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "failover/knobs.h"
#include "failover/retry_policy.h"
#include "failover/server_set.h"

namespace sipedge::failover {

inline constexpr size_t max_candidates = max_servers;

/// Candidate::flags bits.
enum CandidateFlag : uint8_t {
    cand_registered = 1 << 0,  // an identity of the trunk holds a binding there
    cand_validated = 1 << 1,   // seed A validated server: new requests go only here
    cand_failed = 1 << 2,      // known failed (kept in the list by the configured rule)
};

/// One server a new request may be sent to. 32 bytes.
struct Candidate {
    uint8_t addr[16] = {};      // IPv4 in addr[0..3], or IPv6
    uint16_t port = 0;
    uint16_t server_idx = 0;    // stable index into the trunk's server list at this gen
    uint32_t budget_ms = 0;     // INVITE retry budget on this server before rolling over
    uint16_t attempts = 0;      // transmissions to this server (0 = until budget_ms/Timer B)
    sip::Transport transport = sip::Transport::udp;
    uint8_t family = 4;         // 4 or 6
    uint8_t flags = 0;          // CandidateFlag bits
    uint8_t pad_[3] = {};
};
static_assert(std::is_trivially_copyable_v<Candidate> && sizeof(Candidate) == 32);

/// TrunkRoutes::flags bits.
enum RoutesFlag : uint8_t {
    routes_no_registration = 1 << 0,  // seed P onlySignalWithRegistered: no binding → no route
    routes_backoff = 1 << 1,          // all servers failed; registration is backing off
    routes_hide_topology = 1 << 2,    // topology hiding toward this trunk (issue 16)
};

/// One trunk's routes at one generation.
struct TrunkRoutes {
    uint32_t trunk_id = 0;
    uint32_t signal_mask = 0;       // servers in-dialog requests may use (bit = server_idx)
    /// Server-list epoch: changes whenever the trunk's server list (and so
    /// the meaning of server_idx) changes; workers store it in their
    /// transactions and events echo it. Compared for equality only, never in
    /// a window: traffic cannot exhaust it (2^32 list changes).
    uint32_t list_epoch = 0;
    uint8_t count = 0;              // candidates in cand[]
    uint8_t flags = 0;              // RoutesFlag bits
    uint16_t provisional_timeout_s = 0;  // INVITE: trunk's provisional-timeout; 0 = off
    RuriHost ruri_host = RuriHost::keep; // Request-URI host of requests sent to the trunk
    uint8_t ruri_domain_len = 0;
    char ruri_domain[254] = {};          // RuriHost::domain: the trunk's domain (no NUL)
    RetryPolicy policy[3];          // by RequestKind: invite, register_, other
    Candidate cand[max_candidates];

    /// Whether in-dialog signalling may go to (or come from) <server_idx>
    /// (seed P/E onlySignalWithRegistered: "the call will end" otherwise).
    bool may_signal(uint16_t server_idx) const noexcept {
        return server_idx < 32 && (signal_mask >> server_idx) & 1u;
    }
};
static_assert(std::is_trivially_copyable_v<TrunkRoutes> && sizeof(TrunkRoutes) == 880);

/// Immutable after build(). Trunk ids are dense (0 .. trunk_count()-1).
class Table {
public:
    /// The routes of <trunk_id>, or nullptr for an unknown or removed trunk.
    /// Lock-free and O(1): an index into a vector of pointers.
    const TrunkRoutes* find(uint32_t trunk_id) const noexcept {
        return trunk_id < trunks_.size() ? trunks_[trunk_id].get() : nullptr;
    }
    size_t trunk_count() const noexcept { return trunks_.size(); }
    /// Table-wide publication counter (control's, for logs and tests).
    uint64_t version() const noexcept { return version_; }

private:
    friend class TableBuilder;
    std::vector<std::shared_ptr<const TrunkRoutes>> trunks_;
    uint64_t version_ = 0;
};

/// Builds the next Table from the previous one: unchanged trunks are shared,
/// set() replaces one trunk's routes. Control thread only.
class TableBuilder {
public:
    /// Starts from <prev> (may be null: an empty table).
    explicit TableBuilder(const Table* prev);
    /// Replaces (or adds) the routes of routes.trunk_id.
    void set(std::shared_ptr<const TrunkRoutes> routes);
    /// Removes a trunk: find() returns nullptr for it.
    void remove(uint32_t trunk_id);
    /// The finished table; the builder is empty afterwards.
    std::unique_ptr<const Table> build();

private:
    std::unique_ptr<Table> t_;
};

/// Per-request selection on a worker: the candidate for attempt <n> (0 =
/// first) of a new request on <trunk_id>, or nullptr when the trunk has no
/// route (unknown trunk, no registration under onlySignalWithRegistered, or
/// past the last candidate). No allocation, no lock.
inline const Candidate* select_candidate(const Table& t, uint32_t trunk_id, uint32_t n) noexcept {
    const TrunkRoutes* r = t.find(trunk_id);
    if (r == nullptr || n >= r->count) return nullptr;
    return &r->cand[n];
}

}  // namespace sipedge::failover
