// The worker's receive stages as a table (issue 13, suite 'dp'; real EAL,
// --no-huge, one ring ethdev): each row is a frame, whether it came from our
// handoff ring, and the verdict the stages must reach for it (kept /
// handed_off / done / drop with its reason) — called directly through
// Worker::handle()'s first stage, without the worker loop. A stage that
// counted or freed a packet itself, or returned another verdict, fails here.
// Exits 77 (skip) when the EAL cannot start.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane/inet.h"
#include "dataplane/proxy_types.h"
#include "dataplane/worker.h"
#include "tests/dataplane/ring_eal.h"

namespace sipedge::dp {

namespace {
using test::Bytes;
using test::mac_of;

constexpr uint32_t edge = 0x0a000001, peer = 0x0a000003, other = 0x0a000009;  // 10.0.0.x
rte_mempool* g_pool = nullptr;
test::RingPort g_p0;
test::RingPort g_exc;  // issue 14: the kernel's side of port 0 (a tap in sipedge)

Bytes eth(const MacAddr& to, uint16_t type, size_t l3_len) {
    Bytes f(eth_hdr_len + l3_len);
    EthHdr e{};
    e.dst = to;
    e.src = mac_of(9);
    e.type = be16(type);
    std::memcpy(f.data(), &e, sizeof(e));
    return f;
}

// A UDP datagram <payload> from peer:5061 to <dst>:<dport>.
Bytes udp(const std::string& payload, uint16_t dport = 5060, uint32_t dst = edge) {
    Bytes f = eth(g_p0.mac, ethertype_ipv4, ipv4_hdr_len + udp_hdr_len + payload.size());
    std::memcpy(f.data() + eth_hdr_len + ipv4_hdr_len + udp_hdr_len, payload.data(), payload.size());
    build_ipv4_udp(f.data() + eth_hdr_len, peer, 5061, dst, dport, payload.size(), 1);
    return f;
}

// An IPv4 packet of protocol <proto> from peer to <dst> with <body>; a good
// header checksum unless <bad_csum>.
Bytes ipv4(uint8_t proto, const Bytes& body, uint32_t dst = edge, bool bad_csum = false) {
    Bytes f = eth(g_p0.mac, ethertype_ipv4, ipv4_hdr_len + body.size());
    uint8_t* h = f.data() + eth_hdr_len;
    h[0] = 0x45;
    const uint16_t tot = be16(uint16_t(ipv4_hdr_len + body.size()));
    std::memcpy(h + 2, &tot, 2);
    h[8] = 64;
    h[9] = proto;
    const uint32_t s = be32(peer), d = be32(dst);
    std::memcpy(h + 12, &s, 4);
    std::memcpy(h + 16, &d, 4);
    uint16_t c = csum_fold(csum_add(0, h, ipv4_hdr_len));
    if (bad_csum) c ^= 0x0101;
    std::memcpy(h + 10, &c, 2);
    std::memcpy(h + ipv4_hdr_len, body.data(), body.size());
    return f;
}

// An ICMP message of <type>/<code> with 8 bytes of data, checksummed.
Bytes icmp(uint8_t type, uint8_t code) {
    Bytes b(16, 0);
    b[0] = type;
    b[1] = code;
    const uint16_t c = csum_fold(csum_add(0, b.data(), b.size()));
    std::memcpy(b.data() + 2, &c, 2);
    return ipv4(ipproto_icmp, b);
}

const std::string options =
    "OPTIONS sip:edge@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.3:5061;branch=z9hG4bK-st1\r\n"
    "From: <sip:a@10.0.0.3>;tag=1\r\nTo: <sip:edge@10.0.0.1>\r\nCall-ID: st1@10.0.0.3\r\n"
    "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}  // namespace

// Friend of Worker (worker.h): runs one frame through the first stage.
class WorkerStageTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!g_pool) GTEST_SKIP() << "no EAL";
        start(false, 0);
    }
    // A worker on port 0, with the exception ring port beside it when <exception>.
    void start(bool exception, uint16_t vlan) {
        if (w_) {
            w_->flush();
            test::collect(g_p0, 0);
            delete w_;
        }
        WorkerConfig wc;
        wc.ports[0].port_id = g_p0.port_id;
        wc.ports[0].ip = edge;
        wc.ports[0].prefix = 24;
        wc.ports[0].mac = g_p0.mac;
        wc.ports[0].vlan = vlan;
        if (exception) wc.ports[0].exception_port = g_exc.port_id;
        wc.nports = 1;
        ProxyConfig pc;
        pc.max_txns = 64;
        w_ = new Worker();
        ASSERT_TRUE(w_->init(wc, pc, g_pool));
    }
    // What the worker queued for port 0, sent and discarded.
    void drain_wire() {
        w_->flush();
        test::collect(g_p0, 1);
    }
    // The kernel's frame <f> on port 0's exception port, through from_kernel().
    void from_kernel(const Bytes& f) {
        rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
        ASSERT_NE(m, nullptr);
        std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
        w_->from_kernel(0, m);
        w_->flush();
    }
    void TearDown() override {
        if (!w_) return;
        w_->flush();  // what a stage queued for TX goes to the ring, then away
        test::collect(g_p0, 0);
        delete w_;
        w_ = nullptr;
    }
    // The verdict for <f>; the frame is freed here when the stages left it to us.
    StageOut run(const Bytes& f, bool from_ring = false) {
        rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
        EXPECT_NE(m, nullptr);
        if (!m) return dropped(DropReason::mbuf_exhausted);
        std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
        m->port = g_p0.port_id;
        Pkt p;
        p.m = m;
        p.from_ring = from_ring;
        const StageOut r = w_->eth_in(p);
        if ((r.v == Verdict::done || r.v == Verdict::drop) && p.m) rte_pktmbuf_free(p.m);
        return r;
    }
    const WorkerStats& stats() const { return w_->stats(); }
    void set_shed(bool on) { w_->shed_ = on; }  // what the loop decides when behind (worker.cc)
    Worker* w_ = nullptr;
};

