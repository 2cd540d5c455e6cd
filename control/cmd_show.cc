// Read-only commands: help (generated from every command table), show
// trunks/trunk/global/knobs/running-config, explain trunk (Engine::explain),
// the operator views of the engine's live state (show servers/registrations/
// dns/events/stats) and the subscriptions (monitor events/trace, which turn
// the connection into a stream of JSON lines: control/monitor.h).
// Passwords are never part of a reply: identities show "(stored)".

#include <cstdio>
#include <optional>

#include "control/commands.h"
#include "control/dns_link.h"
#include "control/knob_table.h"
#include "control/number.h"
#include "control/monitor.h"

namespace sipedge::ctl {

namespace {

Status no_args(const Args& a) {
    if (!a.rest.empty()) return err(EINVAL, "unexpected word '" + a.rest[0] + "'");
    return Ok{};
}

Result<Json> help(CmdCtx&, const Args& a) {
    if (Status s = no_args(a); !s) return s.error();
    Json out = Json::array();
    for (const Command* c : command_table()) {
        Json row = Json::object();
        std::string usage = c->words;
        if (*c->args) usage += std::string(" ") + c->args;
        row.set("command", usage);
        row.set("help", c->help);
        out.push(std::move(row));
    }
    return out;
}

Json trunk_summary(const Controller& ctl, const TrunkConfig& t) {
    Json row = Json::object();
    row.set("name", t.name);
    unsigned n = 0;
    for (const auto& s : t.servers) n += s.has_value();
    row.set("servers", n);
    row.set("identities", unsigned(t.identities.size()));
    const std::string why = ctl.engine_status(t.name);
    row.set("state", why.empty() ? std::string("running") : "idle: " + why);
    return row;
}

Result<Json> show_trunks(CmdCtx& c, const Args& a) {
    if (Status s = no_args(a); !s) return s.error();
    Json out = Json::array();
    for (const auto& [name, t] : c.st.trunks) out.push(trunk_summary(c.ctl, t));
    return out;
}

Result<Json> show_trunk(CmdCtx& c, const Args& a) {
    if (Status s = no_args(a); !s) return s.error();
    auto t = find_trunk(c.st, a.vars[0]);
    if (!t) return t.error();
    const TrunkConfig& tr = *t.value();
    Json out = trunk_summary(c.ctl, tr);
    out.set("domain", tr.domain);
    Json servers = Json::array();
    for (size_t i = 0; i < tr.servers.size(); i++) {
        if (!tr.servers[i]) continue;
        const ServerEntry& e = *tr.servers[i];
        Json s = Json::object();
        s.set("server", unsigned(i + 1));
        s.set("host", e.host);
        s.set("port", unsigned(e.port));
        s.set("transport", server_mode_name(e.mode));
        s.set("dns", e.mode >= ServerMode::dns_naptr);
        s.set("maintenance", (tr.maintenance >> i & 1u) != 0);  // issue 7
        servers.push(std::move(s));
    }
    out.set("server_list", std::move(servers));
    Json ids = Json::array();
    for (const IdentityConfig& i : tr.identities) {
        Json j = Json::object();
        j.set("user", i.user);
        j.set("auth_user", i.auth_user);
        j.set("password", "(stored)");
        j.set("contact", i.contact);
        ids.push(std::move(j));
    }
    out.set("identity_list", std::move(ids));
    Json knobs = Json::object();
    for (const TrunkKnob& k : trunk_knobs()) knobs.set(k.key, knob_value(k, tr.knobs));
    out.set("knobs", std::move(knobs));
    return out;
}

Result<Json> show_global(CmdCtx& c, const Args& a) {
    if (Status s = no_args(a); !s) return s.error();
    Json out = Json::object();
    Json knobs = Json::object();
    for (const GlobalKnob& k : global_knobs()) knobs.set(k.key, knob_value(k, c.st.global));
    out.set("knobs", std::move(knobs));
    Json cache = Json::array();
    for (const auto& [key, e] : c.st.dns_cache) {
        Json j = Json::object();
        j.set("type", dns_cache_type_name(key.first));
        j.set("x", key.second);
        j.set("name", e.name);
        j.set("ttl", e.ttl_s);
        if (key.first == DnsCacheType::a) j.set("address", e.address);
        if (key.first == DnsCacheType::srv) {
            j.set("priority", e.priority);
            j.set("weight", e.weight);
            j.set("port", e.port);
            j.set("target", e.target);
        }
        if (key.first == DnsCacheType::naptr) {
            j.set("order", e.order);
            j.set("preference", e.preference);
            j.set("flags", e.flags);
            j.set("service", e.service);
            j.set("replacement", e.replacement);
        }
        cache.push(std::move(j));
    }
    out.set("dns_cache", std::move(cache));
    return out;
}

template <class S>
Json knob_row(const KnobDef<S>& k, const char* scope) {
    Json j = Json::object();
    j.set("key", k.key);
    j.set("scope", scope);
    j.set("range", knob_range(k));
    j.set("default", knob_default(k));
    j.set("seed", k.seed);
    j.set("src", k.src);
    return j;
}

Result<Json> show_knobs(CmdCtx&, const Args& a) {
    if (Status s = no_args(a); !s) return s.error();
    Json out = Json::array();
    for (const TrunkKnob& k : trunk_knobs()) out.push(knob_row(k, "trunk"));
    for (const GlobalKnob& k : global_knobs()) out.push(knob_row(k, "global"));
    return out;
}

Result<Json> show_running(CmdCtx& c, const Args& a) {
    if (Status s = no_args(a); !s) return s.error();
    Json out = Json::array();
    for (std::string& l : c.ctl.running_config()) out.push(std::move(l));
    return out;
}

Result<Json> explain_trunk(CmdCtx& c, const Args& a) {
    if (Status s = no_args(a); !s) return s.error();
    auto t = find_trunk(c.st, a.vars[0]);
    if (!t) return t.error();
    const auto id = c.ctl.engine_id(a.vars[0]);
    if (!id) return err(ENODATA, "trunk " + a.vars[0] + " is not running: " + c.ctl.engine_status(a.vars[0]));
    const std::string text = c.ctl.engine().explain(*id, c.ctl.now());
    Json lines = Json::array();
    size_t p = 0;
    while (p < text.size()) {
        size_t e = text.find('\n', p);
        if (e == std::string::npos) e = text.size();
        lines.push(text.substr(p, e - p));
        p = e + 1;
    }
    return lines;
}

// ---- live views ----------------------------------------------------------------------------

const char* transport_text(sip::Transport t) {
    switch (t) {
    case sip::Transport::tcp: return "tcp";
    case sip::Transport::tls: return "tls";
    default: return "udp";
    }
}

std::string target_text(const failover::Target& g) {
    const bool v6 = g.address.find(':') != std::string::npos;
    return (v6 ? "[" + g.address + "]" : g.address) + ":" + std::to_string(g.port);
}

// Seconds from <now> to <at>, rounded up, as a reply value (≥ 0).
int64_t secs_until(failover::Millis at, failover::Millis now) {
    return at <= now ? 0 : int64_t((at - now + 999) / 1000);
}

// The running trunks the view covers: all, or the one named in <a>.rest.
// Rejects more than one word, an unknown trunk and a trunk not running.
Result<std::vector<std::pair<std::string, uint32_t>>> view_trunks(CmdCtx& c, const Args& a) {
    std::vector<std::pair<std::string, uint32_t>> out;
    if (a.rest.size() > 1) return err(EINVAL, "unexpected word '" + a.rest[1] + "'");
    if (a.rest.size() == 1) {
        auto t = find_trunk(c.st, a.rest[0]);
        if (!t) return t.error();
        const auto id = c.ctl.engine_id(a.rest[0]);
        if (!id) return err(ENODATA, "trunk " + a.rest[0] + " is not running: " + c.ctl.engine_status(a.rest[0]));
        out.emplace_back(a.rest[0], *id);
        return out;
    }
    for (const auto& [name, t] : c.st.trunks)
        if (const auto id = c.ctl.engine_id(name)) out.emplace_back(name, *id);
    return out;
}

Result<Json> show_servers(CmdCtx& c, const Args& a) {
    auto trunks = view_trunks(c, a);
    if (!trunks) return trunks.error();
    const failover::Millis now = c.ctl.now();
    failover::Engine& eng = c.ctl.engine();
    Json out = Json::array();
    for (const auto& [name, id] : trunks.value()) {
        const failover::Trunk* t = eng.trunk(id);
        if (!t) continue;
        for (size_t i = 0; i < t->servers.size(); i++) {
            const failover::ServerState& sv = t->servers[i];
            const failover::Health h = eng.health(id, uint16_t(i), now);
            Json r = Json::object();
            r.set("trunk", name);
            r.set("server", unsigned(i));
            r.set("address", target_text(sv.target));
            r.set("transport", transport_text(sv.target.transport));
            r.set("state", failover::health_name(h));
            std::string role;
            if (t->active == int(i)) role = "active";
            if (t->reg_target == int(i) && t->active != int(i)) role = "registering";
            r.set("role", role);
            r.set("last_trigger", sv.last_trigger == failover::Trigger::none
                                      ? std::string("-")
                                      : std::string(failover::trigger_name(sv.last_trigger)));
            r.set("trigger_age_s", sv.last_trigger == failover::Trigger::none
                                       ? Json(nullptr)
                                       : Json(int64_t((now - sv.last_trigger_at) / 1000)));
            // Recovery deadline: seed A recovery delay, or a 503 Retry-After hold.
            const failover::Millis until = std::max(h == failover::Health::recovering ? sv.recover_at : 0,
                                                    sv.hold_until);
            r.set("recovery_in_s", until > now ? Json(secs_until(until, now)) : Json(nullptr));
            const std::string transport_addr = std::string(transport_text(sv.target.transport)) + ":" +
                                               sv.target.address + ":" + std::to_string(sv.target.port);
            r.set("failures", c.ctl.monitor().server_failures(name, transport_addr));
            r.set("rtt_us", sv.srtt_us ? Json(unsigned(sv.srtt_us)) : Json(nullptr));
            char rtt[32] = "n/a";  // no sample yet (no response timed)
            if (sv.srtt_us) std::snprintf(rtt, sizeof rtt, "%.1fms", sv.srtt_us / 1000.0);
            r.set("rtt", rtt);
            out.push(std::move(r));
        }
    }
    return out;
}

// An identity's registration state, in operator words.
const char* reg_state(const failover::Trunk& t, const failover::Registration& r, failover::Millis now) {
    const bool bound = r.bound >= 0 && r.expires_at > now;
    if (r.txn_server >= 0) return bound ? "refreshing" : "registering";
    if (bound) return "registered";
    if (t.backoff_until > now) return "back-off";
    if (r.failures > 0 && r.next_attempt_at > now) return "retry-wait";
    return "unregistered";
}

Result<Json> show_registrations(CmdCtx& c, const Args& a) {
    auto trunks = view_trunks(c, a);
    if (!trunks) return trunks.error();
    const failover::Millis now = c.ctl.now();
    Json out = Json::array();
    for (const auto& [name, id] : trunks.value()) {
        const failover::Trunk* t = c.ctl.engine().trunk(id);
        if (!t) continue;
        for (const failover::Registration& r : t->regs) {
            Json j = Json::object();
            j.set("trunk", name);
            j.set("identity", r.id.user);
            j.set("state", reg_state(*t, r, now));
            const int16_t s = r.txn_server >= 0 && !(r.bound >= 0 && r.expires_at > now) ? r.txn_server : r.bound;
            j.set("server", s >= 0 ? Json(int(s)) : Json(nullptr));
            j.set("address", s >= 0 && size_t(s) < t->servers.size() ? target_text(t->servers[size_t(s)].target)
                                                                     : std::string());
            j.set("expires_in_s", r.bound >= 0 && r.expires_at > now ? Json(secs_until(r.expires_at, now))
                                                                     : Json(nullptr));
            j.set("call_id", r.call_id);
            j.set("failures", r.failures);
            out.push(std::move(j));
        }
    }
    return out;
}

Result<Json> show_dns(CmdCtx& c, const Args& a) {
    if (Status s = no_args(a); !s) return s.error();
    // The names the trunks use and what the engine's server sets hold for them.
    // The resolver runs outside the Controller: "dns" means the set came from
    // DNS names (resolved when the address is an IP literal), "unresolved" a
    // name still waiting for an answer, "config" a static server list.
    Json names = Json::array();
    for (const auto& [name, tc] : c.st.trunks) {
        std::string fqdns;
        for (const auto& e : tc.servers)
            if (e && e->mode >= ServerMode::dns_naptr) fqdns += (fqdns.empty() ? "" : ",") + e->host;
        const auto id = c.ctl.engine_id(name);
        const failover::Trunk* t = id ? c.ctl.engine().trunk(*id) : nullptr;
        if (fqdns.empty() && !(t && t->from_dns)) continue;
        if (!t) {
            Json j = Json::object();
            j.set("trunk", name);
            j.set("name", fqdns);
            j.set("source", "not running: " + c.ctl.engine_status(name));
            names.push(std::move(j));
            continue;
        }
        for (size_t i = 0; i < t->servers.size(); i++) {
            const failover::ServerState& sv = t->servers[i];
            const failover::ServiceRecord* rec = sv.record < t->records.size() ? &t->records[sv.record] : nullptr;
            Json j = Json::object();
            j.set("trunk", name);
            j.set("name", fqdns);
            j.set("record", unsigned(sv.record));
            j.set("order", rec ? unsigned(rec->order) : 0u);
            j.set("preference", rec ? unsigned(rec->preference) : 0u);
            j.set("server", unsigned(i));
            j.set("answer", target_text(sv.target));
            j.set("transport", transport_text(sv.target.transport));
            j.set("priority", unsigned(sv.target.priority));
            j.set("weight", unsigned(sv.target.weight));
            j.set("ttl", sv.target.ttl_s);
            j.set("source", !t->from_dns ? "config" : sv.family ? "dns" : "unresolved");
            names.push(std::move(j));
        }
    }
    Json cache = Json::array();
    for (const auto& [key, e] : c.st.dns_cache) {
        Json j = Json::object();
        j.set("type", dns_cache_type_name(key.first));
        j.set("x", key.second);
        j.set("name", e.name);
        std::string answer;
        if (key.first == DnsCacheType::a) answer = e.address;
        if (key.first == DnsCacheType::srv)
            answer = std::to_string(e.priority) + " " + std::to_string(e.weight) + " " + std::to_string(e.port) + " " +
                     e.target;
        if (key.first == DnsCacheType::naptr)
            answer = std::to_string(e.order) + " " + std::to_string(e.preference) + " \"" + e.flags + "\" \"" +
                     e.service + "\" " + e.replacement;
        j.set("answer", answer);
        j.set("ttl", e.ttl_s);
        j.set("source", "static");
        cache.push(std::move(j));
    }
    Json out = Json::object();
    out.set("names", std::move(names));
    out.set("static_cache", std::move(cache));
    out.set("dynamic_restore", c.st.global.dns_restore);
    // The resolver's hosts and questions with their sources (control/dns_link.h).
    if (const DnsLink* d = c.ctl.dns()) out.set("resolver", d->show());
    return out;
}

Result<Json> show_events(CmdCtx& c, const Args& a) {
    const EventLog& log = c.ctl.monitor().events();
    size_t n = 20;
    if (a.rest.size() > 1) return err(EINVAL, "unexpected word '" + a.rest[1] + "'");
    if (a.rest.size() == 1) {
        auto v = number_arg("event count", a.rest[0], 1, log.capacity());  // control/number.h
        if (!v) return v.error();
        n = size_t(v.value());
    }
    Json out = Json::array();
    for (const EventRecord& e : log.last(n)) out.push(event_json(e));
    return out;
}

// Derived from the cycle counters (issue 12), set on <r> when present in
// <counters>: busy_percent (busy / (busy + idle), rounded), cycles_per_call
// (busy cycles per INVITE completed: answered + failed) and, with <tsc_hz>,
// busy_ns_per_call. Integers: the JSON has no fractions.
template <class Counters>
void add_cycle_costs(Json& r, const Counters& counters, uint64_t tsc_hz) {
    auto get = [&](const char* k) -> std::optional<uint64_t> {
        for (const auto& [name, v] : counters)
            if (name == k) return v;
        return std::nullopt;
    };
    const auto busy = get("busy_cycles"), idle = get("idle_cycles");
    if (!busy || !idle) return;
    const uint64_t all = *busy + *idle;
    r.set("busy_percent", all ? uint64_t((*busy * 100.0) / double(all) + 0.5) : uint64_t(0));
    const uint64_t calls = get("calls_answered").value_or(0) + get("calls_failed").value_or(0);
    if (!calls) return;
    r.set("cycles_per_call", *busy / calls);
    if (tsc_hz) r.set("busy_ns_per_call", uint64_t(double(*busy) / double(calls) * 1e9 / double(tsc_hz)));
}

Result<Json> show_stats(CmdCtx& c, const Args& a) {
    if (Status s = no_args(a); !s) return s.error();
    const std::vector<CoreStats>& cores = c.ctl.monitor().core_stats();
    Json rows = Json::array();
    std::vector<std::pair<std::string, uint64_t>> total;
    std::vector<std::pair<std::string, uint64_t>> drops;
    auto add = [](std::vector<std::pair<std::string, uint64_t>>& v, const std::string& k, uint64_t x) {
        for (auto& [name, sum] : v)
            if (name == k) {
                sum += x;
                return;
            }
        v.emplace_back(k, x);
    };
    Json drop_rows = Json::array();
    for (const CoreStats& cs : cores) {
        Json r = Json::object();
        r.set("core", cs.core);
        uint64_t dropped = 0;
        for (const auto& [k, v] : cs.counters) {
            r.set(k, v);
            add(total, k, v);
        }
        for (const auto& [k, v] : cs.drops) {
            dropped += v;
            add(drops, k, v);
            if (v == 0) continue;
            Json d = Json::object();
            d.set("core", cs.core);
            d.set("reason", k);
            d.set("count", v);
            drop_rows.push(std::move(d));
        }
        r.set("dropped", dropped);
        add_cycle_costs(r, cs.counters, cs.tsc_hz);
        rows.push(std::move(r));
    }
    Json sum = Json::object();
    uint64_t dropped = 0;
    for (const auto& [k, v] : total) sum.set(k, v);
    for (const auto& [k, v] : drops) dropped += v;
    sum.set("dropped", dropped);
    add_cycle_costs(sum, total, cores.empty() ? 0 : cores.front().tsc_hz);
    Json out = Json::object();
    out.set("source", cores.empty() ? "no data plane attached" : "workers");
    out.set("cores", std::move(rows));
    out.set("total", std::move(sum));
    out.set("drops", std::move(drop_rows));
    out.set("events_logged", c.ctl.monitor().events().total());
    out.set("readings", c.ctl.monitor().core_stats_readings());  // once a second: wait for the next
    return out;
}

// `show ready` (issue 12; `sipedgectl wait-ready` polls it): whether the
// edge takes traffic now. sipedge: ports started, every worker polling with
// the routing table loaded (control/monitor.h dataplane_not_ready()); a
// process without a data plane (sipedge-control) is ready once it answers.
Result<Json> show_ready(CmdCtx& c, const Args& a) {
    if (Status s = no_args(a); !s) return s.error();
    const DataplaneStatus d = c.ctl.monitor().dataplane_status();
    const std::string why = dataplane_not_ready(d);
    Json out = Json::object();
    out.set("ready", why.empty());
    out.set("why", why.empty() ? std::string(d.attached ? "data plane up" : "control loop only: no data plane in this process")
                               : why);
    out.set("data_plane", d.attached);
    if (!d.attached) return out;
    out.set("workers", d.workers);
    out.set("workers_running", d.workers_running);
    out.set("tables_published", d.tables_published);
    Json ports = Json::array();
    std::string down;
    for (const PortStatus& p : d.ports) {
        Json j = Json::object();
        j.set("port", p.port);
        j.set("dpdk_port", p.dpdk_port);
        j.set("driver", p.driver);
        j.set("link", p.link_up ? "up" : "down");
        ports.push(std::move(j));
        if (!p.link_up) down += (down.empty() ? "" : ", ") + std::to_string(p.port);
    }
    out.set("ports", std::move(ports));
    if (!down.empty()) out.set("warning", "link down on port " + down);
    return out;
}

Result<Json> monitor_events(CmdCtx& c, const Args& a) {
    if (Status s = no_args(a); !s) return s.error();
    if (Status s = c.ctl.monitor().subscribe_current(std::nullopt); !s) return s.error();
    Json out = Json::object();
    out.set("subscribed", "events");
    out.set("logged", c.ctl.monitor().events().total());
    return out;
}

Result<Json> monitor_trace(CmdCtx& c, const Args& a) {
    auto f = parse_trace_filter(a.rest);
    if (!f) return f.error();
    if (f.value().by == TraceFilter::By::trunk) {
        if (auto t = find_trunk(c.st, f.value().value); !t) return t.error();
    }
    Json filter = Json::object();
    static const char* const by[] = {"all", "trunk", "address", "call-id"};
    filter.set("by", by[size_t(f.value().by)]);
    filter.set("value", f.value().value);
    if (Status s = c.ctl.monitor().subscribe_current(std::move(f.value())); !s) return s.error();
    Json out = Json::object();
    out.set("subscribed", "trace");
    out.set("filter", std::move(filter));
    return out;
}

const Command commands[] = {
    {"help", "", "this list", false, help},
    {"show trunks", "", "every trunk with its server/identity count and state", false, show_trunks},
    {"show trunk <name>", "", "one trunk: servers, identities (passwords hidden), every knob", false, show_trunk},
    {"show global", "", "global knobs and the static DNS cache", false, show_global},
    {"show knobs", "", "every knob: key, range, default, seed name", false, show_knobs},
    {"show running-config", "", "commands that recreate the running configuration", false, show_running},
    {"explain trunk <name>", "", "the failover engine's candidates, server states and last decision", false,
     explain_trunk},
    {"show servers", "[<trunk>]", "servers of running trunks: state, role, last trigger, recovery deadline, "
     "failures, RTT", false, show_servers},
    {"show registrations", "[<trunk>]", "identities: registration state, server, expiry, Call-ID", false,
     show_registrations},
    {"show dns", "", "DNS names in use with the answers the engine holds and their source; the static cache",
     false, show_dns},
    {"show events", "[<n>]", "the last n (default 20) events: server up/down, failover, failback, registration",
     false, show_events},
    {"show stats", "", "per-core counters and drop reasons as last read from the workers", false, show_stats},
    {"show ready", "", "whether the edge takes traffic: ports started, workers polling, routing table loaded",
     false, show_ready},
    {"monitor events", "", "stream: one JSON line per event until the client disconnects", false, monitor_events},
    {"monitor trace", "[trunk <t>|address <ip>|call-id <id>]", "stream: one JSON line per SIP message traced",
     false, monitor_trace},
};

}  // namespace

std::span<const Command> show_commands() noexcept { return commands; }

}  // namespace sipedge::ctl
