// Route-pattern commands (control/cmd_route.cc): add/replace/remove with the
// table compiled before each commit, a bad pattern refused with nothing
// changed, trunks in use, show routes, route-lookup's explanation, and the
// running-config round trip through a startup file.

#include <gtest/gtest.h>

#include "control/cmd_route.h"
#include "control/config.h"
#include "ctl_util.h"

namespace sipedge::ctl {
namespace {

using test::error_of;
using test::status_of;

struct Fixture {
    failover::Millis now = 0;
    Controller ctl{test::manual_clock(&now)};
    Json run(const std::string& line) { return ctl.execute_json(line); }
    void ok(const std::string& line) {
        const Json r = run(line);
        ASSERT_EQ(status_of(r), 0) << line << ": " << error_of(r);
    }
    std::string lookup_trunk(const std::string& args) {
        const Json r = run("route-lookup " + args);
        EXPECT_EQ(status_of(r), 0) << args << ": " << error_of(r);
        const Json* d = r.get("data");
        if (!d || !d->get("trunk")) return "-";
        return d->get("trunk")->as_string();
    }
};

TEST(CtlRoute, AddReplaceRemove) {
    Fixture f;
    f.ok("add trunk acme");
    f.ok("add trunk zeta");
    Json r = f.run("route-pattern 10 digits 9[2-9]XXXXXX trunk acme");
    ASSERT_EQ(status_of(r), 0) << error_of(r);
    EXPECT_EQ(r.get("data")->get("regex")->as_string(), "^9[2-9][0-9][0-9][0-9][0-9][0-9][0-9]$");
    f.ok("route-pattern 11 digits 9! trunk zeta");
    f.ok("route-pattern 12 regex (\\+|00)44[0-9]+ trunk zeta priority 50");  // a bare word keeps its backslash
    EXPECT_EQ(f.lookup_trunk("95551234"), "acme");
    EXPECT_EQ(f.lookup_trunk("9123"), "zeta");
    EXPECT_EQ(f.lookup_trunk("+442071234567"), "zeta");
    EXPECT_EQ(f.lookup_trunk("1234"), "-");
    ASSERT_TRUE(f.ctl.state().route_cache.tables);  // compiled with the commit
    EXPECT_EQ(f.ctl.state().route_cache.tables->outbound->size(), 3u);

    // Modify: the same id replaces the pattern; the others still route.
    r = f.run("route-pattern 10 digits 95XXXXXX trunk zeta source 10.1.0.0/16");
    ASSERT_EQ(status_of(r), 0) << error_of(r);
    EXPECT_TRUE(r.get("data")->get("replaced")->as_bool());
    EXPECT_EQ(f.lookup_trunk("95551234 source 10.1.2.3"), "zeta");
    EXPECT_EQ(f.lookup_trunk("95551234 source 10.2.0.1"), "zeta");  // 9! from anywhere
    EXPECT_EQ(f.ctl.state().route_patterns.at(10).source, "10.1.0.0/16");

    f.ok("no route-pattern 11");
    EXPECT_EQ(f.lookup_trunk("95551234 source 10.2.0.1"), "-");
    EXPECT_EQ(f.lookup_trunk("95551234 source 10.1.9.9"), "zeta");
    r = f.run("no route-pattern 11");
    EXPECT_EQ(status_of(r), ENOENT);
    EXPECT_EQ(f.ctl.state().route_cache.tables->outbound->size(), 2u);
}

TEST(CtlRoute, ViewsDoNotCompileOnTheControlThreadWhileACompileIsDeferred) {
    // sipedge after its startup file: a change commits at once and its
    // compile runs elsewhere (control/dp_link.cc); show routes and
    // route-lookup answer EAGAIN until the tables are there, never compile.
    Fixture f;
    f.ok("add trunk acme");
    f.ctl.set_defer_route_compile(true);
    f.ok("route-pattern 10 digits 9XXX trunk acme");
    EXPECT_FALSE(f.ctl.state().route_cache.tables);
    for (const char* line : {"show routes", "route-lookup 9123"}) {
        const Json r = f.run(line);
        EXPECT_EQ(status_of(r), EAGAIN) << line;
        EXPECT_NE(error_of(r).find("being compiled (1 patterns"), std::string::npos) << error_of(r);
        EXPECT_FALSE(f.ctl.state().route_cache.tables) << line << " compiled on the control thread";
    }
    // The compile delivered (what DpLink does): both answer again.
    auto c = compiled_routes(f.ctl.state());
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(f.lookup_trunk("9123"), "acme");
    EXPECT_EQ(status_of(f.run("show routes")), 0);
}

TEST(CtlRoute, BadPatternChangesNothing) {
    Fixture f;
    f.ok("add trunk acme");
    f.ok("route-pattern 1 digits 1XXX trunk acme");
    const State before = f.ctl.state();
    const auto tables = f.ctl.state().route_cache.tables;
    struct Case {
        const char* line;
        const char* error;
    } cases[] = {
        {"route-pattern 2 digits 1[5-2]X trunk acme", "route-pattern 2: digit pattern '1[5-2]X': character 3: range 5-2 runs backwards"},
        {"route-pattern 2 digits 1@ trunk acme", "NANP"},
        {"route-pattern 2 regex \"1(2\" trunk acme", "route-pattern 2: regular expression:"},
        {"route-pattern 2 digits 12 trunk nosuch", "route-pattern 2: no trunk 'nosuch'"},
        {"route-pattern 2 digits 12", "trunk <name> is required"},
        {"route-pattern 2 digits 12 trunk acme source 10.1.2.3/16", "host bits set; the prefix is 10.1.0.0/16"},
        {"route-pattern 2 digits 12 trunk acme priority 70000", "out of range 0-65535"},
        {"route-pattern 2 digits 12 trunk acme trunk acme", "given twice"},
        {"route-pattern 2 digits 12 trunk acme color red", "unknown word 'color'"},
        {"route-pattern 2 prefix 12 trunk acme", "expected digits or regex"},
        {"route-pattern 0 digits 12 trunk acme", "out of range 1-4294967295"},
        {"route-pattern 1 digits 1[ trunk acme", "route-pattern 1:"},  // a bad replacement keeps the old one
        {"inbound-pattern 2 digits 12 target 192.0.2.1", "expected <ipv4>:<port>"},
        {"inbound-pattern 2 digits 12 target 192.0.2.1:0", "out of range 1-65535"},
        {"inbound-pattern 2 digits 12 trunk acme", "unknown word 'trunk'"},
        {"del trunk acme", "trunk acme is used by route-pattern 1"},
    };
    for (const Case& c : cases) {
        const Json r = f.run(c.line);
        EXPECT_NE(status_of(r), 0) << c.line;
        EXPECT_NE(error_of(r).find(c.error), std::string::npos) << c.line << " -> " << error_of(r);
        EXPECT_TRUE(f.ctl.state() == before) << c.line;
        EXPECT_EQ(f.ctl.state().route_cache.tables, tables) << c.line << ": the published tables changed";
    }
    EXPECT_EQ(f.lookup_trunk("1234"), "acme");
    // Once the pattern is gone the trunk can go.
    f.ok("no route-pattern 1");
    f.ok("del trunk acme");
}

TEST(CtlRoute, LookupExplainsTheWinner) {
    Fixture f;
    f.ok("add trunk a");
    f.ok("add trunk b");
    f.ok("route-pattern 1 digits 1XXX trunk a");
    f.ok("route-pattern 2 digits 12XX trunk b");
    f.ok("route-pattern 3 digits 123X trunk a source 192.0.2.0/24");
    Json r = f.run("route-lookup 1234 source 198.51.100.1");
    ASSERT_EQ(status_of(r), 0) << error_of(r);
    const Json& d = *r.get("data");
    EXPECT_EQ(d.get("result")->as_string(), "matched");
    EXPECT_EQ(d.get("trunk")->as_string(), "b");
    EXPECT_EQ(d.get("winner")->get("id")->as_int(), 2);
    const std::string why = d.get("reason")->as_string();
    EXPECT_NE(why.find("route-pattern 2 wins: priority 100; fixed-length digits matching 100 numbers"), std::string::npos) << why;
    EXPECT_NE(why.find("3 sorts first but not for source 198.51.100.1"), std::string::npos) << why;
    EXPECT_NE(why.find("it sorts before 1 (priority 100; fixed-length digits matching 1000 numbers"), std::string::npos) << why;
    ASSERT_EQ(d.get("candidates")->size(), 3u);
    EXPECT_FALSE(d.get("candidates")->items()[0].get("source_ok")->as_bool());

    r = f.run("route-lookup 1234 source 192.0.2.9");
    EXPECT_EQ(r.get("data")->get("trunk")->as_string(), "a");
    r = f.run("route-lookup 5555");
    EXPECT_EQ(r.get("data")->get("result")->as_string(), "no match");
    EXPECT_EQ(r.get("data")->get("reason")->as_string(), "no pattern matches 5555");
    r = f.run("route-lookup 1234 source 300.1.1.1");
    EXPECT_EQ(status_of(r), EINVAL);

    r = f.run("show routes");
    ASSERT_EQ(status_of(r), 0) << error_of(r);
    const Json& order = *r.get("data")->get("outbound")->get("order");
    ASSERT_EQ(order.size(), 3u);
    EXPECT_EQ(order.items()[0].get("id")->as_int(), 3);  // 10 numbers
    EXPECT_EQ(order.items()[1].get("id")->as_int(), 2);  // 100
    EXPECT_EQ(order.items()[2].get("id")->as_int(), 1);  // 1000
    EXPECT_EQ(order.items()[0].get("regex")->as_string(), "^123[0-9]$");
}

TEST(CtlRoute, InboundPatterns) {
    Fixture f;
    f.ok("inbound-pattern 1 digits +1555123XXXX target 192.0.2.50:5060");
    f.ok("inbound-pattern 2 digits +15551234567 target 192.0.2.51:5070");
    f.ok("inbound-pattern 3 digits ! target 192.0.2.99:5060 source 203.0.113.0/24");
    Json r = f.run("route-lookup %2B15551234567 inbound");
    ASSERT_EQ(status_of(r), 0) << error_of(r);
    EXPECT_EQ(r.get("data")->get("target")->as_string(), "192.0.2.51:5070");
    r = f.run("route-lookup +15551230000 inbound");
    EXPECT_EQ(r.get("data")->get("target")->as_string(), "192.0.2.50:5060");
    r = f.run("route-lookup 4711 inbound source 203.0.113.5");
    EXPECT_EQ(r.get("data")->get("target")->as_string(), "192.0.2.99:5060");
    r = f.run("route-lookup 4711 inbound source 198.51.100.5");
    EXPECT_EQ(r.get("data")->get("result")->as_string(), "no match");
    // Outbound and inbound ids are separate.
    f.ok("add trunk t");
    f.ok("route-pattern 1 digits 4711 trunk t");
    EXPECT_EQ(f.lookup_trunk("4711"), "t");
    f.ok("no inbound-pattern 3");
    EXPECT_EQ(f.ctl.state().inbound_patterns.size(), 2u);
}

TEST(CtlRoute, RunningConfigRoundTrip) {
    test::TempDir dir;
    // Patterns before the trunk they name: the file is checked as a whole.
    dir.write("start.cfg", R"(route-pattern 20 regex "(\\+|00)44[0-9]+" trunk acme priority 50
route-pattern 5 digits 9[2-9]XXXXXX trunk acme source 10.0.0.0/8
route-pattern 7 digits \+1! trunk zeta
route-pattern 8 digits "#31#X." trunk zeta
inbound-pattern 3 digits +1555123XXXX target 192.0.2.50:5060 source 203.0.113.0/24 priority 10
add trunk acme
add trunk zeta
)");
    failover::Millis now = 0;
    Controller a(test::manual_clock(&now));
    Status s = load_config_file(a, dir.file("start.cfg"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_TRUE(a.state().route_cache.tables);
    EXPECT_EQ(a.state().route_patterns.size(), 4u);
    const std::vector<std::string> first = a.running_config();
    std::string text;
    for (const std::string& l : first) text += l + "\n";
    EXPECT_NE(text.find("route-pattern 5 digits 9[2-9]XXXXXX trunk acme source 10.0.0.0/8\n"), std::string::npos) << text;
    EXPECT_NE(text.find("route-pattern 20 regex \"(\\\\+|00)44[0-9]+\" trunk acme priority 50\n"), std::string::npos) << text;
    EXPECT_NE(text.find("route-pattern 8 digits \"#31#X.\" trunk zeta\n"), std::string::npos) << text;
    EXPECT_NE(text.find("inbound-pattern 3 digits +1555123XXXX target 192.0.2.50:5060 source 203.0.113.0/24 priority 10\n"),
              std::string::npos) << text;
    dir.write("running.cfg", text);
    Controller b(test::manual_clock(&now));
    Status s2 = load_config_file(b, dir.file("running.cfg"));
    ASSERT_TRUE(s2.ok()) << s2.error().message << "\n" << text;
    EXPECT_EQ(b.running_config(), first);
    EXPECT_TRUE(a.state() == b.state());
    EXPECT_EQ(b.execute_json("route-lookup +4420").get("data")->get("trunk")->as_string(), "acme");
    EXPECT_EQ(b.execute_json("route-lookup #31#55").get("data")->get("trunk")->as_string(), "zeta");

    // A bad line is refused with file:line and nothing is applied.
    dir.write("bad.cfg", "add trunk x\nroute-pattern 1 digits 1XX trunk x\nroute-pattern 2 digits 1[ trunk x\n");
    Controller c(test::manual_clock(&now));
    Status s3 = load_config_file(c, dir.file("bad.cfg"));
    ASSERT_FALSE(s3.ok());
    EXPECT_NE(s3.error().message.find("bad.cfg:3: route-pattern 2: digit pattern '1['"), std::string::npos)
        << s3.error().message;
    EXPECT_TRUE(c.state().route_patterns.empty());
    EXPECT_TRUE(c.state().trunks.empty());
    // A pattern naming a trunk the file never adds: the error points at the last route line.
    dir.write("dangling.cfg", "add trunk x\nroute-pattern 1 digits 1XX trunk y\nroute-pattern 2 digits 2XX trunk x\n");
    Status s4 = load_config_file(c, dir.file("dangling.cfg"));
    ASSERT_FALSE(s4.ok());
    EXPECT_NE(s4.error().message.find("dangling.cfg:3: route-pattern 1: no trunk 'y'"), std::string::npos)
        << s4.error().message;
}

TEST(CtlRoute, ThousandsOfPatternsCompileOnceFromAFile) {
    test::TempDir dir;
    std::string text = "add trunk t0\nadd trunk t1\nadd trunk t2\n";
    for (int i = 1; i <= 3000; i++)
        text += "route-pattern " + std::to_string(i) + " digits +1" + std::to_string(2000000 + i * 37) + "XXX trunk t" +
                std::to_string(i % 3) + "\n";
    dir.write("big.cfg", text);
    failover::Millis now = 0;
    Controller a(test::manual_clock(&now));
    Status s = load_config_file(a, dir.file("big.cfg"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_EQ(a.state().route_cache.tables->outbound->size(), 3000u);
    // Pattern 100: +1 2003700 XXX → trunk t1.
    Json r = a.execute_json("route-lookup +12003700123");
    ASSERT_EQ(status_of(r), 0) << error_of(r);
    EXPECT_EQ(r.get("data")->get("trunk")->as_string(), "t1");
    EXPECT_EQ(r.get("data")->get("winner")->get("id")->as_int(), 100);
}

}  // namespace
}  // namespace sipedge::ctl
