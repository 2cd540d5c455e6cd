// examples/*.conf in the engine: every trunk of every example runs (none is
// left idle by a missing server or identity, or refused by the engine's
// validation), with the seed's knobs; the file's running config round-trips
// to an equal State. (examples_test.py checks the same files through the
// sipedge-control binary, and the systemd unit.)

#include <gtest/gtest.h>

#include "control/config.h"
#include "ctl_util.h"

#ifndef SIPEDGE_SOURCE_ROOT
#error "SIPEDGE_SOURCE_ROOT: the source tree (tests/control/meson.build)"
#endif

namespace sipedge::ctl {
namespace {

std::string example(const char* name) { return std::string(SIPEDGE_SOURCE_ROOT) + "/examples/" + name; }

struct Loaded {
    test::TempDir dir;
    failover::Millis now = 0;
    std::unique_ptr<Controller> c;
    explicit Loaded(const char* name) {
        ControllerOptions o;
        o.secrets_path = dir.file("secrets");
        c = std::make_unique<Controller>(test::manual_clock(&now), o);
        Status s = load_config_file(*c, example(name));
        EXPECT_TRUE(s.ok()) << name << ": " << (s.ok() ? "" : s.error().message);
    }
};

TEST(Examples, EveryTrunkRunsAndRoundTrips) {
    for (const char* name : {"adtran-default.conf", "adtran-validated.conf", "poly-udp.conf",
                             "poly-tls-reregister.conf", "cisco-tuned-timers.conf"}) {
        Loaded a(name);
        ASSERT_FALSE(a.c->state().trunks.empty()) << name;
        for (const auto& [t, cfg] : a.c->state().trunks)
            EXPECT_TRUE(a.c->engine_id(t).has_value()) << name << ": trunk " << t << " idle: " << a.c->engine_status(t);
        // running-config → a fresh controller (same secrets file) → equal state.
        std::string text;
        for (const std::string& l : a.c->running_config()) text += l + "\n";
        a.dir.write("running.conf", text);
        ControllerOptions o;
        o.secrets_path = a.dir.file("secrets");
        Controller b(test::manual_clock(&a.now), o);
        ASSERT_TRUE(b.load_secrets().ok());
        Status s = load_config_file(b, a.dir.file("running.conf"));
        ASSERT_TRUE(s.ok()) << name << ": " << s.error().message << "\n" << text;
        EXPECT_TRUE(b.state() == a.c->state()) << name;
        EXPECT_EQ(b.running_config(), a.c->running_config()) << name;
    }
}

TEST(Examples, SeedValuesArrive) {
    {
        Loaded a("adtran-validated.conf");
        const TrunkSettings& k = a.c->state().trunks.at("t01").knobs;
        EXPECT_EQ(k.validation, 1);
        EXPECT_TRUE(k.failover_on_503);
        EXPECT_TRUE(k.recover_delay_enabled);
        EXPECT_EQ(k.recover_delay_min_s, 1800u);
        EXPECT_EQ(k.t1_ms, 750u);
        EXPECT_EQ(k.expire_time_s, 1800u);
        EXPECT_EQ(k.trap_registration_failures, 3u);
    }
    {
        Loaded a("adtran-default.conf");
        EXPECT_EQ(a.c->state().trunks.at("t01").knobs.validation, 0);
    }
    {
        Loaded a("cisco-tuned-timers.conf");
        const TrunkSettings& k = a.c->state().trunks.at("cucm").knobs;
        EXPECT_EQ(k.retry_model, uint8_t(RetryModel::cisco));
        EXPECT_EQ(k.trying_timer_ms, 200u);
        EXPECT_EQ(k.invite_retry_count, 3u);
        EXPECT_FALSE(k.register_enabled);
    }
    {
        Loaded a("poly-udp.conf");
        const TrunkConfig& t = a.c->state().trunks.at("poly-udp");
        EXPECT_EQ(t.knobs.retry_timeout_ms, 500u);
        EXPECT_EQ(t.identities.size(), 2u);
        ASSERT_TRUE(t.servers[0].has_value());
        EXPECT_EQ(t.servers[0]->mode, ServerMode::udp_only);
    }
    {
        Loaded a("poly-tls-reregister.conf");
        const TrunkConfig& t = a.c->state().trunks.at("poly-tls");
        EXPECT_TRUE(t.knobs.tcp_fast_failover);
        EXPECT_EQ(t.knobs.tcp_fast_failover_timeout_ms, 4000u);
        EXPECT_EQ(t.knobs.register_retry_max_s, 180u);
        EXPECT_TRUE(t.knobs.enhanced);
        EXPECT_EQ(t.servers[0]->mode, ServerMode::tls_only);
    }
}

}  // namespace
}  // namespace sipedge::ctl
