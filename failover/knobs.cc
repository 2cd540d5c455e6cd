#include "failover/knobs.h"

namespace sipedge::failover {

const char* config_error_text(ConfigError e) noexcept {
    switch (e) {
    case ConfigError::ok: return "ok";
    case ConfigError::recover_delay_range: return "recover delay: 0-86400 s, max >= min";
    case ConfigError::failback_timeout_range: return "failBack.timeout: 0 or 60-65535 s";
    case ConfigError::expire_time_range:
        return "registrar expire-time: absolute threshold + 6 .. 4294967295 s";
    case ConfigError::max_concurrent_reg_range: return "registrar max-concurrent-reg: 1-32";
    case ConfigError::threshold_absolute_range: return "registrar threshold absolute: 5-604800 s";
    case ConfigError::threshold_percentage_range: return "registrar threshold percentage: 1-90";
    case ConfigError::registration_failure_retry_range:
        return "ip sip timer registration-failure-retry: 10-604800 s";
    case ConfigError::register_retry_base_range: return "registerRetry.baseTimeOut: 10-120 s";
    case ConfigError::register_retry_max_range: return "registerRetry.maxTimeOut: 60-1800 s";
    case ConfigError::probe_interval_range: return "monitor probe interval: 1-3600 s";
    case ConfigError::probe_timeout_range: return "monitor probe timeout: 1-300 s";
    case ConfigError::retry_after_max_range: return "retry-after-max: 0-86400 s";
    case ConfigError::provisional_timeout_range: return "provisional-timeout: 0-3600 s";
    case ConfigError::probe_threshold_range: return "monitor down/up threshold: 1-10";
    case ConfigError::trap_failures_range: return "snmp trap registration failures: 1-128";
    case ConfigError::trap_interval_range: return "snmp trap registration interval: 30-86400 s";
    case ConfigError::retry_policy: return "retry policy rejected";
    case ConfigError::no_servers: return "server set has no usable target";
    case ConfigError::too_many_servers: return "too many servers for one trunk";
    case ConfigError::bad_server: return "server without address or port";
    case ConfigError::no_identity: return "registration enabled without an identity";
    case ConfigError::bad_identity: return "identity without user";
    case ConfigError::unknown_trunk: return "unknown trunk";
    case ConfigError::count_: break;
    }
    return "?";
}

void normalize(TrunkKnobs& k) noexcept {
    // seed E: "If you set a value between 1 and 59, the timeout will be 60 seconds."
    if (k.failback_timeout_s >= 1 && k.failback_timeout_s <= 59) k.failback_timeout_s = 60;
    // seed A: "recover delay <minimum> [<maximum>]": a lone minimum is a fixed delay.
    if (k.recover_delay_max_s < k.recover_delay_min_s) k.recover_delay_max_s = k.recover_delay_min_s;
}

ConfigError validate(const TrunkKnobs& k) noexcept {
    if (k.recover_delay_enabled &&
        (k.recover_delay_min_s > 86400 || k.recover_delay_max_s > 86400 ||
         k.recover_delay_max_s < k.recover_delay_min_s))
        return ConfigError::recover_delay_range;
    if (k.failback_timeout_s != 0 && (k.failback_timeout_s < 60 || k.failback_timeout_s > 65535))
        return ConfigError::failback_timeout_range;
    if (k.max_concurrent_reg < 1 || k.max_concurrent_reg > 32)
        return ConfigError::max_concurrent_reg_range;
    if (k.threshold_kind == ThresholdKind::absolute) {
        if (k.threshold < 5 || k.threshold > 604800) return ConfigError::threshold_absolute_range;
        // seed A: "If the threshold is set to absolute, the expire-time range is
        // <absolute threshold value> + 6 to 4294967295."
        if (uint64_t(k.expire_time_s) < uint64_t(k.threshold) + 6) return ConfigError::expire_time_range;
    } else if (k.threshold < 1 || k.threshold > 90) {
        return ConfigError::threshold_percentage_range;
    }
    if (k.registration_failure_retry_s < 10 || k.registration_failure_retry_s > 604800)
        return ConfigError::registration_failure_retry_range;
    if (k.register_retry_base_s < 10 || k.register_retry_base_s > 120)
        return ConfigError::register_retry_base_range;
    if (k.register_retry_max_s < 60 || k.register_retry_max_s > 1800)
        return ConfigError::register_retry_max_range;
    if (k.probe_mode != ProbeMode::off) {
        if (k.probe_interval_s < 1 || k.probe_interval_s > 3600) return ConfigError::probe_interval_range;
        if (k.probe_timeout_s < 1 || k.probe_timeout_s > 300) return ConfigError::probe_timeout_range;
        if (k.probe_down_threshold < 1 || k.probe_down_threshold > 10 || k.probe_up_threshold < 1 ||
            k.probe_up_threshold > 10)
            return ConfigError::probe_threshold_range;
    }
    if (k.retry_after_max_s > 86400) return ConfigError::retry_after_max_range;
    if (k.provisional_timeout_s > 3600) return ConfigError::provisional_timeout_range;
    if (k.trap_failures != 0) {
        if (k.trap_failures > 128) return ConfigError::trap_failures_range;
        if (k.trap_interval_s < 30 || k.trap_interval_s > 86400) return ConfigError::trap_interval_range;
    }
    if (validate(k.invite_policy) != KnobError::ok || validate(k.register_policy) != KnobError::ok ||
        validate(k.other_policy) != KnobError::ok)
        return ConfigError::retry_policy;
    return ConfigError::ok;
}

}  // namespace sipedge::failover
