// control/dns_link.*: the Resolver attached to a Controller, against a real
// knotd on 127.0.0.1 (a free port; tests/dns/knot_server.h). A trunk server
// given as a domain gets the SRV-ordered addresses in the engine's server
// set; a zone change reorders them at the TTL refresh; removing the server
// stops the lookup; a rebuilt engine gets the answer again; static dns-cache
// records answer a name the server does not know; `set global dns-server`
// round-trips through running-config. Skipped (GTEST_SKIP) without knotd.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "control/dns_link.h"
#include "dns/poll_loop.h"
#include "tests/control/ctl_util.h"
#include "tests/dns/knot_server.h"

namespace sipedge::ctl {
namespace {

using dns::testing::KnotServer;
using test::status_of;

std::string zone(int serial, int p1, int p2) {
    return "$ORIGIN carrier.example.\n$TTL 2\n"
           "@ SOA ns hostmaster " + std::to_string(serial) + " 3600 600 86400 1\n"
           "@ NS ns\n"
           "ns A 127.0.0.1\n"
           "@ NAPTR 10 10 \"S\" \"SIP+D2U\" \"\" _sip._udp\n"
           "_sip._udp SRV " + std::to_string(p1) + " 0 5060 car1\n"
           "_sip._udp SRV " + std::to_string(p2) + " 0 5062 car2\n"
           "car1 A 192.0.2.21\n"
           "car2 A 192.0.2.22\n";
}

class DnsLinkTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!KnotServer::available()) GTEST_SKIP() << "knotd not installed (apt-get install knot)";
        std::string err;
        knot_ = KnotServer::start("127.0.0.1", {{"carrier.example", zone(1, 10, 20)}}, &err);
        ASSERT_NE(knot_, nullptr) << err;
        ctl_ = std::make_unique<Controller>([] { return dns::monotonic_ms(); });
        auto d = DnsLink::create(*ctl_);
        ASSERT_TRUE(d.ok()) << d.error().message;
        dns_ = std::move(d).value();
        run("set global dns-server 127.0.0.1:" + std::to_string(knot_->port()));
        run("add trunk t1");
        run("set trunk t1 register off");
        run("set trunk t1 server 1 carrier.example transport dnsNaptr");
    }
    void TearDown() override {
        dns_.reset();
        ctl_.reset();
        if (knot_) knot_->stop();
    }
    void run(const std::string& line) {
        const Json r = ctl_->execute_json(line);
        ASSERT_EQ(status_of(r), 0) << line << ": " << test::error_of(r);
    }
    // The engine's server addresses of <trunk>, in selection order.
    std::vector<std::string> servers(const std::string& trunk) {
        std::vector<std::string> v;
        const auto id = ctl_->engine_id(trunk);
        if (!id) return v;
        for (const auto& s : ctl_->engine().trunk(*id)->servers)
            v.push_back(s.target.address + ":" + std::to_string(s.target.port));
        return v;
    }
    bool wait_servers(const std::string& trunk, const std::vector<std::string>& want, int ms) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < end) {
            if (servers(trunk) == want) return true;
            dns_->poll(50);
        }
        return servers(trunk) == want;
    }
    std::unique_ptr<KnotServer> knot_;
    std::unique_ptr<Controller> ctl_;
    std::unique_ptr<DnsLink> dns_;
};

TEST_F(DnsLinkTest, ResolvedInSrvOrderAndShown) {
    const std::vector<std::string> want{"192.0.2.21:5060", "192.0.2.22:5062"};
    ASSERT_TRUE(wait_servers("t1", want, 5000)) << knot_->log();
    EXPECT_GE(dns_->applied(), 1u);
    const Json r = ctl_->execute_json("show dns");
    ASSERT_EQ(status_of(r), 0);
    const Json* res = r.get("data")->get("resolver");
    ASSERT_NE(res, nullptr);
    const std::string text = res->dump();
    EXPECT_NE(text.find("\"host\":\"carrier.example\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"source\":\"dns\""), std::string::npos) << text;
    EXPECT_NE(text.find("192.0.2.22:5062"), std::string::npos) << text;
    // The same in metrics: queries and a usable answer per name and type.
    const Json mr = ctl_->execute_json("show metrics");
    ASSERT_EQ(status_of(mr), 0);
    const std::string mt = mr.get("data")->as_string();
    EXPECT_NE(mt.find("sipedge_dns_answer_ok{name=\"carrier.example\",type=\"NAPTR\"} 1\n"), std::string::npos) << mt;
    EXPECT_NE(mt.find("sipedge_dns_queries_total{name=\"carrier.example\",type=\"NAPTR\"} "), std::string::npos);
    EXPECT_EQ(mt.find("sipedge_dns_queries_total{name=\"carrier.example\",type=\"NAPTR\"} 0\n"), std::string::npos)
        << "at least one query";
    EXPECT_NE(mt.find("sipedge_dns_failures_total{name=\"_sip._udp.carrier.example\",type=\"SRV\"} 0\n"), std::string::npos) << mt;
    EXPECT_EQ(mt.find("sipedge_dns_server_sets_applied_total 0\n"), std::string::npos);
}

