#pragma once
// One retry-and-rollover model for every seed: how often a request is
// retransmitted to one server, when it moves on to the next server of the
// trunk's list, and when the whole walk gives up. The seed knobs (ADTRAN T1/T2
// and rollover timers, Poly retryTimeOut/retryMaxCount/tcpFastFailover/
// enhanced, Cisco SIP Trying Timer and Retry Count, AudioCodes no-response
// timeout) are validated here and mapped onto one RetryPolicy; RetryState then
// walks a server list for one request with an injected clock.
// Pure logic: no I/O, no allocation, no exceptions (STYLE.md §4).

#include <cstdint>
#include <type_traits>

#include "base/millis.h"

namespace sipedge::failover {

/// Milliseconds on the caller's monotonic clock (base/millis.h; the data plane converts TSC).
using Millis = sipedge::Millis;
/// "No deadline": larger than any reachable time.
using sipedge::never_ms;

/// What kind of request walks the list; the seeds time INVITE (Timer A/B) and
/// REGISTER (ADTRAN "rollover register") apart from other non-INVITEs.
enum class RequestKind : uint8_t { invite, register_, other };

/// How the wait between two transmissions to one server grows.
enum class Backoff : uint8_t {
    doubling,  // RFC 3261 §17.1.1.2 Timer A / §17.1.2.2 Timer E: first, 2·first, … (capped)
    fixed,     // seed P: retryTimeOut != 0 waits the same time after every attempt
};

/// RetryPolicy::flags bits.
enum RetryFlag : uint8_t {
    /// seed P: "The final route is repeatedly tried until the complete 32-second
    /// transaction period since the original request to the primary has elapsed".
    retry_last_until_walk_timeout = 1 << 0,
    /// seed P example 2: on the final server retransmit with RFC 3261 intervals
    /// (T1 doubling, capped at T2) whatever retryTimeOut is.
    retry_last_rfc_backoff = 1 << 1,
    /// seed P enhanced.enable: "timer B will not be used to stop the transaction
    /// before every route has been attempted".
    retry_enhanced = 1 << 2,
    /// seed A "service-unavailable-or-timeout", seed P failoverOn503Response:
    /// a 503 moves the request to the next server at once.
    retry_on_503 = 1 << 3,
    /// seed P: ICMP port/host unreachable triggers immediate failover.
    retry_on_icmp = 1 << 4,
};

/// The one model every seed maps onto. 32 bytes, trivially copyable: a client
/// transaction keeps its own copy (it must not point into an RCU snapshot).
struct RetryPolicy {
    uint32_t t1_ms = 500;              // RFC 3261 T1 (RFC back-off base, 64·T1 = Timer B/F)
    uint32_t t2_ms = 4000;             // RFC 3261 T2 (cap for RFC back-off, non-INVITE Proceeding)
    uint32_t first_wait_ms = 500;      // wait after the first send (T1, retryTimeOut, Trying Timer)
    uint32_t max_wait_ms = 0;          // doubling cap; 0 = uncapped (INVITE Timer A)
    uint32_t server_timeout_ms = 0;    // no response from one server this long → next; 0 = none
    uint32_t walk_timeout_ms = 32000;  // Timer B/F from the first send to the first server; 0 = none
    uint32_t reliable_timeout_ms = 0;  // reliable transport: wait per server; 0 = unreliable budget
    uint16_t attempts_per_server = 0;  // transmissions to one server before moving on; 0 = no limit
    uint8_t flags = retry_on_icmp;     // RetryFlag bits
    Backoff backoff = Backoff::doubling;
};
static_assert(std::is_trivially_copyable_v<RetryPolicy> && sizeof(RetryPolicy) == 32);

/// Why a knob set was refused. Names follow the seed knob they check.
enum class KnobError : uint8_t {
    ok = 0,
    t1_range,                   // seed A: 50–1000 ms
    t2_range,                   // seed A: 1000–32000 ms
    t2_below_t1,
    rollover_range,             // seed A: 1–32 s
    rollover_register_range,    // seed A: 1–32 s or follow-primary
    retry_timeout_range,        // seed P: 0–65535 ms
    retry_max_count_range,      // seed P: 0–65535
    tcp_fast_failover_timeout_range,  // seed P: 2000–5000 ms
    trying_timer_range,         // seed C: SIP Trying Timer
    retry_count_range,          // seed C: Retry Count for SIP Invite
    no_response_timeout_range,  // seed AC: outgoing_request_no_response_timeout_ms
    policy_zero_wait,           // RetryPolicy: first_wait_ms/t1_ms must be > 0
    policy_unbounded,           // RetryPolicy: nothing ever ends a server's turn
    policy_last_needs_walk,     // retry_last_until_walk_timeout without walk_timeout_ms
    policy_cap_below_first,     // max_wait_ms below first_wait_ms
    count_
};
/// Human-readable text for <e> (a control-socket error message).
const char* knob_error_text(KnobError e) noexcept;

/// Accepts any policy in which every server's turn ends (a count, a per-server
/// timeout or a walk timeout), with positive waits. Rejects the rest.
KnobError validate(const RetryPolicy& p) noexcept;

/// RFC 3261 alone (no per-request rollover): T1 doubling, capped at T2 for
/// non-INVITE, Timer B/F = 64·T1 ends the walk on whatever server it is on.
RetryPolicy rfc3261_policy(uint32_t t1_ms = 500, uint32_t t2_ms = 4000,
                           RequestKind kind = RequestKind::invite) noexcept;

// ---- seed A: ADTRAN AOS "ip sip timer" --------------------------------------

/// `rollover_register_s == 0` means follow-primary (the default).
struct AdtranTimers {
    uint32_t t1_ms = 500;               // ip sip timer T1, 50–1000
    uint32_t t2_ms = 4000;              // ip sip timer T2, 1000–32000
    uint32_t rollover_s = 3;            // ip sip timer rollover, 1–32
    uint32_t rollover_register_s = 0;   // ip sip timer rollover register, 1–32 | 0 = follow-primary
    bool rollover_on_503 = false;       // sip-server rollover service-unavailable-or-timeout
    bool rollover_on_icmp = true;       // sipedge knob (seed P behaviour), on by default
};
KnobError validate(const AdtranTimers& a) noexcept;
/// INVITE and REGISTER roll over after the rollover timer (REGISTER: its own
/// or follow-primary); other requests follow RFC 3261. The last server keeps
/// its transaction until Timer B/F (64·T1 from the first send).
RetryPolicy make_policy(const AdtranTimers& a, RequestKind kind) noexcept;

// ---- seed P: Poly UC Software ------------------------------------------------

struct PolyTiming {
    uint32_t retry_timeout_ms = 0;      // server.x.retryTimeOut, 0–65535; 0 = RFC back-off
    uint32_t retry_max_count = 3;       // server.x.retryMaxCount, 0–65535 (0 → 3)
    bool tcp_fast_failover = false;     // voIpProt.SIP.tcpFastFailover
    uint32_t tcp_fast_failover_timeout_ms = 5000;  // .timeout, 2000–5000
    bool enhanced = false;              // outboundProxy.failOver.enhanced.enable
    bool failover_on_503 = true;        // voIpProt.SIP.failoverOn503Response
    bool rollover_on_icmp = true;       // seed P behaviour (sipedge knob)
    uint32_t t1_ms = 500;               // Poly uses the RFC defaults
    uint32_t t2_ms = 4000;
};
KnobError validate(const PolyTiming& p) noexcept;
/// All request kinds. retryTimeOut 0: T1 doubling capped at T2; otherwise
/// fixed waits. retryMaxCount attempts per server; the last server with RFC
/// intervals until 64·T1 after the first attempt. Over TCP/TLS: tcpFastFailover
/// timeout (retryTimeOut 0 only), else Timer B (retryTimeOut 0), else
/// retryMaxCount·retryTimeOut (the pre-6.4 rule).
RetryPolicy make_policy(const PolyTiming& p, RequestKind kind) noexcept;

// ---- seed C: Cisco CallManager service parameters ----------------------------

struct CiscoTiming {
    uint32_t trying_timer_ms = 500;     // SIP Trying Timer (ms)
    uint32_t retry_count = 6;           // Retry Count for SIP Invite
    bool rollover_on_503 = false;       // not in the seed: off unless configured
    bool rollover_on_icmp = true;
    uint32_t t1_ms = 500;               // for non-INVITE requests (RFC 3261)
    uint32_t t2_ms = 4000;
};
KnobError validate(const CiscoTiming& c) noexcept;
/// INVITE: retry_count + 1 sends with doubling waits (no cap), next route after
/// a·(2ⁿ − 1); no overall Timer B (63.5 s > 32 s by default). Other requests
/// follow RFC 3261.
RetryPolicy make_policy(const CiscoTiming& c, RequestKind kind) noexcept;

// ---- seed AC: AudioCodes 400HD -----------------------------------------------

struct AudioCodesTiming {
    uint32_t no_response_timeout_ms = 32000;  // outgoing_request_no_response_timeout_ms
    bool rollover_on_503 = false;
    bool rollover_on_icmp = true;
    uint32_t t1_ms = 500;
    uint32_t t2_ms = 4000;
};
KnobError validate(const AudioCodesTiming& a) noexcept;
/// RFC 3261 retransmissions; one no-response timeout per server, then the next
/// server; after the last server's timeout the walk ends.
RetryPolicy make_policy(const AudioCodesTiming& a, RequestKind kind) noexcept;

// ---- the walk ----------------------------------------------------------------

/// Why a request left a server or the walk ended.
enum class RetryReason : uint8_t { none = 0, timeout, rejected_503, transport_error };

enum class RetryStep : uint8_t {
    none,      // nothing to do now
    send,      // (re)transmit to `server`; attempt 1 is the first send to it
    rollover,  // left `from` for `server`: send attempt 1 there with a new branch
    give_up,   // the walk is over without a final response (`reason`)
};

struct RetryAction {
    RetryStep step = RetryStep::none;
    RetryReason reason = RetryReason::none;  // rollover / give_up
    uint16_t server = 0;                     // send / rollover: destination index
    uint16_t attempt = 0;                    // send / rollover: 1-based count to `server`
    uint16_t from = 0;                       // rollover: the server left
};

/// One request's walk over servers [first, count) of a trunk's list.
/// Owned by one client transaction on one core; 80 bytes.
/// Times are absolute Millis; the state never reads a clock. Sends happen at
/// the `now` given, and the next wait is measured from it (RFC 3261 timers are
/// set when the message is sent), so a late timer shifts later sends but never
/// the per-server or walk deadlines.
class RetryState {
public:
    /// Sets up a walk; <count> ≥ 1, <first> < <count>. <reliable>: TCP/TLS, no
    /// retransmissions (RFC 3261 §17.1.1.2), per-server wait from the policy.
    void init(const RetryPolicy& p, RequestKind kind, bool reliable, uint16_t count,
              uint16_t first = 0) noexcept;
    /// After init(): which servers are reliable, bit s for server s (a walk
    /// that mixes UDP and TCP/TLS servers, issue 14); servers 16 and up are not.
    void set_reliable_mask(uint16_t mask) noexcept {
        reliable_mask_ = mask;
        reliable_ = reliable_at(server_);
    }
    bool reliable_at(uint16_t s) const noexcept { return s < 16 && (reliable_mask_ >> s & 1); }
    /// First send to the first server at <now>: returns send(first, 1).
    RetryAction start(Millis now) noexcept;
    /// Timer expiry. Before next_deadline() it returns none (spurious or early
    /// wake-up); at or after it: a retransmission, a rollover or give_up.
    RetryAction on_timer(Millis now) noexcept;
    /// A 503 from the current server. With retry_on_503 and a next server:
    /// rollover(rejected_503). Otherwise none: the 503 is a final response.
    RetryAction on_503(Millis now) noexcept;
    /// ICMP unreachable for the current server. With retry_on_icmp: rollover,
    /// or give_up(transport_error) on the last server. Ignored once the server
    /// has answered, or without the flag.
    RetryAction on_icmp(Millis now) noexcept;
    /// The current server cannot be reached over its connection (TCP connect
    /// refused or timed out, TLS handshake or certificate refused: seed P "a
    /// failed TCP connection" fails the route): rollover, or
    /// give_up(transport_error) on the last server, whatever retry_on_icmp
    /// says. Ignored once the server has answered.
    RetryAction on_transport_error(Millis now) noexcept;
    /// The current server answered a provisional and then nothing (INVITE:
    /// the trunk's provisional-timeout after a bare 100 Trying): rollover
    /// (timeout) to the next server; none on the last one or once done.
    RetryAction on_stalled(Millis now) noexcept;
    /// A provisional response: the server is alive, no more rollover. INVITE:
    /// no more retransmissions (§17.1.1.2 Proceeding). Non-INVITE: retransmit
    /// every T2 until this server's Timer F (§17.1.2.2), bounded by the walk
    /// timeout unless enhanced.
    void on_provisional(Millis now) noexcept;
    /// A final response or the owner gave up: nothing more is scheduled.
    void stop() noexcept;

