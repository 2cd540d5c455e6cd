#pragma once
// Route patterns in the control plane (issue 6/7): the route-pattern and
// inbound-pattern commands, their running-config lines, and the Hyperscan
// tables compiled from them (dataplane/route_table.h).
//
// route-pattern <id> digits|regex <pattern> trunk <name> [source <cidr>] [priority <n>]
//   new requests from the access side whose Request-URI user part matches go to <trunk>;
// inbound-pattern <id> digits|regex <pattern> target <ipv4>:<port> [source <cidr>] [priority <n>]
//   new requests from the carrier side (DIDs) go to that access target.
// A command that changes patterns compiles the whole table before it commits
// (State::route_cache); a bad pattern is refused with the reason and nothing
// changes. In a startup file each line checks its own pattern and the table
// is compiled once, after the last line. In sipedge, once the startup file
// is loaded (Controller::defer_route_compile), a command checks its pattern
// alone and commits; the table is compiled on another thread
// (control/dp_link.cc) while the workers keep the previous one.

#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "control/commands.h"
#include "control/state.h"
#include "dataplane/route_table.h"

namespace sipedge::ctl {

/// What the data plane gets: two tables and the names their targets index.
struct CompiledRoutes {
    std::unique_ptr<dp::RouteTable> outbound;  // access side → trunk; target = index into trunks
    std::vector<std::string> trunks;           // sorted trunk names
    std::unique_ptr<dp::RouteTable> inbound;   // carrier side → access target; target = index into targets
    std::vector<std::string> targets;          // sorted "<ipv4>:<port>"
    double compile_ms = 0;                     // both tables
};

/// The name in a command's touched set that says "the patterns changed"
/// (trunk names cannot start with '@').
inline constexpr const char* routes_touched = "@routes";

std::span<const Command> route_commands() noexcept;
/// The route-pattern and inbound-pattern lines of <st>, by id.
void route_running_config(const State& st, std::vector<std::string>& out);
/// Before a commit: when the patterns changed, or a trunk they name was
/// deleted, checks the trunk names and compiles the tables into
/// work.route_cache. Refuses with the reason; then nothing is committed.
/// <defer>: only the trunk checks (each pattern was checked alone by its
/// command); the tables are compiled later (compile_route_maps()).
Status validate_routes(const State& work, const std::set<std::string>& touched, bool defer = false);
/// Both tables from the two pattern maps (callable from any thread: it reads
/// only its arguments).
Result<std::shared_ptr<const CompiledRoutes>> compile_route_maps(
    const std::map<uint32_t, RoutePatternConfig>& route_patterns,
    const std::map<uint32_t, RoutePatternConfig>& inbound_patterns);
/// The compiled tables of <st> (compiled now when the cache is empty).
Result<std::shared_ptr<const CompiledRoutes>> compiled_routes(const State& st);

}  // namespace sipedge::ctl
