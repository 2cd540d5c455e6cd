#pragma once
// Transaction keys: the fixed-size identity a message is looked up by in the
// per-core transaction table (RFC 3261 §17.1.3 client matching, §17.2.3
// server matching with the RFC 2543 fallback, §9.2 CANCEL to its INVITE).
//
// A key is two independent hashes of the matching fields (64 + 32 bits) plus
// the method and role, 24 bytes, so a transaction never stores the peer's
// variable-length branch. Two different transactions share a key only if both
// hashes collide: about n / 2^96 per lookup for n live transactions. The hash
// is seeded per process (<seed>), so a peer cannot aim branches at one bucket
// without knowing it. It is not a MAC: a peer that can read our seed could
// forge collisions (TODO(lead): SipHash if that threat matters).

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "sipparse/message.h"
#include "sipparse/types.h"

namespace sipedge::dp {

enum TxnKeyFlag : uint8_t {
    txn_key_server = 1 << 0,   // server transaction (request from upstream); else client
    txn_key_rfc2543 = 1 << 1,  // built from RFC 2543 fields (no magic cookie)
};

struct TxnKey {
    uint64_t hash = 0;      // table bucket hash
    uint32_t check = 0;     // second, independent hash compared on lookup
    uint32_t to_tag = 0;    // RFC 2543 only: hash of the To tag; not part of ==
    sip::Method method = sip::Method::unknown;  // ACK is folded into INVITE (server)
    uint8_t flags = 0;      // TxnKeyFlag
    uint8_t pad_[6] = {};

    bool server() const noexcept { return flags & txn_key_server; }
    bool rfc2543() const noexcept { return flags & txn_key_rfc2543; }
    friend bool operator==(const TxnKey& a, const TxnKey& b) noexcept {
        return a.hash == b.hash && a.check == b.check && a.method == b.method && a.flags == b.flags;
    }
};
static_assert(std::is_trivially_copyable_v<TxnKey> && sizeof(TxnKey) == 24);

/// Client key for a request we send with <branch> and CSeq method <m>
/// (RFC 3261 §17.1.3: branch + CSeq method). <method_name> distinguishes
/// extension methods; it is ignored for known ones. A CANCEL we send reuses
/// the INVITE's branch (§9.1) and gets its own key through <m>.
TxnKey client_key(std::string_view branch, sip::Method m, uint64_t seed,
                  std::string_view method_name = {}) noexcept;

/// Client key of a response <rsp> parsed from <base>: top Via branch + CSeq
/// method. Rejects (false) requests and responses without a branch.
bool client_key(const sip::Message& rsp, const char* base, uint64_t seed, TxnKey& out) noexcept;

/// Server key of a request <req> parsed from <base> (§17.2.3).
/// Magic cookie present: branch + sent-by (host case-insensitive, port) +
/// method, ACK counted as INVITE. Otherwise the RFC 2543 fields: Request-URI,
/// From tag, Call-ID, CSeq number, top Via, method (ACK as INVITE), plus the
/// To tag for non-INVITE; for INVITE/ACK the To tag goes to `to_tag` for the
/// transaction to check (an ACK carries the tag of our response, not of the
/// INVITE). Rejects (false) responses and requests without a top Via.
bool server_key(const sip::Message& req, const char* base, uint64_t seed, TxnKey& out) noexcept;

/// Key of the INVITE server transaction that CANCEL <cancel> targets
/// (RFC 3261 §9.2: the same matching as §17.2.3 with the method INVITE).
/// Rejects (false) anything that is not a CANCEL request with a top Via.
bool cancel_target_key(const sip::Message& cancel, const char* base, uint64_t seed,
                       TxnKey& out) noexcept;

/// 32-bit hash of a To tag as stored in TxnKey::to_tag (0 for no tag).
uint32_t to_tag_hash(std::string_view tag, uint64_t seed) noexcept;

}  // namespace sipedge::dp
