#include "dataplane/timer_wheel.h"
#include "dataplane/tsc.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace sipedge::dp {
namespace {

constexpr uint64_t never = UINT64_MAX;

// Records, per cookie, the `now` of the advance() call that fired it.
struct Recorder {
    std::vector<uint64_t> fired_at;
    std::vector<uint64_t> order;
    uint64_t now = 0;

    explicit Recorder(size_t n) : fired_at(n, never) {}

    uint32_t advance(TimerWheel& w, uint64_t to) {
        now = to;
        return w.advance(to, [this](uint64_t c) {
            EXPECT_EQ(fired_at[c], never) << "cookie " << c << " fired twice";
            fired_at[c] = now;
            order.push_back(c);
        });
    }
};

// The workers' clock (TSC → µs → the wheel's ms): exact after 100 days at
// 3 GHz, where ticks * 1000 / hz had overflowed and wrapped back to ~0.
TEST(TscClock, ExactForAnyUptime) {
    constexpr uint64_t hz = 3'000'000'000;
    EXPECT_EQ(ticks_to_us(0, hz), 0u);
    EXPECT_EQ(ticks_to_us(2'999, hz), 0u);
    EXPECT_EQ(ticks_to_us(3'000, hz), 1u);
    EXPECT_EQ(ticks_to_us(hz + hz / 2, hz), 1'500'000u);
    const uint64_t days100 = 100ull * 86400 * hz;  // 2.6e16 ticks
    EXPECT_EQ(ticks_to_us(days100, hz), 100ull * 86400 * 1'000'000);
    EXPECT_EQ(ticks_to_us(days100 + 6'000, hz) / 1000, 100ull * 86400 * 1000);
    EXPECT_LT(days100 * 1000 / hz, 100ull * 86400 * 1000) << "the old formula wraps";
    // Monotonic across a second boundary at a non-round frequency.
    constexpr uint64_t odd = 2'394'457'123;
    uint64_t last = 0;
    for (uint64_t t = 1000 * odd - 5000; t < 1000 * odd + 5000; t += 97) {
        const uint64_t us = ticks_to_us(t, odd);
        EXPECT_GE(us, last);
        last = us;
    }
    EXPECT_EQ(ticks_to_us(1000 * odd, odd), 1'000'000'000u);
}

// The busy loop's multiply-shift form: within its stated bound of the exact
// one (1 µs of truncation plus 2^-41 · hz / 10^6 relative), 16 ms at most
// after 100 days at up to 4 GHz, monotonic.
TEST(TscClock, MultiplyShiftStaysWithinItsBound) {
    for (const uint64_t hz : {1'000'000'000ull, 2'394'457'123ull, 3'000'000'000ull, 4'000'000'000ull}) {
        const TscToUs to_us(hz);
        for (uint64_t t = 0; t < 86400 * hz; t += hz / 7 + 12345) {
            const uint64_t a = to_us(t), e = ticks_to_us(t, hz);
            const double bound = 1 + double(e) * double(hz) / (1e6 * 2199023255552.0);
            ASSERT_LE(double(a > e ? a - e : e - a), bound) << "hz " << hz << " ticks " << t;
        }
        const uint64_t days100 = 100ull * 86400 * hz;
        const uint64_t a = to_us(days100), e = ticks_to_us(days100, hz);
        EXPECT_LE(a > e ? a - e : e - a, 16'000u) << "hz " << hz;
        uint64_t last = 0;
        for (uint64_t t = days100; t < days100 + 10'000'000; t += 997) {
            EXPECT_GE(to_us(t), last);
            last = to_us(t);
        }
    }
}

TEST(TimerWheel, FiresExactlyOnItsMillisecondWhenAdvancedEveryTick) {
    TimerWheel w;
    const uint64_t start = 1'000'003;  // not aligned to any level
    ASSERT_TRUE(w.init(20'000, start));
    std::mt19937_64 rng(7);
    std::vector<uint64_t> deadline(20'000);
    for (size_t i = 0; i < deadline.size(); i++) {
        // Spread over level 0, level 1 and level 2 (up to 70 s > 65 s).
        const uint64_t span = (i % 3 == 0) ? 256 : (i % 3 == 1) ? 16'384 : 70'000;
        deadline[i] = start + 1 + rng() % span;
        ASSERT_TRUE(w.arm_at(deadline[i], i).valid());
    }
    Recorder r(deadline.size());
    for (uint64_t t = start + 1; t <= start + 70'001; t++)
        r.advance(w, t);
    for (size_t i = 0; i < deadline.size(); i++)
        ASSERT_EQ(r.fired_at[i], deadline[i]) << "timer " << i;
    EXPECT_EQ(w.size(), 0U);
}

TEST(TimerWheel, NeverEarlyAndFiresInTheFirstAdvanceThatReachesIt) {
    TimerWheel w;
    ASSERT_TRUE(w.init(10'000, 0));
    std::mt19937_64 rng(11);
    std::vector<uint64_t> deadline(10'000);
    for (size_t i = 0; i < deadline.size(); i++) {
        deadline[i] = rng() % 200'000;
        ASSERT_TRUE(w.arm_at(deadline[i], i).valid());
    }
    Recorder r(deadline.size());
    std::vector<uint64_t> nows{0};
    uint64_t t = 0;
    while (t < 200'000) {
        t += 1 + rng() % 3000;
        r.advance(w, t);
        nows.push_back(t);
    }
    for (size_t i = 0; i < deadline.size(); i++) {
        ASSERT_NE(r.fired_at[i], never);
        ASSERT_GE(r.fired_at[i], std::max<uint64_t>(deadline[i], 1)) << "early: timer " << i;
        // The advance() just before the one that fired it had not reached it.
        const auto it = std::lower_bound(nows.begin(), nows.end(), r.fired_at[i]);
        ASSERT_LT(*(it - 1), std::max<uint64_t>(deadline[i], 1)) << "late: timer " << i;
    }
}

TEST(TimerWheel, DeadlineOrderAndArmingOrderWithinOneMillisecond) {
    TimerWheel w;
    ASSERT_TRUE(w.init(64, 100));
    // Armed out of order; 3 and 4 share a deadline, as do 0 and 5.
    const uint64_t d[] = {400, 20'000, 150, 900, 900, 400};
    for (uint64_t i = 0; i < 6; i++)
        ASSERT_TRUE(w.arm_at(d[i], i).valid());
    Recorder r(6);
    EXPECT_EQ(r.advance(w, 100'000), 6U);  // one call over every level
    EXPECT_EQ(r.order, (std::vector<uint64_t>{2, 0, 5, 3, 4, 1}));
}

// Issue 13: a caller whose callbacks fill a bounded outbox stops the wheel;
// what was left of that millisecond fires first in the next call, in arming
// order, before any later timer, and can still be cancelled meanwhile.
TEST(TimerWheel, AStoppedAdvanceHoldsTheRestOfItsTickForTheNextCall) {
    TimerWheel w;
    ASSERT_TRUE(w.init(64, 0));
    std::vector<TimerHandle> h;
    for (uint64_t i = 0; i < 10; i++) h.push_back(w.arm_at(50, i));
    ASSERT_TRUE(w.arm_at(51, 10).valid());
    std::vector<uint64_t> order;
    uint32_t budget = 3;
    auto fire = [&](uint64_t c) { order.push_back(c); };
    auto stop = [&] { return budget == 0 ? true : (budget--, false); };
    EXPECT_EQ(w.advance(60, fire, stop), 3U);
    EXPECT_EQ(order, (std::vector<uint64_t>{0, 1, 2}));
    EXPECT_TRUE(w.held());
    EXPECT_EQ(w.size(), 8U);
    EXPECT_TRUE(w.pending(h[5]));
    EXPECT_TRUE(w.cancel(h[5]));  // a held timer cancelled: never fires
    ASSERT_TRUE(w.arm_at(50, 11).valid());  // armed now, for a past tick: after the held ones
    budget = 4;
    EXPECT_EQ(w.advance(40, fire, stop), 4U);  // a now_ms behind: the held tick still goes on
    EXPECT_EQ(order, (std::vector<uint64_t>{0, 1, 2, 3, 4, 6, 7}));
    EXPECT_TRUE(w.held());
    budget = 100;
    EXPECT_EQ(w.advance(60, fire, stop), 4U);
    EXPECT_FALSE(w.held());
    EXPECT_EQ(order, (std::vector<uint64_t>{0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11}));
    EXPECT_EQ(w.size(), 0U);
}

TEST(TimerWheel, CancelledTimersNeverFire) {
    TimerWheel w;
    ASSERT_TRUE(w.init(1000, 0));
    std::vector<TimerHandle> h;
    for (uint64_t i = 0; i < 1000; i++)
        h.push_back(w.arm_at(10 + i * 37, i));
    for (uint64_t i = 0; i < 1000; i += 2)
        ASSERT_TRUE(w.cancel(h[i]));
    for (uint64_t i = 0; i < 1000; i += 2)
        EXPECT_FALSE(w.cancel(h[i])) << "double cancel accepted";
    EXPECT_EQ(w.size(), 500U);
    Recorder r(1000);
    r.advance(w, 10 + 1000 * 37);
    for (uint64_t i = 0; i < 1000; i++)
        EXPECT_EQ(r.fired_at[i] != never, i % 2 == 1) << i;
}

TEST(TimerWheel, StaleHandlesAreHarmless) {
    TimerWheel w;
    ASSERT_TRUE(w.init(1, 0));  // one node: every arm re-uses it
    EXPECT_FALSE(w.cancel(TimerHandle{}));
    EXPECT_FALSE(w.cancel(TimerHandle{5'000, 1}));  // out of range
    const TimerHandle a = w.arm_at(10, 1);
    ASSERT_TRUE(a.valid());
    EXPECT_FALSE(w.cancel(TimerHandle{a.idx, a.gen + 2}));  // wrong generation
    EXPECT_FALSE(w.cancel(TimerHandle{a.idx, a.gen + 1}));  // even: never armed
    Recorder r(3);
    r.advance(w, 10);
    EXPECT_EQ(r.fired_at[1], 10U);
    EXPECT_FALSE(w.pending(a));
    EXPECT_FALSE(w.cancel(a));  // fired
    const TimerHandle b = w.arm_at(20, 2);
    ASSERT_TRUE(b.valid());
    ASSERT_EQ(b.idx, a.idx);  // same node, new generation
    EXPECT_FALSE(w.cancel(a));  // must not cancel b
    EXPECT_TRUE(w.pending(b));
    r.advance(w, 20);
    EXPECT_EQ(r.fired_at[2], 20U);
}

TEST(TimerWheel, CascadesAcrossEveryLevelBoundaryAndBeyondTheHorizon) {
    const uint64_t start = 123'456'789;  // unaligned with every level
    std::vector<uint64_t> deltas;
    for (uint64_t b : {8, 14, 20, 26, 32})
        for (int64_t e : {-1, 0, 1})
            deltas.push_back((1ULL << b) + uint64_t(e));
    deltas.push_back(65'000);
    deltas.push_back(65'537);
    deltas.push_back(100ULL * 86'400'000);        // 100 days
    deltas.push_back((1ULL << 40) + 12'345);      // ~35 years
    deltas.push_back(0);
    deltas.push_back(1);
    TimerWheel w;
    ASSERT_TRUE(w.init(64, start));
    for (size_t i = 0; i < deltas.size(); i++)
        ASSERT_TRUE(w.arm_at(start + deltas[i], i).valid());
    std::vector<size_t> by_deadline(deltas.size());
    for (size_t i = 0; i < by_deadline.size(); i++)
        by_deadline[i] = i;
    std::sort(by_deadline.begin(), by_deadline.end(),
              [&](size_t a, size_t b) { return deltas[a] < deltas[b]; });
    Recorder r(deltas.size());
    for (size_t i : by_deadline) {
        const uint64_t d = std::max<uint64_t>(start + deltas[i], start + 1);
        r.advance(w, d - 1);
        // Already fired only if it shares its deadline with an earlier entry.
        ASSERT_TRUE(r.fired_at[i] == never || r.fired_at[i] == d) << "delta " << deltas[i] << " fired early";
        r.advance(w, d);
        ASSERT_EQ(r.fired_at[i], d) << "delta " << deltas[i];
    }
    EXPECT_EQ(w.size(), 0U);
}

TEST(TimerWheel, LongDelaysSurviveTickByTickAdvance) {
    // 70 s and 3 min timers walked 1 ms at a time through all cascades.
    TimerWheel w;
    ASSERT_TRUE(w.init(4, 5));
    ASSERT_TRUE(w.arm_in(70'000, 0).valid());
    ASSERT_TRUE(w.arm_in(180'001, 1).valid());
    Recorder r(2);
    for (uint64_t t = 6; t <= 180'006; t++)
        r.advance(w, t);
    EXPECT_EQ(r.fired_at[0], 70'005U);
    EXPECT_EQ(r.fired_at[1], 180'006U);
}

TEST(TimerWheel, PoolExhaustionFailsCleanlyAndRecovers) {
    TimerWheel w;
    ASSERT_TRUE(w.init(100, 0));
    std::vector<TimerHandle> h;
    for (uint64_t i = 0; i < 100; i++) {
        h.push_back(w.arm_at(50 + i, i));
        ASSERT_TRUE(h.back().valid());
    }
    EXPECT_FALSE(w.arm_at(10, 100).valid());
    EXPECT_EQ(w.size(), 100U);
    ASSERT_TRUE(w.cancel(h[7]));
    EXPECT_TRUE(w.arm_at(10, 100).valid());
    EXPECT_FALSE(w.arm_at(10, 101).valid());
    Recorder r(102);
    r.advance(w, 50);  // fires 100 (at 10) and 0 (at 50)
    EXPECT_EQ(r.fired_at[100], 50U);
    EXPECT_EQ(w.size(), 98U);
    EXPECT_TRUE(w.arm_at(60, 101).valid());
    EXPECT_TRUE(w.arm_at(60, 101).valid());
    EXPECT_FALSE(w.arm_at(60, 101).valid());
    EXPECT_FALSE(w.init(0, 0));
}

TEST(TimerWheel, CallbacksMayArmAndCancel) {
    TimerWheel w;
    ASSERT_TRUE(w.init(16, 0));
    ASSERT_TRUE(w.arm_at(5, 1).valid());
    const TimerHandle victim = w.arm_at(5, 2);  // same ms, fires after 1
    ASSERT_TRUE(victim.valid());
    std::vector<std::pair<uint64_t, uint64_t>> log;  // {cookie, tick it fired in}
    auto cb = [&](uint64_t c) {
        log.push_back({c, w.now()});
        if (c == 1) {
            EXPECT_TRUE(w.cancel(victim));
            EXPECT_TRUE(w.arm_at(0, 3).valid());  // in the past: next tick
            EXPECT_EQ(w.advance(1000, [](uint64_t) {}), 0U);  // no re-entry
        }
    };
    EXPECT_EQ(w.advance(10, cb), 2U);
    // now() inside a callback is the firing tick.
    ASSERT_EQ(log.size(), 2U);
    EXPECT_EQ(log[0], (std::pair<uint64_t, uint64_t>{1, 5}));
    EXPECT_EQ(log[1], (std::pair<uint64_t, uint64_t>{3, 6}));
    EXPECT_EQ(w.size(), 0U);
    EXPECT_EQ(w.now(), 10U);
}

// 1 M timers with a mixed deadline distribution, 10 % cancelled, some re-armed
// from callbacks, advanced in irregular steps; checked against a reference.
TEST(TimerWheel, MillionTimersMatchReference) {
    constexpr uint32_t n = 1'000'000;
    constexpr uint32_t extra = 50'000;  // armed from callbacks
    TimerWheel w;
    ASSERT_TRUE(w.init(n + extra, 0));
    std::mt19937_64 rng(2024);
    std::vector<uint64_t> deadline(n + extra, never);
    std::vector<TimerHandle> h(n);
    for (uint32_t i = 0; i < n; i++) {
        const uint64_t kind = rng() % 100;
        uint64_t d;
        if (kind < 40)
            d = rng() % 500;  // retransmit-like
        else if (kind < 90)
            d = rng() % 64'000;  // Timer B/F-like
        else if (kind < 99)
            d = rng() % 3'600'000;  // an hour
        else
            d = rng() % (60ULL * 86'400'000);  // 60 days: beyond 2^32 ms parks
        deadline[i] = std::max<uint64_t>(d, 1);  // the wheel starts at 0
        h[i] = w.arm_at(d, i);
        ASSERT_TRUE(h[i].valid());
    }
    std::vector<bool> cancelled(n + extra, false);
    for (uint32_t i = 0; i < n; i += 10) {
        ASSERT_TRUE(w.cancel(h[i]));
        cancelled[i] = true;
    }
    std::vector<uint64_t> fired_at(n + extra, never);
    uint64_t now = 0;
    uint64_t prev = 0;
    uint32_t next_extra = n;
    uint64_t errors = 0;
    auto cb = [&](uint64_t c) {
        if (fired_at[c] != never || cancelled[c] || deadline[c] > now || deadline[c] <= prev) {
            ADD_FAILURE() << "cookie " << c << " deadline " << deadline[c] << " fired in (" << prev
                          << ", " << now << "], cancelled " << cancelled[c] << " fired before "
                          << fired_at[c];
            errors++;
        }
        fired_at[c] = now;
        if (c % 20 == 1 && next_extra < n + extra) {
            const uint64_t d = now + rng() % 20'000;
            // Armed while tick w.now() fires: a deadline at or before it means the next tick.
            deadline[next_extra] = std::max(d, w.now() + 1);
            if (!w.arm_at(d, next_extra).valid())
                errors++;
            next_extra++;
        }
    };
    const uint64_t end = 60ULL * 86'400'000 + 20'000;
    while (now < end) {
        prev = now;
        // Mostly 1-40 ms steps for the first 70 s, then long jumps.
        now += now < 70'000 ? 1 + rng() % 40 : 1 + rng() % 600'000;
        if (now > end)
            now = end;
        w.advance(now, cb);
        ASSERT_EQ(errors, 0U) << "at now=" << now;
    }
    for (uint32_t i = 0; i < next_extra; i++) {
        if (cancelled[i])
            ASSERT_EQ(fired_at[i], never) << i;
        else
            ASSERT_NE(fired_at[i], never) << i << " deadline " << deadline[i];
    }
    EXPECT_EQ(w.size(), 0U);
    EXPECT_GT(next_extra, n);
}

}  // namespace
}  // namespace sipedge::dp
