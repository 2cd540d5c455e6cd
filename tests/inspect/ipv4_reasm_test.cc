// Ipv4Reassembler: order, overlap, limits and timeout (tools/inspect/ipv4_reasm.h).

#include "tools/inspect/ipv4_reasm.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace sipedge::ctl {
namespace {

constexpr uint64_t sec = 1'000'000;

// A datagram payload whose byte i is (i * 7 + seed) & 0xff, so misplaced
// bytes show up.
std::vector<uint8_t> pattern(size_t n, uint8_t seed = 1) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; i++) v[i] = uint8_t(i * 7 + seed);
    return v;
}

Ipv4FragKey key(uint16_t id = 0x1234, uint8_t proto = 17) {
    return Ipv4FragKey{0x0100000a, 0x0200000a, id, proto};
}

// Fragment [off, off + len) of <data>; `more` unless it reaches the end.
Ipv4Fragment frag(const std::vector<uint8_t>& data, uint32_t off, uint32_t len, Ipv4FragKey k = key()) {
    Ipv4Fragment f;
    f.key = k;
    f.offset = off;
    f.len = len;
    f.data = data.data() + off;
    f.more = off + len < data.size();
    return f;
}

TEST(Ipv4Reasm, InOrder) {
    const auto d = pattern(2000);
    Ipv4Reassembler r;
    EXPECT_EQ(r.add(frag(d, 0, 1480), 0), ReasmStatus::pending);
    EXPECT_EQ(r.pending(), 1u);
    EXPECT_EQ(r.pending_bytes(), 1480u);
    ASSERT_EQ(r.add(frag(d, 1480, 520), 1), ReasmStatus::complete);
    EXPECT_EQ(r.payload(), d);
    EXPECT_EQ(r.fragment_count(), 2u);
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_EQ(r.pending_bytes(), 0u);
    EXPECT_EQ(r.stats().completed, 1u);
    EXPECT_EQ(r.stats().fragments, 2u);
}

TEST(Ipv4Reasm, OutOfOrderLastFirst) {
    const auto d = pattern(3600);
    Ipv4Reassembler r;
    EXPECT_EQ(r.add(frag(d, 2960, 640), 0), ReasmStatus::pending);
    EXPECT_EQ(r.add(frag(d, 0, 1480), 0), ReasmStatus::pending);
    ASSERT_EQ(r.add(frag(d, 1480, 1480), 0), ReasmStatus::complete);
    EXPECT_EQ(r.payload(), d);
    EXPECT_EQ(r.fragment_count(), 3u);
}

TEST(Ipv4Reasm, IdenticalOverlapsAccepted) {
    const auto d = pattern(40);
    Ipv4Reassembler r;
    EXPECT_EQ(r.add(frag(d, 8, 16), 0), ReasmStatus::pending);   // [8, 24)
    EXPECT_EQ(r.add(frag(d, 16, 16), 0), ReasmStatus::pending);  // [16, 32) overlaps 8 bytes
    EXPECT_EQ(r.add(frag(d, 8, 8), 0), ReasmStatus::pending);    // all seen: duplicate
    EXPECT_EQ(r.stats().duplicate, 1u);
    EXPECT_EQ(r.add(frag(d, 32, 8), 0), ReasmStatus::pending);   // last, but a hole at 0
    ASSERT_EQ(r.add(frag(d, 0, 16), 0), ReasmStatus::complete);  // fills the hole, overlaps
    EXPECT_EQ(r.payload(), d);
    EXPECT_EQ(r.fragment_count(), 5u);
}

TEST(Ipv4Reasm, ConflictingOverlapDropsDatagram) {
    const auto d = pattern(32);
    auto other = d;
    other[12] ^= 0xff;
    Ipv4Reassembler r;
    EXPECT_EQ(r.add(frag(d, 0, 16), 0), ReasmStatus::pending);
    EXPECT_EQ(r.add(frag(other, 8, 16), 0), ReasmStatus::dropped);
    EXPECT_EQ(r.stats().overlap_conflict, 1u);
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_EQ(r.pending_bytes(), 0u);
    // The rest alone no longer completes anything.
    EXPECT_EQ(r.add(frag(d, 24, 8), 0), ReasmStatus::pending);
}

