#pragma once
// Per-core pool of retained SIP messages: the request a client transaction
// retransmits, the last response a server transaction repeats. Fixed-size
// slots carved once at init(); alloc/free are O(1) free-list operations.
//
// Capacity and memory: `count` slots of slot_size bytes (16 Ki slots = 32 MiB).
// TODO(lead): DESIGN.md asks for right-sized buffers (size classes or a
// small-data-room mempool); fixed 2 KiB slots are the thin path's choice.
// Handles are 1-based so 0 means "none" (the transactions' default `buf`).

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace sipedge::dp {

class MsgPool {
public:
    static constexpr size_t slot_size = 2048 - sizeof(uint32_t);
    MsgPool() noexcept = default;
    ~MsgPool() { std::free(slots_); }
    MsgPool(const MsgPool&) = delete;
    MsgPool& operator=(const MsgPool&) = delete;

    /// Start-up only: carves <count> slots. False when memory is short.
    bool init(uint32_t count) noexcept {
        std::free(slots_);
        slots_ = static_cast<Slot*>(std::calloc(count, sizeof(Slot)));
        if (!slots_) return false;
        count_ = count;
        free_ = 0;
        for (uint32_t i = count; i > 0; i--) {  // handle i is slots_[i - 1]
            slots_[i - 1].len = free_;
            free_ = i;
        }
        used_ = 0;
        return true;
    }
    /// A free slot's handle, or 0 when the pool is empty.
    uint32_t alloc() noexcept {
        const uint32_t h = free_;
        if (h == 0) return 0;
        free_ = slots_[h - 1].len;
        slots_[h - 1].len = 0;
        used_++;
        return h;
    }
    /// Returns <h> to the pool; 0 is ignored.
    void release(uint32_t h) noexcept {
        if (h == 0 || h > count_) return;
        slots_[h - 1].len = free_;
        free_ = h;
        used_--;
    }
    char* data(uint32_t h) noexcept { return slots_[h - 1].data; }
    uint32_t& len(uint32_t h) noexcept { return slots_[h - 1].len; }
    uint32_t used() const noexcept { return used_; }

private:
    struct Slot {
        uint32_t len;  // message length; the next free handle while free
        char data[slot_size];
    };
    static_assert(sizeof(Slot) == 2048);
    Slot* slots_ = nullptr;
    uint32_t count_ = 0;
    uint32_t free_ = 0;
    uint32_t used_ = 0;
};

}  // namespace sipedge::dp
