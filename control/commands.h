#pragma once
// The control command table and the Controller that runs it. One text
// command per line (socket, startup file, sipedgectl); the reply is one JSON
// object: {"status":0,"data":...} or {"status":<errno>,"error":"..."}.
//
// Commands are static arrays of {words, args, help, handler} owned by the
// file that implements them (cmd_trunk.cc, cmd_global.cc, cmd_show.cc;
// HAProxy cli_kws, DPDK rte_telemetry_register_cmd); `help` is generated
// from them. <words> are literal words and <placeholders>; the command whose
// words match the line with the most literal words wins.
//
// Changes are transactional: a mutating command runs on a copy of the
// committed State, the touched trunks are validated, and only then is the
// copy committed and the failover engine updated. A refused command changes
// nothing. Passwords never leave the Controller: replies and running-config
// carry `stored-password` (docs/control.md "Secrets").

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "control/json.h"
#include "control/monitor.h"
#include "control/state.h"
#include "failover/engine.h"

namespace sipedge::ctl {

class Controller;
class Ops;  // control/metrics.h: metrics, HTTP listener, SNMP traps
class DnsLink;  // control/dns_link.h: the resolver on the control loop

/// Words of one matched command: the <placeholder> values in order, then the rest.
struct Args {
    std::vector<std::string> vars;  // one per <placeholder> in Command::words
    std::vector<std::string> rest;  // words after the matched ones
};

/// What a handler works on. Mutating commands get the working copy in <st>;
/// read-only ones get the committed state.
struct CmdCtx {
    Controller& ctl;
    State& st;
    std::set<std::string>& touched;  // trunks to validate before commit
};

struct Command {
    const char* words;  // "set trunk <name> server <n>"
    const char* args;   // help for the words after <words>
    const char* help;
    bool mutates;       // changes configuration; allowed in the startup file
    Result<Json> (*handler)(CmdCtx&, const Args&);
};

// Each command file owns its table.
std::span<const Command> trunk_commands() noexcept;   // cmd_trunk.cc
std::span<const Command> global_commands() noexcept;  // cmd_global.cc
std::span<const Command> show_commands() noexcept;    // cmd_show.cc
std::span<const Command> ops_commands() noexcept;     // cmd_ops.cc
std::span<const Command> dataplane_commands() noexcept;  // cmd_dataplane.cc
/// running-config lines of the data-plane settings (printed last); cmd_dataplane.cc.
void dataplane_running_config(const State& st, std::vector<std::string>& out);
/// Whether an EAL device name (before any ",devargs") is a PCI address:
/// "0000:03:00.0" or the short "03:00.0" (cmd_dataplane.cc).
bool dataplane_device_is_pci(std::string_view name) noexcept;
/// Cores `set dataplane lcores` may name: 0 to this - 1 (DPDK's default
/// RTE_MAX_LCORE; sipedge --check also holds the list to the build's own).
constexpr unsigned dataplane_max_lcores = 128;
/// The cores of an EAL -l list ("0-2", "0,2,4", "0-1,4"; numbers by
/// control/number.h, each < dataplane_max_lcores, ranges ascending, no core
/// twice), sorted; cmd_dataplane.cc.
Result<std::vector<unsigned>> dataplane_lcore_list(std::string_view w);
/// sipedge --check: what the data plane needs from this machine and its
/// configuration before the EAL starts. Refuses lcores naming fewer than two
/// cores or a core not in <cpus> (this process's sched_getaffinity set), a
/// port with a gateway or VLAN but no address, no address at all, and a
/// device whose name is neither a PCI address nor net_<driver><index> or
/// whose devargs are not key[=value] items (cmd_dataplane.cc).
Status dataplane_check_host(const DataplaneSettings& d, const std::vector<unsigned>& cpus);
/// running-config lines of the ops settings (metrics-http, snmp-trap-receiver); cmd_ops.cc.
void ops_running_config(const State& st, std::vector<std::string>& out);
std::span<const Command> dns_commands() noexcept;  // cmd_dns.cc: set global dns-server
/// running-config lines of the resolver settings (dns-server); cmd_dns.cc.
void dns_running_config(const State& st, std::vector<std::string>& out);
/// All commands, in help order.
const std::vector<const Command*>& command_table();

/// The matched command and its arguments, or an error (unknown word, incomplete).
struct Match {
    const Command* cmd = nullptr;
    Args args;
};
Result<Match> match_command(const std::vector<std::string>& words);

/// Milliseconds on a monotonic clock (the engine's time base); injected for tests.
using Clock = std::function<failover::Millis()>;

struct ControllerOptions {
    uint64_t seed = 1;             // failover::Engine randomness
    std::string secrets_path;      // "" = passwords kept in memory only
};

class Controller {
public:
    explicit Controller(Clock clock, ControllerOptions opt = {});

    /// Runs one command line; returns the JSON reply (one line, no newline).
    /// Never throws: std exceptions are caught here and answered as errors.
    std::string execute(std::string_view line);
    /// The same, as a Json value (tests).
    Json execute_json(std::string_view line);

    /// Applies every command of <lines> to one copy and commits only when all
    /// succeed. Blank lines and '#' comments are skipped. <origin> prefixes
    /// errors: "<origin>:<line>: <error>". Only mutating commands are allowed.
    Status apply_lines(const std::vector<std::string>& lines, const std::string& origin);

