#pragma once
// The input a trunk's server list is built from: an ordered list of service
// records (RFC 3263 NAPTR → SRV, or one record for a static list), each with
// ordered targets. dns/ produces it from NAPTR/SRV/A answers (or the static
// cache); control produces it from "sip-server primary/secondary" (seed A).
// The engine flattens it into server indices 0..n-1 in record order, which
// is the order the seed P "Selection Order" column numbers.

#include <cstdint>
#include <string>
#include <vector>

#include "failover/random.h"
#include "sipparse/types.h"

namespace sipedge::failover {

/// Most servers (targets over all records) one trunk keeps; the seed P
/// NAPTR example has 10. Bit masks over servers are 32 bits wide.
inline constexpr size_t max_servers = 16;

/// One resolved address a request can be sent to.
struct Target {
    sip::Transport transport = sip::Transport::udp;
    std::string address;       // IPv4/IPv6 literal (resolved), or a host name still to resolve
    uint16_t port = 5060;
    uint16_t priority = 0;     // SRV priority (lower first); 0 for A records and static servers
    uint16_t weight = 0;       // SRV weight (RFC 2782)
    uint32_t ttl_s = 0;        // TTL of the record that produced it (seed P failBack.mode DNSTTL)
};

/// One NAPTR service record (or the SRV/A answer of one name): seed P
/// "once registered within a service record, try all its servers before the
/// next record".
struct ServiceRecord {
    sip::Transport transport = sip::Transport::udp;
    uint16_t order = 0;        // NAPTR order (RFC 3403 §4.1)
    uint16_t preference = 0;   // NAPTR preference
    uint32_t ttl_s = 0;
    std::vector<Target> targets;  // in selection order (dns/ applies RFC 2782)
};

struct ServerSet {
    std::vector<ServiceRecord> records;
    /// True when the set came from DNS (FQDN), false for a static list.
    bool from_dns = false;
};

/// A static list (seed A "sip-server primary/secondary"): one record, targets
/// in the configured order.
ServerSet static_servers(std::vector<Target> targets);

/// RFC 2782 ordering of <t> in place: ascending priority; within one priority,
/// weighted random selection with <rng> (zero-weight targets first in the
/// running sum, as the RFC says). With <use_weights> false (seed A "with
/// validated failover, SRV weights are not used for load sharing") targets of
/// one priority are ordered by weight descending, then as given: deterministic.
void order_srv(std::vector<Target>& t, Random& rng, bool use_weights);

/// Sorts records by NAPTR order then preference (stable: equal records keep
/// the answer's order).
void order_records(std::vector<ServiceRecord>& r);

/// Identity of a target across DNS refreshes: transport, address and port.
bool same_endpoint(const Target& a, const Target& b) noexcept;

/// IP literal of <address> into <out> (16 bytes; IPv4 in the first 4).
/// Returns 4 or 6, or 0 when <address> is not an IP literal.
int parse_ip(const std::string& address, uint8_t out[16]) noexcept;

}  // namespace sipedge::failover
