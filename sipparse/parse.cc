// The message parser: start line, header index, typed fast-path fields and
// framing (RFC 3261 §7, §18.3). See message.h for what it accepts and
// rejects.

#include <bit>
#include <cstddef>
#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sipparse/charclass.h"
#include "sipparse/fastpath.h"
#include "sipparse/header_lookup.h"
#include "sipparse/headers.h"
#include "sipparse/lex.h"
#include "sipparse/message.h"

namespace sipedge::sip {

namespace {

using lex::skip_lws;
using lex::trim_end;

// Every element of a name-addr list header (Contact, Route, Record-Route)
// with its URI; ParseError::none when all are well-formed.
ParseError check_name_addr_list(const char* b, Span v, HeaderId id) noexcept {
    const bool contact = id == HeaderId::contact;
    const ParseError err = contact ? ParseError::bad_contact : ParseError::bad_route;
    CommaList list(b, v);
    Span el;
    NameAddr na;
    Uri uri;
    size_t n = 0;
    while (list.next(el)) {
        if (el.len == 0 || !parse_name_addr(b, el, na, contact)) return err;
        if (!na.star && !parse_uri(b, na.uri, uri)) return err;
        n++;
    }
    return (list.bad() || n == 0) ? err : ParseError::none;
}

struct Parser {
    const char* b;
    uint32_t len;
    Message& m;
    Framing framing;

    ParseStatus fail(ParseError e, uint32_t off, HeaderId h = HeaderId::other) noexcept {
        m.error = e;
        m.error_off = uint16_t(off > 0xffff ? 0xffff : off);
        m.error_header = h;
        return ParseStatus::invalid;
    }

    // End of the line starting at <pos>: index of its '\n', or len when the
    // buffer ends first. Also stores in <colon> the first ':' in
    // b[pos, lf), or lf when there is none.
    uint32_t find_lf(uint32_t pos, uint32_t& colon) const noexcept {
        const uint32_t start = pos;
#if defined(__SSE2__)
        // Inline 16-byte compares: header lines are short, and a libc call
        // per line costs more than the search itself. The first step, two
        // blocks (a typical header line is 30-60 bytes), also looks for the
        // ':' that ends the name, which is nearly always in it.
        const __m128i lf = _mm_set1_epi8('\n');
        if (len - pos >= 32) {
            const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + pos));
            const __m128i v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + pos + 16));
            const __m128i cv = _mm_set1_epi8(':');
            const uint32_t hit = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v0, lf))) |
                                 (unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v1, lf))) << 16);
            const uint32_t ch = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v0, cv))) |
                                (unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v1, cv))) << 16);
            if (hit) {
                // The lowest bit of ch | hit is a ':' before the '\n', or
                // the '\n' itself when the line has none.
                colon = pos + unsigned(__builtin_ctz(ch | hit));
                return pos + unsigned(__builtin_ctz(hit));
            }
            if (ch) {
                colon = pos + unsigned(__builtin_ctz(ch));
                return find_lf_from32(pos + 32);
            }
            const uint32_t e = find_lf_from32(pos + 32);
            colon = find_byte_lim(b, pos + 32, e, len, ':');
            return e;
        }
        if (len >= 32) {
            // The last lines of a message without a body: compare the
            // buffer's last 32 bytes and drop the bits before <pos>.
            const uint32_t shift = pos - (len - 32);
            const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + len - 32));
            const __m128i v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + len - 16));
            const __m128i cv = _mm_set1_epi8(':');
            const uint32_t hit = (unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v0, lf))) |
                                  (unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v1, lf))) << 16)) >>
                                 shift;
            const uint32_t ch = (unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v0, cv))) |
                                 (unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v1, cv))) << 16)) >>
                                shift;
            const uint32_t e = hit ? pos + unsigned(__builtin_ctz(hit)) : len;
            const uint32_t first = ch | hit;  // as above; neither: no ':' and no '\n'
            colon = first ? pos + unsigned(__builtin_ctz(first)) : e;
            return e;
        }