TEST_F(DnsLinkTest, RefreshReordersAndRemovalStops) {
    ASSERT_TRUE(wait_servers("t1", {"192.0.2.21:5060", "192.0.2.22:5062"}, 5000));
    ASSERT_TRUE(knot_->update_zone("carrier.example", zone(2, 30, 20)));
    // TTL 2 s: the background refresh picks up the new priorities.
    EXPECT_TRUE(wait_servers("t1", {"192.0.2.22:5062", "192.0.2.21:5060"}, 8000));
    // A static server beside the name: it follows the name's records.
    run("set trunk t1 server 2 192.0.2.99:5070 udp");
    EXPECT_TRUE(wait_servers("t1", {"192.0.2.22:5062", "192.0.2.21:5060", "192.0.2.99:5070"}, 3000));
    // The name goes away: the lookup stops, the engine keeps the static list.
    run("del trunk t1 server 1");
    EXPECT_EQ(servers("t1"), (std::vector<std::string>{"192.0.2.99:5070"}));
    const Json r = ctl_->execute_json("show dns");
    EXPECT_EQ(r.get("data")->get("resolver")->get("hosts")->dump(), "[]") << r.dump();
}

TEST_F(DnsLinkTest, MaintenanceByAddressReachesDnsResolvedServers) {
    // Set before the answer arrives: the SRV target car2 (192.0.2.22) comes
    // into the engine already in maintenance; car1 does not.
    run("set trunk t1 maintenance-address 192.0.2.22 on");
    ASSERT_TRUE(wait_servers("t1", {"192.0.2.21:5060", "192.0.2.22:5062"}, 5000)) << knot_->log();
    const uint32_t id = *ctl_->engine_id("t1");
    const failover::Millis now = ctl_->now();
    EXPECT_EQ(ctl_->engine().health(id, 0, now), failover::Health::up);
    EXPECT_EQ(ctl_->engine().health(id, 1, now), failover::Health::maintenance);
    const failover::TrunkRoutes r = ctl_->engine().routes(id, now);
    ASSERT_EQ(r.count, 1);
    EXPECT_EQ(r.cand[0].server_idx, 0);
    // Reordered at the refresh: the flag stays with 192.0.2.22.
    ASSERT_TRUE(knot_->update_zone("carrier.example", zone(2, 30, 20)));
    ASSERT_TRUE(wait_servers("t1", {"192.0.2.22:5062", "192.0.2.21:5060"}, 8000));
    EXPECT_EQ(ctl_->engine().health(id, 0, ctl_->now()), failover::Health::maintenance);
    EXPECT_EQ(ctl_->engine().health(id, 1, ctl_->now()), failover::Health::up);
    // A port that is not car2's matches nothing; off returns it at once.
    run("set trunk t1 maintenance-address 192.0.2.22 off");
    run("set trunk t1 maintenance-address 192.0.2.22:5060 on");
    EXPECT_EQ(ctl_->engine().health(id, 0, ctl_->now()), failover::Health::up);
}

TEST_F(DnsLinkTest, RebuiltEngineGetsTheAnswerAgain) {
    ASSERT_TRUE(wait_servers("t1", {"192.0.2.21:5060", "192.0.2.22:5062"}, 5000));
    run("set trunk t1 domain other.example");  // a domain change re-adds the trunk (new id)
    EXPECT_EQ(servers("t1"), (std::vector<std::string>{"192.0.2.21:5060", "192.0.2.22:5062"}));
}

TEST_F(DnsLinkTest, StaticCacheAnswersAnUnknownName) {
    // backup.example is not served (knotd answers REFUSED): static SRV + A records answer.
    run("set dns-cache srv 1 _sip._udp.backup.example 5 0 5080 b1.backup.example ttl 60");
    run("set dns-cache a 1 b1.backup.example 192.0.2.31 ttl 60");
    run("add trunk t2");
    run("set trunk t2 register off");
    run("set trunk t2 server 1 backup.example transport UDPOnly");
    EXPECT_TRUE(wait_servers("t2", {"192.0.2.31:5080"}, 8000));
    const std::string text = ctl_->execute_json("show dns").get("data")->get("resolver")->dump();
    EXPECT_NE(text.find("\"source\":\"static\""), std::string::npos) << text;
    // The first trunk's answers survived the new resolver the dns-cache change started.
    EXPECT_TRUE(wait_servers("t1", {"192.0.2.21:5060", "192.0.2.22:5062"}, 5000));
}

TEST_F(DnsLinkTest, DnsServerCommandRoundTripAndErrors) {
    const std::string want = "set global dns-server 127.0.0.1:" + std::to_string(knot_->port());
    bool found = false;
    for (const std::string& l : ctl_->running_config()) found = found || l == want;
    EXPECT_TRUE(found);
    for (const char* bad : {"set global dns-server", "set global dns-server nothost", "set global dns-server 1.2.3.4:0",
                            "set global dns-server 1.2.3.4:70000", "set global dns-server 2001:db8::1:53x"})
        EXPECT_NE(status_of(ctl_->execute_json(bad)), 0) << bad;
    // A refused command changed nothing.
    found = false;
    for (const std::string& l : ctl_->running_config()) found = found || l == want;
    EXPECT_TRUE(found);
    run("set global dns-server [::1]:5353 127.0.0.2");
    found = false;
    for (const std::string& l : ctl_->running_config())
        found = found || l == "set global dns-server [::1]:5353 127.0.0.2";
    EXPECT_TRUE(found);
    run("unset global dns-server");
    for (const std::string& l : ctl_->running_config()) EXPECT_EQ(l.find("dns-server"), std::string::npos) << l;
}

}  // namespace
}  // namespace sipedge::ctl
