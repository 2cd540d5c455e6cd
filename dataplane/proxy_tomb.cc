// Proxy core, capacity side (issue 16): completed transactions shrink to
// tombstones at once (their slot and retained buffer go back to the pools),
// late copies are answered from the tombstones, and above a load watermark
// new out-of-dialog requests get 503 + Retry-After while everything that
// belongs to calls already admitted keeps flowing.
//
// What a transaction keeps once it only absorbs (dataplane/transaction.h
// make_tombstone(), RFC 3261 §17, RFC 6026):
//   server non-INVITE Completed (Timer J)  the final response, resent to a
//                                          retransmitted request
//   server INVITE Accepted (Timer L)       nothing: a retransmitted INVITE is
//                                          absorbed, the ACK goes on end to end
//                                          (on_request's stateless path)
//   client INVITE Completed (Timer D)      the ACK, resent to the server for a
//                                          retransmitted non-2xx final
//   client INVITE Accepted (Timer M)       the upstream address: 2xx
//                                          retransmissions are relayed there
//   client non-INVITE Completed (Timer K)  nothing: absorb
// A server INVITE in Completed (Timer G/H, waiting for the ACK) still works
// and keeps its slot; in Confirmed (Timer I, T4) it keeps the slot too, so
// that on_request's live match absorbs the ACK's retransmissions, but gives
// its buffer back.

#include <cstring>
#include <string_view>

#include "dataplane/proxy.h"
#include "sipparse/headers.h"
#include "sipparse/rewrite.h"