#endif
        const uint32_t e = find_lf(pos);
        colon = start;
        while (colon < e && b[colon] != ':') colon++;
        return e;
    }

#if defined(__SSE2__)
    // find_lf() for a caller that knows len >= 32 (b[pos - 32, pos) was
    // readable): the 32-byte steps test pos against len - 32 directly.
    uint32_t find_lf_from32(uint32_t pos) const noexcept {
        const __m128i lf = _mm_set1_epi8('\n');
        const uint32_t last = len - 32;
        while (pos <= last) {
            const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + pos));
            const __m128i v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + pos + 16));
            const unsigned hit = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v0, lf))) |
                                 (unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v1, lf))) << 16);
            if (hit) return pos + unsigned(__builtin_ctz(hit));
            pos += 32;
        }
        return find_lf(pos);
    }
#endif

    // End of the line starting at <pos>: index of its '\n', or len when the
    // buffer ends first.
    uint32_t find_lf(uint32_t pos) const noexcept {
#if defined(__SSE2__)
        const __m128i lf = _mm_set1_epi8('\n');
        while (len - pos >= 32) {
            const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + pos));
            const __m128i v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + pos + 16));
            const unsigned hit = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v0, lf))) |
                                 (unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v1, lf))) << 16);
            if (hit) return pos + unsigned(__builtin_ctz(hit));
            pos += 32;
        }
        while (len - pos >= 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + pos));
            const unsigned hit = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)));
            if (hit) return pos + unsigned(__builtin_ctz(hit));
            pos += 16;
        }
#endif
        const void* p = std::memchr(b + pos, '\n', len - pos);
        return p ? uint32_t(static_cast<const char*>(p) - b) : len;
    }

    // The error for a header line [pos, e) whose name is not a token
    // followed by optional SP/HT and ':': bad_header_name at the first byte
    // that breaks that.
    [[gnu::noinline, gnu::cold]] ParseStatus bad_name(uint32_t pos, uint32_t e) noexcept {
        uint32_t i = pos;
        while (i < e && is(b[i], cc_token)) i++;
        if (i == pos) return fail(ParseError::bad_header_name, pos);
        while (i < e && (b[i] == ' ' || b[i] == '\t')) i++;
        return fail(ParseError::bad_header_name, i);
    }

    // Content end of a line whose '\n' is at <lf>: drops the CR of a CRLF,
    // flags a bare LF.
    uint32_t content_end(uint32_t start, uint32_t lf) noexcept {
        if (lf > start && b[lf - 1] == '\r') return lf - 1;
        m.lenient |= lenient_bare_lf;
        return lf;
    }

    // content_end() for a line that follows another: b[lf - 1] is readable
    // (at worst the previous line's '\n', which is not a CR), so the test
    // of lf against the line's start is not needed.
    uint32_t content_end_after_lf(uint32_t lf) noexcept {
        if (b[lf - 1] == '\r') return lf - 1;
        m.lenient |= lenient_bare_lf;
        return lf;
    }

    // "SIP/2.0" check. Returns ok, or which error.
    ParseError check_version(uint32_t s, uint32_t e) const noexcept {
        // SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT ("SIP" case-insensitive)
        if (e - s < 7 || lower(b[s]) != 's' || lower(b[s + 1]) != 'i' || lower(b[s + 2]) != 'p' ||
            b[s + 3] != '/')
            return ParseError::bad_version;
        uint32_t i = s + 4;
        const uint32_t d0 = i;
        while (i < e && is(b[i], cc_digit)) i++;
        if (i == d0 || i == e || b[i] != '.') return ParseError::bad_version;
        const uint32_t d1 = ++i;
        while (i < e && is(b[i], cc_digit)) i++;
        if (i == d1 || i != e) return ParseError::bad_version;
        if (e - s != 7 || b[s + 4] != '2' || b[s + 6] != '0') return ParseError::unsupported_version;
        return ParseError::none;
    }

    // First byte in b[i, e) that a Reason-Phrase may not hold (a control
    // byte other than HTAB, or DEL), or e. b[i, len) is readable.
    uint32_t find_ctl(uint32_t i, uint32_t e) const noexcept {
#if defined(__SSE2__)
        const __m128i sp = _mm_set1_epi8(' ');
        const __m128i tab = _mm_set1_epi8('\t');
        const __m128i del = _mm_set1_epi8(0x7f);
        while (i < e && len - i >= 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
            // v < 0x20 (unsigned) is max(v, 0x20) != v.
            const __m128i low = _mm_andnot_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, sp), v),
                                                 _mm_set1_epi8(-1));
            const __m128i bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, tab), low),
                                             _mm_cmpeq_epi8(v, del));
            if (const unsigned hit = unsigned(_mm_movemask_epi8(bad))) {
                const uint32_t k = i + unsigned(__builtin_ctz(hit));
                return k < e ? k : e;
            }
            i += 16;
        }
