// Header value grammars: comma lists, parameters, numbers, CSeq,
// Retry-After, Date, Call-ID and digest authentication (RFC 3261 §25.1,
// RFC 7616, RFC 8760).

#include <cstring>

#include "sipparse/charclass.h"
#include "sipparse/fastpath.h"
#include "sipparse/headers.h"
#include "sipparse/lex.h"

namespace sipedge::sip {

using lex::skip_comment;
using lex::skip_lws;
using lex::skip_quoted;
using lex::trim_end;

namespace {

// Index of the first of ',', '"', '<', '(' in b[i, end), or end: the bytes
// CommaList must look at. 16 bytes at a time over whole blocks inside the
// span (a multi-element Via or Route is long, and mostly plain bytes).
uint32_t skip_plain(const char* b, uint32_t i, uint32_t end) noexcept {
#if defined(__SSE2__)
    const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"');
    const __m128i lt = _mm_set1_epi8('<'), paren = _mm_set1_epi8('(');
    while (end - i >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
        const __m128i a = _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, quote));
        const __m128i c = _mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, paren));
        const unsigned m = unsigned(_mm_movemask_epi8(_mm_or_si128(a, c)));
        if (m) return i + unsigned(__builtin_ctz(m));
        i += 16;
    }
#endif
    while (i < end) {
        const char c = b[i];
        if (c == ',' || c == '"' || c == '<' || c == '(') break;
        i++;
    }
    return i;
}

}  // namespace

bool CommaList::next(Span& out) noexcept {
    if (done_ || bad_) return false;
    uint32_t i = skip_lws(base_, pos_, end_);
    // An empty value has no elements; after a comma, an empty tail is an
    // (empty) element so callers can reject "a,".
    if (i == end_ && !started_) {
        done_ = true;
        return false;
    }
    const uint32_t start = i;
    if (!started_) {
        started_ = true;
        // Most values hold one element: with no ',' at all there is nothing
        // to split, and the element parser checks quotes and brackets itself.
        if (!std::memchr(base_ + i, ',', end_ - i)) {
            out = make_span(start, trim_end(base_, start, end_));
            done_ = true;
            return true;
        }
    }
    while (i < end_) {
        i = skip_plain(base_, i, end_);
        if (i == end_) break;
        const char c = base_[i];
        if (c == ',') break;
        if (c == '"') {
            i = skip_quoted(base_, i, end_);
            if (i == 0) { bad_ = true; return false; }
            continue;
        }
        if (c == '<') {
            while (i < end_ && base_[i] != '>') i++;
            if (i == end_) { bad_ = true; return false; }
        } else if (c == '(') {
            i = skip_comment(base_, i, end_);
            if (i == 0) { bad_ = true; return false; }
            continue;
        }
        i++;
    }
    out = make_span(start, trim_end(base_, start, i));
    if (i == end_) done_ = true;
    else pos_ = i + 1;
    return true;
}

bool ParamList::next(Span& name, Span& value) noexcept {
    ParamScan scan{base_, pos_, end_, end_, bad_};
    const bool got = scan.next(name, value);
    pos_ = scan.pos;
    bad_ = scan.bad;
    return got;
}

bool parse_uint(const char* base, Span s, uint32_t max, uint32_t& out) noexcept {
    return parse_uint_inl(base, s, max, out);
}

bool parse_cseq_lim(const char* base, Span s, uint32_t limit, CSeq& out) noexcept {
    const uint32_t end = s.end();
    uint32_t i = s.off;
    const uint32_t d0 = i;
    // RFC 3261 §8.1.1.5: the sequence number MUST be less than 2**31.
    // parse_uint's rules (1 to 32 digits), in the same pass as the scan.
    uint64_t n = 0;
    for (uint32_t d; i < end && (d = uint8_t(base[i] - '0')) <= 9; i++)
        if ((n = n * 10 + d) > 0x7fffffffu) return false;
    if (i == d0 || i - d0 > 32) return false;
    out.number = uint32_t(n);
    const uint32_t ws = i;
    i = lex::skip_sp(base, i, end);
    if (i == ws) return false;
    const uint32_t m0 = i;
    // A known method running to the end (upper-case letters: a token, so
    // what the scan below would take too).
    if (const Method mm = method_from_inl(base + m0, end - m0); mm != Method::extension && mm != Method::unknown) {
        out.method_name = make_span(m0, end);
        out.method = mm;
        return true;
    }
    i = scan_class_lim<cc_token>(base, i, end, limit);
    if (i == m0 || (i != end && skip_lws(base, i, end) != end)) return false;
    out.method_name = make_span(m0, i);
    out.method = method_from_inl(base + m0, i - m0);
    return true;
}

bool parse_cseq(const char* base, Span s, CSeq& out) noexcept {
    return parse_cseq_lim(base, s, s.end(), out);
}

