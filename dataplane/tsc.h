#pragma once
// Time-stamp counter ticks to wall units, exact for any uptime. A plain
// ticks * 1000000 / hz overflows 64 bits after about 1.7 hours at 3 GHz,
// ticks * 1000 / hz after about 70 days: a carrier edge runs longer.

#include <cstdint>

namespace sipedge::dp {

/// <ticks> of a <hz> counter in microseconds (hz > 0, hz < 2^44): exact,
/// two divisions.
constexpr uint64_t ticks_to_us(uint64_t ticks, uint64_t hz) noexcept {
    return ticks / hz * 1000000u + ticks % hz * 1000000u / hz;
}

/// The same with one 64×64→128-bit multiply and a shift, for the workers'
/// busy loop (it reads the clock after every poll): us = ticks · m >> 40 with
/// m = round(10^6 · 2^40 / hz). m's rounding (±0.5) is a relative error of at
/// most 2^-41 · hz / 10^6 (1.8e-9 at 4 GHz: 16 ms over 100 days of uptime);
/// the product stays under 2^104 for any 64-bit tick count at hz ≥ 1 MHz.
class TscToUs {
public:
    explicit constexpr TscToUs(uint64_t hz) noexcept
        : m_(((uint64_t(1000000) << 40) + hz / 2) / hz) {}
    constexpr uint64_t operator()(uint64_t ticks) const noexcept {
        return uint64_t((unsigned __int128)ticks * m_ >> 40);
    }

private:
    uint64_t m_;
};

}  // namespace sipedge::dp
