#pragma once
// The registration agent: every trunk's REGISTER transactions and the
// registration walk over its servers. It builds and refreshes bindings at the
// granted expiry's threshold, keeps max-concurrent-reg, answers digest
// challenges (401 and 407, MD5 and SHA-256, qop=auth), honours 423
// Min-Expires, walks to the next server when a REGISTER fails over (seed A
// validated steps 2–6), backs off when every server failed (RFC 5626), keeps
// or renews Call-IDs (seed P newCallOnUnRegister), unregisters, and counts
// failures for the registration-failures trap.
//
// Owned by Engine. The agent owns the logic and the engine-wide registration
// state (the Call-ID sequence); the per-trunk registration state it drives is
// the Trunk's (regs, reg_target, walk_*, backoff_*, dns_wait_until, trap_*,
// sticky_pending, failback_walk: trunk.h), where control/ and the tests read
// it. What it emits goes into the engine's action list: send_register actions
// and registration notices. What it needs from the rest of the engine
// (server health, selection order, decisions, failback) it asks of a
// RegistrationHost, so it can be driven alone (tests/failover/
// registration_agent_test.cc).
//
// Pure logic like the rest of failover/: time is the <now> of each call,
// randomness the engine's Random (shared, so draws keep their order).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "failover/action.h"
#include "failover/random.h"
#include "failover/trunk.h"

namespace sipedge::failover {

/// The rest of the engine as the registration agent sees it.
class RegistrationHost {
public:
    /// Next server of the trunk's current walk (walk_origin, walk_tried), -1 when none.
    virtual int next_candidate(Trunk& t, Millis now) = 0;
    /// The trunk's primary server (sticky route, else the primary record's top).
    virtual int16_t primary(const Trunk& t) const noexcept = 0;
    /// A REGISTER to <s> got an answer: it is alive.
    virtual void mark_alive(Trunk& t, uint16_t s, Trigger why, Millis now) = 0;
    /// A REGISTER to <s> failed in a way that is a failover trigger.
    virtual void server_failed_in_use(Trunk& t, uint16_t s, Trigger why, Millis now) = 0;
    /// Records the trunk's latest routing decision (explain, Trunk::last).
    virtual void record(Trunk& t, Decision d, Millis now, int16_t server, int16_t from, Trigger why) = 0;
    /// Queues a notice for operators.
    virtual void notify(const Trunk& t, NoticeKind k, Millis now, uint16_t server, uint16_t identity,
                        uint32_t count) = 0;
    /// The trunk's working server changed (or was confirmed): failback timer.
    virtual void schedule_failback(Trunk& t, Millis now) = 0;
    /// A walk settled on the working server without a new binding.
    virtual void walk_landed(Trunk& t, Millis now) = 0;

protected:
    ~RegistrationHost() = default;
};

class RegistrationAgent {
public:
    /// <rng>, <out> and <host> must outlive the agent (Engine's members).
    RegistrationAgent(Random& rng, std::vector<Action>& out, RegistrationHost& host, std::string user_agent);
    RegistrationAgent(const RegistrationAgent&) = delete;
    RegistrationAgent& operator=(const RegistrationAgent&) = delete;

    // ---- trunk life --------------------------------------------------------------------
    /// Appends <ids> to t.regs (auth user defaulted, a new Call-ID and From
    /// tag each), their first REGISTER not before <first_at>.
    void add_identities(Trunk& t, std::vector<Identity>& ids, Millis first_at);
    /// Starts a walk: from the top (<origin> -1) or from failed server <origin>'s
    /// record. No candidate: awaits DNS (unresolved trunk) or backs off.
    void start_walk(Trunk& t, int16_t origin, Millis now);
    /// Sends every REGISTER that is due, within max-concurrent-reg.
    void pump(Trunk& t, Millis now);
    /// REGISTER Expires: 0 for identity <ident> to <server>; the binding is gone at once.
    void unregister(Trunk& t, uint16_t ident, uint16_t server, Millis now);
    /// A final refusal that is not a failover trigger (403, connection closed
    /// under the binding): the identity loses its binding and waits.
    void deny(Trunk& t, uint16_t ident, uint32_t retry_after_s, Millis now);

    // ---- inputs ----------------------------------------------------------------------
    /// Timers: REGISTER timeouts, binding expiries, back-off end, DNS wait.
    void on_tick(Trunk& t, Millis now);
    /// A response to a REGISTER of identity <ident> (stale or foreign: ignored).
    void on_response(Trunk& t, uint16_t ident, const char* msg, size_t len, Millis now);
    /// The in-flight REGISTER of <ident> could not be sent (ICMP, no route).
    void on_transport_error(Trunk& t, uint16_t ident, Millis now);

    // ---- output ----------------------------------------------------------------------
    /// Text of the REGISTER <a> (of trunk <t>) asks for; 0 when it does not fit or is stale.
    size_t write_register(const Trunk& t, const Action& a, const SendContext& ctx, char* buf, size_t cap) const;

private:
    void advance_walk(Trunk& t, uint16_t failed, Trigger why, Millis now);
    void walk_exhausted(Trunk& t, Millis now);
    void send_register(Trunk& t, uint16_t ident, uint16_t server, uint32_t expires, Millis now);
    void on_registered(Trunk& t, uint16_t ident, uint16_t server, uint32_t granted, Millis now);
    void register_failed(Trunk& t, uint16_t ident, uint16_t server, Trigger why, Millis now);
    void count_failure(Trunk& t, Millis now);
    void new_call_id(const Trunk& t, Registration& r);
    void notify(const Trunk& t, NoticeKind k, Millis now, uint16_t server = 0xffff, uint16_t identity = 0xffff,
                uint32_t count = 0) {
        host_.notify(t, k, now, server, identity, count);
    }
    void record(Trunk& t, Decision d, Millis now, int16_t server, int16_t from = -1, Trigger why = Trigger::none) {
        host_.record(t, d, now, server, from, why);
    }

    Random& rng_;
    std::vector<Action>& out_;
    RegistrationHost& host_;
    std::string user_agent_;
    uint64_t call_seq_ = 0;  // Call-ID sequence (engine-wide)
};

}  // namespace sipedge::failover
