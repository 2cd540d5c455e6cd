// dns::ServerList -> failover::ServerSet, and the engine ranking what DNS gave.

#include <gtest/gtest.h>

#include "dns/to_failover.h"
#include "failover/engine.h"

namespace sipedge::dns {
namespace {

Target target(const char* ip, uint16_t port, uint16_t prio, uint16_t weight, uint32_t ttl,
              Transport tr) {
    Target t;
    t.host = ip;
    t.addr = *IpAddr::parse(ip);
    t.port = port;
    t.priority = prio;
    t.weight = weight;
    t.ttl_s = ttl;
    t.transport = tr;
    return t;
}

ServerList answer() {
    ServerList l;
    ServiceRecord tls;
    tls.order = 10;
    tls.preference = 5;
    tls.transport = Transport::tls;
    tls.srv_name = "_sips._tcp.carrier.example";
    tls.targets = {target("192.0.2.21", 5061, 10, 60, 300, Transport::tls),
                   target("192.0.2.22", 5061, 20, 0, 120, Transport::tls)};
    ServiceRecord udp;
    udp.order = 20;
    udp.preference = 5;
    udp.transport = Transport::udp;
    udp.targets = {target("2001:db8::23", 5060, 10, 0, 600, Transport::udp)};
    l.records = {tls, udp};
    l.status = AnswerStatus::ok;
    l.source = Source::network;
    return l;
}

TEST(ToFailover, KeepsRankAndFields) {
    const failover::ServerSet s = to_server_set(answer());
    EXPECT_TRUE(s.from_dns);
    ASSERT_EQ(s.records.size(), 2u);
    const auto& r0 = s.records[0];
    EXPECT_EQ(r0.transport, sip::Transport::tls);
    EXPECT_EQ(r0.order, 10);
    EXPECT_EQ(r0.preference, 5);
    EXPECT_EQ(r0.ttl_s, 120u);  // smallest of its targets
    ASSERT_EQ(r0.targets.size(), 2u);
    EXPECT_EQ(r0.targets[0].address, "192.0.2.21");
    EXPECT_EQ(r0.targets[0].port, 5061);
    EXPECT_EQ(r0.targets[0].priority, 10);
    EXPECT_EQ(r0.targets[0].weight, 60);
    EXPECT_EQ(r0.targets[1].address, "192.0.2.22");
    EXPECT_EQ(s.records[1].transport, sip::Transport::udp);
    EXPECT_EQ(s.records[1].targets[0].address, "2001:db8::23");
    EXPECT_EQ(s.records[1].ttl_s, 600u);
}

TEST(ToFailover, CapsTheServerCount) {
    ServerList l;
    ServiceRecord r;
    for (int i = 0; i < 20; i++)
        r.targets.push_back(target(("192.0.2." + std::to_string(i + 1)).c_str(), 5060, uint16_t(i), 0, 60,
                                   Transport::udp));
    l.records = {r, r};
    const failover::ServerSet s = to_server_set(l);
    ASSERT_EQ(s.records.size(), 1u);  // the second record has no room left
    ASSERT_EQ(s.records[0].targets.size(), failover::max_servers);
    EXPECT_EQ(s.records[0].targets.back().address, "192.0.2.16");
    EXPECT_TRUE(to_server_set(ServerList{}).records.empty());
}

// The engine takes the converted set as a trunk's servers and offers them to
// new requests in the resolver's rank order.
TEST(ToFailover, EngineRanksWhatDnsGave) {
    failover::Engine e(7);
    failover::AddTrunk a;
    a.name = "carrier";
    a.knobs.register_enabled = false;
    a.servers = to_server_set(answer());
    const auto added = e.add_trunk(a, 0);
    ASSERT_EQ(added.error, failover::ConfigError::ok);
    const failover::TrunkRoutes r = e.routes(added.trunk_id, 0);
    ASSERT_EQ(r.count, 3);
    EXPECT_EQ(r.cand[0].transport, sip::Transport::tls);
    EXPECT_EQ(r.cand[0].port, 5061);
    EXPECT_EQ(r.cand[0].family, 4);
    EXPECT_EQ(r.cand[0].addr[3], 21);
    EXPECT_EQ(r.cand[1].addr[3], 22);
    EXPECT_EQ(r.cand[2].family, 6);
    EXPECT_EQ(r.cand[2].transport, sip::Transport::udp);
}

}  // namespace
}  // namespace sipedge::dns
