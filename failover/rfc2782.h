#pragma once
// RFC 2782 "Usage rules" as an ordering, shared by dns/ (SRV answers) and
// failover/ (a trunk's DNS targets): ascending priority, answer order kept
// among equals; within one priority, zero weights first, then repeatedly
// "choose a uniform random number between 0 and the sum computed (inclusive),
// and select the RR whose running sum value is the first ... greater than or
// equal to the random number". The draw is injected so tests can fix it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sipedge::failover {

/// Reorders <idx> (indices of records) in place. <prio>(i) and <weight>(i)
/// read record i; <draw>(sum) returns a uniform integer in [0, sum]. Called
/// once per pick in a priority group of two or more records.
template <class Prio, class Weight, class Draw>
void rfc2782_order(std::vector<size_t>& idx, Prio prio, Weight weight, Draw draw) {
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return prio(a) < prio(b); });
    for (size_t lo = 0; lo < idx.size();) {
        size_t hi = lo;
        while (hi < idx.size() && prio(idx[hi]) == prio(idx[lo])) hi++;
        std::stable_partition(idx.begin() + ptrdiff_t(lo), idx.begin() + ptrdiff_t(hi),
                              [&](size_t i) { return weight(i) == 0; });
        for (size_t i = lo; i + 1 < hi; i++) {
            uint64_t sum = 0;
            for (size_t j = i; j < hi; j++) sum += weight(idx[j]);
            const uint64_t d = std::min<uint64_t>(draw(sum), sum);
            uint64_t run = 0;
            size_t pick = hi - 1;
            for (size_t j = i; j < hi; j++) {
                run += weight(idx[j]);
                if (run >= d) {
                    pick = j;
                    break;
                }
            }
            std::rotate(idx.begin() + ptrdiff_t(i), idx.begin() + ptrdiff_t(pick),
                        idx.begin() + ptrdiff_t(pick) + 1);
        }
        lo = hi;
    }
}

}  // namespace sipedge::failover
