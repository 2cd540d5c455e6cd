// MsgPool (dataplane/msg_pool.h): the size classes, borrowing without
// starving a class, fit() and exhaustion.

#include "dataplane/msg_pool.h"

#include <cstring>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace sipedge::dp {
namespace {

constexpr size_t small_cap = MsgPool::slot_size;                // 636
constexpr size_t two_k_cap = MsgPool::slot_bytes[4] - 4;        // 2044
constexpr size_t medium_cap = MsgPool::slot_bytes[5] - 4;       // 4092
constexpr size_t big_cap = MsgPool::max_size;                   // 8188
constexpr size_t medium = MsgPool::per_count;                   // class index of 4 KiB
constexpr size_t big = MsgPool::per_count + 1;

TEST(MsgPool, ClassesFromSmallestToLargest) {
    static_assert(MsgPool::classes == 7);
    const size_t want[] = {640, 896, 1152, 1536, 2048, 4096, 8192};
    for (size_t k = 0; k < MsgPool::classes; k++) EXPECT_EQ(MsgPool::slot_bytes[k], want[k]) << k;
    EXPECT_EQ(small_cap, 636u);
    EXPECT_EQ(big_cap, 8188u);
}

TEST(MsgPool, EachMessageTakesTheSmallestClassItFits) {
    MsgPool p;
    ASSERT_TRUE(p.init(4, 2, 2));
    const uint32_t s = p.alloc();
    ASSERT_NE(s, 0u);
    EXPECT_EQ(p.capacity(s), small_cap);
    // A 450-byte INVITE with our Via and Record-Route, a 700-byte one (issue
    // 15), longer SDPs, a 1.6 KB INVITE + Via/Record-Route room, a 5 KB one
    // from fragments: one of each class.
    uint32_t h[MsgPool::classes] = {s};
    const size_t need[MsgPool::classes] = {0, 860, 1100, 1400, 1900, 2100, 5000};
    for (size_t k = 1; k < MsgPool::classes; k++) {
        h[k] = p.alloc(need[k]);
        ASSERT_NE(h[k], 0u) << k;
        EXPECT_EQ(p.capacity(h[k]), MsgPool::slot_bytes[k] - 4) << k;
        EXPECT_EQ(MsgPool::class_for(need[k]), k);
        EXPECT_EQ(MsgPool::class_for(MsgPool::slot_bytes[k - 1] - 4), k - 1);
        EXPECT_EQ(MsgPool::class_for(MsgPool::slot_bytes[k - 1] - 3), k);
    }
    const uint32_t t = h[2], m = h[medium], b = h[big];
    EXPECT_EQ(p.capacity(m), medium_cap);
    EXPECT_EQ(p.capacity(b), big_cap);
    for (size_t k = 0; k < MsgPool::classes; k++) EXPECT_EQ(p.class_used(k), 1u) << k;
    EXPECT_EQ(p.big_used(), MsgPool::classes - 1);
    EXPECT_EQ(p.alloc(MsgPool::max_size + 1), 0u);  // over the largest slot: refused
    std::memset(p.data(b), 'x', big_cap);            // the whole slot is usable
    p.len(b) = uint32_t(big_cap);
    std::memset(p.data(m), 'y', medium_cap);
    p.len(m) = uint32_t(medium_cap);
    EXPECT_EQ(p.len(s), 0u);  // neighbours untouched
    EXPECT_EQ(p.data(b)[0], 'x');
    (void)t;
    for (uint32_t x : h) p.release(x);
    EXPECT_EQ(p.used(), 0u);
    EXPECT_EQ(p.borrowed(), 0u);
}

TEST(MsgPool, ExhaustionAndDistinctHandles) {
    MsgPool p;
    ASSERT_TRUE(p.init(3, 1, 1));
    std::set<uint32_t> h;
    // 3 small, then 3 of each larger class up to 2 KiB, the medium and big ones.
    const size_t all = 3 * MsgPool::per_count + 2;
    for (size_t i = 0; i < all; i++) h.insert(p.alloc());
    EXPECT_EQ(h.size(), all);
    EXPECT_EQ(h.count(0), 0u);
    EXPECT_EQ(p.alloc(), 0u);
    EXPECT_EQ(p.alloc(5000), 0u);
    EXPECT_EQ(p.used(), all);
    EXPECT_EQ(p.borrowed(), all - 3);
    for (uint32_t x : h) p.release(x);
    EXPECT_EQ(p.used(), 0u);
    p.release(0);  // ignored
    EXPECT_EQ(p.used(), 0u);
}

// Issue 16: a flood of small messages may borrow larger slots, but a quarter
// of each larger class stays for the messages that need it; a flood of large
// ones takes only its own class.
TEST(MsgPool, NoClassStarvesAnother) {
    MsgPool p;
    ASSERT_TRUE(p.init(64, 16, 16));
    std::vector<uint32_t> small;
    while (const uint32_t h = p.alloc(100)) small.push_back(h);
    // 16 of each larger class up to 2 KiB, 4 medium and 4 big kept back.
    EXPECT_EQ(small.size(), 64u + 4 * 48u + 12u + 12u);
    EXPECT_EQ(p.borrowed(), 4 * 48u + 24u);
    std::vector<uint32_t> medium;
    while (const uint32_t h = p.alloc(3000)) medium.push_back(h);
    EXPECT_EQ(medium.size(), 4u + 0u);  // its reserve; big keeps its own (4 > 16/4 is false)
    uint32_t big = p.alloc(6000);
    EXPECT_NE(big, 0u);  // the big reserve is still there
    for (uint32_t h : small) p.release(h);
    for (uint32_t h : medium) p.release(h);
    p.release(big);
    EXPECT_EQ(p.used(), 0u);

    // Large messages alone: they never take small slots.
    std::vector<uint32_t> large;
    while (const uint32_t h = p.alloc(3000)) large.push_back(h);
    EXPECT_EQ(large.size(), 16u + 12u);  // medium, then big down to its quarter
    EXPECT_EQ(p.class_used(0), 0u);
    EXPECT_EQ(p.class_used(1), 0u);
    uint32_t s = p.alloc();
    EXPECT_NE(s, 0u);
    p.release(s);
    for (uint32_t h : large) p.release(h);
}

TEST(MsgPool, FitMovesToALargerSlotKeepingTheBytes) {
    MsgPool p;
    ASSERT_TRUE(p.init(2, 1, 1));
    uint32_t h = p.alloc();
    std::memcpy(p.data(h), "SIP/2.0 100 Trying", 18);
    p.len(h) = 18;
    const uint32_t before = h;
    EXPECT_TRUE(p.fit(h, 100));  // fits: unchanged
    EXPECT_EQ(h, before);
    EXPECT_TRUE(p.fit(h, 4500));
    EXPECT_NE(h, before);
    EXPECT_EQ(p.capacity(h), big_cap);
    EXPECT_EQ(p.len(h), 18u);
    EXPECT_EQ(std::memcmp(p.data(h), "SIP/2.0 100 Trying", 18), 0);
    EXPECT_EQ(p.used(), 1u);  // the small slot went back
    uint32_t other = p.alloc();
    EXPECT_FALSE(p.fit(other, 4500));  // no big slot left: unchanged
    EXPECT_EQ(p.capacity(other), small_cap);
    EXPECT_TRUE(p.fit(other, 1500));  // a 1,536-byte one
    EXPECT_EQ(p.capacity(other), MsgPool::slot_bytes[3] - 4);
    EXPECT_TRUE(p.fit(other, 3000));  // the medium one
    EXPECT_EQ(p.capacity(other), medium_cap);
    EXPECT_FALSE(p.fit(h, MsgPool::max_size + 1));
    p.release(other);
    p.release(h);
    EXPECT_EQ(p.used(), 0u);
}

TEST(MsgPool, DefaultCountsPerClass) {
    MsgPool p;
    ASSERT_TRUE(p.init(64));
    for (size_t k = 0; k < MsgPool::per_count; k++) EXPECT_EQ(p.class_count(k), 64u) << k;
    EXPECT_EQ(p.class_count(medium), 16u);  // at least 16
    EXPECT_EQ(p.class_count(big), 16u);
    MsgPool q;
    ASSERT_TRUE(q.init(16384));
    for (size_t k = 0; k < MsgPool::per_count; k++) EXPECT_EQ(q.class_count(k), 16384u) << k;
    EXPECT_EQ(q.class_count(medium), 2048u);  // 1/8
    EXPECT_EQ(q.class_count(big), 512u);      // 1/32
    EXPECT_EQ(MsgPool::class_for(0), 0u);
    EXPECT_EQ(MsgPool::class_for(small_cap + 1), 1u);
    EXPECT_EQ(MsgPool::class_for(two_k_cap + 1), medium);
    EXPECT_EQ(MsgPool::class_for(big_cap), big);
    EXPECT_EQ(MsgPool::class_for(big_cap + 1), MsgPool::classes);
}

}  // namespace
}  // namespace sipedge::dp
