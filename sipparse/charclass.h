#pragma once
// Character classes of RFC 3261 §25.1, one 256-entry table of bit flags so a
// class test is a load and an AND. Built at compile time.

#include <array>
#include <cstddef>
#include <cstdint>

namespace sipedge::sip {

enum CharClass : uint16_t {
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
};

namespace detail {
constexpr bool in(const char* set, int c) {
    for (; *set; ++set)
        if (*set == c) return true;
    return false;
}
constexpr std::array<uint16_t, 256> make_classes() {
    std::array<uint16_t, 256> t{};
    for (int c = 0; c < 256; c++) {
        uint16_t f = 0;
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
        if (c == ' ' || c == '\t') f |= cc_ws;
        if (unreserved || in(";/?:@&=+$,%[]", c)) f |= cc_uric;
        if (alnum || in("-.()+*#%;=/:&$,!~_'?[]", c)) f |= cc_tel;
        t[std::size_t(c)] = f;
    }
    return t;
}
}  // namespace detail

inline constexpr std::array<uint16_t, 256> char_classes = detail::make_classes();

inline bool is(char c, uint16_t cls) noexcept { return char_classes[uint8_t(c)] & cls; }

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
