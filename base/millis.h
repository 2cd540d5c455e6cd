#pragma once
// Milliseconds of a monotonic clock: the one time unit of the control thread,
// failover's injected clock and the data plane's per-peer limits (the data
// plane converts TSC into it). failover::Millis, dns::Millis and dp::Millis are
// aliases of this type (issue 13), so a value passes between modules unchanged.

#include <cstdint>

namespace sipedge {

/// Milliseconds on a monotonic clock (never wall-clock time).
using Millis = uint64_t;
/// "No deadline": larger than any reachable time.
inline constexpr Millis never_ms = ~Millis(0);

}  // namespace sipedge
