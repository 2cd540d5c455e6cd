#include "control/telemetry.h"

#include <rte_telemetry.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "control/number.h"

namespace sipedge::ctl {

namespace {

std::mutex source_mu;  // the telemetry thread reads, the control thread sets
StatsSource source;
bool registered = false;

struct Field {
    const char* name;
    uint64_t dp::WorkerStats::*f;
};
#define SIPEDGE_FIELD(x) {#x, &dp::WorkerStats::x}
const Field fields[] = {
    SIPEDGE_FIELD(rx_packets), SIPEDGE_FIELD(rx_bytes), SIPEDGE_FIELD(tx_packets), SIPEDGE_FIELD(tx_bytes),
    SIPEDGE_FIELD(arp_requests_rx), SIPEDGE_FIELD(arp_replies_tx), SIPEDGE_FIELD(arp_requests_tx),
    SIPEDGE_FIELD(arp_replies_rx), SIPEDGE_FIELD(icmp_echo_rx), SIPEDGE_FIELD(icmp_unreach_rx),
    SIPEDGE_FIELD(icmp_unreach_matched), SIPEDGE_FIELD(udp_rx), SIPEDGE_FIELD(udp_tx),
    SIPEDGE_FIELD(sip_requests_rx), SIPEDGE_FIELD(sip_responses_rx), SIPEDGE_FIELD(sip_requests_tx),
    SIPEDGE_FIELD(sip_responses_tx), SIPEDGE_FIELD(sip_retransmissions_rx), SIPEDGE_FIELD(sip_retransmissions_tx),
    SIPEDGE_FIELD(responses_generated), SIPEDGE_FIELD(txn_server_created), SIPEDGE_FIELD(txn_client_created),
    SIPEDGE_FIELD(txn_server_active), SIPEDGE_FIELD(txn_client_active), SIPEDGE_FIELD(txn_failed_timeout),
    SIPEDGE_FIELD(txn_failed_503), SIPEDGE_FIELD(txn_failed_icmp), SIPEDGE_FIELD(txn_failed_cancelled),
    SIPEDGE_FIELD(rollover_timeout), SIPEDGE_FIELD(rollover_503), SIPEDGE_FIELD(rollover_icmp),
    SIPEDGE_FIELD(stateless_forwarded), SIPEDGE_FIELD(calls_attempted), SIPEDGE_FIELD(calls_answered),
    SIPEDGE_FIELD(calls_failed), SIPEDGE_FIELD(cancels_rx), SIPEDGE_FIELD(byes_rx), SIPEDGE_FIELD(acks_rx),
    SIPEDGE_FIELD(route_matched), SIPEDGE_FIELD(route_no_match), SIPEDGE_FIELD(route_bad_input),
    SIPEDGE_FIELD(route_scan_error), SIPEDGE_FIELD(ipv4_fragments_rx), SIPEDGE_FIELD(ipv4_reassembled),
    SIPEDGE_FIELD(ipv4_fragmented_tx), SIPEDGE_FIELD(ipv4_fragments_tx), SIPEDGE_FIELD(handoff_pushed),
    SIPEDGE_FIELD(handoff_drained), SIPEDGE_FIELD(arp_shared), SIPEDGE_FIELD(cancels_passed), SIPEDGE_FIELD(trace_copied),
    SIPEDGE_FIELD(trace_dropped), SIPEDGE_FIELD(sip_cross_iface),
    SIPEDGE_FIELD(timer_c_fired), SIPEDGE_FIELD(txn_failed_timer_c),
    SIPEDGE_FIELD(provisional_timeouts), SIPEDGE_FIELD(txn_failed_provisional),
    // issue 16: overload control and tombstones
    SIPEDGE_FIELD(overload_503), SIPEDGE_FIELD(tombs_created), SIPEDGE_FIELD(tomb_hits),
    SIPEDGE_FIELD(tombs_evicted),
    // issue 16: access policy
    SIPEDGE_FIELD(policy_route_denied), SIPEDGE_FIELD(policy_dialog_denied), SIPEDGE_FIELD(policy_token_bad),
    SIPEDGE_FIELD(policy_loop), SIPEDGE_FIELD(acks_absorbed), SIPEDGE_FIELD(reject_records_overwritten),
    SIPEDGE_FIELD(malformed_answered),
    // issue 16: access peers and flood guard
    SIPEDGE_FIELD(guard_not_peer), SIPEDGE_FIELD(guard_source_flood), SIPEDGE_FIELD(guard_peer_rate),
    SIPEDGE_FIELD(guard_dropped),
    // issue 12: loop time (TSC cycles; "tsc_hz" beside them) and partial checksums
    SIPEDGE_FIELD(busy_cycles), SIPEDGE_FIELD(idle_cycles), SIPEDGE_FIELD(busy_polls), SIPEDGE_FIELD(idle_polls),
    SIPEDGE_FIELD(rx_udp_csum_partial),
};
#undef SIPEDGE_FIELD

std::vector<CoreCounters> read_cores() {
    std::vector<CoreCounters> v;
    std::lock_guard<std::mutex> g(source_mu);
    if (source) source(v);
    return v;
}

// The cores <params> selects: all ("" / null), or the one lcore it names.
// Returns false for a malformed or unknown lcore.
bool select(const char* params, const std::vector<CoreCounters>& all, std::vector<const CoreCounters*>& out) {
    if (!params || !*params) {
        for (const CoreCounters& c : all) out.push_back(&c);
        return true;
    }
    uint64_t want = 0;
    if (parse_number(params, 0, UINT32_MAX, want) != NumStatus::ok) return false;  // control/number.h
    for (const CoreCounters& c : all)
        if (c.lcore == want) out.push_back(&c);
    return !out.empty();
}

int cmd_cores(const char*, const char*, rte_tel_data* d) {
    rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
    for (const CoreCounters& c : read_cores()) rte_tel_data_add_array_int(d, int(c.lcore));
    return 0;
}

int cmd_stats(const char*, const char* params, rte_tel_data* d) {
    const std::vector<CoreCounters> all = read_cores();
    std::vector<const CoreCounters*> sel;
    if (!select(params, all, sel)) return -EINVAL;
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "cores", sel.size());
    for (const Field& f : fields) {
        uint64_t sum = 0;
        for (const CoreCounters* c : sel) sum += c->stats.*f.f;
        rte_tel_data_add_dict_u64(d, f.name, sum);
    }
    uint64_t drops = 0;
    for (const CoreCounters* c : sel) drops += c->stats.drops_total();
    rte_tel_data_add_dict_u64(d, "drops", drops);
    rte_tel_data_add_dict_u64(d, "tsc_hz", sel.empty() ? 0 : sel.front()->tsc_hz);
    return 0;
}

int cmd_drops(const char*, const char* params, rte_tel_data* d) {
    const std::vector<CoreCounters> all = read_cores();
    std::vector<const CoreCounters*> sel;
    if (!select(params, all, sel)) return -EINVAL;
    rte_tel_data_start_dict(d);
    for (size_t r = 0; r < dp::drop_reason_count; r++) {
        uint64_t sum = 0;
        for (const CoreCounters* c : sel) sum += c->stats.drops[r];
        rte_tel_data_add_dict_u64(d, dp::drop_reason_name(dp::DropReason(r)), sum);
    }
    return 0;
}

}  // namespace

Status register_telemetry(StatsSource s) {
    {
        std::lock_guard<std::mutex> g(source_mu);
        source = std::move(s);
    }
    if (registered) return Ok{};
    struct Cmd {
        const char* name;
        telemetry_cb fn;
        const char* help;
    };
    static const Cmd cmds[] = {
        {"/sipedge/cores", cmd_cores, "Returns the sipedge worker lcores. Takes no parameters"},
        {"/sipedge/stats", cmd_stats,
         "Returns sipedge worker counters, summed over all workers. Parameters: int lcore_id (optional)"},
        {"/sipedge/drops", cmd_drops,
         "Returns sipedge worker drops by reason, summed over all workers. Parameters: int lcore_id (optional)"},
    };
    for (const Cmd& c : cmds) {
        const int rc = rte_telemetry_register_cmd(c.name, c.fn, c.help);
        if (rc != 0) return err(-rc, std::string("telemetry: cannot register ") + c.name + ": " + std::strerror(-rc));
    }
    registered = true;
    return Ok{};
}

void clear_telemetry_source() {
    std::lock_guard<std::mutex> g(source_mu);
    source = nullptr;
}

}  // namespace sipedge::ctl
