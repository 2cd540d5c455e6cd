#pragma once
// What sipedge (control/main.cc) says about its workers: the exit JSON on
// stdout, the per-core counters for `show stats`, and the drops and partial
// checksums worth a word on stderr, each said once. Control thread only; the
// workers' counters are read with plain loads (a counter may lag a little
// while they run).

#include <cstdint>
#include <vector>

#include "control/monitor.h"
#include "dataplane/worker.h"

namespace sipedge::ctl {

struct DpLinkCounters;
}  // namespace sipedge::ctl
namespace sipedge::stream {
struct StreamStats;
}
namespace sipedge::ctl {

/// Every counter of <s> added into <t>.
void add_stats(dp::WorkerStats& t, const dp::WorkerStats& s);

/// The exit JSON on stdout, one line, flushed: <total> over the run of
/// <secs>, the control side <l>, per port of <ports>, and per worker of <ws>
/// (on <lcores>, same order). <active_slots>: transactions in use, summed.
/// <stream>: the stream thread's counters (--sip-tcp), in section "stream".
void print_stats(const dp::WorkerStats& total, double secs, uint32_t active_slots,
                 const DpLinkCounters& l, const std::vector<dp::Worker*>& ws,
                 const std::vector<unsigned>& lcores, const std::vector<dp::PortConfig>& ports,
                 const stream::StreamStats* stream = nullptr);

/// Worker <s> on <lcore> for the monitor (`show stats`, control/monitor.h).
CoreStats core_stats(unsigned lcore, const dp::WorkerStats& s);

/// Issue 16: drops worth a word to the operator, each said once (the first
/// time a worker counts one). <said> remembers what was said.
void say_drops_once(const std::vector<dp::Worker*>& ws, bool (&said)[2]);

/// The first datagram accepted with a partial checksum on port <k> (index in
/// <pcs>; <cfg_index> and <drivers> by the same index), said once: which
/// port, what was accepted, how to make peers send full checksums. <said>
/// remembers the ports already said.
void say_partial_once(const std::vector<dp::Worker*>& ws, const std::vector<dp::PortConfig>& pcs,
                      const std::vector<uint16_t>& cfg_index, const std::vector<std::string>& drivers,
                      std::vector<bool>& said);

}  // namespace sipedge::ctl
