// Proxy core, topology hiding (issue 16, docs/security.md "Topology hiding"):
// toward a trunk with `topology-hiding on` the carrier sees sipedge only.
//
// - Requests to it leave with our Via alone: the access-side Via lines are
//   kept at the end of the client transaction's buffer (room()) and put back
//   into every response relayed upstream (and into the responses we generate
//   from the forwarded request: fail_upstream()). A dialog-creating request
//   leaves with our Record-Route alone; the access-side Record-Route lines
//   come back after ours in its 1xx/2xx, so the caller's route set is whole.
// - The first Contact names us (the interface toward the carrier) with the
//   access address in `;sxh=` (hide_encode(): encrypted and authenticated
//   under the Record-Route key). A request whose Request-URI names us with
//   such a parameter goes to the address it encodes with the original URI
//   restored; one we did not mint gets 404. A REGISTER's 200 gets the
//   Contact back as the registrant wrote it.
// - Responses going to such a carrier (requests it sent towards the access
//   side) get their Contact encoded and the Record-Route values above ours
//   (access-side proxies) cut.
// - Our Record-Route of a hidden dialog carries `;th`, so in-dialog requests
//   behind it are hidden whichever server the carrier's Contact names.
//
// Not hidden: Call-ID, From/To, SDP and other headers that may name hosts;
// in-dialog requests from a carrier go straight to the decoded Contact (the
// access-side Record-Routes it never saw are not re-inserted).

#include <algorithm>
#include <cstring>

#include "dataplane/inet.h"
#include "dataplane/proxy.h"
#include "sipparse/headers.h"

