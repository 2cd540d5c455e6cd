// One worker on two ports (issue 6, suite 'dp'; real EAL, --no-huge, two
// lcores, each port an ethdev made of two rte_rings): port 0 untagged on
// 10.0.0.1/24 (access side), port 1 in VLAN 100 on 10.1.0.1/24 (carrier
// side). ARP is answered per port, tagged on the VLAN port; frames without
// the port's tag (or with another one) are dropped as vlan_mismatch; an
// address of the other port is not ours on this one; a carrier INVITE that
// arrives tagged on port 1 leaves untagged by port 0 from 10.0.0.1 with a
// double Record-Route, while its 100 Trying goes back tagged on port 1.
// Exits 77 (skip) when the EAL cannot start.

#include <atomic>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <algorithm>
#include <rte_launch.h>

#include "dataplane/access_policy.h"
#include "dataplane/inet.h"
#include "dataplane/proxy_types.h"
#include "dataplane/worker.h"
#include "tests/dataplane/ring_eal.h"

namespace sipedge::dp {
namespace {

using test::mac_of;

using test::Bytes;

constexpr uint32_t access_edge = 0x0a000001, access_peer = 0x0a000003;   // 10.0.0.x
constexpr uint32_t carrier_edge = 0x0a010001, carrier_peer = 0x0a010002; // 10.1.0.x
constexpr uint16_t vid = 100;

rte_mempool* g_pool = nullptr;
test::RingPort g_p0, g_p1;
unsigned g_lcore = 0;

// <f> with an 802.1Q tag for <id> inserted after the MACs.
Bytes tagged(const Bytes& f, uint16_t id) {
    Bytes t(f.size() + 4);
    std::memcpy(t.data(), f.data(), 12);
    t[12] = 0x81;
    t[13] = 0x00;
    t[14] = uint8_t(id >> 8);
    t[15] = uint8_t(id);
    std::memcpy(t.data() + 16, f.data() + 12, f.size() - 12);
    return t;
}

// The VLAN id of frame <f>; -1 when untagged.
int vlan_of(const Bytes& f) {
    if (f.size() < 18 || f[12] != 0x81 || f[13] != 0x00) return -1;
    return (f[14] << 8 | f[15]) & 0xfff;
}

// <f> without its tag (as is when untagged).
Bytes untag(const Bytes& f) {
    if (vlan_of(f) < 0) return f;
    Bytes u(f.size() - 4);
    std::memcpy(u.data(), f.data(), 12);
    std::memcpy(u.data() + 12, f.data() + 16, f.size() - 16);
    return u;
}

Bytes arp_request(uint32_t from, const MacAddr& mac, uint32_t target) {
    return test::arp_frame(1, from, mac, target, MacAddr{});
}

// A UDP datagram from <src>:5060 to <dst>:5060 carrying <payload>.
Bytes udp_frame(const MacAddr& from, const MacAddr& to, uint32_t src, uint32_t dst,
                const std::string& payload) {
    Bytes f(eth_hdr_len + ipv4_hdr_len + udp_hdr_len + payload.size());
    EthHdr e{};
    e.dst = to;
    e.src = from;
    e.type = be16(ethertype_ipv4);
    std::memcpy(f.data(), &e, sizeof(e));
    std::memcpy(f.data() + eth_hdr_len + ipv4_hdr_len + udp_hdr_len, payload.data(), payload.size());
    build_ipv4_udp(f.data() + eth_hdr_len, src, 5060, dst, 5060, payload.size(), 7);
    return f;
}

struct Ip4Udp {
    uint32_t src = 0, dst = 0;
    std::string payload;
};
// The IPv4/UDP content of untagged frame <f>; false when it is something else.
// Removes from <frames> the ARP requests the worker sent for <target> on its
// own (Worker::prime_next_hops: a trunk server's next hop resolved ahead of
// traffic, tagged with <vid> or -1); returns how many. Each must be a
// broadcast request from <spa>.
size_t take_primes(std::vector<Bytes>& frames, uint32_t target, uint32_t spa, int vid) {
    size_t n = 0;
    for (auto it = frames.begin(); it != frames.end();) {
        const Bytes f = untag(*it);
        ArpPkt a;
        if (f.size() < eth_hdr_len + arp_pkt_len || f[12] != 0x08 || f[13] != 0x06) {
            ++it;
            continue;
        }
        std::memcpy(&a, f.data() + eth_hdr_len, sizeof(a));
        if (be16(a.op) != 1 || be32(a.tpa) != target) {
            ++it;
            continue;
        }
        EXPECT_EQ(be32(a.spa), spa);
        EXPECT_EQ(vlan_of(*it), vid);
        EXPECT_TRUE(std::all_of(f.begin(), f.begin() + 6, [](uint8_t b) { return b == 0xff; }));
        it = frames.erase(it);
        n++;
    }
    return n;
}

bool ip4udp(const Bytes& f, Ip4Udp& out) {
    EthHdr e;
    if (f.size() < eth_hdr_len + ipv4_hdr_len + udp_hdr_len) return false;
    std::memcpy(&e, f.data(), sizeof(e));
    if (be16(e.type) != ethertype_ipv4) return false;
    Ipv4Hdr h;
    std::memcpy(&h, f.data() + eth_hdr_len, sizeof(h));
    if (h.proto != ipproto_udp) return false;
    out.src = be32(h.src);
    out.dst = be32(h.dst);
    const size_t off = eth_hdr_len + ipv4_hdr_len + udp_hdr_len;
    out.payload.assign(f.begin() + off, f.begin() + eth_hdr_len + be16(h.total_len));
    return true;
}

class WorkerPorts : public ::testing::Test {
protected:
    void SetUp() override {
        if (!g_pool) GTEST_SKIP() << "no EAL";
        routes_.access = {access_peer, 5060};
        routes_.carrier_count = 1;
        routes_.carriers = &carrier_peer;
        routes_ptr_.store(&routes_);
        WorkerConfig wc;
        wc.ports[0].port_id = g_p0.port_id;
        wc.ports[0].ip = access_edge;
        wc.ports[0].mac = g_p0.mac;
        wc.ports[1].port_id = g_p1.port_id;
        wc.ports[1].ip = carrier_edge;
        wc.ports[1].mac = g_p1.mac;
        wc.ports[1].vlan = vid;
        wc.nports = 2;
        ProxyConfig pc;
        pc.max_txns = 256;
        WorkerLinks links;
        links.routes = &routes_ptr_;
        w_ = new Worker();
        ASSERT_TRUE(w_->init(wc, pc, g_pool, links));
        stop_ = false;
        ASSERT_EQ(rte_eal_remote_launch(&WorkerPorts::run, this, g_lcore), 0);
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
    static int run(void* arg) {
        auto* t = static_cast<WorkerPorts*>(arg);
        t->w_->run(t->stop_);
        return 0;
    }
    Routes routes_{};
    std::atomic<const Routes*> routes_ptr_{nullptr};
    std::atomic<bool> stop_{false};
    bool stopped_ = false;
    Worker* w_ = nullptr;
};

TEST_F(WorkerPorts, ArpIsAnsweredPerPortAndTaggedOnTheVlanPort) {
    ASSERT_TRUE(test::inject(g_pool, g_p0, arp_request(access_peer, mac_of(3), access_edge)));
    ASSERT_TRUE(test::inject(g_pool, g_p1, tagged(arp_request(carrier_peer, mac_of(2), carrier_edge), vid)));
    auto out0 = test::collect(g_p0, 30);
    auto out1 = test::collect(g_p1, 30);
    // The carrier's next hop may have been primed before its own request
    // taught us its MAC (a request aimed at us creates the entry).
    const size_t primes = take_primes(out1, carrier_peer, carrier_edge, vid);
    EXPECT_LE(primes, 1u);
    ASSERT_EQ(out0.size(), 1u);
    ASSERT_EQ(out1.size(), 1u);
    EXPECT_EQ(vlan_of(out0[0]), -1);
    EXPECT_EQ(vlan_of(out1[0]), vid);
    for (auto [f, ip, mac] : {std::tuple{untag(out0[0]), access_edge, g_p0.mac},
                              std::tuple{untag(out1[0]), carrier_edge, g_p1.mac}}) {
        ASSERT_EQ(f.size(), eth_hdr_len + arp_pkt_len);
        ArpPkt a;
        std::memcpy(&a, f.data() + eth_hdr_len, sizeof(a));
        EXPECT_EQ(be16(a.op), 2);
        EXPECT_EQ(be32(a.spa), ip);
        EXPECT_TRUE(a.sha == mac);
    }
    stop();
    EXPECT_EQ(w_->stats().port_rx[0], 1u);
    EXPECT_EQ(w_->stats().port_rx[1], 1u);
    EXPECT_EQ(w_->stats().port_tx[0], 1u);
    EXPECT_EQ(w_->stats().port_tx[1], 1u + primes);
    EXPECT_EQ(w_->stats().arp_primed, primes);
    EXPECT_EQ(w_->stats().drops_total(), 0u);
}

TEST_F(WorkerPorts, WrongOrMissingTagsAndTheOtherPortsAddressAreDropped) {
    const Bytes req = arp_request(carrier_peer, mac_of(2), carrier_edge);
    ASSERT_TRUE(test::inject(g_pool, g_p1, req));                 // untagged on the VLAN port
    ASSERT_TRUE(test::inject(g_pool, g_p1, tagged(req, 200)));    // another VLAN
    ASSERT_TRUE(test::inject(g_pool, g_p0, tagged(arp_request(access_peer, mac_of(3), access_edge), vid)));
    // Port 0's address asked for on port 1 (strong host: not ours there).
    ASSERT_TRUE(test::inject(g_pool, g_p1, tagged(arp_request(carrier_peer, mac_of(2), access_edge), vid)));
    EXPECT_TRUE(test::collect(g_p0, 30).empty());
    // Nothing answered; the only frame on port 1 is the prime of the
    // carrier's next hop (no request from it was accepted), tagged.
    auto out1 = test::collect(g_p1, 30);
    EXPECT_EQ(take_primes(out1, carrier_peer, carrier_edge, vid), 1u);
    EXPECT_TRUE(out1.empty());
    stop();
    const WorkerStats& s = w_->stats();
    EXPECT_EQ(s.arp_primed, 1u);
    EXPECT_EQ(s.drops[size_t(DropReason::vlan_mismatch)], 3u);
    EXPECT_EQ(s.drops[size_t(DropReason::arp_not_for_us)], 1u);
}

TEST_F(WorkerPorts, ACarrierInviteCrossesFromTheVlanPortToTheAccessPort) {
    ASSERT_TRUE(test::inject(g_pool, g_p0, arp_request(access_peer, mac_of(3), access_edge)));
    ASSERT_TRUE(test::inject(g_pool, g_p1, tagged(arp_request(carrier_peer, mac_of(2), carrier_edge), vid)));
    test::collect(g_p0, 20);
    test::collect(g_p1, 20);
    const std::string inv =
        "INVITE sip:1000@10.1.0.1:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.1.0.2:5060;branch=z9hG4bKports1\r\n"
        "Max-Forwards: 70\r\nTo: <sip:1000@10.1.0.1>\r\nFrom: <sip:carrier@10.1.0.2>;tag=77\r\n"
        "Call-ID: ports-1\r\nCSeq: 1 INVITE\r\nContact: <sip:carrier@10.1.0.2:5060>\r\n"
        "Content-Length: 0\r\n\r\n";
    ASSERT_TRUE(test::inject(g_pool, g_p1,
                             tagged(udp_frame(mac_of(2), g_p1.mac, carrier_peer, carrier_edge, inv), vid)));
    const auto out0 = test::collect(g_p0, 30);
    const auto out1 = test::collect(g_p1, 30);
    ASSERT_EQ(out0.size(), 1u);  // the INVITE, towards the access side
    ASSERT_EQ(out1.size(), 1u);  // 100 Trying, back to the carrier
    EXPECT_EQ(vlan_of(out0[0]), -1);
    EXPECT_EQ(vlan_of(out1[0]), vid);
    Ip4Udp fwd, trying;
    ASSERT_TRUE(ip4udp(out0[0], fwd));
    ASSERT_TRUE(ip4udp(untag(out1[0]), trying));
    EXPECT_EQ(fwd.src, access_edge);
    EXPECT_EQ(fwd.dst, access_peer);
    EXPECT_NE(fwd.payload.find("Via: SIP/2.0/UDP 10.0.0.1:5060;branch="), std::string::npos) << fwd.payload;
    // Both values carry the dialog's token (issue 16; the zero key of a default ProxyConfig).
    const uint64_t key[2] = {0, 0};
    char t[rr_token_len];
    rr_token_hex(rr_token(key, "ports-1", "77"), t);
    const std::string tok(t, rr_token_len);
    EXPECT_NE(fwd.payload.find("Record-Route: <sip:10.0.0.1:5060;lr;sx=" + tok + ">,<sip:10.1.0.1:5060;lr;sx=" +
                               tok + ">\r\n"),
              std::string::npos)
        << fwd.payload;
    EXPECT_EQ(trying.src, carrier_edge);
    EXPECT_EQ(trying.dst, carrier_peer);
    EXPECT_EQ(trying.payload.compare(0, 20, "SIP/2.0 100 Trying\r\n"), 0);
    stop();
    EXPECT_EQ(w_->stats().drops_total(), 0u);
}

}  // namespace
}  // namespace sipedge::dp

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    using namespace sipedge::dp;
    if (!test::eal_up("wports", "0-1")) return 77;
    g_lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    g_pool = make_pktmbuf_pool("wports_mbufs", 4095);
    if (g_lcore >= RTE_MAX_LCORE || !g_pool || !test::ring_port("wports0", g_pool, g_p0) ||
        !test::ring_port("wports1", g_pool, g_p1)) {
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
