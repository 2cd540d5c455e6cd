#pragma once
// Internal variants of the headers.h value parsers for parse()'s fast path.
// Each takes <limit>: the buffer is readable up to base + limit, and
// limit >= the span's end. The span still bounds what is parsed; the limit
// only lets a 16-byte block run past the span's end (results are clamped to
// it), so short tokens, hosts and parameters take one vector step instead of
// a byte loop. The public functions call these with limit = span end.

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sipparse/charclass.h"
#include "sipparse/lex.h"
#include "sipparse/span.h"
#include "sipparse/types.h"

namespace sipedge::sip {

bool parse_via_lim(const char* base, Span s, uint32_t limit, Via& out) noexcept;
bool parse_name_addr_lim(const char* base, Span s, uint32_t limit, NameAddr& out,
                         bool allow_star) noexcept;
uint32_t scan_hostport_lim(const char* p, uint32_t i, uint32_t end, uint32_t limit,
                           HostPort& out) noexcept;
bool valid_call_id_lim(const char* base, Span s, uint32_t limit) noexcept;
bool parse_cseq_lim(const char* base, Span s, uint32_t limit, CSeq& out) noexcept;
bool parse_uri_lim(const char* base, Span s, uint32_t limit, Uri& out) noexcept;

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
