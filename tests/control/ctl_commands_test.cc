// Every command with valid and invalid arguments (table-driven: command line
// → expected status and error substring), transactional changes, secrets.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "control/knob_table.h"
#include "ctl_util.h"

namespace sipedge::ctl {
namespace {

using test::error_of;
using test::status_of;

struct Case {
    const char* line;
    int status;         // 0 or errno
    const char* error;  // substring of the error ("" for success)
};

// Run against a controller that holds trunk "acme" with one server and one
// identity, and trunk "empty" with nothing.
const Case cases[] = {
    // trunks
    {"add trunk new1", 0, ""},
    {"add trunk acme", EEXIST, "exists"},
    {"add trunk bad/name", EINVAL, "only letters"},
    {"add trunk x extra", EINVAL, "unexpected word 'extra'"},
    {"add trunk", EINVAL, "incomplete command"},
    {"del trunk empty", 0, ""},
    {"del trunk nosuch", ENOENT, "no trunk 'nosuch'"},
    // servers
    {"set trunk acme server 2 192.0.2.11", 0, ""},
    {"set trunk acme server 2 192.0.2.11:5080 tcp", 0, ""},
    {"set trunk acme server secondary [2001:db8::1]:5061 tls", 0, ""},
    {"set trunk acme server primary sbc.example.net udp", 0, ""},
    {"set trunk acme server 16 sip.example.com transport dnsNaptr", 0, ""},
    {"set trunk acme server 3 sip.example.com transport UDPOnly", 0, ""},
    {"set trunk acme server 3 sip.example.com transport TCPOnly", 0, ""},
    {"set trunk acme server 3 sip.example.com transport TLS", 0, ""},
    {"set trunk acme server 3 sip.example.com:65535 transport TCPpreferred", 0, ""},
    {"set trunk acme server 17 192.0.2.1", EINVAL, "out of range 1-16"},
    {"set trunk acme server 0 192.0.2.1", EINVAL, "out of range 1-16"},
    {"set trunk acme server x 192.0.2.1", EINVAL, "number 1-16"},
    {"set trunk acme server 2 192.0.2.1:70000", EINVAL, "range 0-65535"},
    {"set trunk acme server 2 192.0.2.1 sctp", EINVAL, "unknown word 'sctp'"},
    {"set trunk acme server 2 bad_host!", EINVAL, "neither an IP address nor a host name"},
    {"set trunk acme server 2 2001:db8::1", EINVAL, "must be written [addr]"},
    {"set trunk acme server 2 192.0.2.1 transport dnsNaptr", EINVAL, "needs a DNS name"},
    {"set trunk acme server 2 sip.example.com transport udp", EINVAL, "unknown word 'udp'"},
    {"set trunk acme server 2 sip.example.com transport", EINVAL, "missing value"},
    {"set trunk acme server 2 192.0.2.1 udp extra", EINVAL, "unexpected word 'extra'"},
    {"set trunk acme server 2", EINVAL, "missing address"},
    {"set trunk nosuch server 1 192.0.2.1", ENOENT, "no trunk 'nosuch'"},
    {"del trunk acme server 1", 0, ""},
    {"del trunk acme server 9", ENOENT, "has no server 9"},
    // identities
    {"set trunk acme identity 200 password pw contact sip:200@192.0.2.50", 0, ""},
    {"set trunk acme identity 200 auth-user u200 password pw contact sips:200@192.0.2.50", 0, ""},
    {"set trunk acme identity 100 stored-password contact sip:100@192.0.2.50", 0, ""},
    {"set trunk acme identity 300 stored-password contact sip:300@192.0.2.50", ENOENT, "no password is stored"},
    {"set trunk acme identity 200 contact sip:200@192.0.2.50", EINVAL, "password <p> or stored-password is required"},
    {"set trunk acme identity 200 password pw", EINVAL, "contact <uri> is required"},
    {"set trunk acme identity 200 password pw contact http://x", EINVAL, "sip: or sips: URI"},
    {"set trunk acme identity 200 password pw contact sip:x color red", EINVAL, "unknown word 'color'"},
    {"set trunk acme identity 200 password", EINVAL, "'password' needs a value"},
    {"del trunk acme identity 100", 0, ""},
    {"del trunk acme identity 999", ENOENT, "has no identity 999"},
    // domain
    {"set trunk acme domain carrier.example", 0, ""},
    {"set trunk acme domain bad_domain!", EINVAL, "not a host name"},
    {"unset trunk acme domain", 0, ""},
    // knobs (ranges in ctl_knobs_test)
    {"set trunk acme t1 250", 0, ""},
    {"set trunk acme t1", EINVAL, "t1: missing value; range 50-1000 ms"},
    {"set trunk acme t1 1 2", EINVAL, "takes one value"},
    {"set trunk acme t1 abc", EINVAL, "'abc' is not a number"},
    {"set trunk acme t1 -5", EINVAL, "is not a number"},
    {"set trunk acme nosuchknob 1", EINVAL, "unknown knob 'nosuchknob'"},
    {"set trunk nosuch t1 500", ENOENT, "no trunk"},
    {"set trunk acme retry-model poly", 0, ""},
    {"set trunk acme retry-model nokia", EINVAL, "unknown word 'nokia'"},
    {"set trunk acme threshold percentage 50", 0, ""},
    {"set trunk acme threshold absolute 4", EINVAL, "threshold: 4 is out of range"},
    {"set trunk acme threshold relative 4", EINVAL, "unknown word 'relative'"},
    {"set trunk acme expire-time 100", EINVAL, "expire-time: registrar expire-time: absolute threshold + 6"},
    {"set trunk acme recover-delay 30 60", 0, ""},
    {"set trunk acme recover-delay 30", 0, ""},
    {"set trunk acme recover-delay off", 0, ""},
    {"set trunk acme recover-delay 60 30", EINVAL, "max 30 is below min 60"},
    {"set trunk acme recover-delay 86401", EINVAL, "86401 is out of range"},
    {"set trunk acme failback-timeout 30", 0, ""},
    {"set trunk acme keepalive-udp-payload \"\\r\\n\"", 0, ""},
    {"set trunk acme tcp-fast-failover maybe", EINVAL, "unknown word 'maybe'"},
    {"unset trunk acme t1", 0, ""},
    {"unset trunk acme nosuchknob", EINVAL, "unknown knob"},
    // globals and the DNS cache
    {"set global dns-restore on", 0, ""},
    {"set global dns-restore-ttl 89", EINVAL, "dns-restore-ttl: 89 is out of range; range 90-600 s"},
    {"set global nosuch 1", EINVAL, "unknown global knob"},
    {"unset global dns-restore", 0, ""},
    {"set dns-cache a 1 sip.example.com 192.0.2.20", 0, ""},
    {"set dns-cache a 18 sip.example.com 192.0.2.20 ttl 65535", 0, ""},
    {"set dns-cache a 19 sip.example.com 192.0.2.20", EINVAL, "out of range 1-18"},
    {"set dns-cache a 1 sip.example.com not-an-ip", EINVAL, "is not an IP address"},
    {"set dns-cache a 1 sip.example.com 192.0.2.20 ttl 65536", EINVAL, "out of range 0-65535"},
    {"set dns-cache srv 1 _sip._udp.example.com 10 60 5060 sip1.example.com", 0, ""},
    {"set dns-cache srv 1 _sip._udp.example.com 10 60 70000 sip1.example.com", EINVAL, "port"},
    {"set dns-cache naptr 1 example.com 10 50 s SIP+D2U _sip._udp.example.com ttl 30", 0, ""},
    {"set dns-cache naptr 1 example.com 10 50 s!! SIP+D2U _sip._udp.example.com", EINVAL, "flags"},
    {"set dns-cache mx 1 a b", EINVAL, "unknown word 'mx'"},
    {"del dns-cache a 5", ENOENT, "is not set"},
    {"del dns-cache txt 1", EINVAL, "unknown type"},
    // show / explain / help
    {"help", 0, ""},
    {"help me", EINVAL, "unexpected word 'me'"},
    {"show trunks", 0, ""},
    {"show trunk acme", 0, ""},
    {"show trunk nosuch", ENOENT, "no trunk"},
    {"show global", 0, ""},
    {"show knobs", 0, ""},
    {"show running-config", 0, ""},
    {"show nonsense", EINVAL, "unknown word 'nonsense'"},
    {"explain trunk acme", 0, ""},
    {"explain trunk empty", ENODATA, "not running: no server configured"},
    {"explain trunk nosuch", ENOENT, "no trunk"},
    // syntax
    {"", EINVAL, "empty command"},
    {"frobnicate", EINVAL, "unknown command 'frobnicate'"},
    {"set trunk acme keepalive-udp-payload \"open", EINVAL, "unterminated"},
    {"set trunk acme keepalive-udp-payload \"a\\q\"", EINVAL, "unknown escape"},
};

void PrintTo(const Case& c, std::ostream* os) { *os << '"' << c.line << '"'; }

class Commands : public ::testing::TestWithParam<Case> {};

std::unique_ptr<Controller> fixture(failover::Millis* now) {
    auto c = std::make_unique<Controller>(test::manual_clock(now));
    for (const char* l : {"add trunk acme", "set trunk acme server 1 192.0.2.10:5060 udp",
                          "set trunk acme identity 100 auth-user a100 password topsecret contact sip:100@192.0.2.50",
                          "add trunk empty"}) {
        const Json r = c->execute_json(l);
        EXPECT_EQ(status_of(r), 0) << l << ": " << r.dump();
    }
    return c;
}

TEST_P(Commands, StatusAndError) {
    failover::Millis now = 1000;
    auto c = fixture(&now);
    const Case& k = GetParam();
    const State before = c->state();
    const std::string text = c->execute(k.line);
    auto r = Json::parse(text);
    ASSERT_TRUE(r.ok()) << text;
    EXPECT_EQ(status_of(r.value()), k.status) << k.line << " → " << text;
    if (k.status != 0) {
        EXPECT_NE(error_of(r.value()).find(k.error), std::string::npos) << k.line << " → " << text;
        EXPECT_EQ(r.value().get("data"), nullptr);
        EXPECT_TRUE(c->state() == before) << "refused command changed the state: " << k.line;
    } else {
        EXPECT_NE(r.value().get("data"), nullptr);
        EXPECT_EQ(r.value().get("error"), nullptr);
    }
    EXPECT_EQ(text.find("topsecret"), std::string::npos) << "password in reply to " << k.line;
    EXPECT_EQ(text.find('\n'), std::string::npos) << "a reply is one line";
}

INSTANTIATE_TEST_SUITE_P(Table, Commands, ::testing::ValuesIn(cases));

TEST(Commands, HelpListsEveryCommand) {
    failover::Millis now = 0;
    Controller c(test::manual_clock(&now));
    const Json r = c.execute_json("help");
    ASSERT_EQ(status_of(r), 0);
    const Json& rows = *r.get("data");
    ASSERT_EQ(rows.size(), command_table().size());
    for (size_t i = 0; i < rows.size(); i++) {
        const std::string usage = rows.items()[i].get("command")->as_string();
        EXPECT_EQ(usage.rfind(command_table()[i]->words, 0), 0u) << usage;
        EXPECT_FALSE(rows.items()[i].get("help")->as_string().empty());
    }
}

TEST(Commands, ShowTrunkReflectsChanges) {
    failover::Millis now = 0;
    auto c = fixture(&now);
    ASSERT_EQ(status_of(c->execute_json("set trunk acme t1 250")), 0);
    ASSERT_EQ(status_of(c->execute_json("set trunk acme server 2 sip.example.com:5070 transport TCPOnly")), 0);
    const Json r = c->execute_json("show trunk acme");
    const Json& d = *r.get("data");
    EXPECT_EQ(d.get("knobs")->get("t1")->as_string(), "250");
    EXPECT_EQ(d.get("state")->as_string(), "running");
    const Json& s2 = d.get("server_list")->items()[1];
    EXPECT_EQ(s2.get("host")->as_string(), "sip.example.com");
    EXPECT_EQ(s2.get("port")->as_int(), 5070);
    EXPECT_EQ(s2.get("transport")->as_string(), "TCPOnly");
    EXPECT_EQ(d.get("identity_list")->items()[0].get("password")->as_string(), "(stored)");
}

TEST(Commands, EngineFollowsConfiguration) {
    failover::Millis now = 0;
    auto c = fixture(&now);
    ASSERT_TRUE(c->engine_id("acme").has_value());
    EXPECT_FALSE(c->engine_id("empty").has_value());
    EXPECT_EQ(c->engine_status("empty"), "no server configured");
    // Knob changes reach the engine.
    ASSERT_EQ(status_of(c->execute_json("set trunk acme validation register")), 0);
    const auto* t = c->engine().trunk(*c->engine_id("acme"));
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->knobs.mode, failover::SelectMode::validated);
    ASSERT_EQ(status_of(c->execute_json("set trunk acme t1 200")), 0);
    EXPECT_EQ(c->engine().trunk(*c->engine_id("acme"))->knobs.invite_policy.t1_ms, 200u);
    // The Cisco model builds the seed C policy.
    ASSERT_EQ(status_of(c->execute_json("set trunk acme retry-model cisco")), 0);
    ASSERT_EQ(status_of(c->execute_json("set trunk acme invite-retry-count 3")), 0);
    ASSERT_EQ(status_of(c->execute_json("set trunk acme trying-timer 200")), 0);
    const auto& p = c->engine().trunk(*c->engine_id("acme"))->knobs.invite_policy;
    EXPECT_EQ(p.attempts_per_server, 4u);
    EXPECT_EQ(p.first_wait_ms, 200u);
    // Servers reach the engine.
    ASSERT_EQ(status_of(c->execute_json("set trunk acme server 2 192.0.2.11 tcp")), 0);
    EXPECT_EQ(c->engine().trunk(*c->engine_id("acme"))->servers.size(), 2u);
    // Deleting a trunk removes it alone: the engine, the other trunk's id
    // and its state stay (no rebuild: 10,000 trunks would all start over).
    ASSERT_EQ(status_of(c->execute_json("add trunk beta")), 0);
    ASSERT_EQ(status_of(c->execute_json("set trunk beta register off")), 0);
    ASSERT_EQ(status_of(c->execute_json("set trunk beta server 1 192.0.2.30")), 0);
    ASSERT_TRUE(c->engine_id("beta").has_value());
    const uint64_t instance = c->engine().instance();
    const uint32_t beta = *c->engine_id("beta");
    const failover::Millis failed_at = now;
    failover::ServerEvent ev;
    ev.trunk_id = beta;
    ev.server_idx = 0;
    ev.list_epoch = c->engine().trunk(beta)->list_epoch;
    ev.kind = failover::EventKind::timeout;
    c->engine().on_event(ev);
    ASSERT_TRUE(c->engine().trunk(beta)->servers[0].failed);
    const uint32_t acme = *c->engine_id("acme");
    ASSERT_EQ(status_of(c->execute_json("del trunk acme")), 0);
    EXPECT_FALSE(c->engine_id("acme").has_value());
    EXPECT_EQ(c->engine().trunk(acme), nullptr);
    ASSERT_TRUE(c->engine_id("beta").has_value());
    EXPECT_EQ(c->engine().instance(), instance);
    EXPECT_EQ(*c->engine_id("beta"), beta);
    EXPECT_EQ(c->engine().live_trunks(), 1u);
    EXPECT_EQ(c->engine().trunk(beta)->name, "beta");
    EXPECT_TRUE(c->engine().trunk(beta)->servers[0].failed);  // its health was kept
    EXPECT_EQ(c->engine().trunk(beta)->servers[0].failed_at, failed_at);
    // An identity change starts that trunk over under a new id, alone.
    ASSERT_EQ(status_of(c->execute_json("add trunk gamma")), 0);
    ASSERT_EQ(status_of(c->execute_json("set trunk gamma server 1 192.0.2.40")), 0);
    ASSERT_EQ(status_of(c->execute_json("set trunk gamma identity 7 password x contact sip:7@192.0.2.10")), 0);
    const uint32_t gamma = *c->engine_id("gamma");
    ASSERT_EQ(status_of(c->execute_json("set trunk gamma identity 8 password y contact sip:8@192.0.2.10")), 0);
    ASSERT_TRUE(c->engine_id("gamma").has_value());
    EXPECT_NE(*c->engine_id("gamma"), gamma);
    EXPECT_EQ(c->engine().trunk(*c->engine_id("gamma"))->regs.size(), 2u);
    EXPECT_EQ(c->engine().instance(), instance);
    EXPECT_TRUE(c->engine().trunk(beta)->servers[0].failed);
}

TEST(Commands, CrossKnobRuleRefusedWithoutChange) {
    failover::Millis now = 0;
    auto c = fixture(&now);
    const State before = c->state();
    // seed A: with an absolute threshold, expire-time must be at least threshold + 6.
    const Json r = c->execute_json("set trunk acme threshold absolute 3600");
    EXPECT_EQ(status_of(r), EINVAL);
    EXPECT_NE(error_of(r).find("expire-time"), std::string::npos) << r.dump();
    EXPECT_NE(error_of(r).find("trunk acme"), std::string::npos) << r.dump();
    EXPECT_TRUE(c->state() == before);
}

TEST(Commands, RedactHidesPasswords) {
    EXPECT_EQ(redact("set trunk a identity 1 password hunter2 contact sip:1@x"),
              "set trunk a identity 1 password *** contact sip:1@x");
    EXPECT_EQ(redact("set trunk a identity 1 password \"two words\" contact sip:1@x").find("two"), std::string::npos);
}

TEST(Commands, SecretsNeverPrinted) {
    // A full session: every command, every reply, the running config.
    failover::Millis now = 0;
    test::TempDir dir;
    ControllerOptions o;
    o.secrets_path = dir.file("secrets");
    Controller c(test::manual_clock(&now), o);
    const std::string pw = "Pa55-w0rd-XYZ";
    std::string all;
    for (const char* l : {"add trunk t", "set trunk t server 1 192.0.2.1"}) all += c.execute(l);
    all += c.execute("set trunk t identity 7 auth-user x password " + pw + " contact sip:7@192.0.2.9");
    all += c.execute("set trunk t identity 8 password \"" + pw + " 2\" contact sip:8@192.0.2.9");
    all += c.execute("set trunk t identity 9 password " + pw + " contact http://bad");  // refused
    all += c.execute("set trunk t identity 9 password " + pw);                          // refused
    for (const char* l : {"help", "show trunks", "show trunk t", "show running-config", "show global", "show knobs",
                          "explain trunk t"})
        all += c.execute(l);
    for (const std::string& l : c.running_config()) all += l;
    EXPECT_EQ(all.find(pw), std::string::npos) << all;
    EXPECT_NE(all.find("stored-password"), std::string::npos);
    // The secrets file holds them, mode 0600.
    struct stat st{};
    ASSERT_EQ(stat(o.secrets_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::ifstream in(o.secrets_path);
    const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(file.find(pw), std::string::npos);
    // The engine got the password.
    EXPECT_EQ(c.engine().trunk(*c.engine_id("t"))->regs[0].id.password, pw);
}


// Issue 16: the Record-Route key lives in the secrets file, so that a restart
// keeps in-dialog requests of earlier calls passing; commits keep it there.
TEST(Commands, RecordRouteKeyOutlivesARestart) {
    failover::Millis now = 0;
    test::TempDir dir;
    ControllerOptions o;
    o.secrets_path = dir.file("secrets");
    uint64_t k1[2] = {}, k2[2] = {}, k3[2] = {};
    {
        Controller c(test::manual_clock(&now), o);
        ASSERT_TRUE(c.load_secrets().ok());
        ASSERT_TRUE(c.record_route_key(k1).ok());
        EXPECT_FALSE(k1[0] == 0 && k1[1] == 0);
        // A later commit rewrites the secrets file: the key stays in it.
        EXPECT_EQ(test::status_of(c.execute_json("add trunk t")), 0);
        EXPECT_EQ(test::status_of(c.execute_json("set trunk t identity 7 password pw contact sip:7@192.0.2.9")), 0);
        const std::string r = c.execute("show running-config");
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(k1[0]));
        EXPECT_EQ(r.find(hex), std::string::npos) << "the key is a secret";
    }
    {
        Controller c(test::manual_clock(&now), o);
        ASSERT_TRUE(c.load_secrets().ok());
        ASSERT_TRUE(c.record_route_key(k2).ok());
    }
    EXPECT_EQ(k1[0], k2[0]);
    EXPECT_EQ(k1[1], k2[1]);
    // Without a secrets file: a new key at every start.
    Controller m(test::manual_clock(&now));
    ASSERT_TRUE(m.record_route_key(k3).ok());
    EXPECT_FALSE(k3[0] == k1[0] && k3[1] == k1[1]);
    // A damaged entry is refused with a reason, not replaced silently.
    std::ifstream in(o.secrets_path);
    std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = file.find("@rr key ");
    ASSERT_NE(at, std::string::npos) << file;
    file.replace(at + 8, 4, "zzzz");
    test::TempDir d2;
    d2.write("secrets", file);
    chmod(d2.file("secrets").c_str(), 0600);
    ControllerOptions o2;
    o2.secrets_path = d2.file("secrets");
    Controller bad(test::manual_clock(&now), o2);
    ASSERT_TRUE(bad.load_secrets().ok());
    const Status s = bad.record_route_key(k3);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("32 hex digits"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace sipedge::ctl
