#pragma once
// RFC 3261 §17 transaction state machines with RFC 6026's Accepted state, as
// used by a stateful proxy: ClientTxn sends a request downstream and walks the
// trunk's server list (failover::RetryState decides retransmissions and
// rollover), ServerTxn answers the upstream side. Tombstone is what a
// completed transaction shrinks to while it only absorbs retransmissions.
//
// Time and I/O are injected: every entry point takes `now` and appends
// TxnActions to a TxnOut; the worker executes them (send, deliver to the
// proxy core, arm the transaction's one timer, free it). No DPDK, no
// allocation, no exceptions. One transaction has at most one armed timer: an
// arm_timer action replaces the previous one (its `timer` names the RFC timer
// that is due first), and on_timer() before that deadline only re-arms it, so
// a wheel with a short horizon may fire early.
//
// Memory (DESIGN.md budgets): ClientTxn 136 bytes (≤ 160 asserted), ServerTxn
// 72 (≤ 80), Tombstone 16; all ≤ 256 bytes and trivially copyable so a pool slot
// holds them by value. Retained messages (request for retransmission, last
// response, ACK) are the worker's buffers, referred to by opaque handles.

#include <cstdint>
#include <type_traits>

#include "dataplane/branch.h"
#include "failover/retry_policy.h"
#include "sipparse/types.h"

namespace sipedge::dp {

using failover::Millis;
using failover::never_ms;

/// RFC 3261 §17 / RFC 6026 timers, plus the seeds' per-server rollover.
enum class TimerKind : uint8_t {
    none = 0,
    a, b, d,           // INVITE client: retransmit, timeout, linger in Completed
    e, f, k,           // non-INVITE client
    g, h, i,           // INVITE server: response retransmit, wait for ACK, linger in Confirmed
    j,                 // non-INVITE server linger
    l, m,              // RFC 6026 Accepted: server (L) and client (M)
    rollover,          // seed timers: this server's turn ends, next server follows
    c,                 // proxy INVITE (§16.6 step 11, §16.8): no final response in time
    provisional,       // INVITE: the trunk's provisional-timeout after a provisional
};
const char* timer_name(TimerKind k) noexcept;

enum class TxnActKind : uint8_t {
    send_request,   // client: (re)transmit the request to `server`; attempt 1 = first send there
    send_ack,       // client INVITE: hop-by-hop ACK for a non-2xx final to `server` (§17.1.1.3)
    send_response,  // server: (re)send the response with `status` upstream
    send_trying,    // server INVITE: generate a 100 Trying upstream (§17.2.1)
    deliver,        // pass the message (`status` for responses, 0 for requests) to the proxy core
    arm_timer,      // the transaction's one timer: `timer` at `deadline` (replaces any earlier)
    disarm_timer,   // no timer pending
    rollover,       // client: left `from` for `server` (`reason`); report to control as a ServerEvent
    retire_branch,  // client: the branch with `attempt` at `server` lingers as a tombstone of kind
                    // `timer` (d: re-ACK retransmitted finals, k: absorb) until `deadline`
    cancel_ready,   // client INVITE: the TU asked to CANCEL and a provisional arrived: send the
                    // CANCEL (same branch) to `server` now (§9.1)
    failed,         // no final response (`reason`): the proxy core answers upstream (408/503/487)
    terminated,     // the transaction is over: free it (or keep its tombstone)
};
const char* act_name(TxnActKind k) noexcept;

enum class TxnReason : uint8_t {
    none = 0,
    timeout,          // Timer B/F or the seed's retry budget
    rejected_503,     // 503 with rollover on 503
    transport_error,  // ICMP unreachable / send failure (§17.1.4, §17.2.4)
    cancelled,        // the TU cancelled before a server answered
    no_ack,           // INVITE server: Timer H fired without an ACK (§17.2.1)
    timer_c,          // INVITE client: Timer C fired (§16.8; the server had answered, or the
                      // walk outlasted it): not a server failure
    provisional_timeout,  // INVITE client: no final within the trunk's provisional-timeout
                          // after a provisional (cancel_ready: CANCEL that branch; failed: 408)
};

struct TxnAction {
    TxnActKind kind = TxnActKind::terminated;
    TimerKind timer = TimerKind::none;
    TxnReason reason = TxnReason::none;
    bool retransmit = false;    // send_request/send_response: a repeat of an earlier send
    uint16_t server = 0;        // client: destination server index
    uint16_t from = 0;          // rollover: server left
    uint16_t attempt = 0;       // send_request: per-server count; retire_branch: branch attempt
    uint16_t status = 0;        // send_response/deliver: response status
    Millis deadline = never_ms; // arm_timer / retire_branch
};
static_assert(std::is_trivially_copyable_v<TxnAction> && sizeof(TxnAction) == 24);

/// Actions from one call; never more than `capacity` (a 503 rollover is the
/// longest: send_ack, retire_branch, rollover, send_request, arm_timer = 5).
struct TxnOut {
    static constexpr uint8_t capacity = 8;
    TxnAction a[capacity];
    uint8_t n = 0;

