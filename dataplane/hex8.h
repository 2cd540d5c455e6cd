#pragma once
// Eight hex digits at a time (internal): branch ids (branch.cc) and the
// Record-Route token (access_policy.cc) are written and read for every
// request the proxy forwards; a byte loop or a table per digit cost more
// than these word operations.

#include <bit>
#include <cstdint>
#include <cstring>

namespace sipedge::dp {

// The eight nibbles of <v>, most significant first, as lower-case hex: the
// nibbles spread one per byte, then '0'-'9' / 'a'-'f' added to all eight at
// once (no loop, no table).
inline void put_hex8(char* p, uint32_t v) noexcept {
    uint64_t x = v;
    x = ((x & 0xffff0000ull) << 16) | (x & 0x0000ffffull);
    x = ((x & 0x0000ff000000ff00ull) << 8) | (x & 0x000000ff000000ffull);
    x = ((x & 0x00f000f000f000f0ull) << 4) | (x & 0x000f000f000f000full);
    // Byte k holds nibble k; those over 9 get 'a' - '0' - 10 more.
    const uint64_t letters = ((x + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
    x += 0x3030303030303030ull + letters * ('a' - '0' - 10);
    if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);  // nibble 7 first
    std::memcpy(p, &x, 8);
}

// Eight hex digits at <p> (most significant first) into <v>; false when any
// byte is another. Lower case only, or 'A'-'F' too with <upper>. All eight
// bytes are checked and valued at once: each must be in '0'-'9' or 'a'-'f'
// (ranges tested on the high bit of byte + offset, bytes of 0x80 and up
// refused first); with <upper> the letters are tested with bit 5 set, which
// maps 'A'-'F' and nothing else onto 'a'-'f'.
inline bool get_hex8(const char* p, uint32_t& v, bool upper = false) noexcept {
    uint64_t x;
    std::memcpy(&x, p, 8);
    if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);  // last digit in byte 0
    constexpr uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
    auto at_least = [](uint64_t w, unsigned c) { return (w + ones * (0x80 - c)) & high; };  // byte >= c (< 0x80)
    const uint64_t l = upper ? x | ones * 0x20 : x;
    const uint64_t digit = at_least(x, '0') & ~at_least(x, '9' + 1);
    const uint64_t letter = at_least(l, 'a') & ~at_least(l, 'f' + 1);
    if ((x & high) || (digit | letter) != high) return false;
    // '0'-'9' is its low nibble; a letter (bit 6 set) its low nibble + 9.
    uint64_t n = (x & ones * 0x0f) + ((x >> 6) & ones) * 9;
    n = (n | (n >> 4)) & 0x00ff00ff00ff00ffull;
    n = (n | (n >> 8)) & 0x0000ffff0000ffffull;
    v = uint32_t(n | (n >> 16));
    return true;
}

}  // namespace sipedge::dp
