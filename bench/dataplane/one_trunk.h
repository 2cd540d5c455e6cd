#pragma once
// The routing snapshot control would publish for the proxy benches: one trunk
// (engine id 0, the default trunk) with one UDP server, seed A timers (ADTRAN
// defaults), the access side at <access>.

#include <cstdint>
#include <memory>

#include "dataplane/proxy_types.h"
#include "failover/retry_policy.h"
#include "failover/table.h"

namespace sipedge::dp {

struct OneTrunk {
    std::unique_ptr<const failover::Table> table;
    uint32_t cars[1] = {};
    Routes routes;

    OneTrunk(Endpoint server, Endpoint access) {
        auto r = std::make_shared<failover::TrunkRoutes>();
        r->trunk_id = 0;
        r->list_epoch = 1;
        failover::AdtranTimers at;
        for (auto k : {failover::RequestKind::invite, failover::RequestKind::register_,
                       failover::RequestKind::other})
            r->policy[size_t(k)] = failover::make_policy(at, k);
        failover::Candidate c;
        for (int i = 0; i < 4; i++) c.addr[i] = uint8_t(server.ip >> (24 - 8 * i));
        c.port = server.port;
        c.family = 4;
        r->cand[r->count++] = c;
        failover::TableBuilder b(nullptr);
        b.set(std::move(r));
        table = b.build();
        cars[0] = server.ip;
        routes.table = table.get();
        routes.default_trunk = 0;
        routes.access = access;
        routes.carrier_count = 1;
        routes.carriers = cars;
    }
    OneTrunk(const OneTrunk&) = delete;
    OneTrunk& operator=(const OneTrunk&) = delete;
};

}  // namespace sipedge::dp
