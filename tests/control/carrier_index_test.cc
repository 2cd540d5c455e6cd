// control/carrier_index.h: the engine's server addresses kept incrementally
// must equal a brute-force recount after every kind of change.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "control/carrier_index.h"
#include "failover/engine.h"

namespace sipedge::ctl {
namespace {

namespace fo = failover;

fo::ServerSet set_of(std::vector<std::string> addrs) {
    std::vector<fo::Target> v;
    for (std::string& a : addrs) {
        fo::Target t;
        t.address = std::move(a);
        v.push_back(std::move(t));
    }
    return fo::static_servers(std::move(v));
}

uint32_t ip(const char* s) {
    uint8_t a[16];
    EXPECT_EQ(fo::parse_ip(s, a), 4) << s;
    return uint32_t(a[0]) << 24 | uint32_t(a[1]) << 16 | uint32_t(a[2]) << 8 | a[3];
}

// What the index must hold: every live trunk's IPv4 servers, sorted, unique.
std::vector<uint32_t> brute(const fo::Engine& e, bool hidden) {
    std::vector<uint32_t> v;
    for (uint32_t id = 0; id < e.trunk_count(); id++) {
        const fo::Trunk* t = e.trunk(id);
        if (!t || (hidden && !t->knobs.hide_topology)) continue;
        for (const fo::ServerState& s : t->servers) {
            uint8_t a[16];
            if (fo::parse_ip(s.target.address, a) == 4)
                v.push_back(uint32_t(a[0]) << 24 | uint32_t(a[1]) << 16 | uint32_t(a[2]) << 8 | a[3]);
        }
    }
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

uint32_t add(fo::Engine& e, const std::string& name, std::vector<std::string> addrs, bool hide = false) {
    fo::AddTrunk a;
    a.name = name;
    a.domain = "carrier.example";
    a.knobs.register_enabled = false;
    a.knobs.hide_topology = hide;
    a.servers = set_of(std::move(addrs));
    const fo::AddResult r = e.add_trunk(a, 0);
    EXPECT_EQ(r.error, fo::ConfigError::ok);
    return r.trunk_id;
}

TEST(CarrierIndex, IncrementalEqualsRecount) {
    fo::Engine e(1);
    CarrierIndex ix;
    const uint32_t a = add(e, "a", {"192.0.2.1", "192.0.2.2"});
    const uint32_t b = add(e, "b", {"192.0.2.2", "198.51.100.9", "carrier.example"}, true);
    EXPECT_TRUE(ix.update(e));
    EXPECT_TRUE(ix.last_was_rebuild());  // first sight of this engine
    EXPECT_EQ(ix.all(), (std::vector<uint32_t>{ip("192.0.2.1"), ip("192.0.2.2"), ip("198.51.100.9")}));
    EXPECT_EQ(ix.hidden(), (std::vector<uint32_t>{ip("192.0.2.2"), ip("198.51.100.9")}));
    EXPECT_FALSE(ix.update(e));
    EXPECT_EQ(ix.last_recounted(), 0u);

    // One trunk's list replaced (a DNS answer): only it is recounted; the
    // address it shared with b stays (b still has it).
    ASSERT_EQ(e.update_servers(a, set_of({"203.0.113.5"}), 0), fo::ConfigError::ok);
    EXPECT_TRUE(ix.update(e));
    EXPECT_EQ(ix.last_recounted(), 1u);
    EXPECT_FALSE(ix.last_was_rebuild());
    EXPECT_EQ(ix.all(), brute(e, false));
    EXPECT_EQ(ix.hidden(), brute(e, true));
    EXPECT_NE(std::find(ix.all().begin(), ix.all().end(), ip("192.0.2.2")), ix.all().end());

    // Hiding switched off on b: the hidden set empties, the full one stays.
    fo::TrunkKnobs k = e.trunk(b)->knobs;
    k.hide_topology = false;
    ASSERT_EQ(e.set_knobs(b, k, 0), fo::ConfigError::ok);
    ix.update(e);
    EXPECT_TRUE(ix.hidden().empty());
    EXPECT_EQ(ix.all(), brute(e, false));

    // b removed: its addresses leave, a's stay.
    ASSERT_EQ(e.remove_trunk(b, 0), fo::ConfigError::ok);
    EXPECT_TRUE(ix.update(e));
    EXPECT_EQ(ix.all(), (std::vector<uint32_t>{ip("203.0.113.5")}));

    // Many changes at once take the rebuild path and still agree.
    for (int i = 0; i < 100; i++)
        add(e, "t" + std::to_string(i), {"10.0." + std::to_string(i) + ".1", "10.0.0.1"}, i % 3 == 0);
    ix.update(e);
    EXPECT_TRUE(ix.last_was_rebuild());
    EXPECT_EQ(ix.all(), brute(e, false));
    EXPECT_EQ(ix.hidden(), brute(e, true));
    // And a few afterwards, incrementally.
    for (uint32_t id = 10; id < 20; id++)
        ASSERT_EQ(e.update_servers(id, set_of({"10.1.0." + std::to_string(id)}), 0), fo::ConfigError::ok);
    ASSERT_EQ(e.remove_trunk(30, 0), fo::ConfigError::ok);
    ix.update(e);
    EXPECT_FALSE(ix.last_was_rebuild());
    EXPECT_EQ(ix.last_recounted(), 11u);
    EXPECT_EQ(ix.all(), brute(e, false));
    EXPECT_EQ(ix.hidden(), brute(e, true));

    // A new engine (another instance) starts over.
    fo::Engine e2(2);
    add(e2, "x", {"192.0.2.77"});
    EXPECT_TRUE(ix.update(e2));
    EXPECT_EQ(ix.all(), (std::vector<uint32_t>{ip("192.0.2.77")}));
}

}  // namespace
}  // namespace sipedge::ctl
