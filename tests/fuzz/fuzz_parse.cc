// libFuzzer harness: the parser and every header-value parser it exposes.
// Links only sipparse (STYLE.md §6). Aborts when a returned span leaves the
// input, so a wrong offset is a crash, not a silent bug.

#include <cstdint>
#include <cstdlib>

#include "sipparse/headers.h"
#include "sipparse/message.h"
#include "sipparse/response.h"

namespace {

using namespace sipedge::sip;

void check(Span s, size_t len) {
    if (s.end() > len) std::abort();
}

void exercise(const char* b, size_t len, const Message& m) {
    check(m.body, len);
    check(m.request_uri, len);
    check(m.call_id, len);
    if (m.size > len) std::abort();
    if (m.header_count > max_headers) std::abort();
    for (uint16_t i = 0; i < m.header_count; i++) {
        const Header& h = m.headers[i];
        check(h.name, len);
        check(h.value, len);
        CommaList list(b, h.value);
        Span el;
        while (list.next(el)) {
            check(el, len);
            Via v;
            NameAddr na;
            Uri u;
            Digest d;
            if (parse_via(b, el, v)) check(v.branch, len);
            if (parse_name_addr(b, el, na, true)) {
                check(na.uri, len);
                if (parse_uri(b, na.uri, u)) check(u.host.host, len);
            }
            if (parse_digest(b, el, d)) check(d.nonce, len);
        }
        RetryAfter ra;
        parse_retry_after(b, h.value, ra);
        parse_date(b, h.value);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const char* b = reinterpret_cast<const char*>(data);
    static Message m;
    if (parse(b, size, m, Framing::datagram) == ParseStatus::ok) {
        exercise(b, size, m);
        validate(b, m);
    }
    static char resp[max_message_size];
    const size_t rn = make_response(b, size, ResponseSpec{400, "Bad Request", "fz1", {}}, resp, sizeof(resp));
    if (rn > sizeof(resp)) std::abort();
    const ParseStatus st = parse(b, size, m, Framing::stream);
    if (st == ParseStatus::ok) exercise(b, size, m);
    if (st == ParseStatus::incomplete && m.need != 0 && m.need <= size) std::abort();
    return 0;
}
