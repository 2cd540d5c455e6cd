// URI and host parsing: RFC 3261 §19.1.1 (sip/sips), RFC 3966 (tel),
// RFC 5118 (IPv6 references), RFC 4291 §2.2 (IPv6 text form).

#include "sipparse/charclass.h"
#include "sipparse/headers.h"

namespace sipedge::sip {

namespace {

// Accepts `cls` characters and %HH escapes in p[i, end); returns false on a
// character outside the class or a broken escape.
bool scan_escaped(const char* p, uint32_t i, uint32_t end, uint16_t cls) noexcept {
    while (i < end) {
        const char c = p[i];
        if (c == '%') {
            if (end - i < 3 || !is(p[i + 1], cc_hex) || !is(p[i + 2], cc_hex)) return false;
            i += 3;
        } else if (is(c, cls)) {
            i++;
        } else {
            return false;
        }
    }
    return true;
}

// Parses uri-parameters in p[i, end) (after the first ';'); fills the
// well-known ones. Rejects empty names (";;") and bad characters.
bool scan_uri_params(const char* base, uint32_t i, uint32_t end, Uri& out) noexcept {
    while (i <= end) {
        uint32_t j = i;
        while (j < end && base[j] != ';') j++;
        // one parameter in [i, j)
        uint32_t eq = i;
        while (eq < j && base[eq] != '=') eq++;
        if (eq == i) return false;  // empty name
        if (!scan_escaped(base, i, eq, cc_param)) return false;
        if (eq < j && !scan_escaped(base, eq + 1, j, cc_param)) return false;
        const char* n = base + i;
        const size_t nl = eq - i;
        const Span val = eq < j ? make_span(eq + 1, j) : Span{};
        if (ieq(n, nl, "transport", 9)) out.transport = val;
        else if (ieq(n, nl, "maddr", 5)) out.maddr = val;
        else if (ieq(n, nl, "user", 4)) out.user_param = val;
        else if (ieq(n, nl, "lr", 2)) out.lr = true;
        if (j == end) break;
        i = j + 1;
    }
    return true;
}

bool valid_hostname(const char* p, size_t n) noexcept {
    // hostname = *( domainlabel "." ) toplabel [ "." ]; labels of alnum and
    // '-', not starting or ending with '-'. Lenient on the toplabel's first
    // character (numeric TLDs appear in lab setups).
    if (n == 0) return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        const char c = p[i];
        if (c == '.') {
            if (label == 0 || p[i - 1] == '-') return false;
            label = 0;
        } else if (is(c, cc_alnum) || c == '-' || c == '_') {
            if (label == 0 && c == '-') return false;
            label++;
        } else {
            return false;
        }
    }
    return !(label > 0 && p[n - 1] == '-');
}

}  // namespace

bool valid_ipv4(const char* p, size_t n) noexcept {
    int parts = 0;
    size_t i = 0;
    while (i < n) {
        uint32_t v = 0;
        size_t digits = 0;
        while (i < n && is(p[i], cc_digit) && digits < 4) {
            v = v * 10 + uint32_t(p[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255) return false;
        parts++;
        if (i == n) break;
        if (p[i] != '.' || parts == 4) return false;
        i++;
        if (i == n) return false;
    }
    return parts == 4;
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
    out = HostPort{};
    uint32_t i = s.off;
    const uint32_t end = s.end();
    if (i >= end) return false;
    uint32_t host_end;
    if (base[i] == '[') {
        uint32_t j = i + 1;
        while (j < end && base[j] != ']') j++;
        if (j == end || !valid_ipv6(base + i + 1, j - i - 1)) return false;
        out.host = make_span(i + 1, j);
        out.kind = HostKind::ipv6;
        host_end = j + 1;
    } else {
        uint32_t j = i;
        while (j < end && base[j] != ':') j++;
        const char* h = base + i;
        const size_t hl = j - i;
        bool dotted_digits = hl > 0;
        for (size_t k = 0; k < hl; k++)
            if (!is(h[k], cc_digit) && h[k] != '.') dotted_digits = false;
        if (dotted_digits) {
            if (!valid_ipv4(h, hl)) return false;
            out.kind = HostKind::ipv4;
        } else {
            if (!valid_hostname(h, hl)) return false;
            out.kind = HostKind::name;
        }
        out.host = make_span(i, j);
        host_end = j;
    }
    if (host_end == end) return true;
    if (base[host_end] != ':' || host_end + 1 == end) return false;
    uint32_t port = 0;
    for (uint32_t k = host_end + 1; k < end; k++) {
        if (!is(base[k], cc_digit) || k - host_end > 5) return false;
        port = port * 10 + uint32_t(base[k] - '0');
    }
    if (port > 65535) return false;
    out.port = uint16_t(port);
    out.has_port = true;
    return true;
}

bool parse_uri(const char* base, Span s, Uri& out) noexcept {
    out = Uri{};
    out.all = s;
    const uint32_t end = s.end();
    uint32_t i = s.off;
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    if (i >= end || !is(base[i], cc_alnum) || is(base[i], cc_digit)) return false;
    uint32_t j = i + 1;
    while (j < end && (is(base[j], cc_alnum) || base[j] == '+' || base[j] == '-' || base[j] == '.'))
        j++;
    if (j == end || base[j] != ':') return false;
    out.scheme = make_span(i, j);
    const char* sc = base + i;
    const size_t scl = j - i;
    i = j + 1;
    if (ieq(sc, scl, "sip", 3)) out.kind = UriScheme::sip;
    else if (ieq(sc, scl, "sips", 4)) out.kind = UriScheme::sips;
    else if (ieq(sc, scl, "tel", 3)) out.kind = UriScheme::tel;
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

    // userinfo: everything before the first '@', if any.
    uint32_t at = i;
    while (at < end && base[at] != '@') at++;
    if (at < end) {
        uint32_t colon = i;
        while (colon < at && base[colon] != ':') colon++;
        if (colon == i) return false;  // empty user
        if (!scan_escaped(base, i, colon, cc_user)) return false;
        out.user = make_span(i, colon);
        if (colon < at) {
            if (!scan_escaped(base, colon + 1, at, cc_password)) return false;
            out.password = make_span(colon + 1, at);
        }
        out.has_user = true;
        i = at + 1;
    }
    // hostport ends at ';' or '?', outside an IPv6 reference.
    uint32_t h = i;
    if (h < end && base[h] == '[') {
        while (h < end && base[h] != ']') h++;
    }
    while (h < end && base[h] != ';' && base[h] != '?') h++;
    if (!parse_hostport(base, make_span(i, h), out.host)) return false;
    i = h;
    if (i < end && base[i] == ';') {
        uint32_t q = i + 1;
        while (q < end && base[q] != '?') q++;
        out.params = make_span(i + 1, q);
        if (!scan_uri_params(base, i + 1, q, out)) return false;
        i = q;
    }
    if (i < end) {  // '?' headers: hname "=" hvalue *( "&" ... )
        if (i + 1 == end) return false;
        out.headers = make_span(i + 1, end);
        uint32_t k = i + 1;
        while (k <= end) {
            uint32_t amp = k;
            while (amp < end && base[amp] != '&') amp++;
            uint32_t eq = k;
            while (eq < amp && base[eq] != '=') eq++;
            if (eq == k || eq == amp) return false;
            if (!scan_escaped(base, k, eq, cc_hnv) || !scan_escaped(base, eq + 1, amp, cc_hnv))
                return false;
            if (amp == end) break;
            k = amp + 1;
        }
    }
    return true;
}

}  // namespace sipedge::sip
