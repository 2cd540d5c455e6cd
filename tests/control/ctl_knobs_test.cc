// Every knob's range edges (min, max, min-1, max+1, default), generated from
// the one knob table; every key documented in docs/knobs.md.

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "control/knob_table.h"
#include "ctl_util.h"

namespace sipedge::ctl {
namespace {

using test::error_of;
using test::status_of;

// Lines some knobs need first so that their own edge is legal (cross-knob
// rules): expire-time 0 needs a percentage threshold.
std::vector<std::string> setup_for(const std::string& key) {
    if (key == "expire-time") return {"set trunk t threshold percentage 50"};
    return {};
}

struct Edge {
    std::string value;
    bool ok;
    std::string shown;  // what show trunk prints after an accepted value ("" = value)
};

template <class S>
std::vector<Edge> edges(const KnobDef<S>& k) {
    std::vector<Edge> e;
    switch (k.kind) {
    case KnobKind::uint:
        e.push_back({std::to_string(k.min), true, k.zero_word && k.min == 0 ? k.zero_word : ""});
        e.push_back({std::to_string(k.max), true, ""});
        if (k.min > 0) e.push_back({std::to_string(uint64_t(k.min) - 1), false, ""});
        e.push_back({std::to_string(uint64_t(k.max) + 1), false, ""});
        if (k.zero_word) e.push_back({k.zero_word, true, ""});
        e.push_back({"x1", false, ""});
        break;
    case KnobKind::boolean:
        e = {{"on", true, ""}, {"off", true, ""}, {"1", true, "on"}, {"0", true, "off"}, {"2", false, ""},
             {"yes please", false, ""}};
        break;
    case KnobKind::choice:
        for (const char* const* c = k.choices; *c; c++) e.push_back({*c, true, ""});
        e.push_back({"nonsense", false, ""});
        break;
    case KnobKind::text:
        e.push_back({"\"" + std::string(k.max, 'a') + "\"", true, "\"" + std::string(k.max, 'a') + "\""});
        e.push_back({"\"" + std::string(k.max + 1, 'a') + "\"", false, ""});
        e.push_back({"\"\\r\\n\"", true, ""});
        break;
    case KnobKind::threshold:
        e = {{"absolute 5", true, ""}, {"absolute 604800", false, ""},  // 604800 needs expire-time ≥ 604806
             {"absolute 4", false, ""}, {"absolute 604801", false, ""}, {"percentage 1", true, ""},
             {"percentage 90", true, ""}, {"percentage 0", false, ""}, {"percentage 91", false, ""}};
        break;
    case KnobKind::recover_delay:
        e = {{"0", true, "0 0"}, {"86400", true, "86400 86400"}, {"86401", false, ""}, {"0 86400", true, ""},
             {"10 86401", false, ""}, {"off", true, ""}};
        break;
    }
    return e;
}

TEST(Knobs, TrunkRangeEdges) {
    for (const TrunkKnob& k : trunk_knobs()) {
        // A key file read when set, kept in the secrets store (not text):
        // Config.TlsClientKeyIsKeptInTheSecretsStoreNeverInTheConfig.
        if (std::string_view(k.key) == "tls-client-key") continue;
        for (const Edge& e : edges(k)) {
            failover::Millis now = 0;
            Controller c(test::manual_clock(&now));
            ASSERT_EQ(status_of(c.execute_json("add trunk t")), 0);
            // Default before any change.
            const Json shown0 = c.execute_json("show trunk t");
            EXPECT_EQ(shown0.get("data")->get("knobs")->get(k.key)->as_string(), knob_default(k)) << k.key;
            for (const std::string& l : setup_for(k.key)) ASSERT_EQ(status_of(c.execute_json(l)), 0) << l;
            const State before = c.state();
            const std::string line = std::string("set trunk t ") + k.key + " " + e.value;
            const Json r = c.execute_json(line);
            if (e.ok) {
                EXPECT_EQ(status_of(r), 0) << line << " → " << r.dump();
                const Json s = c.execute_json("show trunk t");
                const std::string want = e.shown.empty() ? e.value : e.shown;
                EXPECT_EQ(s.get("data")->get("knobs")->get(k.key)->as_string(), want) << line;
            } else {
                EXPECT_EQ(status_of(r), EINVAL) << line << " → " << r.dump();
                const std::string msg = error_of(r);
                EXPECT_NE(msg.find(k.key), std::string::npos) << line << " → " << msg;
                if (k.kind != KnobKind::threshold || e.value.find("604800") == std::string::npos) {
                    EXPECT_NE(msg.find(knob_range(k)), std::string::npos) << line << " → " << msg;
                    EXPECT_NE(msg.find(k.seed), std::string::npos) << line << " → " << msg;
                    EXPECT_NE(msg.find("default " + knob_default(k)), std::string::npos) << msg;
                }
                EXPECT_TRUE(c.state() == before) << line;
            }
            // Setting the default is always accepted (with the setup lines).
            const Json d = c.execute_json(std::string("set trunk t ") + k.key + " " + knob_default(k));
            EXPECT_EQ(status_of(d), 0) << k.key << " default → " << d.dump();
        }
    }
}

TEST(Knobs, GlobalRangeEdges) {
    for (const GlobalKnob& k : global_knobs()) {
        for (const Edge& e : edges(k)) {
            failover::Millis now = 0;
            Controller c(test::manual_clock(&now));
            const std::string line = std::string("set global ") + k.key + " " + e.value;
            const Json r = c.execute_json(line);
            EXPECT_EQ(status_of(r), e.ok ? 0 : EINVAL) << line << " → " << r.dump();
            const Json s = c.execute_json("show global");
            const std::string got = s.get("data")->get("knobs")->get(k.key)->as_string();
            if (e.ok) {
                EXPECT_EQ(got, e.shown.empty() ? e.value : e.shown) << line;
            } else {
                EXPECT_EQ(got, knob_default(k)) << line;
                EXPECT_NE(error_of(r).find(k.seed), std::string::npos) << error_of(r);
            }
        }
    }
}

TEST(Knobs, SeedCoercions) {
    failover::Millis now = 0;
    Controller c(test::manual_clock(&now));
    ASSERT_EQ(status_of(c.execute_json("add trunk t")), 0);
    // seed E: failBack.timeout 1-59 becomes 60.
    ASSERT_EQ(status_of(c.execute_json("set trunk t failback-timeout 1")), 0);
    ASSERT_EQ(status_of(c.execute_json("set trunk t server 1 192.0.2.1")), 0);
    ASSERT_EQ(status_of(c.execute_json("set trunk t register off")), 0);
    EXPECT_EQ(c.engine().trunk(*c.engine_id("t"))->knobs.failback_timeout_s, 60u);
    // seed A: recover delay with a lone minimum is a fixed delay.
    ASSERT_EQ(status_of(c.execute_json("set trunk t recover-delay 30")), 0);
    const auto& k = c.engine().trunk(*c.engine_id("t"))->knobs;
    EXPECT_TRUE(k.recover_delay_enabled);
    EXPECT_EQ(k.recover_delay_min_s, 30u);
    EXPECT_EQ(k.recover_delay_max_s, 30u);
}

TEST(Knobs, DefaultsMatchTheEngine) {
    // Our defaults give exactly the engine's default knobs (seed defaults).
    const failover::TrunkKnobs ours = to_trunk_knobs(TrunkSettings{});
    const failover::TrunkKnobs engine{};
    EXPECT_EQ(ours.mode, engine.mode);
    EXPECT_EQ(ours.failover_on_503, engine.failover_on_503);
    EXPECT_EQ(ours.failback_timeout_s, engine.failback_timeout_s);
    EXPECT_EQ(ours.expire_time_s, engine.expire_time_s);
    EXPECT_EQ(ours.threshold, engine.threshold);
    EXPECT_EQ(ours.register_retry_base_s, engine.register_retry_base_s);
    EXPECT_EQ(ours.register_retry_max_s, engine.register_retry_max_s);
    EXPECT_EQ(ours.trap_interval_s, engine.trap_interval_s);
    EXPECT_EQ(ours.probe_interval_s, engine.probe_interval_s);
    EXPECT_EQ(std::memcmp(&ours.invite_policy, &engine.invite_policy, sizeof ours.invite_policy), 0);
    EXPECT_EQ(std::memcmp(&ours.register_policy, &engine.register_policy, sizeof ours.register_policy), 0);
    EXPECT_TRUE(validate_settings(TrunkSettings{}).ok());
}

// validate_settings names the refused knob by the table's key (state.cc maps
// the engine's errors to settings fields, the table maps fields to keys).
TEST(Knobs, ValidationNamesTheKnob) {
    size_t refused = 0;
    for (uint8_t model = 0; model < 4; model++) {
        for (const TrunkKnob& k : trunk_knobs()) {
            if (k.kind != KnobKind::uint) continue;
            std::vector<uint32_t> bad;
            if (k.min > 0) bad.push_back(k.min - 1);
            if (k.max < UINT32_MAX) bad.push_back(k.max + 1);
            for (const uint32_t v : bad) {
                TrunkSettings s;
                s.retry_model = model;
                s.monitor = 1;  // always: the probe knobs are checked
                s.trap_registration_failures = 5;
                s.recover_delay_enabled = true;
                s.*k.u = v;
                const Status r = validate_settings(s);
                if (r.ok()) continue;  // a knob the engine does not check, or not this model's
                refused++;
                EXPECT_NE(r.error().message.find(k.key), std::string::npos)
                    << "model " << int(model) << " " << k.key << " " << v << ": " << r.error().message;
            }
        }
    }
    EXPECT_GT(refused, 40u);
    TrunkSettings s;
    s.t2_ms = 999;
    const Status t2 = validate_settings(s);
    ASSERT_FALSE(t2.ok());
    EXPECT_EQ(t2.error().message.rfind("t2: ", 0), 0u) << t2.error().message;
    s = TrunkSettings{};
    s.monitor = 1;  // always
    s.monitor_up_threshold = 11;
    const Status up = validate_settings(s);
    ASSERT_FALSE(up.ok());
    EXPECT_EQ(up.error().message.rfind("monitor-down-threshold/monitor-up-threshold: ", 0), 0u) << up.error().message;
}

TEST(Knobs, EveryKeyDocumented) {
    std::ifstream in(std::string(SIPEDGE_SOURCE_ROOT) + "/docs/knobs.md");
    ASSERT_TRUE(in) << "docs/knobs.md missing";
    const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const TrunkKnob& k : trunk_knobs())
        EXPECT_NE(doc.find(std::string("`") + k.key + "`"), std::string::npos) << k.key;
    for (const GlobalKnob& k : global_knobs())
        EXPECT_NE(doc.find(std::string("`") + k.key + "`"), std::string::npos) << k.key;
}

// Issue 12: request-uri-host and failback-mode auto reach the engine.
TEST(Knobs, RequestUriHostAndFailbackAuto) {
    failover::Millis now = 0;
    Controller c(test::manual_clock(&now));
    ASSERT_EQ(status_of(c.execute_json("add trunk t")), 0);
    ASSERT_EQ(status_of(c.execute_json("set trunk t server 1 192.0.2.1")), 0);
    ASSERT_EQ(status_of(c.execute_json("set trunk t register off")), 0);
    const auto knobs = [&] { return c.engine().trunk(*c.engine_id("t"))->knobs; };
    EXPECT_EQ(knobs().ruri_host, failover::RuriHost::keep);
    EXPECT_EQ(knobs().failback_mode, failover::FailbackMode::automatic);
    ASSERT_EQ(status_of(c.execute_json("set trunk t request-uri-host domain")), 0);
    EXPECT_EQ(knobs().ruri_host, failover::RuriHost::domain);
    ASSERT_EQ(status_of(c.execute_json("set trunk t request-uri-host server")), 0);
    EXPECT_EQ(knobs().ruri_host, failover::RuriHost::server);
    EXPECT_NE(status_of(c.execute_json("set trunk t request-uri-host carrier")), 0);
    EXPECT_EQ(knobs().ruri_host, failover::RuriHost::server);  // the running value stays
    ASSERT_EQ(status_of(c.execute_json("set trunk t failback-mode duration")), 0);
    EXPECT_EQ(knobs().failback_mode, failover::FailbackMode::duration);
    ASSERT_EQ(status_of(c.execute_json("set trunk t failback-mode auto")), 0);
    EXPECT_EQ(failover::effective_failback(knobs().failback_mode, failover::SelectMode::top_first),
              failover::FailbackMode::new_requests);
}

}  // namespace
}  // namespace sipedge::ctl
