#include "dataplane/branch.h"

namespace sipedge::dp {

namespace {

constexpr char cookie[] = "z9hG4bK";  // RFC 3261 §8.1.1.7 magic cookie
constexpr char marker[] = "sE";
constexpr size_t cookie_len = sizeof(cookie) - 1;
constexpr size_t marker_len = sizeof(marker) - 1;
static_assert(cookie_len + marker_len + 2 + 8 + 4 + 2 + 8 == branch_len);

constexpr char hex_digits[] = "0123456789abcdef";

char* put_hex(char* p, uint32_t v, int digits) noexcept {
    for (int i = digits - 1; i >= 0; i--) {
        p[i] = hex_digits[v & 0xf];
        v >>= 4;
    }
    return p + digits;
}

// Parses <digits> lower-case hex digits at <p>; false on anything else.
bool get_hex(const char* p, int digits, uint32_t& v) noexcept {
    uint32_t r = 0;
    for (int i = 0; i < digits; i++) {
        const char c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9') d = uint32_t(c - '0');
        else if (c >= 'a' && c <= 'f') d = uint32_t(c - 'a' + 10);
        else return false;
        r = (r << 4) | d;
    }
    v = r;
    return true;
}

}  // namespace

size_t encode_branch(const BranchId& id, char* out) noexcept {
    char* p = out;
    for (size_t i = 0; i < cookie_len; i++) *p++ = cookie[i];
    for (size_t i = 0; i < marker_len; i++) *p++ = marker[i];
    p = put_hex(p, id.core, 2);
    p = put_hex(p, id.slot, 8);
    p = put_hex(p, id.generation, 4);
    p = put_hex(p, id.attempt, 2);
    p = put_hex(p, id.nonce, 8);
    return size_t(p - out);
}

bool decode_branch(std::string_view s, BranchId& out) noexcept {
    if (s.size() != branch_len) return false;
    const char* p = s.data();
    for (size_t i = 0; i < cookie_len; i++)
        if (*p++ != cookie[i]) return false;
    for (size_t i = 0; i < marker_len; i++)
        if (*p++ != marker[i]) return false;
    uint32_t core, slot, gen, attempt, nonce;
    if (!get_hex(p, 2, core) || !get_hex(p + 2, 8, slot) || !get_hex(p + 10, 4, gen) ||
        !get_hex(p + 14, 2, attempt) || !get_hex(p + 16, 8, nonce))
        return false;
    out.core = uint8_t(core);
    out.slot = slot;
    out.generation = uint16_t(gen);
    out.attempt = uint8_t(attempt);
    out.nonce = nonce;
    return true;
}

}  // namespace sipedge::dp
