// dataplane/timer_wheel.h: per-core hierarchical (cascading) timing wheel.
//
// One wheel per worker core, no locks, no DPDK. Time is injected: the caller
// converts TSC to milliseconds and passes `now` (ms, monotonic) to advance().
//
// Geometry (1 tick = 1 ms):
//   level 0: 256 slots x 1 ms        covers deltas < 256 ms
//   level 1:  64 slots x 256 ms      covers deltas < 16.4 s
//   level 2:  64 slots x 16.4 s      covers deltas < 17.5 min
//   level 3:  64 slots x 17.5 min    covers deltas < 18.6 h
//   level 4:  64 slots x 18.6 h      covers deltas < 2^32 ms (49.7 days)
// Timers in upper levels cascade down as time reaches their slot, so every
// timer fires from level 0 on its exact millisecond: resolution is 1 ms at
// every horizon, not only below 65 s. A deadline more than 2^32 ms away is
// parked in level 4 at the 49.7-day mark and re-placed from there (it
// cascades again); it is never dropped and never fires early.
//
// Guarantees: a timer never fires before its deadline; when advance() is
// called at least once per millisecond it fires in the advance() call whose
// `now` first reaches the deadline (0 ms late at tick granularity, < 1 ms
// late in real time). Timers with the same deadline fire in arming order.
//
// Cost: arm and cancel are O(1) (a list append / unlink and a bitmap bit).
// Expiry is O(1) per timer plus at most 4 cascades per timer over its life
// (each cascade is one unlink + one append). advance() over idle stretches
// skips empty slots using per-level occupancy bitmaps, so a jump of hours
// costs a handful of bit scans, not one step per millisecond.
//
// Capacity and memory: `capacity` timers, fixed at init(); 32 bytes per timer
// (bytes_per_timer), plus 513 list heads x 32 bytes (16 KiB) per wheel.
// 10 M timers take 320 MB. Nodes come from a free list built at init();
// nothing is allocated afterwards. When the pool is exhausted arm_*() returns
// an invalid handle and the caller counts it.
//
// Handles are {u32 pool index, u32 generation}. The generation is odd while
// the node is armed and even while it is free; firing or cancelling bumps it,
// so a stale handle (fired, cancelled, or reused node) is harmlessly rejected
// by cancel() and pending(). A handle could be confused only after 2^31
// re-uses of the same node while the stale handle was kept.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace sipedge::dp {

/// Names one armed timer. Default-constructed handles are invalid.
struct TimerHandle {
    uint32_t idx = 0;  // pool index; 0 is a list head, never a timer
    uint32_t gen = 0;  // odd while armed

    bool valid() const noexcept { return (gen & 1U) != 0; }
};

class TimerWheel {
  public:
    static constexpr uint32_t l0_bits = 8;
    static constexpr uint32_t ln_bits = 6;
    static constexpr uint32_t levels = 5;
    static constexpr uint32_t l0_slots = 1U << l0_bits;
    static constexpr uint32_t ln_slots = 1U << ln_bits;
    static constexpr uint32_t num_slots = l0_slots + (levels - 1) * ln_slots;  // 512
    /// Largest delta placed directly; larger ones are parked and re-placed.
    static constexpr uint64_t max_direct_delta = (1ULL << (l0_bits + (levels - 1) * ln_bits)) - 1;
    /// Largest pool the u32 index allows (list heads take the first indices).
    static constexpr uint32_t max_capacity = UINT32_MAX - num_slots - 1;

    TimerWheel() noexcept = default;
    ~TimerWheel();
    TimerWheel(const TimerWheel&) = delete;
    TimerWheel& operator=(const TimerWheel&) = delete;

    /// Allocates the pool for <capacity> timers (1 ..max_capacity) and sets the
    /// wheel's time to <now_ms>. Start-up only; returns false when <capacity>
    /// is out of range or memory is short. May be called again to reset (all
    /// pending timers are dropped without firing).
    bool init(uint32_t capacity, uint64_t now_ms) noexcept;

    /// Arms a timer that fires in the first advance() whose `now` is >=
    /// <deadline_ms>. A deadline at or before now() fires on the next tick.
    /// Returns an invalid handle when the pool is exhausted (or before init()).
    TimerHandle arm_at(uint64_t deadline_ms, uint64_t cookie) noexcept;

    /// arm_at(now() + <delay_ms>). now() is the `now` of the last advance(), so
    /// a caller whose clock has moved on since should prefer arm_at().
    TimerHandle arm_in(uint64_t delay_ms, uint64_t cookie) noexcept {
        return arm_at(now() + delay_ms, cookie);
    }

