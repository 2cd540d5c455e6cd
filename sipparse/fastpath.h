#pragma once
// Internal variants of the headers.h value parsers for parse()'s fast path.
// Each takes <limit>: the buffer is readable up to base + limit, and
// limit >= the span's end. The span still bounds what is parsed; the limit
// only lets a 16-byte block run past the span's end (results are clamped to
// it), so short tokens, hosts and parameters take one vector step instead of
// a byte loop. The public functions call these with limit = span end.

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sipparse/charclass.h"
#include "sipparse/lex.h"
#include "sipparse/span.h"
#include "sipparse/types.h"

namespace sipedge::sip {

bool parse_via_lim(const char* base, Span s, uint32_t limit, Via& out) noexcept;
/// parse_via_lim() that also says when <s> surely holds no ',' (one
/// via-parm): 0 = false, 1 = true, 2 = true and no ',' in <s>.
int parse_via_top(const char* base, Span s, uint32_t limit, Via& out) noexcept;
bool parse_name_addr_lim(const char* base, Span s, uint32_t limit, NameAddr& out,
                         bool allow_star) noexcept;
uint32_t scan_hostport_lim(const char* p, uint32_t i, uint32_t end, uint32_t limit,
                           HostPort& out) noexcept;
bool valid_call_id_lim(const char* base, Span s, uint32_t limit) noexcept;
bool parse_cseq_lim(const char* base, Span s, uint32_t limit, CSeq& out) noexcept;
bool parse_uri_lim(const char* base, Span s, uint32_t limit, Uri& out) noexcept;

/// method_from() (types.h) inline, by length and then one or two word
/// compares (case-sensitive, RFC 3261 §7.1): the start line and CSeq name a
/// method on every message.
inline Method method_from_inl(const char* p, size_t n) noexcept {
    auto eq = [p](const char* lit, size_t len) { return std::memcmp(p, lit, len) == 0; };
    switch (n) {
    case 0: return Method::unknown;
    case 3:
        if (eq("ACK", 3)) return Method::ack;
        if (eq("BYE", 3)) return Method::bye;
        break;
    case 4:
        if (eq("INFO", 4)) return Method::info;
        break;
    case 5:
        if (eq("PRACK", 5)) return Method::prack;
        if (eq("REFER", 5)) return Method::refer;
        break;
    case 6:
        if (eq("INVITE", 6)) return Method::invite;
        if (eq("CANCEL", 6)) return Method::cancel;
        if (eq("NOTIFY", 6)) return Method::notify;
        if (eq("UPDATE", 6)) return Method::update;
        break;
    case 7:
        if (eq("OPTIONS", 7)) return Method::options;
        if (eq("PUBLISH", 7)) return Method::publish;
        if (eq("MESSAGE", 7)) return Method::message;
        break;
    case 8:
        if (eq("REGISTER", 8)) return Method::register_;
        break;
    case 9:
        if (eq("SUBSCRIBE", 9)) return Method::subscribe;
        break;
    default:
        break;
    }
    return Method::extension;
}

/// parse_uint (headers.h), inline: numbers are on every message (CSeq,
/// Max-Forwards, Content-Length, status code, rport) and the call cost as
/// much as the digits. Decimal digits only, 1 to 32 of them, at most <max>.
inline bool parse_uint_inl(const char* base, Span s, uint32_t max, uint32_t& out) noexcept {
    if (s.len == 0 || s.len > 32) return false;
    const char* p = base + s.off;
    uint64_t v = 0;  // <= max * 10 + 9: no overflow for a 32-bit max
    for (uint32_t i = 0; i < s.len; i++) {
        const uint32_t d = uint8_t(p[i] - '0');
        if (d > 9 || (v = v * 10 + d) > max) return false;
    }
    out = uint32_t(v);
    return true;
}

/// A dotted-quad IPv4 address at p[i, end) (four 1-3 digit octets, each at
/// most 255, digits taken greedily): the index just after it, or 0 when none
/// starts at <i>. What follows is the caller's to check.
inline uint32_t scan_ipv4(const char* p, uint32_t i, uint32_t end) noexcept {
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i == end || p[i] != '.') return 0;
            i++;
        }
        if (i == end) return 0;
        uint32_t v = uint8_t(p[i] - '0');
        if (v > 9) return 0;
        if (++i < end) {
            const uint32_t d1 = uint8_t(p[i] - '0');
            if (d1 <= 9) {
                v = v * 10 + d1;
                if (++i < end) {
                    const uint32_t d2 = uint8_t(p[i] - '0');
                    if (d2 <= 9) {
                        v = v * 10 + d2;
                        i++;
                    }
                }
            }
        }
        if (v > 255) return 0;
    }
    return i;
}

