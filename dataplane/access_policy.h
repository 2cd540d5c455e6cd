#pragma once
// No open relay (issue 16), the DPDK-free pieces the proxy core uses:
//
// - RrToken: the token sipedge puts into its own Record-Route URI
//   (`<sip:a.b.c.d:port;lr;sx=<16 hex>>`) so that a later in-dialog request
//   whose Route set begins with that URI can be told apart from one that only
//   names our address. It is SipHash-2-4 (a keyed PRF made for short inputs)
//   under a 128-bit key that control draws at start (getrandom) and gives to
//   every worker in ProxyConfig, over the dialog's Call-ID and the tag of the
//   dialog's initiator: the From tag of the INVITE/SUBSCRIBE that got the
//   Record-Route. The To tag is not known when the Record-Route is written,
//   so the callee's tag cannot be covered; a request from the initiator
//   carries that tag in From, one from the other side carries it in To, so a
//   check tries From and then To (two hashes at most, ~100 ns).
//   What it proves: the Route value was written by a sipedge holding the key
//   for a dialog with this Call-ID and one of these tags. What it does not:
//   a party to a dialog knows its own token and may aim that dialog's
//   requests anywhere (see docs/security.md).
// - RejectRing: the To tags of the stateless rejections we sent to INVITEs
//   (400/403/404/482/483/503 from reply_stateless), so that their hop-by-hop
//   ACK is absorbed here instead of being forwarded. Fixed size, allocated
//   once; a record lives 64*T1 (Timer J, 32 s) or until the ring wraps.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "failover/retry_policy.h"

namespace sipedge::dp {

/// SipHash-2-4 of <data> under <key> (Aumasson/Bernstein reference).
uint64_t siphash24(const uint64_t key[2], const void* data, size_t n) noexcept;

/// Token length in the URI parameter (hex digits of the 64-bit MAC).
inline constexpr size_t rr_token_len = 16;
/// The Record-Route URI parameter that carries it: `;sx=<token>`.
inline constexpr std::string_view rr_token_param = "sx";

/// The token for a dialog: <call_id> and the initiator's tag <tag>.
uint64_t rr_token(const uint64_t key[2], std::string_view call_id, std::string_view tag) noexcept;
/// The 16 lower-case hex digits of <t> into <out>.
void rr_token_hex(uint64_t t, char out[rr_token_len]) noexcept;
/// Parses 16 hex digits (either case); false for anything else.
bool rr_token_parse(std::string_view s, uint64_t& t) noexcept;

/// Topology hiding (issue 16, docs/security.md): an access-side Contact's
/// IPv4 address and port, shown to a carrier as `;sxh=<20 hex>` on a URI that
/// names us. The 6 bytes are XORed with a keystream drawn (SipHash) from a
/// 32-bit tag, the tag being SipHash of the 6 bytes, both under keys derived
/// from the Record-Route key: deterministic (one PBX, one value), unreadable
/// without the key, and a value we did not mint is refused (2^-32 forgery).
inline constexpr size_t hide_len = 20;
inline constexpr std::string_view hide_param = "sxh";
void hide_encode(const uint64_t key[2], uint32_t ip, uint16_t port, char out[hide_len]) noexcept;
/// The address <s> (hide_len hex digits) encodes; false when it is not one we minted.
bool hide_decode(const uint64_t key[2], std::string_view s, uint32_t& ip, uint16_t& port) noexcept;

/// Stateless rejections awaiting their ACK: slot = tag & mask, a slot holds
/// the latest tag minted into it and when it expires.
class RejectRing {
public:
    static constexpr uint32_t default_size = 4096;  // 64 KiB per core
    RejectRing() noexcept = default;
    ~RejectRing();
    RejectRing(const RejectRing&) = delete;
    RejectRing& operator=(const RejectRing&) = delete;

    /// <size>: a power of two (rounded up); <first>: the first tag value.
    bool init(uint32_t size, uint32_t first) noexcept;
    /// A new tag recorded until <now> + <life_ms>; <overwrote> says whether
    /// a live record had to make room (the ring is too small for the rate).
    uint32_t add(failover::Millis now, uint32_t life_ms, bool& overwrote) noexcept;
    /// Whether <tag> is a live record.
    bool has(uint32_t tag, failover::Millis now) const noexcept;

    /// Tag text "sr" + 8 hex digits (10 bytes, no terminator written).
    static constexpr size_t tag_len = 10;
    static void format(uint32_t tag, char out[tag_len]) noexcept;
    /// The value of a tag written by format(); false for any other text.
    static bool parse(std::string_view s, uint32_t& tag) noexcept;

private:
    struct Entry {
        uint32_t tag = 0;
        bool used = false;
        failover::Millis expires = 0;
    };
    Entry* e_ = nullptr;
    uint32_t mask_ = 0;
    uint32_t next_ = 0;
};

}  // namespace sipedge::dp
