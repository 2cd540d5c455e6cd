// Branch values sipedge writes: encode/decode round trip and owner lookup.

#include "dataplane/branch.h"

#include <gtest/gtest.h>

#include <string>

namespace sipedge::dp {
namespace {

std::string enc(const BranchId& id) {
    char buf[branch_len];
    const size_t n = encode_branch(id, buf);
    return std::string(buf, n);
}

TEST(Branch, EncodesFixedWidthWithMagicCookie) {
    BranchId id{.slot = 0x12345678, .nonce = 0xdeadbeef, .generation = 0xbeef, .core = 3, .attempt = 2};
    const std::string s = enc(id);
    EXPECT_EQ(s, "z9hG4bKsE0312345678beef02deadbeef");
    EXPECT_EQ(s.size(), branch_len);
    BranchId back;
    ASSERT_TRUE(decode_branch(s, back));
    EXPECT_EQ(back, id);
    EXPECT_EQ(branch_owner(s), 3);
}

TEST(Branch, RoundTripsExtremes) {
    for (uint8_t core : {uint8_t(0), uint8_t(1), uint8_t(127), control_core}) {
        BranchId id{.slot = 0xffffffffu, .nonce = 0, .generation = 0xffff, .core = core, .attempt = 0xff};
        BranchId back;
        ASSERT_TRUE(decode_branch(enc(id), back));
        EXPECT_EQ(back, id);
    }
    BranchId zero;
    BranchId back;
    ASSERT_TRUE(decode_branch(enc(zero), back));
    EXPECT_EQ(back, zero);
}

TEST(Branch, RollOverChangesTheBranchNotTheOwner) {
    BranchId a{.slot = 7, .nonce = 99, .generation = 1, .core = 5, .attempt = 0};
    BranchId b = a;
    b.attempt = 1;
    EXPECT_NE(enc(a), enc(b));
    EXPECT_EQ(branch_owner(enc(b)), 5);
}

TEST(Branch, RejectsForeignBranches) {
    const std::string good = enc(BranchId{.slot = 1, .nonce = 2, .generation = 3, .core = 4, .attempt = 5});
    BranchId out;
    EXPECT_FALSE(decode_branch("z9hG4bK776asdhds", out));               // another UA's
    EXPECT_FALSE(decode_branch("", out));
    EXPECT_FALSE(decode_branch(good + "x", out));                        // longer
    EXPECT_FALSE(decode_branch(good.substr(0, branch_len - 1), out));    // shorter
    std::string upper = good;
    upper[branch_len - 1] = 'A';                                          // we write lower case
    upper[branch_len - 2] = 'F';
    EXPECT_FALSE(decode_branch(upper, out));
    std::string cookie = good;
    cookie[0] = 'Z';
    EXPECT_FALSE(decode_branch(cookie, out));
    std::string marker = good;
    marker[7] = 'x';
    EXPECT_FALSE(decode_branch(marker, out));
    std::string junk = good;
    junk[12] = 'g';
    EXPECT_FALSE(decode_branch(junk, out));
    EXPECT_EQ(branch_owner("z9hG4bK-no"), -1);
}

// Every byte at every hex position: only our lower-case digits decode, and
// to the value they spell.
TEST(Branch, EveryByteAtEveryHexPositionIsCheckedAndValued) {
    const BranchId id{.slot = 0x89abcdef, .nonce = 0x01234567, .generation = 0x4567, .core = 0x9a, .attempt = 0xbc};
    const std::string good = enc(id);
    EXPECT_EQ(good, "z9hG4bKsE9a89abcdef4567bc01234567");
    for (size_t pos = 9; pos < branch_len; pos++)
        for (int c = 0; c < 256; c++) {
            std::string s = good;
            s[pos] = char(c);
            BranchId out;
            const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
            ASSERT_EQ(decode_branch(s, out), hex) << pos << " " << c;
            if (hex) {
                EXPECT_EQ(enc(out), s);
            }
        }
}

}  // namespace
}  // namespace sipedge::dp
