// Responses to requests, refused ones included (RFC 3261 §8.2.6).

#include "sipparse/response.h"

#include <cstring>

#include "sipparse/charclass.h"
#include "sipparse/headers.h"
#include "sipparse/lex.h"
#include "sipparse/message.h"

namespace sipedge::sip {

namespace {

struct Line {
    uint32_t start = 0;  // first byte of the header line (its name)
    uint32_t end = 0;    // end of its content, without the final line end
    uint32_t value = 0;  // first byte after the ':'
};

class Writer {
  public:
    Writer(char* out, size_t cap) : out_(out), cap_(cap) {}
    void put(const char* p, size_t n) noexcept {
        if (!ok_ || n > cap_ - w_) {
            ok_ = false;
            return;
        }
        if (n) std::memcpy(out_ + w_, p, n);
        w_ += n;
    }
    void put(std::string_view s) noexcept { put(s.data(), s.size()); }
    void put_status(uint16_t v) noexcept {
        const char d[3] = {char('0' + v / 100 % 10), char('0' + v / 10 % 10), char('0' + v % 10)};
        put(d, 3);
    }
    // "SIP/2.0 <status> <reason>\r\n"
    void status_line(const ResponseSpec& spec) noexcept {
        put("SIP/2.0 ");
        put_status(spec.status);
        put(" ");
        put(spec.reason.empty() ? std::string_view("Bad Request") : spec.reason);
        put("\r\n");
    }
    // The extra lines, an empty body, the end of the headers: the length
    // written, 0 when it did not fit.
    size_t end(const ResponseSpec& spec) noexcept {
        put(spec.extra);
        put("Content-Length: 0\r\n\r\n");
        return ok_ ? w_ : 0;
    }

  private:
    char* out_;
    size_t cap_;
    size_t w_ = 0;
    bool ok_ = true;
};

}  // namespace

size_t make_response(const char* in, size_t len, const ResponseSpec& spec, char* out,
                     size_t cap) noexcept {
    if (spec.status < 100 || spec.status > 699 || len > max_message_size) return 0;
    size_t pos = 0;
    while (pos < len && (in[pos] == '\r' || in[pos] == '\n')) pos++;
    if (len - pos >= 4 && std::memcmp(in + pos, "SIP/", 4) == 0) return 0;  // a response
    const void* lf = std::memchr(in + pos, '\n', len - pos);
    if (!lf) return 0;
    pos = size_t(static_cast<const char*>(lf) - in) + 1;

    // Every Via goes back, the sender's own (the last) included: as many as
    // a message may have headers; a request with more is not answered.
    constexpr size_t max_vias = max_headers;
    Line vias[max_vias];
    size_t nvia = 0;
    Line from, to, call_id, cseq;
    Line* cur = nullptr;  // header the current line may continue
    while (pos < len) {
        const void* nl = std::memchr(in + pos, '\n', len - pos);
        const size_t e_lf = nl ? size_t(static_cast<const char*>(nl) - in) : len;
        size_t e = e_lf;
        if (e > pos && in[e - 1] == '\r') e--;
        if (e == pos) break;  // empty line: end of headers
        if (in[pos] == ' ' || in[pos] == '\t') {
            if (cur) cur->end = uint32_t(e);  // folded continuation
        } else {
            cur = nullptr;
            size_t n = pos;
            while (n < e && is(in[n], cc_token)) n++;
            size_t c = n;
            while (c < e && (in[c] == ' ' || in[c] == '\t')) c++;
            if (n > pos && c < e && in[c] == ':') {
                Line l{uint32_t(pos), uint32_t(e), uint32_t(c + 1)};
                switch (header_from(in + pos, n - pos)) {
                case HeaderId::via:
                    if (nvia == max_vias) return 0;
                    cur = &(vias[nvia++] = l);
                    break;
                case HeaderId::from: if (!from.end) cur = &(from = l); break;
                case HeaderId::to: if (!to.end) cur = &(to = l); break;
                case HeaderId::call_id: if (!call_id.end) cur = &(call_id = l); break;
                case HeaderId::cseq: if (!cseq.end) cur = &(cseq = l); break;
                default: break;
                }
            }
        }
        pos = e_lf + 1;
    }
    if (!nvia || (!spec.partial && (!from.end || !to.end || !call_id.end || !cseq.end))) return 0;
    if (spec.partial && lex::skip_lws(in, vias[0].value, vias[0].end) >= vias[0].end) return 0;  // "Via:" alone

    Writer w(out, cap);
    w.status_line(spec);
    for (size_t i = 0; i < nvia; i++) {
        w.put(in + vias[i].start, vias[i].end - vias[i].start);
        w.put("\r\n");
    }
    if (from.end) {
        w.put(in + from.start, from.end - from.start);
        w.put("\r\n");
    }
    if (to.end) {
        w.put(in + to.start, to.end - to.start);
        if (!spec.to_tag.empty()) {
            // RFC 3261 §8.2.6.2: add a tag unless the request's To has one.
            const uint32_t v0 = lex::skip_lws(in, to.value, to.end);
            NameAddr na;
            const bool parsed = parse_name_addr(in, make_span(v0, lex::trim_end(in, v0, to.end)), na);
            if (!(parsed && na.has_tag)) {
                w.put(";tag=");
                w.put(spec.to_tag);
            }
        }
        w.put("\r\n");
    }
    for (const Line* l : {&call_id, &cseq}) {
        if (!l->end) continue;
        w.put(in + l->start, l->end - l->start);
        w.put("\r\n");
    }
    return w.end(spec);
}

size_t make_response(const Message& m, const char* in, const ResponseSpec& spec, char* out,
                     size_t cap) noexcept {
    if (!m.is_request || spec.status < 100 || spec.status > 699) return 0;
    const Header* via = m.find(HeaderId::via);
    const Header* from = m.find(HeaderId::from);
    const Header* to = m.find(HeaderId::to);
    const Header* call_id = m.find(HeaderId::call_id);
    const Header* cseq = m.find(HeaderId::cseq);
    if (!via || (!spec.partial && (!from || !to || !call_id || !cseq))) return 0;
    Writer w(out, cap);
    // From the header's name to the end of its value (folded lines included).
    auto line = [&](const Header* h, bool tag) {
        if (h->value.len == 0) return false;
        w.put(in + h->name.off, h->value.end() - h->name.off);
        if (tag) {
            w.put(";tag=");
            w.put(spec.to_tag);
        }
        w.put("\r\n");
        return true;
    };
    w.status_line(spec);
    for (const Header* h = via; h; h = m.next(h))
        if (!line(h, false)) return 0;
    // RFC 3261 §8.2.6.2: a tag is added unless the request's To has one.
    if ((from && !line(from, false)) || (to && !line(to, !spec.to_tag.empty() && !m.to.has_tag)) ||
        (call_id && !line(call_id, false)) || (cseq && !line(cseq, false)))
        return 0;
    return w.end(spec);
}

}  // namespace sipedge::sip
