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
    EXPECT_EQ(d.ports[0].ip, 0xc000020au);
    EXPECT_EQ(d.ports[0].prefix, 24u);
    EXPECT_EQ(d.ports[0].gateway, 0xc0000201u);
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
        {"set dataplane gateway 198.51.100.1", "not on port 0's subnet"},
        {"set dataplane gateway 192.0.2.10", "own address"},
        {"set dataplane vlan 4095", "out of range 1-4094"},
        {"set dataplane port 1 address 192.0.2.200/24", "overlaps port 0"},
        {"set dataplane port 1 address 192.0.0.1/16", "overlaps port 0"},
        {"set dataplane port 4 address 198.51.100.10/24", "out of range 0-3"},
        {"set dataplane port 1 mtu 9000", "unknown key 'mtu'"},
        {"set dataplane port 1 address", "usage"},
        {"unset dataplane port 1 speed", "unknown key"},
        {"set dataplane timer-c 9", "out of range 10-3600"},
        {"set dataplane retry-after 3601", "out of range 0-3600"},
        {"set dataplane port 1 device eth1", "neither a PCI address"},
        {"set dataplane port 1 device 0000:03:00.8", "neither a PCI address"},
        {"set dataplane lcores 0-2;reboot", "not a list of cores"},
        {"set dataplane hugepages maybe", "on or off"},
        {"set dataplane memory 10", "out of range 64-1048576"},
    };
    for (const Row& r : rows) {
        const Json j = c.execute_json(r.line);
        EXPECT_NE(status_of(j), 0) << r.line;
        EXPECT_NE(error_of(j).find(r.error), std::string::npos) << r.line << " → " << error_of(j);
        EXPECT_TRUE(c.state() == before) << r.line;
    }
}

