#include "failover/server_set.h"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>

namespace sipedge::failover {

ServerSet static_servers(std::vector<Target> targets) {
    ServerSet s;
    ServiceRecord r;
    if (!targets.empty()) r.transport = targets.front().transport;
    r.targets = std::move(targets);
    s.records.push_back(std::move(r));
    return s;
}

void order_srv(std::vector<Target>& t, Random& rng, bool use_weights) {
    std::stable_sort(t.begin(), t.end(), [&](const Target& a, const Target& b) {
        if (a.priority != b.priority) return a.priority < b.priority;
        return !use_weights && a.weight > b.weight;
    });
    if (!use_weights) return;
    // RFC 2782 "Usage rules": within one priority, put zero-weight entries first,
    // sum weights, draw uniform in [0, sum], take the first entry whose running
    // sum is >= the draw; repeat with the rest.
    for (size_t lo = 0; lo < t.size();) {
        size_t hi = lo;
        while (hi < t.size() && t[hi].priority == t[lo].priority) hi++;
        std::stable_partition(t.begin() + lo, t.begin() + hi,
                              [](const Target& x) { return x.weight == 0; });
        for (size_t i = lo; i + 1 < hi; i++) {
            uint64_t sum = 0;
            for (size_t j = i; j < hi; j++) sum += t[j].weight;
            const uint64_t draw = rng.uniform(0, sum);
            uint64_t run = 0;
            size_t pick = i;
            for (size_t j = i; j < hi; j++) {
                run += t[j].weight;
                if (run >= draw) { pick = j; break; }
            }
            std::rotate(t.begin() + i, t.begin() + pick, t.begin() + pick + 1);
        }
        lo = hi;
    }
}

void order_records(std::vector<ServiceRecord>& r) {
    std::stable_sort(r.begin(), r.end(), [](const ServiceRecord& a, const ServiceRecord& b) {
        if (a.order != b.order) return a.order < b.order;
        return a.preference < b.preference;
    });
}

bool same_endpoint(const Target& a, const Target& b) noexcept {
    return a.transport == b.transport && a.port == b.port && a.address == b.address;
}

int parse_ip(const std::string& address, uint8_t out[16]) noexcept {
    std::memset(out, 0, 16);
    if (inet_pton(AF_INET, address.c_str(), out) == 1) return 4;
    if (inet_pton(AF_INET6, address.c_str(), out) == 1) return 6;
    return 0;
}

}  // namespace sipedge::failover
