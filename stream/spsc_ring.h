#pragma once
// Bounded single-producer/single-consumer ring of trivially copyable values:
// the hand-off between the stream thread and one worker (messages, events)
// until the worker side is wired to an rte_ring (RING_F_SP_ENQ |
// RING_F_SC_DEQ, the same contract). Capacity is a power of two fixed at
// construction; nothing is allocated after it. Lock-free, wait-free.
//
// Threading: push()/push_burst() from the one producer thread only;
// pop()/pop_burst() from the one consumer thread only; size()/empty() from
// either (a snapshot).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

namespace sipedge::stream {

template <class T>
class SpscRing {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    /// <capacity> is rounded up to a power of two (at least 2).
    explicit SpscRing(size_t capacity) {
        size_t c = 2;
        while (c < capacity) c <<= 1;
        mask_ = c - 1;
        slots_ = std::make_unique<T[]>(c);
    }
    SpscRing(const SpscRing&) = delete;
    SpscRing& operator=(const SpscRing&) = delete;

    size_t capacity() const noexcept { return mask_ + 1; }

    /// Producer: false when full (nothing written).
    bool push(const T& v) noexcept {
        const size_t h = head_.load(std::memory_order_relaxed);
        // acquire: pairs with the consumer's release of tail_, so the slot we
        // overwrite has been read.
        if (h - tail_cache_ > mask_) {
            tail_cache_ = tail_.load(std::memory_order_acquire);
            if (h - tail_cache_ > mask_) return false;
        }
        slots_[h & mask_] = v;
        // release: the slot's contents are visible before the new head.
        head_.store(h + 1, std::memory_order_release);
        return true;
    }

    /// Consumer: false when empty.
    bool pop(T& out) noexcept {
        const size_t t = tail_.load(std::memory_order_relaxed);
        if (t == head_cache_) {
            // acquire: pairs with push()'s release of head_.
            head_cache_ = head_.load(std::memory_order_acquire);
            if (t == head_cache_) return false;
        }
        out = slots_[t & mask_];
        // release: we are done reading the slot before the producer may reuse it.
        tail_.store(t + 1, std::memory_order_release);
        return true;
    }

    /// Consumer: up to <n> values into <out>; returns how many.
    size_t pop_burst(T* out, size_t n) noexcept {
        const size_t t = tail_.load(std::memory_order_relaxed);
        size_t avail = head_cache_ - t;
        if (avail < n) {
            head_cache_ = head_.load(std::memory_order_acquire);
            avail = head_cache_ - t;
        }
        if (n > avail) n = avail;
        for (size_t i = 0; i < n; i++) out[i] = slots_[(t + i) & mask_];
        tail_.store(t + n, std::memory_order_release);
        return n;
    }

    /// Either side: a snapshot of the number of queued values.
    size_t size() const noexcept {
        return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
    }
    bool empty() const noexcept { return size() == 0; }

private:
    // Producer and consumer indices on their own cache lines so that the two
    // threads do not false-share (each writes one, reads the other rarely
    // through its local cache copy).
    alignas(64) std::atomic<size_t> head_{0};  // written by the producer
    size_t tail_cache_ = 0;                    // producer's last view of tail_
    alignas(64) std::atomic<size_t> tail_{0};  // written by the consumer
    size_t head_cache_ = 0;                    // consumer's last view of head_
    alignas(64) size_t mask_ = 0;
    std::unique_ptr<T[]> slots_;
};

}  // namespace sipedge::stream
