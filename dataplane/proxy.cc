// Proxy core, request side: init, routing (§16.4-16.6), new transactions,
// CANCEL (§16.10) and stateless forwarding of ACK for 2xx.

#include "dataplane/proxy.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstring>
#include <new>
#include <string_view>
#include <type_traits>

#include "dataplane/inet.h"
#include "dataplane/route_table.h"
#include "failover/table.h"
#include "sipparse/headers.h"
#include "sipparse/rewrite.h"

namespace sipedge::dp {

Proxy::~Proxy() {
    delete[] cli_;
    delete[] srv_;
    delete[] free_c_;
    delete[] free_s_;
}

bool Proxy::init(const ProxyConfig& cfg, uint8_t core, uint64_t seed, Millis now,
                 WorkerStats& stats) noexcept {
    if (cfg.max_txns == 0) return false;
    cfg_ = cfg;
    core_ = core;
    seed_ = seed;
    nonce_ = uint32_t(seed ^ (seed >> 32));
    now_ = now;
    st_ = &stats;
    // Half the slots for each side (a proxied request holds one of each; the
    // client side's extra is its CANCEL), at least one each.
    nslots_ = cfg.max_txns < 2 ? 2 : cfg.max_txns;
    ns_ = nslots_ / 2;
    nc_ = nslots_ - ns_;
    cli_ = new (std::nothrow) ClientSlot[nc_];
    srv_ = new (std::nothrow) ServerSlot[ns_];
    free_c_ = new (std::nothrow) uint32_t[nc_];
    free_s_ = new (std::nothrow) uint32_t[ns_];
    if (!cli_ || !srv_ || !free_c_ || !free_s_) return false;
    for (uint32_t i = 0; i < nc_; i++) free_c_[i] = nc_ - 1 - i;
    for (uint32_t i = 0; i < ns_; i++) free_s_[i] = nc_ + ns_ - 1 - i;
    nfree_c_ = nc_;
    nfree_s_ = ns_;
    // Each slot arms at most one timer; the index holds server slots only.
    if (!table_.init(ns_, seed) || !wheel_.init(nslots_ + 16, now) || !bufs_.init(nslots_) ||
        !init_tombs() || !out_.init(cfg.outbox_actions, cfg.outbox_bytes, sip::max_message_size))
        return false;
    ifs_ = cfg.ifaces;
    if (ifs_.n == 0) ifs_.add(cfg.self.ip, 0, 0);  // one interface, everything on it
    // "a.b.c.d:port" per interface, for our SIP port and (issue 14) our TLS port.
    for (int k = 0; k < 2; k++) {
        const uint16_t port = k == 0 || cfg.tls_port == 0 ? cfg.self.port : cfg.tls_port;
        char pb[8];
        size_t pl = 0;
        for (uint32_t p = port; p; p /= 10) pb[pl++] = char('0' + p % 10);
        for (uint8_t f = 0; f < ifs_.n; f++) {
            char* h = self_host_[k][f];
            const size_t il = format_ipv4(ifs_.ip[f], h);
            h[il] = ':';
            for (size_t i = 0; i < pl; i++) h[il + 1 + i] = pb[pl - 1 - i];
            self_host_len_[k][f] = uint8_t(il + 1 + pl);
        }
    }
    // Stateless rejections awaiting their ACK (issue 16): tags from a per-core
    // random start, so two cores (or two runs) rarely mint the same one.
    if (!rejects_.init(RejectRing::default_size, uint32_t(seed >> 20) ^ uint32_t(core) << 28))
        return false;
    // Access peers' buckets (control's max_access_peers) and 65,536 sources (~1.5 MiB).
    if (!guard_.init(max_access_peers)) return false;
    return true;
}

uint32_t Proxy::alloc_slot(SlotKind k) noexcept {
    const bool server = k == SlotKind::server;
    uint32_t& nfree = server ? nfree_s_ : nfree_c_;
    if (nfree == 0) return npos;
    const uint32_t i = (server ? free_s_ : free_c_)[--nfree];
    // A fresh record; the generation goes on (branches of the last use are stale).
    auto renew = [k](auto& s) {
        const uint16_t gen = uint16_t(s.gen + 1);
        new (&s) std::remove_reference_t<decltype(s)>();
        s.gen = gen;
        s.kind = k;
    };
    if (server) {
        renew(srv(i));
        st_->txn_server_active++;
    } else {
        renew(cli(i));
        st_->txn_client_active++;
    }
    return i;
}

void Proxy::free_slot(uint32_t i) noexcept {
    SlotHead& h = head(i);
    if (h.kind == SlotKind::free) return;
    wheel_.cancel(h.timer);
    if (h.kind == SlotKind::server) {
        ServerSlot& s = srv(i);
        table_.erase(s.key.hash, i);
        bufs_.release(s.t.s.buf);
        st_->txn_server_active--;
        free_s_[nfree_s_++] = i;
    } else {
        ClientSlot& c = cli(i);
        bufs_.release(c.t.c.buf);
        st_->txn_client_active--;
        // An INVITE and its CANCEL point at each other through `cancel`.
        if (c.cancel != npos && is_client(c.cancel) && cli(c.cancel).cancel == i)
            cli(c.cancel).cancel = npos;
        c.cancel = npos;
        free_c_[nfree_c_++] = i;
    }
    if (h.peer != npos && head(h.peer).kind != SlotKind::free && head(h.peer).peer == i)
        head(h.peer).peer = npos;
    h.kind = SlotKind::free;
    h.peer = npos;
}

bool Proxy::slot_ok(uint32_t slot, const BranchId& b) const noexcept {
    return is_client(slot) && cli_[slot].gen == b.generation && cli_[slot].nonce == b.nonce;
}

Proxy::RxAction Proxy::on_datagram(Endpoint from, const char* d, size_t n, Millis now, uint8_t iface,
                                   bool may_pass_cancel) noexcept {
    now_ = now;
    in_if_ = iface < ifs_.n ? iface : 0;
    if (n == 0 || n > sip::max_message_size) {
        st_->drop(DropReason::sip_parse);
        return RxAction::done;
    }
    // RFC 5626 keep-alives (CRLF) are not messages: absorb them silently.
    if (n <= 4 && (d[0] == '\r' || d[0] == '\n')) return RxAction::done;
    if (sip::parse(d, n, msg_) != sip::ParseStatus::ok) {
        st_->drop(DropReason::sip_parse);
        // A request: answered 400 (505 for another version) with the reason
        // whenever a Via can be read, even with From/To/Call-ID/CSeq missing
        // or broken; else only counted (issue 16).
        if (n > 4 && std::memcmp(d, "SIP/", 4) != 0 &&
            reply_stateless(from, d, n, sip::error_status(msg_.error),
                            sip::error_reason(msg_.error), true))
            st_->malformed_answered++;
        return RxAction::done;
    }
    if (trace_on_) [[unlikely]] trace(false, from, d, n, msg_.call_id);
    may_pass_cancel_ = may_pass_cancel;
    cancel_passed_ = false;
    if (msg_.is_request) {
        st_->sip_requests_rx++;
        on_request(from, d, n);
    } else {
        st_->sip_responses_rx++;
        answered_sent_ = uint16_t(uint16_t(now_) - revive_fresh_ms);  // on_response() names its request's
        on_response(from, d, n);
        // Rare: only while some server left transactions unanswered. After
        // the response: the transaction it answered resends nothing.
        if (silent_n_) revive(from);
    }
    return cancel_passed_ ? RxAction::pass_cancel : RxAction::done;
}

// The first <max> Route values (across Route headers) as URIs; returns how
// many, or -1 when one of them cannot be parsed (it cannot be followed or
// checked: refused).
static int route_uris(const sip::Message& m, const char* d, sip::Uri* out, int max) noexcept {
    int got = 0;
    for (const sip::Header* h = m.find(sip::HeaderId::route); h && got < max; h = m.next(h)) {
        sip::CommaList list(d, h->value);
        sip::Span el;
        while (got < max && list.next(el)) {
            if (got == 0 && m.has_route0) {  // the first value: parse() read it already
                out[got++] = m.route0;
                continue;
            }
            sip::NameAddr na;
            if (!sip::parse_name_addr(d, el, na) || !sip::parse_uri(d, na.uri, out[got]))
                return -1;
            got++;
        }
    }
    return got;
}

bool uri_endpoint(const sip::Uri& u, const char* d, Endpoint& e) noexcept {
    if (u.host.kind != sip::HostKind::ipv4) return false;  // no DNS on the data plane
    // The URI parser took the host as a dotted quad only after checking it
    // (four octets of 1-3 digits, each at most 255): its value without a
    // second validation (this runs two or three times per in-dialog request).
    // Octet by octet: a first digit, then at most two more before the dot
    // or the end (a byte loop over the text cost twice this).
    const char* p = d + u.host.host.off;
    const char* const end = p + u.host.host.len;
    uint32_t ip = 0;
    for (int k = 0; k < 4; k++, p++) {  // p++: past the dot (or the end)
        uint32_t o = uint32_t(*p++ - '0');
        if (p != end && *p != '.') {
            o = o * 10 + uint32_t(*p++ - '0');
            if (p != end && *p != '.') o = o * 10 + uint32_t(*p++ - '0');
        }
        ip = ip << 8 | o;
    }
    e.ip = ip;
    assert(parse_ipv4(u.host.host.str(d), ip) && ip == e.ip);
    // RFC 3261 §19.1.2 / §26.2: sips is TLS; ;transport= picks UDP, TCP or
    // TLS; another transport (SCTP, WS) is not one this edge carries.
    e.tp = u.kind == sip::UriScheme::sips ? sip::Transport::tls : sip::Transport::udp;
    if (u.transport.len) {
        const sip::Transport t = sip::transport_from(d + u.transport.off, u.transport.len);
        if (t != sip::Transport::udp && t != sip::Transport::tcp && t != sip::Transport::tls) return false;
        if (e.tp != sip::Transport::tls) e.tp = t;  // sips over "tcp" means TLS (RFC 5630 §3.1.3)
    }
    e.port = u.host.has_port ? u.host.port : e.tp == sip::Transport::tls ? 5061 : 5060;
    return true;
}

// Whether <e> is one of our SIP addresses (any interface, our SIP port).
bool Proxy::is_self(Endpoint e) const noexcept {
    return (e.port == cfg_.self.port || (cfg_.tls_port && e.port == cfg_.tls_port)) && ifs_.find(e.ip) >= 0;
}

// The interface a datagram to <dst> leaves by (the worker picks the same);
// interface 0 when none reaches it (the worker then drops it, counted).
uint8_t Proxy::out_iface(uint32_t dst) const noexcept {
    const int f = ifs_.egress(dst);
    return f < 0 ? 0 : uint8_t(f);
}

// Our Record-Route for a request that came in on <in> over <in_tp> and
// leaves by <out> over <out_tp>: one entry when interface and transport are
// the same, else two (RFC 5658 double Record-Route): the outgoing one on
// top, which the downstream side routes to, then the incoming one, which the
// upstream side routes to. A TCP/TLS side's entry says so (;transport=,
// RFC 3261 §16.6 step 4: bridging transports must record-route).
// A TLS side's entry is a sips: URI on our TLS port (RFC 5630 §3.1.3: not
// ";transport=tls", which it deprecates). Each value carries the dialog's
// token (issue 16; access_policy.h): "<sip:a.b.c.d:port[;transport=tcp];lr;sx=<token>>".
std::string_view Proxy::record_route(uint8_t in, sip::Transport in_tp, uint8_t out, sip::Transport out_tp,
                                     const char* token, bool th) noexcept {
    size_t n = 0;
    auto one = [&](uint8_t f, sip::Transport tp) {
        const std::string_view h = host_of(f, tp);
        const std::string_view scheme = tp == sip::Transport::tls ? "<sips:" : "<sip:";
        std::memcpy(rr2_ + n, scheme.data(), scheme.size());
        n += scheme.size();
        std::memcpy(rr2_ + n, h.data(), h.size());
        n += h.size();
        const std::string_view t = tp == sip::Transport::tcp ? ";transport=tcp;lr" : ";lr";
        std::memcpy(rr2_ + n, t.data(), t.size());
        n += t.size();
        const std::string_view mid = th ? ";th;sx=" : ";sx=";
        std::memcpy(rr2_ + n, mid.data(), mid.size());
        n += mid.size();
        std::memcpy(rr2_ + n, token, rr_token_len);
        n += rr_token_len;
        rr2_[n++] = '>';
    };
    one(out, out_tp);
    if (in != out || in_tp != out_tp) {
        rr2_[n++] = ',';
        one(in, in_tp);
    }
    return {rr2_, n};
}

// Whether <ip> is one of the configured carrier servers (any trunk).
bool Proxy::from_carrier(uint32_t ip) const noexcept {
    if (!routes_ || routes_->carrier_count == 0) return false;
    return std::binary_search(routes_->carriers, routes_->carriers + routes_->carrier_count, ip);
}

// The route pattern of <p> that wins for msg_'s Request-URI user part from
// <src> (host order): true and its target index when one matched. Counts the
// outcome; bad input (user part over 128 bytes, bad %-escape) and a scan
// error (no scratch for this core, or not this table's) count as no match.
// No pattern table at all: false, nothing counted.
bool Proxy::match_pattern(const PatternRoutes& p, uint32_t src, const char* d,
                          uint32_t& target) noexcept {
    if (!p.table || p.table->size() == 0) return false;
    if (core_ >= p.workers || !p.scratch || !p.scratch[core_]) {
        st_->route_scan_error++;
        return false;
    }
    RouteHit hit;
    switch (p.table->lookup(*p.scratch[core_], msg_.ruri.user.str(d), src, hit)) {
    case RouteStatus::matched:
        if (hit.target >= p.target_count) break;  // an inconsistent snapshot
        st_->route_matched++;
        target = hit.target;
        return true;
    case RouteStatus::no_match: st_->route_no_match++; return false;
    case RouteStatus::bad_input: st_->route_bad_input++; return false;
    case RouteStatus::scan_error: break;
    }
    st_->route_scan_error++;
    return false;
}

// §16.4/§16.6 under the access policy (issue 16, docs/security.md): decides
// where the request in msg_ goes, or why it goes nowhere.
//
// Our own Route values on top are removed (one, or two after a double
// Record-Route, RFC 5658); a next Route naming one of our addresses after
// them is a loop (482). The request is "verified" when the first of ours carries the
// dialog's token (token_ok()): the Route set begins with a Record-Route we
// wrote for this dialog. Then:
// - a next Route: followed when verified or when it names an access-side
//   destination (access target, inbound pattern targets); else 403;
// - in dialog (To tag, or ACK), a Request-URI naming another host: the same
//   (a Request-URI naming one of our addresses on another port, or
//   loopback, is a loop); one naming us or a name: no next hop, see below;
// - in dialog with no next hop: verified, or from a carrier server: the
//   fallback below; from the access side unverified: 403 (a stray BYE/ACK
//   must not reach the trunk);
// - out of dialog (no To tag, not ACK): the route patterns (from a carrier
//   server the inbound table, its access target; from the access side the
//   outbound table, its trunk), then the default trunk / the access target;
//   with neither: 404.
// No snapshot at all: the trunk path, which answers 503 (not ready). Names
// (not literals) in Route are refused (404): resolution belongs to dns/ on
// the control side. Each refusal is counted by reason (policy_*).
Proxy::Verdict Proxy::route(Endpoint from, const char* d, Target& t) noexcept {
    const sip::Message& m = msg_;
    constexpr int max_routes = 8;
    sip::Uri r[max_routes];
    const int nr = route_uris(m, d, r, max_routes);
    if (nr < 0) {
        st_->policy_route_denied++;
        return Verdict::forbidden;
    }
    // Each Route URI's address, worked out once (the checks below ask for
    // the same ones again): 0 not yet, 1 an address, 2 none (a name...).
    Endpoint re[max_routes];
    uint8_t rk[max_routes] = {};
    auto route_ep = [&](int i, Endpoint& out) {
        if (rk[i] == 0) rk[i] = uri_endpoint(r[i], d, re[i]) ? 1 : 2;
        out = re[i];
        return rk[i] == 1;
    };
    Endpoint e;
    // Ours on top: one, or two after a double Record-Route (RFC 5658).
    int next = 0;
    while (next < nr && next < 2 && route_ep(next, e) && is_self(e)) next++;
    t.strip_routes = uint8_t(next);
    // The next hop after ours naming us again (a third <sip:edge;lr>, our
    // address on another port, loopback): we would send to ourselves. Ours
    // further down, behind another hop, is a spiral and fine.
    if (nr > next && route_ep(next, e) && own_ip(e.ip)) {
        st_->policy_loop++;
        return Verdict::loop;
    }
    // Verified, and a hidden dialog (issue 16: ;th on our Record-Route),
    // from one walk over each of our values' parameters.
    bool th0 = false, th1 = false;
    const bool verified = next > 0 && (token_ok(r[0], d, &th0) || (next > 1 && token_ok(r[1], d, &th1)));
    if (verified) {
        if (next > 1 && !th0 && !th1) token_ok(r[1], d, &th1);  // r[0] verified: r[1] not walked yet
        t.th = th0 || th1;
    }
    const bool in_dialog = m.to.has_tag || m.method == sip::Method::ack;
    auto deny = [&](bool foreign_route) {
        if (next > 0 && in_dialog) st_->policy_token_bad++;     // ours on top, token wrong or absent
        else if (foreign_route) st_->policy_route_denied++;     // a Route we did not write
        else st_->policy_dialog_denied++;                       // in dialog with no Route of ours
        return Verdict::forbidden;
    };
    if (nr > next) {
        const bool literal = route_ep(next, t.addr);
        if (!verified && !(literal && access_dest(t.addr.ip))) return deny(true);
        return literal ? Verdict::ok : Verdict::not_found;
    }
    // A Request-URI naming us with a ;sxh= we minted (topology hiding): the
    // Contact it stands for, for a carrier or behind our verified Route (an
    // encoded Contact may name a carrier's host shown to a PBX: from the
    // access side outside our dialogs it steers nothing); not minted: 404.
    const size_t ul = verified || from_carrier(from.ip) ? unhide_uri(m.ruri, d, t.addr, ruri_, sizeof ruri_) : 0;
    if (ul) {
        if (ul == ~size_t(0)) {
            st_->hide_bad++;
            return Verdict::not_found;
        }
        ruri_len_ = uint16_t(ul);
        t.unhide = true;
        st_->hide_decoded++;
        return Verdict::ok;
    }
    const bool carrier = from_carrier(from.ip);
    if (in_dialog) {
        if (uri_endpoint(m.ruri, d, e) && !is_self(e)) {
            if (own_ip(e.ip)) {
                st_->policy_loop++;
                return Verdict::loop;
            }
            if (!verified && !access_dest(e.ip)) return deny(false);
            // A Request-URI that names no transport (a contact such as
            // sip:a@host:port) goes over the transport our last Route names:
            // the Record-Route entry we wrote for that side of the dialog
            // (RFC 5658: ;transport=tcp on the access side's entry when
            // bridging), so a TCP caller gets its in-dialog requests over TCP.
            Endpoint ours;
            if (next > 0 && m.ruri.transport.len == 0 && m.ruri.kind != sip::UriScheme::sips &&
                route_ep(next - 1, ours))
                e.tp = ours.tp;
            t.addr = e;
            return Verdict::ok;
        }
        if (!verified && !carrier) return deny(false);
    }
    const bool patterns = !in_dialog;
    uint32_t target = 0;
    if (carrier) {  // from a carrier: towards the access side
        if (patterns && match_pattern(routes_->inbound, from.ip, d, target)) {
            t.addr = routes_->inbound.targets[target];
            return Verdict::ok;
        }
        if (routes_->access.ip == 0) return Verdict::not_found;
        t.addr = routes_->access;
        return Verdict::ok;
    }
    t.trunk = true;
    if (!routes_) return Verdict::ok;  // not ready: 503
    if (patterns && match_pattern(routes_->outbound, from.ip, d, target)) {
        t.trunk_id = routes_->outbound.trunk_ids[target];  // ~0u: not running (503)
        return Verdict::ok;
    }
    t.trunk_id = routes_->default_trunk;
    return t.trunk_id != ~0u ? Verdict::ok : Verdict::not_found;  // no default trunk: 404
}


// msg_'s Request-URI with its host[:port] replaced as trunk <tr> asks
// (request-uri-host domain: the trunk's domain; server: <server>'s address,
// ":port" unless 5060), written to scratch2_. Its length (0: does not fit),
// and where the new host[:port] sits inside it.
size_t Proxy::ruri_with_host(const failover::TrunkRoutes& tr, Endpoint server, const char* d,
                             size_t& host_at, size_t& host_len) noexcept {
    const sip::Uri& u = msg_.ruri;
    size_t h1 = u.host.host.end();  // past the port too, when there is one
    if (u.host.has_port && h1 < u.all.end() && d[h1] == ':') {
        h1++;
        while (h1 < u.all.end() && d[h1] >= '0' && d[h1] <= '9') h1++;
    }
    char host[280];
    size_t hl = 0;
    if (tr.ruri_host == failover::RuriHost::domain) {
        if (tr.ruri_domain_len == 0) return 0;
        std::memcpy(host, tr.ruri_domain, tr.ruri_domain_len);
        hl = tr.ruri_domain_len;
    } else {
        hl = format_ipv4(server.ip, host);
        if (server.port != 5060) hl += size_t(std::snprintf(host + hl, sizeof host - hl, ":%u", server.port));
    }
    const size_t pre = u.host.host.off - u.all.off, post = u.all.end() - h1;
    if (pre + hl + post > sizeof scratch2_ || u.host.host.off < u.all.off || h1 > u.all.end()) return 0;
    std::memcpy(scratch2_, d + u.all.off, pre);
    std::memcpy(scratch2_ + pre, host, hl);
    std::memcpy(scratch2_ + pre + hl, d + h1, post);
    host_at = pre;
    host_len = hl;
    return pre + hl + post;
}

void Proxy::on_request(Endpoint from, const char* d, size_t n) noexcept {
    const sip::Message& m = msg_;
    // The top Via names the transport the request came over (§18.2.1).
    if (m.top_via.transport != from.tp) {
        st_->drop(DropReason::sip_not_udp);
        return;
    }
    // §18.2.2 with RFC 3581: over UDP responses go to the source address, to
    // the source port when rport was asked for, else to the sent-by port;
    // over TCP/TLS back on the connection the request came on (its address).
    Endpoint up = from;
    if (!from.stream() && !m.top_via.has_rport)
        up.port = m.top_via.sent_by.has_port ? m.top_via.sent_by.port : 5060;

    switch (m.method) {
    case sip::Method::ack: st_->acks_rx++; break;
    case sip::Method::bye: st_->byes_rx++; break;
    case sip::Method::cancel:
        st_->cancels_rx++;
        on_cancel(up, d, n);
        return;
    default: break;
    }

    TxnKey k;
    if (!server_key(m, d, seed_, k)) {
        st_->drop(DropReason::sip_parse);
        return;
    }
    const sip::Method meth = m.method;
    // A new request is looked up in both indexes (live transactions, then
    // tombstones: admit_new()): both buckets load at once (two cache misses
    // overlapped in a large table).
    tombs_.prefetch(k.hash);
    const uint32_t s = table_.find(k, k.hash, [&](uint32_t i, const TxnKey& key) {
        if (!is_server(i)) return false;
        const ServerSlot& x = srv(i);
        return x.key == key && (!key.rfc2543() || x.t.s.accepts_2543(meth, key.to_tag));
    });
    if (s != TxnTable::npos) {
        TxnOut out;
        srv(s).t.s.on_request(meth, now_, out);
        if (meth != sip::Method::ack) st_->sip_retransmissions_rx++;
        run_server(s, out, nullptr, 0, d, n, from);
        return;
    }
    if (meth == sip::Method::ack) {
        // The ACK of one of our stateless rejections: ours, consumed here.
        if (absorb_ack(d)) return;
        // ACK for a 2xx after Timer L, or a stray: end to end when the
        // access policy lets it (route()), else dropped (counted).
        forward_stateless(from, d, n);
        return;
    }
    new_transaction(up, d, n, k);
    (void)from;
}

void Proxy::new_transaction(Endpoint up, const char* d, size_t n, const TxnKey& key) noexcept {
    if (!admit_new(up, d, n, key)) return;  // tombstone copy / overload 503 (proxy_tomb.cc)
    const sip::Message& m = msg_;
    // §16.3 step 3 / §16.6 step 3: Max-Forwards 0 ends here.
    if (m.has_max_forwards && m.max_forwards == 0) {
        reply_stateless(up, d, n, 483, "Too Many Hops");
        return;
    }
    Target t;
    if (const Verdict v = route(Endpoint{up.ip, 0}, d, t); v != Verdict::ok) {
        refuse(v, up, d, n);
        return;
    }
    // The default trunk's candidates in the current snapshot (IPv4 UDP only on
    // this data plane): the walk keeps their server indices, not the snapshot.
    const failover::TrunkRoutes* tr = nullptr;
    uint8_t walk[max_walk];
    uint8_t walk_n = 0;
    uint8_t first_cand = 0;  // tr->cand index of walk[0]
    uint16_t walk_reliable = 0;  // bit per walk position: that server over TCP/TLS
    if (t.trunk) {
        if (routes_ && routes_->table) tr = routes_->table->find(t.trunk_id);
        for (uint8_t i = 0; tr && i < tr->count && walk_n < max_walk; i++) {
            const sip::Transport ct = tr->cand[i].transport;
            const bool stream = ct == sip::Transport::tcp || ct == sip::Transport::tls;
            if (tr->cand[i].family != 4 || !(ct == sip::Transport::udp || (stream && cfg_.streams))) continue;
            if (walk_n == 0) first_cand = i;
            if (stream) walk_reliable |= uint16_t(1u << walk_n);
            walk[walk_n++] = uint8_t(tr->cand[i].server_idx);
        }
        if (walk_n == 0) {  // unknown trunk, not registered, every server held
            st_->drop(DropReason::sip_no_route);
            reply_stateless(up, d, n, 503, "Service Unavailable");
            return;
        }
    }
    if (nfree_s_ == 0 || nfree_c_ == 0 || table_.size() >= table_.capacity()) {
        st_->drop(DropReason::txn_exhausted);
        reply_stateless(up, d, n, 503, "Service Unavailable");
        return;
    }
    const uint32_t ss = alloc_slot(SlotKind::server);
    const uint32_t cs = alloc_slot(SlotKind::client);
    ServerSlot& S = srv(ss);
    ClientSlot& C = cli(cs);
    S.key = key;
    S.addr = up;
    S.peer = cs;
    S.t.s.buf = 0;
    C.peer = ss;
    C.direct = !t.trunk;
    C.addr = t.addr;
    if (tr) {
        C.trunk_id = tr->trunk_id;
        C.list_epoch = tr->list_epoch;
        C.walk_n = walk_n;
        std::memcpy(C.walk, walk, walk_n);
    }
    C.nonce = ++nonce_;
    new (&C.t.c) ClientTxn();

    // §16.6: copy, loose-route, Max-Forwards, Record-Route, our Via on top.
    BranchId b{cs, C.nonce, C.gen, core_, 0};
    // Our Via and Record-Route name the interface the first destination is
    // reached by; a rollover to a server behind another one rewrites them
    // (rehome()).
    const uint8_t oif = out_iface(t.trunk ? candidate_ip(tr->cand[first_cand]) : t.addr.ip);
    const sip::Transport out_tp = t.trunk ? tr->cand[first_cand].transport : t.addr.tp;
    C.via_if = oif;
    C.via_tp = out_tp;
    C.in_if = in_if_;
    C.in_tp = up.tp;
    const size_t vl = our_via(b, oif, out_tp, via_);
    const bool invite = m.method == sip::Method::invite;
    const bool dialog = invite || m.method == sip::Method::subscribe;  // dialog-creating
    // Topology hiding (proxy_hide.cc): toward a trunk with it on, or in a
    // dialog that has it, towards a carrier; answers going to one.
    const bool from_car = from_carrier(up.ip);
    const bool hide_up = tr ? (tr->flags & failover::routes_hide_topology) != 0
                            : !from_car && (t.th || hidden_carrier(t.addr.ip));
    const bool hide_down = from_car && (t.th || hidden_carrier(up.ip));
    sip::Rewriter rw(d, m);
    bool ok = rw.prepend_via({via_, vl}) && rw.decrement_max_forwards();
    if (ok && t.strip_routes) ok = rw.remove_top_routes(t.strip_routes);
    if (ok && t.unhide) ok = rw.set_request_uri({ruri_, ruri_len_});
    // The trunk's request-uri-host: its domain, or the first server (moved
    // on by each rollover, retarget_ruri()).
    size_t ruri_at = 0, ruri_host_len = 0;
    const bool sip_uri = m.ruri.kind == sip::UriScheme::sip || m.ruri.kind == sip::UriScheme::sips;
    if (ok && tr && tr->ruri_host != failover::RuriHost::keep && sip_uri) {
        const failover::Candidate& c0 = tr->cand[first_cand];
        const size_t ul = ruri_with_host(*tr, Endpoint{candidate_ip(c0), c0.port}, d, ruri_at, ruri_host_len);
        ok = ul != 0 && rw.set_request_uri({scratch2_, ul});
    }
    std::string_view rr;
    if (ok && dialog) {
        // The dialog's token (issue 16): Call-ID and the initiator's (From) tag.
        char token[rr_token_len];
        rr_token_hex(rr_token(cfg_.rr_key, m.call_id.str(d), m.from.tag.str(d)), token);
        rr = record_route(in_if_, up.tp, oif, out_tp, token, hide_up || hide_down);
        ok = rw.add_record_route(rr);
    }
    // Removals last: our Via and Record-Route may be inserted where they were.
    if (ok && hide_up) ok = hide_request(rw, d, oif) && (!dialog || hide_record_routes(rw));
    // Hidden lines are kept at the buffer's end (keep_hidden()).
    const size_t keep = hide_up ? hidden_size(d, dialog) : 0;
    size_t len = ok && keep < sizeof scratch_ ? rw.finish(scratch_, sizeof scratch_ - keep) : 0;
    if (len && len <= max_payload(out_tp)) {
        // Retained at its size (issue 15): the smallest slot holding the
        // message, its hidden lines and retained_slack; a rollover whose Via
        // or Record-Route need more moves it to a larger one (grow()). The
        // server side gets a buffer only when it has a response to repeat
        // (run_server): a pending INVITE holds this one message.
        const size_t need = len + keep + retained_slack;
        const uint32_t cbuf = bufs_.alloc(need < MsgPool::max_size ? need : MsgPool::max_size);
        if (!cbuf) {
            free_slot(cs);
            free_slot(ss);
            st_->drop(DropReason::txn_exhausted);
            reply_stateless(up, d, n, 503, "Service Unavailable");
            return;
        }
        std::memcpy(bufs_.data(cbuf), scratch_, len);
        bufs_.len(cbuf) = uint32_t(len);
        C.t.c.buf = cbuf;
    }
    if (len && hide_up) {
        if (!keep_hidden(C, d, dialog)) len = 0;
        else st_->hide_requests++;
    }
    C.hide_down = hide_down;
    C.th = hide_up || hide_down;
    if (len == 0 || len > max_payload(out_tp)) {
        st_->drop(len == 0 ? DropReason::sip_rewrite : DropReason::sip_too_big);
        free_slot(cs);
        free_slot(ss);
        reply_stateless(up, d, n, len == 0 ? 500 : 513,
                        len == 0 ? "Server Internal Error" : "Message Too Large");
        return;
    }
    const uint32_t cbuf = C.t.c.buf;
    // Where the Rewriter wrote our branch and Record-Route (the retained
    // copy is finish()'s output as it was), not searched for.
    const size_t br = rw.placed(via_ + (vl - branch_len));
    C.branch_off = uint16_t(br != rw.npos && br + branch_len <= len ? br : 0);
    if (ruri_host_len && tr->ruri_host == failover::RuriHost::server) {
        const char* sp = static_cast<const char*>(std::memchr(bufs_.data(cbuf), ' ', len));
        const size_t at = sp ? size_t(sp - bufs_.data(cbuf)) + 1 + ruri_at : 0;
        if (sp && at + ruri_host_len <= len && ruri_host_len <= 255) {
            C.ruri_off = uint16_t(at);
            C.ruri_len = uint8_t(ruri_host_len);
        }
    }
    if (!rr.empty()) {
        const size_t at = rw.placed(rr.data());
        const bool in = at != rw.npos && at + rr.size() <= len;
        C.rr_off = uint16_t(in ? at : 0);
        C.rr_len = uint8_t(in ? rr.size() : 0);
    }

    if (table_.insert_absent(key.hash, ss) != TxnTable::InsertStatus::inserted) {
        st_->drop(DropReason::txn_exhausted);
        free_slot(cs);
        free_slot(ss);
        return;
    }
    st_->txn_server_created++;
    st_->txn_client_created++;
    if (invite) st_->calls_attempted++;

    // Server side first: 100 Trying goes out before the request moves on.
    ServerTxn::Setup sset;
    sset.method = m.method;
    sset.timers.t1_ms = tr ? tr->policy[0].t1_ms : cfg_.direct_policy.t1_ms;
    sset.timers.t2_ms = tr ? tr->policy[0].t2_ms : cfg_.direct_policy.t2_ms;
    sset.timers.t4_ms = cfg_.t4_ms;
    sset.req_to_tag = key.to_tag;
    sset.reliable = up.stream();  // §17.2: no response retransmissions, Timers I/J zero
    TxnOut out;
    S.t.s.start(sset, now_, out);
    run_server(ss, out, nullptr, 0, d, n, up);

    ClientTxn::Setup cset;
    const bool reg = m.method == sip::Method::register_;
    cset.method = m.method;
    cset.kind = invite ? failover::RequestKind::invite
                       : (reg ? failover::RequestKind::register_ : failover::RequestKind::other);
    // The trunk's policy for this kind of request (a copy: the snapshot may
    // be replaced while the walk goes on); RFC 3261 timers for direct ones.
    cset.policy = tr ? tr->policy[size_t(cset.kind)]
                     : failover::rfc3261_policy(cfg_.direct_policy.t1_ms,
                                                cfg_.direct_policy.t2_ms, cset.kind);
    cset.server_count = C.direct ? 1 : walk_n;
    cset.trunk_id = C.trunk_id;
    cset.list_epoch = C.list_epoch;
    cset.t4_ms = cfg_.t4_ms;
    cset.timer_c_ms = invite ? cfg_.timer_c_ms : 0;
    cset.provisional_timeout_ms = invite && tr ? uint32_t(tr->provisional_timeout_s) * 1000 : 0;
    cset.branch = b;
    // §17.1: no retransmissions, Timers D/K zero, per server of the walk.
    cset.reliable = !t.trunk && out_tp != sip::Transport::udp;
    cset.reliable_mask = t.trunk ? walk_reliable : 0;
    out.clear();
    C.t.c.start(cset, now_, out);
    run_client(cs, out, nullptr, 0);
}

// §16.10: a CANCEL is answered here (200) and, when its INVITE is still
// pending downstream, sent on along the INVITE's branch.
void Proxy::on_cancel(Endpoint up, const char* d, size_t n) noexcept {
    TxnKey k;
    if (!cancel_target_key(msg_, d, seed_, k)) {
        st_->drop(DropReason::sip_parse);
        return;
    }
    const uint32_t s = table_.find(k, k.hash, [&](uint32_t i, const TxnKey& key) {
        return is_server(i) && srv(i).key == key;
    });
    const bool completed = s == TxnTable::npos && tomb_cancel(k);  // 200, no effect (§16.10)
    if (s == TxnTable::npos && !completed) {
        if (may_pass_cancel_) {  // another worker may hold the INVITE: the caller passes it on
            cancel_passed_ = true;
            st_->cancels_rx--;  // counted where it is answered, once
            return;
        }
        reply_stateless(up, d, n, 481, "Call/Transaction Does Not Exist");
        return;
    }
    reply_stateless(up, d, n, 200, "OK");
    if (completed) return;
    ServerSlot& S = srv(s);
    if (!S.t.s.cancellable() || S.cancel_requested || S.peer == npos) return;
    S.cancel_requested = true;
    TxnOut out;
    cli(S.peer).t.c.on_cancel_request(now_, out);
    run_client(S.peer, out, nullptr, 0);
}

// ACK for a 2xx (and any ACK matching no transaction): §16.6 forwarding
// without a transaction. Its branch names no slot (slot all ones).
void Proxy::forward_stateless(Endpoint from, const char* d, size_t n) noexcept {
    (void)n;
    const sip::Message& m = msg_;
    if (m.has_max_forwards && m.max_forwards == 0) {
        st_->drop(DropReason::sip_no_route);
        return;
    }
    Target t;
    if (const Verdict v = route(from, d, t); v != Verdict::ok) {  // never answered: an ACK
        st_->drop(v == Verdict::forbidden ? DropReason::sip_forbidden
                  : v == Verdict::loop    ? DropReason::sip_loop
                                          : DropReason::sip_no_route);
        return;
    }
    Endpoint to = t.addr;
    if (t.trunk) {  // a stray ACK with no dialog route: the trunk's first candidate
        const failover::TrunkRoutes* tr =
            routes_ && routes_->table ? routes_->table->find(t.trunk_id) : nullptr;
        if (!tr || tr->count == 0 || tr->cand[0].family != 4) {
            st_->drop(DropReason::sip_no_route);
            return;
        }
        to = Endpoint{candidate_ip(tr->cand[0]), tr->cand[0].port};
    }
    BranchId b{npos, ++nonce_, 0, core_, 0};
    const uint8_t oif = out_iface(to.ip);
    const size_t vl = our_via(b, oif, to.tp, via_);
    const failover::TrunkRoutes* htr = t.trunk && routes_ && routes_->table ? routes_->table->find(t.trunk_id) : nullptr;
    const bool hide = htr ? (htr->flags & failover::routes_hide_topology) != 0
                          : !from_carrier(from.ip) && (t.th || hidden_carrier(to.ip));
    sip::Rewriter rw(d, m);
    bool ok = rw.prepend_via({via_, vl}) && rw.decrement_max_forwards() && (!hide || hide_request(rw, d, oif));
    if (ok && t.strip_routes) ok = rw.remove_top_routes(t.strip_routes);
    if (ok && t.unhide) ok = rw.set_request_uri({ruri_, ruri_len_});
    if (ok && hide) st_->hide_requests++;
    const size_t len = ok ? rw.finish(scratch_, sizeof(scratch_)) : 0;
    if (len == 0 || len > max_payload(to.tp)) {
        st_->drop(len == 0 ? DropReason::sip_rewrite : DropReason::sip_too_big);
        return;
    }
    st_->stateless_forwarded++;
    send(to, scratch_, len, true);
}

}  // namespace sipedge::dp
