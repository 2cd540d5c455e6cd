// The load generator's SIP text: see loadgen_sip.h.

#include "bench/dataplane/loadgen_sip.h"

#include <cstring>

namespace sipedge::bench {

namespace {

// Appends into out[0, cap); remembers an overflow so that size() says 0.
class Writer {
public:
    Writer(char* out, size_t cap) noexcept : p_(out), cap_(cap) {}
    Writer& s(std::string_view v) noexcept {
        if (n_ + v.size() <= cap_) std::memcpy(p_ + n_, v.data(), v.size());
        else ok_ = false;
        n_ += v.size();
        return *this;
    }
    Writer& u(uint64_t v) noexcept {
        char b[20];
        size_t k = 0;
        do {
            b[k++] = char('0' + v % 10);
            v /= 10;
        } while (v);
        char r[20];
        for (size_t i = 0; i < k; i++) r[i] = b[k - 1 - i];
        return s({r, k});
    }
    Writer& ip(uint32_t v) noexcept {
        return u(v >> 24).s(".").u((v >> 16) & 255).s(".").u((v >> 8) & 255).s(".").u(v & 255);
    }
    Writer& hostport(Addr a) noexcept { return ip(a.ip).s(":").u(a.port); }
    size_t size() const noexcept { return ok_ ? n_ : 0; }
    bool ok() const noexcept { return ok_; }

private:
    char* p_;
    size_t cap_;
    size_t n_ = 0;
    bool ok_ = true;
};

constexpr std::string_view crlf = "\r\n";

bool iequal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

SipMethod method_of(std::string_view m) noexcept {
    if (m == "INVITE") return SipMethod::invite;
    if (m == "ACK") return SipMethod::ack;
    if (m == "BYE") return SipMethod::bye;
    if (m == "OPTIONS") return SipMethod::options;
    if (m == "REGISTER") return SipMethod::register_;
    return SipMethod::other;
}

Span span(const char* d, const char* p, size_t n) noexcept {
    return Span{uint16_t(p - d), uint16_t(n)};
}

// SDP of <who>: one PCMU audio stream (what a trunk call carries, ~130 bytes).
size_t write_sdp(char* out, size_t cap, uint32_t who, uint32_t seq) noexcept {
    Writer w(out, cap);
    w.s("v=0\r\no=- ").u(seq).s(" 1 IN IP4 ").ip(who).s("\r\ns=-\r\nc=IN IP4 ").ip(who);
    w.s("\r\nt=0 0\r\nm=audio ").u(20000 + (seq % 20000) * 2).s(" RTP/AVP 0\r\n");
    w.s("a=rtpmap:0 PCMU/8000\r\n");
    return w.size();
}

void call_id(Writer& w, CallRef c) noexcept { w.s("lg").u(c.slot).s(".").u(c.seq).s("@loadgen"); }

void via(Writer& w, const CallAddrs& a, CallRef c, char kind) noexcept {
    w.s("Via: SIP/2.0/UDP ").hostport(a.caller).s(";branch=z9hG4bK-lg").u(c.slot).s(".");
    w.u(c.seq).s(".").s({&kind, 1}).s(crlf);
}

void from(Writer& w, const CallAddrs& a, CallRef c) noexcept {
    w.s("From: <sip:1").u(c.seq % 1000000).s("@").ip(a.caller.ip).s(">;tag=f").u(c.seq).s(crlf);
}

void to(Writer& w, const CallAddrs& a, CallRef c, std::string_view tag) noexcept {
    w.s("To: <sip:2").u(c.seq % 1000000).s("@").ip(a.edge.ip).s(">");
    if (!tag.empty()) w.s(";tag=").s(tag);
    w.s(crlf);
}

}  // namespace

bool scan(const char* d, size_t n, SipScan& s) noexcept {
    s = SipScan{};
    const char* p = d;
    const char* end = d + n;
    bool first = true, have_cseq = false, ended = false;
    while (p < end) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
        if (!nl) return false;  // headers must end with a blank line
        size_t len = size_t(nl - p);
        if (len && p[len - 1] == '\r') len--;
        const std::string_view line(p, len);
        const char* next = nl + 1;
        if (first) {
            first = false;
            if (line.size() >= 12 && line.substr(0, 8) == "SIP/2.0 ") {
                s.request = false;
                uint16_t st = 0;
                for (size_t i = 8; i < 11; i++) {
                    if (line[i] < '0' || line[i] > '9') return false;
                    st = uint16_t(st * 10 + (line[i] - '0'));
                }
                s.status = st;
            } else {
                const size_t sp = line.find(' ');
                if (sp == std::string_view::npos || sp == 0) return false;
                s.request = true;
                s.method = method_of(line.substr(0, sp));
            }
            p = next;
            continue;
        }
        if (len == 0) {  // end of headers
            ended = true;
            break;
        }
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) return false;
        std::string_view name = line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
        size_t v = colon + 1;
        while (v < len && (line[v] == ' ' || line[v] == '\t')) v++;
        const std::string_view value = line.substr(v);
        const Span whole = span(d, p, len);
        const Span val = span(d, p + v, value.size());
        if (iequal(name, "via") || iequal(name, "v")) {
            if (s.nvia == SipScan::max_via) return false;
            s.via_line[s.nvia++] = whole;
        } else if (iequal(name, "record-route")) {
            if (s.nrr == SipScan::max_rr) return false;
            if (s.nrr == 0) s.rr_value = val;
            s.rr_line[s.nrr++] = whole;
        } else if (iequal(name, "from") || iequal(name, "f")) {
            s.from_line = whole;
        } else if (iequal(name, "to") || iequal(name, "t")) {
            s.to_line = whole;
            const size_t t = value.find(";tag=");
            if (t != std::string_view::npos) {
                size_t e = t + 5;
                while (e < value.size() && value[e] != ';' && value[e] != ' ' && value[e] != '>')
                    e++;
                s.to_tag = span(d, value.data() + t + 5, e - (t + 5));
            }
        } else if (iequal(name, "call-id") || iequal(name, "i")) {
            s.call_id_line = whole;
            s.call_id = val;
        } else if (iequal(name, "cseq")) {
            s.cseq_line = whole;
            const size_t sp = value.find(' ');
            if (sp == std::string_view::npos) return false;
            have_cseq = true;
            if (!s.request) s.method = method_of(value.substr(sp + 1));
        }
        p = next;
    }
    return ended && have_cseq && s.nvia > 0 && s.call_id.len && s.from_line.len &&
           s.to_line.len;
}

