// Internet checksums and header checks (RFC 791, RFC 768, RFC 1071).

#include "dataplane/inet.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif


namespace sipedge::dp {

uint32_t csum_add(uint32_t sum, const void* data, size_t len) noexcept {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    uint64_t s = sum;
    // 16-bit words in memory order: the folded result is byte-order neutral.
#if defined(__SSE2__)
    // Every SIP datagram is summed twice (checked on arrival, computed on
    // the way out): 16 bytes a step, each word widened into one of eight
    // 32-bit lanes (zero-extended, as the scalar loop below adds them).
    // A lane takes 2 words per step, so 32 Ki steps (512 KiB) cannot carry
    // out of it; longer inputs go in pieces.
    while (len >= 16) {
        const __m128i zero = _mm_setzero_si128();
        __m128i lo = zero, hi = zero;
        size_t steps = len / 16 < 32768 ? len / 16 : 32768;
        len -= steps * 16;
        for (; steps; steps--, p += 16) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            lo = _mm_add_epi32(lo, _mm_unpacklo_epi16(v, zero));
            hi = _mm_add_epi32(hi, _mm_unpackhi_epi16(v, zero));
        }
        alignas(16) uint32_t l[4], h[4];
        _mm_store_si128(reinterpret_cast<__m128i*>(l), lo);
        _mm_store_si128(reinterpret_cast<__m128i*>(h), hi);
        for (int i = 0; i < 4; i++) s += uint64_t(l[i]) + h[i];
    }
#endif
    while (len >= 2) {
        uint16_t w;
        std::memcpy(&w, p, 2);
        s += w;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint16_t w = 0;
        std::memcpy(&w, p, 1);
        s += w;
    }
    while (s >> 32) s = (s & 0xffffffffULL) + (s >> 32);
    return uint32_t(s);
}

