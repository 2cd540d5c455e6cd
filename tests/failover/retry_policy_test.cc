// The retry-and-rollover model: knob validation per seed, and each seed's
// timeline replayed on a simulated clock, every send checked to the ms.

#include "failover/retry_policy.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace sipedge::failover {
namespace {

// One line of a replayed timeline: "t=3500 rollover s1 a1 timeout".
struct Ev {
    Millis t;
    RetryStep step;
    uint16_t server;
    uint16_t attempt;
    RetryReason reason;
    bool operator==(const Ev&) const = default;
};

std::string str(const Ev& e) {
    const char* s[] = {"none", "send", "rollover", "give_up"};
    const char* r[] = {"", " timeout", " 503", " icmp"};
    return "t=" + std::to_string(e.t) + " " + s[int(e.step)] + " s" + std::to_string(e.server) +
           " a" + std::to_string(e.attempt) + r[int(e.reason)];
}

void PrintTo(const Ev& e, std::ostream* os) { *os << str(e); }

std::string str(const std::vector<Ev>& v) {
    std::string out;
    for (const Ev& e : v) out += str(e) + "\n";
    return out;
}

Ev ev(const RetryAction& a, Millis t) { return {t, a.step, a.server, a.attempt, a.reason}; }
Ev send(Millis t, uint16_t s, uint16_t a) { return {t, RetryStep::send, s, a, RetryReason::none}; }
Ev roll(Millis t, uint16_t s, RetryReason r = RetryReason::timeout) {
    return {t, RetryStep::rollover, s, 1, r};
}
Ev give_up(Millis t, uint16_t s, uint16_t a, RetryReason r = RetryReason::timeout) {
    return {t, RetryStep::give_up, s, a, r};
}

// Drives <rs> from start(0) by jumping the clock to each deadline until the
// walk ends (or <limit> events, so a broken model cannot loop forever).
std::vector<Ev> replay(RetryState& rs, Millis start = 0, size_t limit = 200) {
    std::vector<Ev> v;
    v.push_back(ev(rs.start(start), start));
    while (v.size() < limit && rs.next_deadline() != never_ms) {
        const Millis t = rs.next_deadline();
        const RetryAction a = rs.on_timer(t);
        if (a.step == RetryStep::none) {
            ADD_FAILURE() << "deadline " << t << " produced nothing";
            break;
        }
        v.push_back(ev(a, t));
    }
    return v;
}

std::vector<Ev> walk(const RetryPolicy& p, RequestKind k, uint16_t servers, bool reliable = false) {
    EXPECT_EQ(validate(p), KnobError::ok);
    RetryState rs;
    rs.init(p, k, reliable, servers);
    return replay(rs);
}

#define EXPECT_TIMELINE(got, ...)                                  \
    do {                                                           \
        const std::vector<Ev> want_{__VA_ARGS__};                  \
        EXPECT_EQ(got, want_) << "got:\n" << str(got) << "want:\n" << str(want_); \
    } while (0)

// ---- validation ------------------------------------------------------------------

TEST(RetryKnobs, AdtranRanges) {
    AdtranTimers a;
    EXPECT_EQ(validate(a), KnobError::ok);
    a.t1_ms = 49;   EXPECT_EQ(validate(a), KnobError::t1_range);
    a.t1_ms = 50;   EXPECT_EQ(validate(a), KnobError::ok);
    a.t1_ms = 1000; EXPECT_EQ(validate(a), KnobError::ok);
    a.t1_ms = 1001; EXPECT_EQ(validate(a), KnobError::t1_range);
    a = {};
    a.t2_ms = 999;   EXPECT_EQ(validate(a), KnobError::t2_range);
    a.t2_ms = 32000; EXPECT_EQ(validate(a), KnobError::ok);
    a.t2_ms = 32001; EXPECT_EQ(validate(a), KnobError::t2_range);
    a = {};
    a.rollover_s = 0;  EXPECT_EQ(validate(a), KnobError::rollover_range);
    a.rollover_s = 32; EXPECT_EQ(validate(a), KnobError::ok);
    a.rollover_s = 33; EXPECT_EQ(validate(a), KnobError::rollover_range);
    a = {};
    a.rollover_register_s = 0;  EXPECT_EQ(validate(a), KnobError::ok);  // follow-primary
    a.rollover_register_s = 1;  EXPECT_EQ(validate(a), KnobError::ok);
    a.rollover_register_s = 33; EXPECT_EQ(validate(a), KnobError::rollover_register_range);
}

TEST(RetryKnobs, PolyRanges) {
    PolyTiming p;
    EXPECT_EQ(validate(p), KnobError::ok);
    p.retry_timeout_ms = 65535; EXPECT_EQ(validate(p), KnobError::ok);
    p.retry_timeout_ms = 65536; EXPECT_EQ(validate(p), KnobError::retry_timeout_range);
    p = {};
    p.retry_max_count = 0;     EXPECT_EQ(validate(p), KnobError::ok);
    p.retry_max_count = 65536; EXPECT_EQ(validate(p), KnobError::retry_max_count_range);
    p = {};
    p.tcp_fast_failover_timeout_ms = 1999; EXPECT_EQ(validate(p), KnobError::tcp_fast_failover_timeout_range);
    p.tcp_fast_failover_timeout_ms = 2000; EXPECT_EQ(validate(p), KnobError::ok);
    p.tcp_fast_failover_timeout_ms = 5000; EXPECT_EQ(validate(p), KnobError::ok);
    p.tcp_fast_failover_timeout_ms = 5001; EXPECT_EQ(validate(p), KnobError::tcp_fast_failover_timeout_range);
}

TEST(RetryKnobs, CiscoAndAudioCodesRanges) {
    CiscoTiming c;
    EXPECT_EQ(validate(c), KnobError::ok);
    c.trying_timer_ms = 99;  EXPECT_EQ(validate(c), KnobError::trying_timer_range);
    c.trying_timer_ms = 200; EXPECT_EQ(validate(c), KnobError::ok);
    c.retry_count = 0;  EXPECT_EQ(validate(c), KnobError::retry_count_range);
    c.retry_count = 11; EXPECT_EQ(validate(c), KnobError::retry_count_range);
    AudioCodesTiming a;
    EXPECT_EQ(validate(a), KnobError::ok);
    a.no_response_timeout_ms = 999; EXPECT_EQ(validate(a), KnobError::no_response_timeout_range);
}

TEST(RetryKnobs, PolicyConsistency) {
    RetryPolicy p;
    EXPECT_EQ(validate(p), KnobError::ok);
    p.walk_timeout_ms = 0;
    EXPECT_EQ(validate(p), KnobError::policy_unbounded);
    p.attempts_per_server = 3;
    EXPECT_EQ(validate(p), KnobError::ok);
    p.flags |= retry_last_until_walk_timeout;
    EXPECT_EQ(validate(p), KnobError::policy_last_needs_walk);
    p = {};
    p.first_wait_ms = 0;
    EXPECT_EQ(validate(p), KnobError::policy_zero_wait);
    p = {};
    p.max_wait_ms = 100;
    EXPECT_EQ(validate(p), KnobError::policy_cap_below_first);
    for (int e = 0; e < int(KnobError::count_); e++)
        EXPECT_STRNE(knob_error_text(KnobError(e)), "unknown");
}

TEST(RetryKnobs, SeedDefaultsMapOntoPolicy) {
    const RetryPolicy a = make_policy(AdtranTimers{}, RequestKind::invite);
    EXPECT_EQ(a.t1_ms, 500u);
    EXPECT_EQ(a.server_timeout_ms, 3000u);
    EXPECT_EQ(a.walk_timeout_ms, 32000u);  // 64·T1
    EXPECT_FALSE(a.flags & retry_on_503);  // timeout-only by default
    const RetryPolicy p = make_policy(PolyTiming{}, RequestKind::invite);
    EXPECT_EQ(p.attempts_per_server, 3);
    EXPECT_EQ(p.max_wait_ms, 4000u);
    EXPECT_TRUE(p.flags & retry_on_503);   // failoverOn503Response = 1
    PolyTiming zero;
    zero.retry_max_count = 0;
    EXPECT_EQ(make_policy(zero, RequestKind::invite).attempts_per_server, 3);
    const RetryPolicy c = make_policy(CiscoTiming{}, RequestKind::invite);
    EXPECT_EQ(c.attempts_per_server, 7);   // Retry Count 6 + the first send
    EXPECT_EQ(c.walk_timeout_ms, 0u);
    const RetryPolicy ac = make_policy(AudioCodesTiming{}, RequestKind::register_);
    EXPECT_EQ(ac.server_timeout_ms, 32000u);
}

TEST(RetrySchedule, TotalsMatchSeedFormulas) {
    // seed P example 1: 0.5 + 1 + 2 = 3.5 s.
    EXPECT_EQ(schedule_total_ms(make_policy(PolyTiming{}, RequestKind::invite), 3), 3500u);
    // seed C: a·(2ⁿ − 1), n = retries + 1: 500·127 = 63.5 s; 200·15 = 3 s.
    EXPECT_EQ(schedule_total_ms(make_policy(CiscoTiming{}, RequestKind::invite), 7), 63500u);
    CiscoTiming fast;
    fast.trying_timer_ms = 200;
    fast.retry_count = 3;
    EXPECT_EQ(schedule_total_ms(make_policy(fast, RequestKind::invite), 4), 3000u);
    // Capped doubling turns linear: 0.5+1+2+4+4+4 = 15.5 s.
    EXPECT_EQ(schedule_total_ms(rfc3261_policy(500, 4000, RequestKind::other), 6), 15500u);
    // Uncapped doubling saturates instead of overflowing.
    EXPECT_EQ(schedule_total_ms(make_policy(CiscoTiming{}, RequestKind::invite), 65535), never_ms);
}

// ---- seed P: Poly --------------------------------------------------------------

TEST(PolyTimeline, DefaultFailsOverAfter3500) {
    // seed P example 1: sends at 0, 0.5, 1.5; failover at 3.5 s. The final
    // server is retried with RFC intervals until 32 s after the first send.
    const auto got = walk(make_policy(PolyTiming{}, RequestKind::invite), RequestKind::invite, 3);
    EXPECT_TIMELINE(got,
        send(0, 0, 1), send(500, 0, 2), send(1500, 0, 3),
        roll(3500, 1), send(4000, 1, 2), send(5000, 1, 3),
        roll(7000, 2), send(7500, 2, 2), send(8500, 2, 3), send(10500, 2, 4),
        send(14500, 2, 5), send(18500, 2, 6), send(22500, 2, 7), send(26500, 2, 8),
        send(30500, 2, 9), give_up(32000, 2, 9));
}

TEST(PolyTimeline, Example2StaticFiveSecondsTwoTries) {
    // seed P example 2: retryTimeOut=5000, retryMaxCount=2, three A records:
    // 2 tries 5 s apart per server (10 s each), the third server retried with
    // RFC 3261 intervals for the remaining 32 − 20 = 12 s.
    PolyTiming pt;
    pt.retry_timeout_ms = 5000;
    pt.retry_max_count = 2;
    const auto got = walk(make_policy(pt, RequestKind::register_), RequestKind::register_, 3);
    EXPECT_TIMELINE(got,
        send(0, 0, 1), send(5000, 0, 2),
        roll(10000, 1), send(15000, 1, 2),
        roll(20000, 2), send(20500, 2, 2), send(21500, 2, 3), send(23500, 2, 4),
        send(27500, 2, 5), send(31500, 2, 6), give_up(32000, 2, 6));
}

TEST(PolyTimeline, TimerBEndsTheWalkWithoutEnhanced) {
    // 12 servers at 3.5 s each: at 32 s the walk is on server 9 and ends.
    const auto got = walk(make_policy(PolyTiming{}, RequestKind::invite), RequestKind::invite, 12);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back(), give_up(32000, 9, 1));
    EXPECT_EQ(got[got.size() - 2], roll(31500, 9));
}

