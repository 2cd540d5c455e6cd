#include "failover/digest.h"

#include <cstring>

namespace sipedge::failover {

namespace {

inline uint32_t rol(uint32_t x, int c) noexcept { return (x << c) | (x >> (32 - c)); }
inline uint32_t ror(uint32_t x, int c) noexcept { return (x >> c) | (x << (32 - c)); }

bool ieq(std::string_view a, std::string_view lower) noexcept {
    if (a.size() != lower.size()) return false;
    for (size_t i = 0; i < a.size(); i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z') c = char(c + 32);
        if (c != lower[i]) return false;
    }
    return true;
}

void to_hex(const uint8_t* p, size_t n, char* out) noexcept {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
}

// RFC 1321 §3.4 per-round shift amounts and T[i] = floor(2^32·|sin(i+1)|).
constexpr int md5_s[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                           5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                           4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                           6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
constexpr uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};

// FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes.
constexpr uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

}  // namespace

// ---- MD5 (RFC 1321) ---------------------------------------------------------------

Md5::Md5() noexcept : h_{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476} {}

void Md5::block(const uint8_t* p) noexcept {
    uint32_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = uint32_t(p[4 * i]) | uint32_t(p[4 * i + 1]) << 8 | uint32_t(p[4 * i + 2]) << 16 |
               uint32_t(p[4 * i + 3]) << 24;
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
        else { f = c ^ (b | ~d); g = (7 * i) & 15; }
        const uint32_t t = d;
        d = c;
        c = b;
        b = b + rol(a + f + md5_k[i] + m[g], md5_s[i]);
        a = t;
    }
    h_[0] += a; h_[1] += b; h_[2] += c; h_[3] += d;
}

namespace {

// Merkle-Damgard buffering shared by MD5 and SHA-256: fills 64-byte blocks
// from <data>, hands each full one to <block>, counts every byte in <len>.
template <class Block>
void absorb(uint8_t buf[64], uint64_t& len, const void* data, size_t n, Block&& block) noexcept {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    size_t have = len & 63;
    len += n;
    while (n > 0) {
        const size_t take = (64 - have) < n ? (64 - have) : n;
        std::memcpy(buf + have, p, take);
        have += take; p += take; n -= take;
        if (have == 64) { block(buf); have = 0; }
    }
}

}  // namespace

void Md5::update(const void* data, size_t n) noexcept {
    absorb(buf_, len_, data, n, [this](const uint8_t* b) { block(b); });
}

void Md5::final(uint8_t out[16]) noexcept {
    const uint64_t bits = len_ * 8;
    const uint8_t pad = 0x80;
    update(&pad, 1);
    const uint8_t zero = 0;
    while ((len_ & 63) != 56) update(&zero, 1);
    uint8_t l[8];
    for (int i = 0; i < 8; i++) l[i] = uint8_t(bits >> (8 * i));  // little-endian length
    update(l, 8);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = uint8_t(h_[i] >> (8 * j));
}

void md5(const void* data, size_t n, uint8_t out[16]) noexcept {
    Md5 h;
    h.update(data, n);
    h.final(out);
}

// ---- SHA-256 (FIPS 180-4) -----------------------------------------------------------

