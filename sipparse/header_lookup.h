#pragma once
// Header name -> HeaderId (internal): the tables behind header_from(),
// inline so parse() looks a name up without a call on every header line.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sipparse/charclass.h"
#include "sipparse/message.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sipedge::sip::names {

struct HeaderName {
    const char* name;  // lower case
    uint8_t len;
    HeaderId id;
};

// RFC 3261 §7.3.3 and the IANA compact-form registry.
inline constexpr HeaderName header_names[] = {
    {"via", 3, HeaderId::via},
    {"call-id", 7, HeaderId::call_id},
    {"cseq", 4, HeaderId::cseq},
    {"from", 4, HeaderId::from},
    {"to", 2, HeaderId::to},
    {"max-forwards", 12, HeaderId::max_forwards},
    {"content-length", 14, HeaderId::content_length},
    {"content-type", 12, HeaderId::content_type},
    {"contact", 7, HeaderId::contact},
    {"expires", 7, HeaderId::expires},
    {"min-expires", 11, HeaderId::min_expires},
    {"route", 5, HeaderId::route},
    {"record-route", 12, HeaderId::record_route},
    {"retry-after", 11, HeaderId::retry_after},
    {"www-authenticate", 16, HeaderId::www_authenticate},
    {"proxy-authenticate", 18, HeaderId::proxy_authenticate},
    {"authorization", 13, HeaderId::authorization},
    {"proxy-authorization", 19, HeaderId::proxy_authorization},
    {"require", 7, HeaderId::require},
    {"proxy-require", 13, HeaderId::proxy_require},
    {"supported", 9, HeaderId::supported},
    {"unsupported", 11, HeaderId::unsupported},
    {"allow", 5, HeaderId::allow},
    {"date", 4, HeaderId::date},
    {"user-agent", 10, HeaderId::user_agent},
    {"server", 6, HeaderId::server},
    {"subject", 7, HeaderId::subject},
    {"event", 5, HeaderId::event},
    {"accept", 6, HeaderId::accept},
    {"content-encoding", 16, HeaderId::content_encoding},
    {"refer-to", 8, HeaderId::refer_to},
    {"referred-by", 11, HeaderId::referred_by},
    {"session-expires", 15, HeaderId::session_expires},
    {"timestamp", 9, HeaderId::timestamp},
};

// Compact forms, indexed by lower-case letter.
constexpr HeaderId compact_form(char c) {
    switch (c) {
    case 'v': return HeaderId::via;
    case 'i': return HeaderId::call_id;
    case 'f': return HeaderId::from;
    case 't': return HeaderId::to;
    case 'l': return HeaderId::content_length;
    case 'c': return HeaderId::content_type;
    case 'm': return HeaderId::contact;
    case 'k': return HeaderId::supported;
    case 's': return HeaderId::subject;
    case 'o': return HeaderId::event;
    case 'e': return HeaderId::content_encoding;
    case 'r': return HeaderId::refer_to;
    case 'b': return HeaderId::referred_by;
    case 'x': return HeaderId::session_expires;
    default: return HeaderId::other;
    }
}

// Long names by (length, first and last letter): every key names at most
// one header (checked at compile time), so a lookup is one table load and
// one case-insensitive compare. "& 31" folds the case of a letter; a
// non-letter that lands on a letter's slot fails the compare.
inline constexpr size_t max_name_len = 19;
using ByLengthLetter = std::array<std::array<int8_t, 64>, max_name_len + 1>;
constexpr size_t name_key(char first, char last) {
    return ((size_t(first) & 31) * 2 + (size_t(last) & 31)) & 63;
}
constexpr ByLengthLetter make_by_length_letter() {
    ByLengthLetter t{};
    for (auto& row : t)
        for (auto& i : row) i = -1;
    for (size_t i = 0; i < sizeof(header_names) / sizeof(header_names[0]); i++) {
        const HeaderName& h = header_names[i];
        int8_t& e = t[h.len][name_key(h.name[0], h.name[h.len - 1])];
        e = e == -1 ? int8_t(i) : int8_t(-2);  // -2: two names share a key
    }
    return t;
}
inline constexpr ByLengthLetter by_length_letter = make_by_length_letter();
constexpr bool keys_unique() {
    for (const auto& row : by_length_letter)
        for (const int8_t i : row)
            if (i == -2) return false;
    return true;
}
static_assert(keys_unique(), "two header names share (length, name_key): change name_key");

