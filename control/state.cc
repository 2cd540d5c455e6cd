#include "control/state.h"

#include <cstring>

#include "control/knob_table.h"

namespace sipedge::ctl {

namespace fo = failover;

const char* server_mode_name(ServerMode m) noexcept {
    switch (m) {
    case ServerMode::udp: return "udp";
    case ServerMode::tcp: return "tcp";
    case ServerMode::tls: return "tls";
    case ServerMode::dns_naptr: return "dnsNaptr";
    case ServerMode::udp_only: return "UDPOnly";
    case ServerMode::tcp_only: return "TCPOnly";
    case ServerMode::tls_only: return "TLS";
    case ServerMode::tcp_preferred: return "TCPpreferred";
    }
    return "?";
}

const char* dns_cache_type_name(DnsCacheType t) noexcept {
    switch (t) {
    case DnsCacheType::a: return "a";
    case DnsCacheType::srv: return "srv";
    case DnsCacheType::naptr: return "naptr";
    }
    return "?";
}

std::string server_text(const ServerEntry& e) {
    std::string s = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
    if (e.port) s += ":" + std::to_string(e.port);
    s += e.mode >= ServerMode::dns_naptr ? " transport " : " ";
    s += server_mode_name(e.mode);
    return s;
}

namespace {

fo::AdtranTimers adtran(const TrunkSettings& s) {
    fo::AdtranTimers a;
    a.t1_ms = s.t1_ms;
    a.t2_ms = s.t2_ms;
    a.rollover_s = s.rollover_s;
    a.rollover_register_s = s.rollover_register_s;
    a.rollover_on_503 = s.failover_on_503;
    a.rollover_on_icmp = s.failover_on_icmp;
    return a;
}

fo::PolyTiming poly(const TrunkSettings& s) {
    fo::PolyTiming p;
    p.retry_timeout_ms = s.retry_timeout_ms;
    p.retry_max_count = s.retry_max_count;
    p.tcp_fast_failover = s.tcp_fast_failover;
    p.tcp_fast_failover_timeout_ms = s.tcp_fast_failover_timeout_ms;
    p.enhanced = s.enhanced;
    p.failover_on_503 = s.failover_on_503;
    p.rollover_on_icmp = s.failover_on_icmp;
    p.t1_ms = s.t1_ms;
    p.t2_ms = s.t2_ms;
    return p;
}

fo::CiscoTiming cisco(const TrunkSettings& s) {
    fo::CiscoTiming c;
    c.trying_timer_ms = s.trying_timer_ms;
    c.retry_count = s.invite_retry_count;
    c.rollover_on_503 = s.failover_on_503;
    c.rollover_on_icmp = s.failover_on_icmp;
    c.t1_ms = s.t1_ms;
    c.t2_ms = s.t2_ms;
    return c;
}

fo::AudioCodesTiming audiocodes(const TrunkSettings& s) {
    fo::AudioCodesTiming a;
    a.no_response_timeout_ms = s.no_response_timeout_ms;
    a.rollover_on_503 = s.failover_on_503;
    a.rollover_on_icmp = s.failover_on_icmp;
    a.t1_ms = s.t1_ms;
    a.t2_ms = s.t2_ms;
    return a;
}

template <class T>
fo::RetryPolicy policy(const T& timing, fo::RequestKind k) {
    return fo::make_policy(timing, k);
}

fo::RetryPolicy model_policy(const TrunkSettings& s, fo::RequestKind k) {
    switch (RetryModel(s.retry_model)) {
    case RetryModel::adtran: return policy(adtran(s), k);
    case RetryModel::poly: return policy(poly(s), k);
    case RetryModel::cisco: return policy(cisco(s), k);
    case RetryModel::audiocodes: return policy(audiocodes(s), k);
    }
    return policy(adtran(s), k);
}

// The settings field a KnobError is about; nullptr: the retry model as a whole.
uint32_t TrunkSettings::*field_of(fo::KnobError e) {
    using T = TrunkSettings;
    switch (e) {
    case fo::KnobError::t1_range: return &T::t1_ms;
    case fo::KnobError::t2_range: return &T::t2_ms;
    case fo::KnobError::t2_below_t1: return &T::t2_ms;
    case fo::KnobError::rollover_range: return &T::rollover_s;
    case fo::KnobError::rollover_register_range: return &T::rollover_register_s;
    case fo::KnobError::retry_timeout_range: return &T::retry_timeout_ms;
    case fo::KnobError::retry_max_count_range: return &T::retry_max_count;
    case fo::KnobError::tcp_fast_failover_timeout_range: return &T::tcp_fast_failover_timeout_ms;
    case fo::KnobError::trying_timer_range: return &T::trying_timer_ms;
    case fo::KnobError::retry_count_range: return &T::invite_retry_count;
    case fo::KnobError::no_response_timeout_range: return &T::no_response_timeout_ms;
    default: return nullptr;
    }
}

// The same for a ConfigError (probe_threshold_range is about two fields: knob_of).
uint32_t TrunkSettings::*field_of(fo::ConfigError e) {
    using T = TrunkSettings;
    switch (e) {
    case fo::ConfigError::recover_delay_range: return &T::recover_delay_min_s;
    case fo::ConfigError::failback_timeout_range: return &T::failback_timeout_s;
    case fo::ConfigError::expire_time_range: return &T::expire_time_s;
    case fo::ConfigError::max_concurrent_reg_range: return &T::max_concurrent_reg;
    case fo::ConfigError::threshold_absolute_range:
    case fo::ConfigError::threshold_percentage_range: return &T::threshold;
    case fo::ConfigError::registration_failure_retry_range: return &T::registration_failure_retry_s;
    case fo::ConfigError::register_retry_base_range: return &T::register_retry_base_s;
    case fo::ConfigError::register_retry_max_range: return &T::register_retry_max_s;
    case fo::ConfigError::probe_interval_range: return &T::monitor_interval_s;
    case fo::ConfigError::probe_timeout_range: return &T::monitor_timeout_s;
    case fo::ConfigError::retry_after_max_range: return &T::retry_after_max_s;
    case fo::ConfigError::provisional_timeout_range: return &T::provisional_timeout_s;
    case fo::ConfigError::trap_failures_range: return &T::trap_registration_failures;
    case fo::ConfigError::trap_interval_range: return &T::trap_registration_interval_s;
    default: return nullptr;
    }
}

// The key of the knob holding <f>, as the knob table spells it (retry-model
// when the error is about no one field).
std::string knob_of(uint32_t TrunkSettings::*f) {
    const char* key = f ? trunk_knob_key(f) : nullptr;
    return key ? key : trunk_knob_key(&TrunkSettings::retry_model);
}

// Names the knob a KnobError or ConfigError is about, for the reply.
std::string knob_of(fo::KnobError e) { return knob_of(field_of(e)); }

std::string knob_of(fo::ConfigError e) {
    if (e == fo::ConfigError::probe_threshold_range)
        return knob_of(&TrunkSettings::monitor_down_threshold) + "/" + knob_of(&TrunkSettings::monitor_up_threshold);
    return knob_of(field_of(e));
}

}  // namespace

fo::TrunkKnobs to_trunk_knobs(const TrunkSettings& s) {
    fo::TrunkKnobs k;
    k.mode = s.validation ? fo::SelectMode::validated : fo::SelectMode::top_first;
    k.failover_on_503 = s.failover_on_503;
    k.failover_on_icmp = s.failover_on_icmp;
    k.recover_delay_enabled = s.recover_delay_enabled;
    k.recover_delay_min_s = s.recover_delay_min_s;
    k.recover_delay_max_s = s.recover_delay_max_s;
    k.failback_mode = fo::FailbackMode(s.failback_mode);
    k.failback_timeout_s = s.failback_timeout_s;
    k.unregister_on_failback = s.unregister_on_failback;
    k.unregister_after_failback = s.unregister_after_failback;
    k.enhanced = s.enhanced;
    k.group_id = s.group_id;
    k.only_signal_with_registered = s.only_signal_with_registered;
    k.fail_registration_on = s.fail_registration_on;
    k.auth_optimized_in_failover = s.auth_optimized_in_failover;
    k.new_call_on_unregister = s.new_call_on_unregister;
    k.unregister_on_failover = s.unregister_on_failover;
    k.register_enabled = s.register_enabled;
    k.expire_time_s = s.expire_time_s;
    k.max_concurrent_reg = uint8_t(s.max_concurrent_reg > 255 ? 255 : s.max_concurrent_reg);
    k.threshold_kind = fo::ThresholdKind(s.threshold_kind);
    k.threshold = s.threshold;
    k.registration_failure_retry_s = s.registration_failure_retry_s;
    k.register_retry_base_s = s.register_retry_base_s;
    k.register_retry_max_s = s.register_retry_max_s;
    k.probe_mode = fo::ProbeMode(s.monitor);
    k.probe_interval_s = s.monitor_interval_s;
    k.probe_timeout_s = s.monitor_timeout_s;
    k.retry_after_max_s = s.retry_after_max_s;
    k.provisional_timeout_s = s.provisional_timeout_s;
    k.ruri_host = fo::RuriHost(s.request_uri_host);
    k.hide_topology = s.topology_hiding;
    k.probe_down_threshold = uint8_t(s.monitor_down_threshold > 255 ? 255 : s.monitor_down_threshold);
    k.probe_up_threshold = uint8_t(s.monitor_up_threshold > 255 ? 255 : s.monitor_up_threshold);
    k.trap_failures = uint8_t(s.trap_registration_failures > 255 ? 255 : s.trap_registration_failures);
    k.trap_interval_s = s.trap_registration_interval_s;
    k.invite_policy = model_policy(s, fo::RequestKind::invite);
    k.register_policy = model_policy(s, fo::RequestKind::register_);
    k.other_policy = model_policy(s, fo::RequestKind::other);
    fo::normalize(k);
    return k;
}

Status validate_settings(const TrunkSettings& s) {
    // The selected model's own validation first: it names the seed knob.
    fo::KnobError ke = fo::KnobError::ok;
    switch (RetryModel(s.retry_model)) {
    case RetryModel::adtran: ke = fo::validate(adtran(s)); break;
    case RetryModel::poly: ke = fo::validate(poly(s)); break;
    case RetryModel::cisco: ke = fo::validate(cisco(s)); break;
    case RetryModel::audiocodes: ke = fo::validate(audiocodes(s)); break;
    }
    // T2 below T1 is refused whatever the model (RFC 3261 §17.1.2.2).
    if (ke == fo::KnobError::ok && s.t2_ms < s.t1_ms) ke = fo::KnobError::t2_below_t1;
    if (ke != fo::KnobError::ok)
        return err(EINVAL, knob_of(ke) + ": " + fo::knob_error_text(ke));
    const fo::TrunkKnobs k = to_trunk_knobs(s);
    for (const fo::RetryPolicy* p : {&k.invite_policy, &k.register_policy, &k.other_policy}) {
        const fo::KnobError pe = fo::validate(*p);
        if (pe != fo::KnobError::ok)
            return err(EINVAL, knob_of(nullptr) + ": policy refused: " + fo::knob_error_text(pe));
    }
    const fo::ConfigError ce = fo::validate(k);
    if (ce != fo::ConfigError::ok)
        return err(EINVAL, knob_of(ce) + ": " + fo::config_error_text(ce));
    return Ok{};
}

std::optional<std::string> incomplete_reason(const TrunkConfig& t) {
    bool any = false;
    for (const auto& s : t.servers) any = any || s.has_value();
    if (!any) return std::string("no server configured");
    if (t.knobs.register_enabled && t.identities.empty())
        return std::string("registration on and no identity configured");
    return std::nullopt;
}

fo::ServerSet to_server_set(const TrunkConfig& t) {
    std::vector<fo::Target> targets;
    bool dns = false;
    for (const auto& s : t.servers) {
        if (!s) continue;
        fo::Target tg;
        tg.address = s->host;
        switch (s->mode) {
        case ServerMode::udp: case ServerMode::udp_only: case ServerMode::dns_naptr:
            tg.transport = sip::Transport::udp; break;
        case ServerMode::tcp: case ServerMode::tcp_only: case ServerMode::tcp_preferred:
            tg.transport = sip::Transport::tcp; break;
        case ServerMode::tls: case ServerMode::tls_only:
            tg.transport = sip::Transport::tls; break;
        }
        // RFC 3263 §4.2: no port means 5060, or 5061 for TLS (until dns/ resolves SRV).
        tg.port = s->port ? s->port : (tg.transport == sip::Transport::tls ? 5061 : 5060);
        dns = dns || s->mode >= ServerMode::dns_naptr;
        targets.push_back(std::move(tg));
    }
    fo::ServerSet set = fo::static_servers(std::move(targets));
    set.from_dns = dns;
    return set;
}

void apply_maintenance(fo::Engine& e, uint32_t id, const TrunkConfig& t, fo::Millis now) {
    const fo::Trunk* tr = e.trunk(id);
    if (!tr) return;
    const fo::ServerSet want = to_server_set(t);  // one static record: slots in order
    const size_t n = tr->servers.size();
    for (size_t x = 0; x < n; x++) {
        bool on = false;
        size_t k = 0;  // index among the present slots
        for (size_t slot = 0; slot < t.servers.size(); slot++) {
            if (!t.servers[slot]) continue;
            const size_t at = k++;
            if (!(t.maintenance >> slot & 1u) || t.servers[slot]->mode >= ServerMode::dns_naptr) continue;
            if (!want.records.empty() && at < want.records[0].targets.size() &&
                fo::same_endpoint(want.records[0].targets[at], tr->servers[x].target))
                on = true;
        }
        uint8_t have[16];
        const int fam = fo::parse_ip(tr->servers[x].target.address, have);
        for (const auto& [ip, port] : t.maintenance_addrs) {
            uint8_t want_ip[16];
            const int f = fo::parse_ip(ip, want_ip);
            if (fam != 0 && f == fam && std::memcmp(have, want_ip, f == 4 ? 4 : 16) == 0 &&
                (port == 0 || port == tr->servers[x].target.port))
                on = true;
        }
        e.set_admin(id, uint16_t(x), on, now);
    }
}

fo::AddTrunk to_add_trunk(const TrunkConfig& t) {
    fo::AddTrunk a;
    a.name = t.name;
    a.domain = t.domain;
    a.knobs = to_trunk_knobs(t.knobs);
    a.servers = to_server_set(t);
    for (const IdentityConfig& i : t.identities)
        a.identities.push_back(fo::Identity{i.user, i.auth_user, i.password, i.contact});
    return a;
}

}  // namespace sipedge::ctl
