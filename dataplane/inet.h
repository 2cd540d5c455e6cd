#pragma once
// Pure Ethernet/ARP/IPv4/UDP/ICMP helpers for the worker: header layouts,
// the Internet checksum, receive-side checks and transmit-side builders.
// No DPDK: they work on byte buffers so tests/dataplane checks them alone.
// Addresses and ports are host byte order in every API here; the structs
// hold wire (network) order.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace sipedge::dp {

struct MacAddr {
    uint8_t b[6];  // no initializer: keeps the wire structs POD (packed)
    friend bool operator==(const MacAddr&, const MacAddr&) = default;
    bool is_broadcast() const noexcept {
        return (b[0] & b[1] & b[2] & b[3] & b[4] & b[5]) == 0xff;
    }
    bool is_multicast() const noexcept { return b[0] & 1; }
};

inline constexpr uint16_t ethertype_ipv4 = 0x0800;
inline constexpr uint16_t ethertype_arp = 0x0806;
inline constexpr uint8_t ipproto_icmp = 1;
inline constexpr uint8_t ipproto_udp = 17;
inline constexpr uint8_t ipproto_tcp = 6;
inline constexpr size_t eth_hdr_len = 14;
inline constexpr size_t ipv4_hdr_len = 20;  // without options (what we send)
inline constexpr size_t udp_hdr_len = 8;
inline constexpr size_t arp_pkt_len = 28;

struct __attribute__((packed)) EthHdr {
    MacAddr dst, src;
    uint16_t type;  // network order
};
struct __attribute__((packed)) ArpPkt {
    uint16_t htype, ptype;
    uint8_t hlen, plen;
    uint16_t op;  // 1 request, 2 reply
    MacAddr sha;
    uint32_t spa;
    MacAddr tha;
    uint32_t tpa;
};
struct __attribute__((packed)) Ipv4Hdr {
    uint8_t ver_ihl;
    uint8_t tos;
    uint16_t total_len;
    uint16_t id;
    uint16_t frag;  // flags (3 bits) + offset
    uint8_t ttl;
    uint8_t proto;
    uint16_t csum;
    uint32_t src, dst;
};
struct __attribute__((packed)) UdpHdr {
    uint16_t sport, dport, len, csum;
};
struct __attribute__((packed)) IcmpHdr {
    uint8_t type, code;
    uint16_t csum;
    uint32_t rest;  // echo: id + seq; unreachable: unused + next-hop MTU
};
static_assert(sizeof(EthHdr) == 14 && sizeof(ArpPkt) == 28 && sizeof(Ipv4Hdr) == 20 &&
              sizeof(UdpHdr) == 8 && sizeof(IcmpHdr) == 8);

inline uint16_t be16(uint16_t v) noexcept { return __builtin_bswap16(v); }
inline uint32_t be32(uint32_t v) noexcept { return __builtin_bswap32(v); }

/// One's-complement sum of data[0, len) added to <sum> (not folded). Odd
/// lengths pad with a zero byte (RFC 1071).
uint32_t csum_add(uint32_t sum, const void* data, size_t len) noexcept;
/// Folds <sum> to 16 bits and complements it: the value to put on the wire
/// (the bytes of the returned value are already in network order when stored
/// as a uint16_t in memory, as RFC 1071 sums are byte-order independent).
/// Inline: four per relayed datagram, a call cost more than the two folds.
inline uint16_t csum_fold(uint32_t sum) noexcept {
    sum = (sum & 0xffff) + (sum >> 16);  // at most 0x1fffe
    sum = (sum & 0xffff) + (sum >> 16);  // at most 0xffff
    return uint16_t(~sum);
}
/// csum_add(0, p, 20): an option-less IPv4 header (every one we send, nearly
/// every one we get) as five 32-bit words, inline.
inline uint32_t csum_hdr20(const void* p) noexcept {
    uint32_t w[5];
    std::memcpy(w, p, sizeof w);
    uint64_t s = uint64_t(w[0]) + w[1] + w[2] + w[3] + w[4];  // < 2^35
    s = (s & 0xffffffffULL) + (s >> 32);
    return uint32_t((s & 0xffffffffULL) + (s >> 32));
}
/// The one's-complement sum (not folded) of the IPv4 pseudo-header of
/// <src>/<dst> (host order), <proto> and <len> (RFC 768, RFC 9293 §3.1):
/// what csum_add() gives over those 12 bytes.
uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t len) noexcept;
/// UDP checksum over the pseudo-header of <src>/<dst> (host order) and the
/// UDP header + payload at udp[0, udp_len). Returns the wire value; a
/// computed 0 is sent as 0xffff (RFC 768).
uint16_t udp_checksum(uint32_t src, uint32_t dst, const void* udp, size_t udp_len) noexcept;

