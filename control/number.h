#pragma once
// The one number grammar of the control plane: a thin layer over
// base/decimal.h (same grammar, leading zeros refused) that adds the lower
// bound and the reply texts. Every knob value, every numeric command argument
// (slots, ports, ids, counts, VLANs, prefix lengths, TTLs, lcores), the
// decimal parts of addresses written as text (IPv4 octets, ":port") and the
// programs' integer options go through parse_number():
//
//   number = "0" / %x31-39 *DIGIT   ; decimal digits only: no sign, no blank,
//                                   ; no leading zero
//
// and then the caller's range [lo, hi]. A word outside the grammar is "not a
// number"; a well-formed number outside [lo, hi] (or past 2^64 - 1) is "out
// of range", and replies say which (docs/control.md "Numbers").

#include <cstdint>
#include <string>
#include <string_view>

#include "base/decimal.h"
#include "base/result.h"

namespace sipedge::ctl {

enum class NumStatus : uint8_t { ok, not_a_number, out_of_range };

/// Parses <w> by the grammar above into <out> when it lies in [<lo>, <hi>].
/// Rejects an empty word, a sign, blanks, any non-digit, a leading zero
/// ("007", "00"; "0" itself is fine) (not_a_number), and values outside
/// [lo, hi] or above UINT64_MAX (out_of_range). <out> is written only on ok.
NumStatus parse_number(std::string_view w, uint64_t lo, uint64_t hi, uint64_t& out) noexcept;

/// parse_number with the reply text: "<what>: '<w>' is not a number (decimal
/// digits only: no sign, blank or leading zero)" or "<what>: <w> is out of
/// range <lo>-<hi>", both EINVAL.
Result<uint64_t> number_arg(std::string_view what, std::string_view w, uint64_t lo, uint64_t hi);

/// A dotted quad: exactly four parse_number() parts in 0-255 joined by '.',
/// into host byte order. Rejects leading zeros ("010.0.0.1": octal to
/// inet_aton), fewer or more parts, and anything else.
bool parse_ipv4(std::string_view s, uint32_t& host_order) noexcept;

/// Whether <host> can only have been meant as an IPv4 literal: its last
/// '.'-label (the whole word without dots) is all digits, which no DNS name
/// has (RFC 3696 §2: a top-level label is not all-numeric). A host that
/// looks numeric but fails parse_ipv4 ("999.1.1.1", "1.2.3", "01.2.3.4") is
/// refused rather than taken as a host name.
bool looks_like_ipv4(std::string_view host) noexcept;

}  // namespace sipedge::ctl
