#pragma once
// Via branch values that sipedge writes on requests it sends downstream.
// RFC 3261 §8.1.1.7: a branch starts with the magic cookie "z9hG4bK" and is
// unique across space and time. Ours also says who owns the transaction, so
// the core that RSS hands a response (or an ICMP error quoting our request) to
// can pass it to the owning core's ring without a lookup:
//
//   z9hG4bK sE cc ssssssss gggg aa nnnnnnnn      (no spaces; lower-case hex)
//           |  |  |        |    |  └ nonce: per-core random/sequence (uniqueness across restarts)
//           |  |  |        |    └ attempt: rollover count of the request (new branch per server)
//           |  |  |        └ generation of the transaction slot (stale-slot check)
//           |  |  └ transaction slot index on the owning core
//           |  └ owning core (control_core = the control thread's registration agent)
//           └ marker: "sE" (sipedge) so foreign branches rarely decode
//
// 33 characters, fixed width, so decoding is a length check plus hex parsing.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace sipedge::dp {

/// Core id that marks branches owned by the control thread (registrations).
inline constexpr uint8_t control_core = 0xff;

struct BranchId {
    uint32_t slot = 0;        // transaction slot on the owning core
    uint32_t nonce = 0;       // random/sequence drawn when the transaction starts
    uint16_t generation = 0;  // slot generation (a reused slot gets a new one)
    uint8_t core = 0;         // owning worker lcore index, or control_core
    uint8_t attempt = 0;      // 0 for the first server, +1 per rollover

    friend bool operator==(const BranchId&, const BranchId&) = default;
};
static_assert(std::is_trivially_copyable_v<BranchId> && sizeof(BranchId) == 12);

/// Length of an encoded branch.
inline constexpr size_t branch_len = 33;

/// Writes the branch for <id> into out[0, branch_len) (no NUL) and returns
/// branch_len. Never fails.
size_t encode_branch(const BranchId& id, char* out) noexcept;

/// Accepts exactly what encode_branch writes (cookie, marker, 26 lower-case
/// hex digits, nothing more) and fills <out>. Rejects anything else (foreign
/// branches, RFC 2543 branches, upper-case hex) with false; <out> is then
/// unspecified.
bool decode_branch(std::string_view s, BranchId& out) noexcept;

/// Owning core of a branch we wrote, or -1 when <s> is not ours.
inline int branch_owner(std::string_view s) noexcept {
    BranchId id;
    return decode_branch(s, id) ? int(id.core) : -1;
}

}  // namespace sipedge::dp