enum class Ipv4Check : uint8_t { ok, malformed, bad_csum, fragment, truncated };
/// Checks the IPv4 header at pkt[0, len) (len = bytes after the Ethernet
/// header): version 4, IHL >= 5, total length within <len>, header checksum,
/// no fragment (MF or offset set). On ok, <hdr_len> and <total_len> are set.
/// truncated: a good header whose total length runs past <len> (the frame
/// was cut short, e.g. by a packet socket's frame size).
Ipv4Check ipv4_check(const uint8_t* pkt, size_t len, size_t& hdr_len,
                     size_t& total_len) noexcept;

enum class UdpCheck : uint8_t { ok, malformed, bad_csum };
/// Checks the UDP datagram udp[0, len) carried between <src> and <dst> (host
/// order): length field within <len> and >= 8, checksum when nonzero (a zero
/// checksum means "none" over IPv4) and <verify_csum> (false: someone else
/// vouched for the data, e.g. the PMD). On ok, <payload_len> is set.
UdpCheck udp_check(uint32_t src, uint32_t dst, const uint8_t* udp, size_t len,
                   size_t& payload_len, bool verify_csum = true) noexcept;

/// What a sender that left its UDP checksum to an offload puts in the field
/// (Linux CHECKSUM_PARTIAL, udp4_hwcsum(): `~csum_tcpudp_magic(...)`): the
/// folded pseudo-header sum of <src>/<dst> (host order) and <udp_len>, not
/// complemented, the UDP header and payload not summed. Wire value (network
/// order when stored as a uint16_t). On a veth the offload never happens, so
/// a packet socket (net_af_packet) reads this value, not a checksum.
uint16_t udp_partial_csum(uint32_t src, uint32_t dst, size_t udp_len) noexcept;
/// True when the UDP datagram udp[0, len) (length field within <len>) carries
/// exactly udp_partial_csum() in its checksum field: a checksum left to an
/// offload, not a corrupt one (a corrupt datagram matches it with odds of
/// 1 in 65535). False for malformed lengths and a zero field.
bool udp_csum_is_partial(uint32_t src, uint32_t dst, const uint8_t* udp, size_t len) noexcept;

/// Issue 14 (the kernel exception path): the TCP segment tcp[0, len) from
/// <src> to <dst> (host order) whose checksum field holds the pseudo-header
/// partial sum (a veth peer's CHECKSUM_PARTIAL read through a packet socket)
/// gets its full checksum; true when it did. Any other field is left as it
/// is (a good checksum, or a corrupt one the receiving kernel drops).
bool tcp_complete_partial_csum(uint32_t src, uint32_t dst, uint8_t* tcp, size_t len) noexcept;

/// How a port's received UDP checksums are checked (per port: the worker's
/// PortConfig::rx_csum; `show dataplane` prints rx_csum_name()).
enum class RxCsum : uint8_t {
    verify,          // software check (or the PMD's per-packet GOOD/NONE verdict); bad: dropped
    verify_partial,  // the same, and a field holding the pseudo-header partial sum is accepted
                     // (counted rx_udp_csum_partial): PMDs on packet sockets (net_af_packet, net_tap)
    off,             // not checked (sipedge --no-rx-udp-csum)
};
inline const char* rx_csum_name(RxCsum m) noexcept {
    switch (m) {
    case RxCsum::verify: return "verify";
    case RxCsum::verify_partial: return "verify+accept-partial";
    case RxCsum::off: return "off";
    }
    return "?";
}

/// Writes IPv4 (no options, DF set, TTL 64) + UDP headers for a <payload_len>
/// payload in front of it: out must hold 28 bytes, the payload must follow at
/// out + 28. Computes both checksums in software.
void build_ipv4_udp(uint8_t* out, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                    size_t payload_len, uint16_t ip_id) noexcept;

/// Parses a dotted-quad IPv4 literal (exactly four decimal octets of one to three
/// digits, 0-255; a leading zero is decimal: "010" = 10); host order.
bool parse_ipv4(std::string_view s, uint32_t& out) noexcept;
/// Writes <ip> (host order) as a dotted quad into out (16 bytes); returns the length.
size_t format_ipv4(uint32_t ip, char* out) noexcept;
/// Whether <a> and <b> are in the same /<prefix> network.
inline bool same_subnet(uint32_t a, uint32_t b, uint8_t prefix) noexcept {
    const uint32_t mask = prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix);
    return (a & mask) == (b & mask);
}

}  // namespace sipedge::dp
