// RFC 2782 ordering with an injected random source: exact orders for fixed
// draws, zero weights, priority groups, "." targets, and the distribution of
// the first pick over many draws.

#include "dns/srv_order.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tests/dns/fake_dns.h"

namespace sipedge::dns {
namespace {

using testing::FixedDraws;

SrvRr rr(uint16_t prio, uint16_t weight, const char* target) {
    return SrvRr{prio, weight, 5060, target, 60};
}

TEST(SrvOrder, PriorityFirstLowestWins) {
    std::vector<SrvRr> rrs{rr(30, 0, "c"), rr(10, 0, "a"), rr(20, 0, "b")};
    FixedDraws d;
    EXPECT_EQ(order_srv(rrs, d.rng()), (std::vector<size_t>{1, 2, 0}));
    EXPECT_EQ(d.next, 0u) << "single-record groups draw nothing";
}

TEST(SrvOrder, FixedDrawsGiveExactOrder) {
    // One priority, weights 10, 20, 70 (running sums 10, 30, 100).
    std::vector<SrvRr> rrs{rr(1, 10, "a"), rr(1, 20, "b"), rr(1, 70, "c")};
    {
        FixedDraws d{{0, 0}};  // 0 → first running sum >= 0 is "a"; then b (sum 20, draw 0)
        EXPECT_EQ(order_srv(rrs, d.rng()), (std::vector<size_t>{0, 1, 2}));
        EXPECT_EQ(d.next, 2u);
    }
    {
        FixedDraws d{{100, 30}};  // 100 → c; then {a 10, b 20}: 30 → b
        EXPECT_EQ(order_srv(rrs, d.rng()), (std::vector<size_t>{2, 1, 0}));
    }
    {
        FixedDraws d{{11, 10}};  // 11 → b (30 >= 11); then {a 10, c 70}: 10 → a
        EXPECT_EQ(order_srv(rrs, d.rng()), (std::vector<size_t>{1, 0, 2}));
    }
    {
        FixedDraws d{{31, 11}};  // 31 → c; then {a, b}: 11 → b
        EXPECT_EQ(order_srv(rrs, d.rng()), (std::vector<size_t>{2, 1, 0}));
    }
}

TEST(SrvOrder, BoundPassedToRngIsRemainingWeightSum) {
    std::vector<SrvRr> rrs{rr(1, 10, "a"), rr(1, 20, "b"), rr(1, 70, "c"), rr(2, 5, "d"), rr(2, 6, "e")};
    std::vector<uint32_t> bounds;
    Rng rng = [&](uint32_t max) {
        bounds.push_back(max);
        return max;  // always the last record of the running sum
    };
    EXPECT_EQ(order_srv(rrs, rng), (std::vector<size_t>{2, 1, 0, 4, 3}));
    EXPECT_EQ(bounds, (std::vector<uint32_t>{100, 30, 11}));
}

TEST(SrvOrder, ZeroWeightsComeFirstAndOnlyOnDrawZero) {
    // RFC 2782: weight-0 records are placed at the beginning of the running sum.
    std::vector<SrvRr> rrs{rr(1, 50, "a"), rr(1, 0, "z"), rr(1, 50, "b")};
    {
        FixedDraws d{{0, 0}};
        EXPECT_EQ(order_srv(rrs, d.rng()), (std::vector<size_t>{1, 0, 2}));
    }
    {
        FixedDraws d{{1, 0}};  // 1 → a (sums z:0, a:50); then {z, b}: 0 → z
        EXPECT_EQ(order_srv(rrs, d.rng()), (std::vector<size_t>{0, 1, 2}));
    }
    // All weights zero: every draw is 0, answer order is kept.
    std::vector<SrvRr> zeros{rr(1, 0, "a"), rr(1, 0, "b"), rr(1, 0, "c")};
    FixedDraws d;
    EXPECT_EQ(order_srv(zeros, d.rng()), (std::vector<size_t>{0, 1, 2}));
}

TEST(SrvOrder, DotTargetIsLeftOut) {
    // RFC 2782: target "." means the service is decidedly not available.
    std::vector<SrvRr> rrs{rr(1, 0, ""), rr(2, 0, "b")};
    FixedDraws d;
    EXPECT_EQ(order_srv(rrs, d.rng()), (std::vector<size_t>{1}));
}

TEST(SrvOrder, FirstPickFollowsWeights) {
    std::vector<SrvRr> rrs{rr(1, 10, "a"), rr(1, 30, "b"), rr(1, 60, "c")};
    std::mt19937 gen(12345);
    Rng rng = [&](uint32_t max) { return std::uniform_int_distribution<uint32_t>(0, max)(gen); };
    constexpr int n = 20000;
    int first[3] = {0, 0, 0};
    for (int i = 0; i < n; i++)
        first[order_srv(rrs, rng).front()]++;
    // Draws 0..100 inclusive: a gets 11/101, b 30/101, c 60/101.
    EXPECT_NEAR(first[0] / double(n), 11.0 / 101, 0.015);
    EXPECT_NEAR(first[1] / double(n), 30.0 / 101, 0.015);
    EXPECT_NEAR(first[2] / double(n), 60.0 / 101, 0.015);
}

TEST(SrvOrder, DefaultRngStaysInBounds) {
    Rng rng = make_default_rng();
    for (int i = 0; i < 1000; i++)
        ASSERT_LE(rng(7), 7u);
    EXPECT_EQ(rng(0), 0u);
}

}  // namespace
}  // namespace sipedge::dns
