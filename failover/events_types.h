#pragma once
// Records that cross the worker → control ring (ServerEvent) and the records
// the engine hands to the control loop (Notification). Both are fixed-size and
// trivially copyable (STYLE.md §2 "Types headers"): a worker writes them with
// rte_ring_sp_enqueue_elem and never blocks; control reads them by value.

#include <cstdint>
#include <type_traits>

#include "failover/retry_policy.h"

namespace sipedge::failover {

/// What a worker (or the control side's own REGISTER/OPTIONS transactions) saw
/// at one server. Only timeout, rejected_503 (when the trunk rolls over on 503)
/// and icmp_unreachable are failover triggers (seed P "Triggering Failover");
/// denied and connection_closed are reported for registration handling and
/// statistics only (seed P "When Failover Is Not Triggered").
enum class EventKind : uint8_t {
    none = 0,
    timeout,            // no response within the retry budget (seed A/P/C "no response")
    rejected_503,       // 503 Service Unavailable; `retry_after_s` when the header was present
    icmp_unreachable,   // ICMP port/host unreachable quoting our request (seed P)
    success,            // a final response (any status but 503) came back; `rtt_us` measured
    challenged,         // 401/407 from this server (seed P authOptimizedInFailover)
    denied,             // 403 or another denial: NOT a trigger (seed P)
    connection_closed,  // TCP FIN/RST or keep-alive loss: NOT a trigger; registration lost (seed P)
    dialog_start,       // a dialog was established through this server
    dialog_end,         // that dialog ended
    count_
};
const char* event_name(EventKind k) noexcept;

/// ServerEvent::flags bits.
enum EventFlag : uint8_t {
    ev_last_route = 1 << 0,  // the request was on the last route of its walk (seed P Retry-After rule)
    ev_register = 1 << 1,    // the request was a REGISTER (registration agent traffic)
    ev_in_dialog = 1 << 2,   // mid-dialog request: the server was chosen by the dialog, not the table
};

/// One observation about one server of one trunk. 32 bytes.
struct ServerEvent {
    Millis at_ms = 0;            // control clock; workers convert their TSC before enqueueing
    uint32_t trunk_id = 0;
    uint32_t rtt_us = 0;         // success: first send of the final attempt → final response
    uint32_t retry_after_s = 0;  // rejected_503: Retry-After delta-seconds, 0 = absent
    uint32_t list_epoch = 0;     // the trunk's server-list epoch the request was routed with
    uint16_t server_idx = 0;     // index in the server list of `list_epoch`
    uint16_t status = 0;         // the SIP status when one was received
    uint16_t identity = 0xffff;  // dialog_*: identity index when known; 0xffff = trunk-wide
    EventKind kind = EventKind::none;
    uint8_t flags = 0;           // EventFlag bits
};
static_assert(std::is_trivially_copyable_v<ServerEvent> && sizeof(ServerEvent) == 32);

/// Things the control loop reports to operators (SNMP-like traps, logs).
enum class NoticeKind : uint8_t {
    none = 0,
    registration_failures,  // seed A "snmp trap registration failures N interval S"
    registered,             // an identity holds a binding on `server_idx`
    registration_lost,      // all routes failed / binding expired: back-off started
    server_failed,          // a trigger marked the server failed
    server_recovered,       // a failed server is selectable again
    failed_over,            // the trunk's active server moved off the primary
    failed_back,            // the trunk returned to its primary
    count_
};
const char* notice_name(NoticeKind k) noexcept;

struct Notification {
    Millis at_ms = 0;
    uint32_t trunk_id = 0;
    uint32_t count = 0;       // registration_failures: failures since the previous notice
    uint16_t server_idx = 0xffff;
    uint16_t identity = 0xffff;
    NoticeKind kind = NoticeKind::none;
    uint8_t pad_[7] = {};
};
static_assert(std::is_trivially_copyable_v<Notification> && sizeof(Notification) == 32);

}  // namespace sipedge::failover