TEST_F(WorkerStageTest, VerdictTable) {
    MacAddr bcast;
    std::memset(bcast.b, 0xff, 6);
    Bytes tagged = udp(options);
    tagged.insert(tagged.begin() + 12, {0x81, 0x00, 0x00, 0x07});  // 802.1Q VLAN 7 on an untagged port
    Bytes truncated = udp(options);
    truncated.resize(truncated.size() - 40);  // the IPv4 total length says more
    Bytes bad_udp = udp(options);
    bad_udp[eth_hdr_len + ipv4_hdr_len + 6] ^= 0x55;  // UDP checksum
    Bytes short_arp = eth(g_p0.mac, ethertype_arp, 10);
    struct Row {
        const char* what;
        Bytes frame;
        bool from_ring;
        Verdict v;
        DropReason why;
    };
    const DropReason none = DropReason::count_;
    const std::vector<Row> rows = {
        {"a runt", Bytes(10, 0), false, Verdict::drop, DropReason::eth_short},
        {"another MAC", [&] { Bytes f = udp(options); std::memcpy(f.data(), mac_of(7).b, 6); return f; }(), false,
         Verdict::drop, DropReason::eth_not_for_us},
        {"IPv6", eth(g_p0.mac, 0x86dd, 40), false, Verdict::drop, DropReason::eth_type},
        {"a VLAN tag on an untagged port", tagged, false, Verdict::drop, DropReason::vlan_mismatch},
        {"ARP too short", short_arp, false, Verdict::drop, DropReason::arp_malformed},
        {"ARP request for us: answered in place", test::arp_frame(1, peer, mac_of(9), edge, bcast), false,
         Verdict::kept, none},
        {"ARP request for another host", test::arp_frame(1, peer, mac_of(9), other, bcast), false, Verdict::drop,
         DropReason::arp_not_for_us},
        {"ARP reply: learned", test::arp_frame(2, other, mac_of(8), edge, g_p0.mac), false, Verdict::done, none},
        {"ARP from another worker: learned only", test::arp_frame(1, peer, mac_of(9), edge, bcast), true,
         Verdict::done, none},
        {"IPv4 bad header checksum", ipv4(6, Bytes(20, 0), edge, true), false, Verdict::drop,
         DropReason::ipv4_bad_csum},
        {"IPv4 cut short", truncated, false, Verdict::drop, DropReason::ipv4_truncated},
        {"IPv4 to another address", ipv4(6, Bytes(20, 0), other), false, Verdict::drop,
         DropReason::ipv4_not_for_us},
        {"TCP", ipv4(6, Bytes(20, 0)), false, Verdict::drop, DropReason::ipv4_proto},
        {"ICMP echo: answered in place", icmp(8, 0), false, Verdict::kept, none},
        {"ICMP timestamp", icmp(13, 0), false, Verdict::drop, DropReason::icmp_other},
        {"ICMP unreachable quoting nothing of ours", icmp(3, 3), false, Verdict::drop,
         DropReason::icmp_malformed},
        {"UDP to another port", udp(options, 5070), false, Verdict::drop, DropReason::udp_port},
        {"UDP bad checksum", bad_udp, false, Verdict::drop, DropReason::udp_bad_csum},
        {"SIP OPTIONS: the proxy has it", udp(options), false, Verdict::done, none},
    };
    for (const Row& r : rows) {
        const WorkerStats before = stats();
        const StageOut out = run(r.frame, r.from_ring);
        EXPECT_EQ(int(out.v), int(r.v)) << r.what;
        if (r.v == Verdict::drop) EXPECT_EQ(int(out.why), int(r.why)) << r.what << ": " << drop_reason_name(out.why);
        // Stages never count a drop themselves: only handle() does. (The
        // proxy counts its own decisions: with no routes published yet, the
        // OPTIONS is answered 503 and counted sip_no_route.)
        const uint64_t proxy_counted =
            stats().drops[size_t(DropReason::sip_no_route)] - before.drops[size_t(DropReason::sip_no_route)];
        EXPECT_EQ(stats().drops_total() - proxy_counted, before.drops_total()) << r.what;
    }
    EXPECT_EQ(stats().drops[size_t(DropReason::sip_no_route)], 1u);
    EXPECT_EQ(stats().arp_replies_tx, 1u);
    EXPECT_EQ(stats().icmp_echo_rx, 1u);
    EXPECT_EQ(stats().udp_rx, 1u);
}