// Case-insensitive compare of a token <p> against a lower-case name with
// overlapping word loads: OR-ing 0x20 into the bytes where the name has a
// letter folds case (in a token, only letters reach a-z that way).
struct alignas(64) FoldedName {  // 64 bytes: the index scales by a shift
    char lower[24];  // the name, lower case, zero padded
    alignas(16) char fold[24];  // 0x20 where lower[] is a letter; aligned: an
                                // SSE OR can take it from memory
    HeaderId id;     // header_names[i].id, next to the words compared
};
constexpr std::array<FoldedName, sizeof(header_names) / sizeof(header_names[0])> make_folded() {
    std::array<FoldedName, sizeof(header_names) / sizeof(header_names[0])> t{};
    for (size_t i = 0; i < t.size(); i++) {
        t[i].id = header_names[i].id;
        for (size_t k = 0; k < header_names[i].len; k++) {
            const char c = header_names[i].name[k];
            t[i].lower[k] = c;
            t[i].fold[k] = (c >= 'a' && c <= 'z') ? 0x20 : 0;
        }
    }
    return t;
}
inline constexpr auto folded = make_folded();

template <class W>
inline bool fold_eq_at(const char* p, const FoldedName& f, size_t off) noexcept {
    W a, m, b;
    std::memcpy(&a, p + off, sizeof(W));
    std::memcpy(&m, f.fold + off, sizeof(W));
    std::memcpy(&b, f.lower + off, sizeof(W));
    return W(a | m) == b;
}

// p[0, n) against name i; 2 <= n <= 19, reads only p[0, n).
inline bool fold_eq(const char* p, size_t n, const FoldedName& f) noexcept {
    if (n >= 8) {
        if (!fold_eq_at<uint64_t>(p, f, 0) || !fold_eq_at<uint64_t>(p, f, n - 8)) return false;
        return n <= 16 || fold_eq_at<uint64_t>(p, f, 8);
    }
    if (n >= 4) return fold_eq_at<uint32_t>(p, f, 0) && fold_eq_at<uint32_t>(p, f, n - 4);
    return fold_eq_at<uint16_t>(p, f, 0) && fold_eq_at<uint16_t>(p, f, n - 2);
}

inline HeaderId lookup_header(const char* p, size_t n) noexcept {
    if (n - 2 > max_name_len - 2) {  // n < 2 (wraps) or n > max_name_len
        if (n == 1) return compact_form(lower(p[0]));
        return HeaderId::other;
    }
    const int8_t i = by_length_letter[n][name_key(p[0], p[n - 1])];
    if (i < 0) return HeaderId::other;
    const FoldedName& f = folded[size_t(i)];
    return fold_eq(p, n, f) ? f.id : HeaderId::other;
}

#if defined(__SSE2__)
// 0xff in the first n bytes, for n = 0..16.
struct alignas(16) ByteMask {
    uint8_t b[16];
};
constexpr std::array<ByteMask, 17> make_prefix_masks() {
    std::array<ByteMask, 17> t{};
    for (size_t n = 0; n <= 16; n++)
        for (size_t k = 0; k < n; k++) t[n].b[k] = 0xff;
    return t;
}
inline constexpr auto prefix_masks = make_prefix_masks();

/// lookup_header() for a caller that may read p[0, 16): a name of 2 to 16
/// bytes is compared with one 16-byte compare (the bytes past it masked
/// off) instead of two or three word compares. Same result.
inline HeaderId lookup_header16(const char* p, size_t n) noexcept {
    if (n - 2 > 16 - 2) return lookup_header(p, n);  // 0, 1 or 17..: the scalar path
    const int8_t i = by_length_letter[n][name_key(p[0], p[n - 1])];
    if (i < 0) return HeaderId::other;
    const FoldedName& f = folded[size_t(i)];
    const __m128i v = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
                                    _mm_load_si128(reinterpret_cast<const __m128i*>(prefix_masks[n].b)));
    const __m128i folded_v = _mm_or_si128(v, _mm_load_si128(reinterpret_cast<const __m128i*>(f.fold)));
    const __m128i eq = _mm_cmpeq_epi8(folded_v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(f.lower)));
    return _mm_movemask_epi8(eq) == 0xffff ? f.id : HeaderId::other;
}
#endif

}  // namespace sipedge::sip::names
