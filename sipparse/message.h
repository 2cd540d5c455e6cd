#pragma once
// The SIP message view: start line, an index of every header (name/value
// spans), and the typed fields a stateful proxy needs on every packet.
// The parser never allocates, never throws and never reads past buf + len.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "sipparse/span.h"
#include "sipparse/types.h"

namespace sipedge::sip {

enum class ParseStatus : uint8_t { ok, incomplete, invalid };

/// Datagram: the buffer is one whole UDP payload (RFC 3261 §18.3: a shorter
/// Content-Length truncates the body, a longer one is an error; without
/// Content-Length the body runs to the end). Stream: the buffer may hold a
/// partial message or several; Content-Length is required and bytes past the
/// message belong to the next one.
enum class Framing : uint8_t { datagram, stream };

/// Headers the parser recognises by name (long and compact forms,
/// case-insensitive). Everything else is `other` but still indexed.
enum class HeaderId : uint8_t {
    other = 0,
    via,
    call_id,
    cseq,
    from,
    to,
    max_forwards,
    content_length,
    content_type,
    contact,
    expires,
    min_expires,
    route,
    record_route,
    retry_after,
    www_authenticate,
    proxy_authenticate,
    authorization,
    proxy_authorization,
    require,
    proxy_require,
    supported,
    unsupported,
    allow,
    date,
    user_agent,
    server,
    subject,
    event,
    accept,
    content_encoding,
    refer_to,
    referred_by,
    session_expires,
    timestamp,
    count_  // number of ids; keep last
};

/// Canonical long name ("Call-ID") of <id>; "" for other.
const char* header_name(HeaderId id) noexcept;
/// Case-insensitive lookup of a header name, long or compact form.
HeaderId header_from(const char* p, size_t n) noexcept;

/// Why a message was refused; each maps to the status and reason phrase a
/// UAS or proxy answers with (see error_status / error_reason).
enum class ParseError : uint8_t {
    none = 0,
    empty,
    too_large,
    bad_start_line,
    bad_method,
    bad_request_uri,
    bad_version,
    unsupported_version,
    bad_status_code,
    headers_unterminated,
    bad_header_name,
    bad_header_value,
    too_many_headers,
    missing_header,
    duplicate_header,
    bad_via,
    bad_call_id,
    bad_cseq,
    cseq_mismatch,
    bad_from,
    bad_to,
    bad_contact,
    bad_route,
    bad_max_forwards,
    bad_content_length,
    body_truncated,
    bad_expires,
    bad_retry_after,
    bad_date,
    bad_quoted_string,
    count_
};

/// Reason phrase for a 400/505 answer to a message refused with <e>.
const char* error_reason(ParseError e) noexcept;
/// SIP status to answer with: 505 for an unsupported version, 400 otherwise.
uint16_t error_status(ParseError e) noexcept;

/// Liberal handling the parser applied; counted by callers, never fatal.
enum Lenient : uint8_t {
    lenient_bare_lf = 1 << 0,       // a line ended in LF without CR
    lenient_leading_crlf = 1 << 1,  // CRLFs before the start line (keep-alives)
    lenient_trailing_bytes = 1 << 2,// datagram longer than Content-Length
    lenient_no_content_length = 1 << 3, // datagram without Content-Length
};

struct Header {
    Span name;   // as written ("v", "VIA", ...)
    Span value;  // trimmed of leading/trailing LWS; may contain folded CRLFs
    HeaderId id = HeaderId::other;
    uint8_t pad_ = 0;
};
static_assert(sizeof(Header) == 10 || sizeof(Header) == 12);

/// Headers beyond this many make a message invalid (too_many_headers).
inline constexpr size_t max_headers = 96;
/// Largest message accepted, in either framing.
inline constexpr size_t max_message_size = 65535;

/// One parsed message. ~1.5 KB; keep it on the stack or in a per-core slot.
struct Message {
    // Start line.
    bool is_request = false;
    Method method = Method::unknown;  // requests only
    Span method_name;
    Span request_uri;
    Uri ruri;                          // parsed Request-URI (requests)
    Span version;                      // "SIP/2.0"
    uint16_t status = 0;               // responses only
    Span reason;
    Span start_line;                   // without its line end

