#pragma once
// What the proxy core needs from its configuration, from control and from
// the worker. The static part (ProxyConfig) is fixed at start-up; the routing
// part (Routes) is an immutable snapshot that control publishes through an
// RCU-protected pointer (STYLE.md §3.1) and replaces whenever the failover
// engine or the data-plane commands change it.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "dataplane/flood_guard.h"
#include "dataplane/iface.h"
#include "dataplane/trace_types.h"
#include "failover/events_types.h"
#include "failover/retry_policy.h"
#include "sipparse/types.h"

namespace sipedge::failover {
class Table;
}

namespace sipedge::dp {

class RouteTable;    // dataplane/route_table.h
class RouteScratch;

/// IPv4 address and port, host byte order, and the transport (issue 14):
/// udp is the worker's own; tcp/tls go through the stream thread
/// (stream/, docs/stream.md), which writes to the connection open with
/// that address (the one a request came in on, RFC 3261 §18.2.2) or opens one.
struct Endpoint {
    uint32_t ip = 0;
    uint16_t port = 0;
    sip::Transport tp = sip::Transport::udp;  // udp, tcp or tls
    uint8_t pad_ = 0;
    friend bool operator==(const Endpoint&, const Endpoint&) = default;
    bool stream() const noexcept { return tp != sip::Transport::udp; }
};
static_assert(sizeof(Endpoint) == 8);

/// Which trunk server a request goes to (PacketSink::send_sip).
struct SendNote {
    uint32_t trunk_id = 0;
    uint32_t list_epoch = 0;
    uint16_t server_idx = 0;
};

/// The stream thread's TLS client profile id of engine trunk <trunk_id>
/// (control sets it from the trunk's TLS settings; 0 is no profile).
inline uint32_t stream_profile(uint32_t trunk_id) noexcept { return trunk_id + 1; }

/// Start-up configuration of one worker's proxy core.
struct ProxyConfig {
    Endpoint self;                       // our SIP port; our address when <ifaces> is empty
    Ifaces ifaces;                       // our interfaces (dataplane/iface.h); empty: one,
                                         // self.ip, every destination on it
    failover::RetryPolicy direct_policy; // in-dialog/direct requests (RFC 3261 timers; T1/T2 used)
    uint32_t t4_ms = 5000;
    uint32_t timer_c_ms = 181000;        // proxy Timer C for forwarded INVITEs (§16.6: > 3 min)
    uint32_t retry_after_s = 30;         // Retry-After on the 503s we generate (0: none); a walk
                                         // whose servers sent 503 with one uses their smallest
    uint32_t max_txns = 16384;           // server + client transactions (slots) per core
    uint16_t max_udp_payload = 1472;     // MTU 1500 - 28; the worker fragments, so sipedge
                                         // raises it to MsgPool::max_size (control/edge.cc)
    // Overload control and tombstones (issue 16, dataplane/proxy_tomb.cc).
    uint32_t overload_percent = 90;      // a new out-of-dialog request is answered 503 once
                                         // transaction slots, index, timers or retained-message
                                         // slots are this full (Proxy::load_percent); 0: off
    uint32_t overload_retry_after_s = 5; // Retry-After on those 503s (0: none)
    uint32_t max_tombs = 0;              // completed transactions kept as tombstones; 0: 8 per
                                         // slot (max_txns × 8); the oldest go first when full
    uint32_t tomb_bytes = 0;             // bytes of messages they keep (final responses of
                                         // non-INVITEs, ACKs); 0: 64 per tombstone
    bool streams = false;                // issue 14: a stream thread runs (sipedge --sip-tcp):
                                         // trunk servers over TCP/TLS are candidates too
    uint16_t tls_port = 0;               // issue 14: our SIP-over-TLS port (sipedge --tls-cert):
                                         // in our Via/Record-Route over TLS, ours in a Route; 0: none
    uint32_t outbox_actions = 1024;      // issue 13: actions one call may leave (ProxyOutbox);
    uint32_t outbox_bytes = 1u << 20;    //   and their bytes; both raised to two steps' worth
    uint64_t rr_key[2] = {};             // issue 16: SipHash key of the token in our
                                         // Record-Route (dataplane/access_policy.h); one for
                                         // every worker, drawn at start by control/edge.cc
};

/// One direction's route patterns as a snapshot carries them (issue 6): the
/// compiled Hyperscan table, one scratch per worker made for that very table
/// (a scratch is written by a scan, so each worker has its own; one made for
/// another table gets scan_error), and what a pattern's target index means.
/// Everything pointed to is owned by control's snapshot and freed with it,
/// after the RCU grace period. table nullptr or empty: no patterns.
struct PatternRoutes {
    const RouteTable* table = nullptr;
    RouteScratch* const* scratch = nullptr;  // [worker core], `workers` entries
    uint32_t workers = 0;
    uint32_t target_count = 0;               // entries in trunk_ids[] or targets[]
    const uint32_t* trunk_ids = nullptr;     // outbound: target -> engine trunk id (~0u: not in the engine)
    const Endpoint* targets = nullptr;       // inbound: target -> access endpoint
    const uint32_t* target_ips = nullptr;    // inbound: the targets' addresses, sorted, unique
    uint32_t target_ip_count = 0;            //   (nullptr: the proxy scans targets[])
};
static_assert(std::is_trivially_copyable_v<PatternRoutes>);

/// The routing snapshot workers read (control publishes, workers acquire-load
/// once per loop and never keep a pointer past their next quiescent report).
/// Immutable once published; control frees it after an RCU grace period.
///
/// Where a new request goes (dataplane/proxy.cc route()): an in-dialog one
/// (To tag) or one with a Route follows Route / Request-URI, as far as the
/// access policy allows (issue 16, docs/security.md: behind our verified
/// Record-Route, or to `access` / an inbound target; else 403); an
/// out-of-dialog one is looked up by its Request-URI user part and source
/// address in `outbound` (from the access side: the matched pattern's trunk)
/// or `inbound` (from a carrier server: the matched pattern's access
/// target); no match falls back to `default_trunk` / `access`, and with no
/// fallback either the request is answered 404 Not Found.
struct Routes {
    const failover::Table* table = nullptr;  // the failover engine's per-trunk candidates
    PatternRoutes outbound;                  // access side -> trunk
    PatternRoutes inbound;                   // carrier side -> access target
    uint32_t default_trunk = ~0u;            // engine trunk id for new access-side requests; ~0 = none
    Endpoint access;                         // where new requests from a carrier go; ip 0 = none
    uint32_t carrier_count = 0;
    const uint32_t* carriers = nullptr;      // every trunk server's IPv4 address (host order;
                                             // configured or resolved), sorted, unique: a new
                                             // request from one of them is carrier-side
    uint32_t hidden_count = 0;
    const uint32_t* hidden = nullptr;        // the servers of trunks with topology-hiding on
                                             // (sorted, unique; a subset of carriers)
    const AccessPeers* access_peers = nullptr;  // access peers and flood guard (issue 16,
                                             // flood_guard.h); nullptr = none configured
    uint64_t version = 0;                    // control's publication counter (logs, tests)
    uint64_t patterns_version = 0;           // control's pattern publication counter (0: none)
};
static_assert(std::is_trivially_copyable_v<Routes>);

/// One SIP datagram crossing between control and a worker by value (control →
/// worker: a REGISTER/OPTIONS the engine wrote, sent from our SIP address;
/// worker → control: a response whose branch names the control core, or an
/// ICMP unreachable about one of control's requests). Fixed size so the rings
/// hold them without allocation. 1512 bytes.
struct ControlMsg {
    static constexpr size_t max_len = 1500;
    enum Kind : uint8_t {
        sip = 0,          // data: a whole SIP message
        unreachable = 1,  // data: the branch (dp::branch_len bytes) an ICMP error quoted
    };
    Endpoint peer;      // destination (to worker) or source (to control)
    uint16_t len = 0;   // bytes used in data[]
    uint8_t kind = sip;
    uint8_t pad_ = 0;
    char data[max_len];
};
static_assert(std::is_trivially_copyable_v<ControlMsg> && sizeof(ControlMsg) % 4 == 0);

/// Where the proxy's actions are carried out (dispatch(), proxy_outbox.h).
/// The worker builds UDP/IPv4/Ethernet around datagrams and moves events and
/// control-owned responses onto its rings. Called on the worker's own core;
/// nothing here may block.
class PacketSink {
public:
    /// Sends the SIP message <data>[0, len) from our SIP port to <to>: a UDP
    /// datagram, or over TCP/TLS (to.tp) through the stream thread. The
    /// bytes are copied before it returns.
    /// <note>: the trunk server a client request goes to (nullptr otherwise):
    /// a TCP/TLS connection opened for it is attributed to that server
    /// (connection failures feed failover) and uses the trunk's TLS profile.
    virtual void send_sip(Endpoint to, const char* data, size_t len, const SendNote* note) noexcept = 0;
    /// An observation about a trunk server for the failover engine (worker →
    /// control event ring). Default: dropped (tests that do not look).
    virtual void report(const failover::ServerEvent& ev) noexcept { (void)ev; }
    /// A response whose branch names the control core (REGISTER/OPTIONS that
    /// control sent through this worker): handed to control unchanged.
    virtual void to_control(Endpoint from, const char* data, size_t len) noexcept {
        (void)from, (void)data, (void)len;
    }
    /// One SIP message received or sent, copied for the live trace (issue 7);
    /// only called while Proxy::set_trace(true). Default: dropped.
    virtual void trace(const TraceSample& s) noexcept { (void)s; }
    /// An ICMP unreachable from <to> quoting a request control sent (its
    /// control-core <branch>): control's REGISTER/OPTIONS could not be delivered.
    virtual void control_unreachable(Endpoint to, const char* branch, size_t len) noexcept {
        (void)to, (void)branch, (void)len;
    }

protected:
    ~PacketSink() = default;
};

}  // namespace sipedge::dp