namespace sipedge::dp {

namespace {

// Index after the '\n' that ends header <h>'s last (possibly folded) line.
uint32_t line_end(const sip::Message& m, const char* d, const sip::Header& h) noexcept {
    const void* lf = std::memchr(d + h.value.end(), '\n', m.body.off - h.value.end());
    return lf ? uint32_t(static_cast<const char*>(lf) - d) + 1 : m.body.off;
}

// Bytes of every <id> line of <m>, each ending in CRLF (a bare LF gets its CR).
size_t lines_size(const sip::Message& m, const char* d, sip::HeaderId id) noexcept {
    size_t n = 0;
    for (const sip::Header* h = m.find(id); h; h = m.next(h)) {
        const uint32_t e = line_end(m, d, *h);
        n += e - h->name.off;
        if (e >= 2 && d[e - 1] == '\n' && d[e - 2] != '\r') n++;
    }
    return n;
}

size_t copy_lines(const sip::Message& m, const char* d, sip::HeaderId id, char* out) noexcept {
    size_t n = 0;
    for (const sip::Header* h = m.find(id); h; h = m.next(h)) {
        const uint32_t e = line_end(m, d, *h);
        const bool bare = e >= 2 && d[e - 1] == '\n' && d[e - 2] != '\r';
        const size_t body = e - h->name.off - (bare ? 1 : 0);
        std::memcpy(out + n, d + h->name.off, body);
        n += body;
        if (bare) {
            out[n++] = '\r';
            out[n++] = '\n';
        }
    }
    return n;
}

// Past host[:port] of <u> in <d>.
uint32_t host_end(const sip::Uri& u, const char* d) noexcept {
    uint32_t h1 = u.host.host.end();
    if (u.host.has_port && h1 < u.all.end() && d[h1] == ':') {
        h1++;
        while (h1 < u.all.end() && d[h1] >= '0' && d[h1] <= '9') h1++;
    }
    return h1;
}

bool is_param(std::string_view name, std::string_view want) noexcept {
    if (name.size() != want.size()) return false;
    for (size_t i = 0; i < want.size(); i++)
        if ((name[i] | 0x20) != want[i]) return false;
    return true;
}

struct Out {
    char* p;
    size_t cap;
    size_t n = 0;
    bool ok = true;
    void put(std::string_view s) noexcept {
        if (!ok || s.size() > cap - n) {
            ok = false;
            return;
        }
        std::memcpy(p + n, s.data(), s.size());
        n += s.size();
    }
};

}  // namespace

bool Proxy::hidden_carrier(uint32_t ip) const noexcept {
    if (!routes_ || routes_->hidden_count == 0) return false;
    return std::binary_search(routes_->hidden, routes_->hidden + routes_->hidden_count, ip);
}

size_t Proxy::room(const ClientSlot& c) const noexcept {
    return bufs_.capacity(c.t.c.buf) - c.hv_len - c.hr_len;
}

size_t Proxy::hidden_size(const char* d, bool dialog) const noexcept {
    return lines_size(msg_, d, sip::HeaderId::via) +
           (dialog ? lines_size(msg_, d, sip::HeaderId::record_route) : 0);
}

bool Proxy::hide_request(sip::Rewriter& rw, const char* d, uint8_t oif) noexcept {
    return rw.remove_all(sip::HeaderId::via) && hide_contact(rw, d, oif);
}

bool Proxy::hide_record_routes(sip::Rewriter& rw) noexcept {
    return !msg_.find(sip::HeaderId::record_route) || rw.remove_all(sip::HeaderId::record_route);
}

bool Proxy::keep_hidden(ClientSlot& c, const char* d, bool dialog) noexcept {
    const size_t hv = lines_size(msg_, d, sip::HeaderId::via);
    const size_t hr = dialog ? lines_size(msg_, d, sip::HeaderId::record_route) : 0;
    const size_t cap = bufs_.capacity(c.t.c.buf);
    if (hv + hr > 0xffff || hv + hr + bufs_.len(c.t.c.buf) > cap) return false;
    char* at = bufs_.data(c.t.c.buf) + cap - hv - hr;
    copy_lines(msg_, d, sip::HeaderId::via, at);
    if (hr) copy_lines(msg_, d, sip::HeaderId::record_route, at + hv);
    c.hv_len = uint16_t(hv);
    c.hr_len = uint16_t(hr);
    c.hide_up = true;
    return true;
}

bool Proxy::hide_contact(sip::Rewriter& rw, const char* d, uint8_t iface) noexcept {
    const sip::Header* h = msg_.find(sip::HeaderId::contact);
    if (!h) return true;
    sip::CommaList list(d, h->value);
    sip::Span v;
    sip::NameAddr na;
    sip::Uri u;
    if (!list.next(v) || !sip::parse_name_addr(d, v, na) || na.star) return true;
    Endpoint e;
    if (!sip::parse_uri(d, na.uri, u) ||
        (u.kind != sip::UriScheme::sip && u.kind != sip::UriScheme::sips) || !uri_endpoint(u, d, e)) {
        st_->hide_contact_kept++;
        return true;
    }
    char code[hide_len];
    hide_encode(cfg_.rr_key, e.ip, e.port, code);
    const uint32_t h1 = host_end(u, d);
    // Parameters end where the URI's headers ('?') begin.
    const uint32_t pend = u.headers.len ? u.headers.off - 1 : u.all.end();
    Out o{contact_, sizeof contact_};
    if (!na.angle) o.put("<");
    o.put({d + u.all.off, size_t(u.host.host.off - u.all.off)});  // scheme:user@
    o.put(host_of(iface, sip::Transport::udp));
    o.put({d + h1, pend - h1});                                    // ;params
    o.put(";");
    o.put(hide_param);
    o.put("=");
    o.put({code, hide_len});
    o.put({d + pend, u.all.end() - pend});                         // ?headers
    if (!na.angle) o.put(">");
    if (!o.ok) {
        st_->hide_contact_kept++;
        return true;
    }
    return rw.replace(na.uri, {contact_, o.n});
}

size_t Proxy::unhide_uri(const sip::Uri& u, const char* d, Endpoint& to, char* out, size_t cap) noexcept {
    Endpoint self;
    if (!uri_endpoint(u, d, self) || !is_self(self)) return 0;
    sip::ParamList pl(d, u.params);
    sip::Span name, value;
    while (pl.next(name, value)) {
        if (!is_param(name.str(d), hide_param)) continue;
        if (!hide_decode(cfg_.rr_key, value.str(d), to.ip, to.port)) return ~size_t(0);
        // The URI without ;sxh=..., with the encoded host:port.
        char host[24];
        size_t hl = format_ipv4(to.ip, host);
        host[hl++] = ':';
        char pb[6];
        size_t pl2 = 0;
        for (uint32_t p = to.port; p; p /= 10) pb[pl2++] = char('0' + p % 10);
        while (pl2) host[hl++] = pb[--pl2];
        const uint32_t h1 = host_end(u, d);
        const uint32_t cut0 = name.off - 1, cut1 = value.len ? value.end() : name.end();
        Out o{out, cap};
        o.put({d + u.all.off, size_t(u.host.host.off - u.all.off)});
        o.put({host, hl});
        o.put({d + h1, cut0 - h1});
        o.put({d + cut1, u.all.end() - cut1});
        return o.ok ? o.n : ~size_t(0);
    }
    return 0;
}

bool Proxy::unhide_response(sip::Rewriter& rw, const ClientSlot& c, const char* rsp, uint16_t status) noexcept {
    const char* kept = bufs_.data(c.t.c.buf) + bufs_.capacity(c.t.c.buf) - c.hv_len - c.hr_len;
    // Our Via is the only one the carrier saw: the access Vias take its place.
    bool ok = rw.insert_before_first(sip::HeaderId::via, {kept, c.hv_len}) && rw.remove_top_via();
    if (ok && c.hr_len && status > 100 && status < 300 && msg_.find(sip::HeaderId::record_route))
        ok = rw.insert_after_last(sip::HeaderId::record_route, {kept + c.hv_len, c.hr_len});
    if (!ok) return false;
    st_->hide_restored++;
    // A Contact we encoded (a registrar's 200 lists the bindings) as it was written.
    if (const sip::Header* h = msg_.find(sip::HeaderId::contact)) {
        sip::CommaList list(rsp, h->value);
        sip::Span v;
        sip::NameAddr na;
        sip::Uri u;
        Endpoint to;
        if (list.next(v) && sip::parse_name_addr(rsp, v, na) && !na.star && sip::parse_uri(rsp, na.uri, u)) {
            const size_t n = unhide_uri(u, rsp, to, contact_, sizeof contact_);
            if (n && n != ~size_t(0)) ok = rw.replace(na.uri, {contact_, n});
        }
    }
    return ok;
}

bool Proxy::hide_response(sip::Rewriter& rw, const ClientSlot& c, const char* rsp) noexcept {
    // Record-Route values above our first one: access-side proxies.
    constexpr int max_cut = 8;
    uint32_t cut[max_cut][2];
    int nc = 0;
    bool found = false;
    for (const sip::Header* h = msg_.find(sip::HeaderId::record_route); h && !found; h = msg_.next(h)) {
        sip::CommaList list(rsp, h->value);
        sip::Span v;
        uint32_t first = 0;
        bool any = false;
        while (list.next(v)) {
            sip::NameAddr na;
            sip::Uri u;
            Endpoint e;
            if (sip::parse_name_addr(rsp, v, na) && sip::parse_uri(rsp, na.uri, u) && uri_endpoint(u, rsp, e) &&
                is_self(e)) {
                found = true;
                if (any && nc < max_cut) cut[nc][0] = first, cut[nc++][1] = v.off;
                break;
            }
            if (!any) first = v.off;
            any = true;
        }
        if (!found && nc < max_cut) cut[nc][0] = h->name.off, cut[nc++][1] = line_end(msg_, rsp, *h);
    }
    bool ok = true;
    if (found)
        for (int i = 0; ok && i < nc; i++) ok = rw.cut(cut[i][0], cut[i][1]);
    if (ok) st_->hide_responses++;
    return ok && hide_contact(rw, rsp, c.in_if);
}

}  // namespace sipedge::dp
