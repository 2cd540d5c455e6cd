#pragma once
// SNMPv2c traps (net-snmp) for the engine's registration-failure notices
// (seed A "snmp trap registration failures N interval S"; the engine applies
// the N/S rule, this only sends). Control thread only; a trap is one UDP
// datagram (SNMPv2-Trap-PDU, unacknowledged), so sending never blocks.
//
// OID layout (docs/SIPEDGE-MIB.txt). The enterprise number is a placeholder:
// 32473 is IANA's "example enterprise number for documentation use"
// (RFC 5612); replace it with the operator's private enterprise number.
//
//   sipedge                        1.3.6.1.4.1.32473.1
//   sipedgeNotifications           sipedge.0
//     sipedgeRegistrationFailures  sipedge.0.1   (the trap's snmpTrapOID.0)
//   sipedgeTrapObjects             sipedge.1     (accessible-for-notify, sent with instance .0)
//     sipedgeTrunkName             sipedge.1.1   OCTET STRING  trunk name
//     sipedgeIdentity              sipedge.1.2   OCTET STRING  identity (AOR user) that failed last
//     sipedgeServer                sipedge.1.3   OCTET STRING  server "host:port" REGISTERs went to
//     sipedgeFailureCount          sipedge.1.4   Unsigned32    failures since the previous trap
//     sipedgeFailureReason         sipedge.1.5   OCTET STRING  the failed server's trigger (timeout, 503,
//                                                              icmp-unreachable, ...) or denied (403 etc.)
//
// Varbinds in order: sysUpTime.0, snmpTrapOID.0, then the five objects.

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"

namespace sipedge::ctl {

/// What one registration-failures trap says.
struct TrapInfo {
    std::string trunk;
    std::string identity;
    std::string server;
    uint32_t failures = 0;
    std::string reason;
};

/// OIDs as dotted text (tests, docs).
inline constexpr const char* oid_sipedge = "1.3.6.1.4.1.32473.1";
inline constexpr const char* oid_registration_failures = "1.3.6.1.4.1.32473.1.0.1";
inline constexpr const char* oid_trunk_name = "1.3.6.1.4.1.32473.1.1.1.0";
inline constexpr const char* oid_identity = "1.3.6.1.4.1.32473.1.1.2.0";
inline constexpr const char* oid_server = "1.3.6.1.4.1.32473.1.1.3.0";
inline constexpr const char* oid_failure_count = "1.3.6.1.4.1.32473.1.1.4.0";
inline constexpr const char* oid_failure_reason = "1.3.6.1.4.1.32473.1.1.5.0";

class TrapSender {
public:
    /// A session to <ip>:<port> (IPv4 or IPv6 literal) with <community>.
    /// The community is kept in memory only and never logged.
    static Result<std::unique_ptr<TrapSender>> open(const std::string& ip, uint16_t port, const std::string& community);
    ~TrapSender();
    TrapSender(const TrapSender&) = delete;
    TrapSender& operator=(const TrapSender&) = delete;

    /// Sends sipedgeRegistrationFailures; <uptime_cs> is sysUpTime.0 (1/100 s).
    Status send_registration_failures(const TrapInfo& t, uint32_t uptime_cs);
    const std::string& peer() const noexcept { return peer_; }

private:
    TrapSender() = default;
    void* sess_ = nullptr;  // net-snmp single-session handle
    std::string peer_;      // "udp:127.0.0.1:162" (no community)
};

}  // namespace sipedge::ctl
