// Server transactions (RFC 3261 §17.2, RFC 6026 §7.1): the upstream side of a
// proxied request. Request retransmissions are answered here from the last
// response sent; they never reach the client side.

#include "dataplane/transaction.h"

namespace sipedge::dp {

namespace {

TxnAction act(TxnActKind k) noexcept {
    TxnAction a;
    a.kind = k;
    return a;
}

TxnAction response(uint16_t status, bool retransmit) noexcept {
    TxnAction a = act(TxnActKind::send_response);
    a.status = status;
    a.retransmit = retransmit;
    return a;
}

}  // namespace

void ServerTxn::start(const Setup& s, Millis now, TxnOut& out) noexcept {
    (void)now;
    const uint32_t keep = buf;
    *this = ServerTxn{};
    buf = keep;
    method_ = s.method;
    reliable_ = s.reliable;
    timers_ = s.timers;
    req_to_tag_ = s.req_to_tag;
    trunk_id_ = s.trunk_id;
    if (method_ == sip::Method::ack) {  // an ACK that matches nothing is not a transaction
        st_ = ServerState::terminated;
        out.push(act(TxnActKind::terminated));
        return;
    }
    TxnAction d = act(TxnActKind::deliver);
    if (invite()) {
        st_ = ServerState::proceeding;  // §17.2.1: INVITE server starts in Proceeding
        if (s.send_trying) {
            out.push(act(TxnActKind::send_trying));
            last_status_ = 100;
        }
    } else {
        st_ = ServerState::trying;  // §17.2.2
    }
    out.push(d);
}

void ServerTxn::on_request(sip::Method m, Millis now, TxnOut& out) noexcept {
    const bool ack = m == sip::Method::ack;
    switch (st_) {
    case ServerState::trying:
        return;  // §17.2.2: retransmissions in Trying are discarded
    case ServerState::proceeding:
        // §17.2.1 / §17.2.2: repeat the most recent provisional, if any.
        if (!ack && last_status_) out.push(response(last_status_, true));
        return;
    case ServerState::completed:
        if (!invite()) {  // §17.2.2: repeat the final response
            out.push(response(last_status_, true));
            return;
        }
        if (!ack) {  // §17.2.1: INVITE retransmission → repeat the final response
            out.push(response(last_status_, true));
            return;
        }
        // §17.2.1: ACK → Confirmed, absorbed here (hop by hop for non-2xx);
        // Timer I = T4 unreliable, 0 reliable.
        resend_at_ = never_ms;
        if (reliable_) {
            terminate(out);
            return;
        }
        st_ = ServerState::confirmed;
        end_at_ = now + timers_.t4_ms;
        rearm(out);
        return;
    case ServerState::confirmed:
        return;  // §17.2.1: absorb ACKs (and late INVITEs)
    case ServerState::accepted:
        // RFC 6026 §7.1: ACK (for the 2xx, end to end) goes to the TU; an
        // INVITE retransmission is absorbed (the TU retransmits the 2xx).
        if (ack) {
            TxnAction d = act(TxnActKind::deliver);
            out.push(d);
        }
        return;
    case ServerState::idle:
    case ServerState::terminated:
        return;
    }
}

void ServerTxn::respond(uint16_t status, Millis now, TxnOut& out, uint32_t to_tag) noexcept {
    if (status < 100 || status > 699) return;
    switch (st_) {
    case ServerState::trying:
    case ServerState::proceeding:
        break;
    case ServerState::accepted:
        // RFC 6026 §7.1: 2xx retransmissions from the TU are sent in Accepted.
        if (status >= 200 && status < 300) out.push(response(status, true));
        return;
    case ServerState::completed:
    case ServerState::confirmed:
    case ServerState::idle:
    case ServerState::terminated:
        return;  // §17.2.2: further finals from the TU are discarded
    }
    last_status_ = status;
    if (to_tag) rsp_to_tag_ = to_tag;
    out.push(response(status, false));
    if (status < 200) {
        st_ = ServerState::proceeding;
        return;
    }
    const uint64_t t64 = 64ull * timers_.t1_ms;
    if (invite() && status < 300) {
        st_ = ServerState::accepted;  // RFC 6026 §7.1, Timer L = 64·T1
        end_at_ = now + t64;
    } else if (invite()) {
        st_ = ServerState::completed;  // §17.2.1: Timer G (unreliable) and H = 64·T1
        if (!reliable_) {
            g_interval_ = timers_.t1_ms;
            resend_at_ = now + g_interval_;
        }
        end_at_ = now + t64;
    } else {
        st_ = ServerState::completed;  // §17.2.2: Timer J = 64·T1 unreliable, 0 reliable
        if (reliable_) {
            terminate(out);
            return;
        }
        end_at_ = now + t64;
    }
    rearm(out);
}

void ServerTxn::on_timer(Millis now, TxnOut& out) noexcept {
    switch (st_) {
    case ServerState::completed:
        if (invite() && now >= end_at_) {  // Timer H: the ACK never came
            TxnAction f = act(TxnActKind::failed);
            f.reason = TxnReason::no_ack;
            out.push(f);
            terminate(out);
            return;
        }
        if (!invite() && now >= end_at_) {  // Timer J
            terminate(out);
            return;
        }
        if (invite() && now >= resend_at_) {  // Timer G: double up to T2
            out.push(response(last_status_, true));
            const uint32_t next = 2 * g_interval_;
            g_interval_ = next < timers_.t2_ms ? next : timers_.t2_ms;
            resend_at_ = now + g_interval_;
        }
        break;
    case ServerState::confirmed:
    case ServerState::accepted:
        if (now >= end_at_) {  // Timer I / Timer L
            terminate(out);
            return;
        }
        break;
    case ServerState::idle:
    case ServerState::trying:
    case ServerState::proceeding:
    case ServerState::terminated:
        return;
    }
    rearm(out, true);
}

void ServerTxn::on_transport_error(Millis now, TxnOut& out) noexcept {
    (void)now;
    if (st_ == ServerState::idle || st_ == ServerState::terminated) return;
    TxnAction f = act(TxnActKind::failed);
    f.reason = TxnReason::transport_error;
    out.push(f);
    terminate(out);
}

bool ServerTxn::accepts_2543(sip::Method m, uint32_t key_to_tag) const noexcept {
    if (!invite()) return true;  // non-INVITE 2543 keys include the To tag
    if (m == sip::Method::ack) return key_to_tag == rsp_to_tag_;
    return key_to_tag == req_to_tag_;
}

void ServerTxn::terminate(TxnOut& out) noexcept {
    st_ = ServerState::terminated;
    resend_at_ = end_at_ = never_ms;
    out.push(act(TxnActKind::terminated));
}

void ServerTxn::rearm(TxnOut& out, bool force) noexcept {
    const Millis d = resend_at_ < end_at_ ? resend_at_ : end_at_;
    if (d == armed_at_ && !(force && d != never_ms)) return;
    armed_at_ = d;
    TxnAction a = act(d == never_ms ? TxnActKind::disarm_timer : TxnActKind::arm_timer);
    a.deadline = d;
    if (d == resend_at_ && d != never_ms) {
        a.timer = TimerKind::g;
    } else {
        switch (st_) {
        case ServerState::completed: a.timer = invite() ? TimerKind::h : TimerKind::j; break;
        case ServerState::confirmed: a.timer = TimerKind::i; break;
        case ServerState::accepted: a.timer = TimerKind::l; break;
        default: a.timer = TimerKind::none; break;
        }
    }
    out.push(a);
}

}  // namespace sipedge::dp
