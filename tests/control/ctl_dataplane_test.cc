// Data-plane commands (control/cmd_dataplane.cc): values, refusals, show,
// running-config round trip and the startup file's file:line errors.

#include <gtest/gtest.h>

#include "control/commands.h"
#include "control/config.h"
#include "tests/control/ctl_util.h"

namespace sipedge::ctl {
namespace {

using test::error_of;
using test::status_of;

TEST(Dataplane, SetShowUnset) {
    failover::Millis now = 0;
    Controller c(test::manual_clock(&now));
    for (const char* l : {"set dataplane address 192.0.2.10/24", "set dataplane gateway 192.0.2.1",
                          "set dataplane sip-port 5080", "set dataplane default-trunk carrier",
                          "set dataplane access 198.51.100.7:5062"})
        ASSERT_EQ(status_of(c.execute_json(l)), 0) << l;
    const DataplaneSettings& d = c.state().dataplane;
    EXPECT_EQ(d.ip, 0xc000020au);
    EXPECT_EQ(d.prefix, 24u);
    EXPECT_EQ(d.gateway, 0xc0000201u);
    EXPECT_EQ(d.sip_port, 5080u);
    EXPECT_EQ(d.default_trunk, "carrier");
    EXPECT_EQ(d.access_ip, 0xc6336407u);
    EXPECT_EQ(d.access_port, 5062u);
    const Json r = c.execute_json("show dataplane");
    ASSERT_EQ(status_of(r), 0);
    const Json* data = r.get("data");
    ASSERT_TRUE(data);
    EXPECT_EQ(data->get("address")->as_string(), "192.0.2.10/24");
    EXPECT_EQ(data->get("access")->as_string(), "198.51.100.7:5062");
    EXPECT_EQ(data->get("default-trunk-state")->as_string(), "idle: not configured");
    ASSERT_EQ(status_of(c.execute_json("unset dataplane access")), 0);
    ASSERT_EQ(status_of(c.execute_json("unset dataplane sip-port")), 0);
    EXPECT_EQ(c.state().dataplane.access_ip, 0u);
    EXPECT_EQ(c.state().dataplane.sip_port, 5060u);
}

TEST(Dataplane, BadValuesAreRefusedAndChangeNothing) {
    failover::Millis now = 0;
    Controller c(test::manual_clock(&now));
    ASSERT_EQ(status_of(c.execute_json("set dataplane address 192.0.2.10/24")), 0);
    const State before = c.state();
    struct Row {
        const char* line;
        const char* error;
    } rows[] = {
        {"set dataplane address 192.0.2.300/24", "not an IPv4"},
        {"set dataplane address 192.0.2.10/31", "out of range 1-30"},
        {"set dataplane address 127.0.0.1/8", "not a unicast"},
        {"set dataplane address 192.0.2.10/24 extra", "usage"},
        {"set dataplane gateway 224.0.0.1", "not a unicast"},
        {"set dataplane sip-port 0", "out of range 1-65535"},
        {"set dataplane sip-port 5o60", "not a number"},
        {"set dataplane access 192.0.2.1:70000", "out of range"},
        {"set dataplane default-trunk bad/name", "only letters"},
        {"unset dataplane mtu", "unknown data-plane key"},
    };
    for (const Row& r : rows) {
        const Json j = c.execute_json(r.line);
        EXPECT_NE(status_of(j), 0) << r.line;
        EXPECT_NE(error_of(j).find(r.error), std::string::npos) << r.line << " → " << error_of(j);
        EXPECT_TRUE(c.state() == before) << r.line;
    }
}

TEST(Dataplane, RunningConfigRoundTripAndStartupErrors) {
    test::TempDir dir;
    dir.write("edge.cfg",
              "set dataplane address 192.0.2.10/24\nset dataplane default-trunk carrier\n"
              "add trunk carrier\nset trunk carrier register off\n"
              "set trunk carrier server 1 192.0.2.21:5060 udp\nset dataplane access 192.0.2.1\n");
    failover::Millis now = 0;
    Controller a(test::manual_clock(&now));
    Status s = load_config_file(a, dir.file("edge.cfg"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(a.state().dataplane.access_port, 5060u);
    std::string text;
    for (const std::string& l : a.running_config()) text += l + "\n";
    EXPECT_NE(text.find("set dataplane default-trunk carrier\n"), std::string::npos) << text;
    dir.write("running.cfg", text);
    Controller b(test::manual_clock(&now));
    ASSERT_TRUE(load_config_file(b, dir.file("running.cfg")).ok());
    EXPECT_TRUE(a.state() == b.state()) << text;
    EXPECT_EQ(a.running_config(), b.running_config());
    // A default trunk that is deleted later still reloads (and shows idle).
    ASSERT_EQ(status_of(b.execute_json("del trunk carrier")), 0);
    text.clear();
    for (const std::string& l : b.running_config()) text += l + "\n";
    dir.write("after.cfg", text);
    Controller d(test::manual_clock(&now));
    ASSERT_TRUE(load_config_file(d, dir.file("after.cfg")).ok()) << text;
    // A bad data-plane line names file and line and applies nothing.
    dir.write("bad.cfg", "add trunk x\nset dataplane address 10.0.0.1/24\nset dataplane sip-port 99999\n");
    Controller e(test::manual_clock(&now));
    Status bad = load_config_file(e, dir.file("bad.cfg"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message.rfind(dir.file("bad.cfg") + ":3: ", 0), 0u) << bad.error().message;
    EXPECT_TRUE(e.state() == State{});
}

}  // namespace
}  // namespace sipedge::ctl
