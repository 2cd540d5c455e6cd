#pragma once
// Control-side state of one trunk: its server list with per-server health,
// RTT and probe state, its identities with their registration bindings and
// in-flight REGISTERs, and the trunk-wide failover state (validated server,
// registration walk, back-off, failback deadline, last routing decision).
// Owned by the control thread's Engine; never shared with workers (they see
// only the Table built from it).

#include <cstdint>
#include <string>
#include <vector>

#include "failover/digest.h"
#include "failover/knobs.h"
#include "failover/retry_policy.h"
#include "failover/server_set.h"

namespace sipedge::failover {

/// What last changed a server's health.
enum class Trigger : uint8_t {
    none = 0,
    timeout,           // no response within the retry budget
    rejected_503,      // 503 with rollover on 503
    icmp_unreachable,
    register_failed,   // the registration agent's REGISTER timed out / got 503 / ICMP
    probe_down,        // monitor: down-threshold probes unanswered (or 503)
    success,           // a response came back
    probe_up,          // monitor: up-threshold probes answered
};
const char* trigger_name(Trigger t) noexcept;

enum class Health : uint8_t {
    up,          // selectable
    failed,      // known failed: skipped by failover walks; top_first still lists it
    recovering,  // seed A recovery delay in effect: not selected for requests
    maintenance, // administratively out of service: no new requests, in-flight ones drain
};
const char* health_name(Health h) noexcept;

struct ServerState {
    Target target;
    uint16_t record = 0;          // index of its service record in the ServerSet
    uint8_t addr[16] = {};
    uint8_t family = 0;           // 4, 6, or 0 = unresolved host name (not routable)
    bool failed = false;          // known failed since failed_at
    Millis failed_at = 0;
    Millis recover_at = 0;        // seed A recovery delay: not selected before this
    Millis hold_until = 0;        // 503 Retry-After: no new dialog before this
    Trigger last_trigger = Trigger::none;
    Millis last_trigger_at = 0;
    uint32_t srtt_us = 0;         // RFC 6298-style smoothed RTT (α = 1/8); 0 = no sample
    uint32_t active_dialogs = 0;
    // sip-server monitor (OPTIONS probing)
    Millis next_probe_at = 0;
    Millis probe_deadline = never_ms;  // in-flight probe times out here
    Millis probe_retx_at = never_ms;   // its next Timer E retransmission
    uint32_t probe_retx_ms = 0;        // the interval after that one (T1 doubling to T2)
    uint32_t probe_cseq = 0;
    uint32_t probe_id = 0;             // per probe (engine-wide): its Call-ID, tag and branch nonce
    uint8_t probe_fails = 0;
    uint8_t probe_oks = 0;
    // administrative state (Engine::set_admin): not a failure, never counted as one
    bool maintenance = false;     // no new requests, no new registrations
    bool draining = false;        // was the working server when maintenance began: kept in
                                  // signal_mask (onlySignalWithRegistered) for in-dialog requests
};

/// An identity of the trunk (seed A OSID; seed P line).
struct Identity {
    std::string user;        // AOR user part
    std::string auth_user;   // digest username; empty = user
    std::string password;
    std::string contact;     // Contact URI, e.g. "sip:100@198.51.100.7:5060"
};

/// The last digest challenge of one identity (RFC 7616 §3.3).
struct Challenge {
    bool have = false;
    bool proxy = false;           // 407 Proxy-Authenticate (else 401 WWW-Authenticate)
    DigestAlg alg = DigestAlg::md5;
    std::string realm, nonce, opaque, qop;
    uint32_t nc = 0;              // nonce count already used with this nonce
    uint8_t answered = 0;         // REGISTERs sent with credentials for this nonce
};

struct Registration {
    Identity id;
    std::string call_id;          // kept across failover/failback (seed P); new after unregistered
    std::string from_tag;
    uint32_t cseq = 0;
    // binding
    int16_t bound = -1;           // server holding this identity's binding
    Millis bound_at = 0;
    Millis expires_at = 0;
    Millis refresh_at = never_ms;
    uint32_t granted_s = 0;       // Expires the registrar granted (seed A threshold base)
    int16_t kept = -1;            // seed P failRegistrationOn=0: binding kept on the old server
    Millis kept_expires_at = 0;
    // in-flight REGISTER (binding) and REGISTER Expires: 0 (unbinding)
    int16_t txn_server = -1;
    uint32_t txn_cseq = 0;
    uint32_t txn_expires = 0;
    Millis txn_deadline = never_ms;
    int16_t unreg_server = -1;
    uint32_t unreg_cseq = 0;
    Millis unreg_deadline = never_ms;
    std::string txn_auth;         // (Proxy-)Authorization line of the in-flight REGISTER, "" = none
    std::string unreg_auth;
    uint32_t min_expires = 0;     // RFC 3261 §10.2.8 (423): never ask for less
    Challenge chal;
    Millis next_attempt_at = 0;   // no REGISTER before this (start-up spread, failure retry)
    uint32_t failures = 0;        // consecutive failed REGISTERs of this identity
    bool lost = false;            // passed through the unregistered state (newCallOnUnRegister)
    bool ever_registered = false;
};

/// Why the trunk's candidates are what they are (explainability).
enum class Decision : uint8_t {
    none = 0,
    initial,             // first table: top of the list
    top_first,           // default mode: every new dialog starts at the top
    validated,           // REGISTER accepted: new requests go only to this server
    failover,            // the working server failed: walking to the next candidate
    failover_exhausted,  // every server failed: back-off
    backoff_over,        // back-off elapsed: REGISTER from the top again
    failback,            // failback due: REGISTER to the primary
    failback_deferred,   // failback due during an active call: retry in 1 s
    failed_back,         // primary accepted the REGISTER
    registration_expired,// the validated binding expired: REGISTER from the top
    dns_sticky,          // DNS reordered; the registered route is kept
    dns_removed,         // DNS dropped the registered route: re-register at once
    recovery_cancelled,  // every other server unreachable: recovery delays cancelled
    auth_optimized,      // first new request goes to the server that challenged
    health_change,       // a server's health changed the order
    maintenance,         // a server entered maintenance (from = the working server it left)
    in_service,          // a server left maintenance
    awaiting_dns,        // no server resolved yet: registration waits for the first DNS answer
};
const char* decision_name(Decision d) noexcept;

struct DecisionRecord {
    Decision what = Decision::none;
    Millis at = 0;
    int16_t server = -1;        // the server the decision is about
    int16_t from = -1;          // failover/failback: the server left
    Trigger trigger = Trigger::none;
};

struct Trunk {
    uint32_t id = 0;
    std::string name;
    std::string domain;           // AOR / registrar domain (Request-URI of REGISTER)
    TrunkKnobs knobs;
    std::vector<ServiceRecord> records;  // without targets (they are in servers)
    std::vector<ServerState> servers;    // flattened in record order
    std::vector<Registration> regs;
    bool from_dns = false;

