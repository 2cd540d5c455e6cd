#pragma once
// The failover engine: the control thread's owner of every trunk's server
// health, registrations and routing decisions. Pure logic: time is the <now>
// given to each call, randomness is the seeded Random, and output is a list
// of Actions (send this REGISTER/OPTIONS, notify this) the caller drains and
// executes. Workers' ServerEvents come in through on_event(); responses to
// its REGISTERs through on_register_response() and to its OPTIONS probes
// through on_probe_response(); publish() builds the next immutable Table,
// rebuilding only trunks whose state changed.
//
// Parts: the engine keeps server health (health.cc), selection
// (selection.cc), failback (failback.cc) and administrative state
// (admin.cc); it owns a RegistrationAgent (REGISTER transactions and walks,
// registration_agent.h) and a ProbeMonitor (OPTIONS probes,
// probe_monitor.h), and serves each as its RegistrationHost / ProbeHost.
//
// Capacity: trunks are dense ids 0..n-1 (thousands); each trunk has at most
// max_servers servers and any number of identities. tick() walks every trunk
// and checks its deadlines (about 25 ns per trunk with nothing due: 0.25 ms
// at 10,000 trunks, bench/RESULTS-control.md); no per-trunk due-time index.
//
// Nothing here throws; allocation failures in std containers terminate (the
// control side catches nothing: cpp_eh=none).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "failover/action.h"
#include "failover/events_types.h"
#include "failover/knobs.h"
#include "failover/probe_monitor.h"
#include "failover/random.h"
#include "failover/registration_agent.h"
#include "failover/server_set.h"
#include "failover/table.h"
#include "failover/trunk.h"

namespace sipedge::failover {

struct EngineOptions {
    /// First REGISTERs of newly added trunks are spread over this window.
    Millis startup_spread_ms = 10000;
    std::string user_agent = "sipedge";
    /// A trunk whose servers are all unresolved host names (DNS-named, before
    /// the first answer) waits this long for update_servers() before its
    /// registration backs off.
    Millis dns_wait_ms = 30000;
};

struct AddTrunk {
    std::string name;
    std::string domain;        // AOR domain; empty: the first server's address
    TrunkKnobs knobs;
    ServerSet servers;
    std::vector<Identity> identities;
};

struct AddResult {
    uint32_t trunk_id = 0;
    ConfigError error = ConfigError::ok;
};

class Engine final : private RegistrationHost, private ProbeHost {
public:
    explicit Engine(uint64_t seed, EngineOptions opt = {});
    // The registration agent holds references to members: not copied or moved.
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // ---- configuration (control socket commands) ---------------------------------
    /// Adds a trunk; validates knobs, servers and identities. Its first
    /// REGISTERs are scheduled within startup_spread_ms of <now>.
    AddResult add_trunk(AddTrunk spec, Millis now);
    /// Replaces knobs (validated after normalize()).
    ConfigError set_knobs(uint32_t trunk, TrunkKnobs k, Millis now);
    /// New server list from DNS or config. Servers keep their state across the
    /// update when transport, address and port match (seed P sticky route);
    /// the registered server leaving the list re-registers at once. An empty
    /// set is refused (no_servers) and changes nothing: dns/ decides stale use.
    ConfigError update_servers(uint32_t trunk, const ServerSet& set, Millis now);
    /// Administrative state of one server (admin.cc). maintenance=true: new
    /// requests and new registrations leave it out, as if failed but without
    /// counting a failure (no failed notice, no recovery delay, failure state
    /// untouched); transactions and dialogs in flight complete (signal_mask
    /// keeps it); a validated trunk working on it moves its registration to
    /// the next server as a failover walk would. maintenance=false: back in
    /// service at once (it did not fail: no recovery delay); failback rules
    /// apply. unknown_trunk / bad_server (index out of range) otherwise.
    ConfigError set_admin(uint32_t trunk, uint16_t server, bool maintenance, Millis now);
    /// Removes a trunk and nothing else: every other trunk keeps its health,
    /// registrations and ids. The id is not reused (workers may still hold it
    /// in transactions: they find no routes for it and answer 503); its slot
    /// keeps ~sizeof(Trunk) bytes. Its bindings are left to expire at the
    /// registrar (no REGISTER Expires: 0), its pending REGISTERs/probes are
    /// forgotten (their answers match nothing), and the next publish() drops
    /// it from the Table. trunk() returns nullptr for it. unknown_trunk when
    /// <trunk> is not there (or already removed).
    ConfigError remove_trunk(uint32_t trunk, Millis now);

    // ---- inputs ----------------------------------------------------------------------
    /// One worker observation (ring drain). Stale generations are ignored.
    void on_event(const ServerEvent& ev);
    /// A response to a REGISTER this engine asked for (branch steered to control).
    void on_register_response(uint32_t trunk, uint16_t identity, const char* msg, size_t len, Millis now);
    /// REGISTER/OPTIONS send failed (ICMP unreachable quoting it, or no route).
    void on_register_transport_error(uint32_t trunk, uint16_t identity, Millis now);
    /// A response (status ≥ 200) to a monitor OPTIONS probe; <retry_after_s>
    /// from a 503's Retry-After (0 = none).
    void on_probe_response(uint32_t trunk, uint16_t server, uint32_t cseq, uint16_t status,
                           uint32_t retry_after_s, Millis now);
    /// Timers: REGISTER and probe timeouts, refreshes, expiries, back-off,
    /// recovery delays, failback, probes. Call at least every second.
    void tick(Millis now);