TEST(PolyTimeline, EnhancedTriesEveryServerPastTimerB) {
    // seed P enhanced: "timer B will not be used to stop the transaction before
    // every route has been attempted": servers 10 and 11 still get their turn.
    PolyTiming pt;
    pt.enhanced = true;
    const auto got = walk(make_policy(pt, RequestKind::invite), RequestKind::invite, 12);
    std::vector<Ev> tail(got.end() - 8, got.end());
    // Server 9's budget runs past 32 s; servers 10 and 11 get 3.5 s each.
    EXPECT_TIMELINE(tail,
        send(33000, 9, 3),
        roll(35000, 10), send(35500, 10, 2), send(36500, 10, 3),
        roll(38500, 11), send(39000, 11, 2), send(40000, 11, 3),
        give_up(42000, 11, 3));
}

TEST(PolyTimeline, TcpFastFailover) {
    // seed P TCP example: tcpFastFailover.timeout=2000, retryTimeOut=0: one
    // send, 2 s wait, next server; no retransmissions over TCP.
    PolyTiming pt;
    pt.tcp_fast_failover = true;
    pt.tcp_fast_failover_timeout_ms = 2000;
    const auto got = walk(make_policy(pt, RequestKind::invite), RequestKind::invite, 3, true);
    EXPECT_TIMELINE(got, send(0, 0, 1), roll(2000, 1), roll(4000, 2), give_up(32000, 2, 1));
}

