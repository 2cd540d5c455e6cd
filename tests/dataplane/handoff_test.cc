// Cross-core handoff (dataplane/handoff.h) and RSS port setup (rss.h) on a
// real EAL with two lcores (-l 0-1, --no-huge, a net_null vdev). Exits 77
// (skip) when the EAL cannot start. Loops are bounded in count and time.

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/branch.h"
#include "dataplane/handoff.h"
#include "dataplane/rss.h"
#include "dataplane/stats_types.h"
#include "tests/eal_scope.h"

namespace sipedge::dp {
namespace {

rte_mempool* g_pool = nullptr;
constexpr unsigned pool_size = 8191;
unsigned g_worker_lcore = RTE_MAX_LCORE;  // the second lcore

rte_mbuf* msg(uint32_t seq) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    if (m) std::memcpy(rte_pktmbuf_append(m, sizeof(seq)), &seq, sizeof(seq));
    return m;
}
uint32_t seq_of(const rte_mbuf* m) {
    uint32_t s;
    std::memcpy(&s, rte_pktmbuf_mtod(m, const void*), sizeof(s));
    return s;
}

class HandoffTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!g_pool) GTEST_SKIP() << "EAL not started";
        ASSERT_EQ(rte_mempool_avail_count(g_pool), pool_size);
    }
    void TearDown() override {
        if (!g_pool) return;
        ho.destroy();
        EXPECT_EQ(rte_mempool_avail_count(g_pool), pool_size) << "mbuf leak";
    }
    Handoff ho;
};

// The consumer side, run on the second lcore: drains ring <core> until it has
// <want> packets or 5 s pass, recording each sequence number.
struct Consumer {
    Handoff* ho;
    uint16_t core;
    uint32_t want;
    std::vector<uint32_t> seen;
    std::atomic<bool> started{false};
};

int consume(void* arg) {
    auto* c = static_cast<Consumer*>(arg);
    c->started.store(true);
    const uint64_t deadline = rte_get_timer_cycles() + 5 * rte_get_timer_hz();
    while (c->seen.size() < c->want && rte_get_timer_cycles() < deadline) {
        c->ho->drain(c->core, 32, [&](rte_mbuf* m) {
            c->seen.push_back(seq_of(m));
            rte_pktmbuf_free(m);
        });
    }
    return 0;
}

TEST_F(HandoffTest, ProducerOnOneLcoreConsumerOnTheOtherEachMessageOnce) {
    if (g_worker_lcore >= RTE_MAX_LCORE) GTEST_SKIP() << "needs two lcores";
    ASSERT_TRUE(ho.init(2, 1024, "ho_t1"));
    constexpr uint32_t n = 50000;
    Consumer c{&ho, 1, n, {}};
    c.seen.reserve(n);
    ASSERT_EQ(rte_eal_remote_launch(consume, &c, g_worker_lcore), 0);
    WorkerStats producer;
    const uint64_t deadline = rte_get_timer_cycles() + 5 * rte_get_timer_hz();
    uint32_t sent = 0;
    while (sent < n && rte_get_timer_cycles() < deadline) {
        // One producer: free room seen here cannot shrink before we push.
        if (rte_ring_free_count(ho.ring(1)) == 0) {
            rte_pause();
            continue;
        }
        rte_mbuf* m = msg(sent);
        if (!m) {  // the consumer has not freed enough yet
            rte_pause();
            continue;
        }
        ASSERT_TRUE(ho.push(1, m, producer));
        sent++;
    }
    rte_eal_wait_lcore(g_worker_lcore);
    EXPECT_EQ(sent, n);
    ASSERT_EQ(c.seen.size(), n);
    for (uint32_t i = 0; i < n; i++) ASSERT_EQ(c.seen[i], i) << "each once, in order";
    EXPECT_EQ(producer.drops_total(), 0u);
}

// Two producers (both lcores) into one ring: the multi-producer side.
struct Producer {
    Handoff* ho;
    uint32_t base, n;
    WorkerStats st;
    uint32_t sent = 0;
};

