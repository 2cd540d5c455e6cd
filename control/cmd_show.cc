// Read-only commands: help (generated from every command table), show
// trunks/trunk/global/knobs/running-config, explain trunk (Engine::explain).
// Passwords are never part of a reply: identities show "(stored)".

#include "control/commands.h"
#include "control/knob_table.h"

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

const Command commands[] = {
    {"help", "", "this list", false, help},
    {"show trunks", "", "every trunk with its server/identity count and state", false, show_trunks},
    {"show trunk <name>", "", "one trunk: servers, identities (passwords hidden), every knob", false, show_trunk},
    {"show global", "", "global knobs and the static DNS cache", false, show_global},
    {"show knobs", "", "every knob: key, range, default, seed name", false, show_knobs},
    {"show running-config", "", "commands that recreate the running configuration", false, show_running},
    {"explain trunk <name>", "", "the failover engine's candidates, server states and last decision", false,
     explain_trunk},
};

}  // namespace

std::span<const Command> show_commands() noexcept { return commands; }

}  // namespace sipedge::ctl
