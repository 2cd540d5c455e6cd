// IPv4 reassembly and fragmentation (dataplane/ipfrag.h) on a real EAL
// (--no-huge, no PCI, one lcore). Exits 77 (skip) when the EAL cannot start.
// Fragments are cut here by a separate, test-side routine, so the reassembler
// is not checked against the fragmenter alone. Every test ends by checking
// that every mbuf went back to the pool.

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/inet.h"
#include "dataplane/ipfrag.h"
#include "dataplane/stats_types.h"
#include "tests/eal_scope.h"

namespace sipedge::dp {
namespace {

rte_mempool* g_pool = nullptr;      // 2 KiB data room, no per-lcore cache
rte_mempool* g_indirect = nullptr;  // data room 0, for Fragmenter
constexpr unsigned pool_size = 4095;
constexpr uint64_t hz = 1'000'000;  // injected clock: 1 tick = 1 us
constexpr uint32_t src_ip = 0xc0000215, dst_ip = 0xc000020a;

using Bytes = std::vector<uint8_t>;

// A SIP INVITE of exactly <size> bytes.
std::string invite(size_t size) {
    std::string m =
        "INVITE sip:+15551230000@carrier.example SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bK776asdhds\r\n"
        "Max-Forwards: 70\r\nTo: <sip:+15551230000@carrier.example>\r\n"
        "From: <sip:alice@pbx.example>;tag=1928301774\r\nCall-ID: a84b4c76e66710\r\n"
        "CSeq: 314159 INVITE\r\nContact: <sip:alice@192.0.2.21>\r\n"
        "Content-Type: application/sdp\r\nContent-Length: ";
    const size_t head = m.size() + 4 + 4;  // 4 digits + CRLFCRLF
    const size_t body = size - head;
    m += std::to_string(body) + "\r\n\r\n";
    for (size_t i = 0; i < body; i++) m += char('a' + i % 26);
    return m;
}

// Ethernet + IPv4 (frag field <frag>) + UDP + payload, checksums valid.
Bytes frame(const std::string& payload, uint16_t ip_id, uint16_t frag = 0) {
    Bytes f(eth_hdr_len + ipv4_hdr_len + udp_hdr_len + payload.size());
    EthHdr e{};
    std::memset(e.dst.b, 0x02, 6);
    std::memset(e.src.b, 0x04, 6);
    e.type = be16(ethertype_ipv4);
    std::memcpy(f.data(), &e, sizeof(e));
    std::memcpy(f.data() + 42, payload.data(), payload.size());
    build_ipv4_udp(f.data() + 14, src_ip, 5060, dst_ip, 5060, payload.size(), ip_id);
    uint8_t* ip = f.data() + 14;
    const uint16_t fr = be16(frag);
    std::memcpy(ip + 6, &fr, 2);
    ip[10] = ip[11] = 0;
    const uint16_t c = csum_fold(csum_add(0, ip, 20));
    std::memcpy(ip + 10, &c, 2);
    return f;
}

// The fragment of <whole> (a frame from frame()) carrying IP payload bytes
// [ofs, ofs + len); MF as given.
Bytes piece(const Bytes& whole, size_t ofs, size_t len, bool mf) {
    Bytes f(14 + 20 + len);
    std::memcpy(f.data(), whole.data(), 34);
    std::memcpy(f.data() + 34, whole.data() + 34 + ofs, len);
    uint8_t* ip = f.data() + 14;
    const uint16_t tot = be16(uint16_t(20 + len)), fr = be16(uint16_t((mf ? 0x2000 : 0) | ofs / 8));
    std::memcpy(ip + 2, &tot, 2);
    std::memcpy(ip + 6, &fr, 2);
    ip[10] = ip[11] = 0;
    const uint16_t c = csum_fold(csum_add(0, ip, 20));
    std::memcpy(ip + 10, &c, 2);
    return f;
}

// Cuts <whole> the way a 1500-byte MTU does: 1480-byte pieces.
std::vector<Bytes> cut(const Bytes& whole, size_t step = 1480) {
    const size_t ip_payload = whole.size() - 34;
    std::vector<Bytes> v;
    for (size_t o = 0; o < ip_payload; o += step) {
        const size_t len = std::min(step, ip_payload - o);
        v.push_back(piece(whole, o, len, o + len < ip_payload));
    }
    return v;
}

rte_mbuf* to_mbuf(const Bytes& b) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    if (!m) return nullptr;
    char* p = rte_pktmbuf_append(m, uint16_t(b.size()));
    if (!p) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    std::memcpy(p, b.data(), b.size());
    return m;
}

Bytes contiguous(const rte_mbuf* m) {
    Bytes b(rte_pktmbuf_pkt_len(m));
    EXPECT_EQ(copy_out(m, 0, reinterpret_cast<char*>(b.data()), b.size()), b.size());
    return b;
}

class IpFrag : public ::testing::Test {
protected:
    void SetUp() override {
        if (!g_pool) GTEST_SKIP() << "EAL not started";
        ASSERT_EQ(rte_mempool_avail_count(g_pool), pool_size);
        r = std::make_unique<Reassembler>();
        ASSERT_TRUE(r->init(cfg, &st));
    }
    void TearDown() override {
        if (!g_pool) return;
        r.reset();  // frees what the table still holds
        EXPECT_EQ(rte_mempool_avail_count(g_pool), pool_size) << "mbuf leak";
        EXPECT_EQ(rte_mempool_avail_count(g_indirect), pool_size) << "indirect mbuf leak";
    }
    // Feeds the fragments in the order <order>; returns the datagrams that came out.
    std::vector<rte_mbuf*> feed(const std::vector<Bytes>& frags, const std::vector<int>& order,
                                uint64_t t = 1000) {
        std::vector<rte_mbuf*> out;
        for (int i : order) {
            rte_mbuf* m = to_mbuf(frags[size_t(i)]);
            EXPECT_NE(m, nullptr);
            if (rte_mbuf* d = r->reassemble(m, eth_hdr_len, t)) out.push_back(d);
            t += 10;
        }
        return out;
    }
    uint64_t drops(DropReason x) const { return st.drops[size_t(x)]; }