// Several ports (issue 6): port 0 by the short form, others by number, each
// with its gateway and VLAN; separate subnets; show and unset.
TEST(Dataplane, Ports) {
    failover::Millis now = 0;
    Controller c(test::manual_clock(&now));
    for (const char* l : {"set dataplane address 192.0.2.10/24", "set dataplane vlan 100",
                          "set dataplane port 1 address 198.51.100.10/25",
                          "set dataplane port 1 gateway 198.51.100.1",
                          "set dataplane port 1 vlan 200", "set dataplane port 2 address 203.0.113.5/24"})
        ASSERT_EQ(status_of(c.execute_json(l)), 0) << l << " " << error_of(c.execute_json(l));
    const DataplaneSettings& d = c.state().dataplane;
    EXPECT_EQ(d.ports[0].vlan, 100u);
    EXPECT_EQ(d.ports[1].ip, 0xc633640au);
    EXPECT_EQ(d.ports[1].prefix, 25u);
    EXPECT_EQ(d.ports[1].gateway, 0xc6336401u);
    EXPECT_EQ(d.ports[1].vlan, 200u);
    EXPECT_EQ(d.ports[2].ip, 0xcb007105u);
    // `set dataplane port 0 ...` is the long form of `set dataplane ...`.
    ASSERT_EQ(status_of(c.execute_json("set dataplane port 0 gateway 192.0.2.1")), 0);
    EXPECT_EQ(c.state().dataplane.ports[0].gateway, 0xc0000201u);
    // The gateway must stay on-link: moving port 1 to another subnet is refused.
    EXPECT_NE(error_of(c.execute_json("set dataplane port 1 address 198.51.100.200/25")).find("gateway"),
              std::string::npos);
    const Json r = c.execute_json("show dataplane");
    const Json* ports = r.get("data")->get("ports");
    ASSERT_TRUE(ports);
    ASSERT_EQ(ports->size(), 3u);
    EXPECT_EQ(ports->items()[1].get("address")->as_string(), "198.51.100.10/25");
    EXPECT_EQ(ports->items()[1].get("gateway")->as_string(), "198.51.100.1");
    EXPECT_EQ(ports->items()[1].get("vlan")->as_int(), 200);
    std::vector<std::string> want = {
        "set dataplane address 192.0.2.10/24",         "set dataplane gateway 192.0.2.1",
        "set dataplane vlan 100",                      "set dataplane port 1 address 198.51.100.10/25",
        "set dataplane port 1 gateway 198.51.100.1",   "set dataplane port 1 vlan 200",
        "set dataplane port 2 address 203.0.113.5/24"};
    std::vector<std::string> got;
    for (const std::string& l : c.running_config())
        if (l.rfind("set dataplane", 0) == 0) got.push_back(l);
    EXPECT_EQ(got, want);
    // The running config loads back into the same state.
    Controller b(test::manual_clock(&now));
    for (const std::string& l : c.running_config())
        if (!l.empty() && l[0] != '#') ASSERT_EQ(status_of(b.execute_json(l)), 0) << l;
    EXPECT_TRUE(b.state().dataplane == c.state().dataplane);
    ASSERT_EQ(status_of(c.execute_json("unset dataplane port 1 vlan")), 0);
    EXPECT_EQ(c.state().dataplane.ports[1].vlan, 0u);
    ASSERT_EQ(status_of(c.execute_json("unset dataplane port 1")), 0);
    EXPECT_TRUE(c.state().dataplane.ports[1] == PortSettings{});
    ASSERT_EQ(status_of(c.execute_json("unset dataplane vlan")), 0);
    // EAL devices, lcores and memory from the configuration.
    for (const char* l : {"set dataplane port 0 device 0000:03:00.0", "set dataplane port 2 device net_af_packet1,iface=eth1",
                          "set dataplane lcores 0-2", "set dataplane hugepages off", "set dataplane memory 512"})
        ASSERT_EQ(status_of(c.execute_json(l)), 0) << l;
    EXPECT_NE(error_of(c.execute_json("set dataplane port 3 device net_af_packet1")).find("already port 2"),
              std::string::npos);
    EXPECT_EQ(c.state().dataplane.ports[2].device, "net_af_packet1,iface=eth1");
    EXPECT_FALSE(c.state().dataplane.hugepages);
    {
        Controller d(test::manual_clock(&now));
        for (const std::string& l : c.running_config())
            if (!l.empty() && l[0] != '#') ASSERT_EQ(status_of(d.execute_json(l)), 0) << l;
        EXPECT_TRUE(d.state().dataplane == c.state().dataplane);
    }
    EXPECT_TRUE(dataplane_device_is_pci("0000:03:00.0"));
    EXPECT_TRUE(dataplane_device_is_pci("af:00.1"));
    EXPECT_FALSE(dataplane_device_is_pci("net_tap0"));
    EXPECT_FALSE(dataplane_device_is_pci("000:03:00.0"));
    ASSERT_EQ(status_of(c.execute_json("set dataplane retry-after 0")), 0);
    EXPECT_EQ(c.state().dataplane.retry_after_s, 0u);
    ASSERT_EQ(status_of(c.execute_json("set dataplane timer-c 240")), 0);
    EXPECT_EQ(c.state().dataplane.timer_c_s, 240u);
    bool printed = false;
    for (const std::string& l : c.running_config()) printed = printed || l == "set dataplane timer-c 240";
    EXPECT_TRUE(printed);
    // Below RFC 3261's 3 minutes: accepted, with a warning in the reply (issue 12).
    const std::string low = c.execute("set dataplane timer-c 10");
    EXPECT_EQ(status_of(c.execute_json("set dataplane timer-c 10")), 0) << low;
    EXPECT_NE(low.find("warning"), std::string::npos) << low;
    EXPECT_EQ(c.state().dataplane.timer_c_s, 10u);
    EXPECT_EQ(c.execute("set dataplane timer-c 240").find("warning"), std::string::npos);
    EXPECT_EQ(c.state().dataplane.ports[0].vlan, 0u);
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
