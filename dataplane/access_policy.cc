// Record-Route token (SipHash-2-4) and the ring of stateless rejections
// awaiting their ACK (issue 16; see access_policy.h).

#include "dataplane/access_policy.h"

#include <array>
#include <bit>
#include <cstring>
#include <new>

#include "dataplane/hex8.h"

namespace sipedge::dp {

namespace {

constexpr uint64_t rotl(uint64_t x, int b) noexcept { return (x << b) | (x >> (64 - b)); }

struct SipState {
    uint64_t v0, v1, v2, v3;
    SipState(const uint64_t k[2]) noexcept
        : v0(k[0] ^ 0x736f6d6570736575ull), v1(k[1] ^ 0x646f72616e646f6dull),
          v2(k[0] ^ 0x6c7967656e657261ull), v3(k[1] ^ 0x7465646279746573ull) {}
    void round() noexcept {
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    }
    void word(uint64_t m) noexcept {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
    uint64_t finish(uint64_t last) noexcept {
        word(last);
        v2 ^= 0xff;
        round();
        round();
        round();
        round();
        return v0 ^ v1 ^ v2 ^ v3;
    }
};

uint64_t load_le(const unsigned char* p, size_t n) noexcept {
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) w |= uint64_t(p[i]) << (8 * i);
    return w;
}

uint64_t load_le8(const unsigned char* p) noexcept {
    uint64_t w;
    std::memcpy(&w, p, 8);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    return w;
}

// SipHash over the concatenation of several pieces, without copying them.
// Whole words go straight from the piece; only a piece's ragged ends pass
// through buf_ (a Call-ID and a tag: ~7 words, no per-word copy).
class SipStream {
public:
    explicit SipStream(const uint64_t k[2]) noexcept : s_(k) {}
    void put(const void* data, size_t n) noexcept {
        const auto* p = static_cast<const unsigned char*>(data);
        total_ += n;
        if (fill_) {
            const size_t take = n < 8 - fill_ ? n : 8 - fill_;
            std::memcpy(buf_ + fill_, p, take);
            fill_ += take, p += take, n -= take;
            if (fill_ < 8) return;
            s_.word(load_le8(buf_));
            fill_ = 0;
        }
        for (; n >= 8; p += 8, n -= 8) s_.word(load_le8(p));
        if (n) std::memcpy(buf_, p, n), fill_ = n;
    }
    uint64_t done() noexcept { return s_.finish(load_le(buf_, fill_) | uint64_t(total_ & 0xff) << 56); }

private:
    SipState s_;
    unsigned char buf_[8] = {};
    size_t fill_ = 0;
    uint64_t total_ = 0;
};

// Hex digit values, -1 for any other byte.
constexpr auto hex_table = [] {
    std::array<int8_t, 256> t{};
    for (int c = 0; c < 256; c++)
        t[size_t(c)] = int8_t(c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                     : -1);
    return t;
}();

int hexval(char c) noexcept { return hex_table[uint8_t(c)]; }

constexpr char hexd[] = "0123456789abcdef";

}  // namespace

uint64_t siphash24(const uint64_t key[2], const void* data, size_t n) noexcept {
    SipStream s(key);
    s.put(data, n);
    return s.done();
}

uint64_t rr_token(const uint64_t key[2], std::string_view call_id, std::string_view tag) noexcept {
    // Length-prefixed Call-ID, then the tag: ("ab","c") and ("a","bc") differ.
    SipStream s(key);
    const unsigned char len[4] = {uint8_t(call_id.size()), uint8_t(call_id.size() >> 8),
                                  uint8_t(call_id.size() >> 16), uint8_t(call_id.size() >> 24)};
    s.put(len, 4);
    s.put(call_id.data(), call_id.size());
    s.put(tag.data(), tag.size());
    return s.done();
}

void rr_token_hex(uint64_t t, char out[rr_token_len]) noexcept {
    static_assert(rr_token_len == 16);
    put_hex8(out, uint32_t(t >> 32));
    put_hex8(out + 8, uint32_t(t));
}

bool rr_token_parse(std::string_view s, uint64_t& t) noexcept {
    uint32_t hi, lo;
    if (s.size() != rr_token_len || !get_hex8(s.data(), hi, true) || !get_hex8(s.data() + 8, lo, true))
        return false;
    t = uint64_t(hi) << 32 | lo;
    return true;
}

namespace {

// Keys for the tag and the keystream, apart from the Record-Route token's.
void hide_keys(const uint64_t key[2], uint64_t tag_key[2], uint64_t ks_key[2]) noexcept {
    tag_key[0] = key[0] ^ 0x746f706f2d746167ull, tag_key[1] = key[1] ^ 0x6869646520746167ull;
    ks_key[0] = key[0] ^ 0x746f706f2d6b6579ull, ks_key[1] = key[1] ^ 0x6869646520737472ull;
}

void hide_plain(uint32_t ip, uint16_t port, unsigned char p[6]) noexcept {
    p[0] = uint8_t(ip >> 24), p[1] = uint8_t(ip >> 16), p[2] = uint8_t(ip >> 8), p[3] = uint8_t(ip);
    p[4] = uint8_t(port >> 8), p[5] = uint8_t(port);
}

uint32_t hide_tag(const uint64_t tag_key[2], const unsigned char p[6]) noexcept {
    return uint32_t(siphash24(tag_key, p, 6));
}

uint64_t hide_stream(const uint64_t ks_key[2], uint32_t tag) noexcept {
    const unsigned char t[4] = {uint8_t(tag >> 24), uint8_t(tag >> 16), uint8_t(tag >> 8), uint8_t(tag)};
    return siphash24(ks_key, t, 4);
}

}  // namespace

void hide_encode(const uint64_t key[2], uint32_t ip, uint16_t port, char out[hide_len]) noexcept {
    uint64_t tk[2], kk[2];
    hide_keys(key, tk, kk);
    unsigned char p[6];
    hide_plain(ip, port, p);
    const uint32_t tag = hide_tag(tk, p);
    const uint64_t ks = hide_stream(kk, tag);
    unsigned char c[10];
    for (int i = 0; i < 6; i++) c[i] = uint8_t(p[i] ^ uint8_t(ks >> (8 * i)));
    c[6] = uint8_t(tag >> 24), c[7] = uint8_t(tag >> 16), c[8] = uint8_t(tag >> 8), c[9] = uint8_t(tag);
    for (int i = 0; i < 10; i++) {
        out[2 * i] = hexd[c[i] >> 4];
        out[2 * i + 1] = hexd[c[i] & 0xf];
    }
}

bool hide_decode(const uint64_t key[2], std::string_view s, uint32_t& ip, uint16_t& port) noexcept {
    if (s.size() != hide_len) return false;
    unsigned char c[10];
    for (int i = 0; i < 10; i++) {
        const int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        c[i] = uint8_t(hi << 4 | lo);
    }
    uint64_t tk[2], kk[2];
    hide_keys(key, tk, kk);
    const uint32_t tag = uint32_t(c[6]) << 24 | uint32_t(c[7]) << 16 | uint32_t(c[8]) << 8 | c[9];
    const uint64_t ks = hide_stream(kk, tag);
    unsigned char p[6];
    for (int i = 0; i < 6; i++) p[i] = uint8_t(c[i] ^ uint8_t(ks >> (8 * i)));
    if (hide_tag(tk, p) != tag) return false;
    ip = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
    port = uint16_t(p[4] << 8 | p[5]);
    return ip != 0 && port != 0;
}

RejectRing::~RejectRing() { delete[] e_; }

bool RejectRing::init(uint32_t size, uint32_t first) noexcept {
    uint32_t n = 1;
    while (n < size && n < (1u << 24)) n <<= 1;
    delete[] e_;
    e_ = new (std::nothrow) Entry[n];
    if (!e_) return false;
    mask_ = n - 1;
    next_ = first;
    return true;
}

uint32_t RejectRing::add(failover::Millis now, uint32_t life_ms, bool& overwrote) noexcept {
    const uint32_t tag = next_++;
    Entry& e = e_[tag & mask_];
    overwrote = e.used && e.expires > now;
    e.tag = tag;
    e.used = true;
    e.expires = now + life_ms;
    return tag;
}

bool RejectRing::has(uint32_t tag, failover::Millis now) const noexcept {
    if (!e_) return false;
    const Entry& e = e_[tag & mask_];
    return e.used && e.tag == tag && e.expires > now;
}

void RejectRing::format(uint32_t tag, char out[tag_len]) noexcept {
    out[0] = 's';
    out[1] = 'r';
    for (int i = 0; i < 8; i++) out[2 + i] = hexd[(tag >> (28 - 4 * i)) & 0xf];
}

bool RejectRing::parse(std::string_view s, uint32_t& tag) noexcept {
    if (s.size() != tag_len || s[0] != 's' || s[1] != 'r') return false;
    uint32_t v = 0;
    for (size_t i = 2; i < tag_len; i++) {
        const int h = hexval(s[i]);
        if (h < 0 || (s[i] >= 'A' && s[i] <= 'F')) return false;
        v = v << 4 | uint32_t(h);
    }
    tag = v;
    return true;
}

}  // namespace sipedge::dp