int produce(void* arg) {
    auto* p = static_cast<Producer*>(arg);
    const uint64_t deadline = rte_get_timer_cycles() + 5 * rte_get_timer_hz();
    while (p->sent < p->n && rte_get_timer_cycles() < deadline) {
        rte_mbuf* m = msg(p->base + p->sent);
        if (!m) break;
        if (!p->ho->push(0, m, p->st)) break;  // ring sized for all: must not be full
        p->sent++;
    }
    return 0;
}

TEST_F(HandoffTest, TwoProducersOneConsumerLoseNothing) {
    if (g_worker_lcore >= RTE_MAX_LCORE) GTEST_SKIP() << "needs two lcores";
    constexpr uint32_t each = 3000;
    ASSERT_TRUE(ho.init(1, 8192, "ho_t2"));
    Producer a{&ho, 0, each, {}}, b{&ho, each, each, {}};
    ASSERT_EQ(rte_eal_remote_launch(produce, &b, g_worker_lcore), 0);
    produce(&a);
    rte_eal_wait_lcore(g_worker_lcore);
    EXPECT_EQ(a.sent + b.sent, 2 * each);
    std::vector<int> count(2 * each, 0);
    uint32_t last_a = 0, last_b = each, got = 0;
    bool order_ok = true;
    while (ho.drain(0, 64, [&](rte_mbuf* m) {
        const uint32_t s = seq_of(m);
        if (s < 2 * each) count[s]++;
        uint32_t& last = s < each ? last_a : last_b;
        order_ok &= s >= last;  // each producer's packets stay in its order
        last = s;
        got++;
        rte_pktmbuf_free(m);
    }) > 0) {
    }
    EXPECT_EQ(got, 2 * each);
    EXPECT_TRUE(order_ok);
    for (uint32_t s = 0; s < 2 * each; s++) ASSERT_EQ(count[s], 1) << s;
}

TEST_F(HandoffTest, FullRingCountsAndFrees) {
    ASSERT_TRUE(ho.init(2, 8, "ho_t3"));
    WorkerStats st;
    for (uint32_t i = 0; i < 7; i++) ASSERT_TRUE(ho.push(0, msg(i), st));
    EXPECT_FALSE(ho.push(0, msg(7), st));  // 8 slots hold 7
    EXPECT_FALSE(ho.push(5, msg(8), st));  // no such worker
    EXPECT_EQ(st.drops[size_t(DropReason::handoff_full)], 2u);
    rte_mbuf* burst[4] = {msg(10), msg(11), msg(12), msg(13)};
    EXPECT_EQ(ho.push_burst(1, burst, 4, st), 4);
    rte_mbuf* more[6] = {msg(20), msg(21), msg(22), msg(23), msg(24), msg(25)};
    EXPECT_EQ(ho.push_burst(1, more, 6, st), 3);  // 3 of 6 fit
    EXPECT_EQ(st.drops[size_t(DropReason::handoff_full)], 5u);
    std::vector<uint32_t> got;
    ho.drain(1, 64, [&](rte_mbuf* m) {
        got.push_back(seq_of(m));
        rte_pktmbuf_free(m);
    });
    EXPECT_EQ(got, (std::vector<uint32_t>{10, 11, 12, 13, 20, 21, 22}));
    // Ring 0 still holds 7: destroy() (TearDown) must free them.
}

TEST_F(HandoffTest, BadSizesAreRefused) {
    Handoff h;
    EXPECT_FALSE(h.init(0, 1024, "ho_bad0"));
    EXPECT_FALSE(h.init(2, 1000, "ho_bad1"));  // not a power of two
    EXPECT_FALSE(h.init(Handoff::max_workers + 1, 1024, "ho_bad2"));
    ASSERT_TRUE(h.init(1, 64, "ho_dup"));
    Handoff same;
    EXPECT_FALSE(same.init(1, 64, "ho_dup"));  // ring names are process-wide
}

