#pragma once
// One worker's hand-off with the stream thread: an rx ring of whole messages
// (stream → worker) and a tx ring of messages to send (worker → stream), each
// with its own slot pool so that nothing is allocated per message. The shape
// of the future rte_ring pair (RING_F_SP_ENQ | RING_F_SC_DEQ) between the
// stream lcore and a worker; the StreamMsg header already carries what the
// worker needs to treat a message "as if it had arrived on a port".
//
// Threading: the worker (one thread) calls tx_alloc/tx_send/rx_burst/rx_free/
// rx_wait; the stream thread calls the rest. Each ring can hold every slot of
// its pool, so a push never fails: a full pool is the only back-pressure
// (tx_alloc returns nullptr; on rx the stream thread stops reading that
// connection until slots come back).

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "stream/msg_pool.h"
#include "stream/spsc_ring.h"
#include "stream/stream_types.h"

namespace sipedge::stream {

/// An eventfd a consumer can sleep on, written by the producer only when the
/// consumer said it would sleep (no syscall per message while both are busy).
class Waker {
public:
    Waker();
    ~Waker();
    Waker(const Waker&) = delete;
    Waker& operator=(const Waker&) = delete;

    int fd() const noexcept { return fd_; }
    /// Consumer, before re-checking its queues and sleeping.
    void arm() noexcept {
        armed_.store(true, std::memory_order_relaxed);
        // seq_cst fence: orders this store before the consumer's re-check of
        // the queue, against kick()'s fence after the producer's push (Dekker).
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    /// Consumer, after waking (or deciding not to sleep): drains the eventfd.
    void disarm() noexcept;
    /// Producer, after pushing.
    void kick() noexcept {
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (armed_.load(std::memory_order_relaxed) && armed_.exchange(false, std::memory_order_relaxed))
            signal();
    }
    /// Unconditional wake-up (stop, control commands).
    void signal() noexcept;
    /// Consumer: sleeps until kicked or <timeout_ms> (-1 = forever) passes.
    /// Call arm() and re-check the queue first.
    void wait(int timeout_ms) noexcept;

private:
    int fd_ = -1;
    std::atomic<bool> armed_{false};
};

struct ChannelConfig {
    MsgPool::Config rx_pool;
    MsgPool::Config tx_pool;
};

class Channel {
public:
    Channel(uint32_t index, const ChannelConfig& c, Waker* stream_waker);
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    uint32_t index() const noexcept { return index_; }

    // ---- worker side ------------------------------------------------------------
    /// A slot for a message of <len> bytes to send, or nullptr when the tx pool
    /// is exhausted (the stream thread is behind) or <len> > 65536.
    StreamMsg* tx_alloc(size_t len) noexcept { return tx_pool_.alloc(len); }
    /// Queues <m> (from tx_alloc, with its header filled) for the stream
    /// thread, which frees it. Never fails.
    void tx_send(StreamMsg* m) noexcept {
        tx_ring_.push(m);
        stream_waker_->kick();
    }
    /// Up to <n> received messages; each must be given back with rx_free().
    size_t rx_burst(StreamMsg** out, size_t n) noexcept { return rx_ring_.pop_burst(out, n); }
    void rx_free(StreamMsg* m) noexcept { rx_pool_.free(m); }
    /// For a consumer that sleeps instead of polling (control side, tests):
    /// waits until a message is queued or <timeout_ms> passes; true when one is.
    bool rx_wait(int timeout_ms) noexcept;
    /// eventfd that becomes readable when messages arrive for a consumer that
    /// called rx_arm() (for its own epoll loop).
    int rx_fd() const noexcept { return rx_waker_.fd(); }
    void rx_arm() noexcept { rx_waker_.arm(); }
    void rx_disarm() noexcept { rx_waker_.disarm(); }

    // ---- stream thread side ----------------------------------------------------
    StreamMsg* rx_alloc(size_t len) noexcept { return rx_pool_.alloc(len); }
    void rx_push(StreamMsg* m) noexcept { rx_ring_.push(m); }
    /// After a batch of rx_push: wakes a sleeping consumer.
    void rx_kick() noexcept { rx_waker_.kick(); }
    size_t tx_burst(StreamMsg** out, size_t n) noexcept { return tx_ring_.pop_burst(out, n); }
    void tx_free(StreamMsg* m) noexcept { tx_pool_.free(m); }
    bool tx_pending() const noexcept { return !tx_ring_.empty(); }
    /// rx slots in use (queued or held by the worker).
    uint32_t rx_in_use() const noexcept { return rx_pool_.in_use(); }

private:
    uint32_t index_;
    MsgPool rx_pool_;
    MsgPool tx_pool_;
    SpscRing<StreamMsg*> rx_ring_;
    SpscRing<StreamMsg*> tx_ring_;
    Waker rx_waker_;
    Waker* stream_waker_;
};

}  // namespace sipedge::stream
