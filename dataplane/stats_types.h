#pragma once
// Per-core counters of one worker (STYLE.md §3.4): each worker writes only its
// own block, the control side reads and sums them when asked (here: once, at
// exit). Plain uint64_t, no atomics on the hot path; a reader on another
// thread may see a counter a few increments behind, which is fine for stats.

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace sipedge::dp {

/// Why a packet (or a message we would have sent) was dropped. Every drop on
/// the worker increments exactly one of these.
enum class DropReason : uint8_t {
    eth_short,          // frame shorter than an Ethernet header
    eth_not_for_us,     // unicast MAC that is not ours
    eth_type,           // neither IPv4 nor ARP (IPv6 comes with a later issue)
    arp_malformed,
    arp_not_for_us,     // ARP for another address (learned from, still dropped)
    arp_unresolved,     // TX: next hop did not answer ARP in time / pending slot taken
    ipv4_malformed,     // version, IHL, total length
    ipv4_bad_csum,
    ipv4_not_for_us,
    ipv4_fragment,      // a reassembled datagram over the worker's 64 KiB buffer
    ipv4_proto,         // neither UDP nor ICMP (nor TCP with an exception path)
    icmp_malformed,
    icmp_bad_csum,
    icmp_other,         // ICMP types we do not handle
    udp_malformed,
    udp_bad_csum,
    udp_port,           // not our SIP port
    sip_parse,          // parse() refused it (a 400 is sent for requests when possible)
    sip_not_udp,        // top Via transport not UDP on a request
    sip_foreign_branch, // response whose top Via is not a branch we wrote
    sip_stale_branch,   // response for a finished transaction or an old attempt
    sip_no_route,       // no destination for a request
    sip_too_big,        // message over max_udp_payload, or its fragments over the limit
    sip_rewrite,        // the rewriter refused (too many edits, does not fit)
    txn_exhausted,      // no transaction slot / buffer / table room (503 sent)
    timer_exhausted,    // timer pool empty
    mbuf_exhausted,     // TX: mempool empty
    tx_full,            // TX: the queue did not take the packet
    ipv4_frag_malformed,  // fragment with a bad header/length (dataplane/ipfrag.h)
    ipv4_frag_duplicate,  // exact copy of a fragment already held
    ipv4_frag_overlap,    // overlapping fragments: whole datagram dropped
    ipv4_frag_too_many,   // more fragments than the table allows per datagram
    ipv4_frag_no_room,    // reassembly table full
    ipv4_frag_timeout,    // datagram incomplete after the reassembly timeout
    handoff_full,         // owner core's handoff ring full (dataplane/handoff.h)
    vlan_mismatch,        // RX: a frame untagged on a VLAN port, or tagged with another VLAN id
    ipv4_no_route,        // TX: no interface's subnet holds the destination and none has a gateway
    ipv4_truncated,       // RX: a frame holding less than its IPv4 total length (cut by the port:
                          //   net_af_packet framesz, dataplane/af_packet.h; issue 16)
    sip_forbidden,        // issue 16 access policy: a request refused 403 (an ACK: dropped);
                          //   the reason in WorkerStats::policy_*
    sip_loop,             // issue 16: a Route naming us after ours / a next hop that is us (482)
    sip_shed,             // issue 16 overload: an INVITE dropped unparsed while the worker is behind
                          //   (its RX polls kept returning full bursts; docs/capacity.md)
    exception_full,       // issue 14: the tap (kernel exception path) did not take a frame
    exception_other,      // issue 14: a frame from the kernel that is neither IPv4 from our address
                          //   nor ARP (IPv6 neighbour discovery, ...): not sent
    stream_off,           // issue 14: a message for a TCP/TLS destination, no stream transport
                          //   running (sipedge without --sip-tcp)
    stream_full,          // issue 14: the stream thread's send slots were all taken (it is behind)
    outbox_full,          // issue 13: an action the proxy's outbox had no room for (never expected:
                          //   a call gets an emptied outbox, the bulk loops stop before it fills)
    count_
};
inline constexpr size_t drop_reason_count = size_t(DropReason::count_);
const char* drop_reason_name(DropReason r) noexcept;

/// One worker's counters. Cache-aligned so two workers' blocks never share a
/// line (false sharing would turn every increment into a coherence miss).
struct alignas(64) WorkerStats {
    // L2/L3
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
    uint64_t port_rx[4] = {}, port_tx[4] = {};  // packets per port (WorkerConfig::ports index)
    uint64_t arp_requests_rx = 0, arp_replies_tx = 0, arp_requests_tx = 0, arp_replies_rx = 0;
    uint64_t icmp_echo_rx = 0, icmp_unreach_rx = 0, icmp_unreach_matched = 0;
    uint64_t udp_rx = 0, udp_tx = 0;
    // SIP
    uint64_t sip_requests_rx = 0, sip_responses_rx = 0;
    uint64_t sip_requests_tx = 0, sip_responses_tx = 0;
    uint64_t sip_retransmissions_rx = 0;  // absorbed by a server transaction
    uint64_t sip_retransmissions_tx = 0;  // sent by a timer (A/E/G)
    uint64_t responses_generated = 0;     // 100/400/408/481/483/487/503 from us
    uint64_t txn_server_created = 0, txn_client_created = 0;
    uint64_t txn_server_active = 0, txn_client_active = 0;
    uint64_t txn_failed_timeout = 0, txn_failed_503 = 0, txn_failed_icmp = 0,
             txn_failed_cancelled = 0;
    uint64_t rollover_timeout = 0, rollover_503 = 0, rollover_icmp = 0;
    uint64_t stateless_forwarded = 0;     // ACK for 2xx and strays, end to end
    uint64_t handoff_reassembled_rx = 0;  // datagrams another worker reassembled and handed us
    uint64_t timer_c_fired = 0;           // forwarded INVITEs cancelled by Timer C (§16.8)
    uint64_t txn_failed_timer_c = 0;      // ... and answered 408 upstream (no final in time)
    uint64_t provisional_timeouts = 0;    // branches CANCELled by the trunk's provisional-timeout
    uint64_t txn_failed_provisional = 0;  // ... and answered 408 upstream (after a 101-199 or
                                          //   on the last server; else the call rolled over)
    uint64_t txn_revived = 0;             // requests resent at once when a silent server answered
                                          //   again (Proxy::revive(): a probe's answer, any response)
    uint64_t sip_cross_iface = 0;         // rollovers to a server behind another interface (Via/RR rewritten)
    uint64_t calls_attempted = 0;         // new INVITE server transactions
    uint64_t calls_answered = 0;          // first 2xx relayed for an INVITE
    uint64_t calls_failed = 0;            // final >= 300 relayed or generated for an INVITE
    uint64_t cancels_rx = 0, byes_rx = 0, acks_rx = 0;  // CANCELs: where answered (see cancels_passed)
    // worker <-> control rings (control/main.cc)
    uint64_t events_reported = 0;          // ServerEvents the proxy produced
    uint64_t events_dropped = 0;           // event ring full (control behind)
    uint64_t control_rx = 0;               // responses for control's REGISTER/OPTIONS
    uint64_t control_rx_dropped = 0;       // worker -> control ring full
    uint64_t control_tx = 0;               // control's requests sent from our SIP address
    // IPv4 fragments (dataplane/ipfrag.h, adopted by the worker)
    uint64_t ipv4_fragments_rx = 0;        // fragments for us handed to the reassembler
    uint64_t ipv4_reassembled = 0;         // datagrams reassembled and handled
    uint64_t ipv4_fragmented_tx = 0;       // datagrams over the MTU we sent fragmented
    uint64_t ipv4_fragments_tx = 0;        // fragments those became
    // route patterns on new out-of-dialog requests (dataplane/proxy.cc route())
    uint64_t route_matched = 0;            // a pattern chose the trunk / access target
    uint64_t route_no_match = 0;           // no pattern matched: default trunk / access
    uint64_t route_bad_input = 0;          // user part over 128 bytes, bad %-escape: as no match
    uint64_t route_scan_error = 0;         // scratch missing or not this table's: as no match
    // cross-core handoff (dataplane/handoff.h; several workers)
    uint64_t handoff_pushed = 0;           // responses handed to the core their branch names
    uint64_t handoff_drained = 0;          // packets taken from our handoff ring
    uint64_t cancels_passed = 0;           // CANCELs for no transaction of ours handed to the
                                           //   next worker (its INVITE may be there: RSS)
    uint64_t arp_shared = 0;               // ARP copies sent to / learned from the other workers
    // live SIP trace (issue 7; only while `monitor trace` has a subscriber)
    uint64_t trace_copied = 0;             // messages copied into a TraceSample
    uint64_t trace_dropped = 0;            // trace ring full (control behind): sample lost
    // overload control and tombstones (issue 16, dataplane/proxy_tomb.cc)
    uint64_t overload_503 = 0;             // new out-of-dialog requests answered 503 + Retry-After
                                           //   above the load watermark (in-dialog ones go on)
    uint64_t tombs_created = 0;            // completed transactions that gave their slot and
                                           //   buffer back and became tombstones
    uint64_t tomb_hits = 0;                // late copies a tombstone answered (final response
                                           //   resent, ACK resent, 2xx relayed) or absorbed
    uint64_t shed_ms = 0;                  // milliseconds the worker shed new INVITEs (behind 5 ms in
                                           //   a row with 512 packets drained: dataplane/overload.h;
                                           //   drops.sip_shed)
    uint64_t tombs_evicted = 0;            // tombstones dropped before their expiry for room
                                           //   (the absorption window grew short)
    // access policy (issue 16, dataplane/proxy.cc route(); docs/security.md): why requests were
    // refused 403 (ACKs: dropped), by reason
    uint64_t policy_route_denied = 0;      // a Route we did not write, to no access-side destination
    uint64_t policy_dialog_denied = 0;     // in dialog, no Route of ours, Request-URI to no
                                           //   access-side destination (or none, from the access side)
    uint64_t policy_token_bad = 0;         // in dialog, our address on top of Route without the
                                           //   dialog's token (missing, forged, another dialog's)
    uint64_t policy_loop = 0;              // 482: a Route naming us after ours, a next hop that is us
    uint64_t acks_absorbed = 0;            // ACKs of our stateless rejections (To tag we minted), consumed
    uint64_t reject_records_overwritten = 0;  // rejection records reused before their 32 s (ring full)
    // access peers and flood guard (issue 16, flood_guard.h; out-of-dialog requests from the access side)
    uint64_t guard_not_peer = 0;           // 403: source in no access peer's networks (restrict-sources on)
    uint64_t guard_source_flood = 0;       // refused: the source passed source-rps and is blocked
    uint64_t guard_peer_rate = 0;          // refused: its peer's bucket for this kind was empty
    uint64_t guard_dropped = 0;            // of the last two, dropped silently (action drop) instead of 503
    // topology hiding (issue 16, dataplane/proxy_hide.cc; docs/security.md)
    uint64_t hide_requests = 0;            // requests sent to a carrier hidden (access Vias and
                                           //   Record-Routes saved, Contact encoded)
    uint64_t hide_responses = 0;           // responses sent to a carrier hidden (Contact encoded,
                                           //   access-side Record-Routes cut)
    uint64_t hide_restored = 0;            // responses that got their saved Vias back
    uint64_t hide_decoded = 0;             // Request-URIs naming us with ;sxh= sent to the Contact it encodes
    uint64_t hide_bad = 0;                 // 404: a Request-URI naming us with a ;sxh= we did not mint
    uint64_t hide_contact_kept = 0;        // a Contact left as it was (not an IPv4 sip/sips URI)
    uint64_t malformed_answered = 0;       // requests parse() refused, answered 400/505 (a Via was
                                           //   readable); the others are only counted (drops.sip_parse)
    uint64_t drops[drop_reason_count] = {};

    void drop(DropReason r) noexcept { drops[size_t(r)]++; }
    uint64_t drops_total() const noexcept {
        uint64_t t = 0;
        for (uint64_t d : drops) t += d;
        return t;
    }

    // ---- issue 12 (operations): keep this block last; every field a uint64_t counter
    // (control/edge_report.cc add_stats() sums worker_stats_counter_bytes of the struct).
    // UDP checksums left to an offload that never happened (a veth peer's
    // CHECKSUM_PARTIAL read through net_af_packet/net_tap: the field holds the
    // pseudo-header partial sum), or datagrams the PMD flagged
    // RTE_MBUF_F_RX_L4_CKSUM_NONE (data intact, checksum not filled in): accepted.
    uint64_t rx_udp_csum_partial = 0;
    uint64_t port_udp_csum_partial[4] = {};  // the same per port (WorkerConfig::ports index)
    // Worker loop time in TSC cycles (rte_get_tsc_hz() per second): iterations
    // that received, drained or sent something (busy) and empty ones (idle).
    uint64_t busy_cycles = 0, idle_cycles = 0;
    uint64_t busy_polls = 0, idle_polls = 0;  // loop iterations of each kind
    // ---- issue 14: the kernel exception path (a net_tap port per data port,
    // docs/stream.md "Exception path"); counters, as the block above.
    uint64_t exception_to_kernel = 0;      // frames written to the tap: TCP for our address, ARP replies
    uint64_t exception_from_kernel = 0;    // the kernel's frames (IPv4, ARP) sent out of the data port
    // ARP requests sent ahead of traffic for trunk servers' next hops
    // (Worker::prime_next_hops): a first burst to a backup carrier is not
    // parked beyond ArpCache::park_max and dropped.
    uint64_t arp_primed = 0;
    // ---- issue 14: SIP over TCP/TLS through the stream thread (stream/,
    // docs/stream.md): whole messages taken from and handed to it.
    uint64_t stream_rx = 0, stream_tx = 0;
    uint64_t stream_bounced = 0;  // our requests back undelivered (their connection failed)
    uint64_t stream_closed = 0;   // notices of a closed open connection (msg_closed)
    uint64_t txn_resent_closed = 0;  // unanswered requests resent after their connection closed
    // ---- issue 15: retained requests are kept in the smallest slot that holds
    // them; a rollover that lengthens one (Via, Record-Route, Request-URI host
    // for another server) moves it to a larger slot (Proxy::grow()).
    uint64_t retained_grown = 0;
};
static_assert(std::is_trivially_copyable_v<WorkerStats> && alignof(WorkerStats) == 64);
/// Bytes of WorkerStats that are uint64_t counters, from the start: one past
/// the last field (the rest is alignment padding).
inline constexpr size_t worker_stats_counter_bytes =
    offsetof(WorkerStats, retained_grown) + sizeof(uint64_t);
static_assert(worker_stats_counter_bytes % sizeof(uint64_t) == 0);

}  // namespace sipedge::dp
