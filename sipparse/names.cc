// Name tables: methods, header names (long and compact), transports, and
// the reason phrases for parse errors.

#include <array>
#include <cstring>

#include "sipparse/charclass.h"
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

struct HeaderName {
    const char* name;  // lower case
    uint8_t len;
    HeaderId id;
};

// RFC 3261 §7.3.3 and the IANA compact-form registry.
constexpr HeaderName header_names[] = {
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

// Long names by length: at most a few candidates each, told apart by their
// first letter, then one case-insensitive compare.
struct ByLength {
    int8_t idx[6];
};
constexpr size_t max_name_len = 19;
constexpr std::array<ByLength, max_name_len + 1> make_by_length() {
    std::array<ByLength, max_name_len + 1> t{};
    for (auto& e : t)
        for (auto& i : e.idx) i = -1;
    for (size_t i = 0; i < sizeof(header_names) / sizeof(header_names[0]); i++) {
        auto& e = t[header_names[i].len];
        size_t k = 0;
        while (e.idx[k] >= 0) k++;  // a length with more than 6 names fails to compile
        e.idx[k] = int8_t(i);
    }
    return t;
}
constexpr auto by_length = make_by_length();

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

Method method_from(const char* p, size_t n) noexcept {
    if (n == 0) return Method::unknown;
    for (const auto& e : methods)
        if (e.len == n && std::memcmp(e.name, p, n) == 0) return e.m;
    return Method::extension;
}

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

namespace {

// Case-insensitive compare of a token <p> against a lower-case name with
// overlapping word loads: OR-ing 0x20 into the bytes where the name has a
// letter folds case (in a token, only letters reach a-z that way).
struct FoldedName {
    char lower[24];  // the name, lower case, zero padded
    char fold[24];   // 0x20 where lower[] is a letter
};
constexpr std::array<FoldedName, sizeof(header_names) / sizeof(header_names[0])> make_folded() {
    std::array<FoldedName, sizeof(header_names) / sizeof(header_names[0])> t{};
    for (size_t i = 0; i < t.size(); i++)
        for (size_t k = 0; k < header_names[i].len; k++) {
            const char c = header_names[i].name[k];
            t[i].lower[k] = c;
            t[i].fold[k] = (c >= 'a' && c <= 'z') ? 0x20 : 0;
        }
    return t;
}
constexpr auto folded = make_folded();

template <class W>
bool fold_eq_at(const char* p, const FoldedName& f, size_t off) noexcept {
    W a, m, b;
    std::memcpy(&a, p + off, sizeof(W));
    std::memcpy(&m, f.fold + off, sizeof(W));
    std::memcpy(&b, f.lower + off, sizeof(W));
    return W(a | m) == b;
}

// p[0, n) against name i; 2 <= n <= 19, reads only p[0, n).
bool fold_eq(const char* p, size_t n, const FoldedName& f) noexcept {
    if (n >= 8) {
        if (!fold_eq_at<uint64_t>(p, f, 0) || !fold_eq_at<uint64_t>(p, f, n - 8)) return false;
        return n <= 16 || fold_eq_at<uint64_t>(p, f, 8);
    }
    if (n >= 4) return fold_eq_at<uint32_t>(p, f, 0) && fold_eq_at<uint32_t>(p, f, n - 4);
    return fold_eq_at<uint16_t>(p, f, 0) && fold_eq_at<uint16_t>(p, f, n - 2);
}

}  // namespace

HeaderId header_from(const char* p, size_t n) noexcept {
    if (n == 1) return compact_form(lower(p[0]));
    if (n < 2 || n > max_name_len) return HeaderId::other;
    const char first = char(p[0] | 0x20);
    for (const int8_t i : by_length[n].idx) {
        if (i < 0) break;
        const auto& h = header_names[size_t(i)];
        if (h.name[0] == first && fold_eq(p, n, folded[size_t(i)])) return h.id;
    }
    return HeaderId::other;
}

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
