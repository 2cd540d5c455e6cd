// Access peers and the flood guard (control/cmd_access.cc, issue 16): the
// commands with their refusals (nothing changes), the set the workers get
// (networks longest prefix first, rates per kind), show access, and the
// running-config round trip through a startup file.

#include <gtest/gtest.h>

#include "control/cmd_access.h"
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
    std::string refused(const std::string& line) {
        const State before = ctl.state();
        const Json r = run(line);
        EXPECT_NE(status_of(r), 0) << line;
        EXPECT_TRUE(ctl.state() == before) << line << " changed the state";
        return error_of(r);
    }
};

TEST(CtlAccess, NothingConfiguredPublishesNothing) {
    Fixture f;
    EXPECT_EQ(build_access_peers(f.ctl.state()), nullptr);
    f.ok("set access-guard block 20");  // a setting alone: still nothing to check
    EXPECT_EQ(build_access_peers(f.ctl.state()), nullptr);
    f.ok("set access-guard source-rps 50");
    auto s = build_access_peers(f.ctl.state());
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->view.source_rps, 50u);
    EXPECT_EQ(s->view.block_s, 20u);
    EXPECT_EQ(s->view.peer_count, 0u);
}

TEST(CtlAccess, PeersBecomeTheWorkersSet) {
    Fixture f;
    f.ok("access-peer pbx1 networks 10.1.0.0/16,10.1.2.0/24 invite-rps 30 register-rps 100 burst 60");
    f.ok("access-peer gw networks 192.0.2.7 other-rps 5");
    f.ok("set access-guard restrict-sources on");
    f.ok("set access-guard action drop");
    auto s = build_access_peers(f.ctl.state());
    ASSERT_NE(s, nullptr);
    const dp::AccessPeers& v = s->view;
    EXPECT_TRUE(v.restrict_sources);
    EXPECT_EQ(v.action, dp::FloodAction::drop);
    ASSERT_EQ(v.peer_count, 2u);
    ASSERT_EQ(v.net_count, 3u);
    EXPECT_EQ(v.nets[0].prefix, 32);  // longest first
    EXPECT_EQ(v.nets[2].prefix, 16);
    EXPECT_EQ(dp::peer_of(v, 0x0a010203u), dp::peer_of(v, 0x0a01ff01u));  // 10.1.2.3 and 10.1.255.1: pbx1
    const int gw = dp::peer_of(v, 0xc0000207u);
    ASSERT_GE(gw, 0);
    EXPECT_EQ(s->names[size_t(gw)], "gw");
    EXPECT_EQ(v.limits[gw].rps[size_t(dp::RateKind::other)], 5u);
    const int pbx = dp::peer_of(v, 0x0a010203u);
    EXPECT_EQ(v.limits[pbx].rps[size_t(dp::RateKind::invite)], 30u);
    EXPECT_EQ(v.limits[pbx].rps[size_t(dp::RateKind::register_)], 100u);
    EXPECT_EQ(v.limits[pbx].burst[size_t(dp::RateKind::invite)], 60u);
    EXPECT_EQ(dp::peer_of(v, 0x0a020001u), -1);
    // The same settings again: the same decisions (the workers keep their buckets).
    EXPECT_TRUE(same_access_peers(s.get(), build_access_peers(f.ctl.state()).get()));
    f.ok("access-peer gw networks 192.0.2.7 other-rps 6");
    EXPECT_FALSE(same_access_peers(s.get(), build_access_peers(f.ctl.state()).get()));

    const Json r = f.run("show access");
    ASSERT_EQ(status_of(r), 0) << error_of(r);
    const Json* d = r.get("data");
    EXPECT_EQ(d->get("guard")->get("restrict-sources")->as_string(), "on");
    EXPECT_EQ(d->get("guard")->get("action")->as_string(), "drop");
    EXPECT_TRUE(d->get("active")->as_bool());
}

