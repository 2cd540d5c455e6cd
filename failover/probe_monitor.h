#pragma once
// The sip-server monitor (seed A): optional OPTIONS probes per server, always
// or only while the server is failed, with down/up thresholds. Each probe is
// a new non-INVITE transaction (RFC 3261 §8.1.1.4: its own Call-ID, From tag
// and branch) retransmitted by Timer E (T1 doubling to T2 of the trunk's
// non-INVITE policy) until a final answer or the probe timeout
// (monitor-timeout, default 64·T1). Details in probe_monitor.cc.
//
// Owned by Engine. The monitor owns the probing logic and the engine-wide
// probe id sequence; the per-server probe state it drives is the
// ServerState's (next_probe_at, probe_deadline, probe_retx_*, probe_cseq,
// probe_id, probe_fails, probe_oks: trunk.h). It emits send_options actions
// into the engine's action list; a server's health changes it asks of a
// ProbeHost (the engine's health rules), so it can be driven alone
// (tests/failover/probe_monitor_test.cc).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "failover/action.h"
#include "failover/random.h"
#include "failover/trunk.h"

namespace sipedge::failover {

/// The engine's health rules as the monitor sees them.
class ProbeHost {
public:
    /// Up-threshold probes answered: <s> is alive (Trigger::probe_up).
    virtual void mark_alive(Trunk& t, uint16_t s, Trigger why, Millis now) = 0;
    /// Down-threshold probes unanswered, or a probe's 503 (Trigger::probe_down).
    virtual void server_failed_in_use(Trunk& t, uint16_t s, Trigger why, Millis now) = 0;

protected:
    ~ProbeHost() = default;
};

class ProbeMonitor {
public:
    /// <rng>, <out> and <host> must outlive the monitor (Engine's members).
    /// Probe ids count on from <first_id>.
    ProbeMonitor(Random& rng, std::vector<Action>& out, ProbeHost& host, std::string user_agent, uint32_t first_id);
    ProbeMonitor(const ProbeMonitor&) = delete;
    ProbeMonitor& operator=(const ProbeMonitor&) = delete;

    /// A new trunk: its servers' first probes spread over one interval.
    void spread(Trunk& t, Millis now);
    /// Probe <s> at the next tick (it left maintenance: its health known again soon).
    void probe_soon(Trunk& t, uint16_t s, Millis now);
    /// <s> failed (<newly>: it was not failed before): up-threshold counting
    /// starts over, and a probe in flight waits one interval at most.
    void on_failed(Trunk& t, uint16_t s, bool newly, Millis now);
    /// Timers: probe timeouts, Timer E retransmissions, probes due.
    void on_tick(Trunk& t, Millis now);
    /// A final response to the probe with CSeq <cseq> of <s> (others ignored).
    void on_response(Trunk& t, uint16_t s, uint32_t cseq, uint16_t status, uint32_t retry_after_s, Millis now);
    /// Text of the OPTIONS probe <a> (of trunk <t>) asks for; 0 when it does not fit.
    size_t write_options(const Trunk& t, const Action& a, const SendContext& ctx, char* buf, size_t cap) const;

private:
    void result(Trunk& t, uint16_t s, bool up, uint32_t retry_after_s, Millis now);
    void send(const Trunk& t, uint16_t s, bool retransmit = false);

    Random& rng_;
    std::vector<Action>& out_;
    ProbeHost& host_;
    std::string user_agent_;
    uint32_t probe_seq_;  // probe ids (ServerState::probe_id), engine-wide
};

/// RFC 3261 §21.5.4 hold of <s> after a 503 with Retry-After <ra_s>, bounded
/// by retry-after-max; false when the knob is 0 (not held). Used by the
/// monitor (a probe's 503) and the engine (a worker's 503).
bool hold_for_retry_after(Trunk& t, uint16_t s, uint32_t ra_s, Millis now);

}  // namespace sipedge::failover
