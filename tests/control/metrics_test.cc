// Metrics: the Prometheus text format (exact lines, escaping, values), what
// gather_metrics reads from a Controller and from worker stats, `show
// metrics`, and the ops commands (metrics-http, snmp-trap-receiver) with
// valid and invalid arguments, running-config and secrets.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control/http.h"
#include "control/metrics.h"
#include "ctl_util.h"

namespace sipedge::ctl {
namespace {

using test::error_of;
using test::status_of;

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(MetricsText, ExactRender) {
    MetricsText m;
    m.family("demo_requests_total", MetricType::counter, "Requests.\nSecond line with a \\.");
    m.family("demo_temperature", MetricType::gauge, "A gauge.");
    m.add("demo_requests_total", {{"path", "/a\"b\\c\nd"}, {"code", "200"}}, 1027);
    m.add("demo_requests_total", {}, 3);
    m.add("demo_temperature", {{"room", "x"}}, 21.5);
    m.add("demo_temperature", {{"room", "y"}}, -0.25);
    m.add("undeclared_family", {}, 1);  // dropped
    m.family("demo_requests_total", MetricType::gauge, "ignored: declared already");
    EXPECT_EQ(m.family_count(), 2u);
    EXPECT_EQ(m.render(),
              "# HELP demo_requests_total Requests.\\nSecond line with a \\\\.\n"
              "# TYPE demo_requests_total counter\n"
              "demo_requests_total{path=\"/a\\\"b\\\\c\\nd\",code=\"200\"} 1027\n"
              "demo_requests_total 3\n"
              "# HELP demo_temperature A gauge.\n"
              "# TYPE demo_temperature gauge\n"
              "demo_temperature{room=\"x\"} 21.5\n"
              "demo_temperature{room=\"y\"} -0.25\n");
}

TEST(MetricsText, NamesAndValues) {
    EXPECT_TRUE(valid_metric_name("a_b:c9"));
    EXPECT_TRUE(valid_metric_name(":x"));
    EXPECT_FALSE(valid_metric_name("9abc"));
    EXPECT_FALSE(valid_metric_name("a-b"));
    EXPECT_FALSE(valid_metric_name(""));
    EXPECT_TRUE(valid_label_name("_x1"));
    EXPECT_FALSE(valid_label_name("a:b"));
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(18446744073709551615.0), "1.8446744073709552e+19");
    EXPECT_EQ(format_value(1e15), "1000000000000000");
    EXPECT_EQ(format_value(0.001), "0.001");
    EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
    EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
    EXPECT_EQ(format_value(0.0 / 0.0), "NaN");
    EXPECT_EQ(escape_label_value("plain"), "plain");
    // A bad label name is left out rather than written malformed.
    MetricsText m;
    m.family("x", MetricType::gauge, "h");
    m.add("x", {{"bad-name", "v"}, {"ok", "v"}}, 1);
    EXPECT_TRUE(has_line(m.render(), "x{ok=\"v\"} 1"));
}

struct Fixture : ::testing::Test {
    failover::Millis now = 1000;
    Controller ctl{test::manual_clock(&now)};
    void SetUp() override {
        for (const char* l : {"add trunk acme", "set trunk acme server 1 192.0.2.10",
                              "set trunk acme server 2 [2001:db8::2]:5080",
                              "set trunk acme identity 100 password pw contact sip:100@192.0.2.50",
                              "add trunk empty"}) {
            const Json r = ctl.execute_json(l);
            ASSERT_EQ(status_of(r), 0) << l << ": " << error_of(r);
        }
    }
};

TEST_F(Fixture, ControllerMetricsExactLines) {
    const std::string t = metrics_text(ctl, nullptr, {});
    for (const char* line : {
             "# TYPE sipedge_trunks gauge",
             "sipedge_trunks 2",
             "sipedge_trunk_running{trunk=\"acme\"} 1",
             "sipedge_trunk_running{trunk=\"empty\"} 0",
             "sipedge_trunk_active_server{trunk=\"acme\"} 0",
             "sipedge_trunk_backoff{trunk=\"acme\"} 0",
             "sipedge_server_health{trunk=\"acme\",server=\"1\",target=\"192.0.2.10:5060\",state=\"up\"} 1",
             "sipedge_server_health{trunk=\"acme\",server=\"1\",target=\"192.0.2.10:5060\",state=\"failed\"} 0",
             "sipedge_server_health{trunk=\"acme\",server=\"2\",target=\"[2001:db8::2]:5080\",state=\"recovering\"} 0",
             "sipedge_registrations{trunk=\"acme\",state=\"unregistered\"} 1",
             "sipedge_registrations{trunk=\"acme\",state=\"registered\"} 0",
         })
        EXPECT_TRUE(has_line(t, line)) << line << "\n--- got:\n" << t;
    // Nothing about the idle trunk's servers, no worker families without workers.
    EXPECT_EQ(t.find("trunk=\"empty\",server"), std::string::npos);
    EXPECT_EQ(t.find("sipedge_worker_"), std::string::npos);
    // No counters block without the ops runtime.
    EXPECT_EQ(t.find("sipedge_notices_total"), std::string::npos);
}

TEST_F(Fixture, WorkerStatsPerCore) {
    CoreCounters c[2];
    c[0].lcore = 1;
    c[0].stats.rx_packets = 5;
    c[0].stats.tx_packets = 4;
    c[0].stats.drop(dp::DropReason::sip_parse);
    c[0].stats.drop(dp::DropReason::sip_parse);
    c[0].stats.calls_attempted = 7;
    c[0].stats.txn_client_active = 3;
    c[1].lcore = 2;
    c[1].stats.rollover_503 = 9;
    const std::string t = metrics_text(ctl, nullptr, c);
    for (const char* line : {
             "# TYPE sipedge_worker_packets_total counter",
             "sipedge_worker_packets_total{core=\"1\",direction=\"rx\"} 5",
             "sipedge_worker_packets_total{core=\"1\",direction=\"tx\"} 4",
             "sipedge_worker_drops_total{core=\"1\",reason=\"sip_parse\"} 2",
             "sipedge_worker_drops_total{core=\"1\",reason=\"tx_full\"} 0",
             "sipedge_worker_calls_total{core=\"1\",result=\"attempted\"} 7",
             "# TYPE sipedge_worker_transactions_active gauge",
             "sipedge_worker_transactions_active{core=\"1\",kind=\"client\"} 3",
             "sipedge_worker_rollovers_total{core=\"2\",trigger=\"rejected_503\"} 9",
             "sipedge_worker_packets_total{core=\"2\",direction=\"rx\"} 0",
         })
        EXPECT_TRUE(has_line(t, line)) << line;
    // Each family's HELP/TYPE appears once, before its samples (text format rule).
    size_t n = 0;
    for (size_t p = 0; (p = t.find("# TYPE sipedge_worker_drops_total ", p)) != std::string::npos; p++) n++;
    EXPECT_EQ(n, 1u);
    EXPECT_LT(t.find("# TYPE sipedge_worker_drops_total"), t.find("sipedge_worker_drops_total{core=\"2\""));
    EXPECT_LT(t.find("sipedge_worker_drops_total{core=\"2\""), t.find("# TYPE sipedge_worker_sip_requests_total"));
}

// Issue 12: loop time per worker (TSC cycles, labelled with the worker index
// beside the lcore), the TSC frequency, and partial checksums.
TEST_F(Fixture, WorkerCyclesAndPartialChecksums) {
    CoreCounters c[2];
    c[0].lcore = 3;
    c[0].tsc_hz = 2000000000;
    c[0].stats.busy_cycles = 1500;
    c[0].stats.idle_cycles = 98500;
    c[0].stats.busy_polls = 2;
    c[0].stats.idle_polls = 900;
    c[0].stats.rx_udp_csum_partial = 4;
    c[1].lcore = 5;
    c[1].tsc_hz = 2000000000;
    c[1].stats.idle_cycles = 7;
    const std::string t = metrics_text(ctl, nullptr, c);
    for (const char* line : {
             "# TYPE sipedge_worker_busy_cycles_total counter",
             "# TYPE sipedge_worker_idle_cycles_total counter",
             "# TYPE sipedge_worker_tsc_hz gauge",
             "sipedge_worker_busy_cycles_total{core=\"3\",worker=\"0\"} 1500",
             "sipedge_worker_idle_cycles_total{core=\"3\",worker=\"0\"} 98500",
             "sipedge_worker_busy_cycles_total{core=\"5\",worker=\"1\"} 0",
             "sipedge_worker_idle_cycles_total{core=\"5\",worker=\"1\"} 7",
             "sipedge_worker_polls_total{core=\"3\",worker=\"0\",kind=\"busy\"} 2",
             "sipedge_worker_polls_total{core=\"3\",worker=\"0\",kind=\"idle\"} 900",
             "sipedge_worker_tsc_hz{core=\"3\",worker=\"0\"} 2000000000",
             "sipedge_worker_udp_csum_partial_total{core=\"3\"} 4",
         })
        EXPECT_TRUE(has_line(t, line)) << line << "\n" << t;
}

TEST_F(Fixture, ShowMetricsCommand) {
    const Json r = ctl.execute_json("show metrics");
    ASSERT_EQ(status_of(r), 0) << error_of(r);
    ASSERT_TRUE(r.get("data")->is_string());
    EXPECT_TRUE(has_line(r.get("data")->as_string(), "sipedge_trunks 2"));
    EXPECT_EQ(status_of(ctl.execute_json("show metrics now")), EINVAL);
}

TEST_F(Fixture, OpsCountsNoticesAndServerFailures) {
    Ops ops(ctl);
    ASSERT_EQ(ctl.ops(), &ops);
    // Fail the registrar: REGISTERs go nowhere (tick drops them) and time out.
    for (int i = 0; i < 120; i++) {
        now += 1000;
        ctl.tick();
    }
    const std::string t = ops.render();
    EXPECT_TRUE(has_line(t, "sipedge_snmp_traps_total{result=\"sent\"} 0"));
    EXPECT_NE(t.find("sipedge_notices_total{trunk=\"acme\",kind=\"server-failed\"}"), std::string::npos) << t;
    EXPECT_NE(t.find("sipedge_server_failures_total{trunk=\"acme\",server=\"1\",trigger=\"timeout\"}"),
              std::string::npos) << t;
    EXPECT_TRUE(has_line(t, "sipedge_server_health{trunk=\"acme\",server=\"1\",target=\"192.0.2.10:5060\",state=\"failed\"} 1"))
        << t;
}

// ---- ops commands --------------------------------------------------------------------

struct Case {
    const char* line;
    int status;
    const char* error;
};

const Case cases[] = {
    {"set global metrics-http 127.0.0.1:9100", 0, ""},
    {"set global metrics-http [::1]:9100", 0, ""},
    {"set global metrics-http 127.0.0.1", EINVAL, "a port is required"},
    {"set global metrics-http 127.0.0.1:0", EINVAL, "out of range 1-65535"},
    {"set global metrics-http 127.0.0.1:65536", EINVAL, "out of range"},
    {"set global metrics-http 127.0.0.1:http", EINVAL, "not a number"},
    {"set global metrics-http ::1:9100", EINVAL, "must be written [addr]:port"},
    {"set global metrics-http localhost:9100", EINVAL, "not an IPv4 address"},
    {"set global metrics-http [::1:9100", EINVAL, "missing ']'"},
    {"set global metrics-http 127.0.0.1:9100 extra", EINVAL, "unexpected word 'extra'"},
    {"set global metrics-http", EINVAL, "usage"},
    {"unset global metrics-http", 0, ""},
    {"unset global metrics-http now", EINVAL, "unexpected word"},
    {"set global snmp-trap-receiver 127.0.0.1 community public", 0, ""},
    {"set global snmp-trap-receiver 127.0.0.1:1162 community s3cr3t", 0, ""},
    {"set global snmp-trap-receiver [::1]:1162 community s3cr3t", 0, ""},
    {"set global snmp-trap-receiver 127.0.0.1:1162 stored-community", 0, ""},
    {"set global snmp-trap-receiver 127.0.0.1:1162", EINVAL, "usage"},
    {"set global snmp-trap-receiver 127.0.0.1:1162 community", EINVAL, "usage"},
    {"set global snmp-trap-receiver 127.0.0.1:1162 community \"a b\"", EINVAL, "printable characters only"},
    {"set global snmp-trap-receiver 127.0.0.1:1162 community x extra", EINVAL, "unexpected word 'extra'"},
    {"set global snmp-trap-receiver 127.0.0.1:1162 secret x", EINVAL, "expected 'community'"},
    {"set global snmp-trap-receiver host.example:162 community x", EINVAL, "not an IPv4 address"},
    {"set global snmp-trap-receiver 127.0.0.1:99999 community x", EINVAL, "out of range"},
    {"unset global snmp-trap-receiver", 0, ""},
    {"set global snmp-trap-receiver 127.0.0.1 stored-community", ENOENT, "no community is stored"},
};

TEST_F(Fixture, OpsCommandsValidAndInvalid) {
    for (const Case& c : cases) {
        const State before = ctl.state();
        const Json r = ctl.execute_json(c.line);
        EXPECT_EQ(status_of(r), c.status) << c.line << ": " << error_of(r);
        if (c.status) {
            EXPECT_NE(error_of(r).find(c.error), std::string::npos) << c.line << ": " << error_of(r);
            EXPECT_TRUE(ctl.state() == before) << c.line << " changed the state";
        }
    }
}

TEST_F(Fixture, RunningConfigAndCommunitySecret) {
    ASSERT_EQ(status_of(ctl.execute_json("set global metrics-http 127.0.0.1:9100")), 0);
    const std::string reply = ctl.execute("set global snmp-trap-receiver 192.0.2.99:1162 community Zq9secret");
    EXPECT_EQ(reply.find("Zq9secret"), std::string::npos);
    EXPECT_EQ(redact("set global snmp-trap-receiver 192.0.2.99 community Zq9secret"),
              "set global snmp-trap-receiver 192.0.2.99 community ***");
    const auto rc = ctl.running_config();
    std::string all;
    for (const auto& l : rc) all += l + "\n";
    EXPECT_TRUE(has_line(all, "set global metrics-http 127.0.0.1:9100")) << all;
    EXPECT_TRUE(has_line(all, "set global snmp-trap-receiver 192.0.2.99:1162 stored-community")) << all;
    EXPECT_EQ(all.find("Zq9secret"), std::string::npos);
    EXPECT_EQ(ctl.execute("show running-config").find("Zq9secret"), std::string::npos);
    EXPECT_EQ(ctl.execute("show global").find("Zq9secret"), std::string::npos);

    // The running config, with the secrets file, recreates the state.
    test::TempDir dir;
    ControllerOptions o;
    o.secrets_path = dir.file("secrets");
    {
        Controller a(test::manual_clock(&now), o);
        ASSERT_EQ(status_of(a.execute_json("set global snmp-trap-receiver 192.0.2.99:1162 community Zq9secret")), 0);
    }
    Controller b(test::manual_clock(&now), o);
    ASSERT_TRUE(b.load_secrets());
    std::vector<std::string> globals;  // the trunks' passwords are not in this secrets file
    for (const auto& l : rc)
        if (l.rfind("set global", 0) == 0) globals.push_back(l);
    ASSERT_EQ(globals.size(), 2u);
    Status applied = b.apply_lines(globals, "rc");
    ASSERT_TRUE(applied) << applied.error().message;
    EXPECT_EQ(b.state().global.snmp_trap_community, "Zq9secret");
    EXPECT_EQ(b.state().global.metrics_http, "127.0.0.1:9100");
}

TEST_F(Fixture, BindErrorRefusesTheCommand) {
    // Hold a port, then ask the listener for it.
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(listen(fd, 1), 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    const std::string taken = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));

    Ops ops(ctl);
    const Json r = ctl.execute_json("set global metrics-http " + taken);
    EXPECT_EQ(status_of(r), EADDRINUSE) << error_of(r);
    EXPECT_NE(error_of(r).find(taken), std::string::npos) << error_of(r);
    EXPECT_EQ(ctl.state().global.metrics_http, "");
    EXPECT_EQ(ops.http_address(), "");
    // A non-local address cannot be bound either.
    const Json r2 = ctl.execute_json("set global metrics-http 192.0.2.1:9100");
    EXPECT_EQ(status_of(r2), EADDRNOTAVAIL) << error_of(r2);
    close(fd);
}

}  // namespace
}  // namespace sipedge::ctl
