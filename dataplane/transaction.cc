// Names for tracing and tests, tombstones, and what the two transaction
// kinds share. The state machines are in client_txn.cc and server_txn.cc.

#include "dataplane/transaction.h"

namespace sipedge::dp {

const char* timer_name(TimerKind k) noexcept {
    switch (k) {
    case TimerKind::none: return "none";
    case TimerKind::a: return "A";
    case TimerKind::b: return "B";
    case TimerKind::d: return "D";
    case TimerKind::e: return "E";
    case TimerKind::f: return "F";
    case TimerKind::k: return "K";
    case TimerKind::g: return "G";
    case TimerKind::h: return "H";
    case TimerKind::i: return "I";
    case TimerKind::j: return "J";
    case TimerKind::l: return "L";
    case TimerKind::m: return "M";
    case TimerKind::rollover: return "rollover";
    case TimerKind::c: return "C";
    case TimerKind::provisional: return "provisional";
    }
    return "?";
}

const char* act_name(TxnActKind k) noexcept {
    switch (k) {
    case TxnActKind::send_request: return "send_request";
    case TxnActKind::send_ack: return "send_ack";
    case TxnActKind::send_response: return "send_response";
    case TxnActKind::send_trying: return "send_trying";
    case TxnActKind::deliver: return "deliver";
    case TxnActKind::arm_timer: return "arm_timer";
    case TxnActKind::disarm_timer: return "disarm_timer";
    case TxnActKind::rollover: return "rollover";
    case TxnActKind::retire_branch: return "retire_branch";
    case TxnActKind::cancel_ready: return "cancel_ready";
    case TxnActKind::failed: return "failed";
    case TxnActKind::terminated: return "terminated";
    }
    return "?";
}

const char* state_name(ClientState s) noexcept {
    switch (s) {
    case ClientState::idle: return "idle";
    case ClientState::calling: return "calling";
    case ClientState::trying: return "trying";
    case ClientState::proceeding: return "proceeding";
    case ClientState::completed: return "completed";
    case ClientState::accepted: return "accepted";
    case ClientState::terminated: return "terminated";
    }
    return "?";
}

const char* state_name(ServerState s) noexcept {
    switch (s) {
    case ServerState::idle: return "idle";
    case ServerState::trying: return "trying";
    case ServerState::proceeding: return "proceeding";
    case ServerState::completed: return "completed";
    case ServerState::confirmed: return "confirmed";
    case ServerState::accepted: return "accepted";
    case ServerState::terminated: return "terminated";
    }
    return "?";
}

TombVerdict Tombstone::on_message(Millis now, uint16_t status, sip::Method m) const noexcept {
    if (now >= expires) return TombVerdict::expired;
    switch (kind) {
    case TombKind::client_invite_completed:
        // §17.1.1.2: a retransmitted non-2xx final is ACKed again, not passed up.
        return status >= 300 ? TombVerdict::resend : TombVerdict::absorb;
    case TombKind::client_invite_accepted:
        // RFC 6026 §8.4: 2xx retransmissions are passed to the TU.
        return status >= 200 && status < 300 ? TombVerdict::deliver : TombVerdict::absorb;
    case TombKind::client_completed:
        return TombVerdict::absorb;  // §17.1.2.2 Completed
    case TombKind::server_completed:
        // §17.2.2: a retransmitted request gets the final response again.
        return status == 0 ? TombVerdict::resend : TombVerdict::absorb;
    case TombKind::server_invite_confirmed:
        return TombVerdict::absorb;  // §17.2.1 Confirmed
    case TombKind::server_invite_accepted:
        // RFC 6026 §7.1: ACK → TU; INVITE retransmissions absorbed.
        return status == 0 && m == sip::Method::ack ? TombVerdict::deliver : TombVerdict::absorb;
    }
    return TombVerdict::absorb;
}

bool make_tombstone(const ClientTxn& t, Tombstone& out) noexcept {
    Tombstone s;
    s.expires = t.linger_until();
    s.buf = t.buf;
    s.server = t.server();
    if (t.state() == ClientState::completed)
        s.kind = t.method() == sip::Method::invite ? TombKind::client_invite_completed
                                                   : TombKind::client_completed;
    else if (t.state() == ClientState::accepted)
        s.kind = TombKind::client_invite_accepted;
    else
        return false;
    out = s;
    return true;
}

bool make_tombstone(const ServerTxn& t, Tombstone& out) noexcept {
    Tombstone s;
    s.expires = t.linger_until();
    s.buf = t.buf;
    if (t.state() == ServerState::completed && t.method() != sip::Method::invite)
        s.kind = TombKind::server_completed;  // INVITE Completed still retransmits (Timer G)
    else if (t.state() == ServerState::confirmed)
        s.kind = TombKind::server_invite_confirmed;
    else if (t.state() == ServerState::accepted)
        s.kind = TombKind::server_invite_accepted;
    else
        return false;
    out = s;
    return true;
}

}  // namespace sipedge::dp
