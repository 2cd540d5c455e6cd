#pragma once
// The one bounded decimal parser (issue 13). Control-plane words, config
// values and the decimal parts of address text (IPv4 octets, prefix lengths)
// all read numbers by this grammar:
//
//   decimal = 1*DIGIT    ; ASCII '0'-'9' only: no sign, no blank, no '_',
//                        ; nothing before or after the digits
//
// Leading zeros ("007", "00") are REFUSED by default: that is the control
// socket's grammar (control/number.h, docs/control.md "Numbers"), and it keeps
// "010" from meaning 8 to inet_aton-style readers. "0" alone is fine. A caller
// whose grammar takes them (dp::parse_ipv4's octets, a route prefix length)
// passes LeadingZeros::accept.
//
// constexpr, noexcept, no allocation: usable on the fast path. sipparse/ has
// its own span-based number parsers (its grammar is RFC 3261's) and does not
// use this one.

#include <cstdint>
#include <string_view>

namespace sipedge {

enum class DecimalStatus : uint8_t {
    ok,
    invalid,       // empty, a non-digit anywhere, or a refused leading zero
    out_of_range,  // all digits, but above <max> or above 2^64 - 1
};

enum class LeadingZeros : uint8_t { refuse, accept };

/// Reads all of <s> as a decimal number into <out> when it is at most <max>.
/// Rejects an empty <s>, a sign, blanks, any non-digit (invalid, even when the
/// digits before it already overflowed), a leading zero unless <lz> is accept
/// (invalid), and a value above <max> or above UINT64_MAX (out_of_range).
/// <out> is written only on ok.
constexpr DecimalStatus decimal_status(std::string_view s, uint64_t max, uint64_t& out,
                                       LeadingZeros lz = LeadingZeros::refuse) noexcept {
    if (s.empty()) return DecimalStatus::invalid;
    if (lz == LeadingZeros::refuse && s[0] == '0' && s.size() > 1) return DecimalStatus::invalid;
    uint64_t v = 0;
    bool over = false;
    for (const char c : s) {
        if (c < '0' || c > '9') return DecimalStatus::invalid;
        const uint64_t d = uint64_t(c - '0');
        // Past <max> (or 2^64 - 1): keep scanning, a later non-digit still makes it invalid.
        if (over || d > max || v > (max - d) / 10) over = true;
        else v = v * 10 + d;
    }
    if (over) return DecimalStatus::out_of_range;
    out = v;
    return DecimalStatus::ok;
}

/// decimal_status() == ok: the same grammar, for callers that need no reason.
constexpr bool parse_decimal(std::string_view s, uint64_t max, uint64_t& out,
                             LeadingZeros lz = LeadingZeros::refuse) noexcept {
    return decimal_status(s, max, out, lz) == DecimalStatus::ok;
}

}  // namespace sipedge