    void clear() noexcept { n = 0; }
    void push(const TxnAction& x) noexcept {
        if (n < capacity) a[n++] = x;  // capacity is proven by the state machines' longest path
    }
    const TxnAction* begin() const noexcept { return a; }
    const TxnAction* end() const noexcept { return a + n; }
};

/// RFC 3261 base timers for the server side and for linger times.
struct TxnTimers {
    uint32_t t1_ms = 500;   // §17.1.1.1
    uint32_t t2_ms = 4000;
    uint32_t t4_ms = 5000;  // max time a message stays in the network
};

// ---- client -------------------------------------------------------------------

enum class ClientState : uint8_t {
    idle = 0,
    calling,     // INVITE, no response yet (Timers A/B, rollover)
    trying,      // non-INVITE, no response yet (Timers E/F, rollover)
    proceeding,  // provisional received
    completed,   // non-2xx final (INVITE: Timer D) / any final (non-INVITE: Timer K)
    accepted,    // RFC 6026 §8.4: INVITE 2xx received (Timer M)
    terminated,
};
const char* state_name(ClientState s) noexcept;

class ClientTxn {
public:
    struct Setup {
        failover::RetryPolicy policy;  // a copy: the snapshot may be replaced meanwhile
        sip::Method method = sip::Method::invite;
        failover::RequestKind kind = failover::RequestKind::invite;
        bool reliable = false;          // TCP/TLS: no retransmissions, D/K = 0
        uint16_t reliable_mask = 0;     // nonzero: per walk position instead (bit s: TCP/TLS)
        uint16_t server_count = 1;      // servers in the trunk's current table
        uint16_t first_server = 0;
        uint32_t t4_ms = 5000;
        BranchId branch;                // attempt 0; +1 on every rollover
        uint32_t trunk_id = 0;
        uint32_t list_epoch = 0;
        uint32_t timer_c_ms = 0;        // INVITE: proxy Timer C (> 3 min by §16.6); 0 = none
        uint32_t provisional_timeout_ms = 0;  // INVITE: no final this long after a provisional:
                                              // CANCEL; roll over after a bare 100, else 408; 0 = off
    };

    /// Sends the request to the first server and arms the first timer.
    /// Timer C (INVITE, timer_c_ms set): runs from start() and restarts on
    /// every 101-199 (§16.7 step 2). When it fires after a provisional, the
    /// TU gets cancel_ready (reason timer_c) and the transaction waits one
    /// more 64*T1 for the final response (the 487) before it fails with
    /// timer_c; before any provisional it fails at once (§16.8: as if a 408
    /// had arrived).
    /// Accepts any Setup whose policy passes failover::validate(); ACK is not
    /// a transaction (§17.1) and is refused by going straight to terminated.
    void start(const Setup& s, Millis now, TxnOut& out) noexcept;
    /// A response whose client key matched the current branch (§17.1.3).
    void on_response(uint16_t status, Millis now, TxnOut& out) noexcept;
    /// The transaction's timer fired (possibly early: then it is re-armed).
    void on_timer(Millis now, TxnOut& out) noexcept;
    /// ICMP unreachable (or a send failure) for the current server.
    void on_icmp(Millis now, TxnOut& out) noexcept;
    /// The connection to the current server failed (TCP/TLS, issue 14): as
    /// on_icmp(), but a rollover whatever the policy says about ICMP.
    void on_transport_error(Millis now, TxnOut& out) noexcept;
    /// The TU wants this INVITE cancelled (§9.1): cancel_ready now if a
    /// provisional was received, else when one arrives; no rollover any more.
    void on_cancel_request(Millis now, TxnOut& out) noexcept;

