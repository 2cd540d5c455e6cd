#include "dataplane/branch.h"

#include <bit>
#include <cstring>

#include "dataplane/hex8.h"

namespace sipedge::dp {

namespace {

constexpr char cookie[] = "z9hG4bK";  // RFC 3261 §8.1.1.7 magic cookie
constexpr char marker[] = "sE";
constexpr size_t cookie_len = sizeof(cookie) - 1;
constexpr size_t marker_len = sizeof(marker) - 1;
static_assert(cookie_len + marker_len + 2 + 8 + 4 + 2 + 8 == branch_len);

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
