// Readiness and the data plane's running state (issue 12): `show ready`
// with and without a data plane (a probe stands in for sipedge's workers),
// `show dataplane`'s "running" ports, the cycle costs `show stats` derives,
// and `sipedgectl wait-ready` against a served Controller and against a real
// sipedge-control started while it waits.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "monitor_util.h"

#ifndef SIPEDGE_CTL_BIN
#error "SIPEDGE_CTL_BIN: path of the sipedgectl executable (tests/control/meson.build)"
#endif
#ifndef SIPEDGE_CONTROL_BIN
#error "SIPEDGE_CONTROL_BIN: path of the sipedge-control executable (tests/control/meson.build)"
#endif

namespace sipedge::ctl {
namespace {

using test::status_of;

Json data_of(Controller& c, const std::string& cmd) {
    Json r = c.execute_json(cmd);
    EXPECT_EQ(status_of(r), 0) << cmd << ": " << r.dump();
    return r.get("data") ? *r.get("data") : Json();
}

bool flag(const Json& o, const char* k) {
    const Json* v = o.get(k);
    return v && v->is_bool() && v->as_bool();
}

std::string text(const Json& o, const char* k) {
    const Json* v = o.get(k);
    return v && v->is_string() ? v->as_string() : v ? v->dump() : "(none)";
}

// A data plane of two workers on two ports, as sipedge's probe reports it.
DataplaneStatus two_workers(unsigned running, unsigned with_routes, uint64_t published, bool link1_up = true) {
    DataplaneStatus d;
    d.attached = true;
    d.ports_started = true;
    d.workers = 2;
    d.workers_running = running;
    d.workers_with_routes = with_routes;
    d.tables_published = published;
    d.ports = {PortStatus{0, 0, "net_af_packet", "verify+accept-partial", true, 3},
               PortStatus{1, 1, "net_ice", "verify", link1_up, 0}};
    return d;
}

TEST(Ready, WithoutADataPlaneTheControlLoopIsReady) {
    failover::Millis now = 1000;
    Controller c(test::manual_clock(&now));
    const Json r = data_of(c, "show ready");
    EXPECT_TRUE(flag(r, "ready"));
    EXPECT_FALSE(flag(r, "data_plane"));
    EXPECT_NE(text(r, "why").find("no data plane"), std::string::npos) << r.dump();
    EXPECT_EQ(status_of(c.execute_json("show ready now")), EINVAL);
    // show dataplane has no "running" ports without a data plane.
    EXPECT_EQ(data_of(c, "show dataplane").get("running"), nullptr);
}

TEST(Ready, EachStepOfTheDataPlaneStart) {
    failover::Millis now = 1000;
    Controller c(test::manual_clock(&now));
    DataplaneStatus st;
    c.monitor().set_dataplane_probe([&] { return st; });
    struct {
        DataplaneStatus d;
        bool ready;
        const char* why;
    } steps[] = {
        {[] { DataplaneStatus d = two_workers(0, 0, 0); d.ports_started = false; return d; }(), false,
         "ports not started"},
        {[] { DataplaneStatus d = two_workers(0, 0, 0); d.workers = 0; return d; }(), false, "no worker started"},
        {two_workers(1, 1, 1), false, "1 of 2 worker(s) not polling yet"},
        {two_workers(2, 0, 0), false, "no routing table published yet"},
        {two_workers(2, 1, 1), false, "1 of 2 worker(s) without the routing table yet"},
        {two_workers(2, 2, 1), true, "data plane up"},
    };
    for (const auto& s : steps) {
        st = s.d;
        const Json r = data_of(c, "show ready");
        EXPECT_EQ(flag(r, "ready"), s.ready) << r.dump();
        EXPECT_EQ(text(r, "why"), s.why) << r.dump();
        EXPECT_TRUE(flag(r, "data_plane"));
        EXPECT_EQ(dataplane_not_ready(s.d).empty(), s.ready);
    }
    // A link down is said, and does not make the edge unready.
    st = two_workers(2, 2, 1, false);
    const Json r = data_of(c, "show ready");
    EXPECT_TRUE(flag(r, "ready"));
    EXPECT_EQ(text(r, "warning"), "link down on port 1");
    ASSERT_EQ(r.get("ports")->size(), 2u);
    EXPECT_EQ(text(r.get("ports")->items()[1], "link"), "down");
    EXPECT_EQ(text(r.get("ports")->items()[0], "driver"), "net_af_packet");
}

TEST(Ready, ShowDataplaneListsThePortsAsStarted) {
    failover::Millis now = 1000;
    Controller c(test::manual_clock(&now));
    c.monitor().set_dataplane_probe([] { return two_workers(2, 2, 1); });
    const Json d = data_of(c, "show dataplane");
    const Json* run = d.get("running");
    ASSERT_TRUE(run && run->is_array()) << d.dump();
    ASSERT_EQ(run->size(), 2u);
    const Json& p0 = run->items()[0];
    EXPECT_EQ(text(p0, "driver"), "net_af_packet");
    EXPECT_EQ(text(p0, "rx_udp_csum"), "verify+accept-partial");
    EXPECT_EQ(p0.get("udp_csum_partial")->as_int(), 3);
    EXPECT_EQ(text(run->items()[1], "rx_udp_csum"), "verify");
    EXPECT_EQ(text(run->items()[1], "link"), "up");
}

// busy_percent, cycles_per_call and busy_ns_per_call, per core and summed.
TEST(Ready, ShowStatsDerivesTheCostOfACall) {
    failover::Millis now = 1000;
    Controller c(test::manual_clock(&now));
    std::vector<CoreStats> cs(2);
    cs[0].core = 1;
    cs[0].tsc_hz = 2000000000;  // 2 GHz: 2 cycles a nanosecond
    cs[0].counters = {{"calls_answered", 8}, {"calls_failed", 2}, {"busy_cycles", 50000}, {"idle_cycles", 150000}};
    cs[1].core = 2;
    cs[1].tsc_hz = 2000000000;
    cs[1].counters = {{"calls_answered", 0}, {"calls_failed", 0}, {"busy_cycles", 0}, {"idle_cycles", 50000}};
    c.monitor().set_core_stats(cs);
    const Json s = data_of(c, "show stats");
    const Json& c0 = s.get("cores")->items()[0];
    EXPECT_EQ(c0.get("busy_percent")->as_int(), 25);
    EXPECT_EQ(c0.get("cycles_per_call")->as_int(), 5000);
    EXPECT_EQ(c0.get("busy_ns_per_call")->as_int(), 2500);
    const Json& c1 = s.get("cores")->items()[1];
    EXPECT_EQ(c1.get("busy_percent")->as_int(), 0);
    EXPECT_EQ(c1.get("cycles_per_call"), nullptr);  // no call completed: no cost
    const Json* t = s.get("total");
    EXPECT_EQ(t->get("busy_cycles")->as_int(), 50000);
    EXPECT_EQ(t->get("cycles_per_call")->as_int(), 5000);
    EXPECT_EQ(t->get("busy_percent")->as_int(), 20);  // 50000 / 250000
}

// ---- sipedgectl wait-ready -----------------------------------------------------------------

struct CtlRun {
    int rc = -1;
    std::string out;
    double secs = 0;
};

CtlRun ctl(const std::string& sock, const std::string& args) {
    CtlRun r;
    const auto t0 = std::chrono::steady_clock::now();
    const std::string cmd = std::string(SIPEDGE_CTL_BIN) + " --socket " + sock + " " + args + " </dev/null 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char b[4096];
    size_t n;
    while ((n = fread(b, 1, sizeof b, p)) > 0) r.out.append(b, n);
    const int st = pclose(p);
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

TEST(WaitReady, NoSocketTimesOutWithTheReason) {
    test::TempDir dir;
    const CtlRun r = ctl(dir.file("none.sock"), "wait-ready --timeout 0.5");
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("gave up after 0.5 s: cannot connect to"), std::string::npos) << r.out;
    EXPECT_GE(r.secs, 0.4);
    EXPECT_LT(r.secs, 5.0);
    const CtlRun bad = ctl(dir.file("none.sock"), "wait-ready --timeout soon");
    EXPECT_EQ(bad.rc, 2) << bad.out;
}

TEST(WaitReady, WaitsForTheDataPlaneThenSucceeds) {
    test::Served s(test::validated_trunk);
    std::atomic<unsigned> running{1};
    s.run([&] { s.ctl.monitor().set_dataplane_probe([&] { return two_workers(running.load(), running.load(), 1); }); });
    // Not ready for the whole wait: the reason is the last one seen.
    const CtlRun slow = ctl(s.path(), "wait-ready --timeout 0.4");
    EXPECT_EQ(slow.rc, 1) << slow.out;
    EXPECT_NE(slow.out.find("not ready: 1 of 2 worker(s) not polling yet"), std::string::npos) << slow.out;
    // The second worker comes up while sipedgectl waits.
    std::thread later([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        running = 2;
    });
    const CtlRun ok = ctl(s.path(), "wait-ready --timeout 10");
    later.join();
    EXPECT_EQ(ok.rc, 0) << ok.out;
    EXPECT_NE(ok.out.find("ready after"), std::string::npos) << ok.out;
    EXPECT_NE(ok.out.find("data plane up"), std::string::npos) << ok.out;
    EXPECT_GE(ok.secs, 0.25);
    EXPECT_LT(ok.secs, 5.0);
    const CtlRun json = ctl(s.path(), "--json wait-ready");
    EXPECT_EQ(json.rc, 0);
    auto j = Json::parse(json.out.substr(0, json.out.find('\n')));
    ASSERT_TRUE(j.ok()) << json.out;
    EXPECT_TRUE(flag(j.value(), "ready"));
    s.run([&] { s.ctl.monitor().set_dataplane_probe(nullptr); });
}

// The real control loop, started a little after sipedgectl began waiting
// for its socket; stopped by its pid.
TEST(WaitReady, ASipedgeControlStartedLater) {
    test::TempDir dir;
    const std::string sock = dir.file("ctl.sock");
    pid_t pid = -1;
    std::thread starter([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        pid = fork();
        if (pid == 0) {
            const int null = open("/dev/null", O_WRONLY);
            if (null >= 0) dup2(null, 2);
            execl(SIPEDGE_CONTROL_BIN, SIPEDGE_CONTROL_BIN, "--socket", sock.c_str(), (char*)nullptr);
            _exit(127);
        }
    });
    const CtlRun r = ctl(sock, "wait-ready --timeout 10");
    starter.join();
    ASSERT_GT(pid, 0);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find("control loop only"), std::string::npos) << r.out;
    EXPECT_GE(r.secs, 0.25);
}

}  // namespace
}  // namespace sipedge::ctl
