// Frame decoding for sipedge-inspect (tools/inspect/capture.h): link layers, IPv4,
// IPv6 extension headers, UDP, and the hand-off to IPv4 reassembly. Frames
// are built byte by byte here so every length field can be made wrong.

#include "tools/inspect/capture.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace sipedge::ctl {
namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes& b, uint16_t v) {
    b.push_back(uint8_t(v >> 8));
    b.push_back(uint8_t(v));
}

Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload, int len_fix = 0) {
    Bytes b;
    put16(b, sport);
    put16(b, dport);
    put16(b, uint16_t(8 + payload.size() + len_fix));
    put16(b, 0);  // checksum: not verified
    return cat(b, payload);
}

const uint8_t v4_src[4] = {192, 0, 2, 1};
const uint8_t v4_dst[4] = {198, 51, 100, 7};

// IPv4 header (no options unless <ihl_words> > 5) + payload.
Bytes ipv4(uint8_t proto, const Bytes& payload, uint16_t id = 0x42, uint16_t frag_field = 0,
           int ihl_words = 5, int total_fix = 0) {
    Bytes b;
    b.push_back(uint8_t(0x40 | ihl_words));
    b.push_back(0);
    put16(b, uint16_t(std::max(ihl_words, 5) * 4 + payload.size() + total_fix));
    put16(b, id);
    put16(b, frag_field);
    b.push_back(64);
    b.push_back(proto);
    put16(b, 0);
    b.insert(b.end(), v4_src, v4_src + 4);
    b.insert(b.end(), v4_dst, v4_dst + 4);
    for (int i = 5; i < ihl_words; i++) b.insert(b.end(), {1, 1, 1, 1});  // NOP options
    return cat(b, payload);
}

Bytes v6_addr(uint8_t last) {
    Bytes a(16, 0);  // 2001:db8::<last>
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = last;
    return a;
}

Bytes ipv6(uint8_t next, const Bytes& payload) {
    Bytes b = {0x60, 0, 0, 0};
    put16(b, uint16_t(payload.size()));
    b.push_back(next);
    b.push_back(64);
    b = cat(b, v6_addr(1));
    b = cat(b, v6_addr(2));
    return cat(b, payload);
}

Bytes eth(uint16_t type, const Bytes& payload, std::vector<uint16_t> tags = {}) {
    Bytes b(12, 0xee);
    for (size_t i = 0; i < tags.size(); i++) {
        put16(b, i == 0 && tags.size() == 2 ? 0x88a8 : 0x8100);
        put16(b, tags[i]);
    }
    put16(b, type);
    b = cat(b, payload);
    if (b.size() < 60) b.resize(60, 0);  // Ethernet minimum: padding after IP
    return b;
}

// Decodes a copy of <f> kept alive for the rest of the run: Packet points into it.
Packet decode(LinkType l, const Bytes& f) {
    static std::deque<Bytes> frames;
    frames.push_back(f);
    return decode_frame(l, frames.back().data(), frames.back().size());
}

std::string payload_of(const Packet& p) {
    return std::string(reinterpret_cast<const char*>(p.payload), p.payload_len);
}

std::string endpoint(const IpAddr& a, uint16_t port) {
    char buf[endpoint_text_max];
    const size_t n = format_endpoint(a, port, buf);
    return std::string(buf, n);
}

const Bytes hello = text("OPTIONS sip:x SIP/2.0\r\n");

TEST(CaptureDecode, EthernetIpv4UdpWithPadding) {
    const Bytes small = text("hi");
    const Packet p = decode(LinkType::ethernet, eth(0x0800, ipv4(17, udp(5060, 5080, small))));
    ASSERT_EQ(p.status, DecodeStatus::udp);
    EXPECT_EQ(payload_of(p), "hi");  // the 60-byte minimum padding is not payload
    EXPECT_EQ(p.sport, 5060);
    EXPECT_EQ(p.dport, 5080);
    EXPECT_FALSE(p.has_vlan);
    EXPECT_EQ(endpoint(p.src, p.sport), "192.0.2.1:5060");
    EXPECT_EQ(endpoint(p.dst, p.dport), "198.51.100.7:5080");
}

TEST(CaptureDecode, Ipv4OptionsSkipped) {
    const Packet p = decode(LinkType::ethernet, eth(0x0800, ipv4(17, udp(1, 2, hello), 1, 0, 7)));
    ASSERT_EQ(p.status, DecodeStatus::udp);
    EXPECT_EQ(payload_of(p), "OPTIONS sip:x SIP/2.0\r\n");
}

