// Route-pattern commands (issue 6/7): route-pattern, inbound-pattern, their
// "no" forms, show routes and route-lookup; the compile step that validates
// them before a commit. See control/cmd_route.h and docs/control.md
// "Route patterns".

#include "control/cmd_route.h"

#include <algorithm>
#include <chrono>

#include "control/number.h"
#include "control/tokens.h"

namespace sipedge::ctl {

namespace {

constexpr size_t max_patterns = 100000;  // of each kind

const char* pattern_word(bool inbound) { return inbound ? "inbound-pattern" : "route-pattern"; }

// One number in [lo, hi] by the control plane's grammar (control/number.h).
Result<uint32_t> parse_u32(const std::string& what, const std::string& w, uint64_t lo, uint64_t hi) {
    auto v = number_arg(what, w, lo, hi);
    if (!v) return v.error();
    return uint32_t(v.value());
}

// "<ipv4>:<port>", the access target of an inbound pattern.
Status check_target(const std::string& w) {
    const size_t colon = w.rfind(':');
    uint32_t a = 0;
    if (colon == std::string::npos || !parse_ipv4(std::string_view(w).substr(0, colon), a))
        return err(EINVAL, "target '" + w + "': expected <ipv4>:<port>, e.g. 192.0.2.50:5060");
    auto p = parse_u32("target port", w.substr(colon + 1), 1, 65535);
    if (!p) return p.error();
    return Ok{};
}

dp::RouteSpec to_spec(const RoutePatternConfig& p, uint32_t target) {
    dp::RouteSpec s;
    s.id = p.id;
    s.kind = p.regex ? dp::RouteKind::regex : dp::RouteKind::digits;
    s.pattern = p.pattern;
    s.target = target;
    s.priority = p.priority;
    if (!p.source.empty()) (void)dp::parse_ipv4_prefix(p.source, s.src_addr, s.src_len);  // checked when set
    return s;
}

std::string ipv4_text(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
           "." + std::to_string(a & 255);
}

// Compiles one direction's patterns; <names> gets the sorted distinct targets.
Result<std::unique_ptr<dp::RouteTable>> compile_one(const std::map<uint32_t, RoutePatternConfig>& pats, bool inbound,
                                                    std::vector<std::string>& names) {
    names.clear();
    for (const auto& [id, p] : pats) names.push_back(inbound ? p.target : p.trunk);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::vector<dp::RouteSpec> specs;
    specs.reserve(pats.size());
    for (const auto& [id, p] : pats) {
        const std::string& n = inbound ? p.target : p.trunk;
        specs.push_back(to_spec(p, uint32_t(std::lower_bound(names.begin(), names.end(), n) - names.begin())));
    }
    int bad = -1;
    auto t = dp::RouteTable::compile(specs, &bad);
    if (!t) {
        if (bad >= 0) return err(EINVAL, std::string(pattern_word(inbound)) + " " + std::to_string(specs[size_t(bad)].id) + ": " + t.error().message);
        return err(t.error().code, std::string(pattern_word(inbound)) + "s: " + t.error().message);
    }
    return std::move(t.value());
}

Result<std::shared_ptr<const CompiledRoutes>> compile_all(const State& st) {
    return compile_route_maps(st.route_patterns, st.inbound_patterns);
}

}  // namespace

Result<std::shared_ptr<const CompiledRoutes>> compile_route_maps(
    const std::map<uint32_t, RoutePatternConfig>& route_patterns,
    const std::map<uint32_t, RoutePatternConfig>& inbound_patterns) {
    const auto t0 = std::chrono::steady_clock::now();
    auto c = std::make_shared<CompiledRoutes>();
    auto out = compile_one(route_patterns, false, c->trunks);
    if (!out) return out.error();
    c->outbound = std::move(out.value());
    auto in = compile_one(inbound_patterns, true, c->targets);
    if (!in) return in.error();
    c->inbound = std::move(in.value());
    c->compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return std::shared_ptr<const CompiledRoutes>(std::move(c));
}

namespace {

// ---- handlers --------------------------------------------------------------------------

Result<Json> set_pattern(CmdCtx& c, const Args& a, bool inbound) {
    const std::string what = pattern_word(inbound);
    auto id = parse_u32(what + " id", a.vars[0], 1, 4294967295u);
    if (!id) return id.error();
    const char* usage = inbound ? "usage: inbound-pattern <id> digits|regex <pattern> target <ipv4>:<port> [source <cidr>] [priority <n>]"
                                : "usage: route-pattern <id> digits|regex <pattern> trunk <name> [source <cidr>] [priority <n>]";
    if (a.rest.size() < 2) return err(EINVAL, std::string("incomplete command; ") + usage);
    RoutePatternConfig p;
    p.id = id.value();
    if (a.rest[0] == "regex") p.regex = true;
    else if (a.rest[0] != "digits") return err(EINVAL, what + " " + a.vars[0] + ": unknown kind '" + a.rest[0] + "'; expected digits or regex");
    p.pattern = a.rest[1];
    std::set<std::string> seen;
    for (size_t i = 2; i < a.rest.size(); i += 2) {
        const std::string& k = a.rest[i];
        const bool known = k == "source" || k == "priority" || (inbound ? k == "target" : k == "trunk");
        if (!known) return err(EINVAL, what + " " + a.vars[0] + ": unknown word '" + k + "'; " + usage);
        if (!seen.insert(k).second) return err(EINVAL, what + " " + a.vars[0] + ": '" + k + "' given twice");
        if (i + 1 >= a.rest.size()) return err(EINVAL, what + " " + a.vars[0] + ": '" + k + "' needs a value");
        const std::string& v = a.rest[i + 1];
        if (k == "trunk") {
            if (Status s = check_name("trunk", v); !s) return s.error();
            p.trunk = v;
        } else if (k == "target") {
            if (Status s = check_target(v); !s) return err(EINVAL, what + " " + a.vars[0] + ": " + s.error().message);
            p.target = v;
        } else if (k == "source") {
            uint32_t addr = 0;
            uint8_t len = 0;
            // The address and length by the one grammar first (no "010.0.0.0", no "/08").
            const size_t slash = v.find('/');
            uint64_t l = 0;
            if (!parse_ipv4(std::string_view(v).substr(0, slash), addr) ||
                (slash != std::string::npos && parse_number(std::string_view(v).substr(slash + 1), 0, 32, l) != NumStatus::ok))
                return err(EINVAL, what + " " + a.vars[0] + ": source '" + v +
                                       "': expected an IPv4 prefix a.b.c.d/len (len 0-32, no leading zeros)");
            if (Status s = dp::parse_ipv4_prefix(v, addr, len); !s)
                return err(EINVAL, what + " " + a.vars[0] + ": " + s.error().message);
            p.source = ipv4_text(addr) + "/" + std::to_string(len);
        } else {
            auto n = parse_u32("priority", v, 0, 65535);
            if (!n) return err(EINVAL, what + " " + a.vars[0] + ": " + n.error().message);
            p.priority = n.value();
        }
    }
    if (inbound ? p.target.empty() : p.trunk.empty())
        return err(EINVAL, what + " " + a.vars[0] + ": " + (inbound ? "target <ipv4>:<port>" : "trunk <name>") + " is required");
    const dp::RouteSpec spec = to_spec(p, 0);
    if (Status s = dp::RouteTable::check(spec); !s) return err(EINVAL, what + " " + a.vars[0] + ": " + s.error().message);
    auto& pats = inbound ? c.st.inbound_patterns : c.st.route_patterns;
    if (!pats.count(p.id) && pats.size() >= max_patterns)
        return err(ENOSPC, "too many " + what + "s (" + std::to_string(max_patterns) + ")");
    Json out = Json::object();
    out.set("id", p.id);
    out.set("replaced", pats.count(p.id) != 0);
    if (!p.regex) out.set("regex", dp::translate_digits(p.pattern).value().regex);
    pats[p.id] = std::move(p);
    c.st.route_cache.tables.reset();
    c.touched.insert(routes_touched);
    return out;
}

Result<Json> set_route(CmdCtx& c, const Args& a) { return set_pattern(c, a, false); }
Result<Json> set_inbound(CmdCtx& c, const Args& a) { return set_pattern(c, a, true); }

Result<Json> del_pattern(CmdCtx& c, const Args& a, bool inbound) {
    if (!a.rest.empty()) return err(EINVAL, "unexpected word '" + a.rest[0] + "'");
    auto id = parse_u32(std::string(pattern_word(inbound)) + " id", a.vars[0], 1, 4294967295u);
    if (!id) return id.error();
    auto& pats = inbound ? c.st.inbound_patterns : c.st.route_patterns;
    if (!pats.erase(id.value())) return err(ENOENT, std::string("no ") + pattern_word(inbound) + " " + a.vars[0]);
    c.st.route_cache.tables.reset();
    c.touched.insert(routes_touched);
    return Json();
}

Result<Json> del_route(CmdCtx& c, const Args& a) { return del_pattern(c, a, false); }
Result<Json> del_inbound(CmdCtx& c, const Args& a) { return del_pattern(c, a, true); }

Json pattern_row(const dp::RouteTable& t, uint32_t rank, const std::map<uint32_t, RoutePatternConfig>& pats, bool inbound) {
    const dp::RouteInfo& i = t.info(rank);
    const RoutePatternConfig& p = pats.at(i.id);
    Json row = Json::object();
    row.set("id", i.id);
    row.set("rank", rank);
    row.set("kind", p.regex ? "regex" : "digits");
    row.set("pattern", p.pattern);
    row.set(inbound ? "target" : "trunk", inbound ? p.target : p.trunk);
    row.set("source", p.source.empty() ? std::string("any") : p.source);
    row.set("priority", p.priority);
    row.set("regex", i.digits.regex);
    row.set("why", t.describe(rank));
    return row;
}

// show routes / route-lookup while the compile a change started on its own
// thread has not delivered (sipedge after its startup file): compiling here
// would stall the control thread as long as that takes (seconds for
// 20,000 patterns: no ticks, no registrations, no events meanwhile).
Status tables_ready(const CmdCtx& c) {
    if (c.st.route_cache.tables || !c.ctl.defer_route_compile()) return Ok{};
    if (c.st.route_patterns.empty() && c.st.inbound_patterns.empty()) return Ok{};
    return err(EAGAIN, "route patterns are being compiled (" +
                           std::to_string(c.st.route_patterns.size() + c.st.inbound_patterns.size()) +
                           " patterns, on a thread of their own; the workers use the previous table "
                           "meanwhile): ask again in a moment; if this persists the compile failed "
                           "and sipedge's log says why");
}

Result<Json> show_routes(CmdCtx& c, const Args& a) {
    if (!a.rest.empty()) return err(EINVAL, "unexpected word '" + a.rest[0] + "'");
    if (Status s = tables_ready(c); !s) return s.error();
    auto compiled = compiled_routes(c.st);
    if (!compiled) return compiled.error();
    const CompiledRoutes& r = *compiled.value();
    Json out = Json::object();
    for (const bool inbound : {false, true}) {
        const dp::RouteTable& t = inbound ? *r.inbound : *r.outbound;
        Json rows = Json::array();
        for (uint32_t k = 0; k < t.size(); k++)
            rows.push(pattern_row(t, k, inbound ? c.st.inbound_patterns : c.st.route_patterns, inbound));
        Json tab = Json::object();
        tab.set("patterns", unsigned(t.size()));
        tab.set("database_bytes", uint64_t(t.database_bytes()));
        tab.set("order", std::move(rows));  // best first: the order lookups apply
        out.set(inbound ? "inbound" : "outbound", std::move(tab));
    }
    out.set("compile_us", uint64_t(r.compile_ms * 1000));
    return out;
}

// route-lookup <number> [source <ip>] [inbound]
Result<Json> route_lookup(CmdCtx& c, const Args& a) {
    bool inbound = false;
    uint32_t src = 0;
    std::string src_text = "0.0.0.0";
    for (size_t i = 0; i < a.rest.size(); i++) {
        if (a.rest[i] == "inbound") {
            inbound = true;
        } else if (a.rest[i] == "source" && i + 1 < a.rest.size()) {
            if (!parse_ipv4(a.rest[i + 1], src)) return err(EINVAL, "source '" + a.rest[i + 1] + "': expected an IPv4 address");
            src_text = a.rest[++i];
        } else {
            return err(EINVAL, "unexpected word '" + a.rest[i] + "'; usage: route-lookup <number> [source <ipv4>] [inbound]");
        }
    }
    if (Status s = tables_ready(c); !s) return s.error();
    auto compiled = compiled_routes(c.st);
    if (!compiled) return compiled.error();
    const CompiledRoutes& r = *compiled.value();
    const dp::RouteTable& t = inbound ? *r.inbound : *r.outbound;
    const auto& pats = inbound ? c.st.inbound_patterns : c.st.route_patterns;
    const std::vector<std::string>& names = inbound ? r.targets : r.trunks;
    auto cands = t.explain(a.vars[0], src);
    if (!cands) return cands.error();
    // The data plane's own lookup must agree with the explanation.
    auto scratch = t.clone_scratch();
    if (!scratch) return scratch.error();
    dp::RouteHit hit;
    const dp::RouteStatus st = t.lookup(scratch.value(), a.vars[0], src, hit);

    Json out = Json::object();
    out.set("number", a.vars[0]);
    out.set("source", src_text);
    out.set("table", inbound ? "inbound" : "outbound");
    Json rows = Json::array();
    const Json* winner = nullptr;
    const dp::RouteCandidate* win = nullptr;
    for (const dp::RouteCandidate& k : cands.value()) {
        Json row = pattern_row(t, k.rank, pats, inbound);
        row.set("source_ok", k.source_ok);
        if (k.source_ok && !win) win = &k;
        rows.push(std::move(row));
    }
    if (win) {
        for (const Json& row : rows.items())
            if (row.get("rank")->as_int() == int64_t(win->rank)) winner = &row;
    }
    if (!win) {
        out.set("result", "no match");
        out.set("reason", cands.value().empty() ? "no pattern matches " + a.vars[0]
                                                : "patterns match the number but none allows source " + src_text);
    } else {
        const dp::RouteInfo& i = t.info(win->rank);
        out.set("result", "matched");
        out.set(inbound ? "target" : "trunk", names[i.target]);
        out.set("winner", *winner);
        std::string why = std::string(pattern_word(inbound)) + " " + std::to_string(i.id) + " wins: " + t.describe(win->rank);
        for (const dp::RouteCandidate& k : cands.value()) {
            if (k.rank == win->rank) continue;
            why += k.rank < win->rank ? "; " + std::to_string(t.info(k.rank).id) + " sorts first but not for source " + src_text
                                      : "; it sorts before " + std::to_string(t.info(k.rank).id) + " (" + t.describe(k.rank) + ")";
            if (k.rank > win->rank) break;
        }
        out.set("reason", why);
    }
    out.set("candidates", std::move(rows));
    const bool agree = win ? (st == dp::RouteStatus::matched && hit.rank == win->rank) : st == dp::RouteStatus::no_match;
    if (!agree) return err(EIO, "route table: the data-plane lookup disagrees with the explanation (a bug)");
    return out;
}

const Command commands[] = {
    {"route-pattern <id>", "digits|regex <pattern> trunk <name> [source <cidr>] [priority <n>]",
     "route new access-side requests whose Request-URI user matches to a trunk (add or replace)", true, set_route},
    {"no route-pattern <id>", "", "remove a route pattern", true, del_route},
    {"inbound-pattern <id>", "digits|regex <pattern> target <ipv4>:<port> [source <cidr>] [priority <n>]",
     "route new carrier-side requests (DIDs) to an access target (add or replace)", true, set_inbound},
    {"no inbound-pattern <id>", "", "remove an inbound pattern", true, del_inbound},
    {"show routes", "", "route and inbound patterns in the order lookups apply, with the compiled regex", false,
     show_routes},
    {"route-lookup <number>", "[source <ipv4>] [inbound]", "which pattern wins for a number, and why", false,
     route_lookup},
};

}  // namespace

std::span<const Command> route_commands() noexcept { return commands; }

void route_running_config(const State& st, std::vector<std::string>& out) {
    for (const bool inbound : {false, true}) {
        for (const auto& [id, p] : inbound ? st.inbound_patterns : st.route_patterns) {
            std::string l = std::string(pattern_word(inbound)) + " " + std::to_string(id) + (p.regex ? " regex " : " digits ") +
                            quote_word(p.pattern) + (inbound ? " target " + p.target : " trunk " + p.trunk);
            if (!p.source.empty()) l += " source " + p.source;
            if (p.priority != dp::default_route_priority) l += " priority " + std::to_string(p.priority);
            out.push_back(std::move(l));
        }
    }
}

Status validate_routes(const State& work, const std::set<std::string>& touched, bool defer) {
    bool changed = false;
    for (const std::string& name : touched) {
        if (name == routes_touched) {
            changed = true;
            continue;
        }
        if (work.trunks.count(name)) continue;
        // A deleted trunk must not be the target of a route pattern.
        std::string users;
        for (const auto& [id, p] : work.route_patterns)
            if (p.trunk == name) users += (users.empty() ? "" : ", ") + std::to_string(id);
        if (!users.empty())
            return err(EBUSY, "trunk " + name + " is used by route-pattern " + users + "; remove or change them first");
    }
    if (!changed) return Ok{};
    for (const auto& [id, p] : work.route_patterns)
        if (!work.trunks.count(p.trunk)) return err(ENOENT, "route-pattern " + std::to_string(id) + ": no trunk '" + p.trunk + "'");
    if (work.route_cache.tables || defer) return Ok{};
    auto c = compile_all(work);
    if (!c) return c.error();
    work.route_cache.tables = std::move(c.value());
    return Ok{};
}

Result<std::shared_ptr<const CompiledRoutes>> compiled_routes(const State& st) {
    if (!st.route_cache.tables) {
        auto c = compile_all(st);
        if (!c) return c.error();
        st.route_cache.tables = std::move(c.value());
    }
    return st.route_cache.tables;
}

}  // namespace sipedge::ctl