    // ---- outputs ---------------------------------------------------------------------
    const std::vector<Action>& actions() const noexcept { return actions_; }
    void clear_actions() noexcept { actions_.clear(); }
    /// Text of the REGISTER <a> asks for into buf[0, cap); returns its length,
    /// or 0 when it does not fit or <a> is stale (the identity moved on).
    size_t write_register(const Action& a, const SendContext& ctx, char* buf, size_t cap) const;
    /// Text of the OPTIONS probe <a> asks for.
    size_t write_options(const Action& a, const SendContext& ctx, char* buf, size_t cap) const;
    /// Next Table: trunks changed since <prev> are rebuilt, the rest shared.
    std::unique_ptr<const Table> publish(const Table* prev, Millis now);
    /// The routes trunk <t> would publish now (tests, explain).
    TrunkRoutes routes(uint32_t t, Millis now);
    /// Human-readable state: candidates with states, and the last decision.
    std::string explain(uint32_t trunk, Millis now);

    // ---- introspection ----------------------------------------------------------------
    /// The trunk with id <id>; nullptr when there is none or it was removed.
    const Trunk* trunk(uint32_t id) const noexcept {
        return id < trunks_.size() && !trunks_[id].removed ? &trunks_[id] : nullptr;
    }
    /// One past the highest trunk id (removed trunks included: ids are not reused).
    size_t trunk_count() const noexcept { return trunks_.size(); }
    /// Trunks present (trunk_count() less the removed ones).
    size_t live_trunks() const noexcept { return trunks_.size() - removed_; }
    /// True when some trunk changed since the last publish() (a removal included).
    bool any_dirty() const noexcept;
    Health health(uint32_t trunk, uint16_t server, Millis now) const noexcept;
    Random& rng() noexcept { return rng_; }
    /// Changes with every decision recorded in a Trunk::last (and every trunk
    /// added): a reader that saw the same (instance(), decision_seq()) has no
    /// new decision to read, without walking the trunks (control/monitor.cc).
    uint64_t decision_seq() const noexcept { return decision_seq_; }
    /// Unique per Engine object in this process (never 0): tells a rebuilt
    /// engine from the one it replaced even when it reuses its address.
    uint64_t instance() const noexcept { return instance_; }
    /// Changes whenever a trunk is added or its server list is replaced
    /// (update_servers: DNS answers, configuration): a reader that saw the
    /// same (instance(), servers_seq()) has the same server addresses.
    uint64_t servers_seq() const noexcept { return servers_seq_; }
    /// Worker events ignored because they concern an earlier server list.
    uint64_t stale_events() const noexcept { return stale_events_; }

private:
    // RegistrationHost (registration_agent.h) and ProbeHost (probe_monitor.h):
    // marked override below.
    // selection.cc
    void build_routes(Trunk& t, Millis now, TrunkRoutes& r);
    void rank_order(const Trunk& t, uint16_t* out, size_t& n) const;
    int next_candidate(Trunk& t, Millis now) override;
    int16_t primary(const Trunk& t) const noexcept override;
    // health.cc
    void mark_failed(Trunk& t, uint16_t s, Trigger why, Millis now);
    void mark_alive(Trunk& t, uint16_t s, Trigger why, Millis now) override;
    void cancel_delays_if_isolated(Trunk& t, Millis now);
    void server_failed_in_use(Trunk& t, uint16_t s, Trigger why, Millis now) override;
    void leave_working_server(Trunk& t, uint16_t s, Millis now);
    void record(Trunk& t, Decision d, Millis now, int16_t server, int16_t from = -1,
                Trigger why = Trigger::none) override;
    void notify(const Trunk& t, NoticeKind k, Millis now, uint16_t server = 0xffff,
                uint16_t identity = 0xffff, uint32_t count = 0) override;
    // failback.cc
    void schedule_failback(Trunk& t, Millis now) override;
    void check_failback(Trunk& t, Millis now);
    int16_t tf_serving(const Trunk& t, Millis now) const;
    void tf_failed_over(Trunk& t, uint16_t s, Millis now);
    void tf_check_hold(Trunk& t, Millis now);
    bool group_has_calls(const Trunk& t) const noexcept;
    void start_failback(Trunk& t, Millis now);
    void refresh_failback(Trunk& t, Millis now);
    void walk_landed(Trunk& t, Millis now) override;

    std::vector<Trunk> trunks_;
    std::vector<Action> actions_;
    Random rng_;
    EngineOptions opt_;
    RegistrationAgent reg_;      // REGISTERs and registration walks (registration_agent.h)
    ProbeMonitor monitor_;       // OPTIONS probes (probe_monitor.h)
    uint64_t decision_seq_ = 0;  // bumped by record()
    uint64_t servers_seq_ = 0;   // bumped by add_trunk() and update_servers()
    uint64_t stale_events_ = 0;  // worker events for an earlier server list (ignored)
    size_t removed_ = 0;         // trunks removed (their slots stay)
    uint64_t instance_ = 0;      // set in the constructor
};

}  // namespace sipedge::failover
