#pragma once
// Per-core pool of retained SIP messages: the request a client transaction
// retransmits, the last response a server transaction repeats. Two size
// classes carved once at init(): small slots for the usual message and a
// smaller number of big slots for messages with large bodies (a 4 KB SDP
// INVITE that arrived in IPv4 fragments, a 200 OK with a big SDP answer).
// alloc/free are O(1) free-list operations; nothing is allocated after init().
//
// Capacity and memory: `count` small slots of 2 KiB plus `big_count` big slots
// of 8 KiB. The proxy's default (16 Ki small, 1 Ki big) is 32 + 8 = 40 MiB per
// core. A message bigger than max_size is refused by the caller (513).
// Handles are 1-based so 0 means "none" (the transactions' default `buf`):
// 1..count are small slots, count+1..count+big_count big ones.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace sipedge::dp {

class MsgPool {
public:
    static constexpr size_t small_slot = 2048;
    static constexpr size_t big_slot = 8192;
    /// Bytes a small slot holds (the default for alloc()).
    static constexpr size_t slot_size = small_slot - sizeof(uint32_t);
    /// Bytes a big slot holds: the largest message the pool retains.
    static constexpr size_t max_size = big_slot - sizeof(uint32_t);

    MsgPool() noexcept = default;
    ~MsgPool() {
        std::free(small_.mem);
        std::free(big_.mem);
    }
    MsgPool(const MsgPool&) = delete;
    MsgPool& operator=(const MsgPool&) = delete;

    /// Start-up only: carves <count> small slots and <big_count> big ones
    /// (default: one big slot per 16 small, at least 16). False when memory is short.
    bool init(uint32_t count, uint32_t big_count = ~0u) noexcept {
        if (big_count == ~0u) big_count = count / 16 < 16 ? 16 : count / 16;
        return small_.init(count, small_slot, 0) && big_.init(big_count, big_slot, count);
    }
    /// A free slot holding at least <need> bytes (a small one when it fits and
    /// one is free, else a big one), or 0 when none is free or <need> > max_size.
    uint32_t alloc(size_t need = 0) noexcept {
        if (need <= slot_size)
            if (const uint32_t h = small_.alloc()) return h;
        return need <= max_size ? big_.alloc() : 0;
    }
    /// Returns <h> to the pool; 0 is ignored.
    void release(uint32_t h) noexcept {
        if (h == 0) return;
        if (h <= small_.count) small_.release(h);
        else if (h <= small_.count + big_.count) big_.release(h);
    }
    /// Makes <h> hold at least <need> bytes: unchanged when it already does,
    /// else moved to a big slot (the first len(h) bytes copied, the old slot
    /// released). False (h unchanged) when no big slot is free or <need> > max_size.
    bool fit(uint32_t& h, size_t need) noexcept {
        if (need <= capacity(h)) return true;
        const uint32_t n = need <= max_size ? big_.alloc() : 0;
        if (!n) return false;
        const uint32_t l = len(h);
        std::memcpy(data(n), data(h), l);
        len(n) = l;
        release(h);
        h = n;
        return true;
    }
    size_t capacity(uint32_t h) const noexcept { return h <= small_.count ? slot_size : max_size; }
    char* data(uint32_t h) noexcept { return cls(h).slot(h) + sizeof(uint32_t); }
    uint32_t& len(uint32_t h) noexcept { return *reinterpret_cast<uint32_t*>(cls(h).slot(h)); }
    uint32_t used() const noexcept { return small_.used + big_.used; }
    uint32_t big_used() const noexcept { return big_.used; }

private:
    // One size class: <count> slots of <stride> bytes, each [u32 len][data];
    // while free, `len` holds the next free handle (0 = end).
    struct Class {
        char* mem = nullptr;
        size_t stride = 0;
        uint32_t base = 0;  // handles base+1 .. base+count
        uint32_t count = 0, free = 0, used = 0;

        bool init(uint32_t n, size_t s, uint32_t b) noexcept {
            std::free(mem);
            mem = static_cast<char*>(std::calloc(n ? n : 1, s));
            if (!mem) return false;
            stride = s;
            base = b;
            count = n;
            free = 0;
            used = 0;
            for (uint32_t i = n; i > 0; i--) {
                std::memcpy(slot(base + i), &free, sizeof(free));
                free = base + i;
            }
            return true;
        }
        char* slot(uint32_t h) const noexcept { return mem + size_t(h - base - 1) * stride; }
        uint32_t alloc() noexcept {
            const uint32_t h = free;
            if (h == 0) return 0;
            std::memcpy(&free, slot(h), sizeof(free));
            std::memset(slot(h), 0, sizeof(uint32_t));
            used++;
            return h;
        }
        void release(uint32_t h) noexcept {
            std::memcpy(slot(h), &free, sizeof(free));
            free = h;
            used--;
        }
    };
    Class& cls(uint32_t h) noexcept { return h <= small_.count ? small_ : big_; }

    Class small_;
    Class big_;
};

}  // namespace sipedge::dp
