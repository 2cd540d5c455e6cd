#pragma once
// The IPv4 addresses of every server the failover engine holds (configured
// or resolved), sorted and unique, and those of trunks with topology hiding
// on: what control/dp_link.cc publishes to the workers as Routes::carriers
// and Routes::hidden (issue 16: a new request from one of them is
// carrier-side).
//
// Kept up to date incrementally: per engine trunk id it remembers the list
// epoch, hiding flag and addresses it counted; update() walks the trunk ids
// (a compare each) and re-counts only the trunks whose list changed. A DNS
// answer for one of 10,000 trunks used to re-parse and re-sort all 40,000
// addresses (bench/RESULTS-control.md "Churn"). Many changes at once (a new
// engine, a large commit) rebuild from the per-trunk lists with one sort.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sipedge::failover {
class Engine;
}

namespace sipedge::ctl {

class CarrierIndex {
public:
    /// Brings the sets up to <e>. False: both sets are certainly unchanged;
    /// true: they may have changed (an address dropped by one trunk and taken
    /// by another in the same update counts as a change).
    bool update(const failover::Engine& e);
    /// Sorted, unique.
    const std::vector<uint32_t>& all() const noexcept { return all_.key; }
    const std::vector<uint32_t>& hidden() const noexcept { return hidden_.key; }
    /// Trunks re-counted by the last update() (tests, bench).
    size_t last_recounted() const noexcept { return recounted_; }
    bool last_was_rebuild() const noexcept { return rebuilt_; }

private:
    // Sorted unique keys with their counts (an address served by two trunks
    // stays until both let it go).
    struct Counted {
        std::vector<uint32_t> key, n;
        bool add(uint32_t ip);     // true when <ip> is new
        bool remove(uint32_t ip);  // true when <ip> left
    };
    struct Entry {
        bool present = false;
        bool hide = false;
        uint32_t epoch = 0;
        std::vector<uint32_t> ips;  // unique within the trunk
    };
    static constexpr size_t rebuild_above = 64;  // changed trunks in one update()

    void rebuild();

    uint64_t instance_ = 0;
    std::vector<Entry> by_trunk_;  // by engine trunk id
    Counted all_, hidden_;
    size_t recounted_ = 0;
    bool rebuilt_ = false;
};

}  // namespace sipedge::ctl
