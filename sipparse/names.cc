// Name tables: methods, header names (long and compact), transports, and
// the reason phrases for parse errors.

#include <array>
#include <cstring>

#include "sipparse/charclass.h"
#include "sipparse/fastpath.h"
#include "sipparse/header_lookup.h"
#include "sipparse/headers.h"
#include "sipparse/message.h"

namespace sipedge::sip {

namespace {

struct MethodName {
    const char* name;
    uint8_t len;
    Method m;
};

constexpr MethodName methods[] = {
    {"INVITE", 6, Method::invite},       {"ACK", 3, Method::ack},
    {"BYE", 3, Method::bye},             {"CANCEL", 6, Method::cancel},
    {"OPTIONS", 7, Method::options},     {"REGISTER", 8, Method::register_},
    {"PRACK", 5, Method::prack},         {"SUBSCRIBE", 9, Method::subscribe},
    {"NOTIFY", 6, Method::notify},       {"PUBLISH", 7, Method::publish},
    {"INFO", 4, Method::info},           {"REFER", 5, Method::refer},
    {"MESSAGE", 7, Method::message},     {"UPDATE", 6, Method::update},
};

constexpr const char* canonical_names[] = {
    "",           "Via",          "Call-ID",        "CSeq",          "From",
    "To",         "Max-Forwards", "Content-Length", "Content-Type",  "Contact",
    "Expires",    "Min-Expires",  "Route",          "Record-Route",  "Retry-After",
    "WWW-Authenticate", "Proxy-Authenticate", "Authorization", "Proxy-Authorization",
    "Require",    "Proxy-Require", "Supported",     "Unsupported",   "Allow",
    "Date",       "User-Agent",   "Server",         "Subject",       "Event",
    "Accept",     "Content-Encoding", "Refer-To",   "Referred-By",   "Session-Expires",
    "Timestamp",
};
static_assert(sizeof(canonical_names) / sizeof(canonical_names[0]) == size_t(HeaderId::count_));

constexpr const char* error_reasons[] = {
    "",
    "Empty Message",
    "Message Too Large",
    "Malformed Start Line",
    "Malformed Method",
    "Malformed Request-URI",
    "Malformed SIP Version",
    "Version Not Supported",
    "Malformed Status Code",
    "Header Section Not Terminated",
    "Malformed Header Name",
    "Malformed Header Value",
    "Too Many Headers",
    "Missing Mandatory Header",
    "Duplicate Single-Value Header",
    "Malformed Via",
    "Malformed Call-ID",
    "Malformed CSeq",
    "CSeq Method Mismatch",
    "Malformed From",
    "Malformed To",
    "Malformed Contact",
    "Malformed Route",
    "Malformed Max-Forwards",
    "Malformed Content-Length",
    "Content-Length Exceeds Message",
    "Malformed Expires",
    "Malformed Retry-After",
    "Malformed Date",
    "Unterminated Quoted String",
};
static_assert(sizeof(error_reasons) / sizeof(error_reasons[0]) == size_t(ParseError::count_));

}  // namespace

const char* method_name(Method m) noexcept {
    for (const auto& e : methods)
        if (e.m == m) return e.name;
    return "";
}

Method method_from(const char* p, size_t n) noexcept { return method_from_inl(p, n); }

Transport transport_from(const char* p, size_t n) noexcept {
    if (ieq(p, n, "udp", 3)) return Transport::udp;
    if (ieq(p, n, "tcp", 3)) return Transport::tcp;
    if (ieq(p, n, "tls", 3)) return Transport::tls;
    if (ieq(p, n, "sctp", 4)) return Transport::sctp;
    if (ieq(p, n, "tls-sctp", 8)) return Transport::tls_sctp;
    if (ieq(p, n, "ws", 2)) return Transport::ws;
    if (ieq(p, n, "wss", 3)) return Transport::wss;
    return n ? Transport::other : Transport::unknown;
}

const char* header_name(HeaderId id) noexcept {
    return size_t(id) < size_t(HeaderId::count_) ? canonical_names[size_t(id)] : "";
}

HeaderId header_from(const char* p, size_t n) noexcept { return names::lookup_header(p, n); }

const char* error_reason(ParseError e) noexcept {
    return size_t(e) < size_t(ParseError::count_) ? error_reasons[size_t(e)] : "Bad Request";
}

uint16_t error_status(ParseError e) noexcept {
    // RFC 3261 §21.5.20: 505 Version Not Supported; everything else is 400.
    return e == ParseError::unsupported_version ? 505 : 400;
}

bool ieq(const char* p, size_t n, const char* lower_s, size_t lower_n) noexcept {
    if (n != lower_n) return false;
    for (size_t i = 0; i < n; i++) {
        const char a = p[i], b = lower_s[i];
        // Equal, or equal but for the case bit of a letter.
        if (a != b && !((a | 0x20) == b && b >= 'a' && b <= 'z')) return false;
    }
    return true;
}

}  // namespace sipedge::sip
