#pragma once
// Hands a DNS answer to the failover engine: dns::ServerList (what the
// resolver found, ranked) becomes failover::ServerSet (what the engine
// selects from). The order of records and of targets is kept as the
// resolver ranked them (NAPTR order/preference, RFC 2782); the engine does
// not re-rank a set that came from DNS.

#include "dns/types.h"
#include "failover/server_set.h"

namespace sipedge::dns {

/// The engine's view of <list>: one failover::ServiceRecord per record with
/// its targets as address literals, ports, SRV priority/weight and TTLs; the
/// record TTL is the smallest of its targets'. At most failover::max_servers
/// targets in all (the rest are dropped, in rank order). from_dns is set.
failover::ServerSet to_server_set(const ServerList& list);

}  // namespace sipedge::dns
