#include "control/knob_table.h"

#include <type_traits>

#include "control/number.h"
#include "control/tokens.h"

namespace sipedge::ctl {

namespace {

// Only trunk settings hold text knobs (GlobalSettings has no string member).
template <class S>
constexpr bool has_text = std::is_same_v<S, TrunkSettings>;

using T = TrunkSettings;
using G = GlobalSettings;
using K = KnobKind;
using Sec = KnobSection;

constexpr const char* retry_models[] = {"adtran", "poly", "cisco", "audiocodes", nullptr};
constexpr const char* validation_modes[] = {"off", "register", nullptr};
constexpr const char* failback_modes[] = {"duration", "newRequests", "DNSTTL", "registration", "auto", nullptr};
constexpr const char* monitor_modes[] = {"off", "always", "while-failed", nullptr};
constexpr const char* ruri_hosts[] = {"keep", "domain", "server", nullptr};

// The two ranges of a threshold knob (seed A registrar threshold).
constexpr uint32_t threshold_absolute_min = 5, threshold_absolute_max = 604800;
constexpr uint32_t threshold_percentage_min = 1, threshold_percentage_max = 90;

// Order: the sections and rows of shared/seed-knobs.md; docs/knobs.md's tables are generated
// from these rows (control/knob_doc.h), the meaning column included.
const TrunkKnob trunk_table[] = {
    // ---- timers and retransmission -------------------------------------------------------
    {.key = "retry-model", .kind = K::choice, .section = Sec::timers, .choices = retry_models,
     .seed = "(which seed's timer rows build the retry policy)", .src = "sipedge",
     .meaning = "which seed's timer knobs build the trunk's retry policy (above); the other models' knobs are "
                "kept and printed but do not act",
     .c = &T::retry_model},
    {.key = "t1", .kind = K::uint, .section = Sec::timers, .min = 50, .max = 1000, .unit = "ms",
     .seed = "ip sip timer T1", .src = "A",
     .meaning = "RTT estimate, first retransmit interval; B/F = 64·T1 (every model)", .u = &T::t1_ms},
    {.key = "t2", .kind = K::uint, .section = Sec::timers, .min = 1000, .max = 32000, .unit = "ms",
     .seed = "ip sip timer T2", .src = "A",
     .meaning = "max retransmit interval (non-INVITE requests, INVITE responses); at least `t1` (every model)",
     .u = &T::t2_ms},
    {.key = "rollover", .kind = K::uint, .section = Sec::timers, .min = 1, .max = 32, .unit = "s",
     .seed = "ip sip timer rollover", .src = "A",
     .meaning = "no response to INVITE/REGISTER within this → next server (model adtran)", .u = &T::rollover_s},
    {.key = "rollover-register", .kind = K::uint, .section = Sec::timers, .min = 1, .max = 32, .unit = "s",
     .zero_word = "follow-primary", .seed = "ip sip timer rollover register", .src = "A",
     .meaning = "the same, REGISTER only; follow-primary uses `rollover` (model adtran)",
     .u = &T::rollover_register_s},
    {.key = "retry-timeout", .kind = K::uint, .section = Sec::timers, .min = 0, .max = 65535, .unit = "ms",
     .seed = "retryTimeOut", .src = "P",
     .meaning = "fixed wait between attempts to one server; 0 = RFC 3261 back-off (model poly)",
     .u = &T::retry_timeout_ms},
    {.key = "retry-max-count", .kind = K::uint, .section = Sec::timers, .min = 0, .max = 65535,
     .seed = "retryMaxCount", .src = "P",
     .meaning = "attempts per server before moving on; 0 reads as 3, as Poly does (model poly)",
     .u = &T::retry_max_count},
    {.key = "tcp-fast-failover", .kind = K::boolean, .section = Sec::timers, .seed = "tcpFastFailover", .src = "P",
     .meaning = "over TCP/TLS fail a route after `tcp-fast-failover-timeout` instead of Timer B; only with "
                "`retry-timeout` 0 (model poly)",
     .b = &T::tcp_fast_failover},
    {.key = "tcp-fast-failover-timeout", .kind = K::uint, .section = Sec::timers, .min = 2000, .max = 5000,
     .unit = "ms", .seed = "tcpFastFailover.timeout", .src = "P",
     .meaning = "the `tcp-fast-failover` wait (model poly)", .u = &T::tcp_fast_failover_timeout_ms},
    {.key = "trying-timer", .kind = K::uint, .section = Sec::timers, .min = 100, .max = 1000, .unit = "ms",
     .seed = "SIP Trying Timer", .src = "C",
     .meaning = "first INVITE retry delay, doubling each retry (model cisco)", .u = &T::trying_timer_ms},
    {.key = "invite-retry-count", .kind = K::uint, .section = Sec::timers, .min = 1, .max = 10,
     .seed = "Retry Count for SIP Invite", .src = "C",
     .meaning = "INVITE retries before the next route: a·(2ⁿ−1) = 63.5 s by default (model cisco)",
     .u = &T::invite_retry_count},
    {.key = "no-response-timeout", .kind = K::uint, .section = Sec::timers, .min = 1000, .max = 600000,
     .unit = "ms", .seed = "outgoing_request_no_response_timeout_ms", .src = "AC",
     .meaning = "no response within this → next server (model audiocodes)", .u = &T::no_response_timeout_ms},
    // ---- failover triggers -------------------------------------------------------------------
    {.key = "failover-on-503", .kind = K::boolean, .section = Sec::triggers,
     .seed = "sip-server rollover service-unavailable-or-timeout | failoverOn503Response", .src = "A, P",
     .meaning = "a 503 rolls the request over to the next server; off = ADTRAN timeout-only (Poly's default is "
                "on: set `on`)",
     .b = &T::failover_on_503},
    {.key = "failover-on-icmp", .kind = K::boolean, .section = Sec::triggers,
     .seed = "(behaviour: ICMP errors trigger failover)", .src = "P",
     .meaning = "ICMP port/host unreachable triggers immediate failover: the seed's behaviour, switchable",
     .b = &T::failover_on_icmp},
    // ---- registration and validated failover -------------------------------------------------------
    {.key = "register", .kind = K::boolean, .section = Sec::registration, .seed = "(registration on the trunk)",
     .src = "sipedge", .meaning = "register the trunk's identities (`set trunk <t> identity`)",
     .b = &T::register_enabled},
    {.key = "threshold", .kind = K::threshold, .section = Sec::registration, .unit = "s",
     .seed = "registrar threshold", .src = "A", .meaning = "refresh when this much of the granted expiry remains",
     .u = &T::threshold, .c = &T::threshold_kind},
    {.key = "expire-time", .kind = K::uint, .section = Sec::registration, .min = 0, .max = 4294967295u, .unit = "s",
     .seed = "registrar expire-time", .src = "A",
     .meaning = "Expires requested in REGISTER; with an absolute `threshold` at least threshold + 6",
     .u = &T::expire_time_s},
    {.key = "max-concurrent-reg", .kind = K::uint, .section = Sec::registration, .min = 1, .max = 32,
     .seed = "registrar max-concurrent-reg", .src = "A", .meaning = "concurrent REGISTER transactions per trunk",
     .u = &T::max_concurrent_reg},
    {.key = "registration-failure-retry", .kind = K::uint, .section = Sec::registration, .min = 10, .max = 604800,
     .unit = "s", .seed = "ip sip timer registration-failure-retry", .src = "A",
     .meaning = "wait before retrying a failed registration", .u = &T::registration_failure_retry_s},
    {.key = "validation", .kind = K::choice, .section = Sec::registration, .choices = validation_modes,
     .seed = "sip-server validation register | reRegisterOn", .src = "A, P, E",
     .meaning = "`register`: validated failover, a REGISTER to a candidate first and the candidate used only once "
                "registered (reRegisterOn=1 ↔ `register`)",
     .c = &T::validation},
    {.key = "fail-registration-on", .kind = K::boolean, .section = Sec::registration,
     .seed = "failRegistrationOn", .src = "P, E",
     .meaning = "silently invalidate the existing registration when failover begins (E's default is off)",
     .b = &T::fail_registration_on},
    {.key = "only-signal-with-registered", .kind = K::boolean, .section = Sec::registration,
     .seed = "onlySignalWithRegistered", .src = "P, E",
     .meaning = "no signalling to or from a server that does not hold the registration",
     .b = &T::only_signal_with_registered},
    {.key = "auth-optimized-in-failover", .kind = K::boolean, .section = Sec::registration,
     .seed = "authOptimizedInFailover", .src = "P",
     .meaning = "send the first new request to the server that sent the 401/407",
     .b = &T::auth_optimized_in_failover},
    {.key = "new-call-on-unregister", .kind = K::boolean, .section = Sec::registration,
     .seed = "newCallOnUnRegister", .src = "P",
     .meaning = "after all routes failed and registration was lost, REGISTER with a new Call-ID",
     .b = &T::new_call_on_unregister},
    {.key = "unregister-on-failover", .kind = K::boolean, .section = Sec::registration,
     .seed = "sip-server validation register (step: OSID unregistered from the failed server)", .src = "A",
     .meaning = "unregister the identity from the failed server before registering to the candidate",
     .b = &T::unregister_on_failover},
    {.key = "register-retry-base", .kind = K::uint, .section = Sec::registration, .min = 10, .max = 120,
     .unit = "s", .seed = "registerRetry.baseTimeOut", .src = "P",
     .meaning = "RFC 5626 back-off after all servers failed: W = min(max, base·2^failures), wait in [W/2, W]",
     .u = &T::register_retry_base_s},
    {.key = "register-retry-max", .kind = K::uint, .section = Sec::registration, .min = 60, .max = 1800,
     .unit = "s", .seed = "registerRetry.maxTimeOut", .src = "P", .meaning = "the back-off cap",
     .u = &T::register_retry_max_s},
    // ---- recovery and failback -------------------------------------------------------------
    {.key = "recover-delay", .kind = K::recover_delay, .section = Sec::recovery, .min = 0, .max = 86400,
     .unit = "s", .zero_word = "off", .seed = "recover delay <min> [<max>] (sip-server monitor)", .src = "A",
     .meaning = "a failed server is not selected again for a random time in [min, max], max ≥ min; a lone min is "
                "a fixed delay",
     .u = &T::recover_delay_min_s, .u2 = &T::recover_delay_max_s, .b = &T::recover_delay_enabled},
    {.key = "failback-mode", .kind = K::choice, .section = Sec::recovery, .choices = failback_modes,
     .seed = "failBack.mode", .src = "P, E",
     .meaning = "when to try the primary again, in either mode (below); `auto` = duration in validated mode (P), "
                "newRequests in top-first mode (A, E)",
     .c = &T::failback_mode},
    {.key = "failback-timeout", .kind = K::uint, .section = Sec::recovery, .min = 0, .max = 65535, .unit = "s",
     .seed = "failBack.timeout", .src = "P, E",
     .meaning = "duration-mode wait; 0 = never; 1-59 act as 60", .u = &T::failback_timeout_s},
    {.key = "unregister-on-failback", .kind = K::boolean, .section = Sec::recovery,
     .seed = "unRegisterOnFailBack", .src = "P",
     .meaning = "REGISTER Expires: 0 to the current server before failing back", .b = &T::unregister_on_failback},
    {.key = "unregister-after-failback", .kind = K::boolean, .section = Sec::recovery,
     .seed = "(behaviour: once back on the primary, unregister from the secondary)", .src = "A",
     .meaning = "unregister from the secondary after failing back: the seed's behaviour, switchable",
     .b = &T::unregister_after_failback},
    {.key = "enhanced", .kind = K::boolean, .section = Sec::recovery,
     .seed = "outboundProxy.failOver.enhanced.enable", .src = "P",
     .meaning = "trunks of one `group` fail back together, never during a call; every route tried before Timer B",
     .b = &T::enhanced},
    {.key = "group", .kind = K::uint, .section = Sec::recovery, .min = 0, .max = 4294967295u,
     .seed = "(enhanced: all lines of a device)", .src = "sipedge",
     .meaning = "`enhanced` failback group; 0 = the trunk alone", .u = &T::group_id},
    // ---- keep-alives and monitoring ----------------------------------------------------------------
    {.key = "keepalive-interval", .kind = K::uint, .section = Sec::keepalive, .min = 0, .max = 3600, .unit = "s",
     .seed = "nat.keepalive.interval", .src = "P", .meaning = "keep-alive period; 0 = off",
     .u = &T::keepalive_interval_s},
    {.key = "keepalive-udp-payload", .kind = K::text, .section = Sec::keepalive, .max = 64,
     .seed = "nat.keepalive.udp.payload", .src = "P", .meaning = "keep-alive datagram bytes",
     .s = &T::keepalive_udp_payload},
    {.key = "keepalive-tcp-payload", .kind = K::text, .section = Sec::keepalive, .max = 64,
     .seed = "nat.keepalive.tcp.payload", .src = "P", .meaning = "keep-alive stream bytes",
     .s = &T::keepalive_tcp_payload},
    {.key = "tcp-keepalive-idle", .kind = K::uint, .section = Sec::keepalive, .min = 10, .max = 7200, .unit = "s",
     .seed = "tcpIpApp.keepalive.tcp.idleTransmitInterval", .src = "P",
     .meaning = "TCP/TLS idle time before the first keep-alive", .u = &T::tcp_keepalive_idle_s},
    {.key = "tcp-keepalive-no-response", .kind = K::uint, .section = Sec::keepalive, .min = 5, .max = 120,
     .unit = "s", .seed = "tcpIpApp.keepalive.tcp.noResponseTransmitInterval", .src = "P",
     .meaning = "wait between unanswered keep-alives", .u = &T::tcp_keepalive_no_response_s},
    {.key = "tcp-keepalive-attempts", .kind = K::uint, .section = Sec::keepalive, .min = 1, .max = 10,
     .seed = "tcpIpApp.keepalive.tcp (4 attempts)", .src = "P",
     .meaning = "unanswered keep-alives before the connection counts as lost (not failover)",
     .u = &T::tcp_keepalive_attempts},
    {.key = "tls-ca", .kind = K::text, .section = Sec::keepalive, .max = 255,
     .seed = "(issue 14: sec.TLS.customCaCert)", .src = "sipedge",
     .meaning = "PEM file of the CAs a TLS server of the trunk must chain to (sipedge --sip-tcp)",
     .s = &T::tls_ca},
    {.key = "tls-server-name", .kind = K::text, .section = Sec::keepalive, .max = 253,
     .seed = "(issue 14: RFC 5922 §4)", .src = "sipedge",
     .meaning = "name its TLS servers' certificates must carry, sent as SNI; empty = the trunk's domain, "
                "else its first TLS server's host",
     .s = &T::tls_server_name},
    {.key = "tls-client-cert", .kind = K::text, .section = Sec::keepalive, .max = 255,
     .seed = "(issue 14: sec.TLS.customDeviceCert)", .src = "sipedge",
     .meaning = "PEM file of the certificate chain presented to its TLS servers (mutual TLS); empty = none",
     .s = &T::tls_client_cert},
    {.key = "tls-client-key", .kind = K::text, .section = Sec::keepalive, .max = 255,
     .seed = "(issue 14: sec.TLS.customDeviceKey)", .src = "sipedge",
     .meaning = "that certificate's private key: a PEM file, read when set (refused unless only its owner may "
                "read it) and kept in the secrets file, after which the knob says stored; 'stored' takes the "
                "key the secrets file holds; never in a reply or log",
     .s = &T::tls_client_key},
    {.key = "monitor", .kind = K::choice, .section = Sec::keepalive, .choices = monitor_modes,
     .seed = "sip-server monitor (OPTIONS probes)", .src = "A, sipedge",
     .meaning = "probe servers with OPTIONS: never, always, or only failed ones (below)", .c = &T::monitor},
    {.key = "monitor-interval", .kind = K::uint, .section = Sec::keepalive, .min = 1, .max = 3600, .unit = "s",
     .seed = "(probe interval)", .src = "sipedge", .meaning = "OPTIONS probe period", .u = &T::monitor_interval_s},
    {.key = "monitor-timeout", .kind = K::uint, .section = Sec::keepalive, .min = 1, .max = 300, .unit = "s",
     .seed = "(probe timeout, 64*T1)", .src = "sipedge",
     .meaning = "one probe's wait for a final answer, Timer E retransmissions included (32 = 64·T1); a probe to "
                "a failed server waits one interval at most",
     .u = &T::monitor_timeout_s},
    {.key = "monitor-down-threshold", .kind = K::uint, .section = Sec::keepalive, .min = 1, .max = 10,
     .seed = "(probe down threshold)", .src = "sipedge", .meaning = "unanswered probes before a server is down",
     .u = &T::monitor_down_threshold},
    {.key = "monitor-up-threshold", .kind = K::uint, .section = Sec::keepalive, .min = 1, .max = 10,
     .seed = "(probe up threshold)", .src = "sipedge", .meaning = "answered probes before a server is up",
     .u = &T::monitor_up_threshold},
    {.key = "trap-registration-failures", .kind = K::uint, .section = Sec::keepalive, .min = 1, .max = 128,
     .zero_word = "off", .seed = "snmp trap registration failures <N>", .src = "A",
     .meaning = "notify after N registration failures; off = never", .u = &T::trap_registration_failures},
    {.key = "trap-registration-interval", .kind = K::uint, .section = Sec::keepalive, .min = 30, .max = 86400,
     .unit = "s", .seed = "snmp trap registration failures <N> interval <S>", .src = "A",
     .meaning = "at most one notification per this interval", .u = &T::trap_registration_interval_s},
    // ---- sustained faults (sipedge) -----------------------------------------------------------------
    {.key = "retry-after-max", .kind = K::uint, .section = Sec::sustained, .min = 0, .max = 86400, .unit = "s",
     .seed = "(RFC 3261 21.5.4 Retry-After on 503)", .src = "sipedge",
     .meaning = "RFC 3261 §21.5.4: a 503's Retry-After keeps new requests (INVITE and others) and a probe's "
                "\"up\" off that server for min(Retry-After, this); 0 = only seed P's failoverOn503Response rule "
                "(held on the last route, or when 503 does not fail over)",
     .u = &T::retry_after_max_s},
    {.key = "provisional-timeout", .kind = K::uint, .section = Sec::sustained, .min = 1, .max = 3600,
     .unit = "s", .zero_word = "off", .seed = "(INVITE: no final response after a provisional)", .src = "sipedge",
     .meaning = "INVITE: no final response within this after a provisional: the branch is CANCELled; with only "
                "100 Trying received the call rolls over to the next server, after a 101-199 the caller gets 408",
     .u = &T::provisional_timeout_s},
    {.key = "request-uri-host", .kind = K::choice, .section = Sec::sustained, .choices = ruri_hosts,
     .seed = "(Request-URI host toward the carrier)", .src = "sipedge",
     .meaning = "host[:port] of the Request-URI sent to the trunk: as the caller sent it; the trunk's `domain` "
                "(its first server's host when unset), for carriers that require their domain; or the selected "
                "server's address, rewritten on each rollover (a CANCEL names the same Request-URI as its "
                "INVITE). User part and parameters are kept; tel: URIs are never rewritten",
     .c = &T::request_uri_host},
    {.key = "topology-hiding", .kind = K::boolean, .section = Sec::sustained,
     .seed = "(topology hiding toward the carrier, issue 16)",
     .src = "sipedge",
     .meaning = "the trunk's carriers see only sipedge: access-side Vias and Record-Routes are kept back and "
                "restored in the responses, the Contact names sipedge with the access address encrypted in "
                "`;sxh=` (docs/security.md \"Topology hiding\")",
     .b = &T::topology_hiding},
};

const GlobalKnob global_table[] = {
    {.key = "dns-restore", .kind = K::boolean, .section = Sec::dns, .seed = "dns.cache.dynamicRestore.enable",
     .src = "P",
     .meaning = "serve the last good record past its TTL when DNS gives no answer (never on NXDOMAIN)",
     .b = &G::dns_restore},
    {.key = "dns-restore-ttl", .kind = K::uint, .section = Sec::dns, .min = 90, .max = 600, .unit = "s",
     .seed = "dns.cache.dynamicRestore.ttl", .src = "P", .meaning = "lifetime of a restored record",
     .u = &G::dns_restore_ttl_s},
    {.key = "dns-a-network-override", .kind = K::boolean, .section = Sec::dns, .seed = "dns.cache.A.networkOverride",
     .src = "P", .meaning = "consult static A records (`set dns-cache a`) before the network",
     .b = &G::dns_a_network_override},
};

template <class S>
std::string seed_ref(const KnobDef<S>& k) {
    return std::string("seed ") + k.src + ": " + k.seed;
}

template <class S>
Error range_error(const KnobDef<S>& k, const std::string& why) {
    return err(EINVAL, std::string(k.key) + ": " + why + "; range " + knob_range(k) + ", default " +
                           knob_default(k) + " (" + seed_ref(k) + ")");
}

std::string range_text(uint32_t lo, uint32_t hi, const char* unit) {
    std::string r = std::to_string(lo) + "-" + std::to_string(hi);
    if (unit && *unit) r += std::string(" ") + unit;
    return r;
}

// One number in [lo, hi]; errors name the knob.
template <class S>
Result<uint32_t> number_in(const KnobDef<S>& k, const std::string& w, uint32_t lo, uint32_t hi) {
    uint64_t v = 0;
    switch (parse_number(w, lo, hi, v)) {  // control/number.h: the one grammar
    case NumStatus::ok: return uint32_t(v);
    case NumStatus::not_a_number:
        return range_error(k, "'" + w + "' is not a number (decimal digits only: no sign, blank or leading zero)");
    case NumStatus::out_of_range: break;
    }
    return range_error(k, w + " is out of range");
}

}  // namespace

std::span<const TrunkKnob> trunk_knobs() noexcept { return trunk_table; }
std::span<const GlobalKnob> global_knobs() noexcept { return global_table; }

const TrunkKnob* find_trunk_knob(std::string_view key) noexcept {
    for (const TrunkKnob& k : trunk_table)
        if (key == k.key) return &k;
    return nullptr;
}

const GlobalKnob* find_global_knob(std::string_view key) noexcept {
    for (const GlobalKnob& k : global_table)
        if (key == k.key) return &k;
    return nullptr;
}

const char* trunk_knob_key(uint32_t TrunkSettings::*field) noexcept {
    for (const TrunkKnob& k : trunk_table)
        if (k.u == field || k.u2 == field) return k.key;
    return nullptr;
}

const char* trunk_knob_key(uint8_t TrunkSettings::*field) noexcept {
    for (const TrunkKnob& k : trunk_table)
        if (k.c == field) return k.key;
    return nullptr;
}

template <class S>
std::string knob_range(const KnobDef<S>& k) {
    switch (k.kind) {
    case K::uint:
        return k.zero_word ? std::string(k.zero_word) + "|" + range_text(k.min, k.max, k.unit)
                           : range_text(k.min, k.max, k.unit);
    case K::boolean: return "on|off";
    case K::choice: {
        std::string r;
        for (const char* const* c = k.choices; *c; c++) r += (r.empty() ? "" : "|") + std::string(*c);
        return r;
    }
    case K::text: return "text of 0-" + std::to_string(k.max) + " bytes";
    case K::threshold:
        return "absolute " + range_text(threshold_absolute_min, threshold_absolute_max, k.unit) + " | percentage " +
               range_text(threshold_percentage_min, threshold_percentage_max, "");
    case K::recover_delay: return "off | <min> [<max>], " + range_text(k.min, k.max, k.unit);
    }
    return "?";
}

template <class S>
std::string knob_value(const KnobDef<S>& k, const S& s) {
    switch (k.kind) {
    case K::uint:
        if (k.zero_word && s.*k.u == 0) return k.zero_word;
        return std::to_string(s.*k.u);
    case K::boolean: return s.*k.b ? "on" : "off";
    case K::choice: return k.choices[s.*k.c];
    case K::text:
        if constexpr (has_text<S>) {
            // Always quoted: payloads are usually CRLF pairs.
            std::string q = quote_word(s.*k.s);
            if (q.empty() || q[0] != '"') q = "\"" + q + "\"";
            return q;
        }
        return "";
    case K::threshold:
        return std::string(s.*k.c == uint8_t(failover::ThresholdKind::absolute) ? "absolute " : "percentage ") +
               std::to_string(s.*k.u);
    case K::recover_delay:
        if (!(s.*k.b)) return "off";
        return std::to_string(s.*k.u) + " " + std::to_string(s.*k.u2);
    }
    return "?";
}

template <class S>
std::string knob_default(const KnobDef<S>& k) {
    const S d{};
    return knob_value(k, d);
}

template <class S>
bool knob_is_default(const KnobDef<S>& k, const S& s) {
    return knob_value(k, s) == knob_default(k);
}

template <class S>
void knob_reset(const KnobDef<S>& k, S& s) {
    const S d{};
    if (k.u) s.*k.u = d.*k.u;
    if (k.u2) s.*k.u2 = d.*k.u2;
    if (k.b) s.*k.b = d.*k.b;
    if (k.c) s.*k.c = d.*k.c;
    if constexpr (has_text<S>)
        if (k.s) s.*k.s = d.*k.s;
}

template <class S>
Status knob_set(const KnobDef<S>& k, S& s, std::span<const std::string> v) {
    if (v.empty()) return range_error(k, "missing value");
    auto arity = [&](size_t lo, size_t hi) -> bool { return v.size() >= lo && v.size() <= hi; };
    switch (k.kind) {
    case K::uint: {
        if (!arity(1, 1)) return range_error(k, "takes one value");
        if (k.zero_word && v[0] == k.zero_word) {
            s.*k.u = 0;
            return Ok{};
        }
        auto n = number_in(k, v[0], k.min, k.max);
        if (!n) return n.error();
        s.*k.u = n.value();
        return Ok{};
    }
    case K::boolean: {
        if (!arity(1, 1)) return range_error(k, "takes one value");
        const std::string& w = v[0];
        if (w == "on" || w == "1" || w == "true") s.*k.b = true;
        else if (w == "off" || w == "0" || w == "false") s.*k.b = false;
        else return range_error(k, "unknown word '" + w + "'");
        return Ok{};
    }
    case K::choice: {
        if (!arity(1, 1)) return range_error(k, "takes one value");
        for (uint8_t i = 0; k.choices[i]; i++)
            if (v[0] == k.choices[i]) {
                s.*k.c = i;
                return Ok{};
            }
        return range_error(k, "unknown word '" + v[0] + "'");
    }
    case K::text:
        if (!arity(1, 1)) return range_error(k, "takes one (quoted) value");
        if (v[0].size() > k.max) return range_error(k, "text too long");
        if constexpr (has_text<S>) s.*k.s = v[0];
        return Ok{};
    case K::threshold: {
        if (!arity(2, 2)) return range_error(k, "takes 'absolute <s>' or 'percentage <p>'");
        uint8_t kind;
        Result<uint32_t> n = uint32_t(0);
        if (v[0] == "absolute") {
            kind = uint8_t(failover::ThresholdKind::absolute);
            n = number_in(k, v[1], threshold_absolute_min, threshold_absolute_max);
        } else if (v[0] == "percentage") {
            kind = uint8_t(failover::ThresholdKind::percentage);
            n = number_in(k, v[1], threshold_percentage_min, threshold_percentage_max);
        } else {
            return range_error(k, "unknown word '" + v[0] + "'");
        }
        if (!n) return n.error();
        s.*k.c = kind;
        s.*k.u = n.value();
        return Ok{};
    }
    case K::recover_delay: {
        if (!arity(1, 2)) return range_error(k, "takes 'off' or '<min> [<max>]'");
        if (v.size() == 1 && v[0] == "off") {
            s.*k.b = false;
            s.*k.u = 0;
            s.*k.u2 = 0;
            return Ok{};
        }
        auto lo = number_in(k, v[0], k.min, k.max);
        if (!lo) return lo.error();
        uint32_t hi = lo.value();  // seed A: a lone minimum is a fixed delay
        if (v.size() == 2) {
            auto h = number_in(k, v[1], k.min, k.max);
            if (!h) return h.error();
            if (h.value() < lo.value()) return range_error(k, "max " + v[1] + " is below min " + v[0]);
            hi = h.value();
        }
        s.*k.b = true;
        s.*k.u = lo.value();
        s.*k.u2 = hi;
        return Ok{};
    }
    }
    return range_error(k, "unsupported");
}

template Status knob_set(const TrunkKnob&, TrunkSettings&, std::span<const std::string>);
template Status knob_set(const GlobalKnob&, GlobalSettings&, std::span<const std::string>);
template void knob_reset(const TrunkKnob&, TrunkSettings&);
template void knob_reset(const GlobalKnob&, GlobalSettings&);
template std::string knob_value(const TrunkKnob&, const TrunkSettings&);
template std::string knob_value(const GlobalKnob&, const GlobalSettings&);
template std::string knob_range(const TrunkKnob&);
template std::string knob_range(const GlobalKnob&);
template std::string knob_default(const TrunkKnob&);
template std::string knob_default(const GlobalKnob&);
template bool knob_is_default(const TrunkKnob&, const TrunkSettings&);
template bool knob_is_default(const GlobalKnob&, const GlobalSettings&);

}  // namespace sipedge::ctl
