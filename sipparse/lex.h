#pragma once
// Lexical helpers shared by the header-value parsers (internal). All take
// the buffer, a start index and an end index, and never read at or past end.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sipparse/charclass.h"

namespace sipedge::sip::lex {

/// Index of the first non-LWS byte in b[i, end).
inline uint32_t skip_lws(const char* b, uint32_t i, uint32_t end) noexcept {
    while (i < end && is_lws(b[i])) i++;
    return i;
}

/// skip_lws() for where one SP and then a non-LWS byte is the norm (after
/// a Via's transport, between CSeq's number and method): two byte tests.
inline uint32_t skip_sp(const char* b, uint32_t i, uint32_t end) noexcept {
    if (end - i > 1 && b[i] == ' ' && uint8_t(b[i + 1]) > ' ') return i + 1;
    return skip_lws(b, i, end);
}

/// <end> moved back over trailing LWS, not before <start>.
inline uint32_t trim_end(const char* b, uint32_t start, uint32_t end) noexcept {
    while (end > start && is_lws(b[end - 1])) end--;
    return end;
}

/// Skips a quoted-string starting at b[i] == '"'; returns the index after the
/// closing quote, or 0 when unterminated. quoted-pair (RFC 3261 §25.1)
/// escapes any byte but CR and LF, NUL included (RFC 4475 §3.1.1.2).
inline uint32_t skip_quoted(const char* b, uint32_t i, uint32_t end) noexcept {
    for (i++; i < end; i++) {
        if (b[i] == '"') return i + 1;
        if (b[i] == '\\') {
            if (++i == end || b[i] == '\r' || b[i] == '\n') return 0;
        }
    }
    return 0;
}

/// Skips a comment "( ... )" with nesting and quoted-pairs; 0 when unbalanced.
inline uint32_t skip_comment(const char* b, uint32_t i, uint32_t end) noexcept {
    int depth = 0;
    for (; i < end; i++) {
        if (b[i] == '\\') {
            if (++i == end) return 0;
        } else if (b[i] == '(') {
            depth++;
        } else if (b[i] == ')') {
            if (--depth == 0) return i + 1;
        }
    }
    return 0;
}

namespace detail {
// Bytes s[off, off + w) of a literal as a little-endian word (fold = false),
// or 0x20 at the bytes that are letters (fold = true).
constexpr uint64_t lit_word(const char* s, size_t off, size_t w, bool fold) noexcept {
    uint64_t v = 0;
    for (size_t k = 0; k < w; k++) {
        const char c = s[off + k];
        const uint64_t byte = fold ? ((c >= 'a' && c <= 'z') ? 0x20 : 0) : uint8_t(c);
        v |= byte << (8 * k);
    }
    return v;
}
// p[off, off + w) as a little-endian word; w is 1 to 8.
inline uint64_t load_word(const char* p, size_t off, size_t w) noexcept {
    uint64_t v = 0;
    std::memcpy(&v, p + off, w);
    return v;
}
}  // namespace detail

/// p[0, n) against the lower-case literal <lower> (at most 16 bytes), ASCII
/// case-insensitive, as ieq_lit() decides it but with one or two word
/// compares: OR-ing 0x20 into the bytes where the literal has a letter folds
/// case, and only 'A'-'Z' / 'a'-'z' fold onto a letter.
template <size_t N>
inline bool ieq_word(const char* p, size_t n, const char (&lower)[N]) noexcept {
    constexpr size_t L = N - 1;
    static_assert(L >= 1 && L <= 16);
    if (n != L) return false;
    if constexpr (L <= 8) {
        return (detail::load_word(p, 0, L) | detail::lit_word(lower, 0, L, true)) ==
               detail::lit_word(lower, 0, L, false);
    } else {
        return (detail::load_word(p, 0, 8) | detail::lit_word(lower, 0, 8, true)) ==
                   detail::lit_word(lower, 0, 8, false) &&
               (detail::load_word(p, L - 8, 8) | detail::lit_word(lower, L - 8, 8, true)) ==
                   detail::lit_word(lower, L - 8, 8, false);
    }
}

/// True when p[0, 4) is "sip:" in any case (one word compare; OR-ing 0x20
/// folds only 'A'-'Z' onto 'a'-'z').
inline bool is_sip_colon(const char* p) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        uint32_t w;
        std::memcpy(&w, p, 4);
        return (w | 0x00202020u) == 0x3a706973u;  // ':' 'p' 'i' 's'
    } else {
        return (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p' && p[3] == ':';
    }
}

/// ieq() (headers.h) inlined, for the parameter names the fast path
/// compares on every message: the call costs more than the compare.
inline bool ieq_lit(const char* p, size_t n, const char* lower_s, size_t lower_n) noexcept {
    if (n != lower_n) return false;
    for (size_t i = 0; i < n; i++) {
        const char a = p[i], b = lower_s[i];
        // Equal, or equal but for the case bit of a letter.
        if (a != b && !((a | 0x20) == b && b >= 'a' && b <= 'z')) return false;
    }
    return true;
}

}  // namespace sipedge::sip::lex
