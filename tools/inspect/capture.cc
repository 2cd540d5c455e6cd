#include "tools/inspect/capture.h"

#include <cstdio>
#include <cstring>

#include <arpa/inet.h>
#include <pcap/pcap.h>

namespace sipedge::ctl {

namespace {

constexpr uint16_t ethertype_ipv4 = 0x0800;
constexpr uint16_t ethertype_ipv6 = 0x86dd;
constexpr uint16_t ethertype_vlan = 0x8100;   // IEEE 802.1Q
constexpr uint16_t ethertype_qinq = 0x88a8;   // IEEE 802.1ad
constexpr uint16_t ethertype_qinq_old = 0x9100;
constexpr uint8_t ipproto_udp = 17;

uint16_t be16(const uint8_t* p) noexcept { return uint16_t(p[0] << 8 | p[1]); }

Packet fail(DecodeStatus s) noexcept {
    Packet p;
    p.status = s;
    return p;
}

// RFC 768: 8-byte header; the length field covers header and data. Bytes past
// it (in a longer IP payload) are ignored.
DecodeStatus udp_into(const uint8_t* p, size_t len, Packet& out) noexcept {
    out.payload = nullptr;
    out.payload_len = 0;
    if (len < 8) return out.status = DecodeStatus::truncated;
    const uint16_t ulen = be16(p + 4);
    if (ulen < 8) return out.status = DecodeStatus::malformed;
    if (ulen > len) return out.status = DecodeStatus::truncated;
    out.sport = be16(p);
    out.dport = be16(p + 2);
    out.payload = p + 8;
    out.payload_len = uint32_t(ulen - 8);
    return out.status = DecodeStatus::udp;
}

// RFC 791 header at <p>[0, <len>); <len> may include link-layer padding.
void decode_ipv4(const uint8_t* p, size_t len, Packet& out) noexcept {
    if (len < 20) return void(out.status = DecodeStatus::truncated);
    if (p[0] >> 4 != 4) return void(out.status = DecodeStatus::malformed);
    const size_t ihl = size_t(p[0] & 0x0f) * 4;
    const size_t total = be16(p + 2);
    if (ihl < 20 || total < ihl) return void(out.status = DecodeStatus::malformed);
    if (total > len) return void(out.status = DecodeStatus::truncated);
    out.src.v6 = out.dst.v6 = false;
    std::memcpy(out.src.bytes, p + 12, 4);
    std::memcpy(out.dst.bytes, p + 16, 4);
    const uint8_t proto = p[9];
    if (proto != ipproto_udp) return void(out.status = DecodeStatus::not_udp);

    const uint16_t frag = be16(p + 6);
    const bool more = (frag & 0x2000) != 0;
    const uint32_t offset = uint32_t(frag & 0x1fff) * 8;
    if (more || offset != 0) {
        Ipv4Fragment& f = out.fragment;
        std::memcpy(&f.key.src, p + 12, 4);
        std::memcpy(&f.key.dst, p + 16, 4);
        f.key.id = be16(p + 4);
        f.key.proto = proto;
        f.offset = offset;
        f.more = more;
        f.data = p + ihl;
        f.len = uint32_t(total - ihl);
        out.status = DecodeStatus::ipv4_fragment;
        return;
    }
    udp_into(p + ihl, total - ihl, out);
}

// RFC 8200 header at <p>[0, <len>). Walks extension headers (§4) up to UDP.
void decode_ipv6(const uint8_t* p, size_t len, Packet& out) noexcept {
    if (len < 40) return void(out.status = DecodeStatus::truncated);
    if (p[0] >> 4 != 6) return void(out.status = DecodeStatus::malformed);
    const size_t plen = be16(p + 4);
    // A zero payload length means a jumbogram (RFC 2675): not a SIP datagram.
    if (plen == 0) return void(out.status = DecodeStatus::malformed);
    if (40 + plen > len) return void(out.status = DecodeStatus::truncated);
    out.src.v6 = out.dst.v6 = true;
    std::memcpy(out.src.bytes, p + 8, 16);
    std::memcpy(out.dst.bytes, p + 24, 16);

    uint8_t next = p[6];
    const uint8_t* h = p + 40;
    size_t left = plen;
    for (int hops = 0; hops < 16; hops++) {
        size_t hlen;
        switch (next) {
            case ipproto_udp:
                udp_into(h, left, out);
                return;
            case 0:   // hop-by-hop options
            case 43:  // routing
            case 60:  // destination options
                if (left < 8) return void(out.status = DecodeStatus::truncated);
                hlen = (size_t(h[1]) + 1) * 8;
                break;
            case 51:  // AH (RFC 4302): length in 4-byte units, minus 2
                if (left < 8) return void(out.status = DecodeStatus::truncated);
                hlen = (size_t(h[1]) + 2) * 4;
                break;
            case 44:  // fragment (§4.5)
                if (left < 8) return void(out.status = DecodeStatus::truncated);
                // RFC 6946: offset 0 without M is an "atomic fragment": whole.
                if ((be16(h + 2) & 0xfff9) != 0) return void(out.status = DecodeStatus::ipv6_fragment);
                hlen = 8;
                break;
            default:  // 59 (no next header), TCP, ICMPv6, ESP, ...
                return void(out.status = DecodeStatus::not_udp);
        }
        if (hlen > left) return void(out.status = DecodeStatus::truncated);
        next = h[0];
        h += hlen;
        left -= hlen;
    }
    out.status = DecodeStatus::malformed;  // absurd extension header chain
}

// IP by version nibble: raw-IP link types carry no ethertype.
void decode_ip(const uint8_t* p, size_t len, Packet& out) noexcept {
    if (len < 1) return void(out.status = DecodeStatus::truncated);
    switch (p[0] >> 4) {
        case 4: return decode_ipv4(p, len, out);
        case 6: return decode_ipv6(p, len, out);
        default: out.status = DecodeStatus::not_ip;
    }
}

void decode_ethertype(uint16_t type, const uint8_t* p, size_t len, Packet& out) noexcept {
    if (type == ethertype_ipv4) return decode_ipv4(p, len, out);
    if (type == ethertype_ipv6) return decode_ipv6(p, len, out);
    out.status = DecodeStatus::not_ip;
}

}  // namespace

LinkType link_type_from_dlt(int dlt) noexcept {
    switch (dlt) {
        case 1: return LinkType::ethernet;     // DLT_EN10MB
        case 113: return LinkType::linux_sll;  // DLT_LINUX_SLL
        case 276: return LinkType::linux_sll2; // DLT_LINUX_SLL2
        case 12:                               // DLT_RAW (most systems)
        case 14:                               // DLT_RAW (OpenBSD)
        case 101:                              // LINKTYPE_RAW, unmapped
        case 228:                              // DLT_IPV4
        case 229: return LinkType::raw_ip;     // DLT_IPV6
        case 0:                                // DLT_NULL
        case 108: return LinkType::null_loop;  // DLT_LOOP
        default: return LinkType::unsupported;
    }
}

const char* decode_status_name(DecodeStatus s) noexcept {
    switch (s) {
        case DecodeStatus::udp: return "udp";
        case DecodeStatus::ipv4_fragment: return "ipv4_fragment";
        case DecodeStatus::not_ip: return "not_ip";
        case DecodeStatus::not_udp: return "not_udp";
        case DecodeStatus::ipv6_fragment: return "ipv6_fragment";
        case DecodeStatus::truncated: return "truncated";
        case DecodeStatus::malformed: return "malformed";
        case DecodeStatus::unsupported_link: return "unsupported_link";
        case DecodeStatus::count_: break;
    }
    return "unknown";
}

size_t format_endpoint(const IpAddr& a, uint16_t port, char* out) noexcept {
    char ip[INET6_ADDRSTRLEN];
    if (inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes, ip, sizeof(ip)) == nullptr) std::strcpy(ip, "?");
    static_assert(endpoint_text_max >= INET6_ADDRSTRLEN + 2 + 1 + 5 + 1);
    const char* fmt = a.v6 ? "[%s]:%u" : "%s:%u";
    const int n = std::snprintf(out, endpoint_text_max, fmt, ip, unsigned(port));
    return n < 0 ? 0 : size_t(n);
}