    // Header index (the array itself is last: parse() resets only what
    // precedes it, plus header_count entries are written).
    uint16_t header_count = 0;
    /// 1 + index in headers[] of the first header with each id; 0 = absent.
    uint8_t first_[size_t(HeaderId::count_)] = {};

    // Typed fields parsed on every message (the proxy fast path).
    Via top_via;                 // first via-parm of the first Via header
    uint16_t via_count = 0;      // via-parms over all Via headers
    Span call_id;
    CSeq cseq;
    NameAddr from, to;
    uint32_t max_forwards = 0;   // valid when has_max_forwards
    uint32_t content_length = 0; // valid when has_content_length
    bool has_max_forwards = false;
    bool has_content_length = false;
    Span body;                   // truncated to Content-Length
    /// The URI of the first Route value (parse() reads it to check it; the
    /// proxy's §16.4 decision starts from it). Valid when has_route0.
    Uri route0;
    bool has_route0 = false;

    // Framing.
    uint32_t size = 0;           // bytes this message occupies in the buffer
    uint32_t need = 0;           // stream + incomplete: total bytes needed, 0 = unknown
    uint8_t lenient = 0;         // Lenient bits

    // Error (status == invalid).
    ParseError error = ParseError::none;
    uint16_t error_off = 0;      // first offending byte
    HeaderId error_header = HeaderId::other;

    /// Headers in message order; entries past header_count are stale.
    Header headers[max_headers];

    /// First header with <id>, or nullptr.
    const Header* find(HeaderId id) const noexcept {
        const uint8_t i = first_[size_t(id)];
        return i ? &headers[i - 1] : nullptr;
    }
    /// Next header with the same id after <h>, or nullptr.
    const Header* next(const Header* h) const noexcept {
        const HeaderId id = h->id;
        for (const Header* e = headers + header_count; ++h < e;)
            if (h->id == id) return h;
        return nullptr;
    }
    /// Number of headers with <id>.
    size_t count(HeaderId id) const noexcept;
};

/// Parses one SIP message from buf[0, len): what a stateful proxy needs to
/// be well-formed (RFC 3261 §16.3: "any other components, well-formed or
/// not, SHOULD be ignored and remain unchanged when the message is
/// forwarded"). Call validate() as well to hold every known header to its
/// grammar, as a UAS or registrar must.
/// Accepts: CRLF or bare LF line ends, leading CRLFs, compact header names,
/// folded lines, LWS around every separator, any extension method or header.
/// Rejects (invalid, with error/error_off set): malformed start line or
/// version, a Request-URI with LWS, < > or escaped headers (RFC 4475
/// §3.1.2.7-11), missing or duplicated Call-ID/CSeq/From/To/Max-Forwards/
/// Content-Length, a CSeq method that differs from the request method,
/// a malformed top Via or empty via-parm, malformed Call-ID/CSeq/From/To or
/// top Route value, overlarge numbers,
/// a Content-Length larger than the datagram.
/// Stream framing returns `incomplete` (with `need` when known) until the
/// whole message is in the buffer; nothing is copied.
/// Never reads past buf + len, never allocates.
ParseStatus parse(const char* buf, size_t len, Message& out,
                  Framing framing = Framing::datagram) noexcept;

/// Strict check of a message parse() accepted: every via-parm below the top
/// one, the URIs inside From and To, every Contact, Route and Record-Route
/// value, Expires, Min-Expires, Retry-After and Date
/// (RFC 4475 §3.1.2.12, §3.1.2.13). Returns ok, or invalid with `error`,
/// `error_off` and `error_header` set as parse() does.
ParseStatus validate(const char* buf, Message& m) noexcept;

}  // namespace sipedge::sip