TEST(PolyTimeline, TcpWithoutFastFailoverWaitsForTimerB) {
    const auto got = walk(make_policy(PolyTiming{}, RequestKind::invite), RequestKind::invite, 3, true);
    EXPECT_TIMELINE(got, send(0, 0, 1), give_up(32000, 0, 1));
}

TEST(PolyTimeline, TcpFastFailoverIgnoredWithRetryTimeOut) {
    // "Must be set to 0 to use tcpFastFailover": otherwise the pre-6.4 rule,
    // retryMaxCount · retryTimeOut per server.
    PolyTiming pt;
    pt.tcp_fast_failover = true;
    pt.tcp_fast_failover_timeout_ms = 2000;
    pt.retry_timeout_ms = 5000;
    pt.retry_max_count = 2;
    const auto got = walk(make_policy(pt, RequestKind::invite), RequestKind::invite, 2, true);
    EXPECT_TIMELINE(got, send(0, 0, 1), roll(10000, 1), give_up(32000, 1, 1));
}

// ---- seed C: Cisco ---------------------------------------------------------------

TEST(CiscoTimeline, Default63500) {
    // seed C: retries after ~0.5, 1, 2, 4, 8, 16 s, then ~32 s to the next
    // gateway: 63.5 s to failover; the last gateway gets the same budget.
    const auto got = walk(make_policy(CiscoTiming{}, RequestKind::invite), RequestKind::invite, 2);
    EXPECT_TIMELINE(got,
        send(0, 0, 1), send(500, 0, 2), send(1500, 0, 3), send(3500, 0, 4), send(7500, 0, 5),
        send(15500, 0, 6), send(31500, 0, 7),
        roll(63500, 1), send(64000, 1, 2), send(65000, 1, 3), send(67000, 1, 4), send(71000, 1, 5),
        send(79000, 1, 6), send(95000, 1, 7), give_up(127000, 1, 7));
}

