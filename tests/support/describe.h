#pragma once
// Flattens a parsed message into key=value fields, the vocabulary of the
// spec files (tests/spec/*.md). Test-only; allocates freely.

#include <map>
#include <string>
#include <string_view>

#include "sipparse/headers.h"
#include "sipparse/message.h"

namespace sipedge::test {

inline std::string status_name(sip::ParseStatus s) {
    switch (s) {
    case sip::ParseStatus::ok: return "ok";
    case sip::ParseStatus::incomplete: return "incomplete";
    case sip::ParseStatus::invalid: return "invalid";
    }
    return "?";
}

inline const char* host_kind(sip::HostKind k) {
    switch (k) {
    case sip::HostKind::name: return "name";
    case sip::HostKind::ipv4: return "ipv4";
    case sip::HostKind::ipv6: return "ipv6";
    default: return "none";
    }
}

inline std::map<std::string, std::string> describe(sip::ParseStatus st, const sip::Message& m,
                                                   const char* b) {
    using namespace sip;
    std::map<std::string, std::string> f;
    auto s = [&](Span sp) { return std::string(sp.str(b)); };
    f["status"] = status_name(st);
    if (st == ParseStatus::invalid) {
        f["error"] = error_reason(m.error);
        f["error_status"] = std::to_string(error_status(m.error));
        f["error_off"] = std::to_string(m.error_off);
        f["error_header"] = header_name(m.error_header);
        return f;
    }
    if (st == ParseStatus::incomplete) {
        f["need"] = std::to_string(m.need);
        return f;
    }
    if (m.is_request) {
        f["method"] = s(m.method_name);
        f["method_known"] = m.method == Method::extension ? "no" : "yes";
        f["ruri"] = s(m.request_uri);
        f["ruri.scheme"] = s(m.ruri.scheme);
        f["ruri.user"] = s(m.ruri.user);
        f["ruri.host"] = s(m.ruri.host.host);
        f["ruri.host_kind"] = host_kind(m.ruri.host.kind);
        f["ruri.port"] = m.ruri.host.has_port ? std::to_string(m.ruri.host.port) : "";
        f["ruri.params"] = s(m.ruri.params);
        f["ruri.lr"] = m.ruri.lr ? "yes" : "no";
    } else {
        f["code"] = std::to_string(m.status);
        f["reason"] = s(m.reason);
    }
    f["version"] = s(m.version);
    f["headers"] = std::to_string(m.header_count);
    f["call_id"] = s(m.call_id);
    f["cseq"] = std::to_string(m.cseq.number);
    f["cseq_method"] = s(m.cseq.method_name);
    f["via_count"] = std::to_string(m.via_count);
    const Via& v = m.top_via;
    f["branch"] = s(v.branch);
    f["rfc3261_branch"] = v.rfc3261_branch ? "yes" : "no";
    f["transport"] = s(v.transport_name);
    f["sent_by"] = s(v.sent_by.host);
    f["sent_by_kind"] = host_kind(v.sent_by.kind);
    f["sent_by_port"] = v.sent_by.has_port ? std::to_string(v.sent_by.port) : "";
    f["received"] = s(v.received);
    f["rport"] = v.has_rport ? (v.rport.len ? s(v.rport) : "yes") : "";
    f["ttl"] = v.has_ttl ? std::to_string(v.ttl) : "";
    f["maddr"] = s(v.maddr);
    f["from_uri"] = s(m.from.uri);
    f["from_display"] = s(m.from.display);
    f["from_tag"] = s(m.from.tag);
    f["to_uri"] = s(m.to.uri);
    f["to_display"] = s(m.to.display);
    f["to_tag"] = s(m.to.tag);
    f["max_forwards"] = m.has_max_forwards ? std::to_string(m.max_forwards) : "";
    f["content_length"] = m.has_content_length ? std::to_string(m.content_length) : "";
    f["body_len"] = std::to_string(m.body.len);
    f["size"] = std::to_string(m.size);
    std::string len;
    if (m.lenient & lenient_bare_lf) len += len.empty() ? "bare_lf" : ",bare_lf";
    if (m.lenient & lenient_leading_crlf) len += len.empty() ? "leading_crlf" : ",leading_crlf";
    if (m.lenient & lenient_trailing_bytes) len += len.empty() ? "trailing_bytes" : ",trailing_bytes";
    if (m.lenient & lenient_no_content_length) len += len.empty() ? "no_content_length" : ",no_content_length";
    f["lenient"] = len;
    // Contacts: count, and the first one's URI and params.
    size_t contacts = 0;
    for (const Header* h = m.find(HeaderId::contact); h; h = m.next(h)) {
        CommaList list(b, h->value);
        Span el;
        while (list.next(el)) {
            NameAddr na;
            if (!parse_name_addr(b, el, na, true)) continue;
            if (contacts == 0) {
                f["contact_uri"] = na.star ? "*" : s(na.uri);
                f["contact_expires"] = s(na.expires);
                f["contact_q"] = s(na.q);
                f["contact_display"] = s(na.display);
            }
            contacts++;
        }
    }
    f["contacts"] = std::to_string(contacts);
    return f;
}

}  // namespace sipedge::test
