// Access peers and flood guards (dataplane/flood_guard.h, issue 16): peer
// lookup by longest prefix, token buckets per peer and kind, the per-source
// flood guard and its bounded table.

#include <gtest/gtest.h>

#include <vector>

#include "dataplane/flood_guard.h"

namespace sipedge::dp {
namespace {

constexpr uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d;
}

PeerNet net(uint32_t addr, uint8_t prefix, uint16_t peer) {
    PeerNet n;
    n.mask = prefix ? ~0u << (32 - prefix) : 0;
    n.net = addr & n.mask;
    n.prefix = prefix;
    n.peer = peer;
    return n;
}

struct Fixture {
    std::vector<PeerNet> nets;
    std::vector<PeerLimit> limits;
    AccessPeers p;
    void publish() {
        p.nets = nets.data();
        p.net_count = uint32_t(nets.size());
        p.limits = limits.data();
        p.peer_count = uint32_t(limits.size());
    }
};

TEST(FloodGuard, PeerOfTakesTheLongestPrefix) {
    Fixture f;
    f.nets = {net(ip(10, 1, 2, 0), 24, 1), net(ip(10, 0, 0, 0), 8, 0)};  // longest first
    f.limits.resize(2);
    f.publish();
    EXPECT_EQ(peer_of(f.p, ip(10, 1, 2, 77)), 1);
    EXPECT_EQ(peer_of(f.p, ip(10, 9, 9, 9)), 0);
    EXPECT_EQ(peer_of(f.p, ip(192, 0, 2, 1)), -1);
}

TEST(FloodGuard, RestrictedSourcesRefuseStrangers) {
    Fixture f;
    f.nets = {net(ip(10, 0, 0, 0), 8, 0)};
    f.limits.resize(1);
    f.publish();
    FloodGuard g;
    ASSERT_TRUE(g.init(4, 64));
    int peer = 0;
    EXPECT_EQ(g.check(f.p, ip(192, 0, 2, 1), RateKind::invite, 0, peer), FloodVerdict::pass);  // open
    EXPECT_EQ(peer, -1);
    f.p.restrict_sources = true;
    EXPECT_EQ(g.check(f.p, ip(192, 0, 2, 1), RateKind::invite, 0, peer), FloodVerdict::not_a_peer);
    EXPECT_EQ(g.check(f.p, ip(10, 0, 0, 5), RateKind::invite, 0, peer), FloodVerdict::pass);
    EXPECT_EQ(peer, 0);
}

TEST(FloodGuard, PeerBucketsPerKind) {
    Fixture f;
    f.nets = {net(ip(10, 0, 0, 0), 8, 0)};
    f.limits.resize(1);
    f.limits[0].rps[size_t(RateKind::invite)] = 10;  // burst = one second's worth
    f.publish();
    FloodGuard g;
    ASSERT_TRUE(g.init(4, 64));
    int peer = 0;
    int passed = 0;
    for (int i = 0; i < 25; i++) passed += g.check(f.p, ip(10, 0, 0, 5), RateKind::invite, 1000, peer) == FloodVerdict::pass;
    EXPECT_EQ(passed, 10);
    // REGISTER has no limit: unaffected by the empty INVITE bucket.
    EXPECT_EQ(g.check(f.p, ip(10, 0, 0, 5), RateKind::register_, 1000, peer), FloodVerdict::pass);
    EXPECT_EQ(g.check(f.p, ip(10, 0, 0, 5), RateKind::invite, 1000, peer), FloodVerdict::peer_rate);
    // 10/s refills one token per 100 ms.
    EXPECT_EQ(g.check(f.p, ip(10, 0, 0, 5), RateKind::invite, 1100, peer), FloodVerdict::pass);
    EXPECT_EQ(g.check(f.p, ip(10, 0, 0, 5), RateKind::invite, 1100, peer), FloodVerdict::peer_rate);
    // Over ten seconds at 20 attempts/s: 10/s pass (plus the first burst).
    passed = 0;
    for (Millis t = 2000; t < 12000; t += 50)
        passed += g.check(f.p, ip(10, 0, 0, 5), RateKind::invite, t, peer) == FloodVerdict::pass;
    EXPECT_GE(passed, 100);
    EXPECT_LE(passed, 111);
}

TEST(FloodGuard, SourceFloodBlocksForBlockSeconds) {
    Fixture f;
    f.publish();
    f.p.source_rps = 50;
    f.p.block_s = 10;
    FloodGuard g;
    ASSERT_TRUE(g.init(1, 64));
    int peer = 0;
    const uint32_t bad = ip(198, 51, 100, 9), good = ip(198, 51, 100, 10);
    int passed = 0;
    for (int i = 0; i < 200; i++) passed += g.check(f.p, bad, RateKind::other, 5000 + i, peer) == FloodVerdict::pass;
    EXPECT_EQ(passed, 50);
    EXPECT_EQ(g.blocked_sources(5200), 1u);
    EXPECT_EQ(g.blocked_for_s(bad, 5200), 10u);  // blocked at 5050 for 10 s
    // Another source is not affected.
    EXPECT_EQ(g.check(f.p, good, RateKind::other, 5200, peer), FloodVerdict::pass);
    // Still blocked just before the end, free after it, with a fresh window.
    EXPECT_EQ(g.check(f.p, bad, RateKind::other, 15049, peer), FloodVerdict::source_flood);
    EXPECT_EQ(g.check(f.p, bad, RateKind::other, 15051, peer), FloodVerdict::pass);
    EXPECT_EQ(g.blocked_sources(15051), 0u);
    // A steady 40/s never trips it.
    passed = 0;
    for (Millis t = 20000; t < 30000; t += 25) passed += g.check(f.p, bad, RateKind::other, t, peer) == FloodVerdict::pass;
    EXPECT_EQ(passed, 400);
}

// A spoofed-source flood (many addresses) cannot grow the table or evict
// blocked sources while free or unblocked slots exist around them.
TEST(FloodGuard, TableIsBoundedAndKeepsBlockedSources) {
    Fixture f;
    f.publish();
    f.p.source_rps = 5;
    FloodGuard g;
    ASSERT_TRUE(g.init(1, 1024));
    int peer = 0;
    const uint32_t bad = ip(203, 0, 113, 7);
    for (int i = 0; i < 10; i++) g.check(f.p, bad, RateKind::other, 100, peer);
    ASSERT_EQ(g.check(f.p, bad, RateKind::other, 100, peer), FloodVerdict::source_flood);
    for (uint32_t a = 1; a < 100000; a++) g.check(f.p, ip(10, 0, 0, 0) + a, RateKind::other, 200, peer);
    EXPECT_GT(g.evictions(), 0u);
    EXPECT_EQ(g.check(f.p, bad, RateKind::other, 300, peer), FloodVerdict::source_flood);
}

}  // namespace
}  // namespace sipedge::dp
