// Proxy core, messages we write ourselves: the hop-by-hop ACK for a non-2xx
// final (§17.1.1.3), CANCEL (§9.1), stateless answers (§8.2.6), our Via.

#include <cstring>
#include <new>
#include <string_view>

#include "dataplane/proxy.h"
#include "sipparse/response.h"

namespace sipedge::dp {

namespace {

// Bounded appender: once something does not fit, everything after is refused.
struct Writer {
    char* p;
    size_t cap;
    size_t n = 0;
    bool ok = true;
    Writer& operator<<(std::string_view s) noexcept {
        if (!ok || s.size() > cap - n) {
            ok = false;
            return *this;
        }
        std::memcpy(p + n, s.data(), s.size());
        n += s.size();
        return *this;
    }
    Writer& num(uint32_t v) noexcept {
        char b[10];
        size_t k = 0;
        do b[k++] = char('0' + v % 10); while (v /= 10);
        while (k) *this << std::string_view(&b[--k], 1);
        return *this;
    }
    size_t done() const noexcept { return ok ? n : 0; }
};

// Every Route header of <m> (parsed from <d>) as its own line, in order.
void copy_routes(Writer& w, const sip::Message& m, const char* d) noexcept {
    for (const sip::Header* h = m.find(sip::HeaderId::route); h; h = m.next(h))
        w << "Route: " << h->value.str(d) << "\r\n";
}

std::string_view value_of(const sip::Message& m, const char* d, sip::HeaderId id) noexcept {
    const sip::Header* h = m.find(id);
    return h ? h->value.str(d) : std::string_view{};
}

}  // namespace

size_t Proxy::our_via(const BranchId& b, uint8_t iface, sip::Transport tp, char* out) const noexcept {
    Writer w{out, sizeof(via_)};
    w << (tp == sip::Transport::tcp   ? "SIP/2.0/TCP "
          : tp == sip::Transport::tls ? "SIP/2.0/TLS "
                                      : "SIP/2.0/UDP ")
      << host_of(iface, tp)
      << ";branch=";
    char br[branch_len];
    encode_branch(b, br);
    w << std::string_view(br, branch_len);  // last: callers find it at the end
    return w.done();
}

const char* Proxy::next_to_tag() noexcept {
    static constexpr char hex[] = "0123456789abcdef";
    const uint32_t v = ++nonce_;
    to_tag_[0] = 's';
    to_tag_[1] = 'e';
    for (int i = 0; i < 8; i++) to_tag_[2 + i] = hex[(v >> (28 - 4 * i)) & 0xf];
    to_tag_[10] = 0;
    return to_tag_;
}

void Proxy::send(Endpoint to, const char* d, size_t n, bool request, const SendNote* note) noexcept {
    if (request) st_->sip_requests_tx++;
    else st_->sip_responses_tx++;
    if (trace_on_) [[unlikely]] {
        // Only while someone traces: the sent message is re-parsed for its Call-ID.
        sip::Message m;
        sip::Span cid{};
        if (sip::parse(d, n, m) == sip::ParseStatus::ok) cid = m.call_id;
        trace(true, to, d, n, cid);
    }
    lost(out_.send(to, d, n, note));
}

// Copies one message into trace_buf_ for a trace action: <peer> is the
// source (received) or destination (sent); our own address is the other end.
// Head and Call-ID are truncated to their fields; never allocates.
void Proxy::trace(bool sent, Endpoint peer, const char* d, size_t n, sip::Span call_id) noexcept {
    TraceSample& t = trace_buf_;
    t.at_ms = now_;
    t.trunk_id = sent ? trace_trunk_ : 0xffffffffu;
    t.family = 4;
    t.dir = sent ? 1 : 0;
    t.core = core_;
    const Endpoint self{ifs_.ip[sent ? out_iface(peer.ip) : in_if_], cfg_.self.port};
    const Endpoint src = sent ? self : peer, dst = sent ? peer : self;
    std::memset(t.src, 0, sizeof t.src);
    std::memset(t.dst, 0, sizeof t.dst);
    for (int i = 0; i < 4; i++) {
        t.src[i] = uint8_t(src.ip >> (24 - 8 * i));
        t.dst[i] = uint8_t(dst.ip >> (24 - 8 * i));
    }
    t.src_port = src.port;
    t.dst_port = dst.port;
    t.msg_len = uint16_t(n > 0xffff ? 0xffff : n);
    t.head_len = uint16_t(n < sizeof t.head ? n : sizeof t.head);
    std::memcpy(t.head, d, t.head_len);
    size_t cl = call_id.len;
    if (size_t(call_id.off) + cl > n) cl = 0;
    if (cl > sizeof t.call_id) cl = sizeof t.call_id;
    t.call_id_len = uint8_t(cl);
    std::memcpy(t.call_id, d + call_id.off, cl);
    st_->trace_copied++;
    lost(out_.trace(t));
}

bool Proxy::reply_stateless(Endpoint to, const char* req, size_t n, uint16_t status,
                            const char* reason, bool partial) noexcept {
    sip::ResponseSpec spec;
    spec.status = status;
    spec.reason = reason;
    spec.partial = partial;
    // A rejection of an INVITE: a tag whose ACK is absorbed (proxy_policy.cc).
    if (status > 100) spec.to_tag = status >= 300 ? reject_tag(req, n) : next_to_tag();
    if (status == 503) spec.extra = retry_after_line(cfg_.retry_after_s);
    const size_t len = sip::make_response(req, n, spec, scratch2_, sizeof(scratch2_));
    if (len == 0) return false;  // not answerable (the drop is already counted)
    st_->responses_generated++;
    send(to, scratch2_, len, false);
    return true;
}

// "Retry-After: <seconds>\r\n" for a 503 of ours (RFC 3261 §20.33); empty
// for 0 (none configured).
std::string_view Proxy::retry_after_line(uint32_t seconds) noexcept {
    if (seconds == 0) return {};
    Writer w{retry_after_, sizeof(retry_after_)};
    w << "Retry-After: ";
    w.num(seconds) << "\r\n";
    return {retry_after_, w.done()};
}

// §17.1.1.3: ACK for a non-2xx final, built from the request we sent (its
// Request-URI, our Via, Route, From, Call-ID, CSeq number) and the response's To.
void Proxy::send_ack(uint32_t cs, uint16_t server, const char* rsp) noexcept {
    ClientSlot& C = cli(cs);
    const char* req = bufs_.data(C.t.c.buf);
    if (sip::parse(req, bufs_.len(C.t.c.buf), aux_) != sip::ParseStatus::ok) return;
    Writer w{scratch2_, sizeof(scratch2_)};
    w << "ACK " << aux_.request_uri.str(req) << " SIP/2.0\r\n"
      << "Via: " << aux_.top_via.all.str(req) << "\r\n";
    copy_routes(w, aux_, req);
    w << "From: " << value_of(aux_, req, sip::HeaderId::from) << "\r\n"
      << "To: " << value_of(msg_, rsp, sip::HeaderId::to) << "\r\n"
      << "Call-ID: " << aux_.call_id.str(req) << "\r\n"
      << "CSeq: ";
    w.num(aux_.cseq.number) << " ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    if (const size_t n = w.done()) send(client_dest(C, server), scratch2_, n, true, note_for(C, server));
}

// §9.1: CANCEL for the INVITE in <inv>: same Request-URI, Call-ID, To, From,
// CSeq number and Route, our Via with the INVITE's branch, as its own client
// transaction towards the server the INVITE is at.
void Proxy::start_cancel(uint32_t inv, const TxnAction* branch) noexcept {
    if (cli(inv).cancel != npos) {
        // One CANCEL per branch: a CANCEL of an earlier branch (provisional-
        // timeout rolled the INVITE over) is left to finish on its own.
        ClientSlot& old = cli(cli(inv).cancel);
        if (old.t.c.branch().attempt == (branch ? branch->attempt : cli(inv).t.c.branch().attempt))
            return;
        old.cancel = npos;
        cli(inv).cancel = npos;
    }
    const uint32_t k = alloc_slot(SlotKind::client);
    // Its lines are the INVITE's less the body and other headers, plus
    // Max-Forwards and a zero Content-Length.
    const size_t cap = bufs_.len(cli(inv).t.c.buf) + 64;
    const uint32_t buf = k == npos ? 0 : bufs_.alloc(cap < MsgPool::max_size ? cap : MsgPool::max_size);
    if (!buf) {
        if (k != npos) free_slot(k);
        st_->drop(DropReason::txn_exhausted);
        return;
    }
    ClientSlot& I = cli(inv);
    ClientSlot& K = cli(k);
    const char* req = bufs_.data(I.t.c.buf);
    if (sip::parse(req, bufs_.len(I.t.c.buf), aux_) != sip::ParseStatus::ok) {
        bufs_.release(buf);
        free_slot(k);
        return;
    }
    Writer w{bufs_.data(buf), bufs_.capacity(buf)};
    w << "CANCEL " << aux_.request_uri.str(req) << " SIP/2.0\r\n"
      << "Via: " << aux_.top_via.all.str(req) << "\r\n";
    copy_routes(w, aux_, req);
    w << "From: " << value_of(aux_, req, sip::HeaderId::from) << "\r\n"
      << "To: " << value_of(aux_, req, sip::HeaderId::to) << "\r\n"
      << "Call-ID: " << aux_.call_id.str(req) << "\r\n"
      << "CSeq: ";
    w.num(aux_.cseq.number) << " CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    new (&K.t.c) ClientTxn();
    K.t.c.buf = buf;
    bufs_.len(buf) = uint32_t(w.done());
    if (bufs_.len(buf) == 0) {
        free_slot(k);
        st_->drop(DropReason::sip_rewrite);
        return;
    }
    K.direct = true;  // to the INVITE's current server, whatever the table says now
    K.addr = I.addr;
    K.via_if = I.via_if;  // it copies the INVITE's Via
    K.nonce = I.nonce;
    K.peer = npos;  // its 200 is ours; the INVITE's 487 goes upstream
    K.cancel = inv;
    I.cancel = k;
    st_->txn_client_created++;
    TxnOut out;
    ClientTxn::Setup cs = cancel_setup(I.t.c, cfg_.t4_ms);
    if (branch) {  // §9.1: the branch and server of the INVITE being cancelled
        cs.branch.attempt = uint8_t(branch->attempt);
        cs.first_server = branch->server;
        cs.server_count = uint16_t(branch->server + 1);
    }
    K.t.c.start(cs, now_, out);
    run_client(k, out, nullptr, 0);
}

}  // namespace sipedge::dp
