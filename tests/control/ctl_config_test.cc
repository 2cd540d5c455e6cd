// The startup file: the running-config round trip, a bad line refused with
// file:line and nothing applied, secrets across a restart.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "control/config.h"
#include "control/tokens.h"
#include "ctl_util.h"

namespace sipedge::ctl {
namespace {

using test::status_of;

const char* full_config = R"(# a startup file with every kind of command
set global dns-restore on
set global dns-restore-ttl 300
set dns-cache a 1 sip.example.com 192.0.2.20 ttl 600
set dns-cache srv 2 _sip._udp.example.com 10 60 5060 sip1.example.com
set dns-cache naptr 1 example.com 10 50 s SIP+D2U _sip._udp.example.com

add trunk acme
set trunk acme domain carrier.example
set trunk acme server 1 192.0.2.10:5060 udp
set trunk acme server 2 [2001:db8::5]:5061 tls
set trunk acme server 4 sip.example.com transport dnsNaptr
set trunk acme identity 100 auth-user a100 password "se cret\"1" contact sip:100@198.51.100.7
set trunk acme identity 101 password other contact sips:101@198.51.100.7
   set trunk acme expire-time 100
set trunk acme threshold percentage 50
set trunk acme retry-model poly
set trunk acme retry-timeout 5000
set trunk acme retry-max-count 2
set trunk acme failover-on-503 on
set trunk acme validation register
set trunk acme failback-mode newRequests
set trunk acme failback-timeout 30
set trunk acme recover-delay 10 20
set trunk acme keepalive-udp-payload "ka\r\n"
set trunk acme trap-registration-failures 5
add trunk zeta
set trunk zeta register off
set trunk zeta server primary sbc.zeta.example tcp
set trunk zeta retry-model audiocodes
set trunk zeta no-response-timeout 8000
add trunk idle
)";

TEST(Config, RunningConfigRoundTrip) {
    test::TempDir dir;
    dir.write("start.cfg", full_config);
    failover::Millis now = 0;
    ControllerOptions o;
    o.secrets_path = dir.file("secrets");
    Controller a(test::manual_clock(&now), o);
    Status s = load_config_file(a, dir.file("start.cfg"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_EQ(a.state().trunks.size(), 3u);
    EXPECT_EQ(a.state().trunks.at("acme").knobs.failback_timeout_s, 30u);  // stored as given
    const std::vector<std::string> first = a.running_config();

    // A fresh controller (as after a restart) reads the secrets file and the printed config.
    std::string text;
    for (const std::string& l : first) text += l + "\n";
    dir.write("running.cfg", text);
    Controller b(test::manual_clock(&now), o);
    ASSERT_TRUE(b.load_secrets().ok());
    Status s2 = load_config_file(b, dir.file("running.cfg"));
    ASSERT_TRUE(s2.ok()) << s2.error().message << "\n" << text;
    EXPECT_EQ(b.running_config(), first);
    EXPECT_TRUE(a.state() == b.state()) << text;
    EXPECT_EQ(b.state().trunks.at("acme").identities[0].password, "se cret\"1");
    // Both run the same trunks in the engine.
    EXPECT_EQ(a.engine().trunk_count(), b.engine().trunk_count());
    EXPECT_TRUE(b.engine_id("acme") && b.engine_id("zeta"));
    EXPECT_FALSE(b.engine_id("idle"));
    // The printed config never holds the passwords.
    EXPECT_EQ(text.find("se cret"), std::string::npos);
    EXPECT_EQ(text.find("other"), std::string::npos);
}

TEST(Config, RoundTripThroughTheSocketCommands) {
    // The same lines sent one by one as commands give the same state.
    failover::Millis now = 0;
    Controller a(test::manual_clock(&now));
    test::TempDir dir;
    dir.write("start.cfg", full_config);
    ASSERT_TRUE(load_config_file(a, dir.file("start.cfg")).ok());
    Controller b(test::manual_clock(&now));
    auto lines = read_lines(dir.file("start.cfg"));
    ASSERT_TRUE(lines.ok());
    // One command at a time, each is validated on its own: expire-time 100
    // needs the percentage threshold first (the file is checked as a whole).
    std::vector<std::string> ordered;
    for (const std::string& l : lines.value()) {
        if (l.find("threshold") != std::string::npos) continue;
        ordered.push_back(l);
        if (l == "add trunk acme") ordered.push_back("set trunk acme threshold percentage 50");
    }
    for (const std::string& l : ordered) {
        if (is_blank_or_comment(l)) continue;
        const Json r = b.execute_json(l);
        ASSERT_EQ(status_of(r), 0) << l << " → " << r.dump();
    }
    EXPECT_TRUE(a.state() == b.state());
    EXPECT_EQ(a.running_config(), b.running_config());
}

TEST(Config, BadLineStopsWithFileLineAndAppliesNothing) {
    test::TempDir dir;
    failover::Millis now = 0;
    Controller c(test::manual_clock(&now));
    ASSERT_EQ(status_of(c.execute_json("add trunk existing")), 0);
    const State before = c.state();
    const std::vector<std::string> before_cfg = c.running_config();
    struct Bad {
        const char* text;
        int line;
        const char* error;
    } bads[] = {
        {"add trunk a\nset trunk a t1 20\n", 2, "t1: 20 is out of range; range 50-1000 ms"},
        {"add trunk a\n\n# c\nset trunk a bogus 1\n", 4, "unknown knob 'bogus'"},
        {"add trunk a\nshow trunks\n", 2, "not a configuration command"},
        {"add trunk a\nadd trunk a\n", 2, "exists"},
        {"add trunk a\nset trunk a expire-time 10\n", 2, "expire-time"},
        {"add trunk a\nset trunk a identity 1 stored-password contact sip:1@x\n", 2, "no password is stored"},
        {"add trunk a\nset trunk a server 1 \"unterminated\n", 2, "unterminated"},
        {"set global dns-restore-ttl 601\n", 1, "dns-restore-ttl"},
    };
    for (const Bad& b : bads) {
        dir.write("bad.cfg", b.text);
        Status s = load_config_file(c, dir.file("bad.cfg"));
        ASSERT_FALSE(s.ok()) << b.text;
        const std::string want = dir.file("bad.cfg") + ":" + std::to_string(b.line) + ": ";
        EXPECT_EQ(s.error().message.rfind(want, 0), 0u) << s.error().message;
        EXPECT_NE(s.error().message.find(b.error), std::string::npos) << s.error().message;
        EXPECT_TRUE(c.state() == before) << b.text;
        EXPECT_EQ(c.running_config(), before_cfg);
        EXPECT_EQ(c.engine().trunk_count(), 0u);
    }
    EXPECT_FALSE(load_config_file(c, dir.file("missing.cfg")).ok());
}

// A P-256 private key in PEM, made here.
std::string make_key_pem() {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
    char* p = nullptr;
    const long n = BIO_get_mem_data(b, &p);
    std::string pem(p, size_t(n));
    BIO_free(b);
    EVP_PKEY_free(k);
    return pem;
}

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// Issue 14: a trunk's TLS client key is read from its file when set (only its
// owner may read it) and kept in the secrets file; the configuration, replies
// and the running config say "stored", and a restart takes it from there.
TEST(Config, TlsClientKeyIsKeptInTheSecretsStoreNeverInTheConfig) {
    test::TempDir dir;
    const std::string pem = make_key_pem();
    ASSERT_NE(pem.find("PRIVATE KEY"), std::string::npos);
    dir.write("key.pem", pem);
    chmod(dir.file("key.pem").c_str(), 0644);
    failover::Millis now = 0;
    ControllerOptions o;
    o.secrets_path = dir.file("secrets");
    Controller a(test::manual_clock(&now), o);
    ASSERT_EQ(status_of(a.execute_json("add trunk t")), 0);
    const std::string set = "set trunk t tls-client-key " + dir.file("key.pem");
    Json r = a.execute_json(set);
    EXPECT_EQ(status_of(r), EPERM) << r.dump();
    EXPECT_NE(r.dump().find("chmod 600"), std::string::npos) << r.dump();
    chmod(dir.file("key.pem").c_str(), 0600);
    r = a.execute_json(set);
    ASSERT_EQ(status_of(r), 0) << r.dump();
    EXPECT_EQ(a.state().trunks.at("t").tls_client_key_pem, pem);
    EXPECT_EQ(a.state().trunks.at("t").knobs.tls_client_key, "stored");
    // Neither the key nor its file name in the running config or a reply.
    std::string text;
    for (const std::string& l : a.running_config()) text += l + "\n";
    EXPECT_NE(text.find("set trunk t tls-client-key \"stored\"\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("key.pem"), std::string::npos) << text;
    const std::string body = pem.substr(pem.find('\n') + 1, 40);  // key bytes, not the armour
    EXPECT_EQ(text.find(body), std::string::npos);
    EXPECT_EQ(a.execute_json("show trunk t").dump().find(body), std::string::npos);
    // In the secrets file, one word (base64 of the PEM), private.
    const std::string secrets = slurp(dir.file("secrets"));
    EXPECT_NE(secrets.find("t @tls-client-key "), std::string::npos) << secrets;
    EXPECT_EQ(secrets.find("-----BEGIN"), std::string::npos);
    struct stat st{};
    ASSERT_EQ(stat(dir.file("secrets").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u);
    // A restart: the secrets file and the running config give the same key.
    dir.write("running.cfg", text);
    Controller b(test::manual_clock(&now), o);
    ASSERT_TRUE(b.load_secrets().ok());
    Status s = load_config_file(b, dir.file("running.cfg"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(b.state().trunks.at("t").tls_client_key_pem, pem);
    EXPECT_TRUE(a.state() == b.state());
    // Unset: gone from the state and from the secrets file.
    ASSERT_EQ(status_of(b.execute_json("unset trunk t tls-client-key")), 0);
    EXPECT_TRUE(b.state().trunks.at("t").tls_client_key_pem.empty());
    EXPECT_EQ(slurp(dir.file("secrets")).find("@tls-client-key"), std::string::npos);
    // "stored" with nothing stored; a file that is no key (its bytes never quoted).
    Controller c(test::manual_clock(&now));
    ASSERT_EQ(status_of(c.execute_json("add trunk t")), 0);
    r = c.execute_json("set trunk t tls-client-key stored");
    EXPECT_EQ(status_of(r), ENOENT) << r.dump();
    dir.write("notakey.pem", "secret-bytes-of-no-key\n");
    chmod(dir.file("notakey.pem").c_str(), 0600);
    r = c.execute_json("set trunk t tls-client-key " + dir.file("notakey.pem"));
    EXPECT_EQ(status_of(r), EINVAL) << r.dump();
    EXPECT_NE(r.dump().find("not a PEM private key"), std::string::npos) << r.dump();
    EXPECT_EQ(r.dump().find("secret-bytes"), std::string::npos) << r.dump();
}

TEST(Config, SecretsFileMustBePrivate) {
    test::TempDir dir;
    dir.write("secrets", "t 1 pw\n");
    chmod(dir.file("secrets").c_str(), 0644);
    failover::Millis now = 0;
    ControllerOptions o;
    o.secrets_path = dir.file("secrets");
    Controller c(test::manual_clock(&now), o);
    Status s = c.load_secrets();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("chmod 600"), std::string::npos);
    chmod(dir.file("secrets").c_str(), 0600);
    ASSERT_TRUE(c.load_secrets().ok());
    ASSERT_NE(c.stored_password("t", "1"), nullptr);
    EXPECT_EQ(*c.stored_password("t", "1"), "pw");
}

}  // namespace
}  // namespace sipedge::ctl