    ReassemblyConfig cfg{.flows = 64, .bucket_entries = 8, .timeout_ms = 100, .tsc_hz = hz};
    WorkerStats st;
    std::unique_ptr<Reassembler> r;
};

void expect_same_datagram(rte_mbuf* got, const Bytes& want) {
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->nb_segs, 3);
    const Bytes b = contiguous(got);
    EXPECT_EQ(b, want);
    size_t ihl = 0, tot = 0, plen = 0;
    ASSERT_EQ(ipv4_check(b.data() + 14, b.size() - 14, ihl, tot), Ipv4Check::ok);
    EXPECT_EQ(tot, want.size() - 14);
    EXPECT_EQ(udp_check(src_ip, dst_ip, b.data() + 34, tot - 20, plen), UdpCheck::ok);
    rte_pktmbuf_free(got);
}

TEST_F(IpFrag, InviteOf4000BytesInOrder) {
    const Bytes whole = frame(invite(4000), 0x1234);
    const auto frags = cut(whole);
    ASSERT_EQ(frags.size(), 3u);
    const auto out = feed(frags, {0, 1, 2});
    ASSERT_EQ(out.size(), 1u);
    expect_same_datagram(out[0], whole);
    EXPECT_EQ(r->stats().datagrams_reassembled, 1u);
    EXPECT_EQ(r->stats().fragments_rx, 3u);
    EXPECT_EQ(st.drops_total(), 0u);
}

TEST_F(IpFrag, Reversed) {
    const Bytes whole = frame(invite(4000), 0x1235);
    const auto out = feed(cut(whole), {2, 1, 0});
    ASSERT_EQ(out.size(), 1u);
    expect_same_datagram(out[0], whole);
    EXPECT_EQ(st.drops_total(), 0u);
}

TEST_F(IpFrag, DuplicateFragmentIsDroppedAloneAndTheDatagramSurvives) {
    const Bytes whole = frame(invite(4000), 0x1236);
    const auto frags = cut(whole);
    auto out = feed(frags, {1, 1, 0, 0, 2});  // a middle and the first, twice each
    ASSERT_EQ(out.size(), 1u);
    expect_same_datagram(out[0], whole);
    EXPECT_EQ(drops(DropReason::ipv4_frag_duplicate), 2u);
    EXPECT_EQ(st.drops_total(), 2u);

    // A copy arriving after completion starts a new datagram that times out.
    out = feed(frags, {2}, 2000);
    EXPECT_TRUE(out.empty());
    r->expire(2000 + 100 * hz / 1000 + 1);
    EXPECT_EQ(drops(DropReason::ipv4_frag_timeout), 1u);
}