TEST(Ipv4Reasm, KeyIncludesProtoAndId) {
    const auto d = pattern(24);
    Ipv4Reassembler r;
    EXPECT_EQ(r.add(frag(d, 0, 16, key(1, 17)), 0), ReasmStatus::pending);
    EXPECT_EQ(r.add(frag(d, 16, 8, key(1, 6)), 0), ReasmStatus::pending);
    EXPECT_EQ(r.add(frag(d, 16, 8, key(2, 17)), 0), ReasmStatus::pending);
    EXPECT_EQ(r.pending(), 3u);
    Ipv4FragKey other_src = key(1, 17);
    other_src.src ^= 1;
    EXPECT_EQ(r.add(frag(d, 16, 8, other_src), 0), ReasmStatus::pending);
    ASSERT_EQ(r.add(frag(d, 16, 8, key(1, 17)), 0), ReasmStatus::complete);
    EXPECT_EQ(r.payload(), d);
}

TEST(Ipv4Reasm, TimeoutIs30SecondsOfCaptureTime) {
    const auto d = pattern(24);
    Ipv4Reassembler r;
    EXPECT_EQ(r.add(frag(d, 0, 16), 100 * sec), ReasmStatus::pending);
    ASSERT_EQ(r.add(frag(d, 16, 8), 130 * sec - 1), ReasmStatus::complete);

    EXPECT_EQ(r.add(frag(d, 0, 16, key(9)), 200 * sec), ReasmStatus::pending);
    // 30 s after the first fragment the datagram is gone; this one starts anew.
    EXPECT_EQ(r.add(frag(d, 16, 8, key(9)), 230 * sec), ReasmStatus::pending);
    EXPECT_EQ(r.stats().timed_out, 1u);
    EXPECT_EQ(r.pending(), 1u);
    r.expire(260 * sec);
    EXPECT_EQ(r.stats().timed_out, 2u);
    EXPECT_EQ(r.pending(), 0u);
}

TEST(Ipv4Reasm, ClockSteppingBackDoesNotExpire) {
    const auto d = pattern(24);
    Ipv4Reassembler r;
    EXPECT_EQ(r.add(frag(d, 0, 16), 100 * sec), ReasmStatus::pending);
    ASSERT_EQ(r.add(frag(d, 16, 8), 5 * sec), ReasmStatus::complete);
    EXPECT_EQ(r.stats().timed_out, 0u);
}

TEST(Ipv4Reasm, MaxDatagramsEvictsOldest) {
    const auto d = pattern(24);
    Ipv4ReasmLimits lim;
    lim.max_datagrams = 2;
    Ipv4Reassembler r(lim);
    EXPECT_EQ(r.add(frag(d, 0, 16, key(1)), 0), ReasmStatus::pending);
    EXPECT_EQ(r.add(frag(d, 0, 16, key(2)), 1), ReasmStatus::pending);
    EXPECT_EQ(r.add(frag(d, 0, 16, key(3)), 2), ReasmStatus::pending);
    EXPECT_EQ(r.pending(), 2u);
    EXPECT_EQ(r.stats().evicted, 1u);
    EXPECT_EQ(r.add(frag(d, 16, 8, key(3)), 3), ReasmStatus::complete);
    EXPECT_EQ(r.add(frag(d, 16, 8, key(2)), 4), ReasmStatus::complete);
    // key 1 was evicted: its tail starts a new datagram (and evicts nothing).
    EXPECT_EQ(r.add(frag(d, 16, 8, key(1)), 5), ReasmStatus::pending);
    EXPECT_EQ(r.stats().evicted, 1u);
}

