#pragma once
// Typed views of the SIP elements a proxy and a registration agent use.
// Every type is trivially copyable and holds only spans into the parsed
// buffer, so none of them allocate or own memory.

#include <cstdint>
#include <type_traits>

#include "sipparse/span.h"

namespace sipedge::sip {

enum class Method : uint8_t {
    unknown = 0,  // not parsed yet
    invite,
    ack,
    bye,
    cancel,
    options,
    register_,
    prack,
    subscribe,
    notify,
    publish,
    info,
    refer,
    message,
    update,
    extension,  // any other token (RFC 3261 §25.1 extension-method)
};

/// Canonical upper-case name of <m> ("INVITE"); "" for unknown/extension.
const char* method_name(Method m) noexcept;
/// Case-sensitive lookup (RFC 3261 §7.1: method names are case-sensitive).
/// Returns Method::extension for any other non-empty token.
Method method_from(const char* p, size_t n) noexcept;

enum class Transport : uint8_t { unknown = 0, udp, tcp, tls, sctp, tls_sctp, ws, wss, other };
/// Case-insensitive transport token (UDP, TCP, TLS, SCTP, TLS-SCTP, WS, WSS).
Transport transport_from(const char* p, size_t n) noexcept;

enum class HostKind : uint8_t { none = 0, name, ipv4, ipv6 };

/// host [":" port]. For IPv6 references, `host` excludes the brackets.
struct HostPort {
    Span host;
    uint16_t port = 0;
    HostKind kind = HostKind::none;
    bool has_port = false;
};

enum class UriScheme : uint8_t { none = 0, sip, sips, tel, other };

/// RFC 3261 §19.1 SIP/SIPS URI, RFC 3966 tel URI, or an absolute URI kept
/// opaque (scheme == other: only `scheme` and `all` are set).
struct Uri {
    Span all;        // the whole URI
    Span scheme;     // "sip", "sips", "tel", ...
    Span user;       // userinfo user part, % escapes left as is (tel: the number)
    Span password;   // after ':' in userinfo
    HostPort host;   // sip/sips only
    Span params;     // uri-parameters, without the leading ';' (tel: its params)
    Span headers;    // after '?', without it
    Span transport;  // ;transport= value
    Span maddr;      // ;maddr= value
    Span user_param; // ;user= value
    UriScheme kind = UriScheme::none;
    bool lr = false;       // ;lr present (RFC 3261 §16.12 loose routing)
    bool has_user = false; // '@' was present
};

/// name-addr / addr-spec with header parameters: From, To, Contact, Route,
/// Record-Route, Reply-To. `uri` is the URI only (without < >).
struct NameAddr {
    Span all;       // the whole value, trimmed
    Span display;   // display name; for a quoted-string, without the quotes
    Span uri;       // addr-spec
    Span params;    // header params after the URI, without the leading ';'
    Span tag;       // ;tag=
    Span expires;   // ;expires= (Contact)
    Span q;         // ;q= (Contact)
    bool angle = false;  // URI was in < >
    bool star = false;   // Contact: *
    bool has_tag = false;
};

/// One via-parm (RFC 3261 §20.42), LWS allowed around every separator.
struct Via {
    Span all;        // the whole via-parm, trimmed
    Span protocol;   // protocol-name ("SIP")
    Span version;    // "2.0"
    Span transport_name;
    HostPort sent_by;
    Span params;     // without the leading ';'
    Span branch;     // value of ;branch=
    Span received;   // value of ;received= (IPv4 or IPv6, bracketed or not)
    Span rport;      // value of ;rport= (empty when bare ;rport)
    Span maddr;
    uint8_t ttl = 0;
    Transport transport = Transport::unknown;
    bool has_branch = false;
    bool has_rport = false;
    bool has_ttl = false;
    /// Branch starts with the RFC 3261 magic cookie "z9hG4bK".
    bool rfc3261_branch = false;
};

struct CSeq {
    uint32_t number = 0;
    Method method = Method::unknown;
    Span method_name;
};

/// RFC 3261 §20.33 Retry-After: delta-seconds [comment] *(; params).
struct RetryAfter {
    uint32_t seconds = 0;
    uint32_t duration = 0;  // ;duration=
    bool has_duration = false;
};

/// RFC 2617 / RFC 7616 / RFC 8760 digest challenge or credentials.
/// Quoted values are given without their quotes (escapes left as is).
struct Digest {
    Span scheme;  // "Digest" or another auth-scheme
    Span realm, nonce, opaque, algorithm, qop, stale, domain;
    Span username, uri, response, cnonce, nc;
    bool is_digest = false;
};

static_assert(std::is_trivially_copyable_v<Uri>);
static_assert(std::is_trivially_copyable_v<NameAddr>);
static_assert(std::is_trivially_copyable_v<Via>);
static_assert(std::is_trivially_copyable_v<Digest>);

}  // namespace sipedge::sip
