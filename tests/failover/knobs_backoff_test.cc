// Knob ranges and coercions (seed-knobs.md), RFC 5626 back-off (seed P table),
// registration refresh thresholds (seed A), RFC 2782 ordering, start-up spread.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "failover/backoff.h"
#include "failover/knobs.h"
#include "failover/server_set.h"

using namespace sipedge::failover;

TEST(Knobs, DefaultsAreValidAndMatchTheSeeds) {
    TrunkKnobs k;
    EXPECT_EQ(validate(k), ConfigError::ok);
    EXPECT_EQ(k.expire_time_s, 3600u);          // seed A registrar expire-time
    EXPECT_EQ(k.max_concurrent_reg, 32);        // seed A max-concurrent-reg
    EXPECT_EQ(k.threshold, 300u);               // seed A threshold absolute 300
    EXPECT_EQ(k.registration_failure_retry_s, 60u);
    EXPECT_EQ(k.register_retry_base_s, 60u);    // seed P registerRetry
    EXPECT_EQ(k.register_retry_max_s, 60u);
    EXPECT_EQ(k.failback_timeout_s, 3600u);     // seed P failBack.timeout
    EXPECT_TRUE(k.only_signal_with_registered); // seed P default 1
    EXPECT_TRUE(k.fail_registration_on);
    EXPECT_TRUE(k.new_call_on_unregister);
    EXPECT_FALSE(k.failover_on_503);            // seed A timeout-only
    EXPECT_FALSE(k.recover_delay_enabled);      // seed A: off
}

TEST(Knobs, RangesAreChecked) {
    auto bad = [](auto set, ConfigError want) {
        TrunkKnobs k;
        set(k);
        EXPECT_EQ(validate(k), want);
    };
    bad([](TrunkKnobs& k) { k.max_concurrent_reg = 0; }, ConfigError::max_concurrent_reg_range);
    bad([](TrunkKnobs& k) { k.max_concurrent_reg = 33; }, ConfigError::max_concurrent_reg_range);
    bad([](TrunkKnobs& k) { k.threshold = 4; }, ConfigError::threshold_absolute_range);
    bad([](TrunkKnobs& k) { k.threshold = 604801; }, ConfigError::threshold_absolute_range);
    bad([](TrunkKnobs& k) { k.threshold_kind = ThresholdKind::percentage; k.threshold = 91; },
        ConfigError::threshold_percentage_range);
    bad([](TrunkKnobs& k) { k.threshold_kind = ThresholdKind::percentage; k.threshold = 0; },
        ConfigError::threshold_percentage_range);
    // seed A: with an absolute threshold, expire-time ≥ threshold + 6.
    bad([](TrunkKnobs& k) { k.expire_time_s = 305; }, ConfigError::expire_time_range);
    bad([](TrunkKnobs& k) { k.registration_failure_retry_s = 9; }, ConfigError::registration_failure_retry_range);
    bad([](TrunkKnobs& k) { k.registration_failure_retry_s = 604801; }, ConfigError::registration_failure_retry_range);
    bad([](TrunkKnobs& k) { k.register_retry_base_s = 121; }, ConfigError::register_retry_base_range);
    bad([](TrunkKnobs& k) { k.register_retry_max_s = 59; }, ConfigError::register_retry_max_range);
    bad([](TrunkKnobs& k) { k.register_retry_max_s = 1801; }, ConfigError::register_retry_max_range);
    bad([](TrunkKnobs& k) { k.failback_timeout_s = 30; }, ConfigError::failback_timeout_range);
    bad([](TrunkKnobs& k) { k.failback_timeout_s = 65536; }, ConfigError::failback_timeout_range);
    bad([](TrunkKnobs& k) { k.recover_delay_enabled = true; k.recover_delay_min_s = 86401; k.recover_delay_max_s = 86401; },
        ConfigError::recover_delay_range);
    bad([](TrunkKnobs& k) { k.trap_failures = 129; }, ConfigError::trap_failures_range);
    bad([](TrunkKnobs& k) { k.trap_failures = 3; k.trap_interval_s = 29; }, ConfigError::trap_interval_range);
    bad([](TrunkKnobs& k) { k.probe_mode = ProbeMode::always; k.probe_interval_s = 0; }, ConfigError::probe_interval_range);
    bad([](TrunkKnobs& k) { k.probe_mode = ProbeMode::always; k.probe_interval_s = 3601; }, ConfigError::probe_interval_range);
    bad([](TrunkKnobs& k) { k.probe_mode = ProbeMode::always; k.probe_timeout_s = 0; }, ConfigError::probe_timeout_range);
    bad([](TrunkKnobs& k) { k.probe_mode = ProbeMode::always; k.probe_timeout_s = 301; }, ConfigError::probe_timeout_range);
    bad([](TrunkKnobs& k) { k.retry_after_max_s = 86401; }, ConfigError::retry_after_max_range);
    bad([](TrunkKnobs& k) { k.provisional_timeout_s = 3601; }, ConfigError::provisional_timeout_range);
    bad([](TrunkKnobs& k) { k.probe_mode = ProbeMode::always; k.probe_down_threshold = 0; }, ConfigError::probe_threshold_range);
    bad([](TrunkKnobs& k) { k.invite_policy.first_wait_ms = 0; }, ConfigError::retry_policy);
    TrunkKnobs ok;
    ok.threshold_kind = ThresholdKind::percentage;
    ok.threshold = 5;
    ok.expire_time_s = 0;  // seed A: with percentage the range is 0–4294967295
    EXPECT_EQ(validate(ok), ConfigError::ok);
}

