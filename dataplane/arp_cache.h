#pragma once
// Per-core ARP cache (RFC 826) with expiry and up to park_max pending
// packets per unresolved next hop. No DPDK, no allocation: a fixed array searched
// linearly, which is right for what an edge talks to on one link (a gateway
// and a handful of peers). Time is injected (ms).
//
// States: free → incomplete (request sent, packets parked) → reachable
// (until reachable_ms after the last confirmation). A reachable entry past
// its time is still used while it is re-confirmed (a request is sent at most
// every retry_ms; Linux's STALE/PROBE); with no answer after max_tries it is
// freed. An incomplete entry with no answer after max_tries drops its parked
// packets. Parked packets are opaque cookies (the worker's mbuf pointers);
// 0 means none. A burst to a next hop not yet resolved (the first INVITEs to
// a carrier after start) keeps its first park_max packets in order; beyond
// that the oldest is given back to be dropped (Linux keeps a queue too:
// unres_qlen_bytes). One slot used to lose every packet of such a burst
// but the last (e2e_relay: 35 arp_unresolved at start, each a Timer A wait).
//
// Capacity and memory: `capacity` entries of 64 bytes (4 KiB per core).

#include <cstddef>
#include <cstdint>

#include "dataplane/inet.h"

namespace sipedge::dp {

class ArpCache {
public:
    static constexpr size_t capacity = 64;
    static constexpr size_t park_max = 4;  // packets held per unresolved next hop
    struct Config {
        uint64_t reachable_ms = 60000;
        uint64_t retry_ms = 1000;
        uint8_t max_tries = 3;
    };

    enum class Status : uint8_t {
        hit,     // <mac> is set; the packet can go now
        parked,  // the packet is held until the reply (or dropped by tick())
        full,    // no entry free: the caller drops the packet
    };
    struct Result {
        Status status = Status::full;
        bool send_request = false;  // send an ARP request for the address now
        uint64_t replaced = 0;      // an older parked packet the caller must drop
    };
    /// Packets released by learn(), oldest first.
    struct Parked {
        uint64_t c[park_max] = {};
        uint8_t n = 0;
    };

    ArpCache() noexcept : cfg_() {}
    explicit ArpCache(Config c) noexcept : cfg_(c) {}

    /// Next-hop lookup of <ip> at <now> for a packet <cookie> (parked on a miss).
    Result resolve(uint32_t ip, uint64_t now, MacAddr& mac, uint64_t cookie) noexcept;
    /// <ip> is at <mac> (an ARP reply, or a request from <ip>). Updates an
    /// existing entry; creates one only when <create> (RFC 826: a request
    /// aimed at us). Returns the packets parked for <ip>, which the caller
    /// sends now to <mac>, in that order.
    Parked learn(uint32_t ip, const MacAddr& mac, uint64_t now, bool create) noexcept;
    /// Resolution ahead of traffic (a trunk server's next hop): true when
    /// <ip> has no entry and one was made (incomplete, nothing parked): the
    /// caller sends the request now; tick() retries and frees it as for any
    /// other. False when <ip> is known or being resolved, or when half the
    /// entries are in use (primes never crowd out the traffic's own next hops).
    bool prime(uint32_t ip, uint64_t now) noexcept;
    /// Housekeeping at <now>: calls request(ip) for every entry whose retry is
    /// due, drop(cookie) for each packet parked for an address that never answered.
    template <class Req, class Drop>
    void tick(uint64_t now, Req&& request, Drop&& drop) noexcept;

    /// Entries in use (for tests and stats).
    size_t size() const noexcept;

private:
    enum class State : uint8_t { free = 0, incomplete, reachable };
    struct Entry {
        uint32_t ip = 0;
        MacAddr mac{};
        State state = State::free;
        uint8_t tries = 0;        // requests sent without an answer
        uint8_t nparked = 0;      // cookies in parked[], oldest first
        uint64_t confirmed = 0;   // last answer (reachable)
        uint64_t next_try = 0;    // next request due (incomplete, or stale reachable)
        uint64_t parked[park_max] = {};
    };
    static_assert(sizeof(Entry) == 64, "one cache line per next hop");
    Entry* find(uint32_t ip) noexcept;
    Entry* alloc(uint64_t now) noexcept;

    Config cfg_;
    Entry e_[capacity];
};

template <class Req, class Drop>
void ArpCache::tick(uint64_t now, Req&& request, Drop&& drop) noexcept {
    for (Entry& e : e_) {
        if (e.state == State::free || now < e.next_try) continue;
        if (e.state == State::reachable && now < e.confirmed + cfg_.reachable_ms) continue;
        if (e.tries >= cfg_.max_tries) {
            for (uint8_t i = 0; i < e.nparked; i++) drop(e.parked[i]);
            e = Entry{};
            continue;
        }
        e.tries++;
        e.next_try = now + cfg_.retry_ms;
        request(e.ip);
    }
}

}  // namespace sipedge::dp