#if defined(__SSE2__)
/// The run of digits and dots at p[0, n), n <= max (<= 16), in <n>, and
/// whether it is a dotted quad as scan_ipv4() reads one in full: four
/// parts of 1-3 digits, each at most 255, joined by single dots. p[0, 16)
/// must be readable (bytes past <max> are not looked at). One 16-byte
/// compare instead of a digit loop; for a run that is a dotted quad,
/// scan_ipv4(p, 0, max) returns n, and for any other it returns 0 or stops
/// before n.
[[gnu::always_inline]] inline bool quad_run16(const char* p, uint32_t max, uint32_t& n) noexcept {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    unsigned dig = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)));
    unsigned dot = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.'))));
    unsigned run = dig | dot;
    if (max < 16) run &= (1u << max) - 1;
    n = unsigned(__builtin_ctz(~run));  // <= 16: bits 16 and up of ~run are set
    const unsigned m = (1u << n) - 1;
    dot &= m;
    dig &= m;
    // Three dots, none first or last, no two together, no four digits in a
    // row: four parts of 1-3 digits.
    if (__builtin_popcount(dot) != 3 || (dot & (1u | (1u << (n - 1)))) || (dot & (dot >> 1)) ||
        (dig & (dig >> 1) & (dig >> 2) & (dig >> 3)))
        return false;
    // A part can exceed 255 only with three digits, the first above '1'.
    for (unsigned t3 = dig & (dig >> 1) & (dig >> 2); t3; t3 &= t3 - 1) {
        const char* g = p + __builtin_ctz(t3);
        if (g[0] > '1' && uint32_t(g[0] - '0') * 100 + uint32_t(g[1] - '0') * 10 + uint32_t(g[2] - '0') > 255)
            return false;
    }
    return true;
}
#endif

/// scan_hostport_lim() with its usual case inline: a dotted quad (Via
/// sent-by, Request-URI and Route hosts) and an optional port, read with
/// one 16-byte compare each and taken only when scan_hostport_lim() would
/// return the same; anything else goes to it.
[[gnu::always_inline]] inline uint32_t scan_hostport_inl(const char* p, uint32_t i, uint32_t end,
                                                         uint32_t limit, HostPort& out) noexcept {
#if defined(__SSE2__)
    uint32_t n;
    // limit - i >= 32: the blocks at p + i and at the port (at most
    // p + i + 16) are readable.
    if (i < end && uint8_t(p[i] - '0') <= 9 && limit - i >= 32 &&
        quad_run16(p + i, end - i < 16 ? end - i : 16, n)) {
        const uint32_t h = i + n;
        if (h == end) {
            out = HostPort{make_span(i, h), 0, HostKind::ipv4, false};
            return h;
        }
        if (p[h] == ':') {
            // 1 to 5 digits, at most 65535 (a sixth digit is an error),
            // then anything: scan_hostport_lim() looks no further.
            const uint32_t k = h + 1;
            const uint32_t lim = end - k < 6 ? end - k : 6;
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k));
            const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
            const unsigned dig =
                unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d))) &
                ((1u << lim) - 1);
            const uint32_t nd = unsigned(__builtin_ctz(~dig));
            if (nd == 0 || nd > 5) return 0;
            uint32_t port = 0;
            for (uint32_t j = 0; j < nd; j++) port = port * 10 + uint32_t(uint8_t(p[k + j] - '0'));
            if (port > 65535) return 0;
            out = HostPort{make_span(i, h), uint16_t(port), HostKind::ipv4, true};
            return k + nd;
        }
        if (!is(p[h], cc_host)) {
            out = HostPort{make_span(i, h), 0, HostKind::ipv4, false};
            return h;
        }
    }
