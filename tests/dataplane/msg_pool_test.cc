// MsgPool (dataplane/msg_pool.h): the two size classes, fit() and exhaustion.

#include "dataplane/msg_pool.h"

#include <cstring>
#include <set>

#include <gtest/gtest.h>

namespace sipedge::dp {
namespace {

TEST(MsgPool, SmallFirstThenBigForLargeMessages) {
    MsgPool p;
    ASSERT_TRUE(p.init(4, 2));
    const uint32_t s = p.alloc();
    ASSERT_NE(s, 0u);
    EXPECT_EQ(p.capacity(s), MsgPool::slot_size);
    const uint32_t b = p.alloc(4000);  // a 4 KB INVITE does not fit a small slot
    ASSERT_NE(b, 0u);
    EXPECT_EQ(p.capacity(b), MsgPool::max_size);
    EXPECT_EQ(p.big_used(), 1u);
    EXPECT_EQ(p.alloc(MsgPool::max_size + 1), 0u);  // over the largest slot: refused
    std::memset(p.data(b), 'x', MsgPool::max_size);  // the whole slot is usable
    p.len(b) = uint32_t(MsgPool::max_size);
    EXPECT_EQ(p.len(s), 0u);  // neighbours untouched
    p.release(b);
    p.release(s);
    EXPECT_EQ(p.used(), 0u);
}

TEST(MsgPool, ExhaustionAndDistinctHandles) {
    MsgPool p;
    ASSERT_TRUE(p.init(3, 1));
    std::set<uint32_t> h;
    for (int i = 0; i < 4; i++) h.insert(p.alloc());  // 3 small, then the big one
    EXPECT_EQ(h.size(), 4u);
    EXPECT_EQ(h.count(0), 0u);
    EXPECT_EQ(p.alloc(), 0u);
    EXPECT_EQ(p.alloc(5000), 0u);
    EXPECT_EQ(p.used(), 4u);
    for (uint32_t x : h) p.release(x);
    EXPECT_EQ(p.used(), 0u);
    p.release(0);  // ignored
    EXPECT_EQ(p.used(), 0u);
}

TEST(MsgPool, FitMovesToABigSlotKeepingTheBytes) {
    MsgPool p;
    ASSERT_TRUE(p.init(2, 1));
    uint32_t h = p.alloc();
    std::memcpy(p.data(h), "SIP/2.0 100 Trying", 18);
    p.len(h) = 18;
    const uint32_t before = h;
    EXPECT_TRUE(p.fit(h, 100));  // fits: unchanged
    EXPECT_EQ(h, before);
    EXPECT_TRUE(p.fit(h, 4500));
    EXPECT_NE(h, before);
    EXPECT_EQ(p.capacity(h), MsgPool::max_size);
    EXPECT_EQ(p.len(h), 18u);
    EXPECT_EQ(std::memcmp(p.data(h), "SIP/2.0 100 Trying", 18), 0);
    EXPECT_EQ(p.used(), 1u);  // the small slot went back
    uint32_t other = p.alloc();
    EXPECT_FALSE(p.fit(other, 4500));  // no big slot left: unchanged
    EXPECT_EQ(p.capacity(other), MsgPool::slot_size);
    EXPECT_FALSE(p.fit(h, MsgPool::max_size + 1));
    p.release(other);
    p.release(h);
    EXPECT_EQ(p.used(), 0u);
}

TEST(MsgPool, DefaultBigCountIsOnePerSixteen) {
    MsgPool p;
    ASSERT_TRUE(p.init(64));
    int big = 0;
    while (p.alloc(3000)) big++;
    EXPECT_EQ(big, 16);  // at least 16
    MsgPool q;
    ASSERT_TRUE(q.init(1024));
    big = 0;
    while (q.alloc(3000)) big++;
    EXPECT_EQ(big, 64);
}

}  // namespace
}  // namespace sipedge::dp
