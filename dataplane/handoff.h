#pragma once
// Cross-core handoff (DESIGN.md "Per-core, shared-nothing data plane"): one
// rte_ring of mbuf pointers per worker, multi-producer / single-consumer,
// created at start-up. RSS spreads carrier responses by their 5-tuple, not by
// the core that sent the request; a worker that receives a response whose top
// Via branch names another core pushes the packet to that core's ring, and
// the owner drains its ring once per loop and handles the packets as its own
// (never pushing them on again, so a wrong hint cannot make a loop). One
// exception, bounded: a CANCEL that matches no transaction goes round the
// workers (each asks its own table), counting its hops in an mbuf field,
// until one holds its INVITE or all were asked (dataplane/stage_sip.cc).
//
// Threading: push() from any worker lcore; drain(core) only on <core>'s lcore;
// init()/destroy() at start-up/shut-down with no worker running.

#include <cstddef>
#include <cstdint>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/stats_types.h"

namespace sipedge::dp {

class Handoff {
public:
    static constexpr uint16_t max_workers = 128;
    static constexpr uint16_t max_burst = 64;

    Handoff() noexcept = default;
    ~Handoff() { destroy(); }
    Handoff(const Handoff&) = delete;
    Handoff& operator=(const Handoff&) = delete;

    /// Creates <workers> rings of <ring_size> slots (a power of two; holds
    /// ring_size - 1 packets) named "<name>_<i>" on <socket> (-1: any).
    /// False (with a message on stderr) on bad sizes or no memory.
    bool init(uint16_t workers, uint32_t ring_size, const char* name = "sipedge_ho",
              int socket = -1) noexcept;
    /// Frees the rings and any packet still in them.
    void destroy() noexcept;

    uint16_t workers() const noexcept { return workers_; }
    rte_ring* ring(uint16_t core) const noexcept { return core < workers_ ? rings_[core] : nullptr; }

    /// Any worker: hands <m> to <owner>. On a full ring or an owner out of
    /// range, frees <m>, counts DropReason::handoff_full in <producer> (the
    /// caller's own counters) and returns false.
    bool push(uint16_t owner, rte_mbuf* m, WorkerStats& producer) noexcept {
        if (owner < workers_ && rte_ring_mp_enqueue(rings_[owner], m) == 0) return true;
        producer.drop(DropReason::handoff_full);
        rte_pktmbuf_free(m);
        return false;
    }
    /// Burst form: hands ms[0, n) to <owner>; what does not fit is freed and
    /// counted as in push(). Returns how many were handed over.
    uint16_t push_burst(uint16_t owner, rte_mbuf* const* ms, uint16_t n,
                        WorkerStats& producer) noexcept;

    /// Owner only: dequeues up to <burst> (<= max_burst) packets from <core>'s
    /// ring and calls fn(rte_mbuf*) on each, which takes ownership. Returns
    /// the count.
    template <class Fn>
    uint16_t drain(uint16_t core, uint16_t burst, Fn&& fn) noexcept {
        rte_mbuf* b[max_burst];
        if (core >= workers_) return 0;
        if (burst > max_burst) burst = max_burst;
        const unsigned n =
            rte_ring_sc_dequeue_burst(rings_[core], reinterpret_cast<void**>(b), burst, nullptr);
        for (unsigned i = 0; i < n; i++) fn(b[i]);
        return uint16_t(n);
    }

private:
    rte_ring* rings_[max_workers] = {};
    uint16_t workers_ = 0;
};

/// Owner of a message by its top Via branch: >= 0 the worker index encoded in
/// a branch we wrote (dataplane/branch.h), owner_control for the control
/// thread's branches, owner_none when the branch is missing or not ours.
inline constexpr int owner_none = -1;
inline constexpr int owner_control = -2;

/// Finds the first Via header (Via or v, any case) of the SIP message
/// msg[0, len), the branch parameter of its first value, and decodes it with
/// decode_branch(). Reads only up to that header, never past len; no
/// allocation. A branch on a folded continuation line is not seen (owner_none:
/// the packet is then handled where it arrived).
int via_branch_owner(const char* msg, size_t len) noexcept;

/// via_branch_owner() for responses only ("SIP/2.0 " start line); owner_none
/// for requests, which stay on the core RSS gave them.
inline int response_owner(const char* msg, size_t len) noexcept {
    constexpr char v[] = "SIP/2.0 ";
    if (len < sizeof(v) - 1) return owner_none;
    for (size_t i = 0; i + 1 < sizeof(v); i++)
        if (msg[i] != v[i]) return owner_none;
    return via_branch_owner(msg, len);
}

/// Worker that reassembles fragments between <src> and <dst> (host order)
/// when the PMD's RSS might split a datagram (some hash the first fragment on
/// its UDP ports, the rest on addresses only): a stable hash of the addresses,
/// which every fragment carries.
inline uint16_t fragment_owner(uint32_t src, uint32_t dst, uint16_t workers) noexcept {
    const uint64_t h = (uint64_t(src) << 32 | dst) * 0x9e3779b97f4a7c15ull;
    return uint16_t(((h >> 32) * workers) >> 32);
}

}  // namespace sipedge::dp
