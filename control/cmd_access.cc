// Access peers and the flood guard (issue 16): the commands, their
// running-config lines and the set the workers read. See control/cmd_access.h
// and docs/security.md "Access peers and flood guard".

#include "control/cmd_access.h"

#include <algorithm>
#include <set>

#include "control/number.h"
#include "dataplane/route_table.h"  // parse_ipv4_prefix

namespace sipedge::ctl {

namespace {

constexpr const char* peer_usage =
    "usage: access-peer <name> networks <cidr>[,<cidr>...] [invite-rps <n>] [register-rps <n>] "
    "[other-rps <n>] [burst <n>]";
constexpr uint32_t max_rps = 1000000;

std::string ipv4_text(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
           "." + std::to_string(a & 255);
}

// "a.b.c.d[/len]" by the one number grammar (no "010.0.0.0", no "/08"); a
// host address when the length is left out. The network in <net>/<len>.
Status parse_network(const std::string& what, const std::string& v, uint32_t& net, uint8_t& len) {
    const size_t slash = v.find('/');
    uint32_t addr = 0;
    uint64_t l = 32;
    if (!parse_ipv4(std::string_view(v).substr(0, slash), addr) ||
        (slash != std::string::npos && parse_number(std::string_view(v).substr(slash + 1), 0, 32, l) != NumStatus::ok))
        return err(EINVAL, what + ": network '" + v + "': expected an IPv4 prefix a.b.c.d/len (len 0-32, no leading zeros)");
    if (slash == std::string::npos) {
        net = addr;
        len = 32;
        return Ok{};
    }
    if (Status s = dp::parse_ipv4_prefix(v, net, len); !s) return err(EINVAL, what + ": " + s.error().message);
    return Ok{};
}

uint32_t mask_of(uint8_t len) { return len == 0 ? 0 : ~uint32_t(0) << (32 - len); }

Result<uint32_t> rate(const std::string& what, const std::string& w) {
    auto v = number_arg(what, w, 0, max_rps);
    if (!v) return v.error();
    return uint32_t(v.value());
}

// Every peer's networks, checked across peers: the same network in two
// peers is ambiguous; the total is bounded (the workers scan them).
Status check_peers(const State& st) {
    if (st.access_peers.size() > dp::max_access_peers)
        return err(ENOSPC, "at most " + std::to_string(dp::max_access_peers) + " access peers");
    std::map<std::pair<uint32_t, uint8_t>, std::string> seen;
    size_t total = 0;
    for (const auto& [name, p] : st.access_peers)
        for (const std::string& n : p.networks) {
            uint32_t net = 0;
            uint8_t len = 0;
            if (Status s = parse_network("access-peer " + name, n, net, len); !s) return s;
            auto [it, fresh] = seen.emplace(std::make_pair(net, len), name);
            if (!fresh && it->second != name)
                return err(EEXIST, "access-peer " + name + ": network " + n + " is already access-peer " + it->second + "'s");
            total++;
        }
    if (total > dp::max_access_networks)
        return err(ENOSPC, "at most " + std::to_string(dp::max_access_networks) + " access-peer networks in all");
    return Ok{};
}

// access-peer <name> networks <list> [invite-rps n] [register-rps n] [other-rps n] [burst n]
Result<Json> set_peer(CmdCtx& c, const Args& a) {
    const std::string& name = a.vars[0];
    if (Status s = check_name("access-peer", name); !s) return s.error();
    const std::string what = "access-peer " + name;
    AccessPeerConfig p;
    std::set<std::string> given;
    for (size_t i = 0; i < a.rest.size(); i += 2) {
        const std::string& k = a.rest[i];
        const bool known = k == "networks" || k == "invite-rps" || k == "register-rps" || k == "other-rps" || k == "burst";
        if (!known) return err(EINVAL, what + ": unknown word '" + k + "'; " + peer_usage);
        if (!given.insert(k).second) return err(EINVAL, what + ": '" + k + "' given twice");
        if (i + 1 >= a.rest.size()) return err(EINVAL, what + ": '" + k + "' needs a value");
        const std::string& v = a.rest[i + 1];
        if (k == "networks") {
            size_t at = 0;
            while (at <= v.size()) {
                const size_t comma = std::min(v.find(',', at), v.size());
                const std::string one = v.substr(at, comma - at);
                uint32_t net = 0;
                uint8_t len = 0;
                if (Status s = parse_network(what, one, net, len); !s) return s.error();
                const std::string canon = ipv4_text(net) + "/" + std::to_string(len);
                if (std::find(p.networks.begin(), p.networks.end(), canon) == p.networks.end())
                    p.networks.push_back(canon);
                at = comma + 1;
            }
            continue;
        }
        auto r = rate(what + " " + k, v);
        if (!r) return r.error();
        if (k == "invite-rps") p.invite_rps = r.value();
        else if (k == "register-rps") p.register_rps = r.value();
        else if (k == "other-rps") p.other_rps = r.value();
        else p.burst = r.value();
    }
    if (p.networks.empty()) return err(EINVAL, what + ": 'networks' is required; " + peer_usage);
    c.st.access_peers[name] = std::move(p);
    if (Status s = check_peers(c.st); !s) return s.error();
    return Json();
}

Result<Json> del_peer(CmdCtx& c, const Args& a) {
    if (!a.rest.empty()) return err(EINVAL, "unexpected word '" + a.rest[0] + "'");
    if (!c.st.access_peers.erase(a.vars[0])) return err(ENOENT, "no access-peer '" + a.vars[0] + "'");
    if (c.st.access_guard.restrict_sources && c.st.access_peers.empty())
        return err(EBUSY, "access-peer " + a.vars[0] + " is the last peer and restrict-sources is on; "
                          "set access-guard restrict-sources off first");
    return Json();
}

Result<Json> set_guard(CmdCtx& c, const Args& a) {
    const char* usage = "usage: set access-guard restrict-sources on|off | source-rps <0-1000000> | "
                        "block <1-3600> | action reject|drop";
    if (a.rest.size() != 2) return err(EINVAL, usage);
    const std::string &k = a.rest[0], &v = a.rest[1];
    AccessGuardSettings& g = c.st.access_guard;
    if (k == "restrict-sources") {
        if (v != "on" && v != "off") return err(EINVAL, "restrict-sources: '" + v + "': expected on or off");
        g.restrict_sources = v == "on";
    } else if (k == "source-rps") {
        auto r = number_arg("source-rps (requests/s per source address; 0: off)", v, 0, max_rps);
        if (!r) return r.error();
        g.source_rps = uint32_t(r.value());
    } else if (k == "block") {
        auto r = number_arg("block (seconds a flooding source stays blocked)", v, 1, 3600);
        if (!r) return r.error();
        g.block_s = uint32_t(r.value());
    } else if (k == "action") {
        if (v != "reject" && v != "drop") return err(EINVAL, "action: '" + v + "': expected reject (503 + Retry-After) or drop");
        g.drop = v == "drop";
    } else {
        return err(EINVAL, "unknown access-guard key '" + k + "'; " + usage);
    }
    if (g.restrict_sources && c.st.access_peers.empty() && k == "restrict-sources")
        return err(EINVAL, "restrict-sources on with no access-peer would refuse every access-side request; "
                           "add the peers first");
    return Json();
}

Result<Json> show_access(CmdCtx& c, const Args& a) {
    if (!a.rest.empty()) return err(EINVAL, "unexpected word '" + a.rest[0] + "'");
    const AccessGuardSettings& g = c.st.access_guard;
    Json out = Json::object();
    Json gj = Json::object();
    gj.set("restrict-sources", std::string(g.restrict_sources ? "on" : "off"));
    gj.set("source-rps", uint64_t(g.source_rps));
    gj.set("block", uint64_t(g.block_s));
    gj.set("action", std::string(g.drop ? "drop" : "reject"));
    out.set("guard", std::move(gj));
    Json peers = Json::array();
    for (const auto& [name, p] : c.st.access_peers) {
        Json j = Json::object();
        j.set("name", name);
        Json nets = Json::array();
        for (const std::string& n : p.networks) nets.push(n);
        j.set("networks", std::move(nets));
        j.set("invite-rps", uint64_t(p.invite_rps));
        j.set("register-rps", uint64_t(p.register_rps));
        j.set("other-rps", uint64_t(p.other_rps));
        j.set("burst", uint64_t(p.burst));
        peers.push(std::move(j));
    }
    out.set("peers", std::move(peers));
    out.set("active", build_access_peers(c.st) != nullptr);
    return out;
}

const Command commands[] = {
    {"access-peer <name>",
     "networks <cidr>[,<cidr>...] [invite-rps <n>] [register-rps <n>] [other-rps <n>] [burst <n>]",
     "an access-side peer: its source networks and request rates per worker (0: unlimited; add or replace)",
     true, set_peer},
    {"no access-peer <name>", "", "remove an access peer", true, del_peer},
    {"set access-guard", "restrict-sources on|off | source-rps <n> | block <s> | action reject|drop",
     "refuse sources in no peer's networks (403); per-source flood guard; 503 + Retry-After or drop", true,
     set_guard},
    {"show access", "", "access peers and the flood guard's settings", false, show_access},
};

}  // namespace

std::shared_ptr<const AccessPeerSet> build_access_peers(const State& st) {
    const AccessGuardSettings& g = st.access_guard;
    if (st.access_peers.empty() && !g.restrict_sources && g.source_rps == 0) return nullptr;
    auto s = std::make_shared<AccessPeerSet>();
    for (const auto& [name, p] : st.access_peers) {
        const auto peer = uint16_t(s->names.size());
        s->names.push_back(name);
        dp::PeerLimit l;
        l.rps[size_t(dp::RateKind::invite)] = p.invite_rps;
        l.rps[size_t(dp::RateKind::register_)] = p.register_rps;
        l.rps[size_t(dp::RateKind::other)] = p.other_rps;
        for (uint32_t& b : l.burst) b = p.burst;
        s->limits.push_back(l);
        for (const std::string& n : p.networks) {
            dp::PeerNet pn;
            if (!parse_network("", n, pn.net, pn.prefix)) continue;  // checked when set
            pn.mask = mask_of(pn.prefix);
            pn.net &= pn.mask;
            pn.peer = peer;
            s->nets.push_back(pn);
        }
    }
    std::stable_sort(s->nets.begin(), s->nets.end(),
                     [](const dp::PeerNet& a, const dp::PeerNet& b) { return a.prefix > b.prefix; });
    dp::AccessPeers& v = s->view;
    v.nets = s->nets.data();
    v.net_count = uint32_t(s->nets.size());
    v.limits = s->limits.data();
    v.peer_count = uint32_t(s->limits.size());
    v.restrict_sources = g.restrict_sources;
    v.action = g.drop ? dp::FloodAction::drop : dp::FloodAction::reject_503;
    v.source_rps = g.source_rps;
    v.block_s = g.block_s;
    v.retry_after_s = 1;
    return s;
}

bool same_access_peers(const AccessPeerSet* a, const AccessPeerSet* b) noexcept {
    if (!a || !b) return a == b;
    const dp::AccessPeers &x = a->view, &y = b->view;
    if (x.restrict_sources != y.restrict_sources || x.action != y.action || x.source_rps != y.source_rps ||
        x.block_s != y.block_s || a->nets.size() != b->nets.size() || a->limits.size() != b->limits.size())
        return false;
    for (size_t i = 0; i < a->nets.size(); i++) {
        const dp::PeerNet &p = a->nets[i], &q = b->nets[i];
        if (p.net != q.net || p.prefix != q.prefix || p.peer != q.peer) return false;
    }
    for (size_t i = 0; i < a->limits.size(); i++)
        for (size_t k = 0; k < size_t(dp::RateKind::count_); k++)
            if (a->limits[i].rps[k] != b->limits[i].rps[k] || a->limits[i].burst[k] != b->limits[i].burst[k])
                return false;
    return true;
}

std::span<const Command> access_commands() noexcept { return commands; }

void access_running_config(const State& st, std::vector<std::string>& out) {
    for (const auto& [name, p] : st.access_peers) {
        std::string nets;
        for (const std::string& n : p.networks) nets += (nets.empty() ? "" : ",") + n;
        std::string l = "access-peer " + name + " networks " + nets;
        if (p.invite_rps) l += " invite-rps " + std::to_string(p.invite_rps);
        if (p.register_rps) l += " register-rps " + std::to_string(p.register_rps);
        if (p.other_rps) l += " other-rps " + std::to_string(p.other_rps);
        if (p.burst) l += " burst " + std::to_string(p.burst);
        out.push_back(std::move(l));
    }
    const AccessGuardSettings& g = st.access_guard, d;
    if (g.source_rps != d.source_rps) out.push_back("set access-guard source-rps " + std::to_string(g.source_rps));
    if (g.block_s != d.block_s) out.push_back("set access-guard block " + std::to_string(g.block_s));
    if (g.drop != d.drop) out.push_back("set access-guard action drop");
    // Last: it needs the peers above.
    if (g.restrict_sources) out.push_back("set access-guard restrict-sources on");
}

}  // namespace sipedge::ctl
