#pragma once
// Per-trunk failover, registration and monitoring knobs: every row of
// shared/seed-knobs.md outside "Timers and retransmission" (those are
// RetryPolicy, failover/retry_policy.h). One sipedge key serves the seeds that
// describe the same thing; each field names the seed keys it maps. validate()
// returns an error instead of throwing; normalize() applies the seeds'
// documented coercions (failBack.timeout 1–59 → 60).

#include <cstdint>

#include "failover/retry_policy.h"

namespace sipedge::failover {

/// How new requests pick a server.
enum class SelectMode : uint8_t {
    /// seed A default failover, seed P reRegisterOn=0 / failBack.mode newRequests:
    /// every new dialog starts at the top of the list and rolls over.
    top_first,
    /// seed A "sip-server validation register", seed P/E reRegisterOn=1:
    /// REGISTER to a candidate first; new requests go only to the validated server.
    validated,
};

/// seed P/E failBack.mode. Validated mode: when the registration returns to
/// the primary. Top-first mode: how long new requests stay on the server
/// they failed over to before the primary (healthy again) gets them back.
enum class FailbackMode : uint8_t {
    duration,      // failBack.timeout after connecting to the working server (P default)
    new_requests,  // try the primary again at once, whenever it is selectable (E default)
    dns_ttl,       // after the TTL of the record of the server registered to
    registration,  // at the working server's next registration refresh (seed A on expiry)
    automatic,     // validated: duration (seed P); top-first: new_requests (seed A/E)
};

/// The failback mode <m> means for a trunk in <mode> (automatic resolved).
constexpr FailbackMode effective_failback(FailbackMode m, SelectMode mode) noexcept {
    if (m != FailbackMode::automatic) return m;
    return mode == SelectMode::validated ? FailbackMode::duration : FailbackMode::new_requests;
}

/// seed A "registrar threshold absolute <s> | percentage <p>".
enum class ThresholdKind : uint8_t { absolute, percentage };

/// seed A "sip-server monitor": OPTIONS probing (sipedge extension of the
/// monitor that carries the recovery delay).
enum class ProbeMode : uint8_t { off, always, while_failed };

/// The host part of the Request-URI of a request sent to a trunk's server
/// (carriers often require their domain there): as the caller sent it, the
/// trunk's domain, or the selected server's address (rewritten on each
/// rollover).
enum class RuriHost : uint8_t { keep, domain, server };

struct TrunkKnobs {
    // ---- selection and triggers -----------------------------------------------
    SelectMode mode = SelectMode::top_first;
    /// seed A "sip-server rollover service-unavailable-or-timeout" (default
    /// timeout-only = false); seed P failoverOn503Response (P default 1).
    bool failover_on_503 = false;
    /// seed P behaviour: ICMP unreachable triggers immediate failover.
    bool failover_on_icmp = true;

    // ---- recovery and failback -------------------------------------------------
    /// seed A "recover delay <min> [<max>]" under "sip-server monitor / no shutdown":
    /// 0–86400 s, off by default. max 0 = exactly min.
    bool recover_delay_enabled = false;
    uint32_t recover_delay_min_s = 0;
    uint32_t recover_delay_max_s = 0;
    FailbackMode failback_mode = FailbackMode::automatic;  // seed P failBack.mode (effective_failback())
    uint32_t failback_timeout_s = 3600;   // seed P/E failBack.timeout: 0 | 60–65535 (1–59 → 60)
    bool unregister_on_failback = false;  // seed P unRegisterOnFailBack: Expires: 0 before failing back
    /// seed A: "Once it has reconnected to the primary server, it unregisters
    /// from the secondary server." Off gives seed P unRegisterOnFailBack=0
    /// ("terminated silently").
    bool unregister_after_failback = true;
    bool enhanced = false;                // seed P failOver.enhanced.enable
    uint32_t group_id = 0;                // enhanced: trunks of one group fail back together (0 = own)
    bool only_signal_with_registered = true;   // seed P/E onlySignalWithRegistered
    bool fail_registration_on = true;          // seed P failRegistrationOn (E default 0)
    bool auth_optimized_in_failover = false;   // seed P authOptimizedInFailover
    bool new_call_on_unregister = true;        // seed P newCallOnUnRegister
    /// seed A validated step 3: "The originating SIP identity (OSID) is unregistered"
    /// from the failed server before registering to the candidate.
    bool unregister_on_failover = true;

