// The Record-Route token's keyed hash (SipHash-2-4 against the reference
// vectors), its text form, and the ring of stateless rejections awaiting
// their ACK (dataplane/access_policy.h, issue 16).

#include "dataplane/access_policy.h"

#include <gtest/gtest.h>

#include <string>

namespace sipedge::dp {
namespace {

// SipHash-2-4 paper, appendix A: key 00..0f, messages 00, 00 01, ... (64-bit output).
TEST(SipHash, ReferenceVectors) {
    const uint64_t key[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
    unsigned char msg[64];
    for (int i = 0; i < 64; i++) msg[i] = uint8_t(i);
    EXPECT_EQ(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ull);
    EXPECT_EQ(siphash24(key, msg, 1), 0x74f839c593dc67fdull);
    EXPECT_EQ(siphash24(key, msg, 8), 0x93f5f5799a932462ull);
    EXPECT_EQ(siphash24(key, msg, 15), 0xa129ca6149be45e5ull);
    EXPECT_EQ(siphash24(key, msg, 63), 0x958a324ceb064572ull);
}

// rr_token hashes its pieces as a stream (whole words straight from each
// piece, the ragged ends buffered): the same value as SipHash over the
// concatenation, for every split of the words.
TEST(RrToken, IsSipHashOfTheLengthPrefixedConcatenation) {
    const uint64_t key[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
    std::string text;
    for (int i = 0; i < 40; i++) text.push_back(char('a' + i % 26));
    for (size_t c = 0; c <= 25; c++)
        for (size_t t = 0; t <= 17; t++) {
            const std::string_view cid(text.data(), c), tag(text.data() + 3, t);
            std::string cat{char(c), 0, 0, 0};
            cat.append(cid).append(tag);
            EXPECT_EQ(rr_token(key, cid, tag), siphash24(key, cat.data(), cat.size())) << c << " " << t;
        }
}

TEST(RrToken, DependsOnKeyCallIdAndTagAndRoundTrips) {
    const uint64_t k1[2] = {1, 2}, k2[2] = {1, 3};
    const uint64_t t = rr_token(k1, "call@host", "tag1");
    EXPECT_EQ(t, rr_token(k1, "call@host", "tag1"));
    EXPECT_NE(t, rr_token(k2, "call@host", "tag1"));
    EXPECT_NE(t, rr_token(k1, "call@hosT", "tag1"));
    EXPECT_NE(t, rr_token(k1, "call@host", "tag2"));
    EXPECT_NE(rr_token(k1, "ab", "c"), rr_token(k1, "a", "bc"));  // length-prefixed
    char hex[rr_token_len];
    rr_token_hex(t, hex);
    uint64_t back = 0;
    ASSERT_TRUE(rr_token_parse(std::string_view(hex, rr_token_len), back));
    EXPECT_EQ(back, t);
    EXPECT_FALSE(rr_token_parse("0123456789abcdeg", back));
    EXPECT_FALSE(rr_token_parse("g123456789abcdef", back));
    EXPECT_FALSE(rr_token_parse("01234567 9abcdef", back));
    EXPECT_TRUE(rr_token_parse("0123456789ABCDEF", back));
    EXPECT_EQ(back, 0x0123456789abcdefull);
    EXPECT_FALSE(rr_token_parse("0123456789abcde", back));    // short
    EXPECT_FALSE(rr_token_parse("0123456789abcdef0", back));  // long
    EXPECT_FALSE(rr_token_parse("0123456789abcdeg", back));   // not hex
}

// Every byte at every position of a token: the hex digits of either case
// are taken and valued, every other byte refused; hex written lower case.
TEST(RrToken, EveryByteAtEveryPositionIsCheckedAndValued) {
    const std::string good = "0123456789abcdef";
    for (size_t pos = 0; pos < rr_token_len; pos++)
        for (int c = 0; c < 256; c++) {
            std::string s = good;
            s[pos] = char(c);
            const int val = c >= '0' && c <= '9'   ? c - '0'
                            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                   : -1;
            uint64_t t = 0;
            ASSERT_EQ(rr_token_parse(s, t), val >= 0) << pos << " " << c;
            if (val < 0) continue;
            const int shift = int(60 - 4 * pos);
            ASSERT_EQ(t, (0x0123456789abcdefull & ~(0xfull << shift)) | uint64_t(val) << shift) << pos << " " << c;
        }
    for (uint64_t t : {0ull, ~0ull, 0x0123456789abcdefull, 0xfedcba9876543210ull, 0xa0a0a0a00a0a0a0aull}) {
        char hex[rr_token_len];
        rr_token_hex(t, hex);
        for (char c : hex) ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << t;
        uint64_t back = 0;
        ASSERT_TRUE(rr_token_parse(std::string_view(hex, rr_token_len), back));
        EXPECT_EQ(back, t);
    }
}

// Topology hiding (issue 16): the ;sxh= value round-trips under its key only,
// hides the address, and any change is refused.
TEST(HideCode, RoundTripsUnderItsKeyAndRefusesAnythingElse) {
    const uint64_t k1[2] = {1, 2}, k2[2] = {1, 3};
    char c[hide_len];
    hide_encode(k1, 0xc0000201u, 5062, c);
    const std::string code(c, hide_len);
    EXPECT_EQ(code.find_first_not_of("0123456789abcdef"), std::string::npos) << code;
    EXPECT_EQ(code.find("c0000201"), std::string::npos) << code;  // not the address in clear
    uint32_t ip = 0;
    uint16_t port = 0;
    ASSERT_TRUE(hide_decode(k1, code, ip, port));
    EXPECT_EQ(ip, 0xc0000201u);
    EXPECT_EQ(port, 5062);
    EXPECT_FALSE(hide_decode(k2, code, ip, port));  // another key
    char d[hide_len];
    hide_encode(k1, 0xc0000202u, 5062, d);
    EXPECT_NE(std::string(d, hide_len), code);  // another address, another value
    hide_encode(k1, 0xc0000201u, 5062, d);
    EXPECT_EQ(std::string(d, hide_len), code);  // deterministic
    for (size_t i = 0; i < hide_len; i++) {      // every digit flipped: refused
        std::string bad = code;
        bad[i] = bad[i] == '0' ? '1' : '0';
        EXPECT_FALSE(hide_decode(k1, bad, ip, port)) << i;
    }
    EXPECT_FALSE(hide_decode(k1, code.substr(1), ip, port));
    EXPECT_FALSE(hide_decode(k1, code + "0", ip, port));
    EXPECT_FALSE(hide_decode(k1, std::string(hide_len, 'g'), ip, port));
}

TEST(RejectRing, RemembersEachTagForItsLifetimeAndCountsEarlyReuse) {
    RejectRing r;
    ASSERT_TRUE(r.init(4, 0xfffffffe));  // wraps the 32-bit tag space too
    bool over = true;
    const uint32_t a = r.add(0, 1000, over);
    EXPECT_FALSE(over);
    const uint32_t b = r.add(0, 1000, over);
    EXPECT_NE(a, b);
    EXPECT_TRUE(r.has(a, 999));
    EXPECT_FALSE(r.has(a, 1000));  // expired
    EXPECT_FALSE(r.has(a + 100, 0));
    char text[RejectRing::tag_len];
    RejectRing::format(b, text);
    uint32_t back = 0;
    ASSERT_TRUE(RejectRing::parse(std::string_view(text, RejectRing::tag_len), back));
    EXPECT_EQ(back, b);
    EXPECT_FALSE(RejectRing::parse("se00000001", back));   // a plain tag of ours
    EXPECT_FALSE(RejectRing::parse("sr0000000", back));    // short
    EXPECT_FALSE(RejectRing::parse("sr0000000G", back));
    EXPECT_FALSE(RejectRing::parse("sr000000AB", back));   // we write lower case
    // Four slots: the fifth and sixth tags reuse the first two slots, live
    // until 1000: counted; the old tags are gone, the new ones are there.
    r.add(0, 1000, over);
    r.add(0, 1000, over);
    uint32_t e = r.add(500, 1000, over);
    EXPECT_TRUE(over);
    EXPECT_FALSE(r.has(a, 500));
    EXPECT_TRUE(r.has(e, 1400));
    e = r.add(2000, 1000, over);  // slot of b, expired at 1000: not counted
    EXPECT_FALSE(over);
    EXPECT_TRUE(r.has(e, 2000));
}

}  // namespace
}  // namespace sipedge::dp
