#pragma once
// RFC 2782 target selection, as an ordering: lowest priority first; within a
// priority, repeatedly pick by weight (zero weights first in the running sum,
// so they are chosen only when the draw is 0). Pure; the randomness is
// injected so tests can fix the draws.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "dns/records.h"

namespace sipedge::dns {

/// Returns a uniformly distributed integer in [0, max_inclusive].
using Rng = std::function<uint32_t(uint32_t max_inclusive)>;

/// A default Rng seeded from std::random_device (control thread only).
Rng make_default_rng();

/// Orders <rrs> per RFC 2782 and returns their indices in order. Records with
/// an empty target (".") are left out. Calls <rng> once per pick in a priority
/// group of two or more records, with the group's remaining weight sum.
std::vector<size_t> order_srv(std::span<const SrvRr> rrs, const Rng& rng);

}  // namespace sipedge::dns
