#include "dataplane/timer_wheel.h"

#include <cstdlib>
#include <cstring>

namespace sipedge::dp {

TimerWheel::~TimerWheel() {
    std::free(nodes_);
}

bool TimerWheel::init(uint32_t capacity, uint64_t now_ms) noexcept {
    if (capacity == 0 || capacity > max_capacity || now_ms == UINT64_MAX)
        return false;
    const uint32_t end = first_node + capacity;
    // 64-byte aligned so that a node never straddles a cache line.
    const size_t bytes = (size_t(end) * sizeof(Node) + 63) & ~size_t(63);
    auto* nodes = static_cast<Node*>(std::aligned_alloc(64, bytes));
    if (nodes == nullptr)
        return false;
    std::free(nodes_);
    nodes_ = nodes;
    end_ = end;
    for (uint32_t i = 0; i <= splice_head; i++)
        nodes_[i] = Node{i, i, 0, 0, 0, 0};
    for (uint32_t i = first_node; i < end; i++)
        nodes_[i] = Node{i + 1 < end ? i + 1 : none, none, 0, 0, 0, 0};
    free_ = first_node;
    count_ = 0;
    running_ = false;
    next_ = now_ms + 1;
    std::memset(bits_, 0, sizeof(bits_));
    return true;
}

// Runs at every block boundary <t> (t % 256 == 0): re-places the level-1 slot
// whose time has come, and, when that slot index wrapped to 0, the level-2
// slot, and so on up. Re-placed timers land in lower levels (or, for parked
// far-future timers, another level-4 slot), never in the slot being drained.
void TimerWheel::cascade(uint64_t t) noexcept {
    for (uint32_t lvl = 1; lvl < levels; lvl++) {
        const uint32_t shift = l0_bits + (lvl - 1) * ln_bits;
        const uint32_t ci = uint32_t((t >> shift) & (ln_slots - 1));
        const uint32_t slot = l0_slots + (lvl - 1) * ln_slots + ci;
        if ((bits_[slot >> 6] & (1ULL << (slot & 63))) != 0) {
            // No callback runs here, so the detached list is walked without
            // unlinking each node; place() rewrites its links.
            splice_out(slot);
            uint32_t n = nodes_[splice_head].next;
            while (n != splice_head) {
                const uint32_t next = nodes_[n].next;
                place(n);
                n = next;
            }
            nodes_[splice_head].next = nodes_[splice_head].prev = splice_head;
        }
        if (ci != 0)
            break;
    }
}

// With level 0 empty, returns the first block boundary at or after <b> (a
// multiple of 256) at which some upper-level slot is cascaded; nothing can
// fire before it, so advance() may jump there directly.
uint64_t TimerWheel::next_cascade_time(uint64_t b) const noexcept {
    uint64_t best = UINT64_MAX;
    for (uint32_t lvl = 1; lvl < levels; lvl++) {
        const uint64_t m = bits_[l0_slots / 64 + lvl - 1];
        if (m == 0)
            continue;
        const uint32_t shift = l0_bits + (lvl - 1) * ln_bits;
        const uint64_t block = (b + (1ULL << shift) - 1) >> shift;  // first boundary >= b
        const uint32_t c = uint32_t(block & (ln_slots - 1));
        const uint64_t t = (block + uint64_t(std::countr_zero(std::rotr(m, int(c))))) << shift;
        if (t < best)
            best = t;
    }
    return best == UINT64_MAX ? b : best;
}

}  // namespace sipedge::dp