Packet decode_frame(LinkType link, const uint8_t* f, size_t caplen) noexcept {
    Packet out;
    switch (link) {
        case LinkType::ethernet: {
            // dst(6) src(6) type(2), then up to two VLAN tags of TCI(2) type(2).
            if (caplen < 14) return fail(DecodeStatus::truncated);
            size_t off = 12;
            uint16_t type = be16(f + off);
            for (int tags = 0; tags < 2 && (type == ethertype_vlan || type == ethertype_qinq ||
                                            type == ethertype_qinq_old); tags++) {
                if (caplen < off + 6) return fail(DecodeStatus::truncated);
                if (!out.has_vlan) {
                    out.vlan = be16(f + off + 2) & 0x0fff;
                    out.has_vlan = true;
                }
                off += 4;
                type = be16(f + off);
            }
            off += 2;
            decode_ethertype(type, f + off, caplen - off, out);
            break;
        }
        case LinkType::linux_sll:
            // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
            if (caplen < 16) return fail(DecodeStatus::truncated);
            decode_ethertype(be16(f + 14), f + 16, caplen - 16, out);
            break;
        case LinkType::linux_sll2:
            // protocol(2) reserved(2) ifindex(4) ARPHRD(2) pkttype(1) addrlen(1) addr(8)
            if (caplen < 20) return fail(DecodeStatus::truncated);
            decode_ethertype(be16(f), f + 20, caplen - 20, out);
            break;
        case LinkType::raw_ip:
            decode_ip(f, caplen, out);
            break;
        case LinkType::null_loop:
            // A 4-byte address family in host (NULL) or network (LOOP) byte
            // order; its values differ between systems, so trust the IP version.
            if (caplen < 4) return fail(DecodeStatus::truncated);
            decode_ip(f + 4, caplen - 4, out);
            break;
        case LinkType::unsupported:
            return fail(DecodeStatus::unsupported_link);
    }
    return out;
}