std::string response_with(const std::string& via_lines) {
    return "SIP/2.0 200 OK\r\n" + via_lines +
           "From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c1\r\n"
           "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
}
std::string branch_for(uint8_t core) {
    char b[branch_len];
    encode_branch(BranchId{.slot = 77, .nonce = 0xabcdef01, .generation = 3, .core = core,
                           .attempt = 1},
                  b);
    return std::string(b, branch_len);
}
int owner(const std::string& s) {
    std::vector<char> exact(s.begin(), s.end());  // no terminator past the end
    return response_owner(exact.data(), exact.size());
}

TEST(ViaOwner, TopViaBranchNamesTheCore) {
    const std::string b3 = branch_for(3), b1 = branch_for(1);
    EXPECT_EQ(owner(response_with("Via: SIP/2.0/UDP 192.0.2.10:5060;branch=" + b3 +
                                  ";rport=5060\r\nVia: SIP/2.0/UDP 192.0.2.21;branch=z9hG4bKx\r\n")),
              3);
    // Compact name, odd case and spacing, a received param first.
    EXPECT_EQ(owner(response_with("v : SIP/2.0/UDP 192.0.2.10 ;received=1.2.3.4 ; BRANCH = " + b1 +
                                  "\r\n")),
              1);
    // Bare LF line ends.
    EXPECT_EQ(owner("SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP h;branch=" + b1 + "\n\n"), 1);
    EXPECT_EQ(owner(response_with("Via: SIP/2.0/UDP h;branch=" + branch_for(control_core) + "\r\n")),
              owner_control);
}

TEST(ViaOwner, OnlyTheFirstValueOfTheFirstViaCounts) {
    const std::string b2 = branch_for(2);
    EXPECT_EQ(owner(response_with("Via: SIP/2.0/UDP a;branch=z9hG4bKforeign, SIP/2.0/UDP b;branch=" +
                                  b2 + "\r\n")),
              owner_none);
    EXPECT_EQ(owner(response_with("Via: SIP/2.0/UDP a;branch=z9hG4bKforeign\r\nVia: SIP/2.0/UDP "
                                  "b;branch=" + b2 + "\r\n")),
              owner_none);
    // Headers before the Via whose names start like it do not confuse the scan.
    EXPECT_EQ(owner("SIP/2.0 200 OK\r\nVian: x;branch=z9hG4bKno\r\nV: SIP/2.0/UDP a;branch=" + b2 +
                    "\r\n\r\n"),
              2);
    // A quoted ';branch=' inside another param is not the branch.
    EXPECT_EQ(owner(response_with("Via: SIP/2.0/UDP a;x=\";branch=" + b2 + "\";branch=z9hG4bKq\r\n")),
              owner_none);
}

TEST(ViaOwner, ForeignOrMissingBranchesAndRequestsStayLocal) {
    EXPECT_EQ(owner(response_with("Via: SIP/2.0/UDP a;branch=z9hG4bK776asdhds\r\n")), owner_none);
    EXPECT_EQ(owner(response_with("Via: SIP/2.0/UDP a;rport\r\n")), owner_none);
    EXPECT_EQ(owner(response_with("")), owner_none);  // no Via at all
    std::string upper = branch_for(4);
    for (char& ch : upper) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    EXPECT_EQ(owner(response_with("Via: SIP/2.0/UDP a;branch=" + upper + "\r\n")), owner_none);
    const std::string req = "BYE sip:b@y SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=" + branch_for(4) +
                            "\r\n\r\n";
    EXPECT_EQ(owner(req), owner_none);
    EXPECT_EQ(via_branch_owner(req.data(), req.size()), 4);  // e.g. quoted in an ICMP error
}

TEST(ViaOwner, EveryPrefixIsSafe) {
    const std::string full = response_with("Via: SIP/2.0/UDP a;branch=" + branch_for(5) + "\r\n");
    for (size_t n = 0; n <= full.size(); n++) {
        std::vector<char> cut(full.begin(), full.begin() + long(n));
        const int o = response_owner(cut.data(), cut.size());
        EXPECT_TRUE(o == owner_none || o == 5) << n;
    }
    EXPECT_EQ(owner(full), 5);
}

