// ProbeMonitor on its own (issue 13): OPTIONS probes driven with a scripted
// ProbeHost instead of the Engine, so the health changes the monitor asks for
// are visible. Through the Engine: engine_sustained_test.cc and
// engine_registration_test.cc (monitor probes).

#include "failover/probe_monitor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipedge::failover::test {
namespace {

struct FakeHost final : ProbeHost {
    std::vector<std::pair<std::string, int>> calls;  // (what, server)
    bool fail_marks = true;                          // server_failed_in_use marks the server failed

    void mark_alive(Trunk& t, uint16_t s, Trigger why, Millis) override {
        EXPECT_EQ(why, Trigger::probe_up);
        t.servers[s].failed = false;
        calls.emplace_back("alive", s);
    }
    void server_failed_in_use(Trunk& t, uint16_t s, Trigger why, Millis) override {
        EXPECT_EQ(why, Trigger::probe_down);
        if (fail_marks) t.servers[s].failed = true;
        calls.emplace_back("failed", s);
    }
};

struct Rig {
    Random rng{9};
    std::vector<Action> out;
    FakeHost host;
    ProbeMonitor mon{rng, out, host, "probe-test", 100};
    Trunk t;
    Millis now = 1000;

    explicit Rig(ProbeMode mode = ProbeMode::always) {
        t.id = 3;
        t.domain = "carrier.example";
        t.knobs.probe_mode = mode;
        t.knobs.probe_interval_s = 10;
        t.knobs.probe_down_threshold = 2;
        t.knobs.probe_up_threshold = 2;
        normalize(t.knobs);
        ServerState s;
        s.target.address = "10.0.0.1";
        s.target.port = 5060;
        s.family = 4;
        t.servers.push_back(s);
        mon.spread(t, now);
    }
    std::vector<Action> probes() {
        std::vector<Action> r;
        for (const Action& a : out)
            if (a.kind == ActionKind::send_options) r.push_back(a);
        out.clear();
        return r;
    }
    /// Ticks every 100 ms for <dt>.
    void run(Millis dt) {
        for (const Millis end = now + dt; now < end;) {
            now += 100;
            mon.on_tick(t, now);
        }
    }
    /// Advances to the next probe and returns it (the first new one).
    Action next_probe() {
        for (int i = 0; i < 200; i++) {
            run(100);
            for (const Action& a : probes())
                if (!a.retransmit) return a;
        }
        ADD_FAILURE() << "no probe";
        return {};
    }
};

TEST(ProbeMonitor, FirstProbeWithinOneIntervalAndItsText) {
    Rig g;
    EXPECT_GE(g.t.servers[0].next_probe_at, g.now);
    EXPECT_LT(g.t.servers[0].next_probe_at, g.now + 10000);
    const Action a = g.next_probe();
    EXPECT_EQ(a.trunk, 3u);
    EXPECT_EQ(a.server, 0);
    EXPECT_EQ(a.cseq, 1u);
    EXPECT_EQ(a.nonce, 101u);  // ids count on from the one given
    char buf[1024];
    const size_t n = g.mon.write_options(g.t, a, SendContext{"192.0.2.1:5060", "z9hG4bKp"}, buf, sizeof buf);
    const std::string m(buf, n);
    EXPECT_EQ(m.rfind("OPTIONS sip:10.0.0.1:5060 SIP/2.0\r\n", 0), 0u) << m;
    EXPECT_NE(m.find("Call-ID: mon-3-0-65@carrier.example\r\n"), std::string::npos) << m;
    EXPECT_NE(m.find("User-Agent: probe-test\r\n"), std::string::npos) << m;
    EXPECT_EQ(g.mon.write_options(g.t, a, SendContext{"a", "b"}, buf, 32), 0u);  // does not fit
}

TEST(ProbeMonitor, TimerERetransmitsTheSameProbe) {
    Rig g;
    const Action a = g.next_probe();
    g.run(500);  // T1
    auto r = g.probes();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_TRUE(r[0].retransmit);
    EXPECT_EQ(r[0].nonce, a.nonce);
    EXPECT_EQ(r[0].cseq, a.cseq);
}

TEST(ProbeMonitor, DownThresholdThenUpThreshold) {
    Rig g;
    for (int i = 0; i < 2; i++) {
        g.next_probe();
        g.run(Millis(g.t.knobs.probe_timeout_s) * 1000);  // unanswered
    }
    ASSERT_EQ(g.host.calls.size(), 1u);
    EXPECT_EQ(g.host.calls[0].first, "failed");
    EXPECT_TRUE(g.t.servers[0].failed);
    for (int i = 0; i < 2; i++) {
        const Action a = g.next_probe();
        g.mon.on_response(g.t, 0, a.cseq, 200, 0, g.now);
    }
    ASSERT_EQ(g.host.calls.size(), 2u);
    EXPECT_EQ(g.host.calls[1].first, "alive");
}

TEST(ProbeMonitor, A503WithRetryAfterFailsAtOnceAndHolds) {
    Rig g;
    const Action a = g.next_probe();
    g.mon.on_response(g.t, 0, a.cseq + 1, 200, 0, g.now);  // not this probe's CSeq: ignored
    g.mon.on_response(g.t, 0, a.cseq, 503, 20, g.now);
    ASSERT_EQ(g.host.calls.size(), 1u);
    EXPECT_EQ(g.host.calls[0].first, "failed");
    EXPECT_EQ(g.t.servers[0].hold_until, g.now + 20000);
    // Answers inside the hold do not count.
    const Action b = g.next_probe();
    g.mon.on_response(g.t, 0, b.cseq, 200, 0, g.now);
    EXPECT_EQ(g.t.servers[0].probe_oks, 0);
}

TEST(ProbeMonitor, WhileFailedProbesOnlyFailedServers) {
    Rig g(ProbeMode::while_failed);
    g.run(30000);
    EXPECT_TRUE(g.probes().empty());
    g.t.servers[0].failed = true;
    g.mon.on_failed(g.t, 0, true, g.now);
    g.next_probe();
}

TEST(ProbeMonitor, FailureShortensTheWaitOfAProbeInFlight) {
    Rig g;
    g.next_probe();
    EXPECT_EQ(g.t.servers[0].probe_deadline, g.now + 32000);
    g.t.servers[0].probe_oks = 1;
    g.mon.on_failed(g.t, 0, true, g.now);
    EXPECT_EQ(g.t.servers[0].probe_deadline, g.now + 10000);
    EXPECT_EQ(g.t.servers[0].probe_oks, 0);
}

TEST(ProbeMonitor, MaintenanceIsNotProbed) {
    Rig g;
    g.t.servers[0].maintenance = true;
    g.run(30000);
    EXPECT_TRUE(g.probes().empty());
    g.t.servers[0].maintenance = false;
    g.mon.probe_soon(g.t, 0, g.now);
    g.run(100);
    EXPECT_EQ(g.probes().size(), 1u);
}

}  // namespace
}  // namespace sipedge::failover::test
