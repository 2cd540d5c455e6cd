#include "failover/server_set.h"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>

#include "failover/rfc2782.h"

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
    if (!use_weights) {
        std::stable_sort(t.begin(), t.end(), [](const Target& a, const Target& b) {
            if (a.priority != b.priority) return a.priority < b.priority;
            return a.weight > b.weight;
        });
        return;
    }
    std::vector<size_t> idx(t.size());
    for (size_t i = 0; i < idx.size(); i++) idx[i] = i;
    rfc2782_order(
        idx, [&](size_t i) { return t[i].priority; }, [&](size_t i) { return t[i].weight; },
        [&](uint64_t sum) { return rng.uniform(0, sum); });
    std::vector<Target> out;
    out.reserve(t.size());
    for (size_t i : idx) out.push_back(std::move(t[i]));
    t = std::move(out);
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