    ClientState state() const noexcept { return st_; }
    /// Branch of the current server (attempt = rollovers so far).
    const BranchId& branch() const noexcept { return branch_; }
    uint16_t server() const noexcept { return retry_.server(); }
    sip::Method method() const noexcept { return method_; }
    /// The current server is reached over TCP/TLS.
    bool reliable() const noexcept { return retry_.reliable_at(retry_.server()); }
    uint32_t trunk_id() const noexcept { return trunk_id_; }
    uint32_t list_epoch() const noexcept { return list_epoch_; }
    uint16_t last_status() const noexcept { return last_status_; }
    Millis deadline() const noexcept { return armed_at_; }
    /// End of Timer D/K/M once completed/accepted; never_ms before.
    Millis linger_until() const noexcept { return linger_until_; }
    const failover::RetryState& retry() const noexcept { return retry_; }
    /// Opaque handle of the worker's retained copy of the request.
    uint32_t buf = 0;

private:
    void handle_retry(const failover::RetryAction& r, Millis now, TxnOut& out) noexcept;
    void complete(uint16_t status, Millis now, TxnOut& out) noexcept;
    void fail(TxnReason why, TxnOut& out) noexcept;
    void rearm(TxnOut& out, bool force = false) noexcept;
    Millis next_deadline(TimerKind& kind) const noexcept;
    bool invite() const noexcept { return method_ == sip::Method::invite; }

    failover::RetryState retry_;
    Millis linger_until_ = never_ms;  // Timer D / K / M
    Millis armed_at_ = never_ms;
    BranchId branch_;
    uint32_t trunk_id_ = 0;
    uint32_t t4_ms_ = 5000;
    uint16_t last_status_ = 0;
    ClientState st_ = ClientState::idle;
    sip::Method method_ = sip::Method::unknown;
    bool cancel_pending_ = false;
    bool c_fired_ = false;            // Timer C fired once (CANCEL sent)
    bool ringing_ = false;            // a 101-199 came on this branch (not only 100 Trying)
    uint32_t list_epoch_ = 0;
    uint32_t timer_c_ms_ = 0;
    uint32_t prov_ms_ = 0;            // provisional-timeout (INVITE); 0 = off
    Millis c_at_ = never_ms;          // Timer C's deadline (INVITE)
    Millis prov_at_ = never_ms;       // provisional-timeout's deadline, from the latest provisional
};
static_assert(std::is_trivially_copyable_v<ClientTxn> && sizeof(ClientTxn) <= 160);

/// Setup of the CANCEL for <invite> (§9.1): same branch, same server, no
/// rollover, RFC 3261 non-INVITE timers from <invite>'s policy.
ClientTxn::Setup cancel_setup(const ClientTxn& invite, uint32_t t4_ms = 5000) noexcept;

// ---- server -------------------------------------------------------------------

enum class ServerState : uint8_t {
    idle = 0,
    trying,      // non-INVITE, nothing sent yet
    proceeding,  // provisional sent (INVITE starts here)
    completed,   // final sent (INVITE non-2xx: Timers G/H; non-INVITE: Timer J)
    confirmed,   // INVITE: ACK received (Timer I)
    accepted,    // RFC 6026 §7.1: INVITE 2xx sent (Timer L)
    terminated,
};
const char* state_name(ServerState s) noexcept;

class ServerTxn {
public:
    struct Setup {
        sip::Method method = sip::Method::invite;
        bool reliable = false;
        bool send_trying = true;  // §17.2.1: 100 Trying at once (a proxy cannot promise 200 ms)
        TxnTimers timers;
        uint32_t req_to_tag = 0;  // TxnKey::to_tag of the creating request (RFC 2543 matching)
        uint32_t trunk_id = 0;
    };

