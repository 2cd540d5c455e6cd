// sipedge's command line and the EAL argv it builds (control/edge_args.h):
// our options up to "--", the configuration's devices, lcores and memory
// added where the command line does not say them, in the order the EAL sees.

#include "control/edge_args.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/state.h"

namespace sipedge::ctl {
namespace {

// A mutable argv over <words> (the EAL and our parser take char**).
struct Argv {
    std::vector<std::string> words;
    std::vector<char*> ptrs;
    explicit Argv(std::vector<std::string> w) : words(std::move(w)) {
        for (std::string& s : words) ptrs.push_back(s.data());
    }
    int argc() const { return int(ptrs.size()); }
    char** argv() { return ptrs.data(); }
};

std::vector<std::string> words_of(EalArgv& e) {
    std::vector<std::string> out;
    for (int i = 0; i < e.argc(); i++) out.emplace_back(e.argv()[i]);
    return out;
}

TEST(EdgeArgs, OptionsUpToTheSeparator) {
    Argv a({"sipedge", "--config", "f.conf", "--socket", "/tmp/s", "--duration", "2.5", "--max-txns",
            "4096", "--overload-percent", "0", "--no-rx-udp-csum", "--", "-l", "0-1"});
    EdgeArgs e;
    EXPECT_EQ(parse_edge_args(a.argc(), a.argv(), e), 12);
    EXPECT_EQ(e.config, "f.conf");
    EXPECT_EQ(e.socket, "/tmp/s");
    EXPECT_DOUBLE_EQ(e.duration_s, 2.5);
    EXPECT_EQ(e.max_txns, 4096u);
    EXPECT_EQ(e.overload_percent, 0u);
    EXPECT_FALSE(e.rx_udp_csum);
    EXPECT_EQ(e.mbufs, 0u);  // defaults stay
    EXPECT_EQ(e.socket_idle_s, 60u);

    Argv b({"sipedge", "--config", "f.conf"});
    EdgeArgs f;
    EXPECT_EQ(parse_edge_args(b.argc(), b.argv(), f), 3);  // no "--": argc
}

TEST(EdgeArgsDeath, UsageExitsTwo) {
    for (std::vector<std::string> w : std::vector<std::vector<std::string>>{
             {"sipedge"}, {"sipedge", "--config"}, {"sipedge", "--config", "f", "--bogus"},
             {"sipedge", "--config", "f", "--max-txns", "15"}, {"sipedge", "--help"}}) {
        Argv a(w);
        EdgeArgs e;
        EXPECT_EXIT(parse_edge_args(a.argc(), a.argv(), e), testing::ExitedWithCode(2), "usage: sipedge")
            << w.back();
    }
}

TEST(EalArgv, ConfigWordsAfterTheCommandLine) {
    DataplaneSettings d;
    d.ports[0].ip = 0xc0000201;
    d.ports[0].device = "net_null0";
    d.ports[1].ip = 0xc0000301;
    d.ports[1].device = "net_ring0";
    d.ports[2].device = "net_null9";  // no address: not taken
    d.lcores = "0-2";
    d.hugepages = false;
    d.memory_mb = 256;
    Argv a({"sipedge", "--config", "f", "--", "--log-level=lib.eal:error"});
    EalArgv e(d, a.argc(), a.argv(), 3);
    EXPECT_EQ(words_of(e), (std::vector<std::string>{"sipedge", "--log-level=lib.eal:error",
                                                     "--vdev=net_null0", "--vdev=net_ring0", "--no-pci",
                                                     "-l", "0-2", "--no-huge", "-m", "256"}));
    EXPECT_EQ(e.af_room(), 0u);
}

TEST(EalArgv, CommandLineWins) {
    DataplaneSettings d;
    d.ports[0].ip = 0xc0000201;
    d.ports[0].device = "0000:03:00.0";
    d.lcores = "0-2";
    d.hugepages = false;
    d.memory_mb = 256;
    Argv a({"sipedge", "--config", "f", "--", "--lcores=0@0,1@1", "--no-huge", "--socket-mem=64"});
    EalArgv e(d, a.argc(), a.argv(), 3);
    // PCI: -a and no --no-pci; lcores, hugepages and memory from the command line.
    EXPECT_EQ(words_of(e), (std::vector<std::string>{"sipedge", "--lcores=0@0,1@1", "--no-huge",
                                                     "--socket-mem=64", "-a", "0000:03:00.0"}));
}

TEST(EalArgv, NoSeparator) {
    DataplaneSettings d;
    d.ports[0].ip = 0xc0000201;  // no device: DPDK port 0 from the command line (none here)
    Argv a({"sipedge", "--config", "f"});
    EalArgv e(d, a.argc(), a.argv(), a.argc());
    EXPECT_EQ(words_of(e), (std::vector<std::string>{"sipedge"}));
}

}  // namespace
}  // namespace sipedge::ctl