#endif
    return scan_hostport_lim(p, i, end, limit, out);
}

/// lex::skip_quoted with a read limit (b[i] == '"'): the index after the
/// closing quote, or 0 when unterminated. 16 bytes at a time looking for
/// '"' or '\\' (display names and quoted parameters are 8-40 bytes); a
/// block may run past <end> (p[i, limit) is readable), hits past it are
/// ignored.
inline uint32_t skip_quoted_lim(const char* b, uint32_t i, uint32_t end, uint32_t limit) noexcept {
    i++;
#if defined(__SSE2__)
    const __m128i dq = _mm_set1_epi8('"');
    const __m128i bs = _mm_set1_epi8('\\');
    while (i < end && limit - i >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
        const unsigned hit = unsigned(
            _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, bs))));
        if (!hit) {
            i += 16;
            continue;
        }
        const uint32_t k = i + unsigned(__builtin_ctz(hit));
        if (k >= end) return 0;
        if (b[k] == '"') return k + 1;
        // quoted-pair: any byte but CR and LF (RFC 3261 §25.1).
        if (k + 1 == end || b[k + 1] == '\r' || b[k + 1] == '\n') return 0;
        i = k + 2;
    }
#endif
    (void)limit;
    for (; i < end; i++) {
        if (b[i] == '"') return i + 1;
        if (b[i] == '\\') {
            if (++i == end || b[i] == '\r' || b[i] == '\n') return 0;
        }
    }
    return 0;
}

/// ParamList (headers.h) with a read limit: *( SEMI generic-param ) after
/// the first ';' (RFC 3261 §25.1). ParamList::next is this.
struct ParamScan {
    const char* b;
    uint32_t pos, end, limit;
    bool bad = false;

    // Inlined into each caller's parameter loop: as a call, the scanner's
    // state and both spans went through memory on every parameter.
    [[gnu::always_inline]] bool next(Span& name, Span& value) noexcept {
        using lex::skip_lws;
        if (bad) return false;
        uint32_t i = skip_lws(b, pos, end);
        if (i >= end) return false;
        const uint32_t n0 = i;
        i = scan_class_lim<cc_token>(b, i, end, limit);
        if (i == n0) return fail();
        name = make_span(n0, i);
        value = Span{};
        i = skip_lws(b, i, end);
        if (i < end && b[i] == '=') {
            i = skip_lws(b, i + 1, end);
            if (i == end) return fail();
            if (b[i] == '"') {
                const uint32_t q = skip_quoted_lim(b, i, end, limit);
                if (q == 0) return fail();
                value = make_span(i + 1, q - 1);
                i = q;
            } else if (b[i] == '[') {
                const uint32_t v0 = i;
                while (i < end && b[i] != ']') i++;
                if (i == end) return fail();
                value = make_span(v0, ++i);
            } else {
                // gen-value = token / host; IPv6 without brackets is tolerated
                // (RFC 5118 §4.5: receivers accept both forms of received=).
                const uint32_t v0 = i;
                i = scan_class_lim<cc_gen_value>(b, i, end, limit);
                if (i == v0) return fail();
                value = make_span(v0, i);
            }
            i = skip_lws(b, i, end);
        }
        if (i < end) {
            if (b[i] != ';') return fail();
            i = skip_lws(b, i + 1, end);  // where the next call starts
            if (i == end) return fail();  // trailing ';'
        }
        pos = i;
        return true;
    }

  private:
    bool fail() noexcept {
        bad = true;
        return false;
    }
};

}  // namespace sipedge::sip
