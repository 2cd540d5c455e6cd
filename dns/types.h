#pragma once
// What dns/ hands to the failover engine: the RFC 3263 answer for one trunk
// host, as ranked service records (NAPTR order/preference), each with its
// targets ranked by RFC 2782 (priority, then weighted random), each target
// one address with its transport, port and TTL.
//
// Control thread only. These types use std containers and never cross to a
// worker: the failover engine turns them into its immutable Table snapshot
// (STYLE.md §3.1). So this is not a `*_types.h` ring/snapshot header.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/millis.h"

namespace sipedge::dns {

/// Milliseconds on the control thread's monotonic clock (base/millis.h, as failover's).
using Millis = sipedge::Millis;
using sipedge::never_ms;

/// SIP transport of a service record (RFC 3263 §4.1 NAPTR services).
enum class Transport : uint8_t {
    udp,  // SIP+D2U, _sip._udp
    tcp,  // SIP+D2T, _sip._tcp
    tls,  // SIPS+D2T, _sips._tcp
};
inline constexpr uint8_t transport_bit(Transport t) { return uint8_t(1u << unsigned(t)); }
inline constexpr uint8_t all_transports = 0x7;

/// RFC 3263 §4.2: the port used when neither the URI nor SRV gives one.
inline constexpr uint16_t default_port(Transport t) { return t == Transport::tls ? 5061 : 5060; }

/// An IPv4 or IPv6 address in network byte order. family 0 = unset.
struct IpAddr {
    uint8_t family = 0;  // 4 or 6
    std::array<uint8_t, 16> bytes{};

    /// Parses a literal ("192.0.2.1", "2001:db8::1", "[2001:db8::1]"); nullopt otherwise.
    static std::optional<IpAddr> parse(std::string_view text);
    static IpAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
    std::string to_string() const;
    bool operator==(const IpAddr&) const = default;
};

/// Where the answer in use came from (seed P "Mitigating DNS Failure").
enum class Source : uint8_t {
    none,      // nothing usable
    network,   // a live answer within its TTL
    restored,  // seed P dns.cache.dynamicRestore: last good answer past its TTL
    static_,   // seed P dns.cache.{A,SRV,NAPTR}.x: configured record
    literal,   // the host was an IP address: no DNS at all
};

/// How one DNS question ended (the classification the restore rule needs).
enum class AnswerStatus : uint8_t {
    ok,            // records
    nxdomain,      // negative: name does not exist
    nodata,        // negative: name exists, no record of this type (or only ".")
    error_answer,  // the server answered with an error: SERVFAIL, REFUSED, FORMERR, NOTIMP, bad packet
    no_answer,     // no answer: timeout, unreachable, connection refused
};

const char* to_string(Transport t);
const char* to_string(Source s);
const char* to_string(AnswerStatus s);

/// One address to send to.
struct Target {
    std::string host;     // SRV target or the configured host; the literal for IPs
    IpAddr addr;
    uint16_t port = 0;
    uint16_t priority = 0;  // SRV priority; 0 for A/AAAA-only answers
    uint16_t weight = 0;    // SRV weight; 0 for A/AAAA-only answers
    uint32_t ttl_s = 0;     // smallest TTL on the way (SRV, A/AAAA)
    Transport transport = Transport::udp;
    bool operator==(const Target&) const = default;
};

/// One NAPTR service (or the one implied by SRV-only / A-only lookups).
/// Seed P: once registered within a service record, try all its targets
/// before the next record.
struct ServiceRecord {
    uint16_t order = 0;       // NAPTR order (index for non-NAPTR lookups)
    uint16_t preference = 0;  // NAPTR preference
    Transport transport = Transport::udp;
    std::string srv_name;     // "_sip._tcp.example.com"; empty when A/AAAA only
    std::vector<Target> targets;  // ranked; capped at LocateRequest::max_addresses
    bool operator==(const ServiceRecord&) const = default;
};

/// The answer for one LocateRequest, handed to the failover engine.
struct ServerList {
    std::vector<ServiceRecord> records;  // ranked: NAPTR order, then preference
    AnswerStatus status = AnswerStatus::no_answer;  // ok when records is not empty
    Source source = Source::none;  // the weakest source used (network < restored < static)
    Millis expires_at = 0;         // earliest expiry of the answers used
    std::string error;             // last failure on the way, even when status is ok
    uint64_t generation = 0;       // bumped on every delivery

    /// All targets in rank order (record by record).
    std::vector<const Target*> flat() const;
    /// Same servers (transport, address, port, priority, weight, record) ignoring
    /// the weighted-random order among equal priorities and TTLs.
    bool same_servers(const ServerList& other) const;
};

}  // namespace sipedge::dns