bool parse_retry_after(const char* base, Span s, RetryAfter& out) noexcept {
    out = RetryAfter{};
    const uint32_t end = s.end();
    uint32_t i = s.off;
    const uint32_t d0 = i;
    while (i < end && is(base[i], cc_digit)) i++;
    if (!parse_uint(base, make_span(d0, i), 0xffffffffu, out.seconds)) return false;
    i = skip_lws(base, i, end);
    if (i < end && base[i] == '(') {
        i = skip_comment(base, i, end);
        if (i == 0) return false;
        i = skip_lws(base, i, end);
    }
    if (i == end) return true;
    if (base[i] != ';') return false;
    ParamList params(base, make_span(i + 1, end));
    Span n, v;
    while (params.next(n, v)) {
        if (ieq(base + n.off, n.len, "duration", 8)) {
            if (!parse_uint(base, v, 0xffffffffu, out.duration)) return false;
            out.has_duration = true;
        }
    }
    return !params.bad();
}

bool parse_date(const char* base, Span s) noexcept {
    // rfc1123-date = wkday "," SP 2DIGIT SP month SP 4DIGIT SP
    //                2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"   (29 bytes)
    static constexpr const char* wkdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.len != 29) return false;
    const char* p = base + s.off;
    auto three = [](const char* a, const char* b) { return a[0] == b[0] && a[1] == b[1] && a[2] == b[2]; };
    auto digits = [](const char* a, int n) {
        for (int k = 0; k < n; k++)
            if (!is(a[k], cc_digit)) return false;
        return true;
    };
    bool ok = false;
    for (const char* w : wkdays) ok |= three(p, w);
    if (!ok || p[3] != ',' || p[4] != ' ' || !digits(p + 5, 2) || p[7] != ' ') return false;
    ok = false;
    for (const char* m : months) ok |= three(p + 8, m);
    if (!ok || p[11] != ' ' || !digits(p + 12, 4) || p[16] != ' ') return false;
    if (!digits(p + 17, 2) || p[19] != ':' || !digits(p + 20, 2) || p[22] != ':' ||
        !digits(p + 23, 2) || p[25] != ' ')
        return false;
    return p[26] == 'G' && p[27] == 'M' && p[28] == 'T';
}

bool valid_call_id_lim(const char* base, Span s, uint32_t limit) noexcept {
    // word [ "@" word ]
    const uint32_t end = s.end();
    const uint32_t i = scan_class_lim<cc_word>(base, s.off, end, limit);
    if (i == s.off) return false;
    if (i == end) return true;
    if (base[i] != '@' || i + 1 == end) return false;
    return scan_class_lim<cc_word>(base, i + 1, end, limit) == end;
}

bool valid_call_id(const char* base, Span s) noexcept {
    return valid_call_id_lim(base, s, s.end());
}

bool parse_digest(const char* base, Span s, Digest& out) noexcept {
    out = Digest{};
    const uint32_t end = s.end();
    uint32_t i = s.off;
    const uint32_t s0 = i;
    while (i < end && is(base[i], cc_token)) i++;
    if (i == s0) return false;
    out.scheme = make_span(s0, i);
    out.is_digest = ieq(base + s0, i - s0, "digest", 6);
    const uint32_t ws = i;
    i = skip_lws(base, i, end);
    if (i == end) return true;  // scheme alone
    if (i == ws) return false;
    CommaList list(base, make_span(i, end));
    Span item;
    while (list.next(item)) {
        if (item.len == 0) continue;  // RFC 7230 list: empty elements ignored
        uint32_t k = item.off;
        const uint32_t ie = item.end();
        const uint32_t n0 = k;
        while (k < ie && is(base[k], cc_token)) k++;
        if (k == n0) return false;
        const Span name = make_span(n0, k);
        k = skip_lws(base, k, ie);
        if (k == ie || base[k] != '=') {
            if (!out.is_digest) continue;  // other schemes: token68 etc.
            return false;
        }
        k = skip_lws(base, k + 1, ie);
        Span val;
        if (k < ie && base[k] == '"') {
            const uint32_t q = skip_quoted(base, k, ie);
            if (q == 0 || q != ie) return false;
            val = make_span(k + 1, q - 1);
        } else {
            const uint32_t v0 = k;
            while (k < ie && is(base[k], cc_token)) k++;
            if (k == v0 || k != ie) return false;
            val = make_span(v0, k);
        }
        const char* n = base + name.off;
        const size_t nl = name.len;
        if (ieq(n, nl, "realm", 5)) out.realm = val;
        else if (ieq(n, nl, "nonce", 5)) out.nonce = val;
        else if (ieq(n, nl, "opaque", 6)) out.opaque = val;
        else if (ieq(n, nl, "algorithm", 9)) out.algorithm = val;
        else if (ieq(n, nl, "qop", 3)) out.qop = val;
        else if (ieq(n, nl, "stale", 5)) out.stale = val;
        else if (ieq(n, nl, "domain", 6)) out.domain = val;
        else if (ieq(n, nl, "username", 8)) out.username = val;
        else if (ieq(n, nl, "uri", 3)) out.uri = val;
        else if (ieq(n, nl, "response", 8)) out.response = val;
        else if (ieq(n, nl, "cnonce", 6)) out.cnonce = val;
        else if (ieq(n, nl, "nc", 2)) out.nc = val;
    }
    return !list.bad();
}

}  // namespace sipedge::sip