TEST(Knobs, FailbackTimeoutOneTo59BecomesSixty) {
    for (uint32_t v : {1u, 30u, 59u}) {
        TrunkKnobs k;
        k.failback_timeout_s = v;
        normalize(k);
        EXPECT_EQ(k.failback_timeout_s, 60u);  // seed E
        EXPECT_EQ(validate(k), ConfigError::ok);
    }
    TrunkKnobs z;
    z.failback_timeout_s = 0;
    normalize(z);
    EXPECT_EQ(z.failback_timeout_s, 0u);
}

TEST(Backoff, PolyTableBase10Max120) {
    // seed P: failures 0..6+ → W = 10, 20, 40, 80, 120, 120, 120.
    const Millis want[] = {10, 20, 40, 80, 120, 120, 120, 120};
    for (uint32_t n = 0; n < 8; n++) EXPECT_EQ(backoff_ceiling_ms(10, 120, n), want[n] * 1000) << n;
    Random rng(3);
    for (uint32_t n = 0; n < 8; n++)
        for (int i = 0; i < 200; i++) {
            const Millis w = backoff_wait_ms(10, 120, n, rng);
            EXPECT_GE(w, want[n] * 500);
            EXPECT_LE(w, want[n] * 1000);
        }
    EXPECT_EQ(backoff_ceiling_ms(60, 60, 40), 60000u);  // no overflow for large n
}

TEST(Backoff, RefreshLeadAbsolutePercentageAndHalfCap) {
    TrunkKnobs k;
    EXPECT_EQ(refresh_lead_s(k, 3600), 300u);  // absolute 300
    EXPECT_EQ(refresh_lead_s(k, 120), 60u);    // granted less than the threshold: half
    k.threshold_kind = ThresholdKind::percentage;
    k.threshold = 5;
    EXPECT_EQ(refresh_lead_s(k, 1800), 90u);   // seed A example: 5 % of 1800
}

TEST(Backoff, RecoverDelayDrawnInRange) {
    TrunkKnobs k;
    Random r1(1);
    EXPECT_EQ(recover_delay_ms(k, r1), 0u);
    k.recover_delay_enabled = true;
    k.recover_delay_min_s = 60;
    k.recover_delay_max_s = 120;
    Random rng(9);
    Millis lo = ~0ull, hi = 0;
    for (int i = 0; i < 1000; i++) {
        const Millis d = recover_delay_ms(k, rng);
        lo = std::min(lo, d);
        hi = std::max(hi, d);
    }
    EXPECT_GE(lo, 60000u);
    EXPECT_LE(hi, 120000u);
    EXPECT_LT(lo, 65000u);  // actually random across the range
    EXPECT_GT(hi, 115000u);
}

TEST(ServerSet, Rfc2782PriorityThenWeight) {
    Random rng(11);
    std::map<std::string, int> first;
    for (int i = 0; i < 4000; i++) {
        std::vector<Target> t(3);
        t[0].address = "a"; t[0].priority = 20; t[0].weight = 1;
        t[1].address = "b"; t[1].priority = 10; t[1].weight = 30;
        t[2].address = "c"; t[2].priority = 10; t[2].weight = 10;
        order_srv(t, rng, true);
        EXPECT_EQ(t[2].address, "a");  // lower priority value first, always
        first[t[0].address]++;
    }
    // b has 3/4 of the weight of priority 10.
    EXPECT_NEAR(first["b"] / 4000.0, 0.75, 0.04);
    // Validated failover: weights do not load-share; heavier first, deterministic.
    std::vector<Target> t(2);
    t[0].address = "light"; t[0].weight = 1;
    t[1].address = "heavy"; t[1].weight = 9;
    order_srv(t, rng, false);
    EXPECT_EQ(t[0].address, "heavy");
}

TEST(ServerSet, RecordsByOrderThenPreference) {
    std::vector<ServiceRecord> r(3);
    r[0].order = 100; r[0].preference = 10;
    r[1].order = 50;  r[1].preference = 20;
    r[2].order = 50;  r[2].preference = 10;
    order_records(r);
    EXPECT_EQ(r[0].preference, 10);
    EXPECT_EQ(r[0].order, 50);
    EXPECT_EQ(r[2].order, 100);
}

TEST(Backoff, StartupOffsetsSpreadOverTheWindow) {
    Random rng(5);
    std::vector<int> per_ms(10000, 0);
    for (int i = 0; i < 10000; i++) per_ms[startup_offset_ms(10000, rng)]++;
    EXPECT_LE(*std::max_element(per_ms.begin(), per_ms.end()), 8);
}