TEST(Ipv4Reasm, MaxBytesEvictsOldestButNotTheGrowingOne) {
    const auto d = pattern(200);
    Ipv4ReasmLimits lim;
    lim.max_bytes = 256;
    Ipv4Reassembler r(lim);
    EXPECT_EQ(r.add(frag(d, 0, 64, key(1)), 0), ReasmStatus::pending);
    EXPECT_EQ(r.add(frag(d, 0, 64, key(2)), 0), ReasmStatus::pending);
    EXPECT_EQ(r.pending_bytes(), 128u);
    // key 2 grows to 200 bytes: key 1 must go, key 2 stays.
    EXPECT_EQ(r.add(frag(d, 192, 8, key(2)), 0), ReasmStatus::pending);
    EXPECT_EQ(r.stats().evicted, 1u);
    EXPECT_EQ(r.pending(), 1u);
    EXPECT_EQ(r.pending_bytes(), 200u);
    ASSERT_EQ(r.add(frag(d, 64, 128, key(2)), 0), ReasmStatus::complete);
    EXPECT_EQ(r.payload(), d);
}

TEST(Ipv4Reasm, DatagramLargerThanMaxBytesIsDropped) {
    const auto d = pattern(200);
    Ipv4ReasmLimits lim;
    lim.max_bytes = 100;
    Ipv4Reassembler r(lim);
    EXPECT_EQ(r.add(frag(d, 0, 64), 0), ReasmStatus::pending);
    EXPECT_EQ(r.add(frag(d, 192, 8), 0), ReasmStatus::dropped);
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_EQ(r.pending_bytes(), 0u);
    EXPECT_EQ(r.stats().evicted, 1u);
}

TEST(Ipv4Reasm, BadFragmentsIgnored) {
    const auto d = pattern(70000);
    Ipv4Reassembler r;
    Ipv4Fragment f = frag(d, 0, 13);  // not a multiple of 8 with MF set
    EXPECT_EQ(r.add(f, 0), ReasmStatus::dropped);
    f = frag(d, 0, 0);
    EXPECT_EQ(r.add(f, 0), ReasmStatus::dropped);
    f = frag(d, 65512, 8);  // ends at 65520 > 65515: "ping of death"
    EXPECT_EQ(r.add(f, 0), ReasmStatus::dropped);
    EXPECT_EQ(r.stats().bad_fragment, 3u);
    EXPECT_EQ(r.pending(), 0u);
    // The last fragment may have any length.
    std::vector<uint8_t> small = pattern(21);
    EXPECT_EQ(r.add(frag(small, 16, 5), 0), ReasmStatus::pending);
}

TEST(Ipv4Reasm, InconsistentEndDropsDatagram) {
    const auto d = pattern(48);
    Ipv4Reassembler r;
    EXPECT_EQ(r.add(frag(d, 40, 8), 0), ReasmStatus::pending);  // end = 48
    Ipv4Fragment shorter = frag(d, 32, 8);
    shorter.more = false;  // a second last fragment, ending at 40
    EXPECT_EQ(r.add(shorter, 0), ReasmStatus::dropped);
    EXPECT_EQ(r.stats().inconsistent, 1u);
    EXPECT_EQ(r.pending(), 0u);

    // Data past a known end.
    const auto e = pattern(64);
    EXPECT_EQ(r.add(frag(e, 0, 16), 0), ReasmStatus::pending);
    Ipv4Fragment last = frag(e, 16, 8);
    last.more = false;  // end = 24
    EXPECT_EQ(r.add(last, 0), ReasmStatus::complete);
    EXPECT_EQ(r.add(frag(e, 32, 16, key(5)), 0), ReasmStatus::pending);
    Ipv4Fragment early_end = frag(e, 8, 8, key(5));
    early_end.more = false;  // end 16 < 48 already received
    EXPECT_EQ(r.add(early_end, 0), ReasmStatus::dropped);
    EXPECT_EQ(r.stats().inconsistent, 2u);
}

TEST(Ipv4Reasm, FlushCountsUnfinished) {
    const auto d = pattern(24);
    Ipv4Reassembler r;
    r.add(frag(d, 0, 16, key(1)), 0);
    r.add(frag(d, 0, 16, key(2)), 0);
    r.flush();
    EXPECT_EQ(r.stats().unfinished, 2u);
    EXPECT_EQ(r.pending(), 0u);
    EXPECT_EQ(r.pending_bytes(), 0u);
}

}  // namespace
}  // namespace sipedge::ctl
