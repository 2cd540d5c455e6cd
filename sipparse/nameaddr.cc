// name-addr / addr-spec with header parameters (RFC 3261 §20.10, §20.20,
// §20.39, §25.1): From, To, Contact, Route, Record-Route.

#include <bit>
#include <cstring>

#include "sipparse/charclass.h"
#include "sipparse/fastpath.h"
#include "sipparse/headers.h"
#include "sipparse/lex.h"

namespace sipedge::sip {

namespace {

using lex::skip_lws;

// make_span() built as one 32-bit word: the same bits as
// Span{uint16_t(a), uint16_t(b - a)} (the shift drops what the cast would),
// packed with fewer instructions here.
constexpr Span make_span_word(size_t a, size_t b) noexcept {
    if constexpr (std::endian::native == std::endian::little)
        return std::bit_cast<Span>(uint32_t(uint16_t(a)) | uint32_t(b - a) << 16);
    else
        return Span{uint16_t(a), uint16_t(b - a)};
}

// Reads the header params after the URI; fills tag/expires/q. Inlined: it
// runs for From and To on every message.
[[gnu::always_inline]] inline bool scan_params(const char* base, uint32_t i, uint32_t end, uint32_t limit,
                 NameAddr& out) noexcept {
    // The usual case, ";tag=" and a token to the end: what the loop below
    // would find, without it.
    // ";tag" as one 4-byte compare, then '=' (a 5-byte load goes through
    // the stack).
    constexpr uint32_t tag = uint32_t(lex::detail::lit_word(";tag", 0, 4, false));
    if (end - i >= 6 && uint32_t(lex::detail::load_word(base + i, 0, 4)) == tag && base[i + 4] == '=' &&
        is(base[i + 5], cc_gen_value) && scan_class_lim<cc_gen_value>(base, i + 5, end, limit) == end) {
        out.params = make_span_word(i + 1, end);
        out.tag = make_span_word(i + 5, end);
        out.has_tag = true;
        return true;
    }
    i = skip_lws(base, i, end);
    if (i == end) return true;
    if (base[i] != ';') return false;
    out.params = make_span_word(i + 1, end);
    ParamScan params{base, out.params.off, end, limit};
    Span n, v;
    while (params.next(n, v)) {
        const char* np = base + n.off;
        if (lex::ieq_word(np, n.len, "tag")) {
            if (v.len == 0 || out.has_tag) return false;
            out.tag = v;
            out.has_tag = true;
        } else if (lex::ieq_word(np, n.len, "expires")) {
            uint32_t e;
            if (!parse_uint(base, v, 0xffffffffu, e)) return false;
            out.expires = v;
        } else if (lex::ieq_word(np, n.len, "q")) {
            // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
            const char* q = base + v.off;
            if (v.len == 0 || v.len > 5 || (q[0] != '0' && q[0] != '1')) return false;
            if (v.len > 1 && q[1] != '.') return false;
            for (uint32_t k = 2; k < v.len; k++)
                if (!is(q[k], cc_digit) || (q[0] == '1' && q[k] != '0')) return false;
            out.q = v;
        }
    }
    return !params.bad;
}

// The cheap URI check parse_name_addr makes: a scheme, then no LWS, quotes
// or angle brackets (RFC 4475 §3.1.2.14). The full grammar is parse_uri's,
// run by validate() or by callers that use the URI.
bool plausible_uri(const char* base, Span s) noexcept {
    uint32_t i = s.off;
    const uint32_t end = s.end();
    if (i == end || !is(base[i], cc_alnum)) return false;
    while (i < end && is(base[i], cc_scheme)) i++;
    if (i == end || base[i] != ':' || ++i == end) return false;
    return scan_class<cc_uri_any>(base, i, end) == end;
}

}  // namespace

bool parse_name_addr_lim(const char* base, Span s, uint32_t limit, NameAddr& out,
                         bool allow_star) noexcept {
    out = NameAddr{};
    out.all = s;
    const uint32_t end = s.end();
    uint32_t i = s.off;
    if (i == end) return false;
    if (allow_star && s.len == 1 && base[i] == '*') {
        out.star = true;
        return true;
    }
    if (base[i] == '"') {
        const uint32_t q = skip_quoted_lim(base, i, end, limit);
        if (q == 0) return false;
        out.display = make_span_word(i + 1, q - 1);
        // Usually one SP, then '<' (base[q] is readable: the line's CR or
        // LF at worst).
        if (base[q] == ' ' && end - q > 1 && base[q + 1] == '<') {
            i = q + 1;
        } else {
            i = skip_lws(base, q, end);
            if (i == end || base[i] != '<') return false;
        }
    } else if (base[i] == '<') {
        out.display = make_span_word(i, i);  // no display name, as the scan below finds it
    } else {
        // Either *(token LWS) "<" or an addr-spec. Find '<' before any
        // character a display-name token cannot hold.
        uint32_t k = i;
        while (k < end && (is(base[k], cc_token) || is_lws(base[k]))) k++;
        if (k < end && base[k] == '<') {
            out.display = make_span_word(i, lex::trim_end(base, i, k));
            i = k;
        } else {
            // addr-spec: with no < >, the URI ends at the first ';' and may
            // not contain ',', '?' or LWS (RFC 3261 §20.10).
            uint32_t u = i;
            while (u < end && base[u] != ';' && !is_lws(base[u])) {
                if (base[u] == ',' || base[u] == '?' || base[u] == '<' || base[u] == '>' ||
                    base[u] == '"')
                    return false;
                u++;
            }
            out.uri = make_span_word(i, u);
            if (!plausible_uri(base, out.uri)) return false;
            return scan_params(base, u, end, limit, out);
        }
    }
    // base[i] == '<': the URI runs to '>' with no LWS inside (RFC 4475 §3.1.2.14).
    // One pass does what "find '>', then plausible_uri()" would: the scheme,
    // ':', then URI bytes up to the first byte outside cc_uri_any, which must
    // be the '>' (a '"', '<', LWS or control byte before it, or no '>' at
    // all, fails either way).
    const uint32_t u0 = i + 1;
    uint32_t k = u0;
    if (end - k > 4 && lex::is_sip_colon(base + k)) {
        k += 4;  // "sip:", the usual case
        if (base[k] == '>') return false;
    } else {
        if (k == end || !is(base[k], cc_alnum)) return false;
        while (k < end && is(base[k], cc_scheme)) k++;
        if (k == end || base[k] != ':' || ++k == end || base[k] == '>') return false;
    }
    const uint32_t u = scan_class_lim<cc_uri_any>(base, k, end, limit);
    if (u == end || base[u] != '>') return false;
    out.uri = make_span_word(u0, u);
    out.angle = true;
    return scan_params(base, u + 1, end, limit, out);
}

bool parse_name_addr(const char* base, Span s, NameAddr& out, bool allow_star) noexcept {
    return parse_name_addr_lim(base, s, s.end(), out, allow_star);
}

}  // namespace sipedge::sip
