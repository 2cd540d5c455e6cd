// The worker's operations counters (issue 12, suite 'dp'; real EAL, --no-huge,
// two lcores, two ethdevs made of rte_rings): UDP checksums per port — a
// field holding the pseudo-header partial sum (a veth peer's CHECKSUM_PARTIAL
// read through net_af_packet) accepted and counted on a port in
// verify_partial mode only, genuinely bad checksums dropped everywhere, the
// PMD's per-packet verdict (RTE_MBUF_F_RX_L4_CKSUM_*) honoured, the global
// off switch; and the busy/idle cycle counters: monotonic, idle while
// nothing arrives, busy when packets do, running()/has_routes().
// Exits 77 (skip) when the EAL cannot start.

#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_launch.h>

#include "dataplane/inet.h"
#include "dataplane/proxy_types.h"
#include "dataplane/worker.h"
#include "tests/dataplane/ring_eal.h"

namespace sipedge::dp {
namespace {

using test::Bytes;
using test::mac_of;

constexpr uint32_t edge0 = 0x0a000001, peer0 = 0x0a000003;  // 10.0.0.x on port 0
constexpr uint32_t edge1 = 0x0a010001, peer1 = 0x0a010002;  // 10.1.0.x on port 1

rte_mempool* g_pool = nullptr;
test::RingPort g_p0, g_p1;
unsigned g_lcore = 0;

enum class Csum { full, partial, corrupt };

// A UDP datagram "hello" from <src>:5061 to <dst>:5060 with a full checksum,
// the sender's pseudo-header partial sum (what a veth peer leaves), or a
// wrong one.
Bytes udp_frame(const MacAddr& to, uint32_t src, uint32_t dst, Csum c) {
    const std::string payload = "hello";
    Bytes f(eth_hdr_len + ipv4_hdr_len + udp_hdr_len + payload.size());
    EthHdr e{};
    e.dst = to;
    e.src = mac_of(9);
    e.type = be16(ethertype_ipv4);
    std::memcpy(f.data(), &e, sizeof(e));
    std::memcpy(f.data() + eth_hdr_len + ipv4_hdr_len + udp_hdr_len, payload.data(), payload.size());
    build_ipv4_udp(f.data() + eth_hdr_len, src, 5061, dst, 5060, payload.size(), 7);
    uint8_t* field = f.data() + eth_hdr_len + ipv4_hdr_len + 6;
    if (c != Csum::full) {
        uint16_t v = udp_partial_csum(src, dst, udp_hdr_len + payload.size());
        if (c == Csum::corrupt) v ^= 0x0100;
        std::memcpy(field, &v, 2);
    }
    return f;
}

// Enqueues <f> for the worker on <p> with RX offload flags <ol_flags>.
bool inject(const test::RingPort& p, const Bytes& f, uint64_t ol_flags = 0) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    if (!m) return false;
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
    m->port = p.port_id;
    m->ol_flags |= ol_flags;
    if (rte_ring_enqueue(p.rx, m) == 0) return true;
    rte_pktmbuf_free(m);
    return false;
}

class WorkerOps : public ::testing::Test {
protected:
    void start(bool rx_udp_csum = true) {
        if (!g_pool) GTEST_SKIP() << "no EAL";
        routes_ptr_.store(&routes_);
        WorkerConfig wc;
        wc.ports[0].port_id = g_p0.port_id;
        wc.ports[0].ip = edge0;
        wc.ports[0].mac = g_p0.mac;
        wc.ports[0].rx_csum = RxCsum::verify_partial;  // what sipedge gives net_af_packet
        wc.ports[1].port_id = g_p1.port_id;
        wc.ports[1].ip = edge1;
        wc.ports[1].mac = g_p1.mac;
        wc.ports[1].rx_csum = RxCsum::verify;          // any other PMD
        wc.nports = 2;
        wc.rx_udp_csum = rx_udp_csum;
        ProxyConfig pc;
        pc.max_txns = 64;
        WorkerLinks links;
        links.routes = &routes_ptr_;
        w_ = new Worker();
        ASSERT_TRUE(w_->init(wc, pc, g_pool, links));
        stop_ = false;
        ASSERT_EQ(rte_eal_remote_launch(&WorkerOps::run, this, g_lcore), 0);
    }
    void TearDown() override {
        if (!w_) return;
        stop();
        test::collect(g_p0, 0);
        test::collect(g_p1, 0);
        delete w_;
        w_ = nullptr;
    }
    void stop() {
        if (stopped_) return;
        stop_ = true;
        rte_eal_wait_lcore(g_lcore);
        stopped_ = true;
    }
    // Waits (at most 2 s) until the worker has taken <n> packets in and
    // finished the loop iteration that handled them: two more iterations
    // counted (busy or idle) after the packets were, not a fixed sleep.
    void settle(uint64_t n) {
        for (int i = 0; i < 2000 && w_->stats().rx_packets < n; i++) usleep(1000);
        const auto polls = [this] { return w_->stats().busy_polls + w_->stats().idle_polls; };
        const uint64_t seen = polls();
        for (int i = 0; i < 2000 && polls() < seen + 2; i++) usleep(100);
    }
    static int run(void* arg) {
        auto* t = static_cast<WorkerOps*>(arg);
        t->w_->run(t->stop_);
        return 0;
    }
    Routes routes_{};
    std::atomic<const Routes*> routes_ptr_{nullptr};
    std::atomic<bool> stop_{false};
    bool stopped_ = false;
    Worker* w_ = nullptr;
};

TEST_F(WorkerOps, PartialChecksumsAreAcceptedOnlyWhereThePortSaysSo) {
    start();
    ASSERT_TRUE(inject(g_p0, udp_frame(g_p0.mac, peer0, edge0, Csum::partial)));
    ASSERT_TRUE(inject(g_p0, udp_frame(g_p0.mac, peer0, edge0, Csum::corrupt)));
    ASSERT_TRUE(inject(g_p0, udp_frame(g_p0.mac, peer0, edge0, Csum::full)));
    ASSERT_TRUE(inject(g_p1, udp_frame(g_p1.mac, peer1, edge1, Csum::partial)));
    ASSERT_TRUE(inject(g_p1, udp_frame(g_p1.mac, peer1, edge1, Csum::full)));
    settle(5);
    stop();
    const WorkerStats& s = w_->stats();
    EXPECT_EQ(s.rx_packets, 5u);
    EXPECT_EQ(s.udp_rx, 3u);  // partial on port 0, the two full ones
    EXPECT_EQ(s.drops[size_t(DropReason::udp_bad_csum)], 2u);  // corrupt on 0, partial on 1
    EXPECT_EQ(s.rx_udp_csum_partial, 1u);
    EXPECT_EQ(s.port_udp_csum_partial[0], 1u);
    EXPECT_EQ(s.port_udp_csum_partial[1], 0u);
    Endpoint from;
    bool flagged = true;
    ASSERT_TRUE(w_->first_partial(0, from, flagged));
    EXPECT_EQ(from.ip, peer0);
    EXPECT_EQ(from.port, 5061);
    EXPECT_FALSE(flagged);
    EXPECT_FALSE(w_->first_partial(1, from, flagged));
}

// The PMD's verdict: GOOD and NONE are not summed again (NONE counted as
// partial, flagged), BAD and UNKNOWN take the port's own check.
TEST_F(WorkerOps, ThePmdsVerdictIsHonoured) {
    start();
    ASSERT_TRUE(inject(g_p1, udp_frame(g_p1.mac, peer1, edge1, Csum::partial), RTE_MBUF_F_RX_L4_CKSUM_NONE));
    ASSERT_TRUE(inject(g_p1, udp_frame(g_p1.mac, peer1, edge1, Csum::corrupt), RTE_MBUF_F_RX_L4_CKSUM_GOOD));
    ASSERT_TRUE(inject(g_p1, udp_frame(g_p1.mac, peer1, edge1, Csum::full), RTE_MBUF_F_RX_L4_CKSUM_BAD));
    ASSERT_TRUE(inject(g_p1, udp_frame(g_p1.mac, peer1, edge1, Csum::corrupt), RTE_MBUF_F_RX_L4_CKSUM_BAD));
    ASSERT_TRUE(inject(g_p0, udp_frame(g_p0.mac, peer0, edge0, Csum::partial), RTE_MBUF_F_RX_L4_CKSUM_BAD));
    settle(5);
    stop();
    const WorkerStats& s = w_->stats();
    EXPECT_EQ(s.udp_rx, 4u);
    EXPECT_EQ(s.drops[size_t(DropReason::udp_bad_csum)], 1u);  // BAD and really bad, on port 1
    EXPECT_EQ(s.port_udp_csum_partial[1], 1u);                 // NONE
    EXPECT_EQ(s.port_udp_csum_partial[0], 1u);                 // BAD, recognised as partial
    Endpoint from;
    bool flagged = false;
    ASSERT_TRUE(w_->first_partial(1, from, flagged));
    EXPECT_TRUE(flagged);
    EXPECT_EQ(from.ip, peer1);
}

TEST_F(WorkerOps, TheGlobalSwitchTurnsEveryCheckOff) {
    start(false);
    ASSERT_TRUE(inject(g_p0, udp_frame(g_p0.mac, peer0, edge0, Csum::corrupt)));
    ASSERT_TRUE(inject(g_p1, udp_frame(g_p1.mac, peer1, edge1, Csum::partial)));
    settle(2);
    stop();
    EXPECT_EQ(w_->stats().udp_rx, 2u);
    EXPECT_EQ(w_->stats().drops[size_t(DropReason::udp_bad_csum)], 0u);
    EXPECT_EQ(w_->stats().rx_udp_csum_partial, 0u);  // not checked, not told apart
}

TEST_F(WorkerOps, BusyAndIdleCyclesAreMonotonicAndFollowTheTraffic) {
    const uint64_t t0 = rte_rdtsc();
    start();
    for (int i = 0; i < 1000 && !w_->running(); i++) usleep(1000);
    ASSERT_TRUE(w_->running());
    EXPECT_TRUE(w_->has_routes());
    // Nothing arrives: the loop spins idle; every sample at least the last.
    WorkerStats prev = w_->stats();
    for (int i = 0; i < 20; i++) {
        usleep(2000);
        const WorkerStats cur = w_->stats();
        EXPECT_GE(cur.busy_cycles, prev.busy_cycles);
        EXPECT_GE(cur.idle_cycles, prev.idle_cycles);
        EXPECT_GE(cur.busy_polls, prev.busy_polls);
        EXPECT_GE(cur.idle_polls, prev.idle_polls);
        prev = cur;
    }
    const WorkerStats quiet = w_->stats();
    EXPECT_GT(quiet.idle_cycles, 0u);
    EXPECT_GT(quiet.idle_polls, 0u);
    EXPECT_EQ(quiet.busy_cycles, 0u);  // no packet, no ARP, no timer that sent anything
    // Traffic: busy grows, and so does the total.
    for (int i = 0; i < 50; i++) ASSERT_TRUE(inject(g_p0, udp_frame(g_p0.mac, peer0, edge0, Csum::full)));
    settle(50);
    const WorkerStats busy = w_->stats();
    EXPECT_GT(busy.busy_cycles, quiet.busy_cycles);
    EXPECT_GT(busy.busy_polls, 0u);
    EXPECT_LE(busy.busy_polls, 50u);  // at least one packet per busy iteration
    EXPECT_GE(busy.idle_cycles, quiet.idle_cycles);
    stop();
    EXPECT_FALSE(w_->running());
    // Every cycle counted happened while we watched (no double counting).
    const WorkerStats& end = w_->stats();
    EXPECT_LE(end.busy_cycles + end.idle_cycles, rte_rdtsc() - t0);
    EXPECT_EQ(end.busy_polls + end.idle_polls > 20, true);
}

}  // namespace
}  // namespace sipedge::dp

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    using namespace sipedge::dp;
    if (!test::eal_up("wops", "0-1")) return 77;
    g_lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    g_pool = make_pktmbuf_pool("wops_mbufs", 4095);
    if (g_lcore >= RTE_MAX_LCORE || !g_pool || !test::ring_port("wops0", g_pool, g_p0) ||
        !test::ring_port("wops1", g_pool, g_p1)) {
        std::fprintf(stderr, "SKIP: no second lcore / pool / ring ports\n");
        test::eal_down();
        return 77;
    }
    const int rc = RUN_ALL_TESTS();
    port_stop(g_p0.port_id);
    port_stop(g_p1.port_id);
    test::eal_down();
    return rc;
}
