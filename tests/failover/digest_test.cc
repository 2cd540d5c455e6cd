// MD5 (RFC 1321 §A.5), SHA-256 (FIPS 180-4 examples) and digest responses
// (RFC 2617 §3.5, RFC 7616 §3.9.1 MD5 and SHA-256).

#include "failover/digest.h"

#include <gtest/gtest.h>

#include <string>

using namespace sipedge::failover;

namespace {

std::string hex(const uint8_t* p, size_t n) {
    static const char h[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; i++) {
        s += h[p[i] >> 4];
        s += h[p[i] & 15];
    }
    return s;
}
std::string md5s(const std::string& in) {
    uint8_t d[16];
    md5(in.data(), in.size(), d);
    return hex(d, 16);
}
std::string sha(const std::string& in) {
    uint8_t d[32];
    sha256(in.data(), in.size(), d);
    return hex(d, 32);
}

}  // namespace

TEST(Digest, Md5Rfc1321TestSuite) {
    EXPECT_EQ(md5s(""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(md5s("a"), "0cc175b9c0f1b6a831c399e269772661");
    EXPECT_EQ(md5s("abc"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(md5s("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
    EXPECT_EQ(md5s("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
    EXPECT_EQ(md5s("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
              "d174ab98d277d9f5a5611c2c9f419d9f");
    EXPECT_EQ(md5s("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
              "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Digest, Sha256Fips180Examples) {
    EXPECT_EQ(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Digest, IncrementalEqualsOneShot) {
    const std::string s(200, 'x');
    for (size_t cut = 0; cut <= s.size(); cut += 7) {
        Sha256 h;
        h.update(s.data(), cut);
        h.update(s.data() + cut, s.size() - cut);
        uint8_t d[32];
        h.final(d);
        EXPECT_EQ(hex(d, 32), sha(s)) << cut;
    }
}

TEST(Digest, Rfc2617Section35) {
    DigestInput in;
    in.username = "Mufasa";
    in.realm = "testrealm@host.com";
    in.password = "Circle Of Life";
    in.method = "GET";
    in.uri = "/dir/index.html";
    in.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
    in.cnonce = "0a4f113b";
    in.qop = "auth";
    in.nc = 1;
    char out[64];
    ASSERT_EQ(digest_response(in, out), 32u);
    EXPECT_EQ(std::string(out, 32), "6629fae49393a05397450978507c4ef1");
}

TEST(Digest, Rfc7616Section391Md5AndSha256) {
    DigestInput in;
    in.username = "Mufasa";
    in.realm = "http-auth@example.org";
    in.password = "Circle of Life";
    in.method = "GET";
    in.uri = "/dir/index.html";
    in.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    in.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    in.qop = "auth";
    in.nc = 1;
    char out[64];
    in.alg = DigestAlg::md5;
    ASSERT_EQ(digest_response(in, out), 32u);
    EXPECT_EQ(std::string(out, 32), "8ca523f5e9506fed4657c9700eebdbec");
    in.alg = DigestAlg::sha256;
    in.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    ASSERT_EQ(digest_response(in, out), 64u);
    EXPECT_EQ(std::string(out, 64), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(Digest, AlgorithmAndQopChoice) {
    EXPECT_EQ(digest_alg_from(""), DigestAlg::md5);
    EXPECT_EQ(digest_alg_from("sha-256"), DigestAlg::sha256);
    EXPECT_EQ(digest_alg_from("SHA-256-sess"), DigestAlg::sha256_sess);
    EXPECT_EQ(digest_alg_from("SHA-512-256"), DigestAlg::unknown);
    std::string_view q;
    EXPECT_TRUE(choose_qop("auth-int, auth", q));
    EXPECT_EQ(q, "auth");
    EXPECT_TRUE(choose_qop("", q));
    EXPECT_EQ(q, "");
    EXPECT_FALSE(choose_qop("auth-int", q));
    DigestInput in;
    in.qop = "auth-int";
    char out[64];
    EXPECT_EQ(digest_response(in, out), 0u);
    in.qop = "auth";
    in.alg = DigestAlg::unknown;
    EXPECT_EQ(digest_response(in, out), 0u);
}
