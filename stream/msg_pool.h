#pragma once
// Message slots for one direction of one channel (stream/channel.h): the
// allocating side fills a slot and queues its pointer, the receiving side
// frees it. Two size classes, carved once at construction so that no message
// is allocated on the fast path:
//   small  4 KiB   `small_count`  nearly every SIP message
//   large  64 KiB  `large_count`  up to sip::max_message_size (65535)
// A message takes the smallest class it fits and borrows a large slot when the
// small ones are out. Memory: 4 KiB × small_count + 64 KiB × large_count of
// address space, touched only as slots are used (defaults: 8 MiB + 2 MiB).
//
// Threading: alloc() from the one allocating thread, free() from the one
// freeing thread; each class's free list is an SPSC ring running the other way
// (free() produces, alloc() consumes), so neither side locks.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "stream/spsc_ring.h"
#include "stream/stream_types.h"

namespace sipedge::stream {

class MsgPool {
public:
    static constexpr uint32_t small_bytes = 4096;
    static constexpr uint32_t large_bytes = 65536;

    struct Config {
        uint32_t small_count = 2048;
        uint32_t large_count = 32;
    };

    explicit MsgPool(const Config& c);
    MsgPool(const MsgPool&) = delete;
    MsgPool& operator=(const MsgPool&) = delete;

    /// Allocating thread: a slot with at least <len> bytes (header zeroed but
    /// for cap/slot/pool_class/data), or nullptr when <len> > 65536 or every
    /// slot that fits is in use.
    StreamMsg* alloc(size_t len) noexcept;
    /// Freeing thread: gives <m> (from alloc()) back.
    void free(StreamMsg* m) noexcept;

    /// Slots in all classes: an SPSC ring of this capacity never overflows.
    uint32_t total() const noexcept { return cls_[0].count + cls_[1].count; }
    /// Snapshot of slots in use (either thread).
    uint32_t in_use() const noexcept;

private:
    struct Class {
        uint32_t count = 0;
        uint32_t bytes = 0;
        std::unique_ptr<StreamMsg[]> hdr;
        std::unique_ptr<char[]> mem;
        std::unique_ptr<SpscRing<uint32_t>> free_list;
    };
    Class cls_[2];
};

}  // namespace sipedge::stream
