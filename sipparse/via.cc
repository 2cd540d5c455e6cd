// Via (RFC 3261 §20.42, §18.2.1 received/rport per RFC 3581, RFC 5118 §4.5).

#include <cstring>

#include "sipparse/charclass.h"
#include "sipparse/fastpath.h"
#include "sipparse/headers.h"
#include "sipparse/lex.h"

namespace sipedge::sip {

namespace {

using lex::skip_lws;

// token SWS "/" SWS; returns the index after the token and slash, 0 on error.
uint32_t token_slash(const char* b, uint32_t i, uint32_t end, Span& tok) noexcept {
    const uint32_t t0 = i;
    while (i < end && is(b[i], cc_token)) i++;
    if (i == t0) return 0;
    tok = make_span(t0, i);
    i = skip_lws(b, i, end);
    if (i == end || b[i] != '/') return 0;
    return skip_lws(b, i + 1, end);
}

// p[0, 7) == "z9hG4bK" (RFC 3261 §8.1.1.7), case-sensitive, as two
// overlapping 4-byte compares instead of a memcmp call.
inline bool is_magic_cookie(const char* p) noexcept {
    uint32_t a, b, x, y;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + 3, 4);
    std::memcpy(&x, "z9hG", 4);
    std::memcpy(&y, "G4bK", 4);
    return a == x && b == y;
}

// p[0, N) is the literal <lit> (exact case): one word compare.
template <size_t N>
inline bool starts_with(const char* p, const char (&lit)[N + 1]) noexcept {
    return lex::detail::load_word(p, 0, N) == lex::detail::lit_word(lit, 0, N, false);
}

// p[0, 4) is "UDP " in any case: one word compare (OR-ing 0x20 folds only
// 'A'-'Z' onto 'a'-'z'; the SP has no case bit to fold).
inline bool is_udp_sp(const char* p) noexcept {
    return (lex::detail::load_word(p, 0, 4) | 0x00202020u) == lex::detail::lit_word("udp ", 0, 4, false);
}

// A Via parameter that ends at <ve> is followed by the end of the value,
// or by ';' and a byte that is not LWS (the next parameter's first byte,
// where ParamScan would start it).
inline bool param_ends(const char* b, uint32_t ve, uint32_t end) noexcept {
    return ve == end || (b[ve] == ';' && end - ve > 1 && uint8_t(b[ve + 1]) > ' ');
}

// valid_ipv4(p, n); p[0, readable) may be read.
inline bool received_ipv4(const char* p, uint32_t n, uint32_t readable) noexcept {
#if defined(__SSE2__)
    if (readable >= 16) {
        uint32_t r;
        return n <= 15 && quad_run16(p, n, r) && r == n;
    }
#endif
    (void)readable;
    return n >= 7 && n <= 15 && scan_ipv4(p, 0, n) == n;
}

}  // namespace