DecodeStatus decode_udp(const uint8_t* ip_payload, size_t len, Packet& out) noexcept {
    return udp_into(ip_payload, len, out);
}

bool is_capture_magic(const uint8_t* h, size_t len) noexcept {
    if (len < 4) return false;
    const uint32_t be = uint32_t(h[0]) << 24 | uint32_t(h[1]) << 16 | uint32_t(h[2]) << 8 | h[3];
    switch (be) {
        case 0xa1b2c3d4:  // pcap, microseconds, big endian
        case 0xd4c3b2a1:  // pcap, microseconds, little endian
        case 0xa1b23c4d:  // pcap, nanoseconds, big endian
        case 0x4d3cb2a1:  // pcap, nanoseconds, little endian
        case 0x0a0d0d0a:  // pcapng section header block (palindromic)
            return true;
        default:
            return false;
    }
}

CaptureReader::~CaptureReader() {
    if (handle_ != nullptr) pcap_close(handle_);
}

bool CaptureReader::open(const std::string& path, std::string& err) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    // Microsecond timestamps whatever the file holds (nanosecond pcap included).
    handle_ = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (handle_ == nullptr) {
        err = errbuf;
        return false;
    }
    dlt_ = pcap_datalink(handle_);
    link_ = link_type_from_dlt(dlt_);
    return true;
}

ReadStatus CaptureReader::next(Frame& out, std::string& err) {
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(handle_, &hdr, &data);
    if (rc == PCAP_ERROR_BREAK) return ReadStatus::end;  // -2: end of file
    if (rc != 1) {
        err = pcap_geterr(handle_);
        return ReadStatus::error;
    }
    out.data = data;
    out.caplen = hdr->caplen;
    out.wirelen = hdr->len;
    out.ts_us = uint64_t(hdr->ts.tv_sec) * 1'000'000 + uint64_t(hdr->ts.tv_usec);
    out.number = ++count_;
    return ReadStatus::frame;
}

}  // namespace sipedge::ctl
