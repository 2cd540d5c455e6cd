#pragma once
// Decoded DNS answers for one question, as the pure RFC 3263 logic and the
// cache see them. The c-ares layer (ares_channel.cc) produces them from the
// wire; static records (seed P dns.cache.*) and unit tests build them by hand.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns/types.h"

namespace sipedge::dns {

enum class RrType : uint8_t { a, aaaa, srv, naptr };
const char* to_string(RrType t);

/// RFC 3403 NAPTR record (RFC 3263 §4.1 uses flags "s", empty regexp).
struct NaptrRr {
    uint16_t order = 0;
    uint16_t preference = 0;
    std::string flags;
    std::string service;      // "SIP+D2U", "SIP+D2T", "SIPS+D2T"
    std::string regexp;
    std::string replacement;  // the SRV name, lower case, no trailing dot
    uint32_t ttl_s = 0;
    bool operator==(const NaptrRr&) const = default;
};

/// RFC 2782 SRV record.
struct SrvRr {
    uint16_t priority = 0;
    uint16_t weight = 0;
    uint16_t port = 0;
    std::string target;  // lower case, no trailing dot; "" for "." (service not available)
    uint32_t ttl_s = 0;
    bool operator==(const SrvRr&) const = default;
};

/// A or AAAA record.
struct AddrRr {
    IpAddr addr;
    uint32_t ttl_s = 0;
    bool operator==(const AddrRr&) const = default;
};

/// How one question ended, and its records when status is ok. Only the vector
/// matching the question's type is filled.
struct Answer {
    AnswerStatus status = AnswerStatus::no_answer;
    int code = 0;        // the resolver library's status (ARES_*), 0 when built by hand
    std::string detail;  // human-readable reason for failures
    /// Negative answers: how long they may be cached (RFC 2308 §5: the SOA's
    /// TTL capped by its MINIMUM field); 0 when the server sent no SOA.
    uint32_t negative_ttl_s = 0;
    std::vector<NaptrRr> naptr;
    std::vector<SrvRr> srv;
    std::vector<AddrRr> addrs;

    size_t size() const { return naptr.size() + srv.size() + addrs.size(); }
    /// Smallest record TTL, or 0 when there are no records.
    uint32_t min_ttl_s() const;

    static Answer failure(AnswerStatus s, std::string detail, int code = 0);
};

/// One DNS question. Names are lower case without a trailing dot.
struct Question {
    std::string name;
    RrType type = RrType::a;
    auto operator<=>(const Question&) const = default;
    bool operator==(const Question&) const = default;
};

/// Lower-cases <name> and strips one trailing dot (DNS names compare case-insensitively).
std::string normalize_name(std::string_view name);

}  // namespace sipedge::dns
