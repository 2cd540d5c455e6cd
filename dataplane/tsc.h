#pragma once
// Time-stamp counter ticks to wall units, exact for any uptime. A plain
// ticks * 1000000 / hz overflows 64 bits after about 1.7 hours at 3 GHz,
// ticks * 1000 / hz after about 70 days: a carrier edge runs longer.

#include <cstdint>

namespace sipedge::dp {

/// <ticks> of a <hz> counter in microseconds (hz > 0, hz < 2^44).
constexpr uint64_t ticks_to_us(uint64_t ticks, uint64_t hz) noexcept {
    return ticks / hz * 1000000u + ticks % hz * 1000000u / hz;
}

}  // namespace sipedge::dp
