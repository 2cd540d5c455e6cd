#pragma once
// Lexical helpers shared by the header-value parsers (internal). All take
// the buffer, a start index and an end index, and never read at or past end.

#include <cstddef>
#include <cstdint>

#include "sipparse/charclass.h"

namespace sipedge::sip::lex {

/// Index of the first non-LWS byte in b[i, end).
inline uint32_t skip_lws(const char* b, uint32_t i, uint32_t end) noexcept {
    while (i < end && is_lws(b[i])) i++;
    return i;
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
