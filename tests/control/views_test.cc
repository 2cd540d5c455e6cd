// The operator views: show servers/registrations/dns/events/stats, valid and
// invalid, on a state driven through the engine (a validated failover); and
// sipedgectl's tables, --json, `monitor events` and `top --count 2` against a
// served Controller.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>

#include "monitor_util.h"

#ifndef SIPEDGE_CTL_BIN
#error "SIPEDGE_CTL_BIN: path of the sipedgectl executable (tests/control/meson.build)"
#endif

namespace sipedge::ctl {
namespace {

using test::status_of;

struct Ctl {
    failover::Millis now = 1000;
    Controller c{test::manual_clock(&now)};
    explicit Ctl(const std::string& cfg) {
        std::vector<std::string> lines;
        size_t p = 0;
        while (p < cfg.size()) {
            size_t e = cfg.find('\n', p);
            if (e == std::string::npos) e = cfg.size();
            lines.push_back(cfg.substr(p, e - p));
            p = e + 1;
        }
        Status s = c.apply_lines(lines, "test");
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    }
    Json data(const std::string& cmd) {
        Json r = c.execute_json(cmd);
        EXPECT_EQ(status_of(r), 0) << cmd << ": " << r.dump();
        return r.get("data") ? *r.get("data") : Json();
    }
};

std::string str(const Json& o, const char* k) {
    const Json* v = o.get(k);
    return v && v->is_string() ? v->as_string() : v ? v->dump() : "(none)";
}

TEST(Views, ServersAfterFailover) {
    Ctl t(test::validated_trunk);
    Json before = t.data("show servers");
    ASSERT_EQ(before.size(), 2u);  // idle is not running: not listed
    EXPECT_EQ(str(before.items()[0], "state"), "up");
    EXPECT_EQ(str(before.items()[0], "last_trigger"), "-");
    EXPECT_EQ(str(before.items()[0], "rtt"), "n/a");
    EXPECT_TRUE(before.items()[0].get("rtt_us")->is_null());

    test::drive_failover(t.c, t.now);
    test::server_event(t.c, "acme", 1, failover::EventKind::success, t.now, 12000);
    Json s = t.data("show servers acme");
    ASSERT_EQ(s.size(), 2u);
    const Json& a = s.items()[0];
    const Json& b = s.items()[1];
    EXPECT_EQ(str(a, "address"), "192.0.2.10:5060");
    EXPECT_EQ(str(a, "state"), "failed");
    EXPECT_EQ(str(a, "last_trigger"), "timeout");
    EXPECT_EQ(a.get("trigger_age_s")->as_int(), 1);
    EXPECT_EQ(a.get("failures")->as_int(), 1);
    EXPECT_EQ(str(b, "role"), "active");
    EXPECT_EQ(str(b, "state"), "up");
    EXPECT_EQ(b.get("rtt_us")->as_int(), 12000);
    EXPECT_EQ(str(b, "rtt"), "12.0ms");
    EXPECT_EQ(b.get("failures")->as_int(), 0);
}

TEST(Views, RecoveryDeadline) {
    Ctl t(std::string(test::validated_trunk) + "set trunk acme recover-delay 30 30\n");
    test::drive_failover(t.c, t.now);
    // The failed primary answers again: seed A recovery delay keeps it out for 30 s.
    test::server_event(t.c, "acme", 0, failover::EventKind::success, t.now);
    t.now += 5000;
    Json s = t.data("show servers acme");
    const Json& a = s.items()[0];
    EXPECT_EQ(str(a, "state"), "recovering") << s.dump();
    ASSERT_TRUE(a.get("recovery_in_s")->is_number()) << s.dump();
    EXPECT_GT(a.get("recovery_in_s")->as_int(), 0);
    EXPECT_LE(a.get("recovery_in_s")->as_int(), 30);
    EXPECT_TRUE(s.items()[1].get("recovery_in_s")->is_null());
}

TEST(Views, Registrations) {
    Ctl t(test::validated_trunk);
    Json r0 = t.data("show registrations");
    ASSERT_EQ(r0.size(), 1u);
    EXPECT_EQ(str(r0.items()[0], "state"), "unregistered");
    EXPECT_TRUE(r0.items()[0].get("server")->is_null());

    test::drive_failover(t.c, t.now);
    Json r = t.data("show registrations acme");
    ASSERT_EQ(r.size(), 1u);
    const Json& g = r.items()[0];
    EXPECT_EQ(str(g, "identity"), "100");
    EXPECT_EQ(str(g, "state"), "registered");
    EXPECT_EQ(g.get("server")->as_int(), 1);
    EXPECT_EQ(str(g, "address"), "192.0.2.11:5060");
    EXPECT_GT(g.get("expires_in_s")->as_int(), 3000);  // expire-time 3600 granted
    EXPECT_LE(g.get("expires_in_s")->as_int(), 3600);
    const std::string cid = str(g, "call_id");
    EXPECT_FALSE(cid.empty());
    EXPECT_EQ(cid, t.c.engine().trunk(*t.c.engine_id("acme"))->regs[0].call_id);
}

TEST(Views, EventsLogAndCount) {
    Ctl t(test::validated_trunk);
    EXPECT_EQ(t.data("show events").size(), 0u);
    test::drive_failover(t.c, t.now);
    Json all = t.data("show events 1000");
    ASSERT_GE(all.size(), 4u);
    Json two = t.data("show events 2");
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(two.items()[1], all.items()[all.size() - 1]);  // newest last
    EXPECT_EQ(str(two.items()[1], "event"), "failover");
    // Collected once: another deliver_notices with no new actions adds nothing.
    t.c.deliver_notices();
    EXPECT_EQ(t.data("show events 1000").size(), all.size());
}

TEST(Views, Dns) {
    Ctl t(R"(set dns-cache a 1 sip.example.com 192.0.2.20 ttl 600
set dns-cache srv 2 _sip._udp.example.com 10 60 5060 sip1.example.com
add trunk dnsy
set trunk dnsy server 1 sip.example.com transport dnsNaptr
set trunk dnsy register off
add trunk plain
set trunk plain server 1 192.0.2.10 udp
set trunk plain register off
)");
    Json d = t.data("show dns");
    const Json* names = d.get("names");
    ASSERT_TRUE(names && names->is_array());
    ASSERT_GE(names->size(), 1u) << d.dump();
    for (const Json& n : names->items()) {
        EXPECT_EQ(str(n, "trunk"), "dnsy");  // static lists are not DNS names
        EXPECT_EQ(str(n, "name"), "sip.example.com");
        EXPECT_EQ(str(n, "source"), "unresolved");  // no resolver attached in this process
    }
    const Json* cache = d.get("static_cache");
    ASSERT_TRUE(cache);
    ASSERT_EQ(cache->size(), 2u);
    EXPECT_EQ(str(cache->items()[0], "answer"), "192.0.2.20");
    EXPECT_EQ(str(cache->items()[1], "answer"), "10 60 5060 sip1.example.com");
    EXPECT_EQ(str(cache->items()[1], "source"), "static");
}

TEST(Views, StatsFedByTheDataPlane) {
    Ctl t(test::validated_trunk);
    Json empty = t.data("show stats");
    EXPECT_EQ(str(empty, "source"), "no data plane attached");
    EXPECT_EQ(empty.get("cores")->size(), 0u);
    EXPECT_EQ(empty.get("readings")->as_int(), 0);
    std::vector<CoreStats> cs(2);
    cs[0].core = 1;
    cs[0].counters = {{"rx_packets", 100}, {"tx_packets", 90}};
    cs[0].drops = {{"sip_parse", 3}, {"udp_port", 0}};
    cs[1].core = 2;
    cs[1].counters = {{"rx_packets", 50}, {"tx_packets", 40}};
    cs[1].drops = {{"sip_parse", 1}, {"udp_port", 2}};
    t.c.monitor().set_core_stats(cs);
    Json s = t.data("show stats");
    EXPECT_EQ(str(s, "source"), "workers");
    ASSERT_EQ(s.get("cores")->size(), 2u);
    EXPECT_EQ(s.get("cores")->items()[0].get("dropped")->as_int(), 3);
    EXPECT_EQ(s.get("total")->get("rx_packets")->as_int(), 150);
    EXPECT_EQ(s.get("total")->get("dropped")->as_int(), 6);
    EXPECT_EQ(s.get("drops")->size(), 3u);  // zero counts are left out
    EXPECT_EQ(s.get("readings")->as_int(), 1);  // a script waits for the next one
    t.c.monitor().set_core_stats(cs);
    EXPECT_EQ(t.data("show stats").get("readings")->as_int(), 2);
}

TEST(Views, InvalidArguments) {
    Ctl t(test::validated_trunk);
    struct {
        const char* cmd;
        int status;
    } bad[] = {
        {"show servers nosuch", ENOENT},     {"show servers idle", ENODATA},
        {"show servers acme x", EINVAL},     {"show registrations nosuch", ENOENT},
        {"show registrations idle", ENODATA}, {"show registrations acme x", EINVAL},
        {"show dns x", EINVAL},              {"show events 0", EINVAL},
        {"show events -1", EINVAL},          {"show events abc", EINVAL},
        {"show events 5x", EINVAL},          {"show events 1025", EINVAL},
        {"show events 1 2", EINVAL},         {"show stats x", EINVAL},
    };
    for (const auto& b : bad) {
        Json r = t.c.execute_json(b.cmd);
        EXPECT_EQ(status_of(r), b.status) << b.cmd << ": " << r.dump();
        EXPECT_FALSE(test::error_of(r).empty()) << b.cmd;
    }
    // help lists the new commands.
    const std::string help = t.c.execute("help");
    for (const char* w : {"show servers", "show registrations", "show dns", "show events", "show stats",
                          "monitor events", "monitor trace"})
        EXPECT_NE(help.find(w), std::string::npos) << w;
}

// ---- sipedgectl ----------------------------------------------------------------------------

struct CtlRun {
    int rc = -1;
    std::string out;
};

CtlRun ctl(const std::string& sock, const std::string& args) {
    CtlRun r;
    const std::string cmd = std::string(SIPEDGE_CTL_BIN) + " --socket " + sock + " " + args + " </dev/null 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char b[4096];
    size_t n;
    while ((n = fread(b, 1, sizeof b, p)) > 0) r.out.append(b, n);
    const int st = pclose(p);
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

TEST(Sipedgectl, TablesForAKnownState) {
    test::Served s(test::validated_trunk);
    s.run([&] { test::drive_failover(s.ctl, s.now); });
    CtlRun servers = ctl(s.path(), "show servers");
    ASSERT_EQ(servers.rc, 0) << servers.out;
    // Header row, then one row per server, columns aligned.
    const std::string expect_head = "TRUNK  SERVER  ADDRESS          TRANSPORT  STATE   ROLE    LAST_TRIGGER";
    EXPECT_EQ(servers.out.substr(0, expect_head.size()), expect_head) << servers.out;
    EXPECT_NE(servers.out.find("\nacme   0       192.0.2.10:5060  udp        failed          timeout"),
              std::string::npos) << servers.out;
    EXPECT_NE(servers.out.find("\nacme   1       192.0.2.11:5060  udp        up      active  -"), std::string::npos)
        << servers.out;
    EXPECT_NE(servers.out.find("n/a"), std::string::npos);

    CtlRun regs = ctl(s.path(), "show registrations");
    ASSERT_EQ(regs.rc, 0) << regs.out;
    EXPECT_EQ(regs.out.rfind("TRUNK  IDENTITY  STATE       SERVER  ADDRESS          EXPIRES_IN_S  CALL_ID", 0), 0u)
        << regs.out;
    EXPECT_NE(regs.out.find("\nacme   100       registered  1       192.0.2.11:5060  "), std::string::npos) << regs.out;

    CtlRun json = ctl(s.path(), "--json show registrations acme");
    ASSERT_EQ(json.rc, 0);
    auto j = Json::parse(json.out.substr(0, json.out.find('\n')));
    ASSERT_TRUE(j.ok()) << json.out;
    EXPECT_EQ(j.value().get("data")->items()[0].get("state")->as_string(), "registered");

    CtlRun events = ctl(s.path(), "show events");
    EXPECT_EQ(events.out.rfind("SEQ  AT_MS  TRUNK  EVENT", 0), 0u) << events.out;
    EXPECT_NE(events.out.find("failover"), std::string::npos);

    CtlRun dns = ctl(s.path(), "show dns");
    EXPECT_EQ(dns.rc, 0);
    EXPECT_NE(dns.out.find("dynamic_restore  no"), std::string::npos) << dns.out;

    CtlRun bad = ctl(s.path(), "show servers nosuch");
    EXPECT_EQ(bad.rc, 1);
    EXPECT_NE(bad.out.find("error 2: no trunk 'nosuch'"), std::string::npos) << bad.out;
}

TEST(Sipedgectl, TopCountTwo) {
    test::Served s(test::validated_trunk);
    s.run([&] {
        std::vector<CoreStats> cs(1);
        cs[0].counters = {{"rx_packets", 1000}};
        s.ctl.monitor().set_core_stats(cs);
    });
    CtlRun top = ctl(s.path(), "--count 2 --interval 200 top");
    ASSERT_EQ(top.rc, 0) << top.out;
    size_t clears = 0;
    for (size_t p = 0; (p = top.out.find("\x1b[H\x1b[2J", p)) != std::string::npos; p++) clears++;
    EXPECT_EQ(clears, 2u) << top.out;
    EXPECT_NE(top.out.find("sipedge top   trunks 2   servers 2 up / 0 not up   registrations 0/1"), std::string::npos)
        << top.out;
    EXPECT_NE(top.out.find("TRUNKS\n  NAME"), std::string::npos) << top.out;
    EXPECT_NE(top.out.find("SERVERS\n  TRUNK"), std::string::npos);
    EXPECT_NE(top.out.find("REGISTRATIONS\n  TRUNK"), std::string::npos);
    EXPECT_NE(top.out.find("rx_packets 0.0"), std::string::npos) << top.out;  // no growth between the reads
    CtlRun tj = ctl(s.path(), "--json --count 1 top");
    ASSERT_EQ(tj.rc, 0);
    auto j = Json::parse(tj.out.substr(0, tj.out.find('\n')));
    ASSERT_TRUE(j.ok()) << tj.out;
    EXPECT_EQ(j.value().get("servers")->size(), 2u);
    // No server: exit 2.
    EXPECT_EQ(ctl(s.dir.file("none.sock"), "--count 1 top").rc, 2);
}

TEST(Sipedgectl, MonitorEventsCount) {
    test::Served s(test::validated_trunk);
    // The client subscribes, then the failover happens; --count 3 stops it.
    const std::string cmd = std::string(SIPEDGE_CTL_BIN) + " --socket " + s.path() + " --json --count 3 monitor events";
    FILE* p = popen(cmd.c_str(), "r");
    ASSERT_TRUE(p);
    for (int i = 0; i < 200; i++) {
        size_t n = 0;
        s.run([&] { n = s.ctl.monitor().subscriber_count(); });
        if (n) break;
        usleep(10000);
    }
    s.run([&] { test::drive_failover(s.ctl, s.now); });
    std::string out;
    char b[4096];
    size_t n;
    while ((n = fread(b, 1, sizeof b, p)) > 0) out.append(b, n);
    EXPECT_EQ(WEXITSTATUS(pclose(p)), 0);
    size_t lines = 0;
    for (char c : out) lines += c == '\n';
    EXPECT_EQ(lines, 3u) << out;  // 3 events; the subscription reply is not printed
    EXPECT_NE(out.find("\"event\":\"registered\""), std::string::npos) << out;
}

}  // namespace
}  // namespace sipedge::ctl