bool parse_call_id(std::string_view v, CallRef& c) noexcept {
    if (v.size() < 6 || v.substr(0, 2) != "lg") return false;
    size_t i = 2;
    auto num = [&](uint32_t& out) {
        uint64_t x = 0;
        const size_t start = i;
        while (i < v.size() && v[i] >= '0' && v[i] <= '9' && i - start < 10)
            x = x * 10 + uint64_t(v[i++] - '0');
        out = uint32_t(x);
        return i > start && x <= 0xffffffffu;
    };
    if (!num(c.slot) || i >= v.size() || v[i++] != '.') return false;
    if (!num(c.seq)) return false;
    return v.substr(i) == "@loadgen";
}

size_t build_invite(char* out, size_t cap, const CallAddrs& a, CallRef c) noexcept {
    char sdp[256];
    const size_t sl = write_sdp(sdp, sizeof(sdp), a.caller.ip, c.seq);
    Writer w(out, cap);
    w.s("INVITE sip:2").u(c.seq % 1000000).s("@").hostport(a.edge).s(" SIP/2.0\r\n");
    via(w, a, c, 'i');
    w.s("Max-Forwards: 70\r\n");
    from(w, a, c);
    to(w, a, c, {});
    w.s("Call-ID: ");
    call_id(w, c);
    w.s("\r\nCSeq: 1 INVITE\r\nContact: <sip:1").u(c.seq % 1000000).s("@").hostport(a.caller);
    w.s(">\r\nUser-Agent: sipedge-loadgen\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\n");
    w.s("Content-Type: application/sdp\r\nContent-Length: ").u(sl).s("\r\n\r\n");
    w.s({sdp, sl});
    return sl ? w.size() : 0;
}

size_t build_in_dialog(char* out, size_t cap, const CallAddrs& a, CallRef c, bool ack,
                       std::string_view route, std::string_view to_tag) noexcept {
    Writer w(out, cap);
    w.s(ack ? "ACK" : "BYE").s(" sip:2").u(c.seq % 1000000).s("@").hostport(a.uas);
    w.s(" SIP/2.0\r\n");
    via(w, a, c, ack ? 'a' : 'b');
    if (!route.empty()) w.s("Route: ").s(route).s(crlf);
    w.s("Max-Forwards: 70\r\n");
    from(w, a, c);
    to(w, a, c, to_tag);
    w.s("Call-ID: ");
    call_id(w, c);
    w.s(ack ? "\r\nCSeq: 1 ACK\r\n" : "\r\nCSeq: 2 BYE\r\n");
    w.s("Content-Length: 0\r\n\r\n");
    return w.size();
}

size_t build_ack_non2xx(char* out, size_t cap, const CallAddrs& a, CallRef c,
                        std::string_view to_tag) noexcept {
    Writer w(out, cap);
    w.s("ACK sip:2").u(c.seq % 1000000).s("@").hostport(a.edge).s(" SIP/2.0\r\n");
    via(w, a, c, 'i');  // §17.1.1.3: the INVITE's branch
    w.s("Max-Forwards: 70\r\n");
    from(w, a, c);
    to(w, a, c, to_tag);
    w.s("Call-ID: ");
    call_id(w, c);
    w.s("\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n");
    return w.size();
}

size_t build_response(char* out, size_t cap, const char* req, const SipScan& s,
                      uint16_t status, std::string_view reason, Addr uas, uint32_t seq,
                      bool sdp) noexcept {
    char body[256];
    const size_t bl = sdp ? write_sdp(body, sizeof(body), uas.ip, seq) : 0;
    Writer w(out, cap);
    w.s("SIP/2.0 ").u(status).s(" ").s(reason).s(crlf);
    for (uint8_t i = 0; i < s.nvia; i++) w.s(s.via_line[i].str(req)).s(crlf);
    for (uint8_t i = 0; i < s.nrr; i++) w.s(s.rr_line[i].str(req)).s(crlf);
    w.s(s.from_line.str(req)).s(crlf);
    w.s(s.to_line.str(req));
    if (s.to_tag.len == 0 && status > 100) w.s(";tag=u").u(seq);
    w.s(crlf);
    w.s(s.call_id_line.str(req)).s(crlf);
    w.s(s.cseq_line.str(req)).s(crlf);
    if (status >= 101 && status < 300 && s.method == SipMethod::invite)
        w.s("Contact: <sip:2").u(seq % 1000000).s("@").hostport(uas).s(">\r\n");
    if (bl) w.s("Content-Type: application/sdp\r\n");
    w.s("Content-Length: ").u(bl).s("\r\n\r\n").s({body, bl});
    return w.size();
}

}  // namespace sipedge::bench
