#include "failover/backoff.h"

namespace sipedge::failover {

Millis backoff_ceiling_ms(uint32_t base_s, uint32_t max_s, uint32_t failures) noexcept {
    // seed P table: base 10, max 120 → 10, 20, 40, 80, 120, 120, ... (failures 0, 1, 2 ...)
    uint64_t w = base_s;
    for (uint32_t i = 0; i < failures && w < max_s; i++) w *= 2;
    if (w > max_s) w = max_s;
    return w * 1000;
}

Millis backoff_wait_ms(uint32_t base_s, uint32_t max_s, uint32_t failures, Random& rng) noexcept {
    const Millis w = backoff_ceiling_ms(base_s, max_s, failures);
    return rng.uniform(w / 2, w);  // seed P: "randomized between W/2 and W"
}

uint32_t refresh_lead_s(const TrunkKnobs& k, uint32_t granted_s) noexcept {
    uint64_t lead = k.threshold_kind == ThresholdKind::absolute
                        ? uint64_t(k.threshold)
                        : uint64_t(granted_s) * k.threshold / 100;
    if (lead > granted_s / 2) lead = granted_s / 2;
    return uint32_t(lead);
}

Millis recover_delay_ms(const TrunkKnobs& k, Random& rng) noexcept {
    if (!k.recover_delay_enabled) return 0;
    const uint32_t hi = k.recover_delay_max_s < k.recover_delay_min_s ? k.recover_delay_min_s
                                                                      : k.recover_delay_max_s;
    return rng.uniform(uint64_t(k.recover_delay_min_s) * 1000, uint64_t(hi) * 1000);
}

Millis startup_offset_ms(Millis window_ms, Random& rng) noexcept {
    return window_ms == 0 ? 0 : rng.uniform(0, window_ms - 1);
}

Millis server_budget_ms(const RetryPolicy& p) noexcept {
    if (p.server_timeout_ms) return p.server_timeout_ms;
    if (p.attempts_per_server) return schedule_total_ms(p, p.attempts_per_server);
    if (p.walk_timeout_ms) return p.walk_timeout_ms;
    return 32000;
}

}  // namespace sipedge::failover
