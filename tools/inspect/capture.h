#pragma once
// Capture input for sipedge-inspect: reading pcap/pcapng files (libpcap) and
// decoding link, IP and UDP headers down to UDP payloads.
// The decode functions are pure (no I/O, no allocation) so tests can feed
// them hand-made frames; only CaptureReader touches files.

#include <cstddef>
#include <cstdint>
#include <string>

#include "tools/inspect/ipv4_reasm.h"

struct pcap;  // libpcap's pcap_t; kept out of this header

namespace sipedge::ctl {

/// Link layers we decode, named for their LINKTYPE_* (tcpdump.org linktypes).
enum class LinkType : uint8_t {
    unsupported = 0,
    ethernet,   // LINKTYPE_ETHERNET (1), with 802.1Q / 802.1ad tags
    linux_sll,  // LINKTYPE_LINUX_SLL (113), "cooked" capture on "any"
    linux_sll2, // LINKTYPE_LINUX_SLL2 (276)
    raw_ip,     // LINKTYPE_RAW (101; DLT_RAW 12 or 14), IPV4 (228), IPV6 (229)
    null_loop,  // LINKTYPE_NULL (0) / LOOP (108): 4-byte family, then IP
};

/// Maps a libpcap DLT_* value (pcap_datalink()) to the decoder to use.
LinkType link_type_from_dlt(int dlt) noexcept;

/// What decode_frame() found. Everything except `udp` and `ipv4_fragment` is
/// a reason the frame yields no datagram; the tool counts each.
enum class DecodeStatus : uint8_t {
    udp,            // `payload` is a UDP payload
    ipv4_fragment,  // `fragment` is set: feed it to Ipv4Reassembler
    not_ip,         // ARP, LLDP, 802.3 length frames, ...
    not_udp,        // IP, but TCP, ICMP, ...
    ipv6_fragment,  // IPv6 fragment header with data: not reassembled
    truncated,      // snap length or a length field cuts a header or payload
    malformed,      // header fields that cannot be right (IHL < 5, UDP len < 8)
    unsupported_link,
    count_
};

/// Stable snake_case name of <s> ("not_udp"), for counters in JSON.
const char* decode_status_name(DecodeStatus s) noexcept;

/// An IPv4 or IPv6 address, bytes in network order (IPv4 in bytes[0..3]).
struct IpAddr {
    uint8_t bytes[16] = {};
    bool v6 = false;
};

/// "192.0.2.1:5060" or "[2001:db8::1]:5060" into <out>; returns its length.
/// <out> must hold at least endpoint_text_max bytes.
inline constexpr size_t endpoint_text_max = 56;
size_t format_endpoint(const IpAddr& a, uint16_t port, char* out) noexcept;

/// Result of decoding one frame. Pointers point into the frame given.
struct Packet {
    DecodeStatus status = DecodeStatus::malformed;
    IpAddr src, dst;
    uint16_t sport = 0, dport = 0;  // udp only
    const uint8_t* payload = nullptr;  // udp only
    uint32_t payload_len = 0;
    uint16_t vlan = 0;              // outermost 802.1Q VLAN id when tagged
    bool has_vlan = false;
    Ipv4Fragment fragment;          // ipv4_fragment only
};

/// Decodes <frame>[0, <caplen>) of link type <link> (RFC 894 Ethernet with
/// up to two 802.1Q/802.1ad tags, Linux SLL/SLL2, raw IP, BSD null/loop),
/// then IPv4 (RFC 791) or IPv6 (RFC 8200, skipping hop-by-hop, routing,
/// destination-options, AH and atomic fragment headers), then UDP (RFC 768).
/// Accepts Ethernet padding past the IP total length. Rejects IP options or
/// extension headers that run past the data, a UDP length below 8 or past the
/// IP payload. Checksums are not verified (offloaded captures carry garbage).
Packet decode_frame(LinkType link, const uint8_t* frame, size_t caplen) noexcept;

/// Decodes a reassembled IPv4 payload <ip_payload>[0, <len>) as UDP, filling
/// sport/dport/payload of <out> (addresses are the caller's). Returns udp,
/// truncated or malformed.
DecodeStatus decode_udp(const uint8_t* ip_payload, size_t len, Packet& out) noexcept;

/// One frame read from a capture. `data` is valid until the next next().
struct Frame {
    const uint8_t* data = nullptr;
    uint32_t caplen = 0;
    uint32_t wirelen = 0;
    uint64_t ts_us = 0;   // capture time, microseconds since the epoch
    uint64_t number = 0;  // 1-based, as Wireshark numbers frames
};

enum class ReadStatus : uint8_t { frame, end, error };

/// Reads a pcap or pcapng file with libpcap (pcap_open_offline reads both).
class CaptureReader {
  public:
    CaptureReader() = default;
    ~CaptureReader();
    CaptureReader(const CaptureReader&) = delete;
    CaptureReader& operator=(const CaptureReader&) = delete;

    /// Opens <path>; on failure returns false with libpcap's message in <err>.
    bool open(const std::string& path, std::string& err);
    /// Next frame into <out>; `error` sets <err> (a truncated last record).
    ReadStatus next(Frame& out, std::string& err);
    LinkType link() const noexcept { return link_; }
    int dlt() const noexcept { return dlt_; }

  private:
    pcap* handle_ = nullptr;
    LinkType link_ = LinkType::unsupported;
    int dlt_ = -1;
    uint64_t count_ = 0;
};

/// True when <head> (the first bytes of a file, at least 4) starts with a
/// pcap (any byte order, µs or ns) or pcapng section header magic number.
bool is_capture_magic(const uint8_t* head, size_t len) noexcept;

}  // namespace sipedge::ctl
