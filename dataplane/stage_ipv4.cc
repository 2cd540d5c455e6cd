// Stage: IPv4 in — header checks, our address, protocol dispatch (see stage.h).

#include <cstring>

#include "dataplane/worker.h"

namespace sipedge::dp {

StageOut Worker::ipv4_in(Pkt& p) noexcept {
    switch (ipv4_check(p.l3, p.len, p.ihl, p.tot)) {
    case Ipv4Check::ok: break;
    case Ipv4Check::malformed: return dropped(DropReason::ipv4_malformed);
    case Ipv4Check::truncated: return dropped(DropReason::ipv4_truncated);  // said once (control/edge_report.cc)
    case Ipv4Check::bad_csum: return dropped(DropReason::ipv4_bad_csum);
    case Ipv4Check::fragment: return frag_in(p);
    }
    Ipv4Hdr ip;
    std::memcpy(&ip, p.l3, sizeof(ip));
    if (be32(ip.dst) != cfg_.ports[p.f].ip) return dropped(DropReason::ipv4_not_for_us);
    if (ip.proto == ipproto_icmp) return icmp_in(p);
    if (ip.proto == ipproto_tcp && cfg_.ports[p.f].exception_port != PortConfig::none) return to_kernel(p);
    if (ip.proto != ipproto_udp) return dropped(DropReason::ipv4_proto);
    return sip_in(p);
}

}  // namespace sipedge::dp