    /// Commands that recreate the committed state, one per line.
    std::vector<std::string> running_config() const;

    const State& state() const noexcept { return committed_; }
    /// Bumped by every commit of a changed state (and engine sync): what is
    /// derived from state() and engine ids needs no recomputing while it stands still.
    uint64_t commit_count() const noexcept { return commits_; }
    failover::Engine& engine() noexcept { return *engine_; }
    failover::Millis now() const { return clock_(); }
    /// The engine id of trunk <name> when the engine runs it.
    std::optional<uint32_t> engine_id(const std::string& name) const;
    /// Why trunk <name> is not in the engine ("" when it is).
    std::string engine_status(const std::string& name) const;
    /// A stored password for (<trunk>, <user>) or nullptr.
    const std::string* stored_password(const std::string& trunk, const std::string& user) const;
    /// The secrets-file "user" under which a trunk's TLS client key is kept.
    static constexpr std::string_view tls_key_secret = "@tls-client-key";
    /// The TLS client key (PEM) the secrets file holds for trunk <trunk>
    /// (entry `<trunk> @tls-client-key <base64 of the PEM>`, issue 14), or
    /// nullopt (none, or not base64).
    std::optional<std::string> stored_tls_key(const std::string& trunk) const;
    /// Reads the private key in PEM file <path> for `tls-client-key`: refused
    /// unless a regular file only its owner may read (as the secrets file),
    /// at most 16 KiB, one PEM private key OpenSSL can load. Error texts name
    /// the file, never its bytes.
    /// <what> names the setting in errors (the knob; `--tls-key` for the access side).
    static Result<std::string> read_tls_key(const std::string& path, const std::string& what = "tls-client-key");
    /// Loads the secrets file (when configured). Missing file = no secrets.
    Status load_secrets();
    /// The 128-bit key of the token in our Record-Route (issue 16,
    /// dataplane/access_policy.h): the one the secrets file holds (entry
    /// `@rr key <32 hex digits>`), so that in-dialog requests of calls set up
    /// before a restart still pass; else drawn from the kernel (getrandom)
    /// and written there. Without a secrets file: drawn, in memory only.
    /// An entry that is not 32 hex digits is refused (the line's reason).
    Status record_route_key(uint64_t key[2]);
    /// Drains engine actions (no data plane attached: sipedge-control).
    void tick();
    /// Hands every queued notify action to the notice sink (metrics, SNMP
    /// traps); tick() calls it, a loop that drains actions itself calls it first.
    void deliver_notices();
    void set_notice_sink(std::function<void(const failover::Notification&)> f) { notice_sink_ = std::move(f); }
    /// The process's metrics/trap runtime (nullptr: none, e.g. tests, --check).
    void set_ops(Ops* o) noexcept { ops_ = o; }
    Ops* ops() const noexcept { return ops_; }
    /// The resolver attached to this Controller (control/dns_link.h; nullptr: none).
    /// <on_commit> runs after every committed change (DnsLink::sync).
    void set_dns(DnsLink* d, std::function<void()> on_commit) noexcept {
        dns_ = d;
        dns_commit_ = std::move(on_commit);
    }
    DnsLink* dns() const noexcept { return dns_; }
    /// Event log, trace fan-out and per-core stats (control/monitor.h);
    /// deliver_notices() feeds it the engine's notices and decisions.
    Monitor& monitor() noexcept { return *monitor_; }
    const Monitor& monitor() const noexcept { return *monitor_; }
    /// Route patterns changed at runtime (sipedge, after its startup file):
    /// a command checks each pattern alone and commits; the whole table is
    /// compiled off the control thread (control/dp_link.cc), the workers
    /// keep the previous one until it is ready. Off (tests, the startup
    /// file, sipedge-control): compiled before the commit, errors refused.
    void set_defer_route_compile(bool on) noexcept { defer_route_compile_ = on; }
    bool defer_route_compile() const noexcept { return defer_route_compile_; }

private:
    Status validate_touched(const State& work, const std::set<std::string>& touched) const;
    void commit(State next, const std::set<std::string>& touched);
    void sync_engine(const std::set<std::string>& touched);
    void remove_from_engine(const std::string& name, failover::Millis now);
    Status save_secrets() const;

    Clock clock_;
    ControllerOptions opt_;
    State committed_;
    std::unique_ptr<failover::Engine> engine_;
    std::map<std::string, uint32_t> engine_ids_;
    std::map<std::string, std::string> engine_errors_;  // trunk → why not running
    std::map<std::string, TrunkConfig> engine_view_;      // what each engine trunk was built from
    std::map<std::pair<std::string, std::string>, std::string> secrets_;
    std::string rr_key_;  // the Record-Route key as 32 hex digits, once record_route_key() ran
    uint64_t rebuilds_ = 0;
    uint64_t commits_ = 0;
    std::function<void(const failover::Notification&)> notice_sink_;
    Ops* ops_ = nullptr;
    bool defer_route_compile_ = false;
    DnsLink* dns_ = nullptr;
    std::function<void()> dns_commit_;
    std::unique_ptr<Monitor> monitor_ = std::make_unique<Monitor>();
};

/// Replaces the word after every "password" with "***" (for logs).
std::string redact(std::string_view line);

/// Helpers for command files.
Result<TrunkConfig*> find_trunk(State& st, const std::string& name);
Status check_name(const std::string& what, const std::string& name);

}  // namespace sipedge::ctl
