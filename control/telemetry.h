#pragma once
// The workers' counters in DPDK telemetry (usertools/dpdk-telemetry.py, or
// any client of /var/run/dpdk/<prefix>/dpdk_telemetry.v2):
//
//   /sipedge/cores            list of the worker lcores
//   /sipedge/stats[,<lcore>]  counters summed over every worker, or of one lcore
//   /sipedge/drops[,<lcore>]  drops by reason (dataplane/stats_types.h DropReason), same
//
// Built only when DPDK is found. The callbacks run on DPDK's telemetry thread,
// so the StatsSource given here must be safe to call from another thread
// (reading the workers' own stats blocks is: plain loads of counters that
// may be a few increments behind, STYLE.md §3.4).

#include "base/result.h"
#include "control/metrics.h"

namespace sipedge::ctl {

/// Registers the commands (after rte_eal_init) and sets their source. DPDK
/// has no unregister: calling it again only replaces the source.
Status register_telemetry(StatsSource source);
/// Drops the source (the commands then answer with no cores); call before
/// the workers' stats blocks go away.
void clear_telemetry_source();

}  // namespace sipedge::ctl