// Issue 16: a worker behind (shed_, set by the loop after 5 ms of full RX
// polls) drops INVITEs unparsed; everything else still reaches the proxy.
TEST_F(WorkerStageTest, BehindDropsInvitesOnly) {
    std::string invite = options;
    invite.replace(0, 7, "INVITE ");
    invite.replace(invite.find("CSeq: 1 OPTIONS"), 15, "CSeq: 1 INVITE ");
    set_shed(true);
    StageOut out = run(udp(invite));
    EXPECT_EQ(int(out.v), int(Verdict::drop));
    EXPECT_EQ(int(out.why), int(DropReason::sip_shed));
    out = run(udp(options));
    EXPECT_EQ(int(out.v), int(Verdict::done));  // the proxy had it
    set_shed(false);
    out = run(udp(invite));
    EXPECT_EQ(int(out.v), int(Verdict::done));
    EXPECT_EQ(stats().udp_rx, 2u);
}

// Issue 14: the kernel exception path (stage_exception.cc). TCP for our
// address goes to the exception port as it came (untagged), ARP replies to us
// are copied there; what the kernel sends leaves by the data port when it is
// ARP or IPv4 from our address. Without the path TCP is dropped (ipv4_proto).
TEST_F(WorkerStageTest, ExceptionPathTakesTcpAndSendsTheKernelsFrames) {
    const Bytes syn = ipv4(ipproto_tcp, Bytes(20, 0x11));
    StageOut out = run(syn);
    EXPECT_EQ(int(out.v), int(Verdict::drop));
    EXPECT_EQ(int(out.why), int(DropReason::ipv4_proto));
    EXPECT_TRUE(test::collect(g_exc, 1).empty());

    start(true, 0);
    out = run(syn);
    EXPECT_EQ(int(out.v), int(Verdict::kept));
    std::vector<Bytes> k = test::collect(g_exc, 1);
    ASSERT_EQ(k.size(), 1u);
    EXPECT_EQ(k[0], syn);
    // UDP still goes to SIP, not to the kernel.
    out = run(udp(options));
    EXPECT_EQ(int(out.v), int(Verdict::done));
    EXPECT_TRUE(test::collect(g_exc, 1).empty());
    // TCP for another address is not ours to pass on.
    out = run(ipv4(ipproto_tcp, Bytes(20, 0x11), other));
    EXPECT_EQ(int(out.why), int(DropReason::ipv4_not_for_us));
    // An ARP reply to us: learned here, a copy for the kernel.
    const Bytes reply = test::arp_frame(2, peer, mac_of(8), edge, g_p0.mac);
    out = run(reply);
    EXPECT_EQ(int(out.v), int(Verdict::done));
    k = test::collect(g_exc, 1);
    ASSERT_EQ(k.size(), 1u);
    EXPECT_EQ(k[0], reply);
    EXPECT_EQ(stats().exception_to_kernel, 2u);

    // The kernel's frames: its SYN-ACK (IPv4 from our address) and its ARP
    // request leave by port 0 unchanged; IPv6 and IPv4 from another address do not.
    Bytes synack = ipv4(ipproto_tcp, Bytes(20, 0x22), peer);
    uint32_t src = be32(edge);
    std::memcpy(synack.data() + eth_hdr_len + 12, &src, 4);
    const Bytes kernel_arp = test::arp_frame(1, edge, g_p0.mac, peer, g_p0.mac);
    drain_wire();  // what the OPTIONS above made the worker send (its answer, ARP)
    from_kernel(synack);
    from_kernel(kernel_arp);
    from_kernel(eth(mac_of(8), 0x86dd, 40));
    from_kernel(ipv4(ipproto_tcp, Bytes(20, 0x33), edge));  // source peer: not ours
    std::vector<Bytes> wire = test::collect(g_p0, 1);
    ASSERT_EQ(wire.size(), 2u);
    EXPECT_EQ(wire[0], synack);
    EXPECT_EQ(wire[1], kernel_arp);
    EXPECT_EQ(stats().exception_from_kernel, 2u);
    EXPECT_EQ(stats().drops[size_t(DropReason::exception_other)], 2u);
}

