#include "failover/retry_policy.h"

namespace sipedge::failover {

namespace {

constexpr bool in_range(uint32_t v, uint32_t lo, uint32_t hi) noexcept { return v >= lo && v <= hi; }

constexpr Millis min_ms(Millis a, Millis b) noexcept { return a < b ? a : b; }
constexpr Millis max_ms(Millis a, Millis b) noexcept { return a > b ? a : b; }

// Saturating a + b, so never_ms stays never_ms.
constexpr Millis add_ms(Millis a, Millis b) noexcept { return a > never_ms - b ? never_ms : a + b; }

// RFC 3261 §17.1.1.2 / §17.1.2.2: Timer B and F are 64·T1.
constexpr uint32_t timer_b_ms(uint32_t t1) noexcept { return 64 * t1; }

}  // namespace

const char* knob_error_text(KnobError e) noexcept {
    switch (e) {
    case KnobError::ok: return "ok";
    case KnobError::t1_range: return "T1 must be 50-1000 ms";
    case KnobError::t2_range: return "T2 must be 1000-32000 ms";
    case KnobError::t2_below_t1: return "T2 must not be below T1";
    case KnobError::rollover_range: return "rollover must be 1-32 s";
    case KnobError::rollover_register_range: return "rollover register must be 1-32 s or follow-primary";
    case KnobError::retry_timeout_range: return "retryTimeOut must be 0-65535 ms";
    case KnobError::retry_max_count_range: return "retryMaxCount must be 0-65535";
    case KnobError::tcp_fast_failover_timeout_range: return "tcpFastFailover.timeout must be 2000-5000 ms";
    case KnobError::trying_timer_range: return "SIP Trying Timer must be 100-1000 ms";
    case KnobError::retry_count_range: return "Retry Count for SIP Invite must be 1-10";
    case KnobError::no_response_timeout_range: return "no-response timeout must be 1000-600000 ms";
    case KnobError::policy_zero_wait: return "retransmit waits must be positive";
    case KnobError::policy_unbounded: return "no attempt count, server timeout or walk timeout ends a server's turn";
    case KnobError::policy_last_needs_walk: return "retrying the last server until the walk timeout needs a walk timeout";
    case KnobError::policy_cap_below_first: return "retransmit cap below the first wait";
    case KnobError::count_: break;
    }
    return "unknown";
}

KnobError validate(const RetryPolicy& p) noexcept {
    if (p.t1_ms == 0 || p.first_wait_ms == 0 || p.t2_ms == 0) return KnobError::policy_zero_wait;
    if (p.max_wait_ms != 0 && p.max_wait_ms < p.first_wait_ms) return KnobError::policy_cap_below_first;
    if (p.t2_ms < p.t1_ms) return KnobError::t2_below_t1;
    if (p.attempts_per_server == 0 && p.server_timeout_ms == 0 && p.walk_timeout_ms == 0)
        return KnobError::policy_unbounded;
    if ((p.flags & retry_last_until_walk_timeout) && p.walk_timeout_ms == 0)
        return KnobError::policy_last_needs_walk;
    return KnobError::ok;
}

RetryPolicy rfc3261_policy(uint32_t t1_ms, uint32_t t2_ms, RequestKind kind) noexcept {
    RetryPolicy p;
    p.t1_ms = t1_ms;
    p.t2_ms = t2_ms;
    p.first_wait_ms = t1_ms;
    // §17.1.1.2: Timer A doubles without bound; §17.1.2.2: Timer E stops at T2.
    p.max_wait_ms = kind == RequestKind::invite ? 0 : t2_ms;
    p.walk_timeout_ms = timer_b_ms(t1_ms);
    p.flags = retry_on_icmp;
    p.backoff = Backoff::doubling;
    return p;
}

// ---- seed A -------------------------------------------------------------------

KnobError validate(const AdtranTimers& a) noexcept {
    if (!in_range(a.t1_ms, 50, 1000)) return KnobError::t1_range;        // seed A: 50–1000 ms
    if (!in_range(a.t2_ms, 1000, 32000)) return KnobError::t2_range;     // seed A: 1000–32000 ms
    if (!in_range(a.rollover_s, 1, 32)) return KnobError::rollover_range;  // seed A: 1–32 s
    if (a.rollover_register_s != 0 && !in_range(a.rollover_register_s, 1, 32))
        return KnobError::rollover_register_range;
    return KnobError::ok;
}

RetryPolicy make_policy(const AdtranTimers& a, RequestKind kind) noexcept {
    RetryPolicy p = rfc3261_policy(a.t1_ms, a.t2_ms, kind);
    p.flags = uint8_t((a.rollover_on_503 ? retry_on_503 : 0) | (a.rollover_on_icmp ? retry_on_icmp : 0));
    if (kind == RequestKind::other) return p;  // seed A: the rollover timer is for INVITE/REGISTER
    // seed A: "the time within which a response to an INVITE or REGISTER request
    // must be received before the request rolls over to the next IP address".
    const uint32_t reg = a.rollover_register_s ? a.rollover_register_s : a.rollover_s;  // follow-primary
    p.server_timeout_ms = 1000 * (kind == RequestKind::register_ ? reg : a.rollover_s);
    // Not in seed A: with no server left the transaction runs to Timer B/F
    // (RFC 3261), counted from the first send as in seed P.
    p.flags |= retry_last_until_walk_timeout;
    return p;
}

// ---- seed P -------------------------------------------------------------------

KnobError validate(const PolyTiming& p) noexcept {
    if (p.retry_timeout_ms > 65535) return KnobError::retry_timeout_range;
    if (p.retry_max_count > 65535) return KnobError::retry_max_count_range;
    if (!in_range(p.tcp_fast_failover_timeout_ms, 2000, 5000))
        return KnobError::tcp_fast_failover_timeout_range;
    if (!in_range(p.t1_ms, 50, 1000)) return KnobError::t1_range;
    if (!in_range(p.t2_ms, 1000, 32000)) return KnobError::t2_range;
    if (p.t2_ms < p.t1_ms) return KnobError::t2_below_t1;
    return KnobError::ok;
}

RetryPolicy make_policy(const PolyTiming& pt, RequestKind) noexcept {
    RetryPolicy p;
    p.t1_ms = pt.t1_ms;
    p.t2_ms = pt.t2_ms;
    if (pt.retry_timeout_ms == 0) {
        // seed P: retryTimeOut 0 = "RFC 3261 defined exponential backoff timers
        // (0.5 s, 1 s, 2 s, 4 s, 4 s, 4 s, etc.)" for every request type.
        p.backoff = Backoff::doubling;
        p.first_wait_ms = pt.t1_ms;
        p.max_wait_ms = pt.t2_ms;
    } else {
        p.backoff = Backoff::fixed;  // seed P example 2: "5 seconds wait after each attempt"
        p.first_wait_ms = pt.retry_timeout_ms;
        p.max_wait_ms = 0;
    }
    // seed P: retryMaxCount attempts per server. 0 is in the seed's range but
    // would never fail over; Poly's admin guide reads it as 3.
    p.attempts_per_server = uint16_t(pt.retry_max_count == 0 ? 3 : pt.retry_max_count);
    // seed P: "the complete 32-second transaction period since the original
    // request to the primary SBC" = Timer B/F.
    p.walk_timeout_ms = timer_b_ms(pt.t1_ms);
    p.flags = uint8_t(retry_last_until_walk_timeout | retry_last_rfc_backoff |
                      (pt.enhanced ? retry_enhanced : 0) |
                      (pt.failover_on_503 ? retry_on_503 : 0) |
                      (pt.rollover_on_icmp ? retry_on_icmp : 0));
    // seed P, TCP/TLS: tcpFastFailover.timeout "only applies when retryTimeOut=0";
    // retryTimeOut 0 without it waits for Timer B; retryTimeOut != 0 keeps the
    // pre-6.4 rule retryMaxCount·retryTimeOut (the unreliable budget, so 0 here).
    if (pt.retry_timeout_ms == 0)
        p.reliable_timeout_ms = pt.tcp_fast_failover ? pt.tcp_fast_failover_timeout_ms
                                                     : timer_b_ms(pt.t1_ms);
    return p;
}

// ---- seed C -------------------------------------------------------------------

KnobError validate(const CiscoTiming& c) noexcept {
    // Ranges are not in seed C; these are CUCM's service-parameter limits.
    if (!in_range(c.trying_timer_ms, 100, 1000)) return KnobError::trying_timer_range;
    if (!in_range(c.retry_count, 1, 10)) return KnobError::retry_count_range;
    if (!in_range(c.t1_ms, 50, 1000)) return KnobError::t1_range;
    if (!in_range(c.t2_ms, 1000, 32000)) return KnobError::t2_range;
    return KnobError::ok;
}

RetryPolicy make_policy(const CiscoTiming& c, RequestKind kind) noexcept {
    RetryPolicy p = rfc3261_policy(c.t1_ms, c.t2_ms, kind);
    p.flags = uint8_t((c.rollover_on_503 ? retry_on_503 : 0) | (c.rollover_on_icmp ? retry_on_icmp : 0));
    if (kind != RequestKind::invite) return p;  // seed C: "Retry Count for SIP Invite"
    // seed C: delays ~500 ms, 1, 2, 4, 8, 16 s, then ~32 s to the next gateway:
    // n = retries + 1 sends, total a·(2ⁿ − 1) = 63.5 s; no Timer B cuts it.
    p.first_wait_ms = c.trying_timer_ms;
    p.max_wait_ms = 0;
    p.attempts_per_server = uint16_t(c.retry_count + 1);
    p.walk_timeout_ms = 0;
    return p;
}

// ---- seed AC ------------------------------------------------------------------

KnobError validate(const AudioCodesTiming& a) noexcept {
    // Range not in seed AC (default 32000); chosen to keep one turn ≤ 10 min.
    if (!in_range(a.no_response_timeout_ms, 1000, 600000)) return KnobError::no_response_timeout_range;
    if (!in_range(a.t1_ms, 50, 1000)) return KnobError::t1_range;
    if (!in_range(a.t2_ms, 1000, 32000)) return KnobError::t2_range;
    return KnobError::ok;
}

RetryPolicy make_policy(const AudioCodesTiming& a, RequestKind kind) noexcept {
    RetryPolicy p = rfc3261_policy(a.t1_ms, a.t2_ms, kind);
    p.flags = uint8_t((a.rollover_on_503 ? retry_on_503 : 0) | (a.rollover_on_icmp ? retry_on_icmp : 0));
    // seed AC: "if it isn't responsive in n time ... it goes to the second, etc."
    p.server_timeout_ms = a.no_response_timeout_ms;
    p.walk_timeout_ms = 0;
    return p;
}

// ---- the walk -----------------------------------------------------------------

Millis schedule_total_ms(const RetryPolicy& p, uint32_t n, bool rfc_backoff) noexcept {
    Millis w = rfc_backoff ? p.t1_ms : p.first_wait_ms;
    if (!rfc_backoff && p.backoff == Backoff::fixed) return Millis(n) * w;
    const Millis cap = rfc_backoff ? p.t2_ms : p.max_wait_ms;
    Millis total = 0;
    for (uint32_t k = 1; k <= n; k++) {
        total += w;
        if (cap != 0 && w >= cap) return total + Millis(n - k) * cap;  // linear from here
        if (total > (Millis(1) << 44)) return never_ms;                  // ~557 years: saturate
        w = 2 * w;
        if (cap != 0 && w > cap) w = cap;
    }
    return total;
}

uint32_t RetryState::grow(uint32_t w) const noexcept {
    // §17.1.2.2: in Proceeding a non-INVITE retransmits every T2.
    if (provisional_) return p_.t2_ms;
    if (rfc_backoff_) return w >= p_.t2_ms / 2 ? p_.t2_ms : 2 * w;
    if (p_.backoff == Backoff::fixed) return w;
    const uint64_t d = 2 * uint64_t(w);
    if (p_.max_wait_ms != 0 && d > p_.max_wait_ms) return p_.max_wait_ms;
    return d > 0x7fffffffu ? 0x7fffffffu : uint32_t(d);
}

Millis RetryState::walk_deadline() const noexcept {
    return p_.walk_timeout_ms ? walk_start_ + p_.walk_timeout_ms : never_ms;
}

void RetryState::init(const RetryPolicy& p, RequestKind kind, bool reliable, uint16_t count,
                      uint16_t first) noexcept {
    p_ = p;
    kind_ = kind;
    reliable_mask_ = reliable ? 0xffff : 0;
    reliable_ = reliable;
    count_ = count ? count : 1;
    server_ = first < count_ ? first : 0;
    attempt_ = 0;
    done_ = true;  // until start()
    provisional_ = false;
    end_ = deadline_ = never_ms;
}

RetryAction RetryState::start(Millis now) noexcept {
    walk_start_ = now;
    done_ = false;
    return enter_server(server_, now, RetryStep::send, RetryReason::none);
}

// Moves the walk to server <s> at <now> and sends attempt 1 there. Computes
// when this server's turn ends (per-server budget, walk timeout, last-server
// rules) and whether that end rolls over or gives up.
RetryAction RetryState::enter_server(uint16_t s, Millis now, RetryStep step, RetryReason why) noexcept {
    const uint16_t from = server_;
    server_ = s;
    reliable_ = reliable_at(s);
    attempt_ = 1;
    server_start_ = now;
    provisional_ = false;
    const bool last = s + 1u >= count_;
    const bool until_walk = last && (p_.flags & retry_last_until_walk_timeout);
    rfc_backoff_ = last && (p_.flags & retry_last_rfc_backoff);
    wait_ = rfc_backoff_ ? p_.t1_ms : p_.first_wait_ms;

    // This server's own budget.
    Millis budget = never_ms;
    if (reliable_ && p_.reliable_timeout_ms) {
        budget = now + p_.reliable_timeout_ms;
    } else if (p_.attempts_per_server || p_.server_timeout_ms) {
        if (p_.attempts_per_server)
            budget = add_ms(now, schedule_total_ms(p_, p_.attempts_per_server, rfc_backoff_));
        if (p_.server_timeout_ms) budget = min_ms(budget, now + p_.server_timeout_ms);
    } else if (p_.walk_timeout_ms) {
        budget = now + p_.walk_timeout_ms;  // a per-server Timer B/F
    }
    const Millis walk = walk_deadline();
    const bool enhanced = p_.flags & retry_enhanced;
    if (until_walk) {
        // seed P: the final route is retried until 32 s after the first send;
        // enhanced: and, if it is reached later, for at least its own budget.
        end_ = enhanced ? max_ms(walk, budget) : walk;
        end_final_ = true;
    } else if (enhanced) {
        end_ = budget;  // seed P enhanced: Timer B never ends the walk early
        end_final_ = last;
    } else {
        end_ = min_ms(budget, walk);
        end_final_ = last || walk <= budget;
    }
    schedule_after_send(now);

    RetryAction a;
    a.step = step;
    a.reason = why;
    a.server = s;
    a.attempt = 1;
    a.from = from;
    return a;
}

// After a send at <now>: the next retransmission if one fits before the end of
// this server's turn (and its attempt count allows it), else the end.
void RetryState::schedule_after_send(Millis now) noexcept {
    deadline_ = end_;
    if (reliable_) return;  // RFC 3261 §17.1.1.2: no retransmission over TCP/TLS
    const bool until_walk = last_server() && (p_.flags & retry_last_until_walk_timeout);
    const bool count_ok = provisional_ || until_walk || p_.attempts_per_server == 0 ||
                          attempt_ < p_.attempts_per_server;
    const Millis next = add_ms(now, wait_);
    if (count_ok && next < end_) deadline_ = next;
}

RetryAction RetryState::on_timer(Millis now) noexcept {
    RetryAction a;
    if (done_ || now < deadline_) return a;
    if (now >= end_) {
        if (end_final_ || last_server()) {
            done_ = true;
            a.step = RetryStep::give_up;
            a.reason = RetryReason::timeout;
            a.server = server_;
            a.attempt = attempt_;
            a.from = server_;
            return a;
        }
        return enter_server(uint16_t(server_ + 1), now, RetryStep::rollover, RetryReason::timeout);
    }
    attempt_++;
    wait_ = grow(wait_);
    schedule_after_send(now);
    a.step = RetryStep::send;
    a.server = server_;
    a.attempt = attempt_;
    a.from = server_;
    return a;
}

RetryAction RetryState::on_503(Millis now) noexcept {
    if (done_ || !(p_.flags & retry_on_503) || last_server()) return {};
    return enter_server(uint16_t(server_ + 1), now, RetryStep::rollover, RetryReason::rejected_503);
}

RetryAction RetryState::on_icmp(Millis now) noexcept {
    if (!(p_.flags & retry_on_icmp)) return {};
    return on_transport_error(now);
}

RetryAction RetryState::on_transport_error(Millis now) noexcept {
    RetryAction a;
    if (done_ || provisional_) return a;
    if (last_server()) {
        done_ = true;
        a.step = RetryStep::give_up;
        a.reason = RetryReason::transport_error;
        a.server = a.from = server_;
        a.attempt = attempt_;
        return a;
    }
    return enter_server(uint16_t(server_ + 1), now, RetryStep::rollover, RetryReason::transport_error);
}

RetryAction RetryState::on_stalled(Millis now) noexcept {
    if (done_ || last_server()) return {};
    return enter_server(uint16_t(server_ + 1), now, RetryStep::rollover, RetryReason::timeout);
}

void RetryState::on_provisional(Millis now) noexcept {
    if (done_) return;
    provisional_ = true;
    if (kind_ == RequestKind::invite) {
        // §17.1.1.2: Proceeding stops Timer A and Timer B; the TU (proxy Timer C)
        // decides how long to wait for a final response.
        end_ = deadline_ = never_ms;
        end_final_ = true;
        return;
    }
    // §17.1.2.2: Timer F keeps running for this server's transaction.
    Millis end = add_ms(server_start_, timer_b_ms(p_.t1_ms));
    if (!(p_.flags & retry_enhanced)) end = min_ms(end, walk_deadline());
    const bool pending_send = deadline_ < end_;
    end_ = end;
    end_final_ = true;
    if (reliable_) {
        deadline_ = end_;
    } else {
        // The pending Timer E keeps its time; the following ones wait T2.
        if (!pending_send) {
            wait_ = p_.t2_ms;
            deadline_ = now + p_.t2_ms;
        }
        if (deadline_ > end_) deadline_ = end_;
    }
}

void RetryState::stop() noexcept {
    done_ = true;
    deadline_ = never_ms;
}

}  // namespace sipedge::failover