    int16_t active = -1;          // validated / working server (where the trunk is registered)
    uint16_t primary_record = 0;  // seed P: "the first record that registers becomes the new primary record"
    int16_t anchor = -1;          // seed P sticky route: the registered server kept after a DNS reorder
    int16_t sticky_pending = -1;  // a reorder came while a REGISTER to this server was in flight:
                                  //   it becomes the sticky route if that registration succeeds
    Millis anchor_since = 0;      // when `anchor` was set (explain)
    int16_t tf_current = -1;      // top-first failback hold (failback-mode other than newRequests):
    Millis tf_hold_until = 0;     //   new requests go to tf_current first until then
    int16_t reg_target = -1;      // where REGISTERs go now
    int16_t walk_origin = -1;     // server whose failure started the walk (-1: from the top)
    uint32_t walk_tried = 0;      // servers tried in this walk (bit = index)
    Millis connected_at = 0;      // when `active` was validated (failBack.timeout base)
    Millis failback_at = never_ms;
    Millis last_failback_at = 0;  // newRequests: at most one attempt per registration-failure-retry
    bool failback_walk = false;   // the current walk is a failback attempt
    Millis backoff_until = 0;
    Millis dns_wait_until = 0;    // registration waits for the first DNS answer until then (0 = not waiting)
    uint32_t backoff_count = 0;   // consecutive exhausted walks (RFC 5626 failures)
    int16_t auth_hint = -1;       // seed P authOptimizedInFailover
    Millis auth_hint_until = 0;
    uint32_t active_calls = 0;
    // seed A snmp trap registration failures
    uint32_t trap_count = 0;
    Millis last_trap_at = never_ms;
    DecisionRecord last;
    // table publication
    uint32_t gen = 0;             // tables published for this trunk (explain)
    uint32_t list_epoch = 0;      // bumped when the server list changes (TrunkRoutes::list_epoch)
    bool dirty = true;
    bool removed = false;         // Engine::remove_trunk: an empty slot; its id is never reused
};

}  // namespace sipedge::failover
