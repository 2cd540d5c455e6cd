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
// them; returns its index, or 0 on a broken escape.
uint32_t scan_escaped(const char* p, uint32_t i, uint32_t end, uint32_t cls) noexcept {
    while (i < end) {
        const char c = p[i];
        if (is(c, cls)) {
            i++;
        } else if (c == '%') {
            if (!hex2(p, i, end)) return 0;
            i += 3;
        } else {
            break;
        }
    }
    return i;
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
        uint32_t port = 0;
        uint32_t k = h + 1;
        while (k < end && is(p[k], cc_digit) && k - h <= 5) port = port * 10 + uint32_t(p[k++] - '0');
        if (k == h + 1 || port > 65535 || (k < end && is(p[k], cc_digit))) return 0;
        out.port = uint16_t(port);
        out.has_port = true;
        h = k;
    }
    return h;
}

uint32_t scan_hostport(const char* p, uint32_t i, uint32_t end, HostPort& out) noexcept {
    return scan_hostport_lim(p, i, end, end, out);
}

namespace {

// uri-parameters from p[i] (just after a ';') to '?' or end; fills the
// well-known ones. Returns the index where they stop, 0 on a bad parameter.
uint32_t scan_uri_params(const char* p, uint32_t i, uint32_t end, Uri& out) noexcept {
    for (;;) {
        const uint32_t n0 = i;
        i = scan_escaped(p, i, end, cc_param);
        if (i == 0 || i == n0) return 0;  // broken escape, or empty name (";;")
        const uint32_t nl = i - n0;
        Span val{};
        if (i < end && p[i] == '=') {
            const uint32_t v0 = ++i;
            i = scan_escaped(p, i, end, cc_param);
            if (i == 0 || i == v0) return 0;
            val = make_span(v0, i);
        }
        const char* n = p + n0;
        switch (nl) {
        case 2: if (lex::ieq_lit(n, 2, "lr", 2)) out.lr = true; break;
        case 4: if (lex::ieq_lit(n, 4, "user", 4)) out.user_param = val; break;
        case 5: if (lex::ieq_lit(n, 5, "maddr", 5)) out.maddr = val; break;
        case 9: if (lex::ieq_lit(n, 9, "transport", 9)) out.transport = val; break;
        default: break;
        }
        if (i == end || p[i] != ';') return i;
        i++;
    }
}

}  // namespace

bool valid_ipv4(const char* p, size_t n) noexcept {
    // Four dotted decimal octets, 1-3 digits each, at most 255. Unrolled per
    // octet: this runs for the Via sent-by, received= and most Request-URI
    // hosts of every carrier message.
    if (n < 7 || n > 15) return false;
    const char* q = p;
    const char* const e = p + n;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (q == e || *q != '.') return false;
            q++;
        }
        if (q == e) return false;
        uint32_t v = uint8_t(*q - '0');
        if (v > 9) return false;
        if (++q < e) {
            const uint32_t d1 = uint8_t(*q - '0');
            if (d1 <= 9) {
                v = v * 10 + d1;
                if (++q < e) {
                    const uint32_t d2 = uint8_t(*q - '0');
                    if (d2 <= 9) {
                        v = v * 10 + d2;
                        q++;
                    }
                }
            }
        }
        if (v > 255) return false;
    }
    return q == e;
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

bool parse_uri(const char* base, Span s, Uri& out) noexcept {
    out = Uri{};
    out.all = s;
    const uint32_t end = s.end();
    uint32_t i = s.off;
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    if (i >= end || !is(base[i], cc_alnum) || is(base[i], cc_digit)) return false;
    uint32_t j = i + 1;
    while (j < end && is(base[j], cc_scheme)) j++;
    if (j == end || base[j] != ':') return false;
    out.scheme = make_span(i, j);
    const char* sc = base + i;
    const size_t scl = j - i;
    i = j + 1;
    if (scl == 3 && lex::ieq_lit(sc, 3, "sip", 3)) out.kind = UriScheme::sip;
    else if (scl == 4 && lex::ieq_lit(sc, 4, "sips", 4)) out.kind = UriScheme::sips;
    else if (scl == 3 && lex::ieq_lit(sc, 3, "tel", 3)) out.kind = UriScheme::tel;
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
        k = scan_class<cc_user>(base, k, end);
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
            if (scan_escaped(base, colon + 1, k, cc_password) != k) return false;
            out.password = make_span(colon + 1, k);
        }
        out.has_user = true;
        i = k + 1;
    }
    i = scan_hostport(base, i, end, out.host);
    if (i == 0) return false;
    if (i < end && base[i] == ';') {
        const uint32_t p0 = i + 1;
        i = scan_uri_params(base, p0, end, out);
        if (i == 0) return false;
        out.params = make_span(p0, i);
    }
    if (i == end) return true;
    if (base[i] != '?' || i + 1 == end) return false;
    // headers = "?" header *( "&" header ), header = hname "=" hvalue
    out.headers = make_span(i + 1, end);
    for (i++;;) {
        const uint32_t n0 = i;
        i = scan_escaped(base, i, end, cc_hnv);
        if (i == 0 || i == n0 || i == end || base[i] != '=') return false;
        i = scan_escaped(base, i + 1, end, cc_hnv);
        if (i == 0) return false;
        if (i == end) return true;
        if (base[i] != '&') return false;
        i++;
    }
}

}  // namespace sipedge::sip
