// DPDK telemetry: starts an EAL (--no-huge --no-shconf --no-pci; --in-memory is refused
// with --no-huge by DPDK 22.11; exits 77
// when it cannot), registers /sipedge/{cores,stats,drops} with a source of
// two fake worker blocks, connects to the EAL's telemetry socket
// (<runtime dir>/dpdk_telemetry.v2, SOCK_SEQPACKET) as dpdk-telemetry.py
// does, and checks the JSON that comes back.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include <rte_eal.h>
#include <rte_errno.h>

#include "control/json.h"
#include "control/telemetry.h"

namespace sipedge::ctl {
namespace {

struct TelClient {
    int fd = -1;
    Json info;
    bool open() {
        const std::string path = std::string(rte_eal_get_runtime_dir()) + "/dpdk_telemetry.v2";
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        if (path.size() >= sizeof a.sun_path) return false;
        std::memcpy(a.sun_path, path.data(), path.size());
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        timeval tv{5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
        auto j = read();  // the server's greeting: version, pid, max_output_len
        if (!j) return false;
        info = j.value();
        return true;
    }
    Result<Json> read() {
        char buf[65536];
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return err(EIO, "no reply");
        return Json::parse(std::string_view(buf, size_t(n)));
    }
    Result<Json> ask(const std::string& cmd) {
        if (send(fd, cmd.data(), cmd.size(), 0) != ssize_t(cmd.size())) return err(EIO, "send");
        return read();
    }
    ~TelClient() {
        if (fd >= 0) close(fd);
    }
};

int64_t num(const Json& j, const char* a, const char* b) {
    const Json* x = j.get(a);
    const Json* y = x ? x->get(b) : nullptr;
    return y && y->is_number() ? y->as_int() : -1;
}

TEST(Telemetry, StatsAndDropsOverTheSocket) {
    ASSERT_TRUE(register_telemetry([](std::vector<CoreCounters>& v) {
        CoreCounters a, b;
        a.lcore = 1;
        a.stats.rx_packets = 100;
        a.stats.calls_attempted = 7;
        a.stats.drop(dp::DropReason::sip_parse);
        a.stats.busy_cycles = 40;
        a.stats.idle_cycles = 60;
        a.tsc_hz = 1000000;
        b.lcore = 2;
        b.stats.busy_cycles = 2;
        b.tsc_hz = 1000000;
        b.stats.rx_packets = 23;
        b.stats.drop(dp::DropReason::sip_parse);
        b.stats.drop(dp::DropReason::udp_port);
        v.push_back(a);
        v.push_back(b);
    }));
    TelClient c;
    ASSERT_TRUE(c.open()) << "telemetry socket " << rte_eal_get_runtime_dir();
    ASSERT_TRUE(c.info.get("pid"));
    EXPECT_EQ(c.info.get("pid")->as_int(), getpid());

    auto cores = c.ask("/sipedge/cores");
    ASSERT_TRUE(cores);
    EXPECT_EQ(cores.value().dump(), "{\"/sipedge/cores\":[1,2]}");

    auto all = c.ask("/sipedge/stats");
    ASSERT_TRUE(all);
    EXPECT_EQ(num(all.value(), "/sipedge/stats", "cores"), 2);
    EXPECT_EQ(num(all.value(), "/sipedge/stats", "rx_packets"), 123);
    EXPECT_EQ(num(all.value(), "/sipedge/stats", "calls_attempted"), 7);
    EXPECT_EQ(num(all.value(), "/sipedge/stats", "drops"), 3);
    // Issue 12: the workers' loop time, in cycles of tsc_hz.
    EXPECT_EQ(num(all.value(), "/sipedge/stats", "busy_cycles"), 42);
    EXPECT_EQ(num(all.value(), "/sipedge/stats", "idle_cycles"), 60);
    EXPECT_EQ(num(all.value(), "/sipedge/stats", "tsc_hz"), 1000000);
    EXPECT_EQ(num(all.value(), "/sipedge/stats", "rx_udp_csum_partial"), 0);

    auto one = c.ask("/sipedge/stats,2");
    ASSERT_TRUE(one);
    EXPECT_EQ(num(one.value(), "/sipedge/stats", "rx_packets"), 23);
    EXPECT_EQ(num(one.value(), "/sipedge/stats", "cores"), 1);
    EXPECT_EQ(num(one.value(), "/sipedge/stats", "busy_cycles"), 2);

    auto drops = c.ask("/sipedge/drops");
    ASSERT_TRUE(drops);
    EXPECT_EQ(num(drops.value(), "/sipedge/drops", "sip_parse"), 2);
    EXPECT_EQ(num(drops.value(), "/sipedge/drops", "udp_port"), 1);
    EXPECT_EQ(num(drops.value(), "/sipedge/drops", "tx_full"), 0);
    auto d1 = c.ask("/sipedge/drops,1");
    ASSERT_TRUE(d1);
    EXPECT_EQ(num(d1.value(), "/sipedge/drops", "udp_port"), 0);

    // An unknown or malformed lcore is refused (DPDK answers null).
    auto bad = c.ask("/sipedge/stats,9");
    ASSERT_TRUE(bad);
    EXPECT_TRUE(bad.value().get("/sipedge/stats") && bad.value().get("/sipedge/stats")->is_null()) << bad.value().dump();
    auto bad2 = c.ask("/sipedge/drops,x1");
    ASSERT_TRUE(bad2);
    EXPECT_TRUE(bad2.value().get("/sipedge/drops")->is_null());

    // Listed by DPDK's own /help.
    auto help = c.ask("/help,/sipedge/stats");
    ASSERT_TRUE(help);
    EXPECT_NE(help.value().dump().find("summed over all workers"), std::string::npos) << help.value().dump();

    // Without a source the commands answer with no cores.
    clear_telemetry_source();
    auto empty = c.ask("/sipedge/cores");
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty.value().dump(), "{\"/sipedge/cores\":[]}");
}

}  // namespace
}  // namespace sipedge::ctl

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    const std::string prefix = "sipedge-tel-" + std::to_string(getpid());
    std::string args[] = {"telemetry_test", "--no-huge", "-m", "64", "--no-shconf", "--no-pci",
                          "--file-prefix=" + prefix, "-l", "0", "--log-level=*:error"};
    char* eal_argv[std::size(args)];
    for (size_t i = 0; i < std::size(args); i++) eal_argv[i] = args[i].data();
    if (rte_eal_init(int(std::size(args)), eal_argv) < 0) {
        std::fprintf(stderr, "rte_eal_init failed (%s): skipped\n", std::strerror(rte_errno));
        return 77;
    }
    const std::filesystem::path runtime_dir = rte_eal_get_runtime_dir();
    const int rc = RUN_ALL_TESTS();
    rte_eal_cleanup();
    // Our own file-prefix directory (/var/run/dpdk/<prefix>): DPDK leaves it, with the
    // telemetry socket and whatever else it made there. Only ours: checked by name.
    std::error_code ec;
    if (runtime_dir.filename() == prefix) std::filesystem::remove_all(runtime_dir, ec);
    return rc;
}