TEST(CiscoTimeline, ThreeRetriesAt200msIsAbout3s) {
    CiscoTiming c;
    c.trying_timer_ms = 200;
    c.retry_count = 3;
    ASSERT_EQ(validate(c), KnobError::ok);
    const auto got = walk(make_policy(c, RequestKind::invite), RequestKind::invite, 2);
    std::vector<Ev> head(got.begin(), got.begin() + 5);
    EXPECT_TIMELINE(head, send(0, 0, 1), send(200, 0, 2), send(600, 0, 3), send(1400, 0, 4),
                    roll(3000, 1));
}

// ---- seed A: ADTRAN --------------------------------------------------------------

TEST(AdtranTimeline, Rollover3sThenTimerBOnTheLastServer) {
    const auto got = walk(make_policy(AdtranTimers{}, RequestKind::invite), RequestKind::invite, 3);
    EXPECT_TIMELINE(got,
        send(0, 0, 1), send(500, 0, 2), send(1500, 0, 3),
        roll(3000, 1), send(3500, 1, 2), send(4500, 1, 3),
        roll(6000, 2), send(6500, 2, 2), send(7500, 2, 3), send(9500, 2, 4), send(13500, 2, 5),
        send(21500, 2, 6), give_up(32000, 2, 6));  // Timer A uncapped for INVITE
}

TEST(AdtranTimeline, RegisterFollowsPrimaryByDefault) {
    const auto inv = walk(make_policy(AdtranTimers{}, RequestKind::invite), RequestKind::invite, 2);
    const auto reg = walk(make_policy(AdtranTimers{}, RequestKind::register_), RequestKind::register_, 2);
    std::vector<Ev> head(reg.begin(), reg.begin() + 4);
    EXPECT_TIMELINE(head, send(0, 0, 1), send(500, 0, 2), send(1500, 0, 3), roll(3000, 1));
    EXPECT_EQ(inv[3], reg[3]);
}