// On a VLAN port the kernel sees untagged frames, and its frames leave tagged.
TEST_F(WorkerStageTest, ExceptionPathOnAVlanPortUntagsAndTags) {
    start(true, 7);
    const Bytes syn = ipv4(ipproto_tcp, Bytes(20, 0x11));
    Bytes tagged = syn;
    tagged.insert(tagged.begin() + 12, {0x81, 0x00, 0x00, 0x07});
    StageOut out = run(tagged);
    EXPECT_EQ(int(out.v), int(Verdict::kept));
    std::vector<Bytes> k = test::collect(g_exc, 1);
    ASSERT_EQ(k.size(), 1u);
    EXPECT_EQ(k[0], syn);
    Bytes synack = ipv4(ipproto_tcp, Bytes(20, 0x22), peer);
    uint32_t src = be32(edge);
    std::memcpy(synack.data() + eth_hdr_len + 12, &src, 4);
    from_kernel(synack);
    std::vector<Bytes> wire = test::collect(g_p0, 1);
    ASSERT_EQ(wire.size(), 1u);
    Bytes want = synack;
    want.insert(want.begin() + 12, {0x81, 0x00, 0x00, 0x07});
    EXPECT_EQ(wire[0], want);
}

}  // namespace sipedge::dp

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    using namespace sipedge::dp;
    if (!test::eal_up("wstage", "0")) return 77;
    g_pool = make_pktmbuf_pool("wstage_mbufs", 2047);
    if (!g_pool || !test::ring_port("wstage0", g_pool, g_p0) || !test::ring_port("wstage_exc", g_pool, g_exc)) {
        std::fprintf(stderr, "SKIP: no pool / ring port\n");
        test::eal_down();
        return 77;
    }
    const int rc = RUN_ALL_TESTS();
    port_stop(g_exc.port_id);
    port_stop(g_p0.port_id);
    test::eal_down();
    return rc;
}