Sha256::Sha256() noexcept
    : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::block(const uint8_t* p) noexcept {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 | uint32_t(p[4 * i + 2]) << 8 |
               uint32_t(p[4 * i + 3]);
    for (int i = 16; i < 64; i++) {
        const uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; i++) {
        const uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
        const uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h_[0] += a; h_[1] += b; h_[2] += c; h_[3] += d; h_[4] += e; h_[5] += f; h_[6] += g; h_[7] += h;
}

void Sha256::update(const void* data, size_t n) noexcept {
    absorb(buf_, len_, data, n, [this](const uint8_t* b) { block(b); });
}

void Sha256::final(uint8_t out[32]) noexcept {
    const uint64_t bits = len_ * 8;
    const uint8_t pad = 0x80;
    update(&pad, 1);
    const uint8_t zero = 0;
    while ((len_ & 63) != 56) update(&zero, 1);
    uint8_t l[8];
    for (int i = 0; i < 8; i++) l[i] = uint8_t(bits >> (56 - 8 * i));  // big-endian length
    update(l, 8);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = uint8_t(h_[i] >> (24 - 8 * j));
}

void sha256(const void* data, size_t n, uint8_t out[32]) noexcept {
    Sha256 h;
    h.update(data, n);
    h.final(out);
}

// ---- digest ---------------------------------------------------------------------------

DigestAlg digest_alg_from(std::string_view t) noexcept {
    if (t.empty() || ieq(t, "md5")) return DigestAlg::md5;
    if (ieq(t, "md5-sess")) return DigestAlg::md5_sess;
    if (ieq(t, "sha-256")) return DigestAlg::sha256;
    if (ieq(t, "sha-256-sess")) return DigestAlg::sha256_sess;
    return DigestAlg::unknown;
}

const char* digest_alg_name(DigestAlg a) noexcept {
    switch (a) {
    case DigestAlg::md5: return "MD5";
    case DigestAlg::md5_sess: return "MD5-sess";
    case DigestAlg::sha256: return "SHA-256";
    case DigestAlg::sha256_sess: return "SHA-256-sess";
    case DigestAlg::unknown: break;
    }
    return "";
}

namespace {

// Hex hash of the colon-joined <parts>; returns the hex length (32 or 64).
size_t hash_hex(bool sha, std::initializer_list<std::string_view> parts, char* out) noexcept {
    bool first = true;
    if (sha) {
        Sha256 h;
        for (std::string_view p : parts) {
            if (!first) h.update(":", 1);
            h.update(p.data(), p.size());
            first = false;
        }
        uint8_t d[32];
        h.final(d);
        to_hex(d, 32, out);
        return 64;
    }
    Md5 h;
    for (std::string_view p : parts) {
        if (!first) h.update(":", 1);
        h.update(p.data(), p.size());
        first = false;
    }
    uint8_t d[16];
    h.final(d);
    to_hex(d, 16, out);
    return 32;
}

}  // namespace

size_t digest_response(const DigestInput& in, char out[64]) noexcept {
    if (in.alg == DigestAlg::unknown) return 0;
    if (!in.qop.empty() && !ieq(in.qop, "auth")) return 0;
    const bool sha = in.alg == DigestAlg::sha256 || in.alg == DigestAlg::sha256_sess;
    const bool sess = in.alg == DigestAlg::md5_sess || in.alg == DigestAlg::sha256_sess;
    char ha1[64], ha2[64];
    // RFC 7616 §3.4.2: A1 = user:realm:pass; -sess: H(user:realm:pass):nonce:cnonce.
    size_t n1 = hash_hex(sha, {in.username, in.realm, in.password}, ha1);
    if (sess) n1 = hash_hex(sha, {std::string_view(ha1, n1), in.nonce, in.cnonce}, ha1);
    // §3.4.3: A2 = method:uri for qop=auth or no qop.
    const size_t n2 = hash_hex(sha, {in.method, in.uri}, ha2);
    if (in.qop.empty())  // RFC 2069 compatibility form, RFC 2617 §3.2.2.1
        return hash_hex(sha, {std::string_view(ha1, n1), in.nonce, std::string_view(ha2, n2)}, out);
    char nc[8];
    for (int i = 0; i < 8; i++) nc[i] = "0123456789abcdef"[(in.nc >> (28 - 4 * i)) & 15];
    return hash_hex(sha,
                    {std::string_view(ha1, n1), in.nonce, std::string_view(nc, 8), in.cnonce, in.qop,
                     std::string_view(ha2, n2)},
                    out);
}

bool choose_qop(std::string_view options, std::string_view& qop) noexcept {
    qop = {};
    if (options.empty()) return true;
    size_t i = 0;
    while (i < options.size()) {
        size_t j = options.find(',', i);
        if (j == std::string_view::npos) j = options.size();
        std::string_view tok = options.substr(i, j - i);
        while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) tok.remove_prefix(1);
        while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
        if (ieq(tok, "auth")) {
            qop = "auth";
            return true;
        }
        i = j + 1;
    }
    return false;
}

}  // namespace sipedge::failover