TEST(CtlAccess, BadLinesAreRefusedAndChangeNothing) {
    Fixture f;
    f.ok("access-peer pbx1 networks 10.1.0.0/16");
    EXPECT_NE(f.refused("access-peer pbx2 networks 10.1.0.0/16").find("already access-peer pbx1"), std::string::npos);
    EXPECT_NE(f.refused("access-peer pbx2 networks 010.1.0.0/16").find("no leading zeros"), std::string::npos);
    EXPECT_NE(f.refused("access-peer pbx2 networks 10.2.0.0/33").find("IPv4 prefix"), std::string::npos);
    EXPECT_NE(f.refused("access-peer pbx2 networks 10.2.0.1/16").find("10.2.0.1/16"), std::string::npos);  // host bits
    EXPECT_NE(f.refused("access-peer pbx2 invite-rps 5").find("'networks' is required"), std::string::npos);
    EXPECT_NE(f.refused("access-peer pbx2 networks 10.2.0.0/16 invite-rps -1").find("invite-rps"), std::string::npos);
    EXPECT_NE(f.refused("access-peer pbx2 networks 10.2.0.0/16 invite-rps 5 invite-rps 6").find("twice"), std::string::npos);
    EXPECT_NE(f.refused("access-peer pbx2 networks 10.2.0.0/16 colour blue").find("unknown word"), std::string::npos);
    EXPECT_NE(f.refused("access-peer pbx2 networks").find("needs a value"), std::string::npos);
    EXPECT_NE(f.refused("no access-peer nobody").find("no access-peer"), std::string::npos);
    EXPECT_NE(f.refused("set access-guard source-rps 1000001").find("source-rps"), std::string::npos);
    EXPECT_NE(f.refused("set access-guard block 0").find("block"), std::string::npos);
    EXPECT_NE(f.refused("set access-guard action maybe").find("reject"), std::string::npos);
    EXPECT_NE(f.refused("set access-guard restrict-sources yes").find("on or off"), std::string::npos);
    EXPECT_NE(f.refused("set access-guard colour blue").find("unknown access-guard key"), std::string::npos);
    // restrict-sources needs a peer, and the last peer cannot go while it is on.
    f.ok("no access-peer pbx1");
    EXPECT_NE(f.refused("set access-guard restrict-sources on").find("add the peers first"), std::string::npos);
    f.ok("access-peer pbx1 networks 10.1.0.0/16");
    f.ok("set access-guard restrict-sources on");
    EXPECT_NE(f.refused("no access-peer pbx1").find("restrict-sources off first"), std::string::npos);
    // Too many peers.
    for (uint32_t i = 1; i < dp::max_access_peers; i++)
        f.ok("access-peer p" + std::to_string(i) + " networks 172.16." + std::to_string(i / 256) + "." +
             std::to_string(i % 256) + "/32");
    EXPECT_NE(f.refused("access-peer one-more networks 172.31.0.1").find("at most"), std::string::npos);
}

TEST(CtlAccess, RunningConfigRoundTrip) {
    test::TempDir dir;
    failover::Millis now = 0;
    Controller a(test::manual_clock(&now));
    dir.write("start.cfg",
              "access-peer pbx1 networks 10.1.0.0/16,10.9.9.9 invite-rps 30 burst 60\n"
              "set access-guard restrict-sources on\n"
              "set access-guard source-rps 200\n"
              "set access-guard block 30\n"
              "set access-guard action drop\n"
              "access-peer gw networks 192.0.2.0/24 register-rps 10 other-rps 20\n");
    Status s = load_config_file(a, dir.file("start.cfg"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    const std::vector<std::string> first = a.running_config();
    std::string text;
    for (const std::string& l : first) text += l + "\n";
    EXPECT_NE(text.find("access-peer pbx1 networks 10.1.0.0/16,10.9.9.9/32 invite-rps 30 burst 60\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("set access-guard restrict-sources on\n"), std::string::npos) << text;
    dir.write("running.cfg", text);
    Controller b(test::manual_clock(&now));
    Status s2 = load_config_file(b, dir.file("running.cfg"));
    ASSERT_TRUE(s2.ok()) << s2.error().message << "\n" << text;
    EXPECT_EQ(b.running_config(), first);
    EXPECT_TRUE(a.state() == b.state());
    // A bad line is refused with its line number; the running state stays.
    dir.write("bad.cfg", "access-peer x networks 10.1.0.0/16\n");
    Status s3 = load_config_file(b, dir.file("bad.cfg"));
    ASSERT_FALSE(s3.ok());
    EXPECT_NE(s3.error().message.find(":1:"), std::string::npos) << s3.error().message;
    EXPECT_TRUE(a.state() == b.state());
}

}  // namespace
}  // namespace sipedge::ctl
