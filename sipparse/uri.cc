// URI and host parsing: RFC 3261 §19.1.1 (sip/sips), RFC 3966 (tel),
// RFC 5118 (IPv6 references), RFC 4291 §2.2 (IPv6 text form).
// Each component is scanned once with the character-class table; this runs
// for the Request-URI and every From/To/Contact/Route of every message.

#include "sipparse/charclass.h"
#include "sipparse/fastpath.h"
#include "sipparse/headers.h"
#include "sipparse/lex.h"

namespace sipedge::sip {

namespace {

bool hex2(const char* p, uint32_t i, uint32_t end) noexcept {
    return end - i >= 3 && is(p[i + 1], cc_hex) && is(p[i + 2], cc_hex);
}

// Scans <cls> characters and %HH escapes from p[i] until a character outside
// them; returns its index, or 0 on a broken escape. p[i, limit) is readable
// (limit >= end), so a short run takes one vector step.
template <uint32_t cls>
[[gnu::always_inline]] inline uint32_t scan_escaped(const char* p, uint32_t i, uint32_t end, uint32_t limit) noexcept {
    for (;;) {
        i = scan_class_lim<cls>(p, i, end, limit);
        if (i == end || p[i] != '%') return i;
        if (!hex2(p, i, end)) return 0;
        i += 3;
    }
}

// A dotted quad at p[i, q) that the host scan would stop after as well
// (q == end or p[q] is not a host byte): q, else 0. p[i, limit) is readable.
inline uint32_t ipv4_host(const char* p, uint32_t i, uint32_t end, uint32_t limit) noexcept {
#if defined(__SSE2__)
    if (limit - i >= 16) {
        // The run of digits and dots from p[i] is what scan_ipv4() reads
        // when it succeeds and a non-host byte (or the end) follows.
        uint32_t n;
        if (!quad_run16(p + i, end - i < 16 ? end - i : 16, n)) return 0;
        const uint32_t q = i + n;
        return (q == end || !is(p[q], cc_host)) ? q : 0;
    }
#endif
    (void)limit;
    const uint32_t q = scan_ipv4(p, i, end);
    return (q != 0 && (q == end || !is(p[q], cc_host))) ? q : 0;
}

}  // namespace

// hostname = *( domainlabel "." ) toplabel [ "." ], labels of alnum, '-'
// (not first or last) and, leniently, '_'.
uint32_t scan_hostport_lim(const char* p, uint32_t i, uint32_t end, uint32_t limit,
                           HostPort& out) noexcept {
    out = HostPort{};
    uint32_t h = i;
    if (i < end && p[i] == '[') {
        uint32_t j = i + 1;
        while (j < end && p[j] != ']') j++;
        if (j == end || !valid_ipv6(p + i + 1, j - i - 1)) return 0;
        out.host = make_span(i + 1, j);
        out.kind = HostKind::ipv6;
        h = j + 1;
    } else if (uint32_t q; i < end && uint8_t(p[i] - '0') <= 9 && (q = ipv4_host(p, i, end, limit)) != 0) {
        // A dotted quad that the host scan below would stop after as well:
        // the usual Via sent-by and Request-URI host, in one pass.
        out.kind = HostKind::ipv4;
        out.host = make_span(i, q);
        h = q;
    } else {
        // One table test per byte; label rules are checked at the edges only
        // (first and last byte), which is all a forwarding decision needs.
        h = scan_class_lim<cc_host>(p, i, end, limit);
        if (h == i || p[i] == '-' || p[i] == '.' || p[h - 1] == '-') return 0;
        // A hostname's top label starts with a letter, so digits-and-dots
        // only is an IPv4 address or nothing.
        if (is(p[h - 1], cc_digit) && valid_ipv4(p + i, h - i)) {
            out.kind = HostKind::ipv4;
        } else {
            uint32_t k = i;
            while (k < h && !is(p[k], cc_alpha)) k++;
            if (k == h) return 0;
            out.kind = HostKind::name;
        }
        out.host = make_span(i, h);
    }
    if (h < end && p[h] == ':') {
        // 1 to 5 digits, at most 65535; a sixth digit is an error. Looks at
        // 6 bytes at most: 5 digits and the one that must end them.
        const uint32_t k = h + 1;
        const uint32_t n = end - k < 6 ? end - k : 6;
        uint32_t port = 0, nd = 0;
        for (uint32_t d; nd < n && (d = uint8_t(p[k + nd] - '0')) <= 9; nd++) port = port * 10 + d;
        if (nd == 0 || nd > 5 || port > 65535) return 0;
        out.port = uint16_t(port);
        out.has_port = true;
        h = k + nd;
    }
    return h;
}

uint32_t scan_hostport(const char* p, uint32_t i, uint32_t end, HostPort& out) noexcept {
    return scan_hostport_lim(p, i, end, end, out);
}

namespace {

// uri-parameters from p[i] (just after a ';') to '?' or end; fills the
// well-known ones. Returns the index where they stop, 0 on a bad parameter.
uint32_t scan_uri_params(const char* p, uint32_t i, uint32_t end, uint32_t limit,
                         Uri& out) noexcept {
    for (;;) {
        const uint32_t n0 = i;
        i = scan_escaped<cc_param>(p, i, end, limit);
        if (i == 0 || i == n0) return 0;  // broken escape, or empty name (";;")
        const uint32_t nl = i - n0;
        Span val{};
        if (i < end && p[i] == '=') {
            const uint32_t v0 = ++i;
            i = scan_escaped<cc_param>(p, i, end, limit);
            if (i == 0 || i == v0) return 0;
            val = make_span(v0, i);
        }
        const char* n = p + n0;
        switch (nl) {
        case 2: if (lex::ieq_word(n, 2, "lr")) out.lr = true; break;
        case 4: if (lex::ieq_word(n, 4, "user")) out.user_param = val; break;
        case 5: if (lex::ieq_word(n, 5, "maddr")) out.maddr = val; break;
        case 9: if (lex::ieq_word(n, 9, "transport")) out.transport = val; break;
        default: break;
        }
        if (i == end || p[i] != ';') return i;
        i++;
    }
}

}  // namespace

bool valid_ipv4(const char* p, size_t n) noexcept {
    // Four dotted decimal octets, 1-3 digits each, at most 255.
    return n >= 7 && n <= 15 && scan_ipv4(p, 0, uint32_t(n)) == n;
}

bool valid_ipv6(const char* p, size_t n) noexcept {
    // RFC 4291 §2.2: x:x:x:x:x:x:x:x with at most one "::" and an optional
    // dotted IPv4 tail counting as two groups.
    if (n < 2 || n > 45) return false;
    int groups = 0;
    bool gap = false;
    size_t i = 0;
    if (p[0] == ':') {
        if (p[1] != ':') return false;
        gap = true;
        i = 2;
        if (i == n) return true;  // "::"
    }
    while (i < n) {
        size_t j = i;
        while (j < n && is(p[j], cc_hex)) j++;
        if (j < n && p[j] == '.') {
            // IPv4 tail: must be the last element.
            if (!valid_ipv4(p + i, n - i)) return false;
            groups += 2;
            i = n;
            break;
        }
        if (j == i || j - i > 4) return false;
        groups++;
        i = j;
        if (i == n) break;
        if (p[i] != ':') return false;
        i++;
        if (i < n && p[i] == ':') {
            if (gap) return false;  // second "::", or ":::"
            gap = true;
            i++;
            if (i == n) break;
            if (p[i] == ':') return false;
        } else if (i == n) {
            return false;  // trailing single ':'
        }
    }
    return gap ? groups < 8 : groups == 8;
}

bool parse_hostport(const char* base, Span s, HostPort& out) noexcept {
    return s.len && scan_hostport(base, s.off, s.end(), out) == s.end();
}

bool parse_uri_lim(const char* base, Span s, uint32_t limit, Uri& out) noexcept {
    out = Uri{};
    out.all = s;
    const uint32_t end = s.end();
    uint32_t i = s.off;
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    if (i >= end || !is(base[i], cc_alnum) || is(base[i], cc_digit)) return false;
    uint32_t j = i + 1;
    const bool sip = end - i > 4 && lex::is_sip_colon(base + i);  // "sip:", the usual case
    if (sip) j = i + 3;
    while (j < end && is(base[j], cc_scheme)) j++;
    if (j == end || base[j] != ':') return false;
    out.scheme = make_span(i, j);
    const char* sc = base + i;
    const size_t scl = j - i;
    i = j + 1;
    if (sip) out.kind = UriScheme::sip;  // the scheme is those three letters
    else if (scl == 3 && lex::ieq_word(sc, 3, "sip")) out.kind = UriScheme::sip;
    else if (scl == 4 && lex::ieq_word(sc, 4, "sips")) out.kind = UriScheme::sips;
    else if (scl == 3 && lex::ieq_word(sc, 3, "tel")) out.kind = UriScheme::tel;
    else out.kind = UriScheme::other;

    if (out.kind == UriScheme::other) {
        // absoluteURI (RFC 3261 §25.1): opaque, uric characters only.
        if (i == end) return false;
        for (uint32_t k = i; k < end; k++)
            if (!is(base[k], cc_uric) && base[k] != '#') return false;
        return true;
    }
    if (out.kind == UriScheme::tel) {
        // RFC 3966: number then ;params. Lenient on the number's grammar.
        uint32_t k = i;
        while (k < end && base[k] != ';') k++;
        if (k == i) return false;
        for (uint32_t m = i; m < end; m++)
            if (!is(base[m], cc_tel)) return false;
        out.user = make_span(i, k);
        out.has_user = true;
        if (k < end) out.params = make_span(k + 1, end);
        return true;
    }

    // userinfo = user [":" password] "@". Scan what user/password allow; an
    // '@' where that stops means there was a userinfo.
    uint32_t colon = 0;
    uint32_t k = i;
    while (k < end) {
        k = scan_class_lim<cc_user>(base, k, end, limit);
        if (k == end) break;
        const char c = base[k];
        if (c == '%') {
            if (!hex2(base, k, end)) return false;
            k += 3;
        } else if (c == ':') {
            if (!colon) colon = k;
            k++;
        } else {
            break;
        }
    }
    if (k < end && base[k] == '@') {
        const uint32_t ue = colon ? colon : k;
        if (ue == i) return false;  // empty user
        out.user = make_span(i, ue);
        if (colon) {
            // password excludes ';', '?' and '/' that user allows.
            if (scan_escaped<cc_password>(base, colon + 1, k, limit) != k) return false;
            out.password = make_span(colon + 1, k);
        }
        out.has_user = true;
        i = k + 1;
    }
    i = scan_hostport_inl(base, i, end, limit, out.host);
    if (i == 0) return false;
    if (i < end && base[i] == ';') {
        const uint32_t p0 = i + 1;
        i = scan_uri_params(base, p0, end, limit, out);
        if (i == 0) return false;
        out.params = make_span(p0, i);
    }
    if (i == end) return true;
    if (base[i] != '?' || i + 1 == end) return false;
    // headers = "?" header *( "&" header ), header = hname "=" hvalue
    out.headers = make_span(i + 1, end);
    for (i++;;) {
        const uint32_t n0 = i;
        i = scan_escaped<cc_hnv>(base, i, end, limit);
        if (i == 0 || i == n0 || i == end || base[i] != '=') return false;
        i = scan_escaped<cc_hnv>(base, i + 1, end, limit);
        if (i == 0) return false;
        if (i == end) return true;
        if (base[i] != '&') return false;
        i++;
    }
}

bool parse_uri(const char* base, Span s, Uri& out) noexcept {
    return parse_uri_lim(base, s, s.end(), out);
}

}  // namespace sipedge::sip
