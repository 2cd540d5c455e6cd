#pragma once
// Parsers for individual header values and URIs. Each takes the buffer
// <base> the message was parsed from and a Span inside it, and writes spans
// relative to the same base. None allocates; none reads outside the span.
// Values may contain folded line ends (CRLF/LF followed by SP/HT); every
// parser treats them as LWS (RFC 3261 §7.3.1).

#include <cstdint>

#include "sipparse/span.h"
#include "sipparse/types.h"

namespace sipedge::sip {

/// Parses a URI (RFC 3261 §19.1.1 sip/sips, RFC 3966 tel, RFC 3986
/// absoluteURI kept opaque). Rejects LWS inside the URI, an unbracketed or
/// malformed IPv6 host (RFC 5118 §4.2, §4.10), a port over 65535, and
/// characters outside each component's grammar.
bool parse_uri(const char* base, Span s, Uri& out) noexcept;

/// Validates and locates the host in <s> (name, IPv4, or bracketed IPv6).
/// IPv6 text is checked per RFC 4291 §2.2 (at most one "::", 8 groups,
/// embedded IPv4 last).
bool parse_hostport(const char* base, Span s, HostPort& out) noexcept;
/// Scans host [":" port] from p[i] (no LWS inside) and stops at the first
/// byte that cannot continue it: returns that index, or 0 when the host or
/// port is invalid. The host rules are parse_hostport's.
uint32_t scan_hostport(const char* p, uint32_t i, uint32_t end, HostPort& out) noexcept;
/// True when p[0, n) is a valid IPv6 address (no brackets).
bool valid_ipv6(const char* p, size_t n) noexcept;
/// True when p[0, n) is a dotted-quad IPv4 address.
bool valid_ipv4(const char* p, size_t n) noexcept;

/// Iterates the comma-separated elements of a header value, skipping commas
/// inside quoted strings, < > and comments. Empty elements are reported as
/// such (callers decide whether they are an error).
class CommaList {
  public:
    CommaList(const char* base, Span value) noexcept
        : base_(base), pos_(value.off), end_(value.end()) {}
    /// Stores the next element (trimmed) in <out>; false at the end or on an
    /// unbalanced quote/bracket (then `bad()` is true). A value without any
    /// comma is returned whole without looking at quotes: the element parser
    /// checks them.
    bool next(Span& out) noexcept;
    bool bad() const noexcept { return bad_; }

  private:
    const char* base_;
    uint32_t pos_, end_;
    bool bad_ = false;
    bool done_ = false;
    bool started_ = false;
};

/// Iterates `;name[=value]` parameters in params span <s> (without the
/// leading ';'). Values may be tokens, quoted strings (returned without the
/// quotes) or IPv6 references. Rejects empty names.
class ParamList {
  public:
    ParamList(const char* base, Span s) noexcept : base_(base), pos_(s.off), end_(s.end()) {}
    bool next(Span& name, Span& value) noexcept;
    bool bad() const noexcept { return bad_; }

  private:
    const char* base_;
    uint32_t pos_, end_;
    bool bad_ = false;
};

/// One via-parm (RFC 3261 §20.42). <s> is one element of a Via header value.
bool parse_via(const char* base, Span s, Via& out) noexcept;

/// name-addr or addr-spec with params (From, To, Contact, Route,
/// Record-Route). Enforces RFC 3261 §20.10: an addr-spec with ',', ';' or '?'
/// must be in < >; display names are tokens (LWS-separated) or quoted strings.
/// The URI gets a cheap check only (scheme, no LWS/quotes/brackets): run
/// parse_uri on `out.uri` where the URI's parts matter.
/// With <allow_star>, accepts Contact "*".
bool parse_name_addr(const char* base, Span s, NameAddr& out, bool allow_star = false) noexcept;

/// "1*DIGIT LWS Method"; rejects values over 2^31-1 (RFC 3261 §8.1.1.5).
bool parse_cseq(const char* base, Span s, CSeq& out) noexcept;

/// Decimal digits only, no sign, at most <max>.
bool parse_uint(const char* base, Span s, uint32_t max, uint32_t& out) noexcept;

/// Retry-After: delta-seconds [comment] *(";" params).
bool parse_retry_after(const char* base, Span s, RetryAfter& out) noexcept;

/// RFC 3261 §20.17 Date: rfc1123-date, which must end in "GMT".
bool parse_date(const char* base, Span s) noexcept;

/// Call-ID: word ["@" word] (RFC 3261 §25.1).
bool valid_call_id(const char* base, Span s) noexcept;

/// WWW-/Proxy-Authenticate or (Proxy-)Authorization value: auth-scheme then
/// comma-separated auth-params. Unknown schemes are accepted with
/// is_digest = false.
bool parse_digest(const char* base, Span s, Digest& out) noexcept;

/// True when p[0, n) equals the lower-case ASCII <lower> ignoring case.
bool ieq(const char* p, size_t n, const char* lower, size_t lower_n) noexcept;

}  // namespace sipedge::sip
