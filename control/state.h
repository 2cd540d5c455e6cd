#pragma once
// The configuration state the control socket edits: trunks (servers,
// identities, every per-trunk knob of shared/seed-knobs.md) and the global
// settings (DNS cache). Plain values only, comparable with ==, copied before
// every change so that a refused command changes nothing (apply to a copy,
// validate, then commit). to_add_trunk() turns a complete trunk into the
// failover engine's input.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "failover/engine.h"

namespace sipedge::ctl {

/// Which seed's retransmission/rollover model builds the trunk's RetryPolicy.
enum class RetryModel : uint8_t { adtran, poly, cisco, audiocodes };

/// How a server's address is used. Static entries (seed A "sip-server
/// primary/secondary") use the transport given; DNS entries (seed P/AC
/// "transport") leave the choice to RFC 3263 resolution.
enum class ServerMode : uint8_t {
    udp, tcp, tls,                                   // static: IP literal or A record
    dns_naptr, udp_only, tcp_only, tls_only, tcp_preferred,  // FQDN, seed P transport values
};
inline constexpr size_t max_server_slots = failover::max_servers;  // servers 1..16

struct ServerEntry {
    std::string host;   // IP literal or host name
    uint16_t port = 0;  // 0 = none given (DNS modes: query SRV; static: 5060, TLS 5061)
    ServerMode mode = ServerMode::udp;
    bool operator==(const ServerEntry&) const = default;
};

struct IdentityConfig {
    std::string user;       // AOR user part (seed A OSID, seed P line)
    std::string auth_user;  // digest user name
    std::string password;   // never printed; see docs/control.md "Secrets"
    std::string contact;    // Contact URI
    bool operator==(const IdentityConfig&) const = default;
};

/// Every per-trunk knob as a flat value; knob_table.cc maps each field to its
/// command key, seed name, range and default. Defaults are the seeds' defaults.
struct TrunkSettings {
    // timers and retransmission (failover/retry_policy.h)
    uint8_t retry_model = uint8_t(RetryModel::adtran);
    uint32_t t1_ms = 500;                  // A ip sip timer T1
    uint32_t t2_ms = 4000;                 // A ip sip timer T2
    uint32_t rollover_s = 3;               // A ip sip timer rollover
    uint32_t rollover_register_s = 0;      // A ip sip timer rollover register; 0 = follow-primary
    uint32_t retry_timeout_ms = 0;         // P retryTimeOut
    uint32_t retry_max_count = 3;          // P retryMaxCount
    bool tcp_fast_failover = false;        // P tcpFastFailover
    uint32_t tcp_fast_failover_timeout_ms = 5000;
    uint32_t trying_timer_ms = 500;        // C SIP Trying Timer
    uint32_t invite_retry_count = 6;       // C Retry Count for SIP Invite
    uint32_t no_response_timeout_ms = 32000;  // AC outgoing_request_no_response_timeout_ms
    // triggers
    bool failover_on_503 = false;          // A sip-server rollover, P failoverOn503Response
    bool failover_on_icmp = true;          // P behaviour
    // registration and validated failover
    uint8_t validation = 0;                // 0 off (top-first), 1 register (validated)
    bool register_enabled = true;
    uint32_t expire_time_s = 3600;
    uint32_t max_concurrent_reg = 32;
    uint8_t threshold_kind = 0;            // failover::ThresholdKind
    uint32_t threshold = 300;
    uint32_t registration_failure_retry_s = 60;
    bool fail_registration_on = true;
    bool only_signal_with_registered = true;
    bool auth_optimized_in_failover = false;
    bool new_call_on_unregister = true;
    bool unregister_on_failover = true;
    uint32_t register_retry_base_s = 60;
    uint32_t register_retry_max_s = 60;
    // recovery and failback
    bool recover_delay_enabled = false;
    uint32_t recover_delay_min_s = 0;
    uint32_t recover_delay_max_s = 0;
    uint8_t failback_mode = 4;             // failover::FailbackMode (4 = automatic)
    uint32_t failback_timeout_s = 3600;
    bool unregister_on_failback = false;
    bool unregister_after_failback = true;
    bool enhanced = false;
    uint32_t group_id = 0;
    // keep-alives and monitoring
    uint32_t keepalive_interval_s = 0;
    std::string keepalive_udp_payload = "\r\n\r\n";
    std::string keepalive_tcp_payload = "\r\n\r\n";
    uint32_t tcp_keepalive_idle_s = 30;
    uint32_t tcp_keepalive_no_response_s = 20;
    uint32_t tcp_keepalive_attempts = 4;
    // TLS toward the trunk's servers (issue 14, docs/stream.md)
    std::string tls_ca = "/etc/ssl/certs/ca-certificates.crt";
    std::string tls_server_name;           // "" = the trunk's domain, else its first TLS server's host
    std::string tls_client_cert;           // PEM chain presented to its TLS servers; "" = none
    std::string tls_client_key;            // "stored" when TrunkConfig::tls_client_key_pem holds it; "" none
    uint8_t monitor = 0;                   // failover::ProbeMode
    uint32_t monitor_interval_s = 30;
    uint32_t monitor_timeout_s = 32;
    uint32_t monitor_down_threshold = 3;
    uint32_t monitor_up_threshold = 2;
    uint32_t trap_registration_failures = 0;  // 0 = off
    uint32_t trap_registration_interval_s = 3600;
    // sustained faults (issue 12)
    uint32_t retry_after_max_s = 300;
    uint32_t provisional_timeout_s = 0;    // 0 = off
    uint8_t request_uri_host = 0;          // failover::RuriHost
    bool topology_hiding = false;          // issue 16: hide access-side Via/Record-Route/Contact

