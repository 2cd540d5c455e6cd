#include "dns/srv_order.h"

#include <algorithm>
#include <memory>
#include <random>

#include "failover/rfc2782.h"

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
        if (!rrs[i].target.empty()) idx.push_back(i);
    failover::rfc2782_order(
        idx, [&](size_t i) { return rrs[i].priority; }, [&](size_t i) { return rrs[i].weight; },
        [&](uint64_t sum) { return uint64_t(rng(uint32_t(std::min<uint64_t>(sum, UINT32_MAX)))); });
    return idx;
}

}  // namespace sipedge::dns
