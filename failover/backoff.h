#pragma once
// Waits that the registration agent and the health model draw: RFC 5626
// §4.5 back-off after all servers failed (seed P registerRetry), the refresh
// point of a granted registration (seed A registrar threshold), the recovery
// delay (seed A recover delay) and start-up spreading of the first REGISTERs.
// Pure functions of their inputs and an injected Random.

#include <cstdint>

#include "failover/knobs.h"
#include "failover/random.h"
#include "failover/retry_policy.h"

namespace sipedge::failover {

/// seed P "Controlling Back-off Periods Between Registrations" (RFC 5626 §4.5):
/// W = min(max, base · 2^failures) seconds; returns W in ms.
Millis backoff_ceiling_ms(uint32_t base_s, uint32_t max_s, uint32_t failures) noexcept;
/// The wait itself: uniform in [W/2, W] ms.
Millis backoff_wait_ms(uint32_t base_s, uint32_t max_s, uint32_t failures, Random& rng) noexcept;

/// Seconds before expiry at which a binding granted for <granted_s> is
/// refreshed (seed A "registrar threshold"): absolute N, or N % of the grant.
/// Never more than half the grant, so a registrar that grants less than the
/// threshold (e.g. 60 s against the default 300 s) is not refreshed in a loop.
uint32_t refresh_lead_s(const TrunkKnobs& k, uint32_t granted_s) noexcept;

/// seed A "recover delay <min> [<max>]": uniform in [min, max] s, in ms.
Millis recover_delay_ms(const TrunkKnobs& k, Random& rng) noexcept;

/// Start-up spreading: the first REGISTER of a trunk goes out uniformly in
/// [0, window_ms) after it is added, so 10,000 trunks configured at once do
/// not register in the same millisecond.
Millis startup_offset_ms(Millis window_ms, Random& rng) noexcept;

/// Time one REGISTER/OPTIONS attempt to one server may take before the agent
/// counts it as a timeout: the per-server budget of <p> (its server timeout,
/// else the retransmission schedule for attempts_per_server, else its walk
/// timeout, else 32 s).
Millis server_budget_ms(const RetryPolicy& p) noexcept;

}  // namespace sipedge::failover
