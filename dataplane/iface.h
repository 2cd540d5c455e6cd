#pragma once
// Our interfaces (issue 6: "one or more ports"): each DPDK port the data
// plane runs has one IPv4 address/prefix, an optional next-hop gateway and
// an optional 802.1Q VLAN. Worker, proxy and control all choose the
// interface a datagram leaves by with the same rule (egress()), so the Via
// and Record-Route the proxy writes name the address the packet is sent
// from, and control's REGISTER/OPTIONS name the address that reaches their
// server.
//
// Egress rule: the first interface (in index order) whose subnet holds the
// destination; otherwise the first interface with a gateway, towards that
// gateway; otherwise none (the packet is dropped as unroutable). Subnets of
// two interfaces must not overlap (control refuses such a configuration), so
// the on-link choice is never ambiguous. No DPDK: unit-tested alone.

#include <cstddef>
#include <cstdint>

#include "dataplane/inet.h"

namespace sipedge::dp {

struct Ifaces {
    static constexpr uint8_t max = 4;
    uint32_t ip[max] = {};       // host order
    uint8_t prefix[max] = {};
    uint32_t gateway[max] = {};  // 0: on-link destinations only
    uint8_t n = 0;

    /// Adds an interface; false when full.
    bool add(uint32_t addr, uint8_t pfx, uint32_t gw) noexcept {
        if (n >= max) return false;
        ip[n] = addr;
        prefix[n] = pfx;
        gateway[n] = gw;
        n++;
        return true;
    }

    /// The interface <dst> leaves by (see above) and its next hop <nh>
    /// (<dst> itself on-link, else the gateway); -1 when none reaches it.
    int egress(uint32_t dst, uint32_t& nh) const noexcept {
        for (uint8_t i = 0; i < n; i++)
            if (same_subnet(dst, ip[i], prefix[i])) {
                nh = dst;
                return i;
            }
        for (uint8_t i = 0; i < n; i++)
            if (gateway[i]) {
                nh = gateway[i];
                return i;
            }
        return -1;
    }
    int egress(uint32_t dst) const noexcept {
        uint32_t nh;
        return egress(dst, nh);
    }

    /// The interface whose address is <addr>; -1 when none.
    int find(uint32_t addr) const noexcept {
        for (uint8_t i = 0; i < n; i++)
            if (ip[i] == addr) return i;
        return -1;
    }
};

}  // namespace sipedge::dp
