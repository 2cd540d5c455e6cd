// libFuzzer harness: the proxy rewriter. For every input that parses, apply
// the edits a proxy makes and require that the output parses again with the
// expected changes (our Via on top, Max-Forwards one lower, our
// Record-Route first, same Call-ID and body).

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "sipparse/headers.h"
#include "sipparse/message.h"
#include "sipparse/rewrite.h"

namespace {
using namespace sipedge::sip;
constexpr std::string_view our_via = "SIP/2.0/UDP 192.0.2.250:5060;branch=z9hG4bKfuzz1";
constexpr std::string_view our_rr = "<sip:192.0.2.250;lr>";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const char* in = reinterpret_cast<const char*>(data);
    static Message m, m2;
    static char out[max_message_size + 4096];
    if (parse(in, size, m) != ParseStatus::ok) return 0;
    // What we add (Via, Record-Route, and Max-Forwards and Content-Length when
    // absent) must still fit the next parser's header index.
    if (m.header_count + 4u > max_headers) return 0;
    Rewriter rw(in, m);
    const bool pop = m.via_count > 1 && !m.is_request;  // response: remove our Via
    if (pop) {
        // parse() checks only the top Via; a proxy relaying a response parses
        // the next one to send it there, and drops the response when it cannot.
        Span el;
        int k = 0;
        bool next_ok = false;
        for (const Header* h = m.find(HeaderId::via); h && k < 2; h = m.next(h)) {
            CommaList list(in, h->value);
            while (k < 2 && list.next(el))
                if (++k == 2) {
                    Via v;
                    next_ok = parse_via(in, el, v);
                }
        }
        if (!next_ok) return 0;
    }
    if (pop) rw.remove_top_via();
    if (m.is_request) {
        if (m.has_max_forwards && m.max_forwards == 0) return 0;
        rw.prepend_via(our_via);
        rw.decrement_max_forwards();
        rw.add_record_route(our_rr);
    }
    const size_t n = rw.finish(out, sizeof(out));
    if (n == 0) return 0;  // did not fit: allowed, reported to the caller
    if (n > max_message_size) return 0;
    if (parse(out, n, m2) != ParseStatus::ok) std::abort();
    if (m2.call_id.str(out) != m.call_id.str(in)) std::abort();
    if (m2.body.str(out) != m.body.str(in)) std::abort();
    if (m.is_request) {
        if (m2.top_via.all.str(out) != our_via) std::abort();
        if (m2.via_count != m.via_count + 1) std::abort();
        if (m2.max_forwards != (m.has_max_forwards ? m.max_forwards - 1 : 70)) std::abort();
        const Header* rr = m2.find(HeaderId::record_route);
        if (!rr || rr->value.str(out).substr(0, our_rr.size()) != our_rr) std::abort();
    } else if (pop && m2.via_count != m.via_count - 1) {
        std::abort();
    }
    return 0;
}