TEST_F(IpFrag, MissingFragmentTimesOutAndIsCountedAfterTheTimeout) {
    const Bytes whole = frame(invite(4000), 0x1237);
    const auto frags = cut(whole);
    const uint64_t t0 = 5000, timeout = 100 * hz / 1000;
    EXPECT_TRUE(feed(frags, {0, 2}, t0).empty());
    r->expire(t0 + timeout / 2);
    EXPECT_EQ(st.drops_total(), 0u) << "counted before the timeout";
    r->expire(t0 + timeout + 1);
    EXPECT_EQ(drops(DropReason::ipv4_frag_timeout), 2u);
    EXPECT_EQ(r->stats().datagrams_timed_out, 1u);
    // The straggler alone now waits in a new entry; nothing comes out.
    EXPECT_TRUE(feed(frags, {1}, t0 + timeout + 2).empty());
    EXPECT_EQ(r->stats().datagrams_reassembled, 0u);
}

TEST_F(IpFrag, ExpiryIsAlsoSweptOnTheNextFragment) {
    const Bytes a = frame(invite(4000), 0x2001), b = frame(invite(4000), 0x2002);
    EXPECT_TRUE(feed(cut(a), {0}, 100).empty());
    const auto out = feed(cut(b), {0, 1, 2}, 100 + 100 * hz / 1000 + 5);
    ASSERT_EQ(out.size(), 1u);
    rte_pktmbuf_free(out[0]);
    EXPECT_EQ(drops(DropReason::ipv4_frag_timeout), 1u);
}

TEST_F(IpFrag, OverlapThatLeavesAHoleDropsTheDatagram) {
    const Bytes whole = frame(invite(4000), 0x1238);
    const size_t n = whole.size() - 34;  // 4008
    // [0,1480) + [1000,2480) + [2960,n): the byte count is right, the layout is not.
    const std::vector<Bytes> frags = {piece(whole, 0, 1480, true), piece(whole, 1000, 1480, true),
                                      piece(whole, 2960, n - 2960, false)};
    EXPECT_TRUE(feed(frags, {0, 1, 2}).empty());
    EXPECT_EQ(drops(DropReason::ipv4_frag_overlap), 3u);
    EXPECT_EQ(r->stats().datagrams_invalid, 1u);
    EXPECT_EQ(st.drops_total(), 3u);
}

TEST_F(IpFrag, OverlapThatExceedsTheLengthDropsTheDatagram) {
    const Bytes whole = frame(invite(4000), 0x1239);
    const size_t n = whole.size() - 34;
    const std::vector<Bytes> frags = {piece(whole, 0, 1480, true), piece(whole, 1480, 1480, true),
                                      piece(whole, 1000, 1480, true),
                                      piece(whole, 2960, n - 2960, false)};
    EXPECT_TRUE(feed(frags, {0, 1, 2, 3}).empty());
    EXPECT_EQ(drops(DropReason::ipv4_frag_overlap), 4u);
    EXPECT_EQ(st.drops_total(), 4u);
}

TEST_F(IpFrag, SameOffsetWithAnotherLengthIsAnOverlapNotACopy) {
    const Bytes whole = frame(invite(4000), 0x123a);
    const std::vector<Bytes> frags = {piece(whole, 0, 1480, true), piece(whole, 0, 1472, true),
                                      cut(whole)[2]};
    EXPECT_TRUE(feed(frags, {0, 1, 2}).empty());
    EXPECT_EQ(drops(DropReason::ipv4_frag_overlap), 2u);  // both first pieces
    EXPECT_EQ(drops(DropReason::ipv4_frag_duplicate), 0u);
    EXPECT_EQ(r->stats().datagrams_invalid, 1u);
}

TEST_F(IpFrag, EightFragmentsPassNineAreTooMany) {
    const Bytes eight = frame(std::string(64 - 8, 'x'), 0x3001);  // 64 bytes of IP payload
    auto out = feed(cut(eight, 8), {0, 7, 3, 1, 2, 6, 4, 5});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(contiguous(out[0]), eight);
    rte_pktmbuf_free(out[0]);

    const Bytes nine = frame(std::string(72 - 8, 'y'), 0x3002);
    const auto frags = cut(nine, 8);
    ASSERT_EQ(frags.size(), 9u);
    out = feed(frags, {0, 1, 2, 3, 4, 5, 6, 7, 8});
    EXPECT_TRUE(out.empty());
    // The 8th fragment (7th middle) is refused with the 7 held; the last, arriving
    // after, is dropped at once for the same reason (it does not wait to time out).
    EXPECT_EQ(drops(DropReason::ipv4_frag_too_many), 9u);
    EXPECT_EQ(st.drops_total(), 9u);
    r->expire(10 * hz);
    EXPECT_EQ(drops(DropReason::ipv4_frag_timeout), 0u);
}

