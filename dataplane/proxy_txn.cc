// Proxy core, transaction side: executing the state machines' actions,
// matching responses (§16.7) and ICMP errors to client transactions, timers.

#include <cstdio>
#include <cstring>
#include <utility>

#include "dataplane/inet.h"
#include "dataplane/proxy.h"
#include "failover/table.h"
#include "sipparse/headers.h"
#include "sipparse/response.h"
#include "sipparse/rewrite.h"

namespace sipedge::dp {

Endpoint Proxy::client_dest(const ClientSlot& s, uint16_t server) const noexcept {
    (void)server;  // trunk walks keep the current server's address in `addr`
    return s.addr;
}

// The address of walk position <pos> of trunk client <s>, looked up again in
// the current snapshot by server index (STYLE.md §3.1: only ids are kept).
// False when the server is no longer a candidate (removed, recovering, held):
// nothing is sent and the transaction's timer moves the walk on.
bool Proxy::lookup_server(ClientSlot& s, uint16_t pos) noexcept {
    if (pos >= s.walk_n || !routes_ || !routes_->table) return false;
    const failover::TrunkRoutes* tr = routes_->table->find(s.trunk_id);
    for (uint8_t i = 0; tr && i < tr->count; i++) {
        const failover::Candidate& c = tr->cand[i];
        if (c.server_idx != s.walk[pos] || c.family != 4) continue;
        s.addr = Endpoint{candidate_ip(c), c.port, c.transport};  // udp, or tcp/tls (new_transaction)
        return true;
    }
    return false;
}

const SendNote* Proxy::note_for(const ClientSlot& c, uint16_t pos) noexcept {
    if (pos >= c.walk_n) return nullptr;  // direct, or not a walk position
    note_ = SendNote{c.trunk_id, c.list_epoch, c.walk[pos]};
    return &note_;
}

// One observation for the failover engine about walk position <pos>.
void Proxy::report(const ClientSlot& c, uint16_t pos, failover::EventKind k, uint16_t status,
                   uint32_t retry_after_s) noexcept {
    if (c.direct || pos >= c.walk_n) return;
    failover::ServerEvent ev;
    ev.at_ms = now_;
    ev.trunk_id = c.trunk_id;
    ev.server_idx = c.walk[pos];
    ev.list_epoch = c.list_epoch;
    ev.kind = k;
    ev.status = status;
    ev.retry_after_s = retry_after_s;
    if (k == failover::EventKind::success) ev.rtt_us = c.rtt_us;
    if (pos + 1u >= c.walk_n) ev.flags |= failover::ev_last_route;
    if (c.t.c.method() == sip::Method::register_) ev.flags |= failover::ev_register;
    st_->events_reported++;
    lost(out_.report(ev));
}

void Proxy::timer_action(uint32_t slot, const TxnAction& a) noexcept {
    SlotHead& s = head(slot);
    wheel_.cancel(s.timer);  // stale handles (already fired) are rejected harmlessly
    s.timer = {};
    if (a.kind != TxnActKind::arm_timer) return;
    s.timer = wheel_.arm_at(a.deadline, (uint64_t(s.gen) << 32) | slot);
    if (!s.timer.valid()) st_->drop(DropReason::timer_exhausted);
}

void Proxy::run_client(uint32_t cs, const TxnOut& out, const char* rsp, size_t rsp_n) noexcept {
    RunScope scope(*this, cs, rsp);  // completed: a tombstone once the outermost run returns
    for (const TxnAction& a : out) {
        if (!is_client(cs)) return;  // freed by an earlier action
        switch (a.kind) {
        case TxnActKind::send_request: send_client_request(cs, a); break;
        case TxnActKind::send_ack:
            if (rsp) send_ack(cs, a.server, rsp);
            break;
        case TxnActKind::deliver:
            // §16.7 step 5: 100 Trying is hop by hop, never forwarded.
            if (rsp && a.status != 100) relay_response(cs, a.status, rsp, rsp_n);
            break;
        case TxnActKind::arm_timer:
        case TxnActKind::disarm_timer: timer_action(cs, a); break;
        case TxnActKind::rollover:
            // A 503 was reported when it arrived (on_response), with its Retry-After.
            if (a.reason == TxnReason::rejected_503) {
                st_->rollover_503++;
            } else if (a.reason == TxnReason::transport_error) {
                st_->rollover_icmp++;
                // Over TCP/TLS (addr: still the server left) the stream
                // thread's connection event tells control (a trigger whatever
                // failover-on-icmp says); ICMP is the worker's to report.
                if (!cli(cs).addr.stream())
                    report(cli(cs), a.from, failover::EventKind::icmp_unreachable, 0, 0);
            } else {
                st_->rollover_timeout++;
                report(cli(cs), a.from, failover::EventKind::timeout, 0, 0);
            }
            break;
        case TxnActKind::retire_branch:
            // The old branch's retransmitted finals are re-ACKed (or absorbed)
            // by a tombstone (proxy_tomb.cc).
            retire_branch(cs, a);
            break;
        case TxnActKind::cancel_ready:
            if (a.reason == TxnReason::timer_c) st_->timer_c_fired++;
            if (a.reason == TxnReason::provisional_timeout) {
                // The branch named by the action (the transaction may roll
                // over right after: its own branch is already the next one).
                st_->provisional_timeouts++;
                start_cancel(cs, &a);
            } else {
                start_cancel(cs);
            }
            break;
        case TxnActKind::failed:
            // The walk's last server: timeout or unreachable is a trigger too.
            if (a.reason == TxnReason::timeout)
                report(cli(cs), cli(cs).t.c.server(), failover::EventKind::timeout, 0, 0);
            else if (a.reason == TxnReason::transport_error && !cli(cs).addr.stream())
                report(cli(cs), cli(cs).t.c.server(), failover::EventKind::icmp_unreachable,
                       0, 0);
            fail_upstream(cs, a.reason);
            break;
        case TxnActKind::terminated: free_slot(cs); return;
        case TxnActKind::send_response:
        case TxnActKind::send_trying: break;  // server actions
        }
    }
}

void Proxy::run_server(uint32_t ss, const TxnOut& out, const char* up, size_t up_n,
                       const char* req, size_t req_n, Endpoint req_from) noexcept {
    RunScope scope(*this, ss);
    for (const TxnAction& a : out) {
        if (!is_server(ss)) return;
        ServerSlot& S = srv(ss);
        uint32_t& buf = S.t.s.buf;  // 0 until a response is retained
        switch (a.kind) {
        case TxnActKind::send_trying:
            // Not retained: a retransmitted INVITE gets it built again from
            // itself (below), so a pending INVITE holds no server buffer.
            if (req && send_trying(S.addr, req, req_n)) st_->responses_generated++;
            break;
        case TxnActKind::send_response:
            if (up) {  // a new response (or a 2xx retransmission from downstream)
                // Retained in a slot of its size (a big one when needed); with
                // none free it is relayed now and not retained (a
                // retransmission repeats nothing).
                if (buf == 0) buf = bufs_.alloc(up_n);
                if (buf && bufs_.fit(buf, up_n)) {
                    std::memcpy(bufs_.data(buf), up, up_n);
                    bufs_.len(buf) = uint32_t(up_n);
                } else if (buf) {
                    bufs_.len(buf) = 0;
                }
                if (!a.retransmit) count_final(ss, a.status);
                if (!buf || !bufs_.len(buf)) {
                    if (up_n) send(S.addr, up, up_n, false);
                    break;
                }
            } else {
                st_->sip_retransmissions_tx++;
                // Only 100 Trying sent so far: built again from the retransmitted request.
                if (a.status == 100 && (!buf || !bufs_.len(buf))) {
                    if (req) send_trying(S.addr, req, req_n);
                    break;
                }
            }
            if (buf && bufs_.len(buf)) send(S.addr, bufs_.data(buf), bufs_.len(buf), false);
            break;
        case TxnActKind::deliver:
            // Accepted (RFC 6026 §7.1): the ACK for our 2xx goes on end to end.
            if (req && msg_.is_request && msg_.method == sip::Method::ack)
                forward_stateless(req_from, req, req_n);
            break;
        case TxnActKind::arm_timer:
        case TxnActKind::disarm_timer: timer_action(ss, a); break;
        case TxnActKind::terminated: free_slot(ss); return;
        default: break;
        }
    }
}

// 100 Trying for request <req> (§16.2 / §17.2.1: hop by hop), to <to>; false
// when it does not fit.
bool Proxy::send_trying(Endpoint to, const char* req, size_t req_n) noexcept {
    sip::ResponseSpec spec;
    spec.status = 100;
    spec.reason = "Trying";
    // <req> is the request in msg_ (both callers run on its arrival): built
    // from msg_'s header index; the byte scan for what that one declines.
    size_t n = sip::make_response(msg_, req, spec, trying_, sizeof trying_);
    if (!n) n = sip::make_response(req, req_n, spec, trying_, sizeof trying_);
    if (n) send(to, trying_, n, false);
    return n != 0;
}

void Proxy::count_final(uint32_t ss, uint16_t status) noexcept {
    ServerSlot& S = srv(ss);
    if (S.t.s.method() != sip::Method::invite || status < 200) return;
    if (status < 300 && !S.answered) {
        S.answered = true;
        st_->calls_answered++;
    } else if (status >= 300 && !S.answered && !S.failed) {
        S.failed = true;
        st_->calls_failed++;
    }
}

void Proxy::send_client_request(uint32_t cs, const TxnAction& a) noexcept {
    ClientSlot& C = cli(cs);
    if (!C.direct && !a.retransmit && !lookup_server(C, a.server)) {
        st_->drop(DropReason::sip_no_route);  // the timer rolls the request over
        return;
    }
    const Endpoint to = client_dest(C, a.server);
    if (!a.retransmit) {
        // A server behind another interface than the last one: our Via and
        // Record-Route are rewritten to name it. Cannot (no room): not sent,
        // the timer rolls the request over.
        const uint8_t oif = out_iface(to.ip);
        if (oif != C.via_if || to.tp != C.via_tp) {
            if (!rehome(C, oif, to.tp)) {
                st_->drop(DropReason::sip_rewrite);
                return;
            }
            st_->sip_cross_iface++;
        }
        // request-uri-host server: the Request-URI names this server.
        if (C.ruri_len && !retarget_ruri(C, to)) {
            st_->drop(DropReason::sip_rewrite);
            return;
        }
        // A first send to a server may follow a rollover: the branch carries
        // the attempt, so patch it in place (fixed width, see branch.h).
        if (C.branch_off) encode_branch(C.t.c.branch(), bufs_.data(C.t.c.buf) + C.branch_off);
    }
    if (a.retransmit && C.revived && uint16_t(uint16_t(now_) - C.last_tx) < revive_fresh_ms) {
        // Its timer, just after revive() resent it: that copy stands for
        // this one (the server would get two within a few ms, issue 14).
        return;
    }
    if (a.retransmit) {
        st_->sip_retransmissions_tx++;
        C.rtt_open = false;  // Karn: an answer now may be to either send
        // A second retransmission still unanswered (1.5 s at T1 500 ms): the
        // server may be gone. One lost datagram does not count, so random
        // loss does not make every response scan the slots.
        if (a.attempt >= 3) note_silent(to);
    } else {
        C.sent_us = now_us();
        C.rtt_open = true;
        C.rtt_us = 0;
        C.revived = false;
        C.close_resends = 0;
    }
    C.last_tx = uint16_t(now_);
    trace_trunk_ = C.direct ? ~0u : C.trunk_id;  // the trace names the trunk it goes to
    const uint32_t buf = C.t.c.buf;  // after rehome()/retarget_ruri(): grow() may have moved it
    send(to, bufs_.data(buf), bufs_.len(buf), true, note_for(C, a.server));
    trace_trunk_ = ~0u;
}

// The retained request of client <c> names interface <iface> and transport
// <tp> from now on: the transport and sent-by of our Via (just before
// ";branch=") and our Record-Route value (double when <iface> or <tp> is not
// what the request came in on) are replaced, everything else moves as is.
// False (nothing changed) when the buffer does not hold what we wrote or the
// result does not fit.
bool Proxy::rehome(ClientSlot& c, uint8_t iface, sip::Transport tp) noexcept {
    const uint32_t buf = c.t.c.buf;
    char* d = bufs_.data(buf);
    const size_t n = bufs_.len(buf);
    constexpr std::string_view branch_param = ";branch=";
    const std::string_view oh = host_of(c.via_if, c.via_tp), nh = host_of(iface, tp);
    const size_t old_host = oh.size();
    if (c.branch_off < branch_param.size() + old_host + 4) return false;
    const size_t host_off = c.branch_off - branch_param.size() - old_host;
    if (std::memcmp(d + host_off, oh.data(), old_host) != 0) return false;
    // "SIP/2.0/UDP " before the host: the three letters change in place.
    char* tp_at = d + host_off - 4;
    const char* old_tp = c.via_tp == sip::Transport::tcp ? "TCP" : c.via_tp == sip::Transport::tls ? "TLS" : "UDP";
    if (std::memcmp(tp_at, old_tp, 3) != 0 || tp_at[3] != ' ') return false;
    const char* new_tp = tp == sip::Transport::tcp ? "TCP" : tp == sip::Transport::tls ? "TLS" : "UDP";
    struct Edit {
        size_t off, len;
        std::string_view with;
    } e[2] = {{host_off, old_host, nh}, {0, 0, {}}};
    int ne = 1;
    // Our Record-Route keeps the dialog's token (issue 16): taken from the value we wrote.
    char token[rr_token_len];
    if (c.rr_len) {
        static constexpr std::string_view sx = ";sx=";
        const char* at = static_cast<const char*>(memmem(d + c.rr_off, c.rr_len, sx.data(), sx.size()));
        if (!at || size_t(at + sx.size() + rr_token_len - (d + c.rr_off)) > c.rr_len) return false;
        std::memcpy(token, at + sx.size(), rr_token_len);
        e[ne++] = {c.rr_off, c.rr_len, record_route(c.in_if, c.in_tp, iface, tp, token, c.th)};
    }
    if (ne == 2 && e[1].off < e[0].off) std::swap(e[0], e[1]);
    if (ne == 2 && e[0].off + e[0].len > e[1].off) return false;  // overlapping: not ours
    std::memcpy(tp_at, new_tp, 3);  // in place, outside every edit (undone on failure below)
    size_t out = 0, pos = 0;
    for (int i = 0; i < ne; i++) {
        std::memcpy(scratch2_ + out, d + pos, e[i].off - pos);
        out += e[i].off - pos;
        std::memcpy(scratch2_ + out, e[i].with.data(), e[i].with.size());
        out += e[i].with.size();
        pos = e[i].off + e[i].len;
    }
    if (out + (n - pos) > max_payload(tp)) {
        std::memcpy(tp_at, old_tp, 3);  // nothing changed
        return false;
    }
    std::memcpy(scratch2_ + out, d + pos, n - pos);
    out += n - pos;
    if (!grow(c, out)) {
        std::memcpy(tp_at, old_tp, 3);  // nothing changed
        return false;
    }
    const uint32_t now_buf = c.t.c.buf;  // grow() may have moved it
    std::memcpy(bufs_.data(now_buf), scratch2_, out);
    bufs_.len(now_buf) = uint32_t(out);
    // Offsets after an edit move by its growth.
    auto moved = [&](size_t off) {
        ptrdiff_t delta = 0;
        for (int i = 0; i < ne; i++)
            if (e[i].off < off) delta += ptrdiff_t(e[i].with.size()) - ptrdiff_t(e[i].len);
        return size_t(ptrdiff_t(off) + delta);
    };
    c.branch_off = uint16_t(moved(c.branch_off));
    if (c.rr_len) {
        c.rr_off = uint16_t(moved(c.rr_off));
        c.rr_len = uint8_t(record_route(c.in_if, c.in_tp, iface, tp, token, c.th).size());
    }
    c.via_if = iface;
    c.via_tp = tp;
    return true;
}

bool Proxy::grow(ClientSlot& c, size_t need) noexcept {
    if (need <= room(c)) return true;
    const uint32_t old = c.t.c.buf;
    const size_t hidden = size_t(c.hv_len) + c.hr_len;
    const uint32_t h = bufs_.alloc(need + hidden);
    if (!h) return false;
    const uint32_t len = bufs_.len(old);
    std::memcpy(bufs_.data(h), bufs_.data(old), len);
    bufs_.len(h) = len;
    if (hidden)  // the hidden Via / Record-Route lines stay at the end (keep_hidden())
        std::memcpy(bufs_.data(h) + bufs_.capacity(h) - hidden,
                    bufs_.data(old) + bufs_.capacity(old) - hidden, hidden);
    bufs_.release(old);
    c.t.c.buf = h;
    st_->retained_grown++;
    return true;
}

// request-uri-host server: the host[:port] of client <c>'s retained
// Request-URI becomes <to>'s address; the offsets after it move. False when
// the result does not fit.
bool Proxy::retarget_ruri(ClientSlot& c, Endpoint to) noexcept {
    char host[32];
    size_t hl = format_ipv4(to.ip, host);
    if (to.port != 5060) hl += size_t(std::snprintf(host + hl, sizeof host - hl, ":%u", to.port));
    const size_t n = bufs_.len(c.t.c.buf);
    if (hl == c.ruri_len && std::memcmp(bufs_.data(c.t.c.buf) + c.ruri_off, host, hl) == 0) return true;
    const size_t tail = c.ruri_off + c.ruri_len;
    if (tail > n) return false;
    const size_t out = n - c.ruri_len + hl;
    if (out > cfg_.max_udp_payload || !grow(c, out)) return false;
    const uint32_t buf = c.t.c.buf;
    char* d = bufs_.data(buf);
    std::memmove(d + c.ruri_off + hl, d + tail, n - tail);
    std::memcpy(d + c.ruri_off, host, hl);
    bufs_.len(buf) = uint32_t(out);
    const ptrdiff_t delta = ptrdiff_t(hl) - ptrdiff_t(c.ruri_len);
    if (c.branch_off > c.ruri_off) c.branch_off = uint16_t(ptrdiff_t(c.branch_off) + delta);
    if (c.rr_len && c.rr_off > c.ruri_off) c.rr_off = uint16_t(ptrdiff_t(c.rr_off) + delta);
    c.ruri_len = uint8_t(hl);
    return true;
}

void Proxy::relay_response(uint32_t cs, uint16_t status, const char* rsp, size_t rsp_n) noexcept {
    (void)rsp_n;
    const ClientSlot& C = cli(cs);
    const uint32_t ss = C.peer;
    if (ss == npos) return;  // CANCEL's own responses, or the server side is gone
    sip::Rewriter rw(rsp, msg_);  // §16.7 step 3: our Via off the top
    bool ok = C.hide_up ? unhide_response(rw, C, rsp, status) : rw.remove_top_via();
    if (ok && C.hide_down) ok = hide_response(rw, C, rsp);
    const size_t n = ok ? rw.finish(scratch_, sizeof(scratch_)) : 0;
    if (n == 0) {
        st_->drop(DropReason::sip_rewrite);
        return;
    }
    TxnOut out;
    const uint32_t tag = msg_.to.has_tag ? to_tag_hash(msg_.to.tag.str(rsp), seed_) : 0;
    srv(ss).t.s.respond(status, now_, out, tag);
    run_server(ss, out, scratch_, n, nullptr, 0, {});
}

// No server gave a final response: answer upstream ourselves (§16.7 step 6
// would pick the best response; with none, 408 for a timeout, 503 when every
// server refused or was unreachable, 487 when cancelled).
void Proxy::fail_upstream(uint32_t cs, TxnReason why) noexcept {
    switch (why) {
    case TxnReason::timeout: st_->txn_failed_timeout++; break;
    case TxnReason::rejected_503: st_->txn_failed_503++; break;
    case TxnReason::transport_error: st_->txn_failed_icmp++; break;
    case TxnReason::cancelled: st_->txn_failed_cancelled++; break;
    case TxnReason::timer_c: st_->txn_failed_timer_c++; break;
    case TxnReason::provisional_timeout: st_->txn_failed_provisional++; break;
    default: break;
    }
    ClientSlot& C = cli(cs);
    const uint32_t ss = C.peer;
    if (ss == npos) return;
    uint16_t status = 503;
    const char* reason = "Service Unavailable";
    if (why == TxnReason::timeout || why == TxnReason::timer_c || why == TxnReason::provisional_timeout)
        status = 408, reason = "Request Timeout";
    if (why == TxnReason::cancelled) status = 487, reason = "Request Terminated";
    // The response is built from the request we forwarded, then our Via is
    // removed: the upstream Vias come back in order (§8.2.6.2).
    sip::ResponseSpec spec;
    spec.status = status;
    spec.reason = reason;
    spec.to_tag = next_to_tag();
    // 503 (with Retry-After): when the servers said how long, the shortest
    // of that; else the configured one.
    if (status == 503) spec.extra = retry_after_line(C.retry_after_s ? C.retry_after_s : cfg_.retry_after_s);
    const uint32_t buf = C.t.c.buf;
    const size_t n1 = sip::make_response(bufs_.data(buf), bufs_.len(buf), spec, scratch2_,
                                         sizeof(scratch2_));
    if (n1 == 0 || sip::parse(scratch2_, n1, aux_) != sip::ParseStatus::ok) {
        st_->drop(DropReason::sip_rewrite);
        return;
    }
    sip::Rewriter rw(scratch2_, aux_);
    bool ok = true;
    if (C.hide_up) {  // the access Vias the forwarded request did not carry (before the removal)
        const char* kept = bufs_.data(buf) + bufs_.capacity(buf) - C.hv_len - C.hr_len;
        ok = rw.insert_before_first(sip::HeaderId::via, {kept, C.hv_len});
    }
    ok = ok && rw.remove_top_via();
    const size_t n = ok ? rw.finish(scratch_, sizeof(scratch_)) : 0;
    if (n == 0) {
        st_->drop(DropReason::sip_rewrite);
        return;
    }
    st_->responses_generated++;
    TxnOut out;
    srv(ss).t.s.respond(status, now_, out);
    run_server(ss, out, scratch_, n, nullptr, 0, {});
}

void Proxy::note_silent(Endpoint to) noexcept {
    for (uint8_t i = 0; i < silent_n_; i++)
        if (silent_[i].ip == to.ip && silent_[i].port == to.port) return;
    if (silent_n_ < max_silent) {
        silent_[silent_n_++] = {to.ip, to.port};
        return;
    }
    silent_[silent_next_] = {to.ip, to.port};
    silent_next_ = uint8_t((silent_next_ + 1) % max_silent);
}

// <from> out of the silent set; false when it was not in it.
bool Proxy::forget_silent(Endpoint from) noexcept {
    uint8_t i = 0;
    while (i < silent_n_ && !(silent_[i].ip == from.ip && silent_[i].port == from.port)) i++;
    if (i == silent_n_) return false;
    silent_[i] = silent_[--silent_n_];
    if (silent_next_ >= silent_n_) silent_next_ = 0;
    return true;
}

// <from> answered something: if transactions were retransmitting to it
// unanswered, each still waiting for its first answer there sends again now
// (one scan of the slots, once per server that went silent and answered;
// what the outbox cannot take now goes on in advance()).
void Proxy::revive(Endpoint from) noexcept {
    // At most one scan a second (a scan reads every slot of the table); a
    // server not revived now is on its next response.
    if (silent_n_ == 0 || now_ < next_revive_ || revive_active_) return;
    if (!forget_silent(from)) return;
    next_revive_ = now_ + 1000;
    revive_from_ = from;
    revive_answered_ = answered_sent_;
    revive_next_ = 0;
    revive_active_ = true;
    revive_scan();
}

void Proxy::revive_scan() noexcept {
    const Endpoint from = revive_from_;
    uint32_t s = revive_next_;
    for (; s < nc_ && out_.has_step(); s++) {
        ClientSlot& C = cli_[s];
        if (C.kind != SlotKind::client || !(C.addr == from)) continue;
        // Only requests that were themselves retransmitted unanswered (no
        // first answer yet: calling/trying; rtt_open cleared by the resend):
        // one sent a moment ago is not waiting on a silence.
        const ClientState cs = C.t.c.state();
        if ((cs != ClientState::calling && cs != ClientState::trying) || C.rtt_open || C.revived) continue;
        // Sent again since the request that was just answered went out (by
        // its timer, often in this very millisecond when that retransmission
        // is what marked the server silent): the answer says nothing about
        // that copy, and a resend would reach the server as a duplicate
        // (seen: 52 of 3,000 calls at 100/s after bursts of rollovers,
        // issue 14). A response that answered none of ours (a late or
        // stray one) counts as answering what was sent revive_fresh_ms ago.
        if (int16_t(uint16_t(C.last_tx - revive_answered_)) >= 0) continue;
        TxnAction a;
        a.kind = TxnActKind::send_request;
        a.retransmit = true;
        a.server = C.t.c.server();
        send_client_request(s, a);
        C.revived = true;  // after: send_client_request() leaves a revived request's next timer out
        st_->txn_revived++;
    }
    revive_next_ = s;
    if (s < nc_) return;  // the outbox is full: advance() goes on
    revive_active_ = false;
    forget_silent(from);  // the resends above put it back
}

void Proxy::on_response(Endpoint from, const char* d, size_t n) noexcept {
    const sip::Message& m = msg_;
    BranchId b;
    const bool ours = m.top_via.has_branch && decode_branch(m.top_via.branch.str(d), b);  // once
    if (ours && b.core == control_core) {
        // Control's own REGISTER/OPTIONS (sent through us): its engine decides.
        st_->control_rx++;
        lost(out_.to_control(from, d, n));
        return;
    }
    if (!ours || b.core != core_) {
        // TODO(lead): a branch of another core goes to that core's ring.
        st_->drop(DropReason::sip_foreign_branch);
        return;
    }
    if (!slot_ok(b.slot, b)) {
        if (!tomb_response(d, n)) st_->drop(DropReason::sip_stale_branch);
        return;
    }
    uint32_t cs = b.slot;
    if (m.cseq.method == sip::Method::cancel && cli(cs).t.c.method() == sip::Method::invite)
        cs = cli(cs).cancel;
    if (cs == npos || !is_client(cs) || cli(cs).t.c.method() != m.cseq.method ||
        cli(cs).t.c.branch().attempt != b.attempt) {
        if (!tomb_response(d, n)) st_->drop(DropReason::sip_stale_branch);
        return;
    }
    ClientSlot& C = cli(cs);
    answered_sent_ = C.last_tx;  // for revive(): what was sent before this is waiting on a loss
    if (C.rtt_open) {  // the attempt's first answer, to a request sent once: an RTT sample
        const uint64_t t = now_us();
        const uint64_t rtt = t > C.sent_us ? t - C.sent_us : 0;
        C.rtt_us = rtt == 0 ? 1 : rtt > UINT32_MAX ? UINT32_MAX : uint32_t(rtt);  // 0 = none
        C.rtt_open = false;
    }
    const ClientState cst = C.t.c.state();
    const bool first_final = cst == ClientState::calling || cst == ClientState::trying ||
                             cst == ClientState::proceeding;
    if (!C.direct && m.status >= 200 && first_final && C.t.c.server() < C.walk_n) {
        // What the server said, for its health (seed P "Triggering Failover":
        // 503 is a trigger only with failoverOn503Response; 401/407/403 are not).
        const uint16_t pos = C.t.c.server();
        failover::EventKind k = failover::EventKind::success;
        uint32_t retry_after = 0;
        if (m.status == 503) {
            k = failover::EventKind::rejected_503;
            if (const sip::Header* h = m.find(sip::HeaderId::retry_after)) {
                sip::RetryAfter ra;
                if (sip::parse_retry_after(d, h->value, ra)) retry_after = ra.seconds;
            }
            if (retry_after && (C.retry_after_s == 0 || retry_after < C.retry_after_s))
                C.retry_after_s = uint16_t(retry_after > 65535 ? 65535 : retry_after);
        } else if (m.status == 401 || m.status == 407) {
            k = failover::EventKind::challenged;
        } else if (m.status == 403) {
            k = failover::EventKind::denied;
        }
        report(C, pos, k, m.status, retry_after);
    }
    TxnOut out;
    C.t.c.on_response(m.status, now_, out);
    run_client(cs, out, d, n);
}

bool Proxy::on_icmp_unreachable(Endpoint to, const char* quoted, size_t len, Millis now) noexcept {
    return undeliverable(to, quoted, len, now, false);
}

bool Proxy::on_stream_failure(Endpoint to, const char* msg, size_t len, Millis now) noexcept {
    return undeliverable(to, msg, len, now, true);
}

uint32_t Proxy::on_stream_closed(Endpoint peer, Millis now) noexcept {
    now_ = now;
    const uint16_t at = uint16_t(now);
    uint8_t i = 0;
    while (i < closed_n_ && !(closed_[i].peer == peer)) i++;
    if (i < closed_n_) {
        closed_[i].at = at;  // the latest close of that peer
    } else if (closed_n_ < max_closed) {
        closed_[closed_n_++] = {peer, at};
    } else {
        closed_any_ = true;
        closed_any_at_ = at;
    }
    // A scan under way (it filled the outbox) starts over in advance(): the
    // slots it passed are checked against this close too (those it resent
    // were sent after it: left alone). Not here: closes arriving by the
    // hundred would each rescan the table.
    close_next_ = 0;
    if (close_active_) return 0;
    return now_ >= next_close_scan_ ? close_scan() : 0;
}

// From close_next_ until the end of the table or a full outbox (advance()
// goes on). Returns how many were resent in this call.
uint32_t Proxy::close_scan() noexcept {
    uint32_t n = 0;
    uint32_t s = close_next_;
    close_active_ = true;
    for (; s < nc_ && out_.has_step(); s++) {
        ClientSlot& C = cli_[s];
        if (C.kind != SlotKind::client || !C.addr.stream()) continue;
        // Sent before the close was heard of (a scan put off by close_scan_ms()
        // leaves what went out since, on the new connection, alone). What was
        // sent after the close but before the notice came, on a new
        // connection, goes again: the server takes that copy as a
        // retransmission (§17.2.3).
        auto before = [&](uint16_t at) { return int16_t(uint16_t(C.last_tx - at)) <= 0; };
        bool hit = closed_any_ && before(closed_any_at_);
        for (uint8_t i = 0; i < closed_n_ && !hit; i++) hit = C.addr == closed_[i].peer && before(closed_[i].at);
        if (!hit) continue;
        // No answer yet (a provisional says the server has it).
        const ClientState cs = C.t.c.state();
        if ((cs != ClientState::calling && cs != ClientState::trying) || C.close_resends >= max_close_resends)
            continue;
        TxnAction a;
        a.kind = TxnActKind::send_request;
        a.retransmit = true;
        a.server = C.t.c.server();
        send_client_request(s, a);
        C.close_resends++;
        n++;
    }
    st_->txn_resent_closed += n;
    close_next_ = s;
    if (s < nc_) return n;
    close_next_ = 0;
    close_active_ = false;
    closed_n_ = 0;
    closed_any_ = false;
    next_close_scan_ = now_ + close_scan_ms();
    return n;
}

// What ICMP quoted (<connection> false) or a stream message that its
// connection failed to deliver (true) names by our branch: the current
// attempt of one of our client transactions, or control's request.
bool Proxy::undeliverable(Endpoint to, const char* quoted, size_t len, Millis now, bool connection) noexcept {
    now_ = now;
    static constexpr char marker[] = "z9hG4bKsE";
    const char* p = static_cast<const char*>(memmem(quoted, len, marker, sizeof(marker) - 1));
    BranchId b;
    if (!p || size_t(quoted + len - p) < branch_len || !decode_branch({p, branch_len}, b))
        return false;
    if (b.core == control_core) {  // control's REGISTER/OPTIONS could not be delivered
        st_->control_rx++;
        lost(out_.control_unreachable(to, p, branch_len));
        return true;
    }
    if (b.core != core_ || !slot_ok(b.slot, b)) return false;
    ClientSlot& C = cli(b.slot);
    if (C.t.c.branch().attempt != b.attempt || !(client_dest(C, C.t.c.server()) == to))
        return false;  // about an earlier server: that one is already left
    TxnOut out;
    if (connection) C.t.c.on_transport_error(now_, out);
    else C.t.c.on_icmp(now_, out);
    run_client(b.slot, out, nullptr, 0);
    return true;
}

void Proxy::on_timer(uint64_t cookie) noexcept {
    const uint32_t slot = uint32_t(cookie);
    if (slot >= nslots_) return;
    SlotHead& h = head(slot);
    if (h.kind == SlotKind::free || h.gen != uint16_t(cookie >> 32)) return;
    h.timer = {};
    TxnOut out;
    if (h.kind == SlotKind::server) {
        srv(slot).t.s.on_timer(now_, out);
        run_server(slot, out, nullptr, 0, nullptr, 0, {});
    } else {
        cli(slot).t.c.on_timer(now_, out);
        run_client(slot, out, nullptr, 0);
    }
}

bool Proxy::advance(Millis now) noexcept {
    now_ = now;
    wheel_.advance(now, [this](uint64_t cookie) { on_timer(cookie); },
                   [this] { return !out_.has_step(); });
    if (wheel_.held()) return true;
    tombs_.sweep(now);
    if (revive_active_) {
        revive_scan();
        if (revive_active_) return true;
    }
    if (close_active_ || ((closed_n_ || closed_any_) && now_ >= next_close_scan_)) close_scan();
    return close_active_;
}

}  // namespace sipedge::dp