namespace sipedge::dp {

namespace {

// Bounded appender (as proxy_build.cc's).
struct Out {
    char* p;
    size_t cap;
    size_t n = 0;
    bool ok = true;
    Out& operator<<(std::string_view s) noexcept {
        if (!ok || s.size() > cap - n) {
            ok = false;
            return *this;
        }
        std::memcpy(p + n, s.data(), s.size());
        n += s.size();
        return *this;
    }
    Out& num(uint32_t v) noexcept {
        char b[10];
        size_t k = 0;
        do b[k++] = char('0' + v % 10); while (v /= 10);
        while (k) *this << std::string_view(&b[--k], 1);
        return *this;
    }
};

std::string_view header_value(const sip::Message& m, const char* d, sip::HeaderId id) noexcept {
    const sip::Header* h = m.find(id);
    return h ? h->value.str(d) : std::string_view{};
}

uint32_t percent(uint64_t used, uint64_t cap) noexcept {
    return cap ? uint32_t(used * 100 / cap) : 0;
}

}  // namespace

bool Proxy::init_tombs() noexcept {
    const uint64_t recs = cfg_.max_tombs ? cfg_.max_tombs : uint64_t(nslots_) * 8;
    const uint64_t bytes = cfg_.tomb_bytes ? cfg_.tomb_bytes : recs * 64;
    return recs <= (1u << 31) && bytes <= UINT32_MAX &&
           tombs_.init(uint32_t(recs), size_t(bytes), seed_ ^ 0x746f6d62ull /* "tomb" */);
}

uint32_t Proxy::load_percent(size_t need) const noexcept {
    uint32_t p = percent(nc_ - nfree_c_, nc_);
    auto up = [&p](uint32_t v) { p = v > p ? v : p; };
    up(percent(ns_ - nfree_s_, ns_));
    up(percent(table_.size(), table_.capacity()));
    up(percent(wheel_.size(), wheel_.capacity()));
    up(percent(bufs_.class_used(0), bufs_.class_count(0)));
    const size_t k = MsgPool::class_for(need);
    if (k > 0 && k < MsgPool::classes) up(percent(bufs_.class_used(k), bufs_.class_count(k)));
    return p;
}

bool Proxy::admit_new(Endpoint up, const char* d, size_t n, const TxnKey& key) noexcept {
    if (tomb_request(key)) return false;
    if (!guard_ok(up, d, n)) return false;
    const uint32_t w = cfg_.overload_percent;
    // In-dialog requests (To tag) belong to calls already admitted: never shed.
    if (w == 0 || w > 100 || msg_.to.has_tag) return true;
    if (load_percent(n + retained_headroom) < w) return true;  // + Via, Record-Route (new_transaction)
    st_->overload_503++;
    // RFC 3261 §21.5.4 with §20.33: the overload Retry-After, through the one
    // stateless path (it remembers the To tag it mints, for the ACK).
    const uint32_t keep = cfg_.retry_after_s;
    cfg_.retry_after_s = cfg_.overload_retry_after_s;
    reply_stateless(up, d, n, 503, "Service Unavailable");
    cfg_.retry_after_s = keep;
    return false;
}

bool Proxy::guard_ok(Endpoint up, const char* d, size_t n) noexcept {
    const AccessPeers* p = routes_ ? routes_->access_peers : nullptr;
    // In-dialog requests are held to the Record-Route token (route()), not to rates.
    if (!p || msg_.to.has_tag || from_carrier(up.ip)) return true;
    if (p != guard_peers_) {  // another peer set: its buckets start full
        guard_.reset_buckets();
        guard_peers_ = p;
    }
    const RateKind kind = msg_.method == sip::Method::invite     ? RateKind::invite
                          : msg_.method == sip::Method::register_ ? RateKind::register_
                                                                   : RateKind::other;
    int peer = -1;
    uint32_t retry = 1;
    switch (guard_.check(*p, up.ip, kind, now_, peer)) {
    case FloodVerdict::pass: return true;
    case FloodVerdict::not_a_peer:
        st_->guard_not_peer++;
        reply_stateless(up, d, n, 403, "Forbidden");
        return false;
    case FloodVerdict::source_flood:
        st_->guard_source_flood++;
        retry = guard_.blocked_for_s(up.ip, now_);
        break;
    case FloodVerdict::peer_rate:
        st_->guard_peer_rate++;
        break;  // a bucket refills within a second
    }
    if (p->action == FloodAction::drop) {
        st_->guard_dropped++;
        return false;
    }
    const uint32_t keep = cfg_.retry_after_s;
    cfg_.retry_after_s = retry;
    reply_stateless(up, d, n, 503, "Service Unavailable");
    cfg_.retry_after_s = keep;
    return false;
}

// A request matching no live server transaction: a late copy of one that
// completed? (§17.2.2 resend the final; §17.2.1/RFC 6026 absorb.)
bool Proxy::tomb_request(const TxnKey& k) noexcept {
    if (tombs_.size() == 0) return false;
    const TombRecord* r = tombs_.find(k, now_, [&](const TombRecord& t, const TxnKey& key) {
        // RFC 2543 INVITE keys leave the To tag out: the retransmission repeats the original's.
        return !key.rfc2543() || key.method != sip::Method::invite || t.key.to_tag == key.to_tag;
    });
    if (!r) return false;
    switch (r->t.on_message(now_, 0, msg_.method)) {
    case TombVerdict::resend:
        if (const char* m = tombs_.msg(*r)) {
            st_->sip_retransmissions_tx++;
            send(Endpoint{r->ip, r->port, r->tp}, m, r->msg_len, false);
        }
        break;
    case TombVerdict::absorb: break;
    case TombVerdict::deliver:  // an ACK (never here: on_request forwards those)
    case TombVerdict::expired: return false;
    }
    st_->sip_retransmissions_rx++;
    st_->tomb_hits++;
    return true;
}

bool Proxy::tomb_response(const char* d, size_t n) noexcept {
    if (tombs_.size() == 0) return false;
    TxnKey k;
    if (!client_key(msg_, d, seed_, k)) return false;
    const TombRecord* r = tombs_.find(k, now_);
    if (!r) return false;
    switch (r->t.on_message(now_, msg_.status, msg_.cseq.method)) {
    case TombVerdict::resend:  // §17.1.1.2: a retransmitted non-2xx final is ACKed again
        if (const char* m = tombs_.msg(*r)) send(Endpoint{r->ip, r->port, r->tp}, m, r->msg_len, true);
        break;
    case TombVerdict::deliver: {  // RFC 6026 §8.4: a 2xx retransmission goes upstream
        if (r->ip == 0) break;
        sip::Rewriter rw(d, msg_);
        const size_t len = rw.remove_top_via() ? rw.finish(scratch_, sizeof(scratch_)) : 0;
        if (len == 0) {
            st_->drop(DropReason::sip_rewrite);
            return true;
        }
        send(Endpoint{r->ip, r->port, r->tp}, scratch_, len, false);
        break;
    }
    case TombVerdict::absorb: break;
    case TombVerdict::expired: return false;
    }
    (void)n;
    st_->tomb_hits++;
    return true;
}

bool Proxy::tomb_cancel(const TxnKey& invite_key) noexcept {
    return tombs_.size() && tombs_.find(invite_key, now_) != nullptr;
}

// The old branch of a rollover (503): a tombstone re-ACKs its retransmitted
// 503 (INVITE, Timer D) or absorbs it (Timer K) until a.deadline.
void Proxy::retire_branch(uint32_t cs, const TxnAction& a) noexcept {
    ClientSlot& C = cli(cs);
    const ClientTxn& t = C.t.c;
    if (t.method() == sip::Method::extension || a.deadline <= now_) return;
    BranchId b = t.branch();
    b.attempt = uint8_t(a.attempt);
    char br[branch_len];
    encode_branch(b, br);
    Tombstone tb;
    tb.expires = a.deadline;
    tb.server = a.server;
    const bool invite = t.method() == sip::Method::invite;
    tb.kind = invite ? TombKind::client_invite_completed : TombKind::client_completed;
    size_t ack = 0;
    if (invite && !msg_.is_request && msg_.status >= 300)
        ack = build_ack(cs, scratch2_, sizeof(scratch2_));
    // The old server's address: `addr` moves on at the next first send.
    tombs_.add(client_key({br, branch_len}, t.method(), seed_), tb, C.addr.ip, C.addr.port,
               scratch2_, ack, now_, C.addr.tp);
    st_->tombs_created++;
}

void Proxy::note_run(uint32_t slot) noexcept {
    for (uint8_t i = 0; i < retire_n_; i++)
        if (retire_q_[i] == slot) return;
    if (retire_n_ < sizeof(retire_q_) / sizeof(retire_q_[0])) retire_q_[retire_n_++] = slot;
    // else: that slot lingers whole until its own timer ends it (correct, only bigger)
}

void Proxy::flush_retire() noexcept {
    // Clients first (retire_client may append a CANCEL's INVITE), then servers.
    for (uint8_t i = 0; i < retire_n_; i++)
        if (is_client(retire_q_[i])) retire_client(retire_q_[i]);
    for (uint8_t i = 0; i < retire_n_; i++)
        if (is_server(retire_q_[i])) retire_server(retire_q_[i]);
    retire_n_ = 0;
    cur_rsp_ = nullptr;
    const uint64_t ev = tombs_.evicted();
    st_->tombs_evicted += ev - evicted_seen_;
    evicted_seen_ = ev;
}

void Proxy::retire_client(uint32_t cs) noexcept {
    ClientSlot& C = cli(cs);
    const ClientTxn& t = C.t.c;
    if (t.state() != ClientState::completed && t.state() != ClientState::accepted) return;
    // An INVITE whose CANCEL still runs: that CANCEL's responses are matched
    // through this slot (same branch). It goes when the CANCEL does.
    if (t.method() == sip::Method::invite && C.cancel != npos && is_client(C.cancel) &&
        cli(C.cancel).cancel == cs)
        return;
    Tombstone tb;
    if (!make_tombstone(t, tb)) return;
    const uint32_t invite_of_cancel =
        t.method() == sip::Method::cancel && C.cancel != npos && is_client(C.cancel) &&
                cli(C.cancel).cancel == cs
            ? C.cancel
            : npos;
    if (t.method() != sip::Method::extension) {  // an extension's key needs its name: none kept
        char br[branch_len];
        encode_branch(t.branch(), br);
        Endpoint to{};
        size_t ack = 0;
        if (tb.kind == TombKind::client_invite_completed) {
            to = client_dest(C, t.server());
            // The final in hand is this transaction's (it just completed it).
            if (!msg_.is_request && msg_.status == t.last_status() &&
                msg_.cseq.method == sip::Method::invite)
                ack = build_ack(cs, scratch2_, sizeof(scratch2_));
        } else if (tb.kind == TombKind::client_invite_accepted && C.peer != npos &&
                   is_server(C.peer)) {
            to = srv(C.peer).addr;
        }
        tombs_.add(client_key({br, branch_len}, t.method(), seed_), tb, to.ip, to.port, scratch2_,
                   ack, now_, to.tp);
        st_->tombs_created++;
    }
    free_slot(cs);
    if (invite_of_cancel != npos) retire_client(invite_of_cancel);  // its INVITE may go now
}

void Proxy::retire_server(uint32_t ss) noexcept {
    ServerSlot& S = srv(ss);
    Tombstone tb;
    if (!make_tombstone(S.t.s, tb)) return;
    if (tb.kind == TombKind::server_invite_confirmed) {
        // Kept whole for T4 (on_request absorbs the ACK's copies); the buffer goes now.
        bufs_.release(S.t.s.buf);
        S.t.s.buf = 0;
        return;
    }
    const char* m = nullptr;
    size_t len = 0;
    if (tb.kind == TombKind::server_completed && S.t.s.buf && bufs_.len(S.t.s.buf)) {
        m = bufs_.data(S.t.s.buf);
        len = bufs_.len(S.t.s.buf);
    }
    tombs_.add(S.key, tb, S.addr.ip, S.addr.port, m, len, now_, S.addr.tp);
    st_->tombs_created++;
    free_slot(ss);
}

// §17.1.1.3: the ACK for the non-2xx final in msg_ (its bytes: cur_rsp_, the
// response run_client() is driving), built from client <cs>'s retained
// request as send_ack() builds it. Its length in out[0, cap), or 0.
size_t Proxy::build_ack(uint32_t cs, char* out, size_t cap) noexcept {
    const ClientSlot& C = cli(cs);
    if (!C.t.c.buf || !cur_rsp_) return 0;
    const char* req = bufs_.data(C.t.c.buf);
    if (sip::parse(req, bufs_.len(C.t.c.buf), aux_) != sip::ParseStatus::ok) return 0;
    Out w{out, cap};
    w << "ACK " << aux_.request_uri.str(req) << " SIP/2.0\r\n"
      << "Via: " << aux_.top_via.all.str(req) << "\r\n";
    for (const sip::Header* h = aux_.find(sip::HeaderId::route); h; h = aux_.next(h))
        w << "Route: " << h->value.str(req) << "\r\n";
    w << "From: " << header_value(aux_, req, sip::HeaderId::from) << "\r\n"
      << "To: " << header_value(msg_, cur_rsp_, sip::HeaderId::to) << "\r\n"
      << "Call-ID: " << aux_.call_id.str(req) << "\r\n"
      << "CSeq: ";
    w.num(aux_.cseq.number) << " ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    return w.ok ? w.n : 0;
}

}  // namespace sipedge::dp