#endif
        for (; i < e; i++) {
            const uint8_t c = uint8_t(b[i]);
            if ((c < 0x20 && c != '\t') || c == 0x7f) return i;
        }
        return e;
    }

    ParseStatus start_line(uint32_t s, uint32_t e) noexcept {
        m.start_line = make_span(s, e);
        if (e - s >= 4 && b[s] == 'S' && b[s + 1] == 'I' && b[s + 2] == 'P' && b[s + 3] == '/') {
            // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
            uint32_t i = s + 7;
            if (e - s < 8 || std::memcmp(b + s, "SIP/2.0 ", 8) != 0) {
                i = s;
                while (i < e && b[i] != ' ') i++;
                if (const ParseError v = check_version(s, i); v != ParseError::none) return fail(v, s);
            }
            m.version = make_span(s, i);
            if (i == e) return fail(ParseError::bad_start_line, i);
            const uint32_t c0 = ++i;
            while (i < e && is(b[i], cc_digit)) i++;
            uint32_t code;
            if (i - c0 != 3 || !parse_uint_inl(b, make_span(c0, i), 999, code) || code < 100 || code > 699)
                return fail(ParseError::bad_status_code, c0);
            // RFC 4475 §3.1.1.13: the SP before an empty reason may be absent in
            // the wild; accept both.
            if (i < e && b[i] != ' ') return fail(ParseError::bad_status_code, i);
            // Reason-Phrase: text, SP and HTAB; no other control bytes.
            if (const uint32_t k = find_ctl(i, e); k != e) return fail(ParseError::bad_start_line, k);
            m.status = uint16_t(code);
            m.reason = i < e ? make_span(i + 1, e) : Span{uint16_t(e), 0};
            m.is_request = false;
            return ParseStatus::ok;
        }
        // Request-Line = Method SP Request-URI SP SIP-Version (exactly one SP).
        uint32_t i = s;
        while (i < e && is(b[i], cc_token)) i++;
        if (i == s) return fail(ParseError::bad_method, s);
        if (i == e || b[i] != ' ') return fail(ParseError::bad_start_line, i);
        m.method_name = make_span(s, i);
        m.method = method_from_inl(b + s, i - s);
        const uint32_t u0 = ++i;
        // A tab inside the Request-URI is caught by parse_uri below.
        i = find_byte_lim(b, i, e, len, ' ');  // inline: a libc call costs more here
        if (i == u0) return fail(ParseError::bad_start_line, i);  // double SP
        if (i == e || b[i] != ' ') return fail(ParseError::bad_start_line, i);
        m.request_uri = make_span(u0, i);
        const uint32_t v0 = ++i;
        // The version runs to the end of the line: trailing or extra SP
        // (RFC 4475 §3.1.2.8-10) makes it malformed.
        if (e - v0 != 7 || std::memcmp(b + v0, "SIP/2.0", 7) != 0) {
            for (uint32_t k = v0; k < e; k++)
                if (b[k] == ' ' || b[k] == '\t') return fail(ParseError::bad_start_line, k);
            if (const ParseError v = check_version(v0, e); v != ParseError::none) return fail(v, v0);
        }
        m.version = make_span(v0, e);
        // RFC 3261 §19.1.1 Table 1: no headers component in a Request-URI;
        // RFC 4475 §3.1.2.7: no < >.
        if (!parse_uri_lim(b, m.request_uri, len, m.ruri) || !m.ruri.headers.empty())
            return fail(ParseError::bad_request_uri, u0);
        m.is_request = true;
        return ParseStatus::ok;
    }

    // Records a header that appears once at most.
    bool single(HeaderId id) const noexcept { return m.first_[size_t(id)] == 0; }

    // The rest of header()'s trimming, out of line: [v0, v1) with leading
    // and trailing LWS dropped, as v0 | v1 << 32. Only called when b[v0]
    // or b[v1 - 1] is a control byte or SP.
    [[gnu::noinline, gnu::cold]] uint64_t trim_value(uint32_t v0, uint32_t v1) const noexcept {
        if (uint8_t(b[v0]) <= ' ' && v0 < v1) v0 = skip_lws(b, v0, v1);
        if (uint8_t(b[v1 - 1]) <= ' ' && v1 > v0) v1 = trim_end(b, v0, v1);
        return v0 | uint64_t(v1) << 32;
    }

    // Validates and indexes the header [n0, n1) : [v0, v1). Inlined into
    // run(): it runs once per header line, and as a call it spilled run()'s
    // loop state every time (about 20 instructions a header).
    [[gnu::always_inline]]
    ParseStatus header(HeaderId id, Span nm, uint32_t v0, uint32_t v1) noexcept {
        const uint32_t n0 = nm.off;
        // Usually "Name: value": one SP before the value, none after it.
        // b[v1] is the line's CR or LF (v0 <= v1 < len), so b[v0] is
        // readable and not SP when the value is empty: the byte tests go
        // first and the bounds tests only run on the rare branch.
        if (b[v0] == ' ') v0++;
        if (uint8_t(b[v0]) <= ' ' || uint8_t(b[v1 - 1]) <= ' ') [[unlikely]] {
            const uint64_t t = trim_value(v0, v1);
            v0 = uint32_t(t);
            v1 = uint32_t(t >> 32);
        }
        if (m.header_count == max_headers) return fail(ParseError::too_many_headers, n0);
        // make_span(v0, v1) without its truncations: v0 and v1 - v0 are
        // below 65536 (len <= max_message_size), so the packed word is the
        // same and takes fewer instructions.
        Span v;
        if constexpr (std::endian::native == std::endian::little)
            v = std::bit_cast<Span>(uint32_t(v0 | (v1 - v0) << 16));
        else
            v = make_span(v0, v1);
        switch (id) {
        case HeaderId::via: {
            // The proxy uses the top via-parm (RFC 3261 §16.7 step 3); the
            // others are counted here and checked by validate().
            if (v.len == 0) return fail(ParseError::bad_via, v0, id);
            // The top Via parsed with no ',' possible in it: what the
            // one-via-parm branch below does, without the ',' search.
            if (m.via_count == 0 && parse_via_top(b, v, len, m.top_via) == 2) {
                m.via_count = 1;
                break;
            }
            if (find_byte_lim(b, v0, v1, len, ',') == v1) {
                // One via-parm (the usual case): the value, already trimmed,
                // is the element CommaList would return.
                if (m.via_count == 0 && !parse_via_lim(b, v, len, m.top_via))
                    return fail(ParseError::bad_via, v0, id);
                m.via_count = uint16_t(m.via_count + 1);
                break;
            }
            CommaList list(b, v);
            Span el;
            uint16_t n = 0;
            while (list.next(el)) {
                if (el.len == 0) return fail(ParseError::bad_via, el.off, id);
                if (m.via_count == 0 && n == 0 && !parse_via_lim(b, el, len, m.top_via))
                    return fail(ParseError::bad_via, el.off, id);
                n++;
            }
            if (list.bad() || n == 0) return fail(ParseError::bad_via, v0, id);
            m.via_count = uint16_t(m.via_count + n);
            break;
        }
        case HeaderId::call_id:
            if (!single(id)) return fail(ParseError::duplicate_header, n0, id);
            if (!valid_call_id_lim(b, v, len)) return fail(ParseError::bad_call_id, v0, id);
            m.call_id = v;
            break;
        case HeaderId::cseq:
            if (!single(id)) return fail(ParseError::duplicate_header, n0, id);
            if (!parse_cseq_lim(b, v, len, m.cseq)) return fail(ParseError::bad_cseq, v0, id);
            break;
        case HeaderId::from:
        case HeaderId::to: {
            if (!single(id)) return fail(ParseError::duplicate_header, n0, id);
            NameAddr& na = id == HeaderId::from ? m.from : m.to;
            if (!parse_name_addr_lim(b, v, len, na, false))
                return fail(id == HeaderId::from ? ParseError::bad_from : ParseError::bad_to, v0, id);
            break;
        }
        case HeaderId::max_forwards:
            if (!single(id)) return fail(ParseError::duplicate_header, n0, id);
            if (!parse_uint_inl(b, v, 255, m.max_forwards)) return fail(ParseError::bad_max_forwards, v0, id);
            m.has_max_forwards = true;
            break;
        case HeaderId::content_length:
            // RFC 4475 §3.3.9: two Content-Length values are a framing error.
            if (!single(id)) return fail(ParseError::duplicate_header, n0, id);
            if (!parse_uint_inl(b, v, max_message_size, m.content_length))
                return fail(ParseError::bad_content_length, v0, id);
            m.has_content_length = true;
            break;
        case HeaderId::route:
            // The proxy looks at the top Route value (RFC 3261 §16.4: is it
            // us?); every value is checked by validate().
            if (single(id)) {
                CommaList list(b, v);
                Span el;
                NameAddr na;
                if (!list.next(el) || el.len == 0 || !parse_name_addr_lim(b, el, len, na, false) ||
                    !parse_uri_lim(b, na.uri, len, m.route0))
                    return fail(ParseError::bad_route, v0, id);
                m.has_route0 = true;
            }
            break;
        default:
            break;
        }
        Header& h = m.headers[m.header_count];
        h.name = nm;
        h.value = v;
        h.id = id;
        if (m.first_[size_t(id)] == 0) m.first_[size_t(id)] = uint8_t(m.header_count + 1);
        m.header_count++;
        return ParseStatus::ok;
    }

    ParseStatus unterminated(uint32_t pos) noexcept {
        if (framing == Framing::stream) {
            if (len >= max_message_size) return fail(ParseError::too_large, pos);
            return ParseStatus::incomplete;
        }
        return fail(ParseError::headers_unterminated, pos);
    }

    ParseStatus run() noexcept {
        uint32_t pos = 0;
        // RFC 3261 §7.5: ignore CRLFs before the start line (keep-alives).
        while (pos < len && (b[pos] == '\r' || b[pos] == '\n')) pos++;
        if (pos) m.lenient |= lenient_leading_crlf;
        if (pos == len) {
            if (framing == Framing::stream) return ParseStatus::incomplete;
            return fail(ParseError::empty, 0);
        }
        uint32_t lf = find_lf(pos);
        if (lf == len) return unterminated(pos);
        if (const ParseStatus st = start_line(pos, content_end(pos, lf)); st != ParseStatus::ok)
            return st;

        // Header lines. A header is complete when the next line does not
        // start with SP/HT (RFC 3261 §7.3.1 folding).
        // The open header: its name (empty when none is open: a header
        // name is never empty), id and value.
        Span nm{};
        uint32_t v0 = 0, v1 = 0;
        HeaderId hid = HeaderId::other;
        uint32_t body;
        for (;;) {
            pos = lf + 1;
            if (pos >= len) return unterminated(pos);
            uint32_t colon;
            lf = find_lf(pos, colon);
            if (lf == len) return unterminated(pos);
            const uint32_t e = content_end_after_lf(lf);
            if (e == pos) {  // empty line: end of headers
                body = lf + 1;
                break;
            }
            const char c = b[pos];
            if (uint8_t(c) <= ' ' && (c == ' ' || c == '\t')) {
                if (nm.len == 0) return fail(ParseError::bad_header_name, pos);
                v1 = e;  // the value now spans the folded line end
                continue;
            }
            if (nm.len != 0) {
                if (const ParseStatus st = header(hid, nm, v0, v1); st != ParseStatus::ok) return st;
            }
            // header-name HCOLON: the name ends at the line's first ':'
            // ("Name:" is the norm; "Name :" with SP/HT, RFC 3261 §7.3.1, is
            // rare) and must be a token. A name that matched a known one in
            // full is a token already; others are checked byte by byte.
            if (colon >= e) return bad_name(pos, e);
            uint32_t i = colon;
            if (uint8_t(b[i - 1]) <= ' ')  // b[pos - 1] is the previous '\n'
                while (i > pos && (b[i - 1] == ' ' || b[i - 1] == '\t')) i--;
#if defined(__SSE2__)
            hid = len - pos >= 16 ? names::lookup_header16(b + pos, i - pos)
                                  : names::lookup_header(b + pos, i - pos);
#else
            hid = names::lookup_header(b + pos, i - pos);
#endif
            if (hid == HeaderId::other &&
                (i == pos || scan_class_lim<cc_token>(b, pos, i, len) != i))
                return bad_name(pos, e);
            nm = make_span(pos, i);
            v0 = colon + 1;
            v1 = e;
        }
        if (nm.len != 0) {
            if (const ParseStatus st = header(hid, nm, v0, v1); st != ParseStatus::ok) return st;
        }
        return finish(body);
    }

    ParseStatus finish(uint32_t body) noexcept {
        // RFC 3261 §8.1.1: To, From, CSeq, Call-ID and Via are mandatory.
        // Max-Forwards is too, but RFC 2543 requests lack it (RFC 4475
        // §3.4.1) and a proxy adds it, so it stays optional here.
        static constexpr HeaderId mandatory[] = {HeaderId::to, HeaderId::from, HeaderId::cseq,
                                                 HeaderId::call_id, HeaderId::via};
        for (const HeaderId id : mandatory)
            if (m.first_[size_t(id)] == 0) return fail(ParseError::missing_header, body, id);
        if (m.is_request) {
            // RFC 3261 §8.1.1.5: the CSeq method matches the request method.
            // Method names are case-sensitive and method_from() matches them
            // exactly, so two known methods are equal when their ids are.
            const Span a = m.method_name, c = m.cseq.method_name;
            const bool same = m.method != Method::extension
                                  ? m.method == m.cseq.method
                                  : a.len == c.len && std::memcmp(b + a.off, b + c.off, a.len) == 0;
            if (!same) {
                const Header* h = m.find(HeaderId::cseq);
                return fail(ParseError::cseq_mismatch, h->value.off, HeaderId::cseq);
            }
        }
        const uint32_t avail = len - body;
        if (m.has_content_length) {
            if (m.content_length > avail) {
                if (framing == Framing::stream) {
                    m.need = body + m.content_length;
                    return ParseStatus::incomplete;
                }
                // RFC 3261 §18.3 / RFC 4475 §3.1.2.2: over UDP, an error.
                return fail(ParseError::body_truncated, body, HeaderId::content_length);
            }
            if (m.content_length < avail && framing == Framing::datagram)
                m.lenient |= lenient_trailing_bytes;  // RFC 4475 §3.1.1.8: ignored
            m.body = make_span(body, body + m.content_length);
        } else if (framing == Framing::stream) {
            // RFC 3261 §18.3: Content-Length MUST be used with stream transports.
            return fail(ParseError::missing_header, body, HeaderId::content_length);
        } else {
            m.lenient |= lenient_no_content_length;
            m.body = make_span(body, len);
        }
        m.size = m.body.end();
        return ParseStatus::ok;
    }
};