    bool operator==(const TrunkSettings&) const = default;
};

struct TrunkConfig {
    std::string name;
    std::string domain;  // AOR/registrar domain; empty = the first server's host
    std::array<std::optional<ServerEntry>, max_server_slots> servers;  // slot n-1 = server <n>
    std::vector<IdentityConfig> identities;  // in the order first configured
    TrunkSettings knobs;
    /// Issue 7: bit n-1 = server <n> is in maintenance (`set trunk <t> server <n>
    /// maintenance on`): no new requests or registrations, in-flight ones drain.
    /// Belongs to the slot: kept when its address is replaced, cleared by `del`.
    uint32_t maintenance = 0;
    /// `set trunk <t> maintenance-address <ip>[:<port>] on`: every server of the
    /// trunk at that address (any port when <port> is 0) is in maintenance,
    /// whichever slot or DNS answer (NAPTR/SRV/A) it comes from. Sorted, unique,
    /// at most max_maintenance_addrs; the IP in its canonical text.
    std::vector<std::pair<std::string, uint16_t>> maintenance_addrs;
    static constexpr size_t max_maintenance_addrs = 16;
    /// Issue 14: the private key of tls-client-cert (PEM), read from the file
    /// `set trunk <t> tls-client-key FILE` named (then the knob says
    /// "stored"), or from the secrets file (`tls-client-key stored`). Kept in
    /// the secrets file (docs/control.md "Secrets"); never in a reply, the
    /// running config or a log.
    std::string tls_client_key_pem;
    bool operator==(const TrunkConfig&) const = default;
};

/// seed P dns.cache.{A,SRV,NAPTR}.x: static records for when DNS fails.
enum class DnsCacheType : uint8_t { a, srv, naptr };
inline constexpr uint32_t dns_cache_slots = 18;  // seed P: x = 1..18 of each type

struct DnsCacheEntry {
    std::string name;
    uint32_t ttl_s = 300;
    std::string address;      // A
    uint32_t priority = 0, weight = 0, port = 0;  // SRV
    std::string target;       // SRV
    uint32_t order = 0, preference = 0;  // NAPTR
    std::string flags, service, replacement;  // NAPTR
    bool operator==(const DnsCacheEntry&) const = default;
};

struct GlobalSettings {
    bool dns_restore = false;          // P dns.cache.dynamicRestore.enable
    uint32_t dns_restore_ttl_s = 120;  // P dns.cache.dynamicRestore.ttl, 90-600
    bool dns_a_network_override = false;  // P dns.cache.A.networkOverride
    std::vector<std::string> dns_servers;  // cmd_dns.cc "<ip>[:port]"; empty = /etc/resolv.conf
    // cmd_ops.cc (docs/control.md "Metrics and traps")
    std::string metrics_http;          // "<ip>:<port>" of the HTTP /metrics listener; "" = off
    std::string snmp_trap_receiver;    // "<ip>:<port>" of the SNMPv2c trap receiver; "" = off
    std::string snmp_trap_community;   // a secret: never in replies, logs or running-config
    bool operator==(const GlobalSettings&) const = default;
};

/// The data plane's own settings (control/cmd_dataplane.cc, docs/control.md
/// "Data plane"). Addresses in host byte order; 0 = not set. address, prefix,
/// gateway and sip-port are read when sipedge starts its port; default-trunk
/// and access are published to the workers with every routing snapshot.
struct PortSettings {
    uint32_t ip = 0;              // its IPv4 address (DPDK answers ARP/ICMP for it); 0 = unused
    uint8_t prefix = 24;
    uint32_t gateway = 0;         // off-link next hop; 0 = on-link destinations only
    uint16_t vlan = 0;            // 802.1Q VLAN id; 0 = untagged
    std::string device;           // EAL device ("0000:03:00.0", "net_af_packet1,iface=eth1");
                                  // "" = DPDK port id n from the command line's EAL arguments
    bool operator==(const PortSettings&) const = default;
};
struct DataplaneSettings {
    static constexpr size_t max_ports = 4;  // = dp::Ifaces::max
    std::array<PortSettings, max_ports> ports;  // index = DPDK port id; 0: `set dataplane address`
    uint16_t sip_port = 5060;     // our UDP port for SIP
    uint16_t timer_c_s = 181;     // proxy Timer C for forwarded INVITEs (RFC 3261 §16.6: > 3 min)
    uint16_t retry_after_s = 30;  // Retry-After on the 503s sipedge generates; 0 = none
    std::string lcores;           // EAL -l list ("0-2": control + 2 workers); "" = command line
    bool hugepages = true;        // false: EAL --no-huge
    uint32_t memory_mb = 0;       // EAL -m; 0 = command line / EAL default
    std::string default_trunk;    // trunk for new requests from the access side; "" = none
    uint32_t access_ip = 0;       // where new requests from a carrier server go; 0 = refused (404)
    uint16_t access_port = 5060;
    bool operator==(const DataplaneSettings&) const = default;
};
/// A route pattern (issue 6; control/cmd_route.cc, docs/control.md "Route patterns").
struct RoutePatternConfig {
    uint32_t id = 0;
    bool regex = false;    // false: Cisco digit pattern (dataplane/route_table.h)
    std::string pattern;
    std::string trunk;     // route-pattern: the trunk new access-side requests go to
    std::string target;    // inbound-pattern: the access target "<ipv4>:<port>"
    std::string source;    // "" = any, else an IPv4 prefix "a.b.c.d/len"
    uint32_t priority = 100;  // lower wins (dp::default_route_priority)
    bool operator==(const RoutePatternConfig&) const = default;
};
/// An access peer (issue 16; control/cmd_access.cc, docs/security.md "Access
/// peers"): the access-side networks it sends from and its request rates per
/// kind (requests/s; 0 = unlimited), each bucket holding <burst> (0: one
/// second's worth).
struct AccessPeerConfig {
    std::vector<std::string> networks;  // "a.b.c.d/len", as given
    uint32_t invite_rps = 0;
    uint32_t register_rps = 0;
    uint32_t other_rps = 0;
    uint32_t burst = 0;
    bool operator==(const AccessPeerConfig&) const = default;
};
/// The access side's guard (control/cmd_access.cc): whether a source in no
/// peer's networks is refused (403), the per-source flood guard (requests/s
/// per address; 0 = off) and what an over-rate or flooding source gets.
struct AccessGuardSettings {
    bool restrict_sources = false;
    uint32_t source_rps = 0;
    uint32_t block_s = 10;     // how long a flooding source stays blocked
    bool drop = false;         // false: 503 + Retry-After; true: dropped silently
    bool operator==(const AccessGuardSettings&) const = default;
};
struct CompiledRoutes;  // control/cmd_route.h
/// The Hyperscan tables built from the patterns: derived data that travels
/// with the State it was built from and takes no part in ==.
struct RouteCache {
    std::shared_ptr<const CompiledRoutes> tables;
    bool operator==(const RouteCache&) const noexcept { return true; }
};

struct State {
    std::map<std::string, TrunkConfig> trunks;  // by name: running-config order
    GlobalSettings global;
    DataplaneSettings dataplane;
    std::map<std::pair<DnsCacheType, uint32_t>, DnsCacheEntry> dns_cache;
    // route-pattern / inbound-pattern by id (control/cmd_route.cc)
    std::map<uint32_t, RoutePatternConfig> route_patterns;
    std::map<uint32_t, RoutePatternConfig> inbound_patterns;
    mutable RouteCache route_cache;  // filled when the patterns are validated
    std::map<std::string, AccessPeerConfig> access_peers;  // by name (control/cmd_access.cc)
    AccessGuardSettings access_guard;
    bool operator==(const State&) const = default;
};

const char* server_mode_name(ServerMode m) noexcept;
const char* dns_cache_type_name(DnsCacheType t) noexcept;
/// The words of `set trunk <name> server <n> ...` for <e>: "192.0.2.1:5060 udp",
/// "[2001:db8::1] tls", "sip.example.com transport dnsNaptr".
std::string server_text(const ServerEntry& e);

/// The engine's knobs and retry policies for <s> (normalized, not validated).
failover::TrunkKnobs to_trunk_knobs(const TrunkSettings& s);
/// Accepts settings the engine accepts: cross-field rules (t2 ≥ t1, expire-time
/// ≥ threshold + 6, recover delay max ≥ min) and every policy. Rejects with a
/// message that names the knob.
Status validate_settings(const TrunkSettings& s);
/// Whether the trunk has what the engine needs to run it: servers, and an
/// identity when registration is on. Returns the reason when not.
std::optional<std::string> incomplete_reason(const TrunkConfig& t);
/// The engine's AddTrunk for a complete trunk.
failover::AddTrunk to_add_trunk(const TrunkConfig& t);
/// The server set of <t> (static list or DNS names still to resolve).
failover::ServerSet to_server_set(const TrunkConfig& t);
/// Issue 7: puts the engine's servers of trunk <id> in or out of maintenance
/// as <t>.maintenance (static slots) and <t>.maintenance_addrs (any server at
/// the address, DNS-resolved ones too) say (Engine::set_admin; idempotent, no rebuild). A
/// static slot maps to the engine servers with its address, port and
/// transport; DNS-mode slots are refused by the command, so none is in it.
void apply_maintenance(failover::Engine& e, uint32_t id, const TrunkConfig& t, failover::Millis now);

}  // namespace sipedge::ctl
