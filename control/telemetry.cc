#include "control/telemetry.h"

#include <rte_telemetry.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "control/number.h"
#include "dataplane/stats_table.h"

namespace sipedge::ctl {

namespace {

std::mutex source_mu;  // the telemetry thread reads, the control thread sets
StatsSource source;
bool registered = false;


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
    for (const dp::CounterInfo& f : dp::worker_counters()) {  // the one table: dataplane/stats_table.h
        uint64_t sum = 0;
        for (const CoreCounters* c : sel) sum += c->stats.*f.field;
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
