// base/decimal.h: the one bounded decimal parser (issue 13).

#include "base/decimal.h"

#include <cstdint>
#include <string_view>

#include <gtest/gtest.h>

namespace sipedge {
namespace {

constexpr uint64_t u64_max = UINT64_MAX;

DecimalStatus st(std::string_view s, uint64_t max = u64_max, LeadingZeros lz = LeadingZeros::refuse) {
    uint64_t v = 12345;
    const DecimalStatus r = decimal_status(s, max, v, lz);
    if (r != DecimalStatus::ok) {
        EXPECT_EQ(v, 12345u) << "out written on a refusal: '" << s << "'";
    }
    return r;
}

uint64_t val(std::string_view s, uint64_t max = u64_max, LeadingZeros lz = LeadingZeros::refuse) {
    uint64_t v = 0;
    EXPECT_EQ(decimal_status(s, max, v, lz), DecimalStatus::ok) << s;
    return v;
}

// Usable in constant expressions (and so on the fast path with no runtime cost for literals).
constexpr uint64_t ce(std::string_view s) {
    uint64_t v = 0;
    return parse_decimal(s, u64_max, v) ? v : ~uint64_t(0);
}
static_assert(ce("5060") == 5060);
static_assert(ce("") == ~uint64_t(0));

TEST(BaseDecimal, Digits) {
    EXPECT_EQ(val("0"), 0u);
    EXPECT_EQ(val("7"), 7u);
    EXPECT_EQ(val("5060"), 5060u);
    EXPECT_EQ(val("1234567890"), 1234567890u);
}

TEST(BaseDecimal, EmptyIsInvalid) {
    EXPECT_EQ(st(""), DecimalStatus::invalid);
    EXPECT_EQ(st("", u64_max, LeadingZeros::accept), DecimalStatus::invalid);
    uint64_t v = 0;
    EXPECT_FALSE(parse_decimal("", 10, v));
}

TEST(BaseDecimal, NonDigitIsInvalid) {
    for (const char* s : {"a", "12a", "a12", "1.5", "1e3", "0x10", "1_000", "1,000", "٣"})
        EXPECT_EQ(st(s), DecimalStatus::invalid) << s;
    EXPECT_EQ(st(std::string_view("1\0" "2", 3)), DecimalStatus::invalid);  // embedded NUL
}

TEST(BaseDecimal, SignAndBlankAreInvalid) {
    for (const char* s : {"+1", "-1", "-0", "+0", " 1", "1 ", "1 2", "\t1", "1\n"})
        EXPECT_EQ(st(s), DecimalStatus::invalid) << s;
}

TEST(BaseDecimal, OverflowAt2To64) {
    EXPECT_EQ(val("18446744073709551615"), u64_max);                        // 2^64 - 1
    EXPECT_EQ(st("18446744073709551616"), DecimalStatus::out_of_range);     // 2^64
    EXPECT_EQ(st("18446744073709551620"), DecimalStatus::out_of_range);
    EXPECT_EQ(st("99999999999999999999"), DecimalStatus::out_of_range);
    EXPECT_EQ(st("184467440737095516150"), DecimalStatus::out_of_range);
    EXPECT_EQ(st("100000000000000000000000000000"), DecimalStatus::out_of_range);
    // A non-digit after the overflow still makes the word invalid, not "out of range".
    EXPECT_EQ(st("18446744073709551616x"), DecimalStatus::invalid);
}

TEST(BaseDecimal, Max) {
    EXPECT_EQ(val("255", 255), 255u);
    EXPECT_EQ(st("256", 255), DecimalStatus::out_of_range);
    EXPECT_EQ(st("1000", 255), DecimalStatus::out_of_range);
    EXPECT_EQ(st("256x", 255), DecimalStatus::invalid);
    EXPECT_EQ(val("0", 0), 0u);
    EXPECT_EQ(st("1", 0), DecimalStatus::out_of_range);
    EXPECT_EQ(st("9", 8), DecimalStatus::out_of_range);
    EXPECT_EQ(val("8", 8), 8u);
    EXPECT_EQ(val("32", 32), 32u);
    EXPECT_EQ(st("33", 32), DecimalStatus::out_of_range);
    EXPECT_EQ(st("18446744073709551615", u64_max - 1), DecimalStatus::out_of_range);
    EXPECT_EQ(val("18446744073709551614", u64_max - 1), u64_max - 1);
}

TEST(BaseDecimal, LeadingZerosRefusedByDefault) {
    EXPECT_EQ(val("0"), 0u);  // "0" alone is not a leading zero
    for (const char* s : {"00", "007", "0255", "01", "000000000000000000001"})
        EXPECT_EQ(st(s), DecimalStatus::invalid) << s;
    EXPECT_EQ(st("00", 0), DecimalStatus::invalid);
}

TEST(BaseDecimal, LeadingZerosAcceptedOnRequest) {
    const LeadingZeros a = LeadingZeros::accept;
    EXPECT_EQ(val("00", u64_max, a), 0u);
    EXPECT_EQ(val("007", u64_max, a), 7u);
    EXPECT_EQ(val("010", 255, a), 10u);  // decimal, never octal
    EXPECT_EQ(val("000000000000000000000018446744073709551615", u64_max, a), u64_max);
    EXPECT_EQ(st("0256", 255, a), DecimalStatus::out_of_range);
    EXPECT_EQ(st("-07", u64_max, a), DecimalStatus::invalid);
}

}  // namespace
}  // namespace sipedge