TEST(FragmentOwner, StableAndInRange) {
    for (uint16_t w : {1, 2, 3, 8}) {
        std::vector<int> hits(w, 0);
        for (uint32_t i = 0; i < 4096; i++) {
            const uint16_t o = fragment_owner(0xc0000200 + i, 0xc000020a, w);
            ASSERT_LT(o, w);
            ASSERT_EQ(o, fragment_owner(0xc0000200 + i, 0xc000020a, w));
            hits[o]++;
        }
        for (int h : hits) EXPECT_GT(h, 4096 / w / 2) << "spread over " << w;
    }
}

// net_null hashes like a NIC (RETA + Toeplitz over the fields asked for).
TEST_F(HandoffTest, RssConfigOnNetNullWithTwoQueues) {
    uint16_t port = RTE_MAX_ETHPORTS;
    uint16_t pid;
    RTE_ETH_FOREACH_DEV(pid) port = pid;
    if (port == RTE_MAX_ETHPORTS) GTEST_SKIP() << "no net_null port";
    rte_eth_conf conf;
    std::memset(&conf, 0, sizeof(conf));
    uint64_t hf = 0;
    ASSERT_TRUE(rss_port_conf(port, 2, conf, &hf));
    EXPECT_EQ(conf.rxmode.mq_mode, RTE_ETH_MQ_RX_RSS);
    EXPECT_NE(hf & RTE_ETH_RSS_NONFRAG_IPV4_UDP, 0u);
    EXPECT_NE(hf & RTE_ETH_RSS_FRAG_IPV4, 0u);
    EXPECT_EQ(hf & ~rss_wanted_hf(), 0u);
    ASSERT_EQ(rte_eth_dev_configure(port, 2, 2, &conf), 0);
    for (uint16_t q = 0; q < 2; q++) {
        ASSERT_EQ(rte_eth_rx_queue_setup(port, q, 64, SOCKET_ID_ANY, nullptr, g_pool), 0);
        ASSERT_EQ(rte_eth_tx_queue_setup(port, q, 64, SOCKET_ID_ANY, nullptr), 0);
    }
    ASSERT_EQ(rte_eth_dev_start(port), 0);
    rte_eth_rss_conf got{};
    uint8_t key[64];
    got.rss_key = key;
    got.rss_key_len = sizeof(key);
    ASSERT_EQ(rte_eth_dev_rss_hash_conf_get(port, &got), 0);
    EXPECT_EQ(got.rss_hf & hf, hf);
    EXPECT_EQ(rte_eth_dev_stop(port), 0);

    rte_eth_conf one;
    std::memset(&one, 0, sizeof(one));
    ASSERT_TRUE(rss_port_conf(port, 1, one, &hf));
    EXPECT_EQ(one.rxmode.mq_mode, RTE_ETH_MQ_RX_NONE);
    EXPECT_EQ(hf, 0u);
    EXPECT_FALSE(rss_port_conf(port, 0, one));
    EXPECT_FALSE(rss_port_conf(RTE_MAX_ETHPORTS - 1, 2, one));
}

}  // namespace
}  // namespace sipedge::dp

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!sipedge::test::eal_up("sipedge_handoff_", "0-1", {"--vdev=net_null0"}, "256")) return 77;
    using namespace sipedge::dp;
    g_worker_lcore = rte_get_next_lcore(-1, 1, 0);
    g_pool = rte_pktmbuf_pool_create("ho_pool", pool_size, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     int(rte_socket_id()));
    if (!g_pool) {
        std::fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
        sipedge::test::eal_down();
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    uint16_t pid;
    RTE_ETH_FOREACH_DEV(pid) rte_eth_dev_close(pid);
    sipedge::test::eal_down();
    return rc;
}