    /// The next time on_timer() has work; never_ms when none.
    Millis next_deadline() const noexcept { return done_ ? never_ms : deadline_; }
    /// Whether next_deadline() is the end of this server's turn (rollover or
    /// give-up) rather than a retransmission.
    bool deadline_is_end() const noexcept { return deadline_ >= end_; }
    /// Whether the end of this server's turn ends the walk (no rollover).
    bool end_final() const noexcept { return end_final_ || last_server(); }
    uint16_t server() const noexcept { return server_; }
    uint16_t attempt() const noexcept { return attempt_; }
    uint16_t server_count() const noexcept { return count_; }
    bool last_server() const noexcept { return server_ + 1u >= count_; }
    bool provisional() const noexcept { return provisional_; }
    bool done() const noexcept { return done_; }
    Millis walk_start() const noexcept { return walk_start_; }
    const RetryPolicy& policy() const noexcept { return p_; }

private:
    RetryAction enter_server(uint16_t s, Millis now, RetryStep step, RetryReason why) noexcept;
    void schedule_after_send(Millis now) noexcept;
    uint32_t grow(uint32_t w) const noexcept;
    Millis walk_deadline() const noexcept;

    RetryPolicy p_;
    Millis walk_start_ = 0;
    Millis server_start_ = 0;
    Millis end_ = never_ms;       // end of the current server's turn
    Millis deadline_ = never_ms;  // next send, or end_
    uint32_t wait_ = 0;           // wait after the latest send
    uint16_t server_ = 0;
    uint16_t count_ = 1;
    uint16_t attempt_ = 0;
    RequestKind kind_ = RequestKind::invite;
    // Flags as bits: the state fits 80 bytes (ClientTxn's budget).
    bool reliable_ : 1 = false;       // the current server's bit of reliable_mask_
    bool rfc_backoff_ : 1 = false;    // current server uses T1 doubling capped at T2
    bool end_final_ : 1 = false;      // end_ gives up instead of rolling over
    bool provisional_ : 1 = false;
    bool done_ : 1 = true;
    uint16_t reliable_mask_ = 0;  // bit s: server s is reached over TCP/TLS
};
static_assert(std::is_trivially_copyable_v<RetryState> && sizeof(RetryState) <= 96);

/// Sum of the first <n> waits of <p>'s per-server schedule (saturating), i.e.
/// the time from the first send to a server until attempts_per_server = n is
/// used up: seed C a·(2ⁿ − 1), seed P 0.5 + 1 + 2 = 3.5 s.
Millis schedule_total_ms(const RetryPolicy& p, uint32_t n, bool rfc_backoff = false) noexcept;

}  // namespace sipedge::failover
