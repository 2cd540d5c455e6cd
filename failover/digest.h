#pragma once
// HTTP Digest for SIP (RFC 3261 §22.4, RFC 7616, RFC 8760): MD5 and SHA-256
// hashes (RFC 1321, FIPS 180-4) written here so failover/ needs no crypto
// library, and the client-side response computation with qop=auth, nc and
// cnonce. Registration agent only (control thread); no allocation.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipedge::failover {

enum class DigestAlg : uint8_t { md5, md5_sess, sha256, sha256_sess, unknown };

/// Algorithm token of a challenge: absent → MD5 (RFC 7616 §3.3), "MD5",
/// "MD5-sess", "SHA-256", "SHA-256-sess" (case-insensitive); anything else
/// (SHA-512-256 included, which RFC 8760 allows but we do not implement) →
/// unknown, which the agent treats as an authentication failure.
DigestAlg digest_alg_from(std::string_view token) noexcept;
const char* digest_alg_name(DigestAlg a) noexcept;

/// RFC 1321 MD5 of data[0, n) into out[16].
void md5(const void* data, size_t n, uint8_t out[16]) noexcept;
/// FIPS 180-4 SHA-256 of data[0, n) into out[32].
void sha256(const void* data, size_t n, uint8_t out[32]) noexcept;

/// Incremental forms (the digest inputs are colon-joined pieces).
class Md5 {
public:
    Md5() noexcept;
    void update(const void* data, size_t n) noexcept;
    void final(uint8_t out[16]) noexcept;
private:
    void block(const uint8_t* p) noexcept;
    uint32_t h_[4];
    uint64_t len_ = 0;
    uint8_t buf_[64];
};
class Sha256 {
public:
    Sha256() noexcept;
    void update(const void* data, size_t n) noexcept;
    void final(uint8_t out[32]) noexcept;
private:
    void block(const uint8_t* p) noexcept;
    uint32_t h_[8];
    uint64_t len_ = 0;
    uint8_t buf_[64];
};

/// Inputs of one digest response (RFC 7616 §3.4.1). Empty qop means the
/// RFC 2069 form (no nc/cnonce).
struct DigestInput {
    DigestAlg alg = DigestAlg::md5;
    std::string_view username, realm, password, method, uri, nonce, cnonce, qop;
    uint32_t nc = 1;
};

/// Lower-case hex response into out (32 chars for MD5, 64 for SHA-256, no
/// NUL); returns its length, or 0 for DigestAlg::unknown or a qop other than
/// "" / "auth" (auth-int needs the body: not supported).
size_t digest_response(const DigestInput& in, char out[64]) noexcept;

/// Picks the qop we answer from a challenge's qop-options list ("auth",
/// "auth,auth-int"): "auth" when offered, "" when the challenge had none,
/// and false when only options we do not support were offered.
bool choose_qop(std::string_view options, std::string_view& qop) noexcept;

}  // namespace sipedge::failover
