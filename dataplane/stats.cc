// Names of the drop reasons (stats dump, tests).

#include "dataplane/stats_types.h"

namespace sipedge::dp {

const char* drop_reason_name(DropReason r) noexcept {
    switch (r) {
    case DropReason::eth_short: return "eth_short";
    case DropReason::eth_not_for_us: return "eth_not_for_us";
    case DropReason::eth_type: return "eth_type";
    case DropReason::arp_malformed: return "arp_malformed";
    case DropReason::arp_not_for_us: return "arp_not_for_us";
    case DropReason::arp_unresolved: return "arp_unresolved";
    case DropReason::ipv4_malformed: return "ipv4_malformed";
    case DropReason::ipv4_bad_csum: return "ipv4_bad_csum";
    case DropReason::ipv4_not_for_us: return "ipv4_not_for_us";
    case DropReason::ipv4_fragment: return "ipv4_fragment";
    case DropReason::ipv4_proto: return "ipv4_proto";
    case DropReason::icmp_malformed: return "icmp_malformed";
    case DropReason::icmp_bad_csum: return "icmp_bad_csum";
    case DropReason::icmp_other: return "icmp_other";
    case DropReason::udp_malformed: return "udp_malformed";
    case DropReason::udp_bad_csum: return "udp_bad_csum";
    case DropReason::udp_port: return "udp_port";
    case DropReason::sip_parse: return "sip_parse";
    case DropReason::sip_not_udp: return "sip_not_udp";
    case DropReason::sip_foreign_branch: return "sip_foreign_branch";
    case DropReason::sip_stale_branch: return "sip_stale_branch";
    case DropReason::sip_no_route: return "sip_no_route";
    case DropReason::sip_too_big: return "sip_too_big";
    case DropReason::sip_rewrite: return "sip_rewrite";
    case DropReason::txn_exhausted: return "txn_exhausted";
    case DropReason::timer_exhausted: return "timer_exhausted";
    case DropReason::mbuf_exhausted: return "mbuf_exhausted";
    case DropReason::tx_full: return "tx_full";
    case DropReason::ipv4_frag_malformed: return "ipv4_frag_malformed";
    case DropReason::ipv4_frag_duplicate: return "ipv4_frag_duplicate";
    case DropReason::ipv4_frag_overlap: return "ipv4_frag_overlap";
    case DropReason::ipv4_frag_too_many: return "ipv4_frag_too_many";
    case DropReason::ipv4_frag_no_room: return "ipv4_frag_no_room";
    case DropReason::ipv4_frag_timeout: return "ipv4_frag_timeout";
    case DropReason::handoff_full: return "handoff_full";
    case DropReason::vlan_mismatch: return "vlan_mismatch";
    case DropReason::ipv4_no_route: return "ipv4_no_route";
    case DropReason::ipv4_truncated: return "ipv4_truncated";
    case DropReason::sip_forbidden: return "sip_forbidden";
    case DropReason::sip_loop: return "sip_loop";
    case DropReason::sip_shed: return "sip_shed";
    case DropReason::exception_full: return "exception_full";
    case DropReason::exception_other: return "exception_other";
    case DropReason::stream_off: return "stream_off";
    case DropReason::stream_full: return "stream_full";
    case DropReason::outbox_full: return "outbox_full";
    case DropReason::count_: break;
    }
    return "?";
}

}  // namespace sipedge::dp
