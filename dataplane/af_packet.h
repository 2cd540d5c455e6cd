#pragma once
// net_af_packet frame geometry (issue 16). DPDK 22.11's AF_PACKET PMD
// receives into a PACKET_MMAP ring of `framesz`-byte frames (default 2048)
// and copies each into one mbuf; the kernel cuts what does not fit. Its
// PACKET_FANOUT also asks the kernel to defragment (PACKET_FANOUT_FLAG_DEFRAG),
// so what arrives there is the whole IPv4 datagram, not the fragments: with
// 2 KB frames any datagram over ~1.95 KB was cut and dropped (ipv4_malformed),
// whatever the MTU. So the frame is sized from the port's MTU and from the
// largest datagram the worker reassembles elsewhere (frag_max_per_datagram
// fragments of a 1500-byte MTU, ~11.8 KB), and the RX mbufs of such a port
// get a data room that holds a frame (the PMD refuses smaller ones).
//
// Start-up only (control/edge_args.cc before rte_eal_init): strings, one ioctl.

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace sipedge::dp {

struct AfPacketFrames {
    uint32_t framesz = 0;  // PACKET_MMAP frame (multiple of 16)
    uint32_t blocksz = 0;  // PACKET_MMAP block: whole pages, whole frames
    uint32_t rx_room = 0;  // mbuf data room the PMD asks for (framesz - 32)
};

/// The largest IPv4 datagram the worker reassembles from fragments of a
/// 1500-byte MTU (8 × 1480 bytes + header), which a packet socket receives
/// defragmented by the kernel.
inline constexpr uint32_t af_packet_max_datagram = 20 + 8 * 1480;

/// Frame geometry for a port whose kernel interface has MTU <mtu> (0:
/// unknown, taken as 1500), on pages of <page> bytes. A frame holds
/// TPACKET_V2's header and alignment (the kernel puts the Ethernet header at
/// offset 66, the IP header at 80), an 802.1Q tag and max(mtu, the largest
/// reassembled datagram).
inline AfPacketFrames af_packet_frames(uint32_t mtu, uint32_t page = 4096) noexcept {
    if (mtu == 0) mtu = 1500;
    const uint32_t l3 = mtu > af_packet_max_datagram ? mtu : af_packet_max_datagram;
    AfPacketFrames f;
    const uint32_t need = 80 + 4 + l3;
    f.framesz = (need + 15) & ~15u;
    f.blocksz = (f.framesz + page - 1) / page * page;
    // An mbuf's data room is 16 bits (with the 128-byte headroom): a larger
    // MTU keeps the largest frame an mbuf can take.
    const uint32_t most = (65535 - 128 + 32) / page * page;
    if (f.blocksz > most) f.blocksz = most;
    f.framesz = f.blocksz;  // one frame per block: the rest of the block would be lost anyway
    f.rx_room = f.framesz - 32;  // TPACKET2_HDRLEN - sizeof(sockaddr_ll)
    return f;
}

/// MTU of kernel interface <name> in this network namespace (0: unknown).
inline uint32_t kernel_mtu(std::string_view name) noexcept {
    ifreq r{};
    if (name.empty() || name.size() >= sizeof(r.ifr_name)) return 0;
    std::memcpy(r.ifr_name, name.data(), name.size());
    const int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) return 0;
    const int rc = ioctl(s, SIOCGIFMTU, &r);
    close(s);
    return rc == 0 && r.ifr_mtu > 0 ? uint32_t(r.ifr_mtu) : 0;
}

/// The value of devarg <key> in <dev> ("name,k=v,k=v"), empty when absent.
inline std::string_view devarg(std::string_view dev, std::string_view key) noexcept {
    size_t p = dev.find(',');
    while (p != std::string_view::npos) {
        const size_t s = p + 1;
        p = dev.find(',', s);
        const std::string_view kv = dev.substr(s, p == std::string_view::npos ? p : p - s);
        if (kv.size() > key.size() && kv.substr(0, key.size()) == key && kv[key.size()] == '=')
            return kv.substr(key.size() + 1);
    }
    return {};
}

/// Whether <dev> names an AF_PACKET vdev (net_af_packetN or its alias eth_af_packetN).
inline bool is_af_packet(std::string_view dev) noexcept {
    const std::string_view name = dev.substr(0, dev.find(','));
    return name.rfind("net_af_packet", 0) == 0 || name.rfind("eth_af_packet", 0) == 0;
}

/// <dev> as sipedge passes it to the EAL: an AF_PACKET vdev that sets neither
/// framesz nor blocksz gets both, from its interface's MTU (<mtu_of>(iface),
/// kernel_mtu by default); anything else is returned unchanged. <rx_room>
/// receives the data room its RX mbufs need (0 when not AF_PACKET).
template <class MtuOf>
std::string af_packet_vdev(std::string_view dev, uint32_t& rx_room, MtuOf&& mtu_of) {
    rx_room = 0;
    if (!is_af_packet(dev)) return std::string(dev);
    const std::string_view fz = devarg(dev, "framesz"), bz = devarg(dev, "blocksz");
    if (!fz.empty() || !bz.empty()) {  // the operator's own geometry: only the room follows
        const uint32_t f = fz.empty() ? 2048 : uint32_t(std::strtoul(std::string(fz).c_str(), nullptr, 10));
        rx_room = f > 32 ? f - 32 : 0;
        return std::string(dev);
    }
    const AfPacketFrames f = af_packet_frames(mtu_of(devarg(dev, "iface")), uint32_t(getpagesize()));
    rx_room = f.rx_room;
    return std::string(dev) + ",framesz=" + std::to_string(f.framesz) +
           ",blocksz=" + std::to_string(f.blocksz);
}
inline std::string af_packet_vdev(std::string_view dev, uint32_t& rx_room) {
    return af_packet_vdev(dev, rx_room, [](std::string_view i) { return kernel_mtu(i); });
}

}  // namespace sipedge::dp
