// Issue 7: `set trunk <t> server <n> maintenance on|off` — argument checks,
// the running-config round trip (a restart keeps it), `show servers` state,
// and the running engine seeing it through Engine::set_admin (no rebuild:
// the registration state survives).

#include <gtest/gtest.h>

#include <algorithm>

#include "control/config.h"
#include "ctl_util.h"

namespace sipedge::ctl {
namespace {

using test::error_of;
using test::status_of;

void setup(Controller& c) {
    for (const char* l : {"add trunk acme", "set trunk acme server 1 192.0.2.10:5060 udp",
                          "set trunk acme server 2 192.0.2.11 udp", "set trunk acme server 3 192.0.2.12:5070 udp",
                          "set trunk acme register off"}) {
        const Json r = c.execute_json(l);
        ASSERT_EQ(status_of(r), 0) << l << " → " << r.dump();
    }
}

std::vector<int> candidates(Controller& c, const std::string& trunk, failover::Millis now) {
    const auto id = c.engine_id(trunk);
    EXPECT_TRUE(id.has_value());
    std::vector<int> out;
    if (!id) return out;
    const failover::TrunkRoutes r = c.engine().routes(*id, now);
    for (size_t i = 0; i < r.count; i++) out.push_back(r.cand[i].server_idx);
    return out;
}

struct Refusal {
    const char* line;
    const char* want;  // in the error text
};

// Each line is refused with an error that says <want>.
void expect_refused(Controller& c, std::initializer_list<Refusal> cases) {
    for (const Refusal& k : cases) {
        const Json r = c.execute_json(k.line);
        EXPECT_NE(status_of(r), 0) << k.line;
        EXPECT_NE(error_of(r).find(k.want), std::string::npos) << k.line << " → " << error_of(r);
    }
}

TEST(Maintenance, InvalidArgumentsChangeNothing) {
    failover::Millis now = 1000;
    Controller c(test::manual_clock(&now));
    setup(c);
    ASSERT_EQ(status_of(c.execute_json("set trunk acme server 4 sip.example.com transport dnsNaptr")), 0);
    const State before = c.state();
    expect_refused(c, {{"set trunk acme server 2 maintenance", "missing value"},
                       {"set trunk acme server 2 maintenance maybe", "range on|off"},
                       {"set trunk acme server 2 maintenance on now", "unexpected word"},
                       {"set trunk acme server 5 maintenance on", "has no server 5"},
                       {"set trunk acme server 17 maintenance on", "out of range"},
                       {"set trunk acme server 4 maintenance on", "DNS name"},
                       {"set trunk nobody server 1 maintenance on", "nobody"}});
    EXPECT_TRUE(c.state() == before);
    EXPECT_EQ(c.state().trunks.at("acme").maintenance, 0u);
}

TEST(Maintenance, EngineSeesItWithoutRebuild) {
    failover::Millis now = 1000;
    Controller c(test::manual_clock(&now));
    setup(c);
    const failover::Engine* before = &c.engine();
    EXPECT_EQ(candidates(c, "acme", now), (std::vector<int>{0, 1, 2}));
    ASSERT_EQ(status_of(c.execute_json("set trunk acme server 2 maintenance on")), 0);
    EXPECT_EQ(c.state().trunks.at("acme").maintenance, 1u << 1);
    EXPECT_EQ(&c.engine(), before);  // same engine: not rebuilt
    EXPECT_EQ(candidates(c, "acme", now), (std::vector<int>{0, 2}));
    const auto id = *c.engine_id("acme");
    EXPECT_EQ(c.engine().health(id, 1, now), failover::Health::maintenance);
    EXPECT_FALSE(c.engine().trunk(id)->servers[1].failed);
    // show servers: state "maintenance"; show trunk: the slot's flag.
    const std::string servers = c.execute("show servers acme");
    EXPECT_NE(servers.find("maintenance"), std::string::npos) << servers;
    const Json tr = c.execute_json("show trunk acme");
    EXPECT_NE(tr.dump().find("\"maintenance\":true"), std::string::npos) << tr.dump();
    // A server added later is not in maintenance; the flag follows its endpoint.
    ASSERT_EQ(status_of(c.execute_json("del trunk acme server 1")), 0);
    EXPECT_EQ(candidates(c, "acme", now), (std::vector<int>{1}));  // #0 = 192.0.2.11 in maintenance
    EXPECT_EQ(c.engine().health(*c.engine_id("acme"), 0, now), failover::Health::maintenance);
    // Off: back at once.
    ASSERT_EQ(status_of(c.execute_json("set trunk acme server 2 maintenance off")), 0);
    EXPECT_EQ(c.state().trunks.at("acme").maintenance, 0u);
    EXPECT_EQ(candidates(c, "acme", now), (std::vector<int>{0, 1}));
    // del clears the slot's flag.
    ASSERT_EQ(status_of(c.execute_json("set trunk acme server 3 maintenance on")), 0);
    ASSERT_EQ(status_of(c.execute_json("del trunk acme server 3")), 0);
    EXPECT_EQ(c.state().trunks.at("acme").maintenance, 0u);
}

// <b> loaded from the startup file <cfg> (a running-config), as a restart does.
void restart_from(const std::vector<std::string>& cfg, Controller& b) {
    test::TempDir dir;
    std::string text;
    for (const std::string& l : cfg) text += l + "\n";
    dir.write("running.cfg", text);
    Status s = load_config_file(b, dir.file("running.cfg"));
    ASSERT_TRUE(s.ok()) << s.error().message << "\n" << text;
}

TEST(Maintenance, RunningConfigRoundTripKeepsIt) {
    failover::Millis now = 1000;
    Controller a(test::manual_clock(&now));
    setup(a);
    ASSERT_EQ(status_of(a.execute_json("set trunk acme server 3 maintenance on")), 0);
    const std::vector<std::string> cfg = a.running_config();
    EXPECT_NE(std::find(cfg.begin(), cfg.end(), "set trunk acme server 3 maintenance on"), cfg.end());
    Controller b(test::manual_clock(&now));
    ASSERT_NO_FATAL_FAILURE(restart_from(cfg, b));
    EXPECT_TRUE(a.state() == b.state());
    EXPECT_EQ(b.running_config(), cfg);
    // The restarted engine starts with server 3 out of new requests.
    EXPECT_EQ(candidates(b, "acme", now), (std::vector<int>{0, 1}));
    EXPECT_EQ(b.engine().health(*b.engine_id("acme"), 2, now), failover::Health::maintenance);
}

TEST(MaintenanceAddress, ArgumentsAreCheckedAndRefusalsChangeNothing) {
    failover::Millis now = 1000;
    Controller c(test::manual_clock(&now));
    setup(c);
    expect_refused(c, {{"set trunk acme maintenance-address 192.0.2.10", "missing value"},
                       {"set trunk acme maintenance-address 192.0.2.10 maybe", "range on|off"},
                       {"set trunk acme maintenance-address 192.0.2.10 on now", "unexpected word"},
                       {"set trunk acme maintenance-address sbc.example on", "not an IP address"},
                       {"set trunk acme maintenance-address 192.0.2.10:99999 on", "port"},
                       {"set trunk nope maintenance-address 192.0.2.10 on", "no trunk"}});
    EXPECT_TRUE(c.state().trunks.at("acme").maintenance_addrs.empty());
    for (int i = 0; i < 16; i++)
        ASSERT_EQ(status_of(c.execute_json("set trunk acme maintenance-address 198.51.100." +
                                           std::to_string(i) + " on")), 0);
    const Json full = c.execute_json("set trunk acme maintenance-address 198.51.100.99 on");
    EXPECT_NE(status_of(full), 0);
    EXPECT_NE(error_of(full).find("16 already"), std::string::npos) << error_of(full);
    EXPECT_EQ(c.state().trunks.at("acme").maintenance_addrs.size(), 16u);
}

TEST(MaintenanceAddress, EveryServerAtTheAddressAnyPortUnlessGiven) {
    failover::Millis now = 1000;
    Controller c(test::manual_clock(&now));
    setup(c);  // 192.0.2.10:5060, 192.0.2.11, 192.0.2.12:5070
    ASSERT_EQ(status_of(c.execute_json("set trunk acme server 4 192.0.2.12:5080 udp")), 0);
    const failover::Engine* before = &c.engine();
    ASSERT_EQ(status_of(c.execute_json("set trunk acme maintenance-address 192.0.2.12 on")), 0);
    EXPECT_EQ(&c.engine(), before);  // applied without a rebuild
    EXPECT_EQ(candidates(c, "acme", now), (std::vector<int>{0, 1}));
    ASSERT_EQ(status_of(c.execute_json("set trunk acme maintenance-address 192.0.2.12 off")), 0);
    EXPECT_EQ(candidates(c, "acme", now), (std::vector<int>{0, 1, 2, 3}));
    ASSERT_EQ(status_of(c.execute_json("set trunk acme maintenance-address 192.0.2.12:5080 on")), 0);
    EXPECT_EQ(candidates(c, "acme", now), (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(c.engine().health(*c.engine_id("acme"), 3, now), failover::Health::maintenance);
    // Idempotent: on twice keeps one entry; off of an absent one is no error.
    ASSERT_EQ(status_of(c.execute_json("set trunk acme maintenance-address 192.0.2.12:5080 on")), 0);
    EXPECT_EQ(c.state().trunks.at("acme").maintenance_addrs.size(), 1u);
    ASSERT_EQ(status_of(c.execute_json("set trunk acme maintenance-address 192.0.2.77 off")), 0);
    // A server set to a maintenance address later starts in maintenance.
    ASSERT_EQ(status_of(c.execute_json("set trunk acme server 2 192.0.2.12:5080 udp")), 0);
    EXPECT_EQ(candidates(c, "acme", now), (std::vector<int>{0, 2}));
}

TEST(MaintenanceAddress, RunningConfigRoundTripKeepsIt) {
    failover::Millis now = 1000;
    Controller a(test::manual_clock(&now));
    setup(a);
    ASSERT_EQ(status_of(a.execute_json("set trunk acme maintenance-address 192.0.2.11 on")), 0);
    ASSERT_EQ(status_of(a.execute_json("set trunk acme maintenance-address [2001:db8::0:5]:5061 on")), 0);
    const std::vector<std::string> cfg = a.running_config();
    EXPECT_NE(std::find(cfg.begin(), cfg.end(), "set trunk acme maintenance-address 192.0.2.11 on"), cfg.end());
    EXPECT_NE(std::find(cfg.begin(), cfg.end(), "set trunk acme maintenance-address [2001:db8::5]:5061 on"),
              cfg.end());
    Controller b(test::manual_clock(&now));
    ASSERT_NO_FATAL_FAILURE(restart_from(cfg, b));
    EXPECT_TRUE(a.state() == b.state());
    EXPECT_EQ(candidates(b, "acme", now), (std::vector<int>{0, 2}));
}

}  // namespace
}  // namespace sipedge::ctl