// parse_via_lim(), returning 0 (false), 1 (true) or 2 (true, and every
// byte of <s> was taken by a check that accepts no ',': the sent-protocol,
// a name or IPv4 sent-by, the port, or the fast path's parameters).
[[gnu::always_inline]] static inline int parse_via_impl(const char* base, Span s, uint32_t limit, Via& out) noexcept {
    out = Via{};
    out.all = s;
    const uint32_t end = s.end();
    uint32_t i = s.off;
    // sent-protocol = protocol-name SLASH protocol-version SLASH transport;
    // almost every Via writes the first two as "SIP/2.0/" with no LWS.
    if (end - i > 8 && std::memcmp(base + i, "SIP/2.0/", 8) == 0) {
        out.protocol = make_span(i, i + 3);
        out.version = make_span(i + 4, i + 7);
        i += 8;
    } else {
        if ((i = token_slash(base, i, end, out.protocol)) == 0) return 0;
        if ((i = token_slash(base, i, end, out.version)) == 0) return 0;
    }
    const uint32_t t0 = i;
    if (end - i > 4 && (is_udp_sp(base + i) || ((base[i] | 0x20) == 'u' && (base[i + 1] | 0x20) == 'd' &&
                                                 (base[i + 2] | 0x20) == 'p' && is_lws(base[i + 3])))) {
        i += 3;  // "UDP " (the '|' folds case; no other byte folds to a letter)
        out.transport = Transport::udp;
    } else {
        i = scan_class_lim<cc_token>(base, i, end, limit);
        if (i == t0) return 0;
        out.transport = transport_from(base + t0, i - t0);
    }
    out.transport_name = make_span(t0, i);
    const uint32_t ws = i;
    i = lex::skip_sp(base, i, end);
    if (i == ws || i == end) return 0;  // LWS then sent-by is required

    // sent-by = host [ COLON port ], COLON = SWS ":" SWS
    i = scan_hostport_inl(base, i, end, limit, out.sent_by);
    if (i == 0) return 0;
    i = skip_lws(base, i, end);
    if (i < end && base[i] == ':' && !out.sent_by.has_port) {
        i = skip_lws(base, i + 1, end);
        const uint32_t p0 = i;
        while (i < end && is(base[i], cc_digit)) i++;
        uint32_t port;
        if (!parse_uint_inl(base, make_span(p0, i), 65535, port)) return 0;
        out.sent_by.port = uint16_t(port);
        out.sent_by.has_port = true;
        i = skip_lws(base, i, end);
    }
    if (i == end) return out.sent_by.kind != HostKind::ipv6 ? 2 : 1;
    if (base[i] != ';') return 0;
    out.params = make_span(i + 1, end);
    // Fast path for the usual parameters: "branch=" and "received=" with a
    // token value, and a bare "rport", in lower case, each followed by the
    // end or by ';' and a byte that is not LWS. It takes a parameter only
    // when ParamScan would read it the same (name, value, end); at the first
    // other one it hands ParamScan that parameter's start, where ParamScan
    // would have been after the ones taken.
    uint32_t p = i + 1;  // start of the current parameter
    for (;;) {
        const char* q = base + p;
        const uint32_t left = end - p;
        uint32_t ve;  // end of the parameter
        if (left >= 8 && starts_with<7>(q, "branch=") && is(q[7], cc_gen_value)) {
            ve = scan_class_lim<cc_gen_value>(base, p + 7, end, limit);
            if (!param_ends(base, ve, end)) break;
            out.branch = make_span(p + 7, ve);
            out.has_branch = true;
            out.rfc3261_branch = ve - (p + 7) >= 7 && is_magic_cookie(q + 7);
        } else if (left >= 5 && starts_with<5>(q, "rport")) {
            ve = p + 5;
            if (left > 5 && q[5] == '=') {
                // "rport=" and 1 to 5 digits, at most 65535: the value
                // ParamScan would take and parse_uint_inl() accept. A sixth
                // digit fails param_ends() and goes to ParamScan.
                uint32_t k = p + 6, port = 0;
                const uint32_t kmax = end - k < 5 ? end : k + 5;
                for (uint32_t d; k < kmax && (d = uint8_t(base[k] - '0')) <= 9; k++) port = port * 10 + d;
                if (k == p + 6 || port > 65535 || !param_ends(base, k, end)) break;
                out.rport = make_span(p + 6, k);
                ve = k;
            } else {
                if (!param_ends(base, ve, end)) break;
                out.rport = Span{};
            }
            out.has_rport = true;
        } else if (left >= 10 && starts_with<8>(q, "received") && q[8] == '=' &&
                   is(q[9], cc_gen_value)) {
#if defined(__SSE2__)
            // The usual dotted quad, then the end or ';': the value the
            // token scan below would end at (a digit or '.' would have
            // extended the run), already checked.
            if (uint32_t n; limit - (p + 9) >= 16 && quad_run16(q + 9, left - 9 < 16 ? left - 9 : 16, n) &&
                            param_ends(base, p + 9 + n, end)) {
                ve = p + 9 + n;
                out.received = make_span(p + 9, ve);
                if (ve == end) return out.sent_by.kind != HostKind::ipv6 ? 2 : 1;
                p = ve + 1;
                continue;
            }
#endif
            ve = scan_class_lim<cc_gen_value>(base, p + 9, end, limit);
            if (!param_ends(base, ve, end)) break;
            // valid_ipv4() inline, or valid_ipv6(); a token holds no '['.
            const char* vp = q + 9;
            const uint32_t vl = ve - (p + 9);
            if (!received_ipv4(vp, vl, limit - (p + 9)) && !valid_ipv6(vp, vl))
                return 0;
            out.received = make_span(p + 9, ve);
        } else {
            break;
        }
        if (ve == end) return out.sent_by.kind != HostKind::ipv6 ? 2 : 1;
        p = ve + 1;
    }
    ParamScan params{base, p, end, limit};
    Span n, v;
    while (params.next(n, v)) {
        const char* np = base + n.off;
        switch (n.len) {
        case 6:
            if (!lex::ieq_word(np, n.len, "branch")) break;
            if (v.len == 0) return 0;
            out.branch = v;
            out.has_branch = true;
            // RFC 3261 §8.1.1.7: the magic cookie marks an RFC 3261 branch.
            out.rfc3261_branch = v.len >= 7 && is_magic_cookie(base + v.off);
            break;
        case 8: {
            if (!lex::ieq_word(np, n.len, "received")) break;
            const char* vp = base + v.off;
            // valid_ipv4() inline: received= is usually a dotted quad.
            const bool ok = (v.len >= 7 && v.len <= 15 && scan_ipv4(vp, 0, v.len) == v.len) ||
                            valid_ipv6(vp, v.len) ||
                            (v.len > 2 && vp[0] == '[' && vp[v.len - 1] == ']' &&
                             valid_ipv6(vp + 1, v.len - 2u));
            if (!ok) return 0;
            out.received = v;
            break;
        }
        case 5:
            if (lex::ieq_word(np, n.len, "rport")) {
                uint32_t port;
                if (v.len && !parse_uint_inl(base, v, 65535, port)) return 0;
                out.rport = v;
                out.has_rport = true;
            } else if (lex::ieq_word(np, n.len, "maddr")) {
                if (v.len == 0) return 0;
                out.maddr = v;
            }
            break;
        case 3: {
            if (!lex::ieq_word(np, n.len, "ttl")) break;
            uint32_t ttl;
            if (!parse_uint(base, v, 255, ttl)) return 0;
            out.ttl = uint8_t(ttl);
            out.has_ttl = true;
            break;
        }
        default:
            break;
        }
    }
    return params.bad ? 0 : 1;
}

bool parse_via_lim(const char* base, Span s, uint32_t limit, Via& out) noexcept {
    return parse_via_impl(base, s, limit, out) != 0;
}

int parse_via_top(const char* base, Span s, uint32_t limit, Via& out) noexcept {
    return parse_via_impl(base, s, limit, out);
}

bool parse_via(const char* base, Span s, Via& out) noexcept {
    return parse_via_lim(base, s, s.end(), out);
}

}  // namespace sipedge::sip