    /// Cancels the timer named by <h>. Returns false (and does nothing) for an
    /// invalid, stale, already-fired or already-cancelled handle.
    bool cancel(TimerHandle h) noexcept;

    /// True while the timer named by <h> is armed and has not fired.
    bool pending(TimerHandle h) const noexcept {
        return h.valid() && h.idx >= first_node && h.idx < end_ && nodes_[h.idx].gen == h.gen;
    }

    /// Fires every timer whose deadline is <= <now_ms>, in deadline order
    /// (arming order within one millisecond), calling on_expire(cookie) for
    /// each. The timer is released before its callback runs, so the callback
    /// may arm (including re-using the node) and cancel freely; a timer armed
    /// from a callback for a deadline <= <now_ms> fires later in this same
    /// call, one tick after the current one. Inside a callback now() is the
    /// tick being fired. A <now_ms> behind now() does nothing. Must not be
    /// called from inside a callback (returns 0).
    /// Returns the number of timers fired.
    template <class Fn>
    uint32_t advance(uint64_t now_ms, Fn&& on_expire) noexcept {
        return advance(now_ms, on_expire, [] { return false; });
    }
    /// The same, asking <stop>() before each callback: once it says true the
    /// call returns, and the timers left of the tick being fired are held
    /// (held()) and fire first in the next advance(), whatever its <now_ms>,
    /// before any later tick. A caller whose callbacks fill a bounded queue
    /// stops when it is full, empties it, and calls again.
    template <class Fn, class Stop>
    uint32_t advance(uint64_t now_ms, Fn&& on_expire, Stop&& stop) noexcept;
    /// Timers of a tick a stopped advance() left to fire.
    bool held() const noexcept { return nodes_ && nodes_[splice_head].next != splice_head; }

    /// The last `now` this wheel has processed.
    uint64_t now() const noexcept { return next_ - 1; }
    /// Timers currently armed.
    uint32_t size() const noexcept { return count_; }
    uint32_t capacity() const noexcept { return end_ > first_node ? end_ - first_node : 0; }

    static constexpr size_t bytes_per_timer = 32;
    /// Bytes this wheel holds (pool plus list heads).
    size_t memory_bytes() const noexcept { return size_t(end_) * sizeof(Node); }

  private:
    // 32 bytes: two nodes per cache line. List heads (indices 0..num_slots-1)
    // and the splice head (num_slots) are nodes too, so unlink never needs to
    // know which slot a timer is in.
    struct Node {
        uint32_t next;
        uint32_t prev;
        uint32_t gen;  // odd: armed; even: free or a list head
        uint32_t pad;
        uint64_t deadline;  // absolute ms
        uint64_t cookie;
    };
    static_assert(sizeof(Node) == bytes_per_timer);

    static constexpr uint32_t splice_head = num_slots;  // cascade/fire work list
    static constexpr uint32_t first_node = num_slots + 1;
    static constexpr uint32_t none = 0;  // free-list terminator (index 0 is a list head)

    void link_tail(uint32_t head, uint32_t idx) noexcept {
        Node& h = nodes_[head];
        Node& n = nodes_[idx];
        n.next = head;
        n.prev = h.prev;
        nodes_[h.prev].next = idx;
        h.prev = idx;
    }

    // Unlinks <idx>; clears the slot's occupancy bit when its list empties.
    void unlink(uint32_t idx) noexcept {
        const Node& n = nodes_[idx];
        nodes_[n.prev].next = n.next;
        nodes_[n.next].prev = n.prev;
        // prev == next only when the head alone is left; the splice head has no bit.
        if (n.prev == n.next && n.prev < num_slots)
            bits_[n.prev >> 6] &= ~(1ULL << (n.prev & 63));
    }

    // Places <idx> by its deadline relative to next_ (the next tick to run).
    void place(uint32_t idx) noexcept {
        uint64_t e = nodes_[idx].deadline;
        if (e < next_)
            e = next_;
        const uint64_t d = e - next_;
        uint32_t slot;
        if (d < l0_slots) {
            slot = uint32_t(e & (l0_slots - 1));
        } else {
            if (d > max_direct_delta)
                e = next_ + max_direct_delta;  // parked; re-placed when cascaded
            // level = 1 + (bit width of d - 9) / 6, capped by the parking above
            const uint32_t lvl = 1 + (uint32_t(std::bit_width(e - next_)) - l0_bits - 1) / ln_bits;
            const uint32_t shift = l0_bits + (lvl - 1) * ln_bits;
            slot = l0_slots + (lvl - 1) * ln_slots + uint32_t((e >> shift) & (ln_slots - 1));
        }
        link_tail(slot, idx);
        bits_[slot >> 6] |= 1ULL << (slot & 63);
    }

