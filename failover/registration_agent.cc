// Registration agent: REGISTER walks over the server list, refreshes at the
// granted expiry's threshold, max-concurrent-reg, digest authentication (401
// and 407, MD5 and SHA-256, qop=auth), 423 Min-Expires, denials and RFC 5626
// back-off, Call-ID rules, unregistering, failure notifications
// (registration_agent.h).

#include "failover/registration_agent.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "failover/backoff.h"
#include "sipparse/headers.h"
#include "sipparse/message.h"

namespace sipedge::failover {

namespace {

std::string hex(uint64_t v, int digits) {
    char b[17];
    for (int i = digits - 1; i >= 0; i--, v >>= 4) b[i] = "0123456789abcdef"[v & 15];
    return std::string(b, size_t(digits));
}

const char* transport_token(sip::Transport t) noexcept {
    switch (t) {
    case sip::Transport::tcp: return "TCP";
    case sip::Transport::tls: return "TLS";
    case sip::Transport::sctp: return "SCTP";
    default: return "UDP";
    }
}

// Appends printf output to buf[len, cap); false when it does not fit. A C
// variadic so that the compiler checks every <fmt> against its arguments
// (and builds with -Werror=format-security, Debian's default, pass).
[[gnu::format(printf, 4, 5)]] bool put(char* buf, size_t cap, size_t& len, const char* fmt, ...) {
    if (len >= cap) return false;
    va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    if (n < 0 || size_t(n) >= cap - len) return false;
    len += size_t(n);
    return true;
}

// REGISTERs of <t> in flight (binding and unbinding).
uint32_t in_flight(const Trunk& t) noexcept {
    uint32_t n = 0;
    for (const Registration& r : t.regs) n += (r.txn_server >= 0) + (r.unreg_server >= 0);
    return n;
}

}  // namespace

RegistrationAgent::RegistrationAgent(Random& rng, std::vector<Action>& out, RegistrationHost& host,
                                     std::string user_agent)
    : rng_(rng), out_(out), host_(host), user_agent_(std::move(user_agent)) {}

void RegistrationAgent::add_identities(Trunk& t, std::vector<Identity>& ids, Millis first_at) {
    for (Identity& i : ids) {
        Registration r;
        r.id = std::move(i);
        if (r.id.auth_user.empty()) r.id.auth_user = r.id.user;
        r.next_attempt_at = first_at;
        new_call_id(t, r);
        t.regs.push_back(std::move(r));
    }
}

void RegistrationAgent::new_call_id(const Trunk& t, Registration& r) {
    r.call_id = hex(rng_.next(), 16) + "-" + std::to_string(++call_seq_) + "@" + t.name;
    if (t.name.empty()) r.call_id.pop_back();
    r.from_tag = hex(rng_.next(), 12);
}

// Starts a registration walk. <origin> is the failed server (its service
// record is searched first) or -1 to start from the top.
void RegistrationAgent::start_walk(Trunk& t, int16_t origin, Millis now) {
    t.sticky_pending = -1;  // that registration did not succeed: the new order rules
    t.walk_origin = origin;
    t.walk_tried = origin >= 0 ? 1u << origin : 0;
    const int c = host_.next_candidate(t, now);
    if (c < 0) {
        bool resolved = false;
        for (const ServerState& s : t.servers) resolved |= s.family != 0;
        if (!resolved && now < t.dns_wait_until) {
            // A DNS-named trunk before its first answer: nothing failed, so no
            // back-off; update_servers() starts the walk when the answer
            // comes, on_tick() backs off if none came by dns_wait_until.
            t.reg_target = -1;
            if (t.last.what != Decision::awaiting_dns) record(t, Decision::awaiting_dns, now, -1);
            return;
        }
        walk_exhausted(t, now);
        return;
    }
    t.dns_wait_until = 0;
    t.reg_target = int16_t(c);
    for (Registration& r : t.regs)
        if (r.txn_server >= 0 && r.txn_server != t.reg_target) {
            r.txn_server = -1;  // abandoned: its response will not match
            r.txn_deadline = never_ms;
        }
    t.dirty = true;
}

// <failed> did not accept a REGISTER (timeout, 503 with rollover, ICMP): the
// next candidate, or back-off when none is left (seed A step 4: "If this
// request fails, the validation process begins again at Step 2").
void RegistrationAgent::advance_walk(Trunk& t, uint16_t failed, Trigger why, Millis now) {
    t.walk_tried |= 1u << failed;
    if (t.walk_origin < 0 && t.failback_walk) t.walk_origin = int16_t(failed);
    const int c = host_.next_candidate(t, now);
    if (c < 0) {
        walk_exhausted(t, now);
        return;
    }
    t.reg_target = int16_t(c);
    record(t, Decision::failover, now, int16_t(c), int16_t(failed), why);
    for (Registration& r : t.regs) {
        r.next_attempt_at = std::min(r.next_attempt_at, now);
        if (r.txn_server >= 0 && r.txn_server != t.reg_target) {
            r.txn_server = -1;
            r.txn_deadline = never_ms;
        }
    }
    if (t.reg_target == t.active) host_.walk_landed(t, now);
}

// seed P "When All Failover Routes Fail": registration lost, RFC 5626 back-off
// (W = min(max, base·2^n), uniform in [W/2, W]); then a new Call-ID unless
// newCallOnUnRegister = 0, and REGISTER from the top again. No other address
// is invented: after the last SRV target there is no A-record/5060 fall-back
// (FreeSWITCH #2144).
void RegistrationAgent::walk_exhausted(Trunk& t, Millis now) {
    const Millis wait = backoff_wait_ms(t.knobs.register_retry_base_s, t.knobs.register_retry_max_s,
                                        t.backoff_count, rng_);
    t.backoff_count++;
    t.backoff_until = now + wait;
    t.reg_target = -1;
    t.active = -1;
    t.anchor = -1;
    t.walk_origin = -1;
    t.walk_tried = 0;
    t.failback_at = never_ms;
    t.failback_walk = false;
    for (Registration& r : t.regs) {
        if (r.bound >= 0 || r.ever_registered) r.lost = true;
        r.bound = -1;
        r.refresh_at = never_ms;
        r.txn_server = -1;
        r.txn_deadline = never_ms;
    }
    record(t, Decision::failover_exhausted, now, -1);
    notify(t, NoticeKind::registration_lost, now);
}

// Starts every REGISTER that is due, within max-concurrent-reg (seed A).
void RegistrationAgent::pump(Trunk& t, Millis now) {
    if (!t.knobs.register_enabled || t.reg_target < 0 || t.backoff_until > now) return;
    uint32_t busy = in_flight(t);
    const uint16_t target = uint16_t(t.reg_target);
    for (uint16_t i = 0; i < t.regs.size(); i++) {
        Registration& r = t.regs[i];
        if (r.txn_server >= 0 || now < r.next_attempt_at) continue;
        if (r.kept == t.reg_target && r.kept_expires_at > now && r.bound < 0) {
            // failRegistrationOn=0: the kept binding is still valid there.
            r.bound = r.kept;
            r.kept = -1;
            r.expires_at = r.kept_expires_at;
            r.refresh_at = std::max(now, r.expires_at - Millis(refresh_lead_s(t.knobs, r.granted_s)) * 1000);
            on_registered(t, i, target, uint32_t((r.expires_at - now) / 1000), now);
            continue;
        }
        const bool need = r.bound != t.reg_target || now >= r.refresh_at;
        if (!need) continue;
        if (busy >= t.knobs.max_concurrent_reg) break;
        if (r.lost) {
            // seed P: a new Call-ID "only once the phone has first transitioned to
            // an unregistered state" (newCallOnUnRegister).
            if (t.knobs.new_call_on_unregister) new_call_id(t, r);
            r.lost = false;
        }
        send_register(t, i, target, std::max(t.knobs.expire_time_s, r.min_expires), now);
        busy++;
    }
}

// Credentials for the next request of <r>, or "" without a challenge.
static std::string auth_line(Registration& r, const std::string& domain, Random& rng) {
    Challenge& c = r.chal;
    if (!c.have) return {};
    std::string_view qop;
    if (!choose_qop(c.qop, qop)) return {};
    const std::string uri = "sip:" + domain;
    const std::string cnonce = hex(rng.next(), 16);
    DigestInput in;
    in.alg = c.alg;
    in.username = r.id.auth_user;
    in.realm = c.realm;
    in.password = r.id.password;
    in.method = "REGISTER";
    in.uri = uri;
    in.nonce = c.nonce;
    in.cnonce = cnonce;
    in.qop = qop;
    in.nc = ++c.nc;  // RFC 7616 §3.4: nc counts requests sent with this nonce
    char resp[64];
    const size_t n = digest_response(in, resp);
    if (n == 0) return {};
    std::string h = c.proxy ? "Proxy-Authorization: " : "Authorization: ";
    h += "Digest username=\"" + r.id.auth_user + "\", realm=\"" + c.realm + "\", nonce=\"" + c.nonce +
         "\", uri=\"" + uri + "\", response=\"" + std::string(resp, n) + "\", algorithm=" +
         digest_alg_name(c.alg);
    if (!qop.empty()) {
        char nc[9];
        std::snprintf(nc, sizeof nc, "%08x", c.nc);
        h += ", cnonce=\"" + cnonce + "\", qop=auth, nc=" + nc;
    }
    if (!c.opaque.empty()) h += ", opaque=\"" + c.opaque + "\"";
    return h;
}

void RegistrationAgent::send_register(Trunk& t, uint16_t ident, uint16_t server, uint32_t expires, Millis now) {
    Registration& r = t.regs[ident];
    r.cseq++;
    r.txn_server = int16_t(server);
    r.txn_cseq = r.cseq;
    r.txn_expires = expires;
    r.txn_deadline = now + server_budget_ms(t.knobs.register_policy);
    r.txn_auth = auth_line(r, t.domain, rng_);
    Action a;
    a.kind = ActionKind::send_register;
    a.trunk = t.id;
    a.server = server;
    a.identity = ident;
    a.expires = expires;
    a.cseq = r.cseq;
    out_.push_back(a);
}

// REGISTER Expires: 0 to <server> (RFC 3261 §10.2.2). Fire and forget: the
// binding is gone for us at once; the response only ends the transaction.
void RegistrationAgent::unregister(Trunk& t, uint16_t ident, uint16_t server, Millis now) {
    Registration& r = t.regs[ident];
    r.cseq++;
    r.unreg_server = int16_t(server);
    r.unreg_cseq = r.cseq;
    r.unreg_deadline = now + server_budget_ms(t.knobs.register_policy);
    r.unreg_auth = auth_line(r, t.domain, rng_);
    if (r.bound == int16_t(server)) {
        r.bound = -1;
        r.refresh_at = never_ms;
    }
    if (r.kept == int16_t(server)) r.kept = -1;
    Action a;
    a.kind = ActionKind::send_register;
    a.trunk = t.id;
    a.server = server;
    a.identity = ident;
    a.expires = 0;
    a.cseq = r.cseq;
    out_.push_back(a);
}

size_t RegistrationAgent::write_register(const Trunk& t, const Action& a, const SendContext& ctx, char* buf,
                                         size_t cap) const {
    if (a.identity >= t.regs.size() || a.server >= t.servers.size()) return 0;
    const Registration& r = t.regs[a.identity];
    const bool unreg = a.expires == 0 && r.unreg_server == int16_t(a.server) && r.unreg_cseq == a.cseq;
    if (!unreg && !(r.txn_server == int16_t(a.server) && r.txn_cseq == a.cseq)) return 0;  // stale
    const std::string& auth = unreg ? r.unreg_auth : r.txn_auth;
    const char* user = r.id.user.c_str();
    const char* dom = t.domain.c_str();
    size_t len = 0;
    bool ok = put(buf, cap, len, "REGISTER sip:%s SIP/2.0\r\n", dom) &&
              put(buf, cap, len, "Via: SIP/2.0/%s %.*s;branch=%.*s;rport\r\n",
                  transport_token(t.servers[a.server].target.transport), int(ctx.sent_by.size()),
                  ctx.sent_by.data(), int(ctx.branch.size()), ctx.branch.data()) &&
              put(buf, cap, len, "Max-Forwards: 70\r\n") &&
              put(buf, cap, len, "From: <sip:%s@%s>;tag=%s\r\n", user, dom, r.from_tag.c_str()) &&
              put(buf, cap, len, "To: <sip:%s@%s>\r\n", user, dom) &&
              put(buf, cap, len, "Call-ID: %s\r\n", r.call_id.c_str()) &&
              put(buf, cap, len, "CSeq: %u REGISTER\r\n", a.cseq) &&
              put(buf, cap, len, "Contact: <%s>\r\n", r.id.contact.c_str()) &&
              put(buf, cap, len, "Expires: %u\r\n", a.expires);
    if (ok && !auth.empty()) ok = put(buf, cap, len, "%s\r\n", auth.c_str());
    ok = ok && put(buf, cap, len, "User-Agent: %s\r\nContent-Length: 0\r\n\r\n", user_agent_.c_str());
    return ok ? len : 0;
}

void RegistrationAgent::on_transport_error(Trunk& t, uint16_t ident, Millis now) {
    if (ident >= t.regs.size()) return;
    Registration& r = t.regs[ident];
    if (r.txn_server < 0) return;
    const uint16_t s = uint16_t(r.txn_server);
    r.txn_server = -1;
    r.txn_deadline = never_ms;
    register_failed(t, ident, s, Trigger::icmp_unreachable, now);
    pump(t, now);
}

void RegistrationAgent::on_response(Trunk& t, uint16_t ident, const char* msg, size_t len, Millis now) {
    if (ident >= t.regs.size()) return;
    Registration& r = t.regs[ident];
    sip::Message m;
    if (sip::parse(msg, len, m) != sip::ParseStatus::ok || m.is_request || m.status < 200) return;
    if (m.cseq.method != sip::Method::register_ || m.call_id.str(msg) != r.call_id) return;
    const bool unreg = r.unreg_server >= 0 && m.cseq.number == r.unreg_cseq;
    if (!unreg && !(r.txn_server >= 0 && m.cseq.number == r.txn_cseq)) return;  // stale or foreign
    const uint16_t s = uint16_t(unreg ? r.unreg_server : r.txn_server);
    if (unreg) {
        r.unreg_server = -1;
        r.unreg_deadline = never_ms;
        pump(t, now);
        return;
    }
    r.txn_server = -1;
    r.txn_deadline = never_ms;
    const uint16_t st = m.status;

    if (st >= 200 && st < 300) {
        // Granted expiry: our Contact's expires param, else Expires, else what we asked.
        uint32_t granted = r.txn_expires;
        bool found = false;
        if (const sip::Header* h = m.find(sip::HeaderId::expires)) {
            uint32_t v;
            if (sip::parse_uint(msg, h->value, 0xffffffffu, v)) granted = v;
        }
        for (const sip::Header* h = m.find(sip::HeaderId::contact); h && !found; h = m.next(h)) {
            sip::CommaList list(msg, h->value);
            sip::Span el;
            while (list.next(el)) {
                sip::NameAddr na;
                if (!sip::parse_name_addr(msg, el, na) || na.uri.str(msg) != r.id.contact) continue;
                uint32_t v;
                if (!na.expires.empty() && sip::parse_uint(msg, na.expires, 0xffffffffu, v)) granted = v;
                found = true;
                break;
            }
        }
        if (granted == 0 && r.txn_expires != 0) {  // the registrar refused to keep us
            deny(t, ident, 0, now);
        } else {
            on_registered(t, ident, s, granted, now);
        }
    } else if (st == 401 || st == 407) {
        host_.mark_alive(t, s, Trigger::success, now);
        const sip::Header* h = m.find(st == 401 ? sip::HeaderId::www_authenticate : sip::HeaderId::proxy_authenticate);
        sip::Digest d;
        std::string_view qop;
        bool ok = h && sip::parse_digest(msg, h->value, d) && d.is_digest &&
                  digest_alg_from(d.algorithm.str(msg)) != DigestAlg::unknown && choose_qop(d.qop.str(msg), qop);
        Challenge& c = r.chal;
        if (ok) {
            const bool stale = sip::ieq(msg + d.stale.off, d.stale.len, "true", 4);
            const bool same_nonce = c.have && d.nonce.str(msg) == c.nonce;
            // RFC 7616 §3.3: the same nonce challenged again without stale=true
            // means our credentials were refused.
            if ((same_nonce && !stale && c.answered > 0) || c.answered >= 3) ok = false;
            if (ok) {
                if (!same_nonce) c.nc = 0;
                c.have = true;
                c.proxy = st == 407;
                c.alg = digest_alg_from(d.algorithm.str(msg));
                c.realm = std::string(d.realm.str(msg));
                c.nonce = std::string(d.nonce.str(msg));
                c.opaque = std::string(d.opaque.str(msg));
                c.qop = std::string(d.qop.str(msg));
                c.answered++;
                send_register(t, ident, s, r.txn_expires, now);  // same Call-ID, next CSeq
            }
        }
        if (!ok) {
            c.answered = 0;
            deny(t, ident, 0, now);
        }
    } else if (st == 423) {
        // RFC 3261 §10.2.8: retry with at least Min-Expires.
        uint32_t v = 0;
        const sip::Header* h = m.find(sip::HeaderId::min_expires);
        if (h && sip::parse_uint(msg, h->value, 0xffffffffu, v) && v > r.txn_expires) {
            r.min_expires = v;
            send_register(t, ident, s, v, now);
        } else {
            deny(t, ident, 0, now);
        }
    } else if (st == 503) {
        uint32_t ra = 0;
        if (const sip::Header* h = m.find(sip::HeaderId::retry_after)) {
            sip::RetryAfter v;
            if (sip::parse_retry_after(msg, h->value, v)) ra = v.seconds;
        }
        if (t.knobs.failover_on_503) {
            if (ra) t.servers[s].hold_until = std::max<Millis>(t.servers[s].hold_until, now + Millis(ra) * 1000);
            register_failed(t, ident, s, Trigger::rejected_503, now);
        } else {
            // timeout-only / failoverOn503Response=0: the 503 is final; Retry-After
            // is honoured before the next attempt.
            host_.mark_alive(t, s, Trigger::success, now);
            deny(t, ident, ra, now);
        }
    } else {
        // seed P: "403 or any other denial ... other than a 503" is not failover.
        host_.mark_alive(t, s, Trigger::success, now);
        deny(t, ident, 0, now);
    }
    pump(t, now);
}

void RegistrationAgent::on_registered(Trunk& t, uint16_t ident, uint16_t server, uint32_t granted, Millis now) {
    Registration& r = t.regs[ident];
    const int16_t prev = r.bound;
    r.bound = int16_t(server);
    r.bound_at = now;
    r.granted_s = granted;
    r.expires_at = now + Millis(granted) * 1000;
    r.refresh_at = r.expires_at - Millis(refresh_lead_s(t.knobs, granted)) * 1000;
    r.failures = 0;
    r.lost = false;
    r.chal.answered = 0;
    r.ever_registered = true;
    host_.mark_alive(t, server, Trigger::success, now);
    if (prev != int16_t(server)) notify(t, NoticeKind::registered, now, server, ident);
    if (prev >= 0 && prev != int16_t(server) && t.knobs.unregister_after_failback)
        unregister(t, ident, uint16_t(prev), now);  // seed A: "it unregisters from the secondary server"
    if (t.reg_target != int16_t(server)) return;

    const int16_t before = t.active;
    t.active = int16_t(server);
    t.walk_origin = -1;
    t.walk_tried = 0;
    t.backoff_count = 0;
    const bool was_failback = t.failback_walk;
    t.failback_walk = false;
    if (t.sticky_pending == int16_t(server) && t.anchor < 0) {
        // A reorder came while this REGISTER was in flight: sticky, as if registered before it.
        t.anchor = int16_t(server);
        t.anchor_since = now;
        t.primary_record = t.servers[server].record;
        record(t, Decision::dns_sticky, now, t.anchor);
    }
    t.sticky_pending = -1;
    if (t.anchor < 0) {
        // seed P: "if it registers, the phone will now treat SBC 7 as the new primary".
        t.primary_record = t.servers[server].record;
    }
    if (before != int16_t(server)) {
        t.connected_at = now;
        if (t.active == host_.primary(t)) {
            if (before >= 0 || was_failback) {
                record(t, Decision::failed_back, now, t.active, before);
                notify(t, NoticeKind::failed_back, now, server);
            } else {
                record(t, t.knobs.mode == SelectMode::validated ? Decision::validated : Decision::top_first, now,
                       t.active);
            }
        } else {
            // The server the trunk left: the previous working one, or the one the walk started from.
            const int16_t from = before >= 0 ? before : t.last.from;
            record(t, t.knobs.mode == SelectMode::validated ? Decision::validated : Decision::top_first, now,
                   t.active, from);
            notify(t, NoticeKind::failed_over, now, server);
        }
    } else if (was_failback) {
        t.connected_at = now;  // the failback attempt ended on the working server again
    }
    host_.schedule_failback(t, now);
    t.dirty = true;
}

// A REGISTER to <server> failed in a way that is a failover trigger.
void RegistrationAgent::register_failed(Trunk& t, uint16_t ident, uint16_t server, Trigger why, Millis now) {
    if (t.sticky_pending == int16_t(server)) t.sticky_pending = -1;  // the new order rules
    count_failure(t, now);
    t.regs[ident].failures++;
    host_.server_failed_in_use(t, server, why, now);
    if (t.reg_target == int16_t(server)) advance_walk(t, server, why, now);
}

// A final refusal that is not a failover trigger (seed P: 403 or any other
// denial; seed A registration-failure-retry): the identity loses its binding
// and waits max(registration-failure-retry, RFC 5626 back-off, Retry-After).
void RegistrationAgent::deny(Trunk& t, uint16_t ident, uint32_t retry_after_s, Millis now) {
    Registration& r = t.regs[ident];
    t.sticky_pending = -1;  // not registered there: the new order rules
    count_failure(t, now);
    const uint32_t n = r.failures++;
    Millis wait = Millis(t.knobs.registration_failure_retry_s) * 1000;
    wait = std::max(wait, backoff_wait_ms(t.knobs.register_retry_base_s, t.knobs.register_retry_max_s, n, rng_));
    wait = std::max(wait, Millis(retry_after_s) * 1000);
    r.next_attempt_at = now + wait;
    if (r.bound >= 0) {
        r.bound = -1;
        r.refresh_at = never_ms;
        r.lost = true;
        notify(t, NoticeKind::registration_lost, now, 0xffff, ident);
    }
    if (t.active >= 0) {
        bool any = false;
        for (const Registration& o : t.regs) any |= o.bound == t.active;
        if (!any && t.knobs.mode == SelectMode::validated) {
            t.active = -1;  // nothing validated any more: no route under onlySignalWithRegistered
            t.dirty = true;
        }
    }
}

// seed A "snmp trap registration failures N interval S": a notice after N
// failures, at most one per S seconds.
void RegistrationAgent::count_failure(Trunk& t, Millis now) {
    if (t.knobs.trap_failures == 0) return;
    t.trap_count++;
    if (t.trap_count < t.knobs.trap_failures) return;
    if (t.last_trap_at != never_ms && now < t.last_trap_at + Millis(t.knobs.trap_interval_s) * 1000) return;
    notify(t, NoticeKind::registration_failures, now, 0xffff, 0xffff, t.trap_count);
    t.trap_count = 0;
    t.last_trap_at = now;
}

void RegistrationAgent::on_tick(Trunk& t, Millis now) {
    if (!t.knobs.register_enabled) return;
    if (t.reg_target < 0 && t.backoff_until == 0 && t.dns_wait_until != 0 && now >= t.dns_wait_until) {
        t.dns_wait_until = 0;  // no DNS answer in time: the ordinary back-off from here
        start_walk(t, -1, now);
    }
    if (t.reg_target < 0 && t.backoff_until != 0 && now >= t.backoff_until) {
        // Back-off over: forget known failures and REGISTER from the top.
        t.backoff_until = 0;
        for (ServerState& s : t.servers) s.failed = false;
        for (Registration& r : t.regs) r.next_attempt_at = std::min(r.next_attempt_at, now);
        t.primary_record = 0;
        record(t, Decision::backoff_over, now, -1);
        start_walk(t, -1, now);
    }
    for (uint16_t i = 0; i < t.regs.size(); i++) {
        Registration& r = t.regs[i];
        if (r.txn_server >= 0 && now >= r.txn_deadline) {
            const uint16_t s = uint16_t(r.txn_server);
            r.txn_server = -1;
            r.txn_deadline = never_ms;
            register_failed(t, i, s, Trigger::timeout, now);
        }
        if (r.unreg_server >= 0 && now >= r.unreg_deadline) {
            r.unreg_server = -1;
            r.unreg_deadline = never_ms;
        }
        if (r.kept >= 0 && now >= r.kept_expires_at) r.kept = -1;
        if (r.bound >= 0 && now >= r.expires_at) {
            // seed A: "on expiry REGISTER goes to the highest-priority server again".
            const int16_t was = r.bound;
            r.bound = -1;
            r.refresh_at = never_ms;
            r.lost = true;
            notify(t, NoticeKind::registration_lost, now, uint16_t(was), i);
            if (was == t.active && t.reg_target == t.active) {
                record(t, Decision::registration_expired, now, -1, was);
                t.active = -1;
                t.anchor = -1;
                start_walk(t, -1, now);
            }
        }
    }
}

}  // namespace sipedge::failover
