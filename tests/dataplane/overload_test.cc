// BehindDetector (dataplane/overload.h): when a worker sheds new INVITEs.
#include "dataplane/overload.h"

#include <gtest/gtest.h>

namespace sipedge::dp {
namespace {

constexpr uint32_t burst = 32;

// <pkts> packets drained in full polls, one poll per millisecond (a worker
// slow or preempted: each tick sees 1 of 1 polls full). True if any tick shed.
bool drain_one_poll_per_ms(BehindDetector& d, uint32_t pkts) {
    bool shed = false;
    while (pkts) {
        const uint32_t n = pkts < burst ? pkts : burst;
        d.poll(n, burst);
        shed |= d.tick();
        pkts -= n;
    }
    return shed;
}

// The CI failure that made the backlog rule: 200 INVITEs sent back to back
// while the worker got one poll per ms (2 cores shared with the test's
// processes) were 6 full polls over 6 ms; the rule "5 ms behind" alone shed
// the last 8. A burst that fits the RX ring sheds nothing.
TEST(BehindDetector, ABurstThatFitsTheRingShedsNothing) {
    BehindDetector d;
    EXPECT_FALSE(drain_one_poll_per_ms(d, 200));
    EXPECT_EQ(d.behind_ms(), 0u) << "the last poll (8 packets) was not full: the stretch ended";
    EXPECT_FALSE(drain_one_poll_per_ms(d, BehindDetector::default_backlog - burst));
    EXPECT_EQ(d.behind_ms(), 15u);  // 15 ms behind, 480 packets: still a burst
}

// Arrivals that keep the polls full: behind for 5 ms and half a ring drained.
TEST(BehindDetector, SustainedFullPollsShedAfterFiveMsAndHalfARing) {
    BehindDetector d;
    uint32_t ms = 0, pkts = 0;
    while (!d.shed() && ms < 1000) {
        for (int i = 0; i < 4; i++) d.poll(burst, burst);  // 4 full polls a ms: 128 packets
        pkts += 4 * burst;
        d.tick();
        ms++;
    }
    EXPECT_TRUE(d.shed());
    EXPECT_EQ(ms, 5u);  // 5 ms: 640 packets >= 512
    EXPECT_GE(pkts, BehindDetector::default_backlog);
    // Slower arrivals, one full poll a ms: the backlog, not the time, decides.
    BehindDetector slow;
    ms = 0;
    while (!slow.shed() && ms < 1000) {
        slow.poll(burst, burst);
        slow.tick();
        ms++;
    }
    EXPECT_EQ(ms, BehindDetector::default_backlog / burst);  // 16 ms
}

// Shedding stops at the first millisecond that is not behind, and the
// stretch starts over: a new one needs 5 ms and half a ring again.
TEST(BehindDetector, StopsAtTheFirstMillisecondNotBehind) {
    BehindDetector d;
    for (int ms = 0; ms < 20; ms++) {
        d.poll(burst, burst);
        d.tick();
    }
    ASSERT_TRUE(d.shed());
    // 1 full poll of 4: not behind.
    d.poll(burst, burst);
    for (int i = 0; i < 3; i++) d.poll(3, burst);
    EXPECT_FALSE(d.tick());
    EXPECT_EQ(d.behind_ms(), 0u);
    for (int ms = 0; ms < 5; ms++) {
        d.poll(burst, burst);
        EXPECT_FALSE(d.tick()) << ms;  // 5 ms behind, but only 160 packets
    }
}

// 3 of 4 polls full is behind; 2 of 4 is not; a millisecond without a poll
// (none full) is not.
TEST(BehindDetector, ThreeOfFourPollsFullIsBehind) {
    BehindDetector d(1, 0);
    for (int i = 0; i < 3; i++) d.poll(burst, burst);
    d.poll(0, burst);
    EXPECT_TRUE(d.tick());
    for (int i = 0; i < 2; i++) d.poll(burst, burst);
    for (int i = 0; i < 2; i++) d.poll(1, burst);
    EXPECT_FALSE(d.tick());
    d.poll(burst, burst);
    EXPECT_TRUE(d.tick());
    EXPECT_FALSE(d.tick());  // no poll in this millisecond
}

}  // namespace
}  // namespace sipedge::dp