TEST_F(IpFrag, TooManyFragmentsInAnyOrderAreCountedAsSuch) {
    const Bytes ten = frame(std::string(80 - 8, 'z'), 0x3003);
    const auto frags = cut(ten, 8);
    ASSERT_EQ(frags.size(), 10u);
    EXPECT_TRUE(feed(frags, {9, 0, 5, 3, 1, 8, 2, 7, 6, 4}).empty());
    EXPECT_EQ(drops(DropReason::ipv4_frag_too_many), 10u);
    EXPECT_EQ(st.drops_total(), 10u);
    r->expire(10 * hz);
    EXPECT_EQ(st.drops_total(), 10u);
}

TEST_F(IpFrag, TableFullDropsTheNewDatagramOnly) {
    Reassembler small;
    WorkerStats st2;
    ASSERT_TRUE(small.init({.flows = 2, .bucket_entries = 1, .timeout_ms = 100, .tsc_hz = hz}, &st2));
    const uint64_t& no_room = st2.drops[size_t(DropReason::ipv4_frag_no_room)];
    int refused = 0;
    for (uint16_t id = 1; id <= 3; id++) {
        const auto f = cut(frame(invite(4000), id));
        const uint64_t before = no_room;
        EXPECT_EQ(small.reassemble(to_mbuf(f[0]), eth_hdr_len, 10), nullptr);
        if (no_room == before) continue;
        refused++;
        // Offered again: still no room, and not taken for a copy of a held fragment.
        EXPECT_EQ(small.reassemble(to_mbuf(f[0]), eth_hdr_len, 11), nullptr);
        EXPECT_EQ(no_room, before + 2);
    }
    EXPECT_GE(refused, 1);
    EXPECT_EQ(st2.drops_total(), no_room);
}

TEST_F(IpFrag, MalformedFragmentsAreRefused) {
    const Bytes whole = frame(invite(4000), 0x4001);
    Bytes odd = piece(whole, 0, 1481, true);  // MF with a length not a multiple of 8
    Bytes bad = cut(whole)[0];
    bad[14 + 10] ^= 0xff;                     // header checksum
    Bytes huge = piece(whole, 0, 16, false);  // ends past 65535
    const uint16_t fr = be16(uint16_t(65528 / 8));
    std::memcpy(huge.data() + 14 + 6, &fr, 2);
    huge[24] = huge[25] = 0;
    const uint16_t c = csum_fold(csum_add(0, huge.data() + 14, 20));
    std::memcpy(huge.data() + 24, &c, 2);
    Bytes shorter = cut(whole)[1];
    shorter.resize(100);  // total length says more than the frame holds
    for (const Bytes* b : {&odd, &bad, &huge, &shorter})
        EXPECT_EQ(r->reassemble(to_mbuf(*b), eth_hdr_len, 10), nullptr);
    EXPECT_EQ(drops(DropReason::ipv4_frag_malformed), 4u);
}

TEST_F(IpFrag, UnfragmentedPacketComesBackAsIs) {
    rte_mbuf* m = to_mbuf(frame("hello", 9));
    EXPECT_EQ(r->reassemble(m, eth_hdr_len, 10), m);
    rte_pktmbuf_free(m);
    EXPECT_EQ(st.drops_total(), 0u);
    EXPECT_EQ(r->stats().fragments_rx, 0u);
}

TEST_F(IpFrag, RawIpv4WithoutL2Header) {
    const Bytes whole = frame(invite(3000), 0x5001);
    const auto frags = cut(whole);
    rte_mbuf* got = nullptr;
    for (const Bytes& f : frags) {
        rte_mbuf* m = to_mbuf(f);
        rte_pktmbuf_adj(m, eth_hdr_len);
        if (rte_mbuf* d = r->reassemble(m, 0, 10)) got = d;
    }
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(contiguous(got), Bytes(whole.begin() + 14, whole.end()));
    rte_pktmbuf_free(got);
}

TEST_F(IpFrag, CopyOutFromAnOffsetAndIntoAShortBuffer) {
    const std::string sip = invite(4000);
    const Bytes whole = frame(sip, 0x6001);
    auto out = feed(cut(whole), {0, 1, 2});
    ASSERT_EQ(out.size(), 1u);
    std::vector<char> buf(8000);
    ASSERT_EQ(copy_out(out[0], 42, buf.data(), buf.size()), sip.size());
    EXPECT_EQ(std::string(buf.data(), sip.size()), sip);
    EXPECT_EQ(copy_out(out[0], 42, buf.data(), sip.size() - 1), 0u);
    EXPECT_EQ(copy_out(out[0], 1500, buf.data(), buf.size()), whole.size() - 1500);
    EXPECT_EQ(0, std::memcmp(buf.data(), whole.data() + 1500, whole.size() - 1500));
    rte_pktmbuf_free(out[0]);
}

