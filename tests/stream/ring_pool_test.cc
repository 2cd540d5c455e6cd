// The hand-off structures: SPSC ring, message pool, channel, waker. Pure or
// two short-lived threads; milliseconds.
#include <gtest/gtest.h>

#include <poll.h>

#include <chrono>
#include <thread>

#include "stream/channel.h"
#include "stream/msg_pool.h"
#include "stream/spsc_ring.h"

namespace sipedge::stream {
namespace {

TEST(SpscRing, CapacityWrapAndBurst) {
    SpscRing<uint32_t> r(5);
    EXPECT_EQ(r.capacity(), 8u);
    for (uint32_t round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < 8; i++) EXPECT_TRUE(r.push(round * 100 + i));
        EXPECT_FALSE(r.push(999));
        uint32_t v;
        EXPECT_TRUE(r.pop(v));
        EXPECT_EQ(v, round * 100);
        uint32_t out[16];
        EXPECT_EQ(r.pop_burst(out, 16), 7u);
        EXPECT_EQ(out[6], round * 100 + 7);
        EXPECT_FALSE(r.pop(v));
    }
}

TEST(SpscRing, TwoThreadsKeepOrder) {
    SpscRing<uint64_t> r(64);
    constexpr uint64_t n = 200000;
    std::thread prod([&] {
        for (uint64_t i = 1; i <= n;)
            if (r.push(i)) i++;
    });
    uint64_t expect = 1, v;
    while (expect <= n)
        if (r.pop(v)) ASSERT_EQ(v, expect++);
    prod.join();
}

TEST(MsgPool, SizeClassesBorrowAndExhaust) {
    MsgPool p({.small_count = 2, .large_count = 1});
    EXPECT_EQ(p.total(), 3u);
    StreamMsg* a = p.alloc(100);
    StreamMsg* b = p.alloc(4096);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->cap, MsgPool::small_bytes);
    StreamMsg* c = p.alloc(10);  // small ones out: borrows the large slot
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->cap, MsgPool::large_bytes);
    EXPECT_EQ(p.alloc(1), nullptr);
    EXPECT_EQ(p.in_use(), 3u);
    p.free(c);
    StreamMsg* d = p.alloc(65535);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(p.alloc(65537), nullptr);  // never fits
    p.free(a);
    p.free(b);
    p.free(d);
    EXPECT_EQ(p.in_use(), 0u);
}

TEST(Channel, SendWakesASleepingStreamSideAndRxWaitTimesOut) {
    Waker stream_side;
    Channel ch(0, ChannelConfig{{.small_count = 4, .large_count = 1}, {.small_count = 4, .large_count = 1}},
               &stream_side);
    // Nothing queued: rx_wait returns false after its bound.
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(ch.rx_wait(20));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(15));

    stream_side.arm();
    StreamMsg* m = ch.tx_alloc(10);
    ASSERT_NE(m, nullptr);
    ch.tx_send(m);  // kicks: the eventfd is readable
    pollfd p{stream_side.fd(), POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 0), 1);
    stream_side.disarm();
    StreamMsg* got = nullptr;
    EXPECT_EQ(ch.tx_burst(&got, 1), 1u);
    EXPECT_EQ(got, m);
    ch.tx_free(got);

    // rx: a consumer sleeping in rx_wait is woken by the push + kick.
    std::thread stream_thread([&] {
        StreamMsg* r = ch.rx_alloc(5);
        ch.rx_push(r);
        ch.rx_kick();
    });
    EXPECT_TRUE(ch.rx_wait(2000));
    stream_thread.join();
    StreamMsg* r = nullptr;
    ASSERT_EQ(ch.rx_burst(&r, 1), 1u);
    ch.rx_free(r);
    EXPECT_EQ(ch.rx_in_use(), 0u);
}

}  // namespace
}  // namespace sipedge::stream