uint16_t csum_fold(uint32_t sum) noexcept {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

uint16_t udp_checksum(uint32_t src, uint32_t dst, const void* udp, size_t udp_len) noexcept {
    struct __attribute__((packed)) {
        uint32_t src, dst;
        uint8_t zero, proto;
        uint16_t len;
    } ph{be32(src), be32(dst), 0, ipproto_udp, be16(uint16_t(udp_len))};
    const uint16_t c = csum_fold(csum_add(csum_add(0, &ph, sizeof(ph)), udp, udp_len));
    return c == 0 ? 0xffff : c;
}

Ipv4Check ipv4_check(const uint8_t* pkt, size_t len, size_t& hdr_len, size_t& total_len) noexcept {
    if (len < ipv4_hdr_len) return Ipv4Check::malformed;
    Ipv4Hdr h;
    std::memcpy(&h, pkt, sizeof(h));
    if ((h.ver_ihl >> 4) != 4) return Ipv4Check::malformed;
    const size_t ihl = size_t(h.ver_ihl & 0xf) * 4;
    const size_t tot = be16(h.total_len);
    // Frames may carry Ethernet padding past total_len; never less than it.
    if (ihl < ipv4_hdr_len || tot < ihl || ihl > len) return Ipv4Check::malformed;
    if (csum_fold(csum_add(0, pkt, ihl)) != 0) return Ipv4Check::bad_csum;
    if (tot > len) return Ipv4Check::truncated;
    if (be16(h.frag) & 0x3fff) return Ipv4Check::fragment;  // MF or offset
    hdr_len = ihl;
    total_len = tot;
    return Ipv4Check::ok;
}

UdpCheck udp_check(uint32_t src, uint32_t dst, const uint8_t* udp, size_t len,
                   size_t& payload_len, bool verify_csum) noexcept {
    if (len < udp_hdr_len) return UdpCheck::malformed;
    UdpHdr h;
    std::memcpy(&h, udp, sizeof(h));
    const size_t ulen = be16(h.len);
    if (ulen < udp_hdr_len || ulen > len) return UdpCheck::malformed;
    if (h.csum != 0 && verify_csum) {
        struct __attribute__((packed)) {
            uint32_t src, dst;
            uint8_t zero, proto;
            uint16_t len;
        } ph{be32(src), be32(dst), 0, ipproto_udp, be16(uint16_t(ulen))};
        // Summing a datagram that includes its own checksum gives all ones.
        if (csum_fold(csum_add(csum_add(0, &ph, sizeof(ph)), udp, ulen)) != 0)
            return UdpCheck::bad_csum;
    }
    payload_len = ulen - udp_hdr_len;
    return UdpCheck::ok;
}

uint16_t udp_partial_csum(uint32_t src, uint32_t dst, size_t udp_len) noexcept {
    struct __attribute__((packed)) {
        uint32_t src, dst;
        uint8_t zero, proto;
        uint16_t len;
    } ph{be32(src), be32(dst), 0, ipproto_udp, be16(uint16_t(udp_len))};
    // csum_fold() complements; the sender stored the folded sum itself.
    return uint16_t(~csum_fold(csum_add(0, &ph, sizeof(ph))));
}

bool udp_csum_is_partial(uint32_t src, uint32_t dst, const uint8_t* udp, size_t len) noexcept {
    if (len < udp_hdr_len) return false;
    UdpHdr h;
    std::memcpy(&h, udp, sizeof(h));
    const size_t ulen = be16(h.len);
    if (ulen < udp_hdr_len || ulen > len || h.csum == 0) return false;
    return h.csum == udp_partial_csum(src, dst, ulen);
}

bool tcp_complete_partial_csum(uint32_t src, uint32_t dst, uint8_t* tcp, size_t len) noexcept {
    if (len < 20 || len > 0xffff) return false;
    struct __attribute__((packed)) {
        uint32_t src, dst;
        uint8_t zero, proto;
        uint16_t len;
    } ph{be32(src), be32(dst), 0, ipproto_tcp, be16(uint16_t(len))};
    const uint32_t pseudo = csum_add(0, &ph, sizeof(ph));
    uint16_t field;
    std::memcpy(&field, tcp + 16, 2);
    if (field == 0 || field != uint16_t(~csum_fold(pseudo))) return false;
    field = 0;
    std::memcpy(tcp + 16, &field, 2);
    field = csum_fold(csum_add(pseudo, tcp, len));
    std::memcpy(tcp + 16, &field, 2);
    return true;
}

void build_ipv4_udp(uint8_t* out, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                    size_t payload_len, uint16_t ip_id) noexcept {
    Ipv4Hdr ip{};
    ip.ver_ihl = 0x45;
    ip.total_len = be16(uint16_t(ipv4_hdr_len + udp_hdr_len + payload_len));
    ip.id = be16(ip_id);
    ip.frag = be16(0x4000);  // DF: we never fragment (RFC 3261 §18.1.1 leaves size to us)
    ip.ttl = 64;
    ip.proto = ipproto_udp;
    ip.src = be32(src);
    ip.dst = be32(dst);
    ip.csum = csum_fold(csum_add(0, &ip, sizeof(ip)));
    std::memcpy(out, &ip, sizeof(ip));
    UdpHdr u{be16(sport), be16(dport), be16(uint16_t(udp_hdr_len + payload_len)), 0};
    std::memcpy(out + ipv4_hdr_len, &u, sizeof(u));
    u.csum = udp_checksum(src, dst, out + ipv4_hdr_len, udp_hdr_len + payload_len);
    std::memcpy(out + ipv4_hdr_len + 6, &u.csum, 2);
}

bool parse_ipv4(std::string_view s, uint32_t& out) noexcept {
    // Four octets of one to three digits, 0-255; leading zeros are taken
    // ("010" = 10), as this parser always did. One pass, no search: the
    // proxy parses two or three of these per in-dialog request (Route
    // values, Request-URI), where a find() and a base/decimal.h call per
    // octet cost ~400 instructions an address.
    const char* p = s.data();
    const char* const e = p + s.size();
    uint32_t v = 0;
    for (int octet = 0; octet < 4; octet++) {
        if (octet && (p == e || *p++ != '.')) return false;
        uint32_t o = 0;
        const char* const d0 = p;
        while (p < e && unsigned(*p - '0') < 10 && p - d0 < 3) o = o * 10 + unsigned(*p++ - '0');
        if (p == d0 || o > 255 || (p < e && unsigned(*p - '0') < 10)) return false;
        v = v << 8 | o;
    }
    if (p != e) return false;
    out = v;
    return true;
}

size_t format_ipv4(uint32_t ip, char* out) noexcept {
    size_t n = 0;
    for (int k = 3; k >= 0; k--) {
        const uint32_t o = (ip >> (8 * k)) & 0xff;
        if (o >= 100) out[n++] = char('0' + o / 100);
        if (o >= 10) out[n++] = char('0' + (o / 10) % 10);
        out[n++] = char('0' + o % 10);
        if (k) out[n++] = '.';
    }
    return n;
}

}  // namespace sipedge::dp