TEST(CaptureDecode, VlanAndQinQ) {
    Packet p = decode(LinkType::ethernet, eth(0x0800, ipv4(17, udp(1, 2, hello)), {100}));
    ASSERT_EQ(p.status, DecodeStatus::udp);
    EXPECT_TRUE(p.has_vlan);
    EXPECT_EQ(p.vlan, 100);
    // 802.1ad outer tag (with PCP bits set) then 802.1Q: the outer id is kept.
    p = decode(LinkType::ethernet, eth(0x86dd, ipv6(17, udp(1, 2, hello)), {0xe000 | 300, 7}));
    ASSERT_EQ(p.status, DecodeStatus::udp);
    EXPECT_EQ(p.vlan, 300);
    EXPECT_EQ(payload_of(p), "OPTIONS sip:x SIP/2.0\r\n");
}

TEST(CaptureDecode, Ipv6ExtensionHeaders) {
    // Hop-by-hop (8 bytes, next = destination options), destination options
    // (16 bytes, next = UDP).
    Bytes ext = {60, 0, 1, 4, 0, 0, 0, 0};
    const Bytes dst_opts = {17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ext = cat(cat(ext, dst_opts), udp(5060, 5060, hello));
    const Packet p = decode(LinkType::ethernet, eth(0x86dd, ipv6(0, ext)));
    ASSERT_EQ(p.status, DecodeStatus::udp);
    EXPECT_EQ(payload_of(p), "OPTIONS sip:x SIP/2.0\r\n");
    EXPECT_EQ(endpoint(p.src, p.sport), "[2001:db8::1]:5060");
    EXPECT_TRUE(p.dst.v6);
}

TEST(CaptureDecode, Ipv6Fragments) {
    // RFC 6946 atomic fragment (offset 0, M = 0): a whole datagram.
    const Bytes atomic = cat({17, 0, 0, 0, 0, 0, 0, 9}, udp(1, 2, hello));
    EXPECT_EQ(decode(LinkType::raw_ip, ipv6(44, atomic)).status, DecodeStatus::udp);
    // M set: a real fragment, which the tool does not reassemble.
    const Bytes first = cat({17, 0, 0, 1, 0, 0, 0, 9}, udp(1, 2, hello));
    EXPECT_EQ(decode(LinkType::raw_ip, ipv6(44, first)).status, DecodeStatus::ipv6_fragment);
}

TEST(CaptureDecode, OtherLinkTypes) {
    const Bytes ip4 = ipv4(17, udp(7, 8, hello));
    Bytes sll = {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00};
    Packet p = decode(LinkType::linux_sll, cat(sll, ip4));
    ASSERT_EQ(p.status, DecodeStatus::udp);
    EXPECT_EQ(p.dport, 8);

    Bytes sll2 = {0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0};
    p = decode(LinkType::linux_sll2, cat(sll2, ipv6(17, udp(7, 9, hello))));
    ASSERT_EQ(p.status, DecodeStatus::udp);
    EXPECT_EQ(p.dport, 9);

    EXPECT_EQ(decode(LinkType::raw_ip, ip4).status, DecodeStatus::udp);
    EXPECT_EQ(decode(LinkType::null_loop, cat({2, 0, 0, 0}, ip4)).status, DecodeStatus::udp);
    EXPECT_EQ(decode(LinkType::null_loop, cat({0, 0, 0, 30}, ipv6(17, udp(1, 2, hello)))).status,
              DecodeStatus::udp);
    EXPECT_EQ(decode(LinkType::unsupported, ip4).status, DecodeStatus::unsupported_link);
}

TEST(CaptureDecode, LinkTypeFromDlt) {
    EXPECT_EQ(link_type_from_dlt(1), LinkType::ethernet);
    EXPECT_EQ(link_type_from_dlt(113), LinkType::linux_sll);
    EXPECT_EQ(link_type_from_dlt(276), LinkType::linux_sll2);
    EXPECT_EQ(link_type_from_dlt(12), LinkType::raw_ip);
    EXPECT_EQ(link_type_from_dlt(101), LinkType::raw_ip);
    EXPECT_EQ(link_type_from_dlt(229), LinkType::raw_ip);
    EXPECT_EQ(link_type_from_dlt(0), LinkType::null_loop);
    EXPECT_EQ(link_type_from_dlt(105), LinkType::unsupported);  // 802.11
}

TEST(CaptureDecode, SkippedAndBrokenFrames) {
    EXPECT_EQ(decode(LinkType::ethernet, eth(0x0806, Bytes(28, 0))).status, DecodeStatus::not_ip);
    EXPECT_EQ(decode(LinkType::ethernet, eth(0x0800, ipv4(6, Bytes(20, 0)))).status, DecodeStatus::not_udp);
    EXPECT_EQ(decode(LinkType::raw_ip, ipv6(58, Bytes(8, 0))).status, DecodeStatus::not_udp);
    EXPECT_EQ(decode(LinkType::ethernet, Bytes(13, 0)).status, DecodeStatus::truncated);

    // IHL below 5.
    EXPECT_EQ(decode(LinkType::raw_ip, ipv4(17, udp(1, 2, hello), 1, 0, 4)).status, DecodeStatus::malformed);
    // Total length past the captured bytes (snap length).
    Bytes cut = ipv4(17, udp(1, 2, hello));
    cut.erase(cut.end() - 3, cut.end());
    EXPECT_EQ(decode(LinkType::raw_ip, cut).status, DecodeStatus::truncated);
    // UDP length below 8, and past the IP payload.
    EXPECT_EQ(decode(LinkType::raw_ip, ipv4(17, udp(1, 2, hello, -int(hello.size()) - 1))).status,
              DecodeStatus::malformed);
    EXPECT_EQ(decode(LinkType::raw_ip, ipv4(17, udp(1, 2, hello, 1))).status, DecodeStatus::truncated);
    // A UDP length shorter than the IP payload: the rest is not payload.
    const Packet p = decode(LinkType::raw_ip, ipv4(17, udp(1, 2, hello, -2)));
    ASSERT_EQ(p.status, DecodeStatus::udp);
    EXPECT_EQ(p.payload_len, hello.size() - 2);
    // Extension header running past the payload.
    EXPECT_EQ(decode(LinkType::raw_ip, ipv6(0, {17, 4, 0, 0, 0, 0, 0, 0})).status, DecodeStatus::truncated);
    // Neither IPv4 nor IPv6 on a raw link.
    EXPECT_EQ(decode(LinkType::raw_ip, Bytes(40, 0x50)).status, DecodeStatus::not_ip);
}

TEST(CaptureDecode, Ipv4FragmentsReassembleToUdp) {
    Bytes body(3000);
    for (size_t i = 0; i < body.size(); i++) body[i] = uint8_t('a' + i % 26);
    const Bytes dgram = udp(5060, 5060, body);
    const uint32_t chunk = 1480;
    std::vector<Bytes> frames;
    for (uint32_t off = 0; off < dgram.size(); off += chunk) {
        const size_t n = std::min<size_t>(chunk, dgram.size() - off);
        const bool more = off + n < dgram.size();
        const Bytes part(dgram.begin() + off, dgram.begin() + off + n);
        frames.push_back(eth(0x0800, ipv4(17, part, 0x777, uint16_t((more ? 0x2000 : 0) | off / 8))));
    }
    ASSERT_EQ(frames.size(), 3u);

    Ipv4Reassembler r;
    const int order[] = {2, 0, 1};
    Packet last;
    for (int k = 0; k < 3; k++) {
        Packet p = decode(LinkType::ethernet, frames[size_t(order[k])]);
        ASSERT_EQ(p.status, DecodeStatus::ipv4_fragment);
        EXPECT_EQ(p.fragment.key.id, 0x777);
        EXPECT_EQ(p.fragment.key.proto, 17);
        EXPECT_EQ(p.fragment.offset, uint32_t(order[k]) * chunk);
        EXPECT_EQ(p.fragment.more, order[k] != 2);
        const ReasmStatus s = r.add(p.fragment, uint64_t(k));
        EXPECT_EQ(s, k == 2 ? ReasmStatus::complete : ReasmStatus::pending);
        last = p;
    }
    ASSERT_EQ(decode_udp(r.payload().data(), r.payload().size(), last), DecodeStatus::udp);
    EXPECT_EQ(last.payload_len, body.size());
    EXPECT_EQ(0, std::memcmp(last.payload, body.data(), body.size()));
    EXPECT_EQ(endpoint(last.src, last.sport), "192.0.2.1:5060");

    // A non-UDP fragment is still reported as not_udp (never reassembled).
    EXPECT_EQ(decode(LinkType::raw_ip, ipv4(6, Bytes(16, 0), 1, 0x2000)).status, DecodeStatus::not_udp);
}

TEST(CaptureDecode, CaptureMagic) {
    const uint8_t pcap_le[] = {0xd4, 0xc3, 0xb2, 0xa1};
    const uint8_t pcap_ns_be[] = {0xa1, 0xb2, 0x3c, 0x4d};
    const uint8_t pcapng[] = {0x0a, 0x0d, 0x0d, 0x0a};
    const uint8_t sip[] = {'I', 'N', 'V', 'I'};
    EXPECT_TRUE(is_capture_magic(pcap_le, 4));
    EXPECT_TRUE(is_capture_magic(pcap_ns_be, 4));
    EXPECT_TRUE(is_capture_magic(pcapng, 4));
    EXPECT_FALSE(is_capture_magic(sip, 4));
    EXPECT_FALSE(is_capture_magic(pcapng, 3));
}

TEST(CaptureDecode, StatusNames) {
    for (size_t i = 0; i < size_t(DecodeStatus::count_); i++)
        EXPECT_STRNE(decode_status_name(DecodeStatus(i)), "unknown");
}

}  // namespace
}  // namespace sipedge::ctl