    /// A new request: delivers it to the TU, and for INVITE sends 100 Trying.
    void start(const Setup& s, Millis now, TxnOut& out) noexcept;
    /// A request matched to this transaction by its server key: a retransmission
    /// (answered here, never reaching the client side) or, for INVITE, an ACK.
    void on_request(sip::Method m, Millis now, TxnOut& out) noexcept;
    /// The TU sends a response with <status>; <to_tag> is TxnKey-style hash of
    /// its To tag (RFC 2543 ACK matching), 0 if none.
    void respond(uint16_t status, Millis now, TxnOut& out, uint32_t to_tag = 0) noexcept;
    void on_timer(Millis now, TxnOut& out) noexcept;
    /// Sending a response failed (§17.2.4): the transaction ends.
    void on_transport_error(Millis now, TxnOut& out) noexcept;

    /// RFC 2543 fallback (§17.2.3): whether a request whose key carries
    /// <key_to_tag> belongs here: an ACK must carry our response's To tag, an
    /// INVITE retransmission the original one. RFC 3261 keys always pass.
    bool accepts_2543(sip::Method m, uint32_t key_to_tag) const noexcept;
    /// §9.2: a CANCEL for this INVITE has effect only in Proceeding.
    bool cancellable() const noexcept {
        return method_ == sip::Method::invite && st_ == ServerState::proceeding;
    }

    ServerState state() const noexcept { return st_; }
    sip::Method method() const noexcept { return method_; }
    uint16_t last_status() const noexcept { return last_status_; }
    Millis deadline() const noexcept { return armed_at_; }
    /// End of Timer H/I/J/L once completed/confirmed/accepted; never_ms before.
    Millis linger_until() const noexcept { return end_at_; }
    uint32_t trunk_id() const noexcept { return trunk_id_; }
    /// Opaque handle of the worker's copy of the last response sent.
    uint32_t buf = 0;

private:
    void rearm(TxnOut& out, bool force = false) noexcept;
    void terminate(TxnOut& out) noexcept;
    bool invite() const noexcept { return method_ == sip::Method::invite; }

    Millis resend_at_ = never_ms;  // Timer G
    Millis end_at_ = never_ms;     // Timer H / I / J / L
    Millis armed_at_ = never_ms;
    TxnTimers timers_;
    uint32_t g_interval_ = 0;
    uint32_t req_to_tag_ = 0;
    uint32_t rsp_to_tag_ = 0;
    uint32_t trunk_id_ = 0;
    uint16_t last_status_ = 0;
    ServerState st_ = ServerState::idle;
    sip::Method method_ = sip::Method::unknown;
    bool reliable_ = false;
};
static_assert(std::is_trivially_copyable_v<ServerTxn> && sizeof(ServerTxn) <= 80);

// ---- tombstone ----------------------------------------------------------------

/// The state a completed transaction was in; decides what a late message gets.
enum class TombKind : uint8_t {
    client_invite_completed,  // Timer D: re-ACK retransmitted non-2xx finals
    client_invite_accepted,   // Timer M: 2xx retransmissions go to the TU
    client_completed,         // Timer K: absorb
    server_completed,         // Timer J: retransmitted request → resend final response
    server_invite_confirmed,  // Timer I: absorb
    server_invite_accepted,   // Timer L: ACK → TU, INVITE retransmission absorbed
};

enum class TombVerdict : uint8_t {
    expired,  // past `expires`: free it and treat the message as new/stray
    absorb,   // drop silently
    resend,   // resend `buf` (ACK to `server`, or the final response upstream)
    deliver,  // pass to the TU (RFC 6026 Accepted rules)
};

/// A completed transaction that only absorbs retransmissions (16 bytes).
/// The table keeps its key next to it.
struct Tombstone {
    Millis expires = 0;
    uint32_t buf = 0;         // retained ACK or final response, if any
    uint16_t server = 0;      // client side: where the ACK goes
    TombKind kind = TombKind::client_completed;
    uint8_t pad_ = 0;

    /// What to do with a late message matching this key at <now>: a response
    /// with <status>, or a request (status 0) with method <m>.
    TombVerdict on_message(Millis now, uint16_t status, sip::Method m) const noexcept;
};
static_assert(std::is_trivially_copyable_v<Tombstone> && sizeof(Tombstone) == 16);

/// Whether <t> may shrink to a tombstone now (it only absorbs or repeats a
/// retained message until its linger timer), and if so fills <out>.
bool make_tombstone(const ClientTxn& t, Tombstone& out) noexcept;
bool make_tombstone(const ServerTxn& t, Tombstone& out) noexcept;

}  // namespace sipedge::dp
