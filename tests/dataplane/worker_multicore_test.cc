// Two workers on one port (issue 6) on a real EAL (--no-huge, three lcores:
// main + two workers, floating over CPUs 0-1, suite 'dp'): an ethdev made from two RX and two TX
// rings (rte_eth_from_rings), one queue pair per worker, the workers joined
// by dataplane/handoff.h rings.
//  - an INVITE from the carrier on queue 0 is relayed by worker 0 (its branch
//    names core 0); the access side's 180 arrives on queue 1: worker 1 hands
//    it to worker 0, which relays it to the carrier; counters on both sides.
//  - ARP across queues: worker 0 parks the INVITE for the unresolved access
//    address; the ARP reply arrives on queue 1: worker 1 shares a copy and
//    worker 0 sends the INVITE; a request for us is answered once, not twice.
//  - fragments: a response in fragments over both queues is reassembled once,
//    by the worker its addresses name, and handed whole to the transaction's
//    owner.
// Exits 77 (skip) when the EAL cannot start.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dataplane/handoff.h"
#include "dataplane/inet.h"
#include "dataplane/msg_pool.h"
#include "dataplane/port.h"
#include "dataplane/proxy_types.h"
#include "dataplane/worker.h"
#include "tests/dataplane/ring_eal.h"

namespace sipedge::dp {
namespace {

using test::mac_of;

constexpr uint32_t edge_ip = 0x0a000001, carrier_ip = 0x0a000002, access_ip = 0x0a000003;
constexpr int nq = 2;
using test::Bytes;

rte_mempool* g_pool = nullptr;
test::RingPort g_p;  // nq queues: rxq[q] what worker q receives, txq[q] what it sends
const MacAddr& g_mac = g_p.mac;
unsigned g_lcore[nq] = {};

void inject(int q, const Bytes& f) { ASSERT_TRUE(test::inject(g_pool, g_p, f, uint16_t(q))); }

struct Frame {
    int queue;
    Bytes b;
};

// What the workers sent on either queue: a pass every millisecond for <ms>,
// then a last one (collect(0) drains).
std::vector<Frame> collect(unsigned ms) {
    std::vector<Frame> out;
    for (test::QueuedFrame& f : test::collect_queues(g_p, ms)) out.push_back({f.queue, std::move(f.b)});
    return out;
}

Bytes arp_from(uint16_t op, uint32_t ip, const MacAddr& mac) {
    return test::arp_frame(op, ip, mac, edge_ip, g_mac);
}

Bytes udp_from(uint32_t src, const MacAddr& smac, const std::string& payload, uint16_t id,
               uint16_t sport = 5060) {
    const size_t hdr = eth_hdr_len + ipv4_hdr_len + udp_hdr_len;
    Bytes f(hdr + payload.size());
    EthHdr e{};
    e.dst = g_mac;
    e.src = smac;
    e.type = be16(ethertype_ipv4);
    std::memcpy(f.data(), &e, sizeof(e));
    std::memcpy(f.data() + hdr, payload.data(), payload.size());
    build_ipv4_udp(f.data() + eth_hdr_len, src, sport, edge_ip, 5060, payload.size(), id);
    return f;
}

// ICMP port unreachable from <src> quoting the datagram we sent to it
// (edge:5060 -> src:5060, first <quote> bytes of <payload>).
Bytes icmp_unreachable_from(uint32_t src, const MacAddr& smac, const std::string& payload,
                            size_t quote) {
    quote = std::min(quote, payload.size());
    const size_t qlen = ipv4_hdr_len + udp_hdr_len + quote;  // the quoted part
    const size_t ilen = sizeof(IcmpHdr) + qlen;
    Bytes f(eth_hdr_len + ipv4_hdr_len + ilen);
    EthHdr e{};
    e.dst = g_mac;
    e.src = smac;
    e.type = be16(ethertype_ipv4);
    std::memcpy(f.data(), &e, sizeof(e));
    uint8_t* ip = f.data() + eth_hdr_len;
    uint8_t* icmp = ip + ipv4_hdr_len;
    uint8_t* q = icmp + sizeof(IcmpHdr);
    std::memcpy(q + ipv4_hdr_len + udp_hdr_len, payload.data(), quote);
    build_ipv4_udp(q, edge_ip, 5060, src, 5060, payload.size(), 9);  // as we sent it
    // The outer header: built as UDP of the right length, then made ICMP.
    build_ipv4_udp(ip, src, 0, edge_ip, 0, ilen - udp_hdr_len, 10);
    ip[9] = ipproto_icmp;
    ip[10] = ip[11] = 0;
    const uint16_t c = csum_fold(csum_add(0, ip, ipv4_hdr_len));
    std::memcpy(ip + 10, &c, 2);
    std::memset(icmp, 0, sizeof(IcmpHdr));
    icmp[0] = 3;  // destination unreachable
    icmp[1] = 3;  // port
    const uint16_t ic = csum_fold(csum_add(0, icmp, ilen));
    std::memcpy(icmp + 2, &ic, 2);
    return f;
}

std::string invite(const std::string& tag) {
    return "INVITE sip:1000@10.0.0.1:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKmc" + tag + "\r\n"
           "Max-Forwards: 70\r\nTo: <sip:1000@10.0.0.1>\r\n"
           "From: <sip:carrier@10.0.0.2>;tag=77\r\nCall-ID: mc-" + tag + "\r\n"
           "CSeq: 1 INVITE\r\nContact: <sip:carrier@10.0.0.2:5060>\r\n"
           "Content-Length: 0\r\n\r\n";
}

std::string cancel(const std::string& tag) {
    return "CANCEL sip:1000@10.0.0.1:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKmc" + tag + "\r\n"
           "Max-Forwards: 70\r\nTo: <sip:1000@10.0.0.1>\r\n"
           "From: <sip:carrier@10.0.0.2>;tag=77\r\nCall-ID: mc-" + tag + "\r\n"
           "CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n";
}

// The UDP payloads sent to <dst> (whole datagrams), with the queue and the
// Ethernet destination they left with.
struct Sent {
    int queue;
    MacAddr dmac;
    std::string payload;
};
std::vector<Sent> udp_to(const std::vector<Frame>& frames, uint32_t dst) {
    std::vector<Sent> out;
    for (const Frame& f : frames) {
        EthHdr e;
        std::memcpy(&e, f.b.data(), sizeof(e));
        if (be16(e.type) != ethertype_ipv4) continue;
        Ipv4Hdr h;
        std::memcpy(&h, f.b.data() + eth_hdr_len, sizeof(h));
        if (be32(h.dst) != dst || h.proto != ipproto_udp) continue;
        const size_t tot = be16(h.total_len);
        const auto* p = reinterpret_cast<const char*>(f.b.data() + eth_hdr_len + ipv4_hdr_len +
                                                      udp_hdr_len);
        out.push_back({f.queue, e.dst, std::string(p, tot - ipv4_hdr_len - udp_hdr_len)});
    }
    return out;
}

// A 180 from the access side to the relayed INVITE <req>: its Via, From,
// To, Call-ID and CSeq lines, in order, and a To tag.
std::string ringing_for(const std::string& req) {
    std::string r = "SIP/2.0 180 Ringing\r\n";
    size_t pos = req.find("\r\n") + 2;
    while (pos < req.size()) {
        const size_t eol = req.find("\r\n", pos);
        if (eol == std::string::npos || eol == pos) break;
        const std::string line = req.substr(pos, eol - pos);
        for (const char* h : {"Via:", "From:", "Call-ID:", "CSeq:", "Record-Route:"})
            if (line.compare(0, std::strlen(h), h) == 0) r += line + "\r\n";
        if (line.compare(0, 3, "To:") == 0) r += line + ";tag=acc1\r\n";
        pos = eol + 2;
    }
    return r + "Content-Length: 0\r\n\r\n";
}

class WorkerMulticore : public ::testing::Test {
protected:
    void SetUp() override {
        if (!g_pool) GTEST_SKIP() << "no EAL";
        routes_.access = {access_ip, 5060};
        routes_.carrier_count = 1;
        routes_.carriers = &carrier_ip;
        routes_ptr_.store(&routes_);
        ASSERT_TRUE(handoff_.init(nq, 256, "mc_ho", int(rte_socket_id())));
        stop_ = false;
        for (int i = 0; i < nq; i++) {
            WorkerConfig wc;
            wc.ports[0].port_id = g_p.port_id;
            wc.queue = uint16_t(i);
            wc.core = uint8_t(i);
            wc.ports[0].ip = edge_ip;
            wc.ports[0].prefix = 24;
            wc.ports[0].mac = g_mac;
            ProxyConfig pc;
            pc.self = {edge_ip, 5060};
            pc.max_txns = 256;
            pc.max_udp_payload = uint16_t(MsgPool::max_size);
            WorkerLinks links;
            links.routes = &routes_ptr_;
            links.handoff = &handoff_;
            w_[i] = new Worker();
            ASSERT_TRUE(w_[i]->init(wc, pc, g_pool, links));
        }
        for (int i = 0; i < nq; i++) {
            arg_[i] = {this, i};
            ASSERT_EQ(rte_eal_remote_launch(&WorkerMulticore::run, &arg_[i], g_lcore[i]), 0);
        }
    }
    void stop() {
        stop_ = true;
        for (int i = 0; i < nq; i++) rte_eal_wait_lcore(g_lcore[i]);
    }
    void TearDown() override {
        if (!w_[0]) return;
        stop();
        collect(0);
        for (int i = 0; i < nq; i++) {
            delete w_[i];
            w_[i] = nullptr;
        }
        handoff_.destroy();
    }
    struct Arg {
        WorkerMulticore* t;
        int i;
    };
    static int run(void* arg) {
        auto* a = static_cast<Arg*>(arg);
        a->t->w_[a->i]->run(a->t->stop_);
        return 0;
    }
    Routes routes_{};
    std::atomic<const Routes*> routes_ptr_{nullptr};
    std::atomic<bool> stop_{false};
    Handoff handoff_;
    Worker* w_[nq] = {};
    Arg arg_[nq];
};

TEST_F(WorkerMulticore, ResponseOnOtherQueueIsRelayedByTheOwner) {
    inject(0, arp_from(1, carrier_ip, mac_of(2)));
    inject(0, arp_from(1, access_ip, mac_of(3)));
    inject(0, udp_from(carrier_ip, mac_of(2), invite("a"), 1));
    std::vector<Frame> sent = collect(50);
    const auto relayed = udp_to(sent, access_ip);
    ASSERT_EQ(relayed.size(), 1u);
    EXPECT_EQ(relayed[0].queue, 0);  // the worker that received it sends it
    ASSERT_EQ(relayed[0].payload.compare(0, 7, "INVITE "), 0);
    EXPECT_EQ(handoff_.workers(), nq);

    inject(1, udp_from(access_ip, mac_of(3), ringing_for(relayed[0].payload), 2));
    sent = collect(50);
    const auto up = udp_to(sent, carrier_ip);
    ASSERT_EQ(up.size(), 1u) << "the 180 was not relayed to the carrier";
    EXPECT_EQ(up[0].payload.compare(0, 20, "SIP/2.0 180 Ringing\r"), 0);
    EXPECT_EQ(up[0].queue, 0);  // by the owner, on its own queue
    EXPECT_NE(up[0].payload.find("branch=z9hG4bKmca"), std::string::npos);
    EXPECT_EQ(up[0].payload.find("Via: SIP/2.0/UDP 10.0.0.1"), std::string::npos)
        << "our Via was not removed";

    stop();
    const WorkerStats& s0 = w_[0]->stats();
    const WorkerStats& s1 = w_[1]->stats();
    EXPECT_EQ(s1.handoff_pushed, 1u);
    EXPECT_EQ(s0.handoff_drained, 1u);  // the 180
    EXPECT_EQ(s1.handoff_drained, 2u);  // copies of the two ARP requests worker 0 received
    EXPECT_EQ(s1.arp_replies_tx, 0u);   // copies are learned from, never answered
    EXPECT_EQ(s0.sip_responses_rx, 1u);
    EXPECT_EQ(s1.sip_responses_rx, 0u);
    EXPECT_EQ(s1.udp_rx, 0u);  // counted where handled
    EXPECT_EQ(s1.rx_packets, 1u);
    EXPECT_EQ(s0.txn_client_created, 1u);
    EXPECT_EQ(s0.drops[size_t(DropReason::handoff_full)] + s1.drops[size_t(DropReason::handoff_full)],
              0u);
}

// A CANCEL from another source port than its INVITE: RSS gives it to worker
// 1, which holds no INVITE for it; it passes it to worker 0, which does:
// 200 OK for the CANCEL, the CANCEL sent on along the INVITE's branch.
TEST_F(WorkerMulticore, CancelFromAnotherPortFindsItsInviteOnTheOtherWorker) {
    inject(0, arp_from(1, carrier_ip, mac_of(2)));
    inject(0, arp_from(1, access_ip, mac_of(3)));
    inject(0, udp_from(carrier_ip, mac_of(2), invite("c"), 1));
    std::vector<Frame> sent = collect(50);
    const auto fwd = udp_to(sent, access_ip);
    ASSERT_EQ(fwd.size(), 1u);  // the INVITE went on
    inject(0, udp_from(access_ip, mac_of(3), ringing_for(fwd[0].payload), 2));  // CANCEL after a 1xx
    ASSERT_EQ(udp_to(collect(50), carrier_ip).size(), 1u);

    inject(1, udp_from(carrier_ip, mac_of(2), cancel("c"), 3, 5099));
    sent = collect(50);
    const auto up = udp_to(sent, carrier_ip);
    ASSERT_EQ(up.size(), 1u);
    EXPECT_EQ(up[0].payload.compare(0, 15, "SIP/2.0 200 OK\r"), 0) << up[0].payload;
    EXPECT_NE(up[0].payload.find("CSeq: 1 CANCEL"), std::string::npos);
    const auto down = udp_to(sent, access_ip);
    ASSERT_EQ(down.size(), 1u) << "the CANCEL was not sent on";
    EXPECT_EQ(down[0].payload.compare(0, 7, "CANCEL "), 0);
    EXPECT_EQ(down[0].queue, 0);  // by the INVITE's worker

    stop();
    const WorkerStats& s0 = w_[0]->stats();
    const WorkerStats& s1 = w_[1]->stats();
    EXPECT_EQ(s1.cancels_passed, 1u);
    EXPECT_EQ(s1.cancels_rx, 0u);
    EXPECT_EQ(s0.cancels_rx, 1u);
    EXPECT_EQ(s0.cancels_passed, 0u);
    EXPECT_EQ(s0.responses_generated, 2u);  // 100 Trying and the CANCEL's 200
    EXPECT_EQ(s1.responses_generated, 0u);
}

// A CANCEL no worker knows: asked around once, answered 481 by the last.
TEST_F(WorkerMulticore, CancelForNoTransactionIsAnswered481Once) {
    inject(1, arp_from(1, carrier_ip, mac_of(2)));
    inject(1, udp_from(carrier_ip, mac_of(2), cancel("x"), 3, 5099));
    const std::vector<Frame> sent = collect(50);
    const auto up = udp_to(sent, carrier_ip);
    ASSERT_EQ(up.size(), 1u);
    EXPECT_EQ(up[0].payload.compare(0, 12, "SIP/2.0 481 "), 0) << up[0].payload;
    EXPECT_EQ(up[0].queue, 0);  // worker 1 passed it on; worker 0, the last to ask, answers
    stop();
    EXPECT_EQ(w_[1]->stats().cancels_passed, 1u);
    EXPECT_EQ(w_[0]->stats().cancels_passed, 0u);
    EXPECT_EQ(w_[0]->stats().cancels_rx + w_[1]->stats().cancels_rx, 1u);
}

// <payload> from <src> to us as IPv4 fragments of at most 1480 data bytes.
std::vector<Bytes> fragments_from(uint32_t src, const MacAddr& smac, const std::string& payload,
                                  uint16_t id) {
    return test::ipv4_fragments(src, smac, edge_ip, g_mac, payload, id);
}

// A big response in fragments, spread over both queues: its fragments are
// reassembled by the worker their addresses name (worker 0 for access ->
// edge), the transaction belongs to worker 1 (its queue got the INVITE), so
// the reassembled 180 travels to worker 1 whole and leaves from queue 1.
TEST_F(WorkerMulticore, FragmentedResponseIsReassembledOnceAndReachesTheOwner) {
    ASSERT_EQ(fragment_owner(access_ip, edge_ip, nq), 0);  // the case this test is about
    inject(1, arp_from(1, carrier_ip, mac_of(2)));
    inject(1, arp_from(1, access_ip, mac_of(3)));
    inject(1, udp_from(carrier_ip, mac_of(2), invite("f"), 5));
    const auto relayed = udp_to(collect(50), access_ip);
    ASSERT_EQ(relayed.size(), 1u);
    EXPECT_EQ(relayed[0].queue, 1);
    std::string rsp = ringing_for(relayed[0].payload);
    std::string pad;
    for (int i = 0; i < 40; i++) pad += "X-Pad-" + std::to_string(i) + ": " + std::string(60, 'p') + "\r\n";
    rsp.insert(rsp.find("Content-Length:"), pad);  // ~3 KB: three fragments
    const auto frags = fragments_from(access_ip, mac_of(3), rsp, 0x7777);
    ASSERT_EQ(frags.size(), 3u);
    inject(1, frags[0]);  // the first (UDP ports) on the branch owner's queue
    inject(0, frags[1]);
    inject(1, frags[2]);
    const std::vector<Frame> sent = collect(80);
    // What went to the carrier: the 180 without our Via, in fragments, from queue 1.
    const std::string& inv = relayed[0].payload;
    const size_t via = inv.find("Via: ");
    const size_t via_len = inv.find("\r\n", via) + 2 - via;
    size_t data = 0, frames = 0;
    bool starts_ok = false;
    for (const Frame& f : sent) {
        EthHdr e;
        std::memcpy(&e, f.b.data(), sizeof(e));
        if (be16(e.type) != ethertype_ipv4) continue;
        Ipv4Hdr h;
        std::memcpy(&h, f.b.data() + eth_hdr_len, sizeof(h));
        if (be32(h.dst) != carrier_ip) continue;
        EXPECT_EQ(f.queue, 1) << "sent by the worker that owns the transaction";
        frames++;
        data += be16(h.total_len) - ipv4_hdr_len;
        if ((be16(h.frag) & 0x1fff) == 0)
            starts_ok = std::memcmp(f.b.data() + eth_hdr_len + ipv4_hdr_len + udp_hdr_len,
                                    "SIP/2.0 180 Ringing\r\n", 21) == 0;
    }
    EXPECT_GE(frames, 3u);
    EXPECT_EQ(data, udp_hdr_len + rsp.size() - via_len);
    EXPECT_TRUE(starts_ok);
    stop();
    const WorkerStats& s0 = w_[0]->stats();
    const WorkerStats& s1 = w_[1]->stats();
    EXPECT_EQ(s0.ipv4_fragments_rx, 3u);  // all three reassembled by worker 0 ...
    EXPECT_EQ(s1.ipv4_fragments_rx, 0u);  // ... worker 1 pushed its two there
    EXPECT_EQ(s0.ipv4_reassembled, 1u);
    EXPECT_EQ(s1.handoff_reassembled_rx, 1u);  // the whole 180, handed back
    EXPECT_EQ(s1.sip_responses_rx, 1u);
    EXPECT_EQ(s0.sip_responses_rx, 0u);
    EXPECT_EQ(s0.drops_total() + s1.drops_total(), 0u);
}

TEST_F(WorkerMulticore, IcmpUnreachableOnOtherQueueReachesTheOwner) {
    inject(0, arp_from(1, carrier_ip, mac_of(2)));
    inject(0, arp_from(1, access_ip, mac_of(3)));
    inject(0, udp_from(carrier_ip, mac_of(2), invite("c"), 4));
    const auto relayed = udp_to(collect(50), access_ip);
    ASSERT_EQ(relayed.size(), 1u);
    inject(1, icmp_unreachable_from(access_ip, mac_of(3), relayed[0].payload, 548));
    collect(50);
    stop();
    const WorkerStats& s0 = w_[0]->stats();
    const WorkerStats& s1 = w_[1]->stats();
    EXPECT_EQ(s1.icmp_unreach_rx, 1u);  // counted where it arrived
    EXPECT_EQ(s0.icmp_unreach_rx, 0u);
    EXPECT_EQ(s1.handoff_pushed, 1u);
    EXPECT_EQ(s0.icmp_unreach_matched, 1u) << "the owner's client transaction did not see it";
    EXPECT_EQ(s1.icmp_unreach_matched, 0u);
}

TEST_F(WorkerMulticore, ArpReplyOnOtherQueueReleasesParkedRequest) {
    inject(0, arp_from(1, carrier_ip, mac_of(2)));  // access stays unknown
    inject(0, udp_from(carrier_ip, mac_of(2), invite("b"), 3));
    std::vector<Frame> sent = collect(30);
    EXPECT_TRUE(udp_to(sent, access_ip).empty());
    int arp_replies = 0;
    bool asked = false;
    for (const Frame& f : sent) {
        EthHdr e;
        std::memcpy(&e, f.b.data(), sizeof(e));
        if (be16(e.type) != ethertype_arp) continue;
        ArpPkt a;
        std::memcpy(&a, f.b.data() + eth_hdr_len, sizeof(a));
        if (be16(a.op) == 2) arp_replies++;
        asked = asked || (be16(a.op) == 1 && be32(a.tpa) == access_ip && f.queue == 0);
    }
    EXPECT_EQ(arp_replies, 1) << "the carrier's ARP request is answered once";
    EXPECT_TRUE(asked) << "worker 0 did not ask for the access address";

    inject(1, arp_from(2, access_ip, mac_of(3)));  // the reply lands on worker 1's queue
    sent = collect(50);
    const auto to_access = udp_to(sent, access_ip);
    ASSERT_EQ(to_access.size(), 1u) << "the parked INVITE was not released";
    EXPECT_EQ(to_access[0].queue, 0);
    EXPECT_TRUE(to_access[0].dmac == mac_of(3));
    EXPECT_EQ(to_access[0].payload.compare(0, 7, "INVITE "), 0);

    stop();
    const WorkerStats& s0 = w_[0]->stats();
    const WorkerStats& s1 = w_[1]->stats();
    EXPECT_EQ(s1.arp_replies_rx, 1u);
    EXPECT_EQ(s0.arp_replies_rx, 0u);  // the copy is not counted as received twice
    EXPECT_GE(s1.arp_shared, 1u);      // worker 1 sent its copy
    EXPECT_GE(s0.arp_shared, 1u);      // worker 0 learned from it (and shared the request)
    EXPECT_EQ(s0.arp_replies_tx + s1.arp_replies_tx, 1u);
    EXPECT_EQ(s0.drops[size_t(DropReason::arp_unresolved)], 0u);
}

}  // namespace
}  // namespace sipedge::dp

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    using namespace sipedge::dp;
    if (!test::eal_up("wmc", "(0-2)@(0-1)")) return 77;
    g_lcore[0] = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    g_lcore[1] = g_lcore[0] < RTE_MAX_LCORE ? rte_get_next_lcore(g_lcore[0], 1, 0) : RTE_MAX_LCORE;
    g_pool = make_pktmbuf_pool("wmc_mbufs", 4095);
    if (g_lcore[1] >= RTE_MAX_LCORE || !g_pool || !test::ring_port("wmc", g_pool, g_p, nq)) {
        std::fprintf(stderr, "SKIP: no third lcore / pool / ring port\n");
        test::eal_down();
        return 77;
    }
    const int rc = RUN_ALL_TESTS();
    port_stop(g_p.port_id);
    test::eal_down();
    return rc;
}