    // ---- registration ------------------------------------------------------------
    bool register_enabled = true;
    uint32_t expire_time_s = 3600;          // seed A "registrar expire-time" 0–4294967295
    uint8_t max_concurrent_reg = 32;        // seed A "registrar max-concurrent-reg" 1–32
    ThresholdKind threshold_kind = ThresholdKind::absolute;  // seed A "registrar threshold"
    uint32_t threshold = 300;               // absolute 5–604800 s | percentage 1–90
    uint32_t registration_failure_retry_s = 60;  // seed A "ip sip timer registration-failure-retry" 10–604800
    uint32_t register_retry_base_s = 60;    // seed P registerRetry.baseTimeOut 10–120
    uint32_t register_retry_max_s = 60;     // seed P registerRetry.maxTimeOut 60–1800

    // ---- monitor and notifications ---------------------------------------------------
    ProbeMode probe_mode = ProbeMode::off;
    uint32_t probe_interval_s = 30;         // 1–3600
    /// One probe's wait for a final answer, Timer E retransmissions (T1
    /// doubling to T2 of other_policy) included: 1–300 s, default 64·T1 = 32 s.
    /// A probe to a server already known failed waits at most one interval.
    uint32_t probe_timeout_s = 32;
    uint8_t probe_down_threshold = 3;       // consecutive failed probes → down, 1–10
    uint8_t probe_up_threshold = 2;         // consecutive answered probes → up, 1–10
    /// RFC 3261 §21.5.4: a 503's Retry-After keeps new requests and probes'
    /// "up" away from that server for min(Retry-After, this), for INVITEs,
    /// other requests and OPTIONS probes alike. 0–86400 s; 0 = the seed P
    /// failoverOn503Response rule alone (held only on the last route, or when
    /// 503 does not fail over).
    uint32_t retry_after_max_s = 300;
    /// INVITE: no final response within this after a provisional: the branch
    /// is CANCELled and the call rolls over when only 100 Trying came, else
    /// 408 upstream (data plane, TrunkRoutes::provisional_timeout_s). 0 = off
    /// (Timer C alone), 1–3600 s.
    uint32_t provisional_timeout_s = 0;
    RuriHost ruri_host = RuriHost::keep;    // Request-URI host toward the trunk
    bool hide_topology = false;             // access-side Via/Record-Route/Contact hidden from the trunk
    uint8_t trap_failures = 0;              // seed A "snmp trap registration failures" 1–128, 0 = off
    uint32_t trap_interval_s = 3600;        // seed A "... interval" 30–86400

    // ---- retry budgets (retry_policy.h builds these from the timer knobs) ----------
    RetryPolicy invite_policy = make_policy(AdtranTimers{}, RequestKind::invite);
    RetryPolicy register_policy = make_policy(AdtranTimers{}, RequestKind::register_);
    RetryPolicy other_policy = make_policy(AdtranTimers{}, RequestKind::other);
};

/// Why a knob set was refused. Names follow the seed knob they check.
enum class ConfigError : uint8_t {
    ok = 0,
    recover_delay_range,          // seed A: 0–86400 s, max ≥ min
    failback_timeout_range,       // seed P: 0, 60–65535 (1–59 are coerced by normalize())
    expire_time_range,            // seed A: absolute threshold + 6 … 4294967295
    max_concurrent_reg_range,     // seed A: 1–32
    threshold_absolute_range,     // seed A: 5–604800
    threshold_percentage_range,   // seed A: 1–90
    registration_failure_retry_range,  // seed A: 10–604800
    register_retry_base_range,    // seed P: 10–120
    register_retry_max_range,     // seed P: 60–1800
    probe_interval_range,         // sipedge: 1–3600
    probe_timeout_range,          // sipedge: 1–300
    retry_after_max_range,        // sipedge: 0–86400
    provisional_timeout_range,    // sipedge: 0–3600
    probe_threshold_range,        // sipedge: 1–10
    trap_failures_range,          // seed A: 1–128
    trap_interval_range,          // seed A: 30–86400
    retry_policy,                 // a RetryPolicy failed failover::validate()
    no_servers,                   // a server set with no usable target
    too_many_servers,             // more than max_servers targets
    bad_server,                   // empty address or port 0 in a resolved target
    no_identity,                  // registration enabled without an identity
    bad_identity,                 // an identity without user
    unknown_trunk,
    count_
};
const char* config_error_text(ConfigError e) noexcept;

/// Applies the seeds' coercions: failBack.timeout 1–59 → 60 (seed E), recover
/// delay max below min → min.
void normalize(TrunkKnobs& k) noexcept;
/// Accepts knobs within every seed range above; rejects the first violation.
ConfigError validate(const TrunkKnobs& k) noexcept;

}  // namespace sipedge::failover
