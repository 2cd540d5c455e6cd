#include "control/edge_report.h"

#include "stream/transport.h"

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "control/dp_link.h"
#include "dataplane/inet.h"
#include "dataplane/stats_table.h"
#include "dataplane/stats_types.h"

namespace sipedge::ctl {

namespace {

void print_worker(const dp::WorkerStats& s, unsigned idx, unsigned lcore, uint32_t active_slots) {
    std::printf("{\"worker\":%u,\"lcore\":%u,\"rx_packets\":%lu,\"tx_packets\":%lu,\"udp_rx\":%lu,"
                "\"udp_tx\":%lu,\"sip_requests_rx\":%lu,\"sip_responses_rx\":%lu,"
                "\"calls_attempted\":%lu,\"calls_answered\":%lu,\"slots_in_use\":%u,"
                "\"control_tx\":%lu,\"control_rx\":%lu,\"handoff_pushed\":%lu,"
                "\"handoff_drained\":%lu,\"handoff_full\":%lu,\"arp_shared\":%lu,"
                "\"arp_replies_rx\":%lu,\"drops_total\":%lu,\"busy_cycles\":%lu,\"idle_cycles\":%lu,"
                "\"busy_polls\":%lu,\"idle_polls\":%lu,\"udp_csum_partial\":%lu}",
                idx, lcore, s.rx_packets, s.tx_packets, s.udp_rx, s.udp_tx, s.sip_requests_rx,
                s.sip_responses_rx, s.calls_attempted, s.calls_answered, active_slots, s.control_tx,
                s.control_rx, s.handoff_pushed, s.handoff_drained,
                s.drops[size_t(dp::DropReason::handoff_full)], s.arp_shared, s.arp_replies_rx,
                s.drops_total(), s.busy_cycles, s.idle_cycles, s.busy_polls, s.idle_polls,
                s.rx_udp_csum_partial);
}

}  // namespace

// Every counter of <s> added into <t> (all fields are uint64_t counters, up
// to the last one of the block at the struct's end).
void add_stats(dp::WorkerStats& t, const dp::WorkerStats& s) {
    static_assert(std::is_standard_layout_v<dp::WorkerStats>);
    constexpr size_t words = dp::worker_stats_counter_bytes / sizeof(uint64_t);
    static_assert(words * sizeof(uint64_t) >= offsetof(dp::WorkerStats, drops) + sizeof(s.drops));
    auto* d = reinterpret_cast<uint64_t*>(&t);
    const auto* a = reinterpret_cast<const uint64_t*>(&s);
    for (size_t i = 0; i < words; i++) d[i] += a[i];
}

void print_stats(const dp::WorkerStats& s, double secs, uint32_t active_slots,
                 const DpLinkCounters& l, const std::vector<dp::Worker*>& ws,
                 const std::vector<unsigned>& lcores, const std::vector<dp::PortConfig>& ports,
                 const stream::StreamStats* stream) {
    std::printf("{\"duration_s\":%.3f", secs);
    // What a section holds besides its worker counters: the TSC rate, slots
    // in use now, the control thread's side of the rings, a drop reason.
    auto extras = [&](std::string_view sec) {
        if (sec == "cycles") {
            std::printf(",\"tsc_hz\":%lu", (unsigned long)rte_get_tsc_hz());
        } else if (sec == "transactions") {
            std::printf(",\"slots_in_use\":%u", active_slots);
        } else if (sec == "control") {
            std::printf(",\"events_in\":%lu,\"published\":%lu,\"reclaimed\":%lu,\"sent\":%lu,"
                        "\"send_dropped\":%lu,\"responses_in\":%lu,\"responses_bad\":%lu,\"unreachable\":%lu,"
                        "\"notices\":%lu",
                        l.events, l.published, l.reclaimed, l.sent, l.send_dropped, l.responses, l.responses_bad,
                        l.unreachable, l.notices);
        } else if (sec == "handoff") {
            std::printf(",\"full\":%lu", s.drops[size_t(dp::DropReason::handoff_full)]);
        } else if (sec == "trace") {
            std::printf(",\"drained\":%lu", l.trace_samples);
        } else if (sec == "stream" && stream) {  // the stream thread's own counters (stream/transport.h)
#define SIPEDGE_STREAM_JSON(n) std::printf(",\"" #n "\":%lu", (unsigned long)stream->n);
            SIPEDGE_STREAM_STATS(SIPEDGE_STREAM_JSON)
#undef SIPEDGE_STREAM_JSON
        }
    };
    // Every worker counter by the one table (dataplane/stats_table.h; a
    // section's rows are consecutive there).
    std::string_view open;
    for (const dp::CounterInfo& c : dp::worker_counters()) {
        if (open != c.section) {
            if (!open.empty()) {
                extras(open);
                std::printf("}");
            }
            open = c.section;
            std::printf(",\"%s\":{\"%s\":%lu", c.section, c.key, s.*c.field);
            continue;
        }
        std::printf(",\"%s\":%lu", c.key, s.*c.field);
    }
    if (!open.empty()) {
        extras(open);
        std::printf("}");
    }
    std::printf(",\"ports\":[");
    for (size_t i = 0; i < ports.size(); i++) {
        std::printf("%s{\"port\":%u,\"vlan\":%u,\"rx_packets\":%lu,\"tx_packets\":%lu,"
                    "\"rx_udp_csum\":\"%s\",\"udp_csum_partial\":%lu",
                    i ? "," : "", unsigned(ports[i].port_id), unsigned(ports[i].vlan), s.port_rx[i],
                    s.port_tx[i], dp::rx_csum_name(ports[i].rx_csum), s.port_udp_csum_partial[i]);
        // What the device itself counted (the whole DPDK port, every VLAN
        // on it): frames it lost before a worker polled them (imissed: RX
        // ring full; rx_nombuf: no mbuf) are invisible to the workers'
        // counters above.
        rte_eth_stats d{};
        if (rte_eth_stats_get(ports[i].port_id, &d) == 0)
            std::printf(",\"device\":{\"ipackets\":%lu,\"opackets\":%lu,\"imissed\":%lu,"
                        "\"ierrors\":%lu,\"oerrors\":%lu,\"rx_nombuf\":%lu}",
                        (unsigned long)d.ipackets, (unsigned long)d.opackets, (unsigned long)d.imissed,
                        (unsigned long)d.ierrors, (unsigned long)d.oerrors, (unsigned long)d.rx_nombuf);
        std::printf("}");
    }
    std::printf("],");
    std::printf("\"drops\":{\"total\":%lu", s.drops_total());
    for (size_t r = 0; r < dp::drop_reason_count; r++)
        std::printf(",\"%s\":%lu", dp::drop_reason_name(dp::DropReason(r)), s.drops[r]);
    std::printf("},\"workers\":[");
    for (size_t i = 0; i < ws.size(); i++) {
        if (i) std::printf(",");
        print_worker(ws[i]->stats(), unsigned(i), lcores[i], ws[i]->active_slots());
    }
    std::printf("]}\n");
    std::fflush(stdout);
}

CoreStats core_stats(unsigned lcore, const dp::WorkerStats& s) {
    CoreStats c;
    c.core = lcore;
    // Every worker counter, by the one table (dataplane/stats_table.h).
    for (const dp::CounterInfo& f : dp::worker_counters()) c.counters.emplace_back(f.name, s.*f.field);
    c.tsc_hz = rte_get_tsc_hz();
    for (size_t r = 0; r < dp::drop_reason_count; r++)
        c.drops.emplace_back(dp::drop_reason_name(dp::DropReason(r)), s.drops[r]);
    return c;
}

// Issue 16: drops worth a word to the operator, each said once (the first
// time a worker counts one). Control thread; <said> remembers what was said.
void say_drops_once(const std::vector<dp::Worker*>& ws, bool (&said)[2]) {
    static constexpr struct {
        dp::DropReason r;
        const char* text;
    } what[2] = {
        {dp::DropReason::ipv4_frag_too_many,
         "too many fragments: an IPv4 datagram for us arrived in more than 8 fragments (over "
         "~11.8 KB at MTU 1500) and was dropped whole (ipv4_frag_too_many, counted); the sender "
         "must send smaller SIP messages (or use TCP)"},
        {dp::DropReason::ipv4_truncated,
         "a received frame held less than its IPv4 datagram (cut by the port, e.g. a net_af_packet "
         "framesz below the datagram) and was dropped (ipv4_truncated, counted); leave framesz to "
         "sipedge or raise it"},
    };
    for (size_t k = 0; k < 2; k++) {
        if (said[k]) continue;
        for (const dp::Worker* w : ws)
            if (w->stats().drops[size_t(what[k].r)]) {
                said[k] = true;
                std::fprintf(stderr, "sipedge: %s\n", what[k].text);
                break;
            }
    }
}

// The first datagram accepted with a partial checksum on port <k> (index in
// <pcs>), said once: which port, what was accepted, how to make peers send
// full checksums. Control thread; <said> remembers the ports already said.
void say_partial_once(const std::vector<dp::Worker*>& ws, const std::vector<dp::PortConfig>& pcs,
                      const std::vector<uint16_t>& cfg_index, const std::vector<std::string>& drivers,
                      std::vector<bool>& said) {
    for (size_t k = 0; k < pcs.size(); k++) {
        if (said[k]) continue;
        for (const dp::Worker* w : ws) {
            dp::Endpoint from;
            bool flagged = false;
            if (!w->first_partial(uint8_t(k), from, flagged)) continue;
            said[k] = true;
            char ip[16];
            ip[dp::format_ipv4(from.ip, ip)] = 0;
            std::fprintf(stderr,
                         "sipedge: port %u (DPDK port %u, %s): accepted a UDP datagram from %s:%u %s; "
                         "accepting such datagrams from now on and counting them (rx_udp_csum_partial; "
                         "checksums that are wrong otherwise are still dropped as udp_bad_csum). Its "
                         "sender left the checksum to an offload that never ran (Linux CHECKSUM_PARTIAL "
                         "across a veth or tap). To have peers send full checksums, turn TX checksum "
                         "offload off on the sending interface (ethtool -K <peer-interface> tx off, in "
                         "the peer's namespace). Said once per port.\n",
                         unsigned(cfg_index[k]), unsigned(pcs[k].port_id), drivers[k].c_str(), ip,
                         unsigned(from.port),
                         flagged ? "that the driver flagged as carrying no complete checksum "
                                   "(RTE_MBUF_F_RX_L4_CKSUM_NONE: data intact)"
                                 : "whose checksum field holds the pseudo-header partial sum");
            break;
        }
    }
}

}  // namespace sipedge::ctl