TEST_F(IpFrag, CopyInBuildsAChainThatCopiesBackOut) {
    Bytes big(5000);
    for (size_t i = 0; i < big.size(); i++) big[i] = uint8_t(i * 7);
    rte_mbuf* m = copy_in(g_pool, big.data(), big.size());
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->nb_segs, 3);  // 2048-byte data rooms
    EXPECT_EQ(contiguous(m), big);
    rte_pktmbuf_free(m);
}

TEST_F(IpFrag, FragmentAt1500ThenReassembleGivesTheSameBytes) {
    const std::string sip = invite(4000);
    Bytes whole(eth_hdr_len + 28 + sip.size());
    std::memset(whole.data(), 0x06, 14);
    whole[12] = 0x08;
    whole[13] = 0x00;
    std::memcpy(whole.data() + 42, sip.data(), sip.size());
    build_ipv4_udp(whole.data() + 14, src_ip, 5060, dst_ip, 5060, sip.size(), 0x7001);  // DF set

    Fragmenter fr(g_pool, g_indirect);
    rte_mbuf* frags[8];
    uint16_t n = 0;
    ASSERT_EQ(fr.fragment(copy_in(g_pool, whole.data(), whole.size()), eth_hdr_len, 1500, frags, 8, n), FragmentResult::ok);
    ASSERT_EQ(n, 3);
    size_t next = 0;
    for (uint16_t i = 0; i < n; i++) {
        const Bytes b = contiguous(frags[i]);
        ASSERT_LE(b.size() - 14, 1500u);
        EXPECT_EQ(0, std::memcmp(b.data(), whole.data(), 14)) << "L2 header copied";
        Ipv4Hdr h;
        std::memcpy(&h, b.data() + 14, 20);
        EXPECT_EQ(csum_fold(csum_add(0, b.data() + 14, 20)), 0) << "header checksum " << i;
        const uint16_t fo = be16(h.frag);
        EXPECT_EQ(size_t(fo & 0x1fff) * 8, next);
        EXPECT_EQ(bool(fo & 0x2000), i + 1 < n) << "MF";
        EXPECT_FALSE(fo & 0x4000) << "DF";
        EXPECT_EQ(be16(h.total_len), b.size() - 14);
        EXPECT_EQ(0, std::memcmp(b.data() + 34, whole.data() + 34 + next, b.size() - 34));
        next += b.size() - 34;
    }
    EXPECT_EQ(next, whole.size() - 34);

    rte_mbuf* got = nullptr;
    for (int i : {2, 0, 1})
        if (rte_mbuf* d = r->reassemble(frags[i], eth_hdr_len, 10)) got = d;
    ASSERT_NE(got, nullptr);
    const Bytes b = contiguous(got);
    ASSERT_EQ(b.size(), whole.size());
    // Same bytes but for the cleared DF flag and the header checksum that follows.
    Bytes want = whole;
    want[14 + 6] &= ~0x40;
    want[24] = want[25] = 0;
    const uint16_t c = csum_fold(csum_add(0, want.data() + 14, 20));
    std::memcpy(want.data() + 24, &c, 2);
    EXPECT_EQ(b, want);
    rte_pktmbuf_free(got);
}

TEST_F(IpFrag, FragmenterPassesSmallDatagramsAndRefusesTooManyPieces) {
    Fragmenter fr(g_pool, g_indirect);
    rte_mbuf* out[2];
    uint16_t n = 0;
    rte_mbuf* small = to_mbuf(frame("hi", 1));
    ASSERT_EQ(fr.fragment(small, eth_hdr_len, 1500, out, 2, n), FragmentResult::ok);
    EXPECT_EQ(n, 1);
    EXPECT_EQ(out[0], small);
    rte_pktmbuf_free(small);
    const Bytes big = frame(invite(4000), 2);
    EXPECT_EQ(fr.fragment(copy_in(g_pool, big.data(), big.size()), eth_hdr_len, 1500, out, 2, n),
              FragmentResult::too_many);
    EXPECT_EQ(n, 0);
}

}  // namespace
}  // namespace sipedge::dp

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!sipedge::test::eal_up("sipedge_ipfrag_", "0", {"--log-level=user1:warning"}, "256"))
        return 77;
    using namespace sipedge::dp;
    g_pool = rte_pktmbuf_pool_create("ipf_pool", pool_size, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     int(rte_socket_id()));
    g_indirect = rte_pktmbuf_pool_create("ipf_ind", pool_size, 0, 0, 0, int(rte_socket_id()));
    if (!g_pool || !g_indirect) {
        std::fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
        sipedge::test::eal_down();
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    sipedge::test::eal_down();
    return rc;
}
