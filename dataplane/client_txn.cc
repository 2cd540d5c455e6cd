// Client transactions (RFC 3261 §17.1, RFC 6026 §8.4) driven by the seeds'
// retry-and-rollover model (failover::RetryState).

#include "dataplane/transaction.h"

namespace sipedge::dp {

namespace {

// RFC 3261 §17.1.1.2 Table 4: Timer D ≥ 32 s for unreliable transports, 0 for reliable.
constexpr uint32_t timer_d_ms = 32000;

TxnAction act(TxnActKind k) noexcept {
    TxnAction a;
    a.kind = k;
    return a;
}

TxnReason reason_of(failover::RetryReason r) noexcept {
    switch (r) {
    case failover::RetryReason::timeout: return TxnReason::timeout;
    case failover::RetryReason::rejected_503: return TxnReason::rejected_503;
    case failover::RetryReason::transport_error: return TxnReason::transport_error;
    case failover::RetryReason::none: break;
    }
    return TxnReason::none;
}

bool is_final(uint16_t status) noexcept { return status >= 200; }

}  // namespace

void ClientTxn::start(const Setup& s, Millis now, TxnOut& out) noexcept {
    const uint32_t keep = buf;  // the worker may set the handle before start()
    *this = ClientTxn{};
    buf = keep;
    method_ = s.method;
    branch_ = s.branch;
    trunk_id_ = s.trunk_id;
    list_epoch_ = s.list_epoch;
    t4_ms_ = s.t4_ms;
    if (method_ == sip::Method::ack) {  // §17: ACK for a 2xx is not a transaction
        st_ = ClientState::terminated;
        out.push(act(TxnActKind::terminated));
        return;
    }
    st_ = invite() ? ClientState::calling : ClientState::trying;
    if (invite() && s.timer_c_ms) {
        timer_c_ms_ = s.timer_c_ms;
        c_at_ = now + s.timer_c_ms;  // §16.6 step 11: started when the INVITE is forwarded
    }
    if (invite()) prov_ms_ = s.provisional_timeout_ms;
    retry_.init(s.policy, s.kind, s.reliable, s.server_count, s.first_server);
    if (s.reliable_mask) retry_.set_reliable_mask(s.reliable_mask);
    handle_retry(retry_.start(now), now, out);
    rearm(out);
}

// Turns one RetryState step into wire actions: a (re)transmission, or a move
// to the next server under a new branch, or the end of the walk.
void ClientTxn::handle_retry(const failover::RetryAction& r, Millis now, TxnOut& out) noexcept {
    (void)now;
    switch (r.step) {
    case failover::RetryStep::none:
        return;
    case failover::RetryStep::give_up:
        fail(reason_of(r.reason), out);
        return;
    case failover::RetryStep::rollover: {
        if (cancel_pending_) {  // the TU cancelled: do not start on another server
            fail(TxnReason::cancelled, out);
            return;
        }
        // Per-request rollover: same request and Call-ID, new branch (a new
        // client transaction towards the next server, §17.1 / seed A "rolls over").
        branch_.attempt = uint8_t(branch_.attempt + 1);
        prov_at_ = never_ms;
        ringing_ = false;
        st_ = invite() ? ClientState::calling : ClientState::trying;
        TxnAction a = act(TxnActKind::rollover);
        a.reason = reason_of(r.reason);
        a.from = r.from;
        a.server = r.server;
        a.attempt = branch_.attempt;
        out.push(a);
        [[fallthrough]];
    }
    case failover::RetryStep::send: {
        TxnAction a = act(TxnActKind::send_request);
        a.server = r.server;
        a.attempt = r.attempt;
        a.retransmit = r.attempt > 1;
        a.timer = invite() ? TimerKind::a : TimerKind::e;
        out.push(a);
        return;
    }
    }
}

void ClientTxn::on_response(uint16_t status, Millis now, TxnOut& out) noexcept {
    if (status < 100 || status > 699) return;  // the parser rejects these; be safe
    switch (st_) {
    case ClientState::calling:
    case ClientState::trying:
    case ClientState::proceeding:
        break;
    case ClientState::completed:
        // §17.1.1.2: a retransmitted final in Completed is absorbed and ACKed
        // again; §17.1.2.2: non-INVITE Completed absorbs everything.
        if (invite() && status >= 300) {
            TxnAction a = act(TxnActKind::send_ack);
            a.server = retry_.server();
            a.status = status;
            a.retransmit = true;
            out.push(a);
        }
        return;
    case ClientState::accepted:
        // RFC 6026 §8.4: 2xx retransmissions (or 2xx from other forks) go to the TU.
        if (status >= 200 && status < 300) {
            TxnAction a = act(TxnActKind::deliver);
            a.status = status;
            out.push(a);
        }
        return;
    case ClientState::idle:
    case ClientState::terminated:
        return;
    }

    last_status_ = status;
    if (!is_final(status)) {
        const bool first = st_ != ClientState::proceeding;
        st_ = ClientState::proceeding;
        retry_.on_provisional(now);
        // §16.7 step 2: a 101-199 restarts Timer C (not once it has fired).
        if (timer_c_ms_ && status > 100 && !c_fired_) c_at_ = now + timer_c_ms_;
        // provisional-timeout runs from the latest provisional (not once cancelled).
        if (status > 100) ringing_ = true;
        if (prov_ms_ && !c_fired_ && !cancel_pending_) prov_at_ = now + prov_ms_;
        TxnAction d = act(TxnActKind::deliver);
        d.status = status;
        out.push(d);
        if (first && cancel_pending_) {  // §9.1: the CANCEL waited for this
            TxnAction c = act(TxnActKind::cancel_ready);
            c.server = retry_.server();
            out.push(c);
            cancel_pending_ = false;
        }
        rearm(out);
        return;
    }

    if (status == 503 && !cancel_pending_) {
        // seed A service-unavailable-or-timeout / seed P failoverOn503Response.
        const uint16_t old_server = retry_.server();
        const uint8_t old_attempt = branch_.attempt;
        const failover::RetryAction r = retry_.on_503(now);
        if (r.step == failover::RetryStep::rollover) {
            // The 503 ends the old branch's transaction: ACK it hop by hop
            // (§17.1.1.3) and let a tombstone absorb its retransmissions.
            if (invite()) {
                TxnAction k = act(TxnActKind::send_ack);
                k.server = old_server;
                k.status = status;
                out.push(k);
            }
            const uint32_t linger = retry_.reliable_at(old_server) ? 0 : (invite() ? timer_d_ms : t4_ms_);
            if (linger) {
                TxnAction t = act(TxnActKind::retire_branch);
                t.server = old_server;
                t.attempt = old_attempt;
                t.timer = invite() ? TimerKind::d : TimerKind::k;
                t.deadline = now + linger;
                out.push(t);
            }
            handle_retry(r, now, out);
            rearm(out);
            return;
        }
    }
    complete(status, now, out);
}

// A final response on the current branch: Accepted (INVITE 2xx, RFC 6026) or
// Completed, each lingering for its timer; reliable transports end Completed
// at once (Timer D/K = 0).
void ClientTxn::complete(uint16_t status, Millis now, TxnOut& out) noexcept {
    retry_.stop();
    TxnAction d = act(TxnActKind::deliver);
    d.status = status;
    if (invite() && status < 300) {
        st_ = ClientState::accepted;
        linger_until_ = now + 64ull * retry_.policy().t1_ms;  // RFC 6026 Timer M = 64·T1
        out.push(d);
        rearm(out);
        return;
    }
    if (invite()) {
        TxnAction k = act(TxnActKind::send_ack);  // §17.1.1.3 before passing it up
        k.server = retry_.server();
        k.status = status;
        out.push(k);
    }
    out.push(d);
    st_ = ClientState::completed;
    const uint32_t linger = reliable() ? 0 : (invite() ? timer_d_ms : t4_ms_);
    if (linger == 0) {
        st_ = ClientState::terminated;
        out.push(act(TxnActKind::terminated));
        return;
    }
    linger_until_ = now + linger;
    rearm(out);
}

void ClientTxn::fail(TxnReason why, TxnOut& out) noexcept {
    retry_.stop();
    st_ = ClientState::terminated;
    TxnAction f = act(TxnActKind::failed);
    f.reason = why;
    f.server = retry_.server();
    out.push(f);
    out.push(act(TxnActKind::terminated));
}

void ClientTxn::on_timer(Millis now, TxnOut& out) noexcept {
    switch (st_) {
    case ClientState::calling:
    case ClientState::trying:
    case ClientState::proceeding:
        if (now >= prov_at_ && now < c_at_) {
            // provisional-timeout: the server took the INVITE and went quiet.
            // Its branch is CANCELled (before the rollover re-brands the
            // retained request). After a bare 100 Trying nothing was ringing:
            // the next server gets the call and this one's silence counts as
            // a timeout; after a 101-199 (or on the last server) the caller
            // gets 408.
            prov_at_ = never_ms;
            TxnAction c = act(TxnActKind::cancel_ready);
            c.server = retry_.server();
            c.attempt = branch_.attempt;
            c.reason = TxnReason::provisional_timeout;
            out.push(c);
            const failover::RetryAction r = ringing_ ? failover::RetryAction{} : retry_.on_stalled(now);
            if (r.step != failover::RetryStep::rollover) {
                fail(TxnReason::provisional_timeout, out);
                return;
            }
            handle_retry(r, now, out);
            break;
        }
        if (now >= c_at_) {
            // §16.8: after a provisional, CANCEL and wait (64*T1) for the
            // final; before one, or when that wait is over, give up.
            if (c_fired_ || st_ != ClientState::proceeding) {
                fail(TxnReason::timer_c, out);
                return;
            }
            c_fired_ = true;
            prov_at_ = never_ms;
            c_at_ = now + 64ull * retry_.policy().t1_ms;
            TxnAction c = act(TxnActKind::cancel_ready);
            c.server = retry_.server();
            c.reason = TxnReason::timer_c;
            out.push(c);
            break;
        }
        if (now < retry_.next_deadline()) break;
        handle_retry(retry_.on_timer(now), now, out);
        if (st_ == ClientState::terminated) return;
        break;
    case ClientState::completed:
    case ClientState::accepted:
        if (now < linger_until_) break;
        st_ = ClientState::terminated;  // Timer D/K/M
        out.push(act(TxnActKind::terminated));
        return;
    case ClientState::idle:
    case ClientState::terminated:
        return;
    }
    rearm(out, true);  // the wheel consumed the old timer: always arm afresh
}

void ClientTxn::on_icmp(Millis now, TxnOut& out) noexcept {
    if (st_ != ClientState::calling && st_ != ClientState::trying) return;
    handle_retry(retry_.on_icmp(now), now, out);
    if (st_ != ClientState::terminated) rearm(out);
}

void ClientTxn::on_transport_error(Millis now, TxnOut& out) noexcept {
    if (st_ != ClientState::calling && st_ != ClientState::trying) return;
    handle_retry(retry_.on_transport_error(now), now, out);
    if (st_ != ClientState::terminated) rearm(out);
}

void ClientTxn::on_cancel_request(Millis now, TxnOut& out) noexcept {
    (void)now;
    if (!invite()) return;
    prov_at_ = never_ms;  // the caller ends it: no rollover after this
    if (st_ == ClientState::calling) {
        cancel_pending_ = true;  // §9.1: wait for a provisional before sending CANCEL
    } else if (st_ == ClientState::proceeding) {
        TxnAction c = act(TxnActKind::cancel_ready);
        c.server = retry_.server();
        out.push(c);
    }
}

Millis ClientTxn::next_deadline(TimerKind& kind) const noexcept {
    kind = TimerKind::none;
    switch (st_) {
    case ClientState::calling:
    case ClientState::trying:
    case ClientState::proceeding: {
        const Millis d = retry_.next_deadline();
        if (prov_at_ <= d && prov_at_ < c_at_) {  // never_ms unless after a provisional
            kind = TimerKind::provisional;
            return prov_at_;
        }
        if (c_at_ <= d) {  // never_ms unless an INVITE with Timer C
            if (c_at_ != never_ms) kind = TimerKind::c;
            return c_at_;
        }
        if (!retry_.deadline_is_end()) kind = invite() ? TimerKind::a : TimerKind::e;
        else if (retry_.end_final()) kind = invite() ? TimerKind::b : TimerKind::f;
        else kind = TimerKind::rollover;
        return d;
    }
    case ClientState::completed:
        kind = invite() ? TimerKind::d : TimerKind::k;
        return linger_until_;
    case ClientState::accepted:
        kind = TimerKind::m;
        return linger_until_;
    case ClientState::idle:
    case ClientState::terminated:
        break;
    }
    return never_ms;
}

void ClientTxn::rearm(TxnOut& out, bool force) noexcept {
    TimerKind kind;
    const Millis d = next_deadline(kind);
    if (d == armed_at_ && !(force && d != never_ms)) return;
    armed_at_ = d;
    TxnAction a = act(d == never_ms ? TxnActKind::disarm_timer : TxnActKind::arm_timer);
    a.timer = kind;
    a.deadline = d;
    out.push(a);
}

ClientTxn::Setup cancel_setup(const ClientTxn& invite, uint32_t t4_ms) noexcept {
    ClientTxn::Setup s;
    const failover::RetryPolicy& p = invite.retry().policy();
    s.policy = failover::rfc3261_policy(p.t1_ms, p.t2_ms, failover::RequestKind::other);
    s.method = sip::Method::cancel;
    s.kind = failover::RequestKind::other;
    s.reliable = invite.reliable();
    // §9.1: the CANCEL goes where the INVITE went, with the INVITE's branch.
    s.first_server = invite.server();
    s.server_count = uint16_t(invite.server() + 1);
    s.t4_ms = t4_ms;
    s.branch = invite.branch();
    s.trunk_id = invite.trunk_id();
    s.list_epoch = invite.list_epoch();
    return s;
}

}  // namespace sipedge::dp
