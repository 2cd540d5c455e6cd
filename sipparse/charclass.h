#pragma once
// Character classes of RFC 3261 §25.1, one 256-entry table of bit flags so a
// class test is a load and an AND. Built at compile time.

#include <array>
#include <cstddef>
#include <cstdint>

namespace sipedge::sip {

enum CharClass : uint32_t {
    cc_alnum = 1 << 0,
    cc_digit = 1 << 1,
    cc_hex = 1 << 2,
    cc_token = 1 << 3,        // token: alphanum / "-.!%*_+`'~"
    cc_word = 1 << 4,         // word (Call-ID): token + "()<>:\\\"/[]?{}"
    cc_unreserved = 1 << 5,   // alphanum / mark "-_.!~*'()"
    cc_user = 1 << 6,         // unreserved + user-unreserved "&=+$,;?/"
    cc_password = 1 << 7,     // unreserved + "&=+$,"
    cc_param = 1 << 8,        // unreserved + param-unreserved "[]/:&+$"
    cc_hnv = 1 << 9,          // unreserved + hnv-unreserved "[]/?:+$"
    cc_host = 1 << 10,        // alphanum / "-" / "." / "_" (lenient)
    cc_ws = 1 << 11,          // SP / HT
    cc_uric = 1 << 12,        // RFC 2396 uric (absolute URI, opaque part)
    cc_tel = 1 << 13,         // characters allowed in a tel URI (RFC 3966), lenient
    cc_alpha = 1 << 14,       // ALPHA, and '-' / '_' (so "any cc_alpha" means "not numeric")
    cc_uri_any = 1 << 15,     // printable ASCII but '"', '<', '>': may appear in a URI in < >
    cc_gen_value = 1 << 16,   // token / host / unbracketed IPv6: a parameter value
    cc_scheme = 1 << 17,      // URI scheme after its first letter: alnum / "+" / "-" / "."
};

namespace detail {
constexpr bool in(const char* set, int c) {
    for (; *set; ++set)
        if (*set == c) return true;
    return false;
}
constexpr std::array<uint32_t, 256> make_classes() {
    std::array<uint32_t, 256> t{};
    for (int c = 0; c < 256; c++) {
        uint32_t f = 0;
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        const bool alnum = alpha || digit;
        if (alnum) f |= cc_alnum;
        if (digit) f |= cc_digit;
        if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) f |= cc_hex;
        if (alnum || in("-.!%*_+`'~", c)) f |= cc_token;
        if (alnum || in("-.!%*_+`'~()<>:\\\"/[]?{}", c)) f |= cc_word;
        const bool unreserved = alnum || in("-_.!~*'()", c);
        if (unreserved) f |= cc_unreserved;
        if (unreserved || in("&=+$,;?/", c)) f |= cc_user;
        if (unreserved || in("&=+$,", c)) f |= cc_password;
        if (unreserved || in("[]/:&+$", c)) f |= cc_param;
        if (unreserved || in("[]/?:+$", c)) f |= cc_hnv;
        if (alnum || c == '-' || c == '.' || c == '_') f |= cc_host;
        if (alpha || c == '-' || c == '_') f |= cc_alpha;
        if (c > 0x20 && c < 0x7f && c != '"' && c != '<' && c != '>') f |= cc_uri_any;
        if (alnum || in("-.!%*_+`'~:", c)) f |= cc_gen_value;
        if (alnum || c == '+' || c == '-' || c == '.') f |= cc_scheme;
        if (c == ' ' || c == '\t') f |= cc_ws;
        if (unreserved || in(";/?:@&=+$,%[]", c)) f |= cc_uric;
        if (alnum || in("-.()+*#%;=/:&$,!~_'?[]", c)) f |= cc_tel;
        t[std::size_t(c)] = f;
    }
    return t;
}
}  // namespace detail

inline constexpr std::array<uint32_t, 256> char_classes = detail::make_classes();

inline bool is(char c, uint32_t cls) noexcept { return char_classes[uint8_t(c)] & cls; }

/// ASCII lower-case; other bytes unchanged.
inline char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? char(c | 0x20) : c;
}