TEST(AdtranTimeline, RegisterOwnRolloverAndConfiguredTimers) {
    // seed A example: T1 750, T2 6000, rollover 4, rollover register 8.
    AdtranTimers a;
    a.t1_ms = 750;
    a.t2_ms = 6000;
    a.rollover_s = 4;
    a.rollover_register_s = 8;
    ASSERT_EQ(validate(a), KnobError::ok);
    const auto reg = walk(make_policy(a, RequestKind::register_), RequestKind::register_, 2);
    // REGISTER (Timer E, capped at T2): 0, 0.75, 2.25, 5.25; rollover at 8 s;
    // last server until 64·T1 = 48 s.
    std::vector<Ev> head(reg.begin(), reg.begin() + 5);
    EXPECT_TIMELINE(head, send(0, 0, 1), send(750, 0, 2), send(2250, 0, 3), send(5250, 0, 4),
                    roll(8000, 1));
    EXPECT_EQ(reg.back().t, 48000u);
    const auto inv = walk(make_policy(a, RequestKind::invite), RequestKind::invite, 2);
    std::vector<Ev> ihead(inv.begin(), inv.begin() + 4);
    EXPECT_TIMELINE(ihead, send(0, 0, 1), send(750, 0, 2), send(2250, 0, 3), roll(4000, 1));
}

TEST(AdtranTimeline, OtherMethodsDoNotRollOver) {
    const auto got = walk(make_policy(AdtranTimers{}, RequestKind::other), RequestKind::other, 3);
    for (const Ev& e : got) EXPECT_EQ(e.server, 0) << str(e);
    EXPECT_EQ(got.back(), give_up(32000, 0, 11));  // Timer F: 0.5,1,2,4,4,… capped at T2
}

// ---- seed AC: AudioCodes -----------------------------------------------------------

TEST(AudioCodesTimeline, OneNoResponseTimeoutPerServer) {
    const auto got = walk(make_policy(AudioCodesTiming{}, RequestKind::register_), RequestKind::register_, 2);
    EXPECT_TIMELINE(got,
        send(0, 0, 1), send(500, 0, 2), send(1500, 0, 3), send(3500, 0, 4), send(7500, 0, 5),
        send(11500, 0, 6), send(15500, 0, 7), send(19500, 0, 8), send(23500, 0, 9),
        send(27500, 0, 10), send(31500, 0, 11),
        roll(32000, 1), send(32500, 1, 2), send(33500, 1, 3), send(35500, 1, 4), send(39500, 1, 5),
        send(43500, 1, 6), send(47500, 1, 7), send(51500, 1, 8), send(55500, 1, 9),
        send(59500, 1, 10), send(63500, 1, 11), give_up(64000, 1, 11));
}

TEST(AudioCodesTimeline, ShortTimeout) {
    AudioCodesTiming a;
    a.no_response_timeout_ms = 5000;
    const auto got = walk(make_policy(a, RequestKind::invite), RequestKind::invite, 2);
    EXPECT_TIMELINE(got, send(0, 0, 1), send(500, 0, 2), send(1500, 0, 3), send(3500, 0, 4),
                    roll(5000, 1), send(5500, 1, 2), send(6500, 1, 3), send(8500, 1, 4),
                    give_up(10000, 1, 4));
}

// ---- immediate triggers ------------------------------------------------------------

TEST(RetryTriggers, Rollover503OnlyWhenConfigured) {
    RetryState rs;
    rs.init(make_policy(AdtranTimers{}, RequestKind::invite), RequestKind::invite, false, 3);
    rs.start(0);
    EXPECT_EQ(rs.on_503(200).step, RetryStep::none);  // timeout-only (default)
    EXPECT_EQ(rs.server(), 0);

    AdtranTimers a;
    a.rollover_on_503 = true;  // service-unavailable-or-timeout
    rs.init(make_policy(a, RequestKind::invite), RequestKind::invite, false, 3);
    rs.start(0);
    const RetryAction r = rs.on_503(200);
    EXPECT_EQ(ev(r, 200), roll(200, 1, RetryReason::rejected_503));
    EXPECT_EQ(r.from, 0);
    // The next server starts its own schedule from the 503.
    EXPECT_EQ(rs.next_deadline(), 700u);
    EXPECT_EQ(ev(rs.on_timer(700), 700), send(700, 1, 2));
    EXPECT_EQ(rs.on_503(800).step, RetryStep::rollover);
    EXPECT_EQ(rs.on_503(900).step, RetryStep::none);  // last server: the 503 is final
}

