#include "control/exception_tap.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <rte_dev.h>
#include <rte_ethdev.h>

namespace sipedge::ctl {

std::string exception_ifname(unsigned k) { return "sipedge" + std::to_string(k); }

namespace {

// SIOCSIFADDR/SIOCSIFNETMASK on <name>: <ip>/<prefix>.
Status set_address(const std::string& name, uint32_t ip, uint8_t prefix) {
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return err(errno, std::string("socket: ") + std::strerror(errno));
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.c_str(), name.size() + 1);
    auto* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(ip);
    Status st = Ok{};
    if (::ioctl(s, SIOCSIFADDR, &ifr) != 0) {
        st = err(errno, "address on " + name + ": " + std::strerror(errno));
    } else {
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(prefix ? ~uint32_t(0) << (32 - prefix) : 0);
        if (::ioctl(s, SIOCSIFNETMASK, &ifr) != 0)
            st = err(errno, "netmask on " + name + ": " + std::strerror(errno));
    }
    ::close(s);
    return st;
}

}  // namespace

Result<uint16_t> create_exception_tap(unsigned k, const dp::MacAddr& mac, uint32_t ip, uint8_t prefix) {
    const std::string ifname = exception_ifname(k);
    const std::string vdev = "net_tap_sipedge" + std::to_string(k);
    char args[96];
    std::snprintf(args, sizeof args, "iface=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x", ifname.c_str(),
                  mac.b[0], mac.b[1], mac.b[2], mac.b[3], mac.b[4], mac.b[5]);
    // Hot-plugged through the EAL (the vdev bus takes "net_tap...,args").
    const std::string devargs = vdev + "," + args;
    if (const int r = rte_dev_probe(devargs.c_str()); r != 0)
        return err(r < 0 ? -r : r, "exception tap " + devargs + ": " + std::strerror(r < 0 ? -r : r) +
                                       " (needs /dev/net/tun and CAP_NET_ADMIN)");
    uint16_t port = 0;
    if (rte_eth_dev_get_port_by_name(vdev.c_str(), &port) != 0)
        return err(ENODEV, "exception tap " + vdev + ": no DPDK port after creating it");
    // IPv6 off before the link is up: the kernel would send router and
    // neighbour solicitations the worker only drops (exception_other).
    const std::string sysctl = "/proc/sys/net/ipv6/conf/" + ifname + "/disable_ipv6";
    if (FILE* f = std::fopen(sysctl.c_str(), "w")) {
        std::fputs("1", f);
        std::fclose(f);
    }
    if (Status s = set_address(ifname, ip, prefix); !s) return s.error();
    return port;
}

}  // namespace sipedge::ctl
