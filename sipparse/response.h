#pragma once
// Building a response to a request, including one parse() refused (a 400
// with the parse error as its reason, or 505). RFC 3261 §8.2.6.1: the
// response copies the Via headers in order, From, To (adding a tag when the
// request's To has none), Call-ID and CSeq. For a refused request these are
// found by a lenient line scan of the raw bytes, so a message broken in one
// header can still be answered; one missing any of them cannot, and the
// caller drops and counts it.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipedge::sip {

struct ResponseSpec {
    uint16_t status = 400;
    std::string_view reason;   // e.g. error_reason(msg.error)
    std::string_view to_tag;   // added when the request's To has no tag; empty: add none
    std::string_view extra;    // extra header lines, each ending in CRLF (e.g. "Retry-After: 30\r\n")
    bool partial = false;      // answer a request that lacks From, To, Call-ID or CSeq too (a
                               // Via is enough; those it has are copied): for 400s to requests
                               // parse() refused, so a sender learns why
};

/// Writes the response to request in[0, len) into out[0, cap). Returns its
/// length, or 0 when the request lacks a start line, Via, From, To, Call-ID
/// or CSeq, is itself a response, or the response does not fit.
/// Never reads past in + len, never allocates.
size_t make_response(const char* in, size_t len, const ResponseSpec& spec, char* out,
                     size_t cap) noexcept;

struct Message;

/// The same response to a request parse() accepted into <m> from <in>, built
/// from its header index instead of a second scan of the bytes (the proxy's
/// 100 Trying to every new INVITE). Header lines are copied from their name
/// to the end of their trimmed value (trailing LWS dropped). Returns 0 where
/// the scan above would (no Via, From, To, Call-ID or CSeq unless
/// spec.partial; a response; no room), and for a header among those with an
/// empty value (the scan above answers those).
size_t make_response(const Message& m, const char* in, const ResponseSpec& spec, char* out,
                     size_t cap) noexcept;

}  // namespace sipedge::sip
