#pragma once
// Per-core pool of retained SIP messages: the request a client transaction
// retransmits, the last response a server transaction repeats, while the
// transaction is active (a completed one keeps what it still needs in its
// tombstone, dataplane/tomb_store.h, and gives its slot back at once).
//
// Size classes, each carved once at init() with its own count, so that no
// class starves another (issue 16), about 1.3× apart up to 2 KiB so that a
// message wastes little of its slot (issue 15):
//   640, 896, 1152, 1536, 2048 B  `count` each   requests and responses as they
//                                   come (a 450-byte INVITE with our Via and
//                                   Record-Route: 640; a 700-byte one: 896; one
//                                   with a longer SDP: 1152-2048)
//   medium 4 KiB  `count / 8`       2-4 KB messages
//   big    8 KiB  `count / 32`      up to max_size (a 4-8 KB INVITE from fragments)
// (medium and big: at least 16 each). A message takes the smallest class it
// fits; when that class is empty it may borrow a slot of a larger class only
// while that class keeps more than a quarter of its slots free, so a flood of
// small messages never takes the slots that only large messages can use. A
// message that fits no free slot is refused by the caller (503), one bigger
// than max_size too (513).
// alloc/free are O(1) free-list operations; nothing is allocated after init(),
// and a slot's pages are touched only when it is first used.
//
// Memory: 6,272 B × count + 4 KiB × count/8 + 8 KiB × count/32 reserved;
// the proxy's default (count 16 Ki) is 98 + 8 + 4 = 110 MiB per core of
// address space, resident only as far as slots have been used (see Class).
// Handles are 1-based so 0 means "none" (the transactions' default `buf`):
// the smallest class's 1..count, then each larger class's in turn.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace sipedge::dp {

class MsgPool {
public:
    static constexpr size_t classes = 7;
    static constexpr size_t slot_bytes[classes] = {640, 896, 1152, 1536, 2048, 4096, 8192};
    /// Classes [0, per_count) have `count` slots each; then medium and big.
    static constexpr size_t per_count = classes - 2;
    static constexpr size_t small_slot = slot_bytes[0];
    static constexpr size_t big_slot = slot_bytes[classes - 1];
    /// Bytes a small slot holds (the default for alloc()).
    static constexpr size_t slot_size = small_slot - sizeof(uint32_t);
    /// Bytes a big slot holds: the largest message the pool retains.
    static constexpr size_t max_size = big_slot - sizeof(uint32_t);

    MsgPool() noexcept = default;
    ~MsgPool() {
        for (Class& c : cls_) std::free(c.mem);
    }
    MsgPool(const MsgPool&) = delete;
    MsgPool& operator=(const MsgPool&) = delete;