    // Moves the whole list of <slot> onto splice_head (which must be empty).
    void splice_out(uint32_t slot) noexcept {
        Node& s = nodes_[slot];
        Node& w = nodes_[splice_head];
        w.next = s.next;
        w.prev = s.prev;
        nodes_[s.next].prev = splice_head;
        nodes_[s.prev].next = splice_head;
        s.next = s.prev = slot;
        bits_[slot >> 6] &= ~(1ULL << (slot & 63));
    }

    void release(uint32_t idx) noexcept {
        Node& n = nodes_[idx];
        n.gen++;  // even: free; stale handles stop matching
        n.next = free_;
        free_ = idx;
        count_--;
    }

    void cascade(uint64_t t) noexcept;
    uint64_t next_cascade_time(uint64_t b) const noexcept;
    int next_l0(uint32_t from) const noexcept;

    Node* nodes_ = nullptr;
    uint32_t end_ = 0;    // one past the last pool index
    uint32_t free_ = none;
    uint32_t count_ = 0;
    bool running_ = false;  // inside advance(): guards re-entry
    uint64_t next_ = 1;     // next tick to process; now() == next_ - 1
    // Occupancy: bits_[0..3] level 0, bits_[4..7] levels 1..4 (slot index order).
    uint64_t bits_[num_slots / 64] = {};
};

inline TimerHandle TimerWheel::arm_at(uint64_t deadline_ms, uint64_t cookie) noexcept {
    const uint32_t idx = free_;
    if (idx == none)
        return {};
    Node& n = nodes_[idx];
    free_ = n.next;
    n.gen++;  // odd: armed
    n.deadline = deadline_ms;
    n.cookie = cookie;
    count_++;
    place(idx);
    return {idx, n.gen};
}

inline bool TimerWheel::cancel(TimerHandle h) noexcept {
    if (!pending(h))
        return false;
    unlink(h.idx);
    release(h.idx);
    return true;
}

// Index of the first occupied level-0 slot at or after <from>, or -1.
inline int TimerWheel::next_l0(uint32_t from) const noexcept {
    uint32_t w = from >> 6;
    uint64_t m = bits_[w] & (~0ULL << (from & 63));
    for (;;) {
        if (m != 0)
            return int(w * 64 + uint32_t(std::countr_zero(m)));
        if (++w == l0_slots / 64)
            return -1;
        m = bits_[w];
    }
}

template <class Fn, class Stop>
uint32_t TimerWheel::advance(uint64_t now_ms, Fn&& on_expire, Stop&& stop) noexcept {
    if (running_)
        return 0;
    running_ = true;
    uint32_t fired = 0;
    // Fires the splice list (one tick's timers); false when <stop> said so.
    auto fire = [&] {
        while (nodes_[splice_head].next != splice_head) {
            if (stop())
                return false;
            const uint32_t n = nodes_[splice_head].next;
            unlink(n);
            const uint64_t cookie = nodes_[n].cookie;
            release(n);
            fired++;
            on_expire(cookie);
        }
        return true;
    };
    // What a stopped call held comes before any later tick (and before a
    // cascade, which uses the splice list too).
    if (nodes_ && !fire()) {
        running_ = false;
        return fired;
    }
    while (next_ <= now_ms) {
        if (count_ == 0) {
            next_ = now_ms + 1;
            break;
        }
        const uint64_t t = next_;
        const uint32_t idx = uint32_t(t & (l0_slots - 1));
        if (idx == 0)
            cascade(t);
        const int j = next_l0(idx);
        if (j < 0) {
            // Nothing left in this 256 ms block: jump to the next block
            // boundary, or further when level 0 is empty and the upper
            // levels have nothing to cascade until later.
            uint64_t b = (t | (l0_slots - 1)) + 1;
            if ((bits_[0] | bits_[1] | bits_[2] | bits_[3]) == 0)
                b = next_cascade_time(b);
            next_ = b <= now_ms ? b : now_ms + 1;
            continue;
        }
        const uint64_t due = t - idx + uint32_t(j);
        if (due > now_ms) {
            next_ = now_ms + 1;
            break;
        }
        // Timers armed from the callbacks below land at due + 1 or later.
        next_ = due + 1;
        splice_out(uint32_t(j));
        if (!fire())
            break;
    }
    running_ = false;
    return fired;
}

}  // namespace sipedge::dp