TEST(RetryTriggers, PolyRollsOverOn503ByDefault) {
    RetryState rs;
    rs.init(make_policy(PolyTiming{}, RequestKind::invite), RequestKind::invite, false, 2);
    rs.start(0);
    EXPECT_EQ(rs.on_503(100).step, RetryStep::rollover);
    PolyTiming off;
    off.failover_on_503 = false;
    rs.init(make_policy(off, RequestKind::invite), RequestKind::invite, false, 2);
    rs.start(0);
    EXPECT_EQ(rs.on_503(100).step, RetryStep::none);
}

TEST(RetryTriggers, IcmpRollsOverAtOnceAndEndsOnTheLastServer) {
    RetryState rs;
    rs.init(make_policy(PolyTiming{}, RequestKind::invite), RequestKind::invite, false, 2);
    rs.start(0);
    EXPECT_EQ(ev(rs.on_icmp(30), 30), roll(30, 1, RetryReason::transport_error));
    EXPECT_EQ(rs.next_deadline(), 530u);
    EXPECT_EQ(ev(rs.on_icmp(60), 60), give_up(60, 1, 1, RetryReason::transport_error));
    EXPECT_TRUE(rs.done());
    EXPECT_EQ(rs.next_deadline(), never_ms);

    PolyTiming off;
    off.rollover_on_icmp = false;
    rs.init(make_policy(off, RequestKind::invite), RequestKind::invite, false, 2);
    rs.start(0);
    EXPECT_EQ(rs.on_icmp(30).step, RetryStep::none);
}

TEST(RetryTriggers, ProvisionalStopsRolloverAndInviteRetransmissions) {
    RetryState rs;
    rs.init(make_policy(PolyTiming{}, RequestKind::invite), RequestKind::invite, false, 2);
    rs.start(0);
    rs.on_provisional(100);
    EXPECT_EQ(rs.next_deadline(), never_ms);
    EXPECT_EQ(rs.on_icmp(200).step, RetryStep::none);  // the server answered
}

TEST(RetryTriggers, ProvisionalNonInviteRetransmitsEveryT2UntilF) {
    RetryState rs;
    rs.init(rfc3261_policy(500, 4000, RequestKind::other), RequestKind::other, false, 1);
    rs.start(0);
    rs.on_provisional(100);
    EXPECT_EQ(rs.next_deadline(), 500u);  // the pending Timer E keeps its time
    std::vector<Ev> got;
    while (rs.next_deadline() != never_ms) {
        const Millis t = rs.next_deadline();
        got.push_back(ev(rs.on_timer(t), t));
    }
    ASSERT_GE(got.size(), 3u);
    EXPECT_EQ(got[0], send(500, 0, 2));
    EXPECT_EQ(got[1], send(4500, 0, 3));
    EXPECT_EQ(got[2], send(8500, 0, 4));
    EXPECT_EQ(got.back(), give_up(32000, 0, 9));
}

TEST(RetryTriggers, EarlyTimerDoesNothingLateTimerShiftsOnlySends) {
    RetryState rs;
    rs.init(make_policy(PolyTiming{}, RequestKind::invite), RequestKind::invite, false, 2);
    rs.start(0);
    EXPECT_EQ(rs.on_timer(499).step, RetryStep::none);
    EXPECT_EQ(ev(rs.on_timer(510), 510), send(510, 0, 2));  // 10 ms late (wheel tick)
    EXPECT_EQ(rs.next_deadline(), 1510u);                    // next wait from the real send
    EXPECT_EQ(ev(rs.on_timer(1510), 1510), send(1510, 0, 3));
    EXPECT_EQ(rs.next_deadline(), 3500u);                    // the server's budget is fixed
    EXPECT_TRUE(rs.deadline_is_end());
}

TEST(RetryTriggers, StopCancelsEverything) {
    RetryState rs;
    rs.init(make_policy(PolyTiming{}, RequestKind::invite), RequestKind::invite, false, 2);
    rs.start(0);
    rs.stop();
    EXPECT_EQ(rs.next_deadline(), never_ms);
    EXPECT_EQ(rs.on_timer(10000).step, RetryStep::none);
    EXPECT_EQ(rs.on_503(10000).step, RetryStep::none);
}

TEST(RetryTriggers, StartsAtAGivenServer) {
    RetryState rs;
    rs.init(make_policy(PolyTiming{}, RequestKind::invite), RequestKind::invite, false, 3, 2);
    const auto got = replay(rs, 1000);
    EXPECT_EQ(got.front(), send(1000, 2, 1));
    EXPECT_EQ(got.back(), give_up(33000, 2, 11));  // RFC intervals 1000 … 32500
}

}  // namespace
}  // namespace sipedge::failover
