#pragma once
// One SIP message seen by a worker, for the live trace (issue 7: `monitor
// trace`). Crosses the worker → control trace ring (SP/SC, one per worker,
// control/dp_link.h) by value, so it is fixed size and trivially copyable.
// Copied only while control says someone traces (WorkerLinks::trace_wanted,
// read once per burst); the control thread drains the rings and calls
// ctl::Monitor::feed_trace(). 512 bytes.

#include <cstdint>
#include <type_traits>

#include "failover/retry_policy.h"

namespace sipedge::dp {

struct TraceSample {
    failover::Millis at_ms = 0;     // control clock (workers share control's TSC base)
    uint32_t trunk_id = 0xffffffff; // engine trunk id, 0xffffffff = not known (yet)
    uint16_t src_port = 0, dst_port = 0;
    uint8_t src[16] = {}, dst[16] = {};  // IPv4 in the first 4 bytes when family is 4
    uint8_t family = 4;             // 4 or 6
    uint8_t dir = 0;                // 0 = received, 1 = sent
    uint8_t call_id_len = 0;
    uint8_t core = 0;               // worker lcore index
    uint16_t msg_len = 0;           // whole message length
    uint16_t head_len = 0;          // bytes of the message copied into head
    char call_id[96] = {};          // the Call-ID value (truncated at 96)
    char head[360] = {};            // the start of the message (start line, headers)
};
static_assert(std::is_trivially_copyable_v<TraceSample> && sizeof(TraceSample) == 512);

}  // namespace sipedge::dp