// memset(p, 0, N) as straight 16-byte stores: the compiler makes a
// 274-byte memset a `rep stos`, which costs more than these at this size.
template <size_t N>
[[gnu::always_inline]] inline void clear_prefix(void* p) noexcept {
#if defined(__SSE2__)
    static_assert(N >= 16);
    char* c = static_cast<char*>(p);
    const __m128i z = _mm_setzero_si128();
    [&]<size_t... K>(std::index_sequence<K...>) {
        (_mm_storeu_si128(reinterpret_cast<__m128i*>(c + K * 16), z), ...);
    }(std::make_index_sequence<N / 16>{});
    if constexpr (N % 16 != 0) _mm_storeu_si128(reinterpret_cast<__m128i*>(c + N - 16), z);
#else
    std::memset(p, 0, N);
#endif
}

}  // namespace

size_t Message::count(HeaderId id) const noexcept {
    size_t n = 0;
    for (const Header* h = find(id); h; h = next(h)) n++;
    return n;
}

ParseStatus validate(const char* buf, Message& m) noexcept {
    auto fail = [&m](ParseError e, Span at, HeaderId id) {
        m.error = e;
        m.error_off = at.off;
        m.error_header = id;
        return ParseStatus::invalid;
    };
    Uri uri;
    if (!parse_uri(buf, m.from.uri, uri)) return fail(ParseError::bad_from, m.from.uri, HeaderId::from);
    if (!parse_uri(buf, m.to.uri, uri)) return fail(ParseError::bad_to, m.to.uri, HeaderId::to);
    for (uint16_t i = 0; i < m.header_count; i++) {
        const Header& h = m.headers[i];
        const Span v = h.value;
        switch (h.id) {
        case HeaderId::via: {
            CommaList list(buf, v);
            Span el;
            Via via;
            while (list.next(el))
                if (!parse_via(buf, el, via)) return fail(ParseError::bad_via, el, h.id);
            if (list.bad()) return fail(ParseError::bad_via, v, h.id);
            break;
        }
        case HeaderId::contact:
        case HeaderId::route:
        case HeaderId::record_route:
            if (const ParseError e = check_name_addr_list(buf, v, h.id); e != ParseError::none)
                return fail(e, v, h.id);
            break;
        case HeaderId::expires:
        case HeaderId::min_expires: {
            uint32_t e;
            if (!parse_uint(buf, v, 0xffffffffu, e)) return fail(ParseError::bad_expires, v, h.id);
            break;
        }
        case HeaderId::retry_after: {
            RetryAfter ra;
            if (!parse_retry_after(buf, v, ra)) return fail(ParseError::bad_retry_after, v, h.id);
            break;
        }
        case HeaderId::date:
            if (!parse_date(buf, v)) return fail(ParseError::bad_date, v, h.id);
            break;
        default:
            break;
        }
    }
    return ParseStatus::ok;
}

ParseStatus parse(const char* buf, size_t len, Message& out, Framing framing) noexcept {
    // Zero every field before the header array (all defaults are zero);
    // header entries are written as they are found.
    clear_prefix<offsetof(Message, headers)>(&out);
    if (len > max_message_size) {
        if (framing == Framing::datagram) {
            out.error = ParseError::too_large;
            return ParseStatus::invalid;
        }
        len = max_message_size;  // a message cannot extend past this
    }
    Parser p{buf, uint32_t(len), out, framing};
    return p.run();
}

}  // namespace sipedge::sip
