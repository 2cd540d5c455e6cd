#pragma once
// One table of the worker's scalar counters (issue 13): each WorkerStats
// counter once, with the names every view uses — `show stats` and DPDK
// telemetry (`name`), the exit JSON (`section`.`key`) and Prometheus
// (`metric`{`label`=`value`}). control/edge_report.cc, control/telemetry.cc and
// control/metrics.cc iterate it; tests/dataplane/stats_table_test.cc fails
// when a WorkerStats counter has no row (or two). The arrays (port_rx,
// port_tx, port_udp_csum_partial, drops) have views of their own.

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/stats_types.h"

namespace sipedge::dp {

struct CounterInfo {
    const char* name;             // the field's name: show stats, telemetry
    uint64_t WorkerStats::*field;
    const char* section;          // exit JSON section
    const char* key;              // key inside it
    const char* metric = nullptr; // Prometheus family (help text: control/metrics.cc); nullptr: none
    const char* label = nullptr;  // its label name; nullptr: none
    const char* value = nullptr;  // the label's value
    bool gauge = false;           // a level, not a counter (transactions active)
};

#define SIPEDGE_C(f, sec, k, ...) CounterInfo{#f, &WorkerStats::f, sec, k, __VA_ARGS__}
inline constexpr CounterInfo worker_counter_table[] = {
    SIPEDGE_C(rx_packets, "rx", "packets", "sipedge_worker_packets_total", "direction", "rx"),
    SIPEDGE_C(rx_bytes, "rx", "bytes", "sipedge_worker_bytes_total", "direction", "rx"),
    SIPEDGE_C(udp_rx, "rx", "udp"),
    SIPEDGE_C(rx_udp_csum_partial, "rx", "udp_csum_partial"),  // metrics: per core, own family
    SIPEDGE_C(tx_packets, "tx", "packets", "sipedge_worker_packets_total", "direction", "tx"),
    SIPEDGE_C(tx_bytes, "tx", "bytes", "sipedge_worker_bytes_total", "direction", "tx"),
    SIPEDGE_C(udp_tx, "tx", "udp"),
    // loop time (issue 12; metrics: per core, own families)
    SIPEDGE_C(busy_cycles, "cycles", "busy"),
    SIPEDGE_C(idle_cycles, "cycles", "idle"),
    SIPEDGE_C(busy_polls, "cycles", "busy_polls"),
    SIPEDGE_C(idle_polls, "cycles", "idle_polls"),
    SIPEDGE_C(arp_requests_rx, "arp", "requests_rx"),
    SIPEDGE_C(arp_replies_tx, "arp", "replies_tx"),
    SIPEDGE_C(arp_requests_tx, "arp", "requests_tx"),
    SIPEDGE_C(arp_replies_rx, "arp", "replies_rx"),
    SIPEDGE_C(arp_primed, "arp", "primed"),
    SIPEDGE_C(icmp_echo_rx, "icmp", "echo_rx"),
    SIPEDGE_C(icmp_unreach_rx, "icmp", "unreach_rx"),
    SIPEDGE_C(icmp_unreach_matched, "icmp", "unreach_matched"),
    SIPEDGE_C(sip_requests_rx, "sip", "requests_rx", "sipedge_worker_sip_requests_total", "direction", "rx"),
    SIPEDGE_C(sip_responses_rx, "sip", "responses_rx", "sipedge_worker_sip_responses_total", "direction", "rx"),
    SIPEDGE_C(sip_requests_tx, "sip", "requests_tx", "sipedge_worker_sip_requests_total", "direction", "tx"),
    SIPEDGE_C(sip_responses_tx, "sip", "responses_tx", "sipedge_worker_sip_responses_total", "direction", "tx"),
    SIPEDGE_C(sip_retransmissions_rx, "sip", "retransmissions_rx", "sipedge_worker_retransmissions_total", "direction", "rx"),
    SIPEDGE_C(sip_retransmissions_tx, "sip", "retransmissions_tx", "sipedge_worker_retransmissions_total", "direction", "tx"),
    SIPEDGE_C(responses_generated, "sip", "responses_generated", "sipedge_worker_responses_generated_total"),
    SIPEDGE_C(stateless_forwarded, "sip", "stateless_forwarded", "sipedge_worker_stateless_forwarded_total"),
    SIPEDGE_C(acks_rx, "sip", "acks_rx", "sipedge_worker_sip_methods_rx_total", "method", "ACK"),
    SIPEDGE_C(byes_rx, "sip", "byes_rx", "sipedge_worker_sip_methods_rx_total", "method", "BYE"),
    SIPEDGE_C(cancels_rx, "sip", "cancels_rx", "sipedge_worker_sip_methods_rx_total", "method", "CANCEL"),
    SIPEDGE_C(cancels_passed, "sip", "cancels_passed", "sipedge_worker_handoff_total", "op", "cancel_passed"),
    SIPEDGE_C(sip_cross_iface, "sip", "cross_iface", "sipedge_worker_cross_interface_requests_total"),
    SIPEDGE_C(txn_server_created, "transactions", "server_created", "sipedge_worker_transactions_total", "kind", "server"),
    SIPEDGE_C(txn_client_created, "transactions", "client_created", "sipedge_worker_transactions_total", "kind", "client"),
    SIPEDGE_C(txn_server_active, "transactions", "server_active", "sipedge_worker_transactions_active", "kind", "server", true),
    SIPEDGE_C(txn_client_active, "transactions", "client_active", "sipedge_worker_transactions_active", "kind", "client", true),
    SIPEDGE_C(txn_failed_timeout, "transactions", "failed_timeout", "sipedge_worker_transaction_failures_total", "trigger", "timeout"),
    SIPEDGE_C(txn_failed_503, "transactions", "failed_503", "sipedge_worker_transaction_failures_total", "trigger", "rejected_503"),
    SIPEDGE_C(txn_failed_icmp, "transactions", "failed_icmp", "sipedge_worker_transaction_failures_total", "trigger", "icmp_unreachable"),
    SIPEDGE_C(txn_failed_cancelled, "transactions", "failed_cancelled", "sipedge_worker_transaction_failures_total", "trigger", "cancelled"),
    SIPEDGE_C(txn_failed_timer_c, "transactions", "failed_timer_c", "sipedge_worker_transaction_failures_total", "trigger", "timer_c"),
    SIPEDGE_C(txn_failed_provisional, "transactions", "failed_provisional", "sipedge_worker_transaction_failures_total", "trigger", "provisional_timeout"),
    SIPEDGE_C(rollover_timeout, "transactions", "rollover_timeout", "sipedge_worker_rollovers_total", "trigger", "timeout"),
    SIPEDGE_C(rollover_503, "transactions", "rollover_503", "sipedge_worker_rollovers_total", "trigger", "rejected_503"),
    SIPEDGE_C(rollover_icmp, "transactions", "rollover_icmp", "sipedge_worker_rollovers_total", "trigger", "icmp_unreachable"),
    SIPEDGE_C(timer_c_fired, "transactions", "timer_c_fired", "sipedge_worker_timer_c_fired_total"),
    SIPEDGE_C(provisional_timeouts, "transactions", "provisional_timeouts", "sipedge_worker_provisional_timeouts_total"),
    SIPEDGE_C(txn_revived, "transactions", "revived", "sipedge_worker_transactions_revived_total"),
    SIPEDGE_C(txn_resent_closed, "transactions", "resent_closed", "sipedge_worker_transactions_resent_closed_total"),
    SIPEDGE_C(calls_attempted, "calls", "attempted", "sipedge_worker_calls_total", "result", "attempted"),
    SIPEDGE_C(calls_answered, "calls", "answered", "sipedge_worker_calls_total", "result", "answered"),
    SIPEDGE_C(calls_failed, "calls", "failed", "sipedge_worker_calls_total", "result", "failed"),
    SIPEDGE_C(events_reported, "control", "events_reported", "sipedge_worker_control_ring_total", "op", "events_reported"),
    SIPEDGE_C(events_dropped, "control", "events_dropped", "sipedge_worker_control_ring_total", "op", "events_dropped"),
    SIPEDGE_C(control_tx, "control", "worker_sent", "sipedge_worker_control_ring_total", "op", "requests_sent"),
    SIPEDGE_C(control_rx, "control", "responses_steered", "sipedge_worker_control_ring_total", "op", "responses_steered"),
    SIPEDGE_C(control_rx_dropped, "control", "steer_dropped", "sipedge_worker_control_ring_total", "op", "steer_dropped"),
    SIPEDGE_C(ipv4_fragments_rx, "ipv4", "fragments_rx", "sipedge_worker_ipv4_fragments_total", "direction", "rx"),
    SIPEDGE_C(ipv4_reassembled, "ipv4", "reassembled", "sipedge_worker_ipv4_datagrams_fragmented_total", "op", "reassembled"),
    SIPEDGE_C(ipv4_fragmented_tx, "ipv4", "fragmented_tx", "sipedge_worker_ipv4_datagrams_fragmented_total", "op", "fragmented"),
    SIPEDGE_C(ipv4_fragments_tx, "ipv4", "fragments_tx", "sipedge_worker_ipv4_fragments_total", "direction", "tx"),
    SIPEDGE_C(route_matched, "routes", "matched", "sipedge_worker_route_lookups_total", "result", "matched"),
    SIPEDGE_C(route_no_match, "routes", "no_match", "sipedge_worker_route_lookups_total", "result", "no_match"),
    SIPEDGE_C(route_bad_input, "routes", "bad_input", "sipedge_worker_route_lookups_total", "result", "bad_input"),
    SIPEDGE_C(route_scan_error, "routes", "scan_error", "sipedge_worker_route_lookups_total", "result", "scan_error"),
    SIPEDGE_C(handoff_pushed, "handoff", "pushed", "sipedge_worker_handoff_total", "op", "pushed"),
    SIPEDGE_C(handoff_drained, "handoff", "drained", "sipedge_worker_handoff_total", "op", "drained"),
    SIPEDGE_C(arp_shared, "handoff", "arp_shared", "sipedge_worker_handoff_total", "op", "arp_shared"),
    SIPEDGE_C(handoff_reassembled_rx, "handoff", "reassembled_rx", "sipedge_worker_handoff_total", "op", "reassembled_rx"),
    SIPEDGE_C(trace_copied, "trace", "copied", "sipedge_worker_trace_samples_total", "result", "copied"),
    SIPEDGE_C(trace_dropped, "trace", "dropped", "sipedge_worker_trace_samples_total", "result", "dropped"),
    // issue 16: overload control and tombstones
    SIPEDGE_C(overload_503, "capacity", "overload_503", "sipedge_worker_overload_rejected_total"),
    SIPEDGE_C(tombs_created, "capacity", "tombs_created", "sipedge_worker_tombstones_total", "op", "created"),
    SIPEDGE_C(tomb_hits, "capacity", "tomb_hits", "sipedge_worker_tombstones_total", "op", "hit"),
    SIPEDGE_C(tombs_evicted, "capacity", "tombs_evicted", "sipedge_worker_tombstones_total", "op", "evicted"),
    SIPEDGE_C(shed_ms, "capacity", "shed_ms", "sipedge_worker_overload_shed_milliseconds_total"),
    SIPEDGE_C(retained_grown, "capacity", "retained_grown", "sipedge_worker_retained_grown_total"),
    // issue 16: the access policy, absorbed ACKs, 400s to malformed requests
    SIPEDGE_C(policy_route_denied, "policy", "route_denied", "sipedge_worker_policy_refusals_total", "reason", "route"),
    SIPEDGE_C(policy_dialog_denied, "policy", "dialog_denied", "sipedge_worker_policy_refusals_total", "reason", "dialog"),
    SIPEDGE_C(policy_token_bad, "policy", "token_bad", "sipedge_worker_policy_refusals_total", "reason", "token"),
    SIPEDGE_C(policy_loop, "policy", "loop", "sipedge_worker_policy_refusals_total", "reason", "loop"),
    SIPEDGE_C(acks_absorbed, "policy", "acks_absorbed", "sipedge_worker_acks_absorbed_total"),
    SIPEDGE_C(reject_records_overwritten, "policy", "reject_records_overwritten", "sipedge_worker_reject_records_overwritten_total"),
    SIPEDGE_C(malformed_answered, "policy", "malformed_answered", "sipedge_worker_malformed_answered_total"),
    // issue 16: topology hiding
    SIPEDGE_C(hide_requests, "hide", "requests", "sipedge_worker_topology_hiding_total", "op", "request_hidden"),
    SIPEDGE_C(hide_responses, "hide", "responses", "sipedge_worker_topology_hiding_total", "op", "response_hidden"),
    SIPEDGE_C(hide_restored, "hide", "restored", "sipedge_worker_topology_hiding_total", "op", "vias_restored"),
    SIPEDGE_C(hide_decoded, "hide", "decoded", "sipedge_worker_topology_hiding_total", "op", "uri_decoded"),
    SIPEDGE_C(hide_bad, "hide", "bad", "sipedge_worker_topology_hiding_total", "op", "uri_refused"),
    SIPEDGE_C(hide_contact_kept, "hide", "contact_kept", "sipedge_worker_topology_hiding_total", "op", "contact_kept"),
    // issue 16: access peers and the flood guard
    SIPEDGE_C(guard_not_peer, "guard", "not_peer", "sipedge_worker_guard_refusals_total", "reason", "not_peer"),
    SIPEDGE_C(guard_source_flood, "guard", "source_flood", "sipedge_worker_guard_refusals_total", "reason", "source_flood"),
    SIPEDGE_C(guard_peer_rate, "guard", "peer_rate", "sipedge_worker_guard_refusals_total", "reason", "peer_rate"),
    SIPEDGE_C(guard_dropped, "guard", "dropped", "sipedge_worker_guard_dropped_total"),
    // issue 14: the kernel exception path
    SIPEDGE_C(exception_to_kernel, "exception", "to_kernel", "sipedge_worker_exception_packets_total", "direction", "to_kernel"),
    SIPEDGE_C(exception_from_kernel, "exception", "from_kernel", "sipedge_worker_exception_packets_total", "direction", "from_kernel"),
    // issue 14: SIP over TCP/TLS through the stream thread
    SIPEDGE_C(stream_rx, "stream", "rx", "sipedge_worker_stream_messages_total", "direction", "rx"),
    SIPEDGE_C(stream_tx, "stream", "tx", "sipedge_worker_stream_messages_total", "direction", "tx"),
    SIPEDGE_C(stream_bounced, "stream", "bounced", "sipedge_worker_stream_messages_total", "direction", "bounced"),
    SIPEDGE_C(stream_closed, "stream", "closed", "sipedge_worker_stream_closed_total"),
};
#undef SIPEDGE_C

inline constexpr std::span<const CounterInfo> worker_counters() noexcept { return worker_counter_table; }

}  // namespace sipedge::dp
