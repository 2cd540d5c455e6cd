#include "dataplane/txn_key.h"

#include <cstring>

namespace sipedge::dp {

namespace {

constexpr uint64_t k1 = 0x9e3779b97f4a7c15ull;
constexpr uint64_t k2 = 0xc2b2ae3d27d4eb4full;
constexpr uint64_t k3 = 0x165667b19e3779f9ull;

constexpr uint64_t rotl(uint64_t x, int r) noexcept { return (x << r) | (x >> (64 - r)); }

// MurmurHash3 fmix64 finaliser: full avalanche of the lane state.
constexpr uint64_t fmix(uint64_t h) noexcept {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

// Two independent lanes over the same bytes, 8 bytes per step. Every field is
// length-prefixed so ("ab","c") and ("a","bc") differ.
class KeyHasher {
public:
    explicit KeyHasher(uint64_t seed) noexcept : a_(seed ^ k1), b_(rotl(seed, 29) ^ k2) {}

    void word(uint64_t w) noexcept {
        a_ = rotl((a_ ^ w) * k1, 31) * k2;
        b_ = rotl((b_ ^ w) * k3, 27) * k1;
    }
    void bytes(const char* p, size_t n, bool lower = false) noexcept {
        word(n);
        for (; n >= 8; p += 8, n -= 8) word(load(p, 8, lower));
        if (n) word(load(p, n, lower));
    }
    void str(std::string_view s, bool lower = false) noexcept { bytes(s.data(), s.size(), lower); }

    uint64_t first() const noexcept { return fmix(a_ ^ rotl(b_, 17)); }
    uint32_t second() const noexcept { return uint32_t(fmix(b_ + k3) >> 16); }

private:
    static uint64_t load(const char* p, size_t n, bool lower) noexcept {
        unsigned char t[8] = {};
        std::memcpy(t, p, n);
        if (lower)
            for (size_t i = 0; i < n; i++)
                if (t[i] >= 'A' && t[i] <= 'Z') t[i] = uint8_t(t[i] + 32);
        uint64_t w;
        std::memcpy(&w, t, 8);
        return w;
    }

    uint64_t a_, b_;
};

std::string_view view(const char* base, sip::Span s) noexcept { return s.str(base); }

void finish(KeyHasher& h, TxnKey& out) noexcept {
    out.hash = h.first();
    out.check = h.second();
}

// Method and, for extension methods, its name (RFC 3261 §17.2.3 compares the
// method itself, so FOO and BAR with one branch are different transactions).
void add_method(KeyHasher& h, sip::Method m, std::string_view name) noexcept {
    h.word(uint64_t(m));
    if (m == sip::Method::extension) h.str(name);
}

}  // namespace

uint32_t to_tag_hash(std::string_view tag, uint64_t seed) noexcept {
    if (tag.empty()) return 0;
    KeyHasher h(seed ^ 0x746f746167ull);  // "totag": a lane unrelated to the key's
    h.str(tag);
    const uint32_t v = h.second();
    return v ? v : 1;
}

TxnKey client_key(std::string_view branch, sip::Method m, uint64_t seed,
                  std::string_view method_name) noexcept {
    TxnKey k;
    KeyHasher h(seed);
    h.str(branch);  // RFC 3261 §17.1.3: the branch as sent (case-sensitive)
    add_method(h, m, method_name);
    k.method = m;
    k.flags = 0;
    finish(h, k);
    return k;
}

bool client_key(const sip::Message& rsp, const char* base, uint64_t seed, TxnKey& out) noexcept {
    if (rsp.is_request || !rsp.top_via.has_branch || rsp.top_via.branch.empty()) return false;
    // §17.1.3: top Via branch and CSeq method (a CANCEL's 200 must not match the INVITE).
    out = client_key(view(base, rsp.top_via.branch), rsp.cseq.method, seed,
                     view(base, rsp.cseq.method_name));
    return true;
}

namespace {

// §17.2.3 for a request whose method is treated as <m> (ACK → INVITE; CANCEL
// → INVITE when looking up the target of a CANCEL).
bool build_server_key(const sip::Message& req, const char* base, uint64_t seed, sip::Method m,
                      std::string_view method_name, TxnKey& out) noexcept {
    if (!req.is_request || req.via_count == 0) return false;
    const sip::Via& via = req.top_via;
    TxnKey k;
    KeyHasher h(seed);
    h.word(0x5e);  // server role: never equal to a client key of the same bytes
    if (via.rfc3261_branch) {
        // "the branch parameter in the request is equal to the one in the top
        // Via ... the sent-by value in the top Via of the request is equal to
        // the one in the request that created the transaction" and the method.
        h.str(view(base, via.branch));
        h.str(view(base, via.sent_by.host), true);  // host names are case-insensitive
        h.word(via.sent_by.has_port ? via.sent_by.port : 0);
        k.flags = txn_key_server;
    } else {
        // RFC 2543 fallback: Request-URI, To tag (non-INVITE), From tag,
        // Call-ID, CSeq number, top Via.
        h.str(view(base, req.request_uri));
        h.str(view(base, req.from.tag));
        h.str(view(base, req.call_id));
        h.word(req.cseq.number);
        h.str(view(base, via.all));
        const bool invite_family = m == sip::Method::invite;
        if (!invite_family) h.str(view(base, req.to.tag));
        k.to_tag = invite_family ? to_tag_hash(view(base, req.to.tag), seed) : 0;
        k.flags = txn_key_server | txn_key_rfc2543;
    }
    add_method(h, m, method_name);
    k.method = m;
    finish(h, k);
    out = k;
    return true;
}

}  // namespace

bool server_key(const sip::Message& req, const char* base, uint64_t seed, TxnKey& out) noexcept {
    if (!req.is_request) return false;
    // §17.2.3: "the method of the request matches the one that created the
    // transaction, except for ACK, where the method ... is INVITE".
    const sip::Method m = req.method == sip::Method::ack ? sip::Method::invite : req.method;
    return build_server_key(req, base, seed, m, view(base, req.method_name), out);
}

bool cancel_target_key(const sip::Message& cancel, const char* base, uint64_t seed,
                       TxnKey& out) noexcept {
    if (!cancel.is_request || cancel.method != sip::Method::cancel) return false;
    return build_server_key(cancel, base, seed, sip::Method::invite, {}, out);
}

}  // namespace sipedge::dp
