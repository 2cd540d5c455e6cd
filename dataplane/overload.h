#pragma once
// When is a worker behind? (issue 16, docs/capacity.md "Shedding when the
// worker is behind"). The worker loop feeds every RX poll (how many packets
// it took of how many it asked for) and, once per millisecond, asks whether
// new INVITEs should be shed. Pure arithmetic: no clock, no DPDK.
//
// A millisecond is behind when 3 of 4 of its polls found a full burst
// waiting (a slow poll may be the only one in it). A worker that keeps up
// sees mostly empty polls; one behind only full ones. Shedding starts when
// the worker has been behind for <after_ms> ticks in a row AND has drained at
// least <backlog> packets during that stretch: a burst that fits the RX ring
// (a flood of a few hundred INVITEs sent back to back, or a worker that lost
// its core for a few ms) is drained as it is, with nothing shed; only arrivals
// that keep refilling the ring faster than the worker empties it shed. It
// stops at the first millisecond that is not behind.

#include <cstdint>

namespace sipedge::dp {

class BehindDetector {
public:
    static constexpr uint32_t default_after_ms = 5;
    static constexpr uint32_t default_backlog = 512;  // half the default RX ring (port.h rx_desc)

    explicit BehindDetector(uint32_t after_ms = default_after_ms, uint32_t backlog = default_backlog)
        : after_ms_(after_ms), backlog_(backlog) {}

    /// One RX poll that took <n> packets of <asked>.
    void poll(uint32_t n, uint32_t asked) {
        polls_++;
        full_ += n == asked;
        stretch_pkts_ += n;
    }

    /// The millisecond ended: true when new INVITEs are to be shed until the next tick.
    bool tick() {
        const bool behind = full_ > 0 && full_ * 4 >= polls_ * 3;
        if (behind) {
            behind_ms_++;
        } else {
            behind_ms_ = 0;
            stretch_pkts_ = 0;
        }
        polls_ = full_ = 0;
        shed_ = behind_ms_ >= after_ms_ && stretch_pkts_ >= backlog_;
        return shed_;
    }

    bool shed() const { return shed_; }
    uint32_t behind_ms() const { return behind_ms_; }

private:
    uint32_t after_ms_, backlog_;
    uint32_t polls_ = 0, full_ = 0, behind_ms_ = 0;
    uint64_t stretch_pkts_ = 0;  // packets taken since the stretch of behind ms began
    bool shed_ = false;
};

}  // namespace sipedge::dp