/// Within a header value span, CR and LF only occur as part of folding
/// (the line scanner ended the value at any other line end), so they are LWS.
inline bool is_lws(char c) noexcept {
    // One compare for the common case: every LWS byte is <= ' '.
    return uint8_t(c) <= ' ' && (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

}  // namespace sipedge::sip

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

namespace sipedge::sip {

/// A character class as two 16-byte nibble tables for a 16-bytes-at-a-time
/// scan (SSSE3 pshufb): byte b is in the class when
/// lo[b & 15] & hi[b >> 4] != 0. Exact for classes within 0x00-0x7f, which
/// all of ours are.
struct NibbleClass {
    alignas(16) uint8_t lo[16];
    alignas(16) uint8_t hi[16];
};

constexpr NibbleClass make_nibble_class(uint32_t cls) {
    NibbleClass t{};
    for (int c = 0; c < 128; c++)
        if (char_classes[size_t(c)] & cls) t.lo[c & 15] = uint8_t(t.lo[c & 15] | (1u << (c >> 4)));
    for (int h = 0; h < 8; h++) t.hi[h] = uint8_t(1u << h);
    return t;
}

#if defined(__SSSE3__)
/// Bit k set when p[k] (k < 16) is outside <cls>; reads exactly p[0, 16).
template <uint32_t cls>
inline unsigned class_miss16(const char* p) noexcept {
    static constexpr NibbleClass t = make_nibble_class(cls);
    const __m128i lo_t = _mm_load_si128(reinterpret_cast<const __m128i*>(t.lo));
    const __m128i hi_t = _mm_load_si128(reinterpret_cast<const __m128i*>(t.hi));
    const __m128i nib = _mm_set1_epi8(0x0f);
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // v itself as the low-nibble index: pshufb reads its low 4 bits and
    // gives 0 for a byte >= 0x80, which hi[8..15] = 0 makes a miss anyway.
    const __m128i lo = _mm_shuffle_epi8(lo_t, v);
    const __m128i hi = _mm_shuffle_epi8(hi_t, _mm_and_si128(_mm_srli_epi16(v, 4), nib));
    return unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(lo, hi), _mm_setzero_si128())));
}
#endif

/// Index of the first byte in p[i, end) outside <cls> (or end). The vector
/// loop reads only whole 16-byte blocks inside [i, end).
template <uint32_t cls>
inline uint32_t scan_class(const char* p, uint32_t i, uint32_t end) noexcept {
#if defined(__SSSE3__)
    while (end - i >= 16) {
        if (const unsigned out = class_miss16<cls>(p + i)) return i + unsigned(__builtin_ctz(out));
        i += 16;
    }
#endif
    while (i < end && is(p[i], cls)) i++;
    return i;
}

/// Index of the first <c> in p[i, end), or end; p[i, limit) is readable,
/// limit >= end (see scan_class_lim).
inline uint32_t find_byte_lim(const char* p, uint32_t i, uint32_t end, uint32_t limit,
                              char c) noexcept {
#if defined(__SSE2__)
    const __m128i cv = _mm_set1_epi8(c);
    if (limit >= end + 15) {
        // Every block that starts before <end> is readable: one test a step.
        for (; i < end; i += 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            if (const unsigned hit = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, cv)))) {
                const uint32_t k = i + unsigned(__builtin_ctz(hit));
                return k < end ? k : end;
            }
        }
        return end;
    }
    while (i < end && limit - i >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        if (const unsigned hit = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, cv)))) {
            const uint32_t k = i + unsigned(__builtin_ctz(hit));
            return k < end ? k : end;
        }
        i += 16;
    }
    if (i >= end) return end;
#endif
    (void)limit;
    while (i < end && p[i] != c) i++;
    return i;
}

/// scan_class for a caller that knows p[i, limit) is readable, limit >= end:
/// a block may run past <end> (the result is clamped to it), so a span
/// shorter than 16 bytes still takes one vector step instead of a byte loop.
/// Header names and short tokens are the common case.
template <uint32_t cls>
[[gnu::always_inline]] inline uint32_t scan_class_lim(const char* p, uint32_t i, uint32_t end, uint32_t limit) noexcept {
#if defined(__SSSE3__)
    if (limit >= end + 15) {
        // Every block that starts before <end> is readable: one test a step.
        for (; i < end; i += 16)
            if (const unsigned out = class_miss16<cls>(p + i)) {
                const uint32_t k = i + unsigned(__builtin_ctz(out));
                return k < end ? k : end;
            }
        return end;
    }
    while (i < end && limit - i >= 16) {
        if (const unsigned out = class_miss16<cls>(p + i)) {
            const uint32_t k = i + unsigned(__builtin_ctz(out));
            return k < end ? k : end;
        }
        i += 16;
    }
    if (i >= end) return end;
#endif
    (void)limit;
    while (i < end && is(p[i], cls)) i++;
    return i;
}

}  // namespace sipedge::sip
