// net_af_packet frame geometry (dataplane/af_packet.h, issue 16): frames that
// hold whole (kernel-defragmented) datagrams, from the interface MTU.

#include "dataplane/af_packet.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace sipedge::dp {
namespace {

TEST(AfPacket, FramesHoldTheLargestReassembledDatagramOrTheMtu) {
    for (uint32_t mtu : {0u, 576u, 1500u, 9000u, 16000u, 65535u}) {
        const AfPacketFrames f = af_packet_frames(mtu);
        const uint32_t l3 = std::min(std::max(mtu ? mtu : 1500u, af_packet_max_datagram), 61000u);
        EXPECT_GE(f.framesz, 66u + 14u + 4u + l3) << mtu;  // TPACKET_V2 offset, Ethernet, 802.1Q
        EXPECT_EQ(f.framesz % 16, 0u) << mtu;
        EXPECT_EQ(f.blocksz % 4096, 0u) << mtu;
        EXPECT_EQ(f.blocksz % f.framesz, 0u) << mtu;
        EXPECT_EQ(f.rx_room, f.framesz - 32) << mtu;
        EXPECT_LE(f.rx_room + 128, 65535u) << mtu;  // an mbuf data room is 16 bits
    }
    EXPECT_EQ(af_packet_frames(1500).framesz, 12288u);  // 8 fragments of 1480 + headers
    EXPECT_GT(af_packet_frames(1500).framesz - 80, 2048u + 1000);  // was 2048: cut at ~1.95 KB
}

TEST(AfPacket, VdevGetsFramesFromItsInterfaceUnlessItSetsThem) {
    uint32_t room = 0;
    auto mtu = [](std::string_view iface) { return iface == "veth0" ? 9000u : 0u; };
    EXPECT_EQ(af_packet_vdev("net_af_packet0,iface=veth0", room, mtu),
              "net_af_packet0,iface=veth0,framesz=12288,blocksz=12288");
    EXPECT_EQ(room, 12288u - 32);
    EXPECT_EQ(af_packet_vdev("eth_af_packet1,iface=eth1,qpairs=2", room, mtu),
              "eth_af_packet1,iface=eth1,qpairs=2,framesz=12288,blocksz=12288");
    // The operator's own geometry is kept; the RX room follows its frames.
    EXPECT_EQ(af_packet_vdev("net_af_packet0,iface=veth0,framesz=4096,blocksz=8192", room, mtu),
              "net_af_packet0,iface=veth0,framesz=4096,blocksz=8192");
    EXPECT_EQ(room, 4096u - 32);
    EXPECT_EQ(af_packet_vdev("net_af_packet0,iface=veth0,blocksz=8192", room, mtu),
              "net_af_packet0,iface=veth0,blocksz=8192");
    EXPECT_EQ(room, 2048u - 32);
    // Other devices are untouched.
    EXPECT_EQ(af_packet_vdev("net_tap0,iface=tap0", room, mtu), "net_tap0,iface=tap0");
    EXPECT_EQ(room, 0u);
    EXPECT_EQ(af_packet_vdev("net_memif0,role=server", room, mtu), "net_memif0,role=server");
    EXPECT_EQ(devarg("net_af_packet0,iface=a,framesz=1", "framesz"), "1");
    EXPECT_EQ(devarg("net_af_packet0,iface=a", "framesz"), "");
    EXPECT_EQ(devarg("net_af_packet0,xframesz=3", "framesz"), "");
}

TEST(AfPacket, KernelMtuOfLoopback) {
    const uint32_t m = kernel_mtu("lo");
    if (m == 0) GTEST_SKIP() << "no lo in this namespace";
    EXPECT_GE(m, 1500u);
    EXPECT_EQ(kernel_mtu("no-such-if0"), 0u);
}

}  // namespace
}  // namespace sipedge::dp
