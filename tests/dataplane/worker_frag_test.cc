// The worker's IPv4 fragment paths on a real EAL (--no-huge, two lcores, an
// ethdev made from two rte_rings, suite 'dp'): a ~4 KB INVITE that arrives in
// three fragments is reassembled, relayed (carrier side -> access) and leaves
// in fragments that reassemble to the relayed INVITE; the fragments of a
// datagram to a next hop not yet resolved wait together for the ARP reply.
// Exits 77 (skip) when the EAL cannot start.

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dataplane/inet.h"
#include "dataplane/port.h"
#include "dataplane/proxy_types.h"
#include "dataplane/worker.h"
#include "tests/dataplane/ring_eal.h"

namespace sipedge::dp {
namespace {

using test::mac_of;

constexpr uint32_t edge_ip = 0x0a000001, carrier_ip = 0x0a000002, access_ip = 0x0a000003;
using test::Bytes;

rte_mempool* g_pool = nullptr;
test::RingPort g_p;        // the worker's port: rx what it receives, tx what it sends
const MacAddr& g_mac = g_p.mac;  // the worker's
unsigned g_lcore = 0;

void inject(const Bytes& f) { ASSERT_TRUE(test::inject(g_pool, g_p, f)); }

// Frames the worker sent within <ms> (polled), as bytes.
std::vector<Bytes> collect(unsigned ms) { return test::collect(g_p, ms); }

Bytes arp_request_from(uint32_t ip, const MacAddr& mac) { return test::arp_frame(1, ip, mac, edge_ip, g_mac); }
Bytes arp_reply_from(uint32_t ip, const MacAddr& mac) { return test::arp_frame(2, ip, mac, edge_ip, g_mac); }

std::string invite(size_t body_len) {
    std::string body;
    for (size_t i = 0; i < body_len; i++) body += char('a' + i % 26);
    return "INVITE sip:1000@10.0.0.1:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKfrag" + std::to_string(body_len) + "\r\n"
           "Max-Forwards: 70\r\nTo: <sip:1000@10.0.0.1>\r\n"
           "From: <sip:carrier@10.0.0.2>;tag=77\r\nCall-ID: frag-" + std::to_string(body_len) + "\r\n"
           "CSeq: 1 INVITE\r\nContact: <sip:carrier@10.0.0.2:5060>\r\n"
           "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(body_len) +
           "\r\n\r\n" + body;
}

// The datagram <payload> from the carrier as IPv4 fragments of at most 1480
// payload bytes (the caller's kernel on a 1500 MTU).
std::vector<Bytes> fragments_from_carrier(const std::string& payload, uint16_t id) {
    return test::ipv4_fragments(carrier_ip, mac_of(2), edge_ip, g_mac, payload, id);
}

struct Datagram {
    uint32_t dst = 0;
    std::string payload;  // UDP payload
    size_t frames = 0;
};

// Reassembles what the worker sent to <dst> (IPv4 fragments or whole UDP
// datagrams), checking each fragment's header checksum and size.
std::vector<Datagram> datagrams_to(const std::vector<Bytes>& frames, uint32_t dst) {
    std::map<uint16_t, std::map<size_t, Bytes>> parts;  // ip id -> offset -> bytes
    std::map<uint16_t, bool> last_seen;
    std::vector<Datagram> out;
    for (const Bytes& f : frames) {
        EthHdr e;
        std::memcpy(&e, f.data(), sizeof(e));
        if (be16(e.type) != ethertype_ipv4) continue;
        const uint8_t* ip = f.data() + eth_hdr_len;
        Ipv4Hdr h;
        std::memcpy(&h, ip, sizeof(h));
        if (be32(h.dst) != dst) continue;
        EXPECT_EQ(csum_fold(csum_add(0, ip, ipv4_hdr_len)), 0) << "IPv4 header checksum";
        EXPECT_LE(be16(h.total_len), 1500u);
        const uint16_t fo = be16(h.frag);
        const size_t tot = be16(h.total_len);
        Bytes data(ip + ipv4_hdr_len, ip + tot);
        if ((fo & 0x3fff) == 0) {
            out.push_back({dst, std::string(data.begin() + udp_hdr_len, data.end()), 1});
            continue;
        }
        parts[h.id][size_t(fo & 0x1fff) * 8] = data;
        if (!(fo & 0x2000)) last_seen[h.id] = true;
    }
    for (auto& [id, p] : parts) {
        if (!last_seen[id]) continue;
        Bytes all;
        for (auto& [ofs, d] : p) {
            EXPECT_EQ(ofs, all.size()) << "hole or overlap";
            all.insert(all.end(), d.begin(), d.end());
        }
        out.push_back({dst, std::string(all.begin() + udp_hdr_len, all.end()), p.size()});
    }
    return out;
}

class WorkerFrag : public ::testing::Test {
protected:
    void SetUp() override {
        if (!g_pool) GTEST_SKIP() << "no EAL";
        routes_.access = {access_ip, 5060};
        routes_.carrier_count = 1;
        routes_.carriers = &carrier_ip;
        routes_ptr_.store(&routes_);
        WorkerConfig wc;
        wc.ports[0].port_id = g_p.port_id;
        wc.ports[0].ip = edge_ip;
        wc.ports[0].prefix = 24;
        wc.ports[0].mac = g_mac;
        ProxyConfig pc;
        pc.self = {edge_ip, 5060};
        pc.max_txns = 256;
        pc.max_udp_payload = uint16_t(MsgPool::max_size);
        WorkerLinks links;
        links.routes = &routes_ptr_;
        w_ = new Worker();
        ASSERT_TRUE(w_->init(wc, pc, g_pool, links));
        stop_ = false;
        ASSERT_EQ(rte_eal_remote_launch(&WorkerFrag::run, this, g_lcore), 0);
    }
    void TearDown() override {
        if (!w_) return;
        stop_ = true;
        rte_eal_wait_lcore(g_lcore);
        collect(0);
        delete w_;
        w_ = nullptr;
    }
    static int run(void* arg) {
        auto* t = static_cast<WorkerFrag*>(arg);
        t->w_->run(t->stop_);
        return 0;
    }
    Routes routes_{};
    std::atomic<const Routes*> routes_ptr_{nullptr};
    std::atomic<bool> stop_{false};
    Worker* w_ = nullptr;
};

TEST_F(WorkerFrag, ReassemblesRelaysAndFragmentsA4KInvite) {
    // Both peers introduce themselves (RFC 826: a request for us creates the entry).
    inject(arp_request_from(carrier_ip, mac_of(2)));
    inject(arp_request_from(access_ip, mac_of(3)));
    const std::string inv = invite(3800);
    const auto frags = fragments_from_carrier(inv, 0x4242);
    ASSERT_EQ(frags.size(), 3u);
    inject(frags[2]);  // out of order, as a network may deliver them
    inject(frags[0]);
    inject(frags[1]);
    const std::vector<Bytes> sent = collect(100);

    const auto to_access = datagrams_to(sent, access_ip);
    ASSERT_EQ(to_access.size(), 1u);
    const Datagram& d = to_access[0];
    EXPECT_GE(d.frames, 3u);  // ~4 KB at MTU 1500
    EXPECT_EQ(d.payload.compare(0, 7, "INVITE "), 0);
    EXPECT_NE(d.payload.find("Via: SIP/2.0/UDP 10.0.0.1:5060;branch="), std::string::npos);
    EXPECT_NE(d.payload.find(inv.substr(inv.size() - 3800)), std::string::npos);  // body whole
    EXPECT_GT(d.payload.size(), inv.size());  // our Via and Record-Route added

    const auto to_carrier = datagrams_to(sent, carrier_ip);
    ASSERT_EQ(to_carrier.size(), 1u);  // 100 Trying, one frame
    EXPECT_EQ(to_carrier[0].payload.compare(0, 20, "SIP/2.0 100 Trying\r\n"), 0);

    stop_ = true;
    rte_eal_wait_lcore(g_lcore);
    const WorkerStats& s = w_->stats();
    EXPECT_EQ(s.ipv4_fragments_rx, 3u);
    EXPECT_EQ(s.ipv4_reassembled, 1u);
    EXPECT_EQ(s.ipv4_fragmented_tx, 1u);
    EXPECT_EQ(s.ipv4_fragments_tx, d.frames);
    EXPECT_EQ(s.drops_total(), 0u);
}

TEST_F(WorkerFrag, FragmentTrainWaitsForArpAsOne) {
    inject(arp_request_from(carrier_ip, mac_of(2)));  // the access side stays unknown
    const auto frags = fragments_from_carrier(invite(3000), 0x5151);
    for (const Bytes& f : frags) inject(f);
    std::vector<Bytes> sent = collect(50);
    EXPECT_TRUE(datagrams_to(sent, access_ip).empty());
    bool asked = false;
    for (const Bytes& f : sent) {
        EthHdr e;
        std::memcpy(&e, f.data(), sizeof(e));
        if (be16(e.type) != ethertype_arp) continue;
        ArpPkt a;
        std::memcpy(&a, f.data() + eth_hdr_len, sizeof(a));
        asked = asked || (be16(a.op) == 1 && be32(a.tpa) == access_ip);
    }
    EXPECT_TRUE(asked) << "no ARP request for the access address";
    inject(arp_reply_from(access_ip, mac_of(3)));
    sent = collect(50);
    const auto to_access = datagrams_to(sent, access_ip);
    ASSERT_EQ(to_access.size(), 1u);  // every fragment came out: none replaced another
    EXPECT_GE(to_access[0].frames, 3u);
    for (const Bytes& f : sent) {
        EthHdr e;
        std::memcpy(&e, f.data(), sizeof(e));
        if (be16(e.type) == ethertype_ipv4) {
            Ipv4Hdr h;
            std::memcpy(&h, f.data() + eth_hdr_len, sizeof(h));
            if (be32(h.dst) == access_ip) {
                EXPECT_TRUE(e.dst == mac_of(3));
                EXPECT_TRUE(e.src == g_mac);
            }
        }
    }
    stop_ = true;
    rte_eal_wait_lcore(g_lcore);
    EXPECT_EQ(w_->stats().drops[size_t(DropReason::arp_unresolved)], 0u);
}

}  // namespace
}  // namespace sipedge::dp

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    using namespace sipedge::dp;
    if (!test::eal_up("wfrag", "0-1")) return 77;
    g_lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    g_pool = make_pktmbuf_pool("wfrag_mbufs", 4095);
    if (g_lcore >= RTE_MAX_LCORE || !g_pool || !test::ring_port("wfrag", g_pool, g_p)) {
        std::fprintf(stderr, "SKIP: no second lcore / pool / ring port\n");
        test::eal_down();
        return 77;
    }
    const int rc = RUN_ALL_TESTS();
    port_stop(g_p.port_id);
    test::eal_down();
    return rc;
}
