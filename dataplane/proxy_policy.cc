// Proxy core, access policy (issue 16: no open relay; docs/security.md):
// what a request may target (helpers of route() in proxy.cc), the answers to
// refused ones, and the ACKs of our stateless rejections absorbed here.

#include <algorithm>
#include <cstring>
#include <string_view>

#include "dataplane/proxy.h"
#include "sipparse/headers.h"

namespace sipedge::dp {

// Whether <ip> is one of ours: an interface address (on any port: a datagram
// to it would come back to us), or loopback/"this network" (0/8, 127/8),
// which no request may be sent to either.
bool Proxy::own_ip(uint32_t ip) const noexcept {
    return ifs_.find(ip) >= 0 || (ip >> 24) == 127 || (ip >> 24) == 0;
}

// Whether <ip> is an access-side destination control configured: the access
// target (`set dataplane access`) or an inbound pattern's target (access
// peers). Issue 16 rule (c): requests may always go there.
bool Proxy::access_dest(uint32_t ip) const noexcept {
    if (!routes_ || ip == 0) return false;
    if (routes_->access.ip == ip) return true;
    const PatternRoutes& in = routes_->inbound;
    if (in.target_ips)
        return std::binary_search(in.target_ips, in.target_ips + in.target_ip_count, ip);
    for (uint32_t i = 0; in.targets && i < in.target_count; i++)
        if (in.targets[i].ip == ip) return true;
    return false;
}

// Whether Route value <u> (one naming us) carries the token of msg_'s
// dialog: `;sx=` over its Call-ID and the initiator's tag, which is the From
// tag in a request from the initiator and the To tag in one from the other
// side (access_policy.h).
bool Proxy::token_ok(const sip::Uri& u, const char* d, bool* th) const noexcept {
    sip::ParamList pl(d, u.params);
    sip::Span name, value;
    bool ok = false, sx = false, has_th = false;
    while (pl.next(name, value)) {
        if (name.len != 2) continue;
        const char c0 = char(d[name.off] | 0x20), c1 = char(d[name.off + 1] | 0x20);
        if (c0 == 't' && c1 == 'h') has_th = true;
        if (c0 != 's' || c1 != 'x' || sx) continue;
        sx = true;  // the first sx= decides
        uint64_t t = 0;
        if (rr_token_parse(value.str(d), t)) {
            const std::string_view cid = msg_.call_id.str(d);
            ok = t == rr_token(cfg_.rr_key, cid, msg_.from.tag.str(d)) ||
                 (msg_.to.has_tag && t == rr_token(cfg_.rr_key, cid, msg_.to.tag.str(d)));
        }
        if (!th || has_th) break;  // nothing more to look for
    }
    if (th) *th = has_th;
    return ok;
}

// A request route() refused: answered (404/403/482) and counted.
void Proxy::refuse(Verdict v, Endpoint up, const char* d, size_t n) noexcept {
    switch (v) {
    case Verdict::ok: return;
    case Verdict::not_found:
        st_->drop(DropReason::sip_no_route);
        reply_stateless(up, d, n, 404, "Not Found");
        return;
    case Verdict::forbidden:
        st_->drop(DropReason::sip_forbidden);
        reply_stateless(up, d, n, 403, "Forbidden");
        return;
    case Verdict::loop:
        st_->drop(DropReason::sip_loop);
        reply_stateless(up, d, n, 482, "Loop Detected");
        return;
    }
}

// The To tag for a stateless response to <req>: for a rejection of an
// INVITE (its hop-by-hop ACK will come back with this tag) a tag recorded in
// rejects_ for 64*T1 (Timer J, 32 s with T1 500 ms); else a plain one.
// <req> may be a request parse() refused: its method is read from the start
// line.
const char* Proxy::reject_tag(const char* req, size_t n) noexcept {
    size_t i = 0;
    while (i < n && (req[i] == '\r' || req[i] == '\n')) i++;
    if (n - i < 7 || std::memcmp(req + i, "INVITE ", 7) != 0) return next_to_tag();
    bool overwrote = false;
    const uint32_t life = 64 * (cfg_.direct_policy.t1_ms ? cfg_.direct_policy.t1_ms : 500);
    const uint32_t tag = rejects_.add(now_, life, overwrote);
    if (overwrote) st_->reject_records_overwritten++;
    RejectRing::format(tag, to_tag_);
    to_tag_[RejectRing::tag_len] = 0;
    return to_tag_;
}

// An ACK (in msg_) whose To tag is one reject_tag() minted and still holds:
// the ACK of our own stateless rejection, consumed (never forwarded).
bool Proxy::absorb_ack(const char* d) noexcept {
    uint32_t tag = 0;
    if (!msg_.to.has_tag || !RejectRing::parse(msg_.to.tag.str(d), tag) || !rejects_.has(tag, now_))
        return false;
    st_->acks_absorbed++;
    return true;
}

}  // namespace sipedge::dp
