// Operations commands: show metrics (Prometheus text), the HTTP /metrics
// listener and the SNMPv2c trap receiver (docs/control.md "Metrics and
// traps"). The listener and the trap session are process resources held by
// Ops (control/metrics.h); a command that cannot bind or open them is
// refused and changes nothing. Without an Ops attached (tests, --check) the
// settings are only validated and stored.

#include "control/commands.h"
#include "control/http.h"
#include "control/metrics.h"
#include "control/tokens.h"

namespace sipedge::ctl {

namespace {

Status no_more(const Args& a, size_t used) {
    if (a.rest.size() > used) return err(EINVAL, "unexpected word '" + a.rest[used] + "'");
    return Ok{};
}

Result<Json> show_metrics(CmdCtx& c, const Args& a) {
    if (Status s = no_more(a, 0); !s) return s.error();
    if (Ops* o = c.ctl.ops()) return Json(o->render());
    return Json(metrics_text(c.ctl, nullptr, {}));
}

Result<Json> set_metrics_http(CmdCtx& c, const Args& a) {
    if (a.rest.empty()) return err(EINVAL, "metrics-http: usage: set global metrics-http <ip>:<port>");
    if (Status s = no_more(a, 1); !s) return s.error();
    auto ap = parse_ip_port(a.rest[0]);
    if (!ap) return err(EINVAL, "metrics-http: " + ap.error().message);
    if (Ops* o = c.ctl.ops())
        if (Status s = o->set_http(a.rest[0]); !s) return s.error();
    c.st.global.metrics_http = a.rest[0];
    return Json();
}

Result<Json> unset_metrics_http(CmdCtx& c, const Args& a) {
    if (Status s = no_more(a, 0); !s) return s.error();
    if (Ops* o = c.ctl.ops())
        if (Status s = o->set_http(""); !s) return s.error();
    c.st.global.metrics_http.clear();
    return Json();
}

Status check_community(const std::string& s) {
    if (s.empty() || s.size() > 64) return err(EINVAL, "snmp-trap-receiver: community must be 1-64 characters");
    for (const char ch : s)
        if (ch <= 0x20 || ch >= 0x7f) return err(EINVAL, "snmp-trap-receiver: community: printable characters only");
    return Ok{};
}

// set global snmp-trap-receiver <ip>[:port] community <c> | stored-community
Result<Json> set_trap_receiver(CmdCtx& c, const Args& a) {
    static const char usage[] =
        "snmp-trap-receiver: usage: set global snmp-trap-receiver <ip>[:port] community <c> | stored-community";
    if (a.rest.size() < 2) return err(EINVAL, usage);
    auto ap = parse_ip_port(a.rest[0], 162);
    if (!ap) return err(EINVAL, "snmp-trap-receiver: " + ap.error().message);
    std::string community;
    if (a.rest[1] == "community") {
        if (a.rest.size() < 3) return err(EINVAL, usage);
        if (Status s = no_more(a, 3); !s) return s.error();
        community = a.rest[2];
        if (Status s = check_community(community); !s) return s.error();
    } else if (a.rest[1] == "stored-community") {
        if (Status s = no_more(a, 2); !s) return s.error();
        community = c.st.global.snmp_trap_community;
        if (community.empty())
            if (const std::string* p = c.ctl.stored_password("@snmp", "community")) community = *p;
        if (community.empty())
            return err(ENOENT, "snmp-trap-receiver: no community is stored; give community <c>");
    } else {
        return err(EINVAL, "snmp-trap-receiver: unknown word '" + a.rest[1] + "'; expected 'community' or 'stored-community'");
    }
    if (Ops* o = c.ctl.ops())
        if (Status s = o->set_trap_receiver(a.rest[0], community); !s) return s.error();
    c.st.global.snmp_trap_receiver = a.rest[0];
    c.st.global.snmp_trap_community = std::move(community);
    return Json();
}

Result<Json> unset_trap_receiver(CmdCtx& c, const Args& a) {
    if (Status s = no_more(a, 0); !s) return s.error();
    if (Ops* o = c.ctl.ops())
        if (Status s = o->set_trap_receiver("", ""); !s) return s.error();
    c.st.global.snmp_trap_receiver.clear();
    c.st.global.snmp_trap_community.clear();
    return Json();
}

const Command commands[] = {
    {"show metrics", "", "counters and gauges in Prometheus text format 0.0.4", false, show_metrics},
    {"set global metrics-http", "<ip>:<port>", "serve GET /metrics over HTTP on <ip>:<port>", true,
     set_metrics_http},
    {"unset global metrics-http", "", "stop the HTTP /metrics listener", true, unset_metrics_http},
    {"set global snmp-trap-receiver", "<ip>[:port] community <c> | stored-community",
     "send SNMPv2c registration-failure traps there (port 162 by default)", true, set_trap_receiver},
    {"unset global snmp-trap-receiver", "", "stop sending SNMP traps", true, unset_trap_receiver},
};

}  // namespace

std::span<const Command> ops_commands() noexcept { return commands; }

void ops_running_config(const State& st, std::vector<std::string>& out) {
    if (!st.global.metrics_http.empty()) out.push_back("set global metrics-http " + quote_word(st.global.metrics_http));
    if (!st.global.snmp_trap_receiver.empty())
        out.push_back("set global snmp-trap-receiver " + quote_word(st.global.snmp_trap_receiver) + " stored-community");
}

}  // namespace sipedge::ctl
