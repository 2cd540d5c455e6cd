// dns::ServerList -> failover::ServerSet.

#include "dns/to_failover.h"

#include <algorithm>

namespace sipedge::dns {

namespace {

sip::Transport to_sip(Transport t) noexcept {
    switch (t) {
    case Transport::udp: return sip::Transport::udp;
    case Transport::tcp: return sip::Transport::tcp;
    case Transport::tls: return sip::Transport::tls;
    }
    return sip::Transport::unknown;
}

}  // namespace

failover::ServerSet to_server_set(const ServerList& list) {
    failover::ServerSet set;
    set.from_dns = true;
    size_t total = 0;
    for (const ServiceRecord& r : list.records) {
        failover::ServiceRecord out;
        out.transport = to_sip(r.transport);
        out.order = r.order;
        out.preference = r.preference;
        uint32_t ttl = 0;
        for (const Target& t : r.targets) {
            if (total == failover::max_servers) break;
            failover::Target ft;
            ft.transport = to_sip(t.transport);
            ft.address = t.addr.to_string();
            ft.port = t.port;
            ft.priority = t.priority;
            ft.weight = t.weight;
            ft.ttl_s = t.ttl_s;
            ttl = out.targets.empty() ? t.ttl_s : std::min(ttl, t.ttl_s);
            out.targets.push_back(std::move(ft));
            total++;
        }
        out.ttl_s = ttl;
        if (!out.targets.empty()) set.records.push_back(std::move(out));
    }
    return set;
}

}  // namespace sipedge::dns
