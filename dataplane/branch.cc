#include "dataplane/branch.h"

#include <bit>
#include <cstring>

namespace sipedge::dp {

namespace {

constexpr char cookie[] = "z9hG4bK";  // RFC 3261 §8.1.1.7 magic cookie
constexpr char marker[] = "sE";
constexpr size_t cookie_len = sizeof(cookie) - 1;
constexpr size_t marker_len = sizeof(marker) - 1;
static_assert(cookie_len + marker_len + 2 + 8 + 4 + 2 + 8 == branch_len);

// The eight nibbles of <v>, most significant first, as lower-case hex: the
// nibbles spread one per byte, then '0'-'9' / 'a'-'f' added to all eight at
// once (no loop, no table: it runs for every request we forward).
void put_hex8(char* p, uint32_t v) noexcept {
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

// Eight lower-case hex digits at <p> (most significant first) into <v>;
// false when any byte is another. All eight bytes are checked and valued at
// once: each must be in '0'-'9' or 'a'-'f' (ranges tested on the high bit of
// byte + offset, bytes of 0x80 and up refused first).
bool get_hex8(const char* p, uint32_t& v) noexcept {
    uint64_t x;
    std::memcpy(&x, p, 8);
    if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);  // last digit in byte 0
    constexpr uint64_t ones = 0x0101010101010101ull, high = ones * 0x80;
    auto at_least = [&](unsigned c) { return (x + ones * (0x80 - c)) & high; };  // byte >= c (bytes < 0x80)
    const uint64_t digit = at_least('0') & ~at_least('9' + 1);
    const uint64_t letter = at_least('a') & ~at_least('f' + 1);
    if ((x & high) || (digit | letter) != high) return false;
    // '0'-'9' is its low nibble; 'a'-'f' (0x61-0x66) its low nibble + 9.
    uint64_t n = (x & ones * 0x0f) + ((x >> 6) & ones) * 9;
    n = (n | (n >> 4)) & 0x00ff00ff00ff00ffull;
    n = (n | (n >> 8)) & 0x0000ffff0000ffffull;
    v = uint32_t(n | (n >> 16));
    return true;
}

}  // namespace

// The 24 hex digits are three groups of eight: core(2) slot(8) generation(4)
// attempt(2) nonce(8), written and read as three 32-bit words.
size_t encode_branch(const BranchId& id, char* out) noexcept {
    std::memcpy(out, cookie, cookie_len);
    std::memcpy(out + cookie_len, marker, marker_len);
    char* p = out + cookie_len + marker_len;
    put_hex8(p, uint32_t(id.core) << 24 | id.slot >> 8);
    put_hex8(p + 8, (id.slot & 0xff) << 24 | uint32_t(id.generation) << 8 | id.attempt);
    put_hex8(p + 16, id.nonce);
    return branch_len;
}

bool decode_branch(std::string_view s, BranchId& out) noexcept {
    if (s.size() != branch_len) return false;
    const char* p = s.data();
    if (std::memcmp(p, cookie, cookie_len) != 0 || std::memcmp(p + cookie_len, marker, marker_len) != 0)
        return false;
    p += cookie_len + marker_len;
    uint32_t w0, w1, w2;
    if (!get_hex8(p, w0) || !get_hex8(p + 8, w1) || !get_hex8(p + 16, w2)) return false;
    out.core = uint8_t(w0 >> 24);
    out.slot = w0 << 8 | w1 >> 24;
    out.generation = uint16_t(w1 >> 8);
    out.attempt = uint8_t(w1);
    out.nonce = w2;
    return true;
}

}  // namespace sipedge::dp
