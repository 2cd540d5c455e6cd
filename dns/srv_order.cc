#include "dns/srv_order.h"

#include <algorithm>
#include <memory>
#include <random>

namespace sipedge::dns {

Rng make_default_rng() {
    auto gen = std::make_shared<std::mt19937>(std::random_device{}());
    return [gen](uint32_t max_inclusive) {
        return std::uniform_int_distribution<uint32_t>(0, max_inclusive)(*gen);
    };
}

std::vector<size_t> order_srv(std::span<const SrvRr> rrs, const Rng& rng) {
    std::vector<size_t> idx;
    for (size_t i = 0; i < rrs.size(); i++)
        if (!rrs[i].target.empty())
            idx.push_back(i);
    // Answer order is kept among equals so a fixed draw sequence gives one order.
    std::stable_sort(idx.begin(), idx.end(),
                     [&](size_t a, size_t b) { return rrs[a].priority < rrs[b].priority; });

    std::vector<size_t> out;
    out.reserve(idx.size());
    for (size_t g = 0; g < idx.size();) {
        size_t end = g;
        while (end < idx.size() && rrs[idx[end]].priority == rrs[idx[g]].priority)
            end++;
        // RFC 2782: "arrange all SRV RRs (that have not been ordered yet) in any
        // order, except that all those with weight 0 are placed at the beginning".
        std::vector<size_t> group(idx.begin() + ptrdiff_t(g), idx.begin() + ptrdiff_t(end));
        std::stable_partition(group.begin(), group.end(),
                              [&](size_t i) { return rrs[i].weight == 0; });
        while (group.size() > 1) {
            uint32_t sum = 0;
            for (size_t i : group)
                sum += rrs[i].weight;  // at most 65535 * 65535 records: fits for any real answer
            // RFC 2782: "choose a uniform random number between 0 and the sum
            // computed (inclusive), and select the RR whose running sum value is
            // the first in the selected order which is greater than or equal to
            // the random number selected."
            const uint32_t draw = std::min(rng(sum), sum);
            uint32_t run = 0;
            size_t pick = group.size() - 1;
            for (size_t k = 0; k < group.size(); k++) {
                run += rrs[group[k]].weight;
                if (run >= draw) {
                    pick = k;
                    break;
                }
            }
            out.push_back(group[pick]);
            group.erase(group.begin() + ptrdiff_t(pick));
        }
        out.push_back(group.front());
        g = end;
    }
    return out;
}

}  // namespace sipedge::dns
