// Pure L2/L3 helpers (dataplane/inet.h) and the ARP cache (arp_cache.h).

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "dataplane/arp_cache.h"
#include "dataplane/inet.h"

namespace sipedge::dp {
namespace {

// RFC 1071 §3 example words 0001 f203 f4f5 f6f7: sum ddf2, checksum 220d.
TEST(Inet, ChecksumRfc1071Example) {
    const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    uint16_t c = csum_fold(csum_add(0, d, sizeof(d)));
    EXPECT_EQ(be16(c), 0x220d);
}

// The wide (SIMD) sum is the word-by-word one: every length to 2,100 bytes at
// every alignment, with a running sum carried in, extreme bytes included.
TEST(Inet, ChecksumMatchesTheWordByWordSum) {
    auto slow = [](uint32_t sum, const uint8_t* p, size_t n) {
        uint64_t s = sum;
        for (size_t i = 0; i + 1 < n; i += 2) s += uint16_t(p[i] | p[i + 1] << 8);
        if (n & 1) s += p[n - 1];
        while (s >> 16) s = (s & 0xffff) + (s >> 16);
        return uint16_t(~s);
    };
    std::vector<uint8_t> buf(2200);
    uint32_t x = 12345;
    for (auto& b : buf) b = uint8_t((x = x * 1103515245 + 12345) >> 16);
    for (size_t i = 0; i < 64; i++) buf[100 + i] = 0xff;  // long carry chains
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n <= 2100; n++) {
            const uint32_t in = uint32_t(n * 2654435761u);
            ASSERT_EQ(be16(csum_fold(csum_add(in, buf.data() + off, n))), be16(slow(in, buf.data() + off, n)))
                << off << " " << n;
        }
    // All ones with an all-ones sum: a carry out of every 64-bit add.
    std::vector<uint8_t> ones(300, 0xff);
    for (size_t n = 0; n <= ones.size(); n++)
        ASSERT_EQ(csum_fold(csum_add(0xffffffffu, ones.data(), n)), slow(0xffffffffu, ones.data(), n)) << n;
    std::vector<uint8_t> big(600000, 0xff);  // long inputs
    EXPECT_EQ(csum_fold(csum_add(0, big.data(), big.size())), slow(0, big.data(), big.size()));
}

TEST(Inet, Hdr20SumIsCsumAdd) {
    uint8_t h[20];
    uint32_t x = 7;
    for (int i = 0; i < 5000; i++) {
        for (auto& b : h) b = uint8_t((x = x * 1103515245 + 12345) >> 16);
        if (i < 8) std::memset(h, i & 1 ? 0xff : 0, sizeof h);  // all ones, all zeros
        ASSERT_EQ(csum_fold(csum_hdr20(h)), csum_fold(csum_add(0, h, sizeof h))) << i;
    }
    for (uint32_t s : {0u, 1u, 0xffffu, 0x10000u, 0x1fffeu, 0xfffeffffu, 0xffffffffu}) {
        uint64_t r = s;  // the reference fold
        while (r >> 16) r = (r & 0xffff) + (r >> 16);
        EXPECT_EQ(csum_fold(s), uint16_t(~r)) << s;
    }
}

TEST(Inet, PseudoSumIsTheSumOfThePseudoHeader) {
    uint32_t x = 99;
    for (int i = 0; i < 2000; i++) {
        const uint32_t src = (x = x * 1103515245 + 12345), dst = (x = x * 1103515245 + 12345);
        const uint8_t proto = uint8_t(i & 1 ? ipproto_udp : ipproto_tcp);
        const size_t len = i < 1000 ? size_t(i) : size_t(65535 - (i - 1000));
        struct __attribute__((packed)) {
            uint32_t src, dst;
            uint8_t zero, proto;
            uint16_t len;
        } ph{be32(src), be32(dst), 0, proto, be16(uint16_t(len))};
        ASSERT_EQ(csum_fold(pseudo_sum(src, dst, proto, len)), csum_fold(csum_add(0, &ph, sizeof(ph)))) << i;
    }
    EXPECT_EQ(csum_fold(pseudo_sum(0xffffffffu, 0xffffffffu, 0xff, 0xffff)),
              csum_fold(csum_add(0, "\xff\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff", 12)));
    EXPECT_EQ(csum_fold(pseudo_sum(0, 0, 0, 0)), 0xffff);
}

TEST(Inet, BuildThenCheckRoundTrips) {
    std::vector<uint8_t> pkt(28 + 5);
    std::memcpy(pkt.data() + 28, "hello", 5);
    build_ipv4_udp(pkt.data(), 0xc000020a, 5060, 0xc0000201, 5061, 5, 7);
    size_t ihl = 0, tot = 0, plen = 0;
    ASSERT_EQ(ipv4_check(pkt.data(), pkt.size(), ihl, tot), Ipv4Check::ok);
    EXPECT_EQ(ihl, 20u);
    EXPECT_EQ(tot, 33u);
    EXPECT_EQ(udp_check(0xc000020a, 0xc0000201, pkt.data() + 20, 13, plen), UdpCheck::ok);
    EXPECT_EQ(plen, 5u);
}

struct Ipv4Case {
    const char* what;
    size_t off;      // byte to change
    uint8_t value;
    bool fix_csum;   // recompute the header checksum after the change
    Ipv4Check want;
};

TEST(Inet, Ipv4ChecksTable) {
    const Ipv4Case cases[] = {
        {"version 6", 0, 0x65, true, Ipv4Check::malformed},
        {"ihl 4", 0, 0x44, true, Ipv4Check::malformed},
        {"total length beyond the frame (cut short)", 3, 0xff, true, Ipv4Check::truncated},
        {"total length below the header", 3, 0x10, true, Ipv4Check::malformed},
        {"bad header checksum", 8, 1, false, Ipv4Check::bad_csum},
        {"more fragments", 6, 0x20, true, Ipv4Check::fragment},
        {"fragment offset", 7, 0x01, true, Ipv4Check::fragment},
        {"ttl change with checksum", 8, 9, true, Ipv4Check::ok},
    };
    for (const Ipv4Case& c : cases) {
        std::vector<uint8_t> pkt(28 + 4, 0);
        build_ipv4_udp(pkt.data(), 1, 2, 3, 4, 4, 0);
        pkt[c.off] = c.value;
        if (c.fix_csum) {
            pkt[10] = pkt[11] = 0;
            const uint16_t s = csum_fold(csum_add(0, pkt.data(), 20));
            std::memcpy(&pkt[10], &s, 2);
        }
        size_t ihl, tot;
        EXPECT_EQ(ipv4_check(pkt.data(), pkt.size(), ihl, tot), c.want) << c.what;
    }
}

TEST(Inet, UdpChecks) {
    std::vector<uint8_t> pkt(28 + 4, 0);
    build_ipv4_udp(pkt.data(), 1, 2, 3, 4, 4, 0);
    size_t plen;
    pkt[28] ^= 1;  // payload corrupted
    EXPECT_EQ(udp_check(1, 3, pkt.data() + 20, 12, plen), UdpCheck::bad_csum);
    pkt[26] = pkt[27] = 0;  // checksum 0: none (IPv4)
    EXPECT_EQ(udp_check(1, 3, pkt.data() + 20, 12, plen), UdpCheck::ok);
    pkt[24] = 0, pkt[25] = 40;  // length beyond the datagram
    EXPECT_EQ(udp_check(1, 3, pkt.data() + 20, 12, plen), UdpCheck::malformed);
}

// A veth peer's kernel leaves UDP checksums to an offload (CHECKSUM_PARTIAL):
// the field holds the folded pseudo-header sum, udp4_hwcsum()'s
// ~csum_tcpudp_magic(). 192.0.2.1 -> 192.0.2.10, UDP length 13:
// c000 + 0201 + c000 + 020a + 0011 + 000d = 0x18429, folded 0x842a.
TEST(Inet, PartialChecksumIsThePseudoHeaderSum) {
    EXPECT_EQ(be16(udp_partial_csum(0xc0000201, 0xc000020a, 13)), 0x842a);
    std::vector<uint8_t> pkt(28 + 5);
    std::memcpy(pkt.data() + 28, "hello", 5);
    build_ipv4_udp(pkt.data(), 0xc0000201, 5060, 0xc000020a, 5060, 5, 1);
    uint8_t* udp = pkt.data() + 20;
    size_t plen = 0;
    // A full checksum is good and is not taken for a partial one.
    EXPECT_EQ(udp_check(0xc0000201, 0xc000020a, udp, 13, plen), UdpCheck::ok);
    EXPECT_FALSE(udp_csum_is_partial(0xc0000201, 0xc000020a, udp, 13));
    uint16_t full_csum;
    std::memcpy(&full_csum, udp + 6, 2);
    // What the sender's kernel wrote before the offload that never came.
    udp[6] = 0x84, udp[7] = 0x2a;
    EXPECT_EQ(udp_check(0xc0000201, 0xc000020a, udp, 13, plen), UdpCheck::bad_csum);
    EXPECT_TRUE(udp_csum_is_partial(0xc0000201, 0xc000020a, udp, 13));
    // Completing it as the offload would (sum from the UDP header on, the
    // field as the seed, complemented) gives the checksum a full sender sends.
    const uint16_t done = csum_fold(csum_add(0, udp, 13));
    EXPECT_EQ(done, full_csum);
    // Not partial: another address pair or length, a corrupt field, no checksum,
    // a length field beyond the datagram.
    EXPECT_FALSE(udp_csum_is_partial(0xc0000202, 0xc000020a, udp, 13));
    udp[7] ^= 1;
    EXPECT_FALSE(udp_csum_is_partial(0xc0000201, 0xc000020a, udp, 13));
    udp[6] = udp[7] = 0;
    EXPECT_FALSE(udp_csum_is_partial(0xc0000201, 0xc000020a, udp, 13));
    udp[6] = 0x84, udp[7] = 0x2a;
    EXPECT_FALSE(udp_csum_is_partial(0xc0000201, 0xc000020a, udp, 12));
    EXPECT_FALSE(udp_csum_is_partial(0xc0000201, 0xc000020a, udp, 7));
    // A payload corrupted after the partial sum was written is not caught:
    // the partial sum does not cover it (what the kernel trusts locally too).
    pkt[28] ^= 1;
    EXPECT_TRUE(udp_csum_is_partial(0xc0000201, 0xc000020a, udp, 13));
}

// Issue 14: a TCP segment whose field holds the pseudo-header partial sum
// (CHECKSUM_PARTIAL on a veth) gets its full checksum; a good or a corrupt
// field is left alone.
TEST(Inet, TcpPartialChecksumIsCompleted) {
    const uint32_t src = 0xc0000201, dst = 0xc000020a;
    uint8_t seg[27] = {0x13, 0xc4, 0x13, 0xc5, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x20, 0};
    std::memcpy(seg + 20, "hello\r\n", 7);
    struct __attribute__((packed)) {
        uint32_t s, d;
        uint8_t z, p;
        uint16_t l;
    } ph{be32(src), be32(dst), 0, ipproto_tcp, be16(sizeof(seg))};
    const uint32_t pseudo = csum_add(0, &ph, sizeof(ph));
    const uint16_t partial = uint16_t(~csum_fold(pseudo));
    std::memcpy(seg + 16, &partial, 2);
    ASSERT_TRUE(tcp_complete_partial_csum(src, dst, seg, sizeof(seg)));
    EXPECT_EQ(csum_fold(csum_add(pseudo, seg, sizeof(seg))), 0) << "a full checksum verifies to 0";
    uint8_t good[sizeof(seg)];
    std::memcpy(good, seg, sizeof(seg));
    EXPECT_FALSE(tcp_complete_partial_csum(src, dst, seg, sizeof(seg)));  // good: left alone
    EXPECT_EQ(0, std::memcmp(good, seg, sizeof(seg)));
    seg[17] ^= 0x40;  // corrupt: left alone for the kernel to drop
    EXPECT_FALSE(tcp_complete_partial_csum(src, dst, seg, sizeof(seg)));
    EXPECT_FALSE(tcp_complete_partial_csum(src, dst, seg, 19));  // shorter than a TCP header
}

TEST(Inet, UdpCheckWithoutVerifyingTheChecksum) {
    std::vector<uint8_t> pkt(28 + 4, 0);
    build_ipv4_udp(pkt.data(), 1, 2, 3, 4, 4, 0);
    pkt[28] ^= 1;
    size_t plen = 0;
    EXPECT_EQ(udp_check(1, 3, pkt.data() + 20, 12, plen, false), UdpCheck::ok);
    EXPECT_EQ(plen, 4u);
    pkt[24] = 0, pkt[25] = 40;  // lengths are still checked
    EXPECT_EQ(udp_check(1, 3, pkt.data() + 20, 12, plen, false), UdpCheck::malformed);
}

TEST(Inet, Ipv4TextTable) {
    struct {
        const char* s;
        bool ok;
        uint32_t v;
    } cases[] = {{"192.0.2.10", true, 0xc000020a}, {"0.0.0.0", true, 0},
                 {"255.255.255.255", true, 0xffffffff}, {"256.1.1.1", false, 0},
                 {"1.2.3", false, 0}, {"1.2.3.4.5", false, 0}, {"1.2.3.x", false, 0},
                 {"", false, 0}, {"1..2.3", false, 0}, {"1234.1.1.1", false, 0},
                 {"1.2.3.256", false, 0}, {"1.2.3.4 ", false, 0}, {"1.2.3.", false, 0},
                 {".1.2.3", false, 0}, {"1.2.3.0004", false, 0}, {"-1.2.3.4", false, 0}};
    for (const auto& c : cases) {
        uint32_t v = 0;
        EXPECT_EQ(parse_ipv4(c.s, v), c.ok) << c.s;
        if (c.ok) {
            EXPECT_EQ(v, c.v) << c.s;
            char b[16];
            EXPECT_EQ(std::string(b, format_ipv4(v, b)), c.s);
        }
    }
    uint32_t lz = 0;  // leading zeros are decimal, as they always were
    EXPECT_TRUE(parse_ipv4("010.001.002.003", lz));
    EXPECT_EQ(lz, 0x0a010203u);
    EXPECT_TRUE(same_subnet(0xc000020a, 0xc00002ff, 24));
    EXPECT_FALSE(same_subnet(0xc000020a, 0xc0000301, 24));
}

MacAddr mac(uint8_t x) {
    MacAddr m;
    std::memset(m.b, x, 6);
    return m;
}

TEST(ArpCache, MissParksThenLearnReleases) {
    ArpCache c;
    MacAddr m;
    auto r = c.resolve(5, 0, m, 111);
    EXPECT_EQ(r.status, ArpCache::Status::parked);
    EXPECT_TRUE(r.send_request);
    r = c.resolve(5, 10, m, 222);  // a second packet waits too, no second request
    EXPECT_EQ(r.status, ArpCache::Status::parked);
    EXPECT_FALSE(r.send_request);
    EXPECT_EQ(r.replaced, 0u);
    const ArpCache::Parked p = c.learn(5, mac(7), 20, false);
    ASSERT_EQ(p.n, 2u);
    EXPECT_EQ(p.c[0], 111u);  // in the order they came
    EXPECT_EQ(p.c[1], 222u);
    r = c.resolve(5, 30, m, 333);
    EXPECT_EQ(r.status, ArpCache::Status::hit);
    EXPECT_EQ(m, mac(7));
    EXPECT_EQ(c.learn(5, mac(7), 40, false).n, 0u);  // nothing parked any more
}

// A burst beyond park_max: for each packet past park_max the oldest is given
// back (to be dropped), so the newest park_max are released, in order.
TEST(ArpCache, BurstKeepsTheNewestParkMax) {
    ArpCache c;
    MacAddr m;
    std::vector<uint64_t> replaced;
    for (uint64_t k = 1; k <= ArpCache::park_max + 2; k++) {
        const auto r = c.resolve(5, k, m, k);
        EXPECT_EQ(r.status, ArpCache::Status::parked);
        EXPECT_EQ(r.send_request, k == 1);
        if (r.replaced) replaced.push_back(r.replaced);
    }
    EXPECT_EQ(replaced, (std::vector<uint64_t>{1, 2}));
    const ArpCache::Parked p = c.learn(5, mac(7), 20, false);
    ASSERT_EQ(p.n, ArpCache::park_max);
    for (size_t i = 0; i < ArpCache::park_max; i++) EXPECT_EQ(p.c[i], i + 3);
}

TEST(ArpCache, UnansweredRequestsDropTheParkedPacket) {
    ArpCache c(ArpCache::Config{60000, 1000, 3});
    MacAddr m;
    c.resolve(9, 0, m, 42);
    c.resolve(9, 1, m, 43);
    std::vector<uint32_t> reqs;
    std::vector<uint64_t> drops;
    for (uint64_t t = 0; t <= 5000; t += 100)
        c.tick(t, [&](uint32_t ip) { reqs.push_back(ip); }, [&](uint64_t k) { drops.push_back(k); });
    EXPECT_EQ(reqs.size(), 2u);  // tries 2 and 3 (the first went with resolve())
    ASSERT_EQ(drops.size(), 2u);  // every parked packet
    EXPECT_EQ(drops[0], 42u);
    EXPECT_EQ(drops[1], 43u);
    EXPECT_EQ(c.size(), 0u);
}

TEST(ArpCache, ExpiredEntryIsUsedWhileReconfirmed) {
    ArpCache c(ArpCache::Config{1000, 100, 2});
    MacAddr m;
    c.learn(3, mac(1), 0, true);
    auto r = c.resolve(3, 1500, m, 0);
    EXPECT_EQ(r.status, ArpCache::Status::hit);
    EXPECT_TRUE(r.send_request);
    int reqs = 0;
    c.tick(1600, [&](uint32_t) { reqs++; }, [](uint64_t) {});
    c.tick(1700, [&](uint32_t) { reqs++; }, [](uint64_t) {});
    EXPECT_EQ(reqs, 1);
    EXPECT_EQ(c.size(), 0u);  // no answer after max_tries: forgotten
    EXPECT_EQ(c.learn(3, mac(2), 1800, false).n, 0u);  // unsolicited: not created
    EXPECT_EQ(c.size(), 0u);
}

TEST(ArpCache, FullTableEvictsOldestReachable) {
    ArpCache c;
    for (uint32_t i = 0; i < ArpCache::capacity; i++) c.learn(100 + i, mac(1), i, true);
    MacAddr m;
    auto r = c.resolve(7, 1000, m, 9);
    EXPECT_EQ(r.status, ArpCache::Status::parked);
    EXPECT_EQ(c.resolve(100, 1000, m, 0).status, ArpCache::Status::parked);  // evicted
}

// Worker::prime_next_hops: a trunk server's next hop resolved before the
// first packet, so a burst towards it is sent, not parked and dropped.
TEST(ArpCache, PrimeResolvesAheadAndNeverCrowdsOutTraffic) {
    ArpCache c;
    MacAddr m;
    EXPECT_TRUE(c.prime(5, 0));    // unknown: an entry and a request
    EXPECT_FALSE(c.prime(5, 1));   // being resolved: nothing more
    EXPECT_EQ(c.learn(5, mac(9), 2, false).n, 0u);  // the reply (nothing was parked)
    for (int i = 0; i < 10; i++) {  // a burst now goes at once
        const auto r = c.resolve(5, 3, m, 100 + uint64_t(i));
        EXPECT_EQ(r.status, ArpCache::Status::hit);
        EXPECT_EQ(r.replaced, 0u);
    }
    EXPECT_EQ(m, mac(9));
    EXPECT_FALSE(c.prime(5, 4));   // known: left alone
    // An address that never answers: retried by tick() and freed as any other.
    EXPECT_TRUE(c.prime(6, 0));
    std::vector<uint32_t> asked;
    int dropped = 0;
    for (uint64_t t = 0; t <= 5000; t += 100)
        c.tick(t, [&](uint32_t ip) { asked.push_back(ip); }, [&](uint64_t) { dropped++; });
    EXPECT_EQ(asked, (std::vector<uint32_t>{6, 6}));  // max_tries 3: the prime's + 2 retries
    EXPECT_EQ(dropped, 0);
    EXPECT_TRUE(c.prime(6, 5001));  // freed: may be primed again
    // Primes stop at half the cache; traffic still gets the rest.
    size_t primed = 0;
    for (uint32_t ip = 1000; ip < 1000 + ArpCache::capacity; ip++) primed += c.prime(ip, 6000);
    EXPECT_EQ(c.size(), ArpCache::capacity / 2);
    EXPECT_EQ(primed, ArpCache::capacity / 2 - 2);  // 5 and 6 hold two entries
    EXPECT_EQ(c.resolve(7, 6000, m, 1).status, ArpCache::Status::parked);
}

}  // namespace
}  // namespace sipedge::dp