    /// Start-up only: carves <count> slots of each class up to 2 KiB,
    /// <medium> 4 KiB and <big> 8 KiB ones (~0u: count/8 and count/32, at
    /// least 16 each). False when memory is short.
    bool init(uint32_t count, uint32_t big = ~0u, uint32_t medium = ~0u) noexcept {
        auto dflt = [](uint32_t n) { return n < 16 ? 16u : n; };
        if (medium == ~0u) medium = dflt(count / 8);
        if (big == ~0u) big = dflt(count / 32);
        uint32_t base = 0;
        for (size_t k = 0; k < classes; k++) {
            const uint32_t n = k < per_count ? count : k == per_count ? medium : big;
            if (uint64_t(base) + n > UINT32_MAX) return false;
            if (!cls_[k].init(n, slot_bytes[k], base)) return false;
            base += n;
        }
        total_ = base;
        return true;
    }
    /// A free slot holding at least <need> bytes (the smallest class that fits,
    /// else a larger one within the borrowing rule), or 0 when none is free or
    /// <need> > max_size.
    uint32_t alloc(size_t need = 0) noexcept {
        const size_t k0 = class_for(need);
        if (k0 == classes) return 0;
        if (const uint32_t h = cls_[k0].alloc()) return h;
        for (size_t k = k0 + 1; k < classes; k++)
            if (cls_[k].count - cls_[k].used > cls_[k].count / 4)
                if (const uint32_t h = cls_[k].alloc()) {
                    borrowed_++;
                    return h;
                }
        return 0;
    }
    /// Returns <h> to the pool; 0 is ignored.
    void release(uint32_t h) noexcept {
        if (h == 0) return;
        if (h <= total_) cls_[class_of(h)].release(h);
    }
    /// Makes <h> hold at least <need> bytes: unchanged when it already does,
    /// else moved to a larger slot (the first len(h) bytes copied, the old slot
    /// released). False (h unchanged) when no slot is free or <need> > max_size.
    bool fit(uint32_t& h, size_t need) noexcept {
        if (need <= capacity(h)) return true;
        const uint32_t n = alloc(need);
        if (!n) return false;
        const uint32_t l = len(h);
        std::memcpy(data(n), data(h), l);
        len(n) = l;
        release(h);
        h = n;
        return true;
    }
    size_t capacity(uint32_t h) const noexcept {
        const size_t k = class_of(h);
        return slot_bytes[k] - sizeof(uint32_t);
    }
    char* data(uint32_t h) noexcept { return cls_[class_of(h)].slot(h) + sizeof(uint32_t); }
    uint32_t& len(uint32_t h) noexcept {
        return *reinterpret_cast<uint32_t*>(cls_[class_of(h)].slot(h));
    }
    uint32_t used() const noexcept {
        uint32_t u = 0;
        for (const Class& c : cls_) u += c.used;
        return u;
    }
    /// Slots in use in the classes above small.
    uint32_t big_used() const noexcept {
        uint32_t u = 0;
        for (size_t k = 1; k < classes; k++) u += cls_[k].used;
        return u;
    }
    /// Class <k>'s slots in use and in all (k < classes).
    uint32_t class_used(size_t k) const noexcept { return cls_[k].used; }
    uint32_t class_count(size_t k) const noexcept { return cls_[k].count; }
    /// The class a message of <need> bytes takes (classes: too big).
    static size_t class_for(size_t need) noexcept {
        for (size_t k = 0; k < classes; k++)
            if (need <= slot_bytes[k] - sizeof(uint32_t)) return k;
        return classes;
    }
    /// Slots handed out from a larger class than asked for, since init().
    uint64_t borrowed() const noexcept { return borrowed_; }

private:
    // One size class: <count> slots of <stride> bytes, each [u32 len][data];
    // while free, `len` holds the next free handle (0 = end). Slots never used
    // yet are not on the free list: they are handed out in order after it is
    // empty (`fresh`), so init() writes nothing into them and their pages
    // become resident only when first used — the reservation is virtual until
    // then (a worker with --max-txns 2 M no longer faults in 5.6 GiB at start;
    // bench/RESULTS-dataplane.md "Memory per pending INVITE"). Handles come out
    // in the same order as when init() chained them all: base+1, base+2, ...
    struct Class {
        char* mem = nullptr;
        size_t stride = 0;
        uint32_t base = 0;  // handles base+1 .. base+count
        uint32_t count = 0, free = 0, used = 0;
        uint32_t fresh = 0;  // slots base+1 .. base+fresh have been handed out at least once

        bool init(uint32_t n, size_t s, uint32_t b) noexcept {
            std::free(mem);
            mem = static_cast<char*>(std::calloc(n ? n : 1, s));
            if (!mem) return false;
            stride = s;
            base = b;
            count = n;
            free = 0;
            used = 0;
            fresh = 0;
            return true;
        }
        char* slot(uint32_t h) const noexcept { return mem + size_t(h - base - 1) * stride; }
        uint32_t alloc() noexcept {
            uint32_t h = free;
            if (h != 0) {
                std::memcpy(&free, slot(h), sizeof(free));
            } else {
                if (fresh == count) return 0;
                h = base + ++fresh;
            }
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
    // Class of handle <h> (1 ..total_; 0 reads as small, as it always did).
    // The bases rise with the class: the class is how many bases lie below
    // <h> (no branch; it runs for every data()/len()/capacity()).
    size_t class_of(uint32_t h) const noexcept {
        size_t k = 0;
        for (size_t i = 1; i < classes; i++) k += h > cls_[i].base;
        return k;
    }

    Class cls_[classes];
    uint32_t total_ = 0;  // handles 1 ..total_
    uint64_t borrowed_ = 0;
};

}  // namespace sipedge::dp
