// Data-plane commands: the port's IPv4 address, gateway and SIP port, the
// trunk new access-side requests use and the access target for requests from
// a carrier (docs/control.md "Data plane"). Values live in State::dataplane;
// sipedge reads address/gateway/sip-port when it starts its port and
// publishes default-trunk/access with every routing snapshot.

#include "control/commands.h"

namespace sipedge::ctl {

namespace {

// Dotted quad into host order; refuses anything but four 0-255 decimals.
bool parse_ipv4(const std::string& s, uint32_t& out) {
    uint32_t v = 0, part = 0;
    int dots = 0, digits = 0;
    for (const char c : s) {
        if (c == '.') {
            if (digits == 0 || ++dots > 3) return false;
            v = v << 8 | part;
            part = 0;
            digits = 0;
        } else if (c >= '0' && c <= '9' && digits < 3) {
            part = part * 10 + uint32_t(c - '0');
            if (part > 255) return false;
            digits++;
        } else {
            return false;
        }
    }
    if (dots != 3 || digits == 0) return false;
    out = v << 8 | part;
    return true;
}

std::string ipv4_text(uint32_t ip) {
    return std::to_string(ip >> 24) + "." + std::to_string(ip >> 16 & 255) + "." +
           std::to_string(ip >> 8 & 255) + "." + std::to_string(ip & 255);
}

Result<uint32_t> number(const std::string& what, const std::string& w, uint32_t lo, uint32_t hi) {
    uint64_t v = 0;
    if (w.empty() || w.size() > 10) return err(EINVAL, what + ": '" + w + "' is not a number");
    for (const char c : w) {
        if (c < '0' || c > '9') return err(EINVAL, what + ": '" + w + "' is not a number");
        v = v * 10 + uint64_t(c - '0');
    }
    if (v < lo || v > hi)
        return err(EINVAL, what + ": " + w + " is out of range " + std::to_string(lo) + "-" + std::to_string(hi));
    return uint32_t(v);
}

// A usable unicast host address: not 0.0.0.0, loopback, multicast or broadcast.
Status unicast(const std::string& what, uint32_t ip) {
    if (ip == 0 || ip >> 24 == 127 || ip >> 28 == 14 || ip >> 28 == 15)
        return err(EINVAL, what + ": " + ipv4_text(ip) + " is not a unicast host address");
    return Ok{};
}

Status one_value(const Args& a, const char* usage) {
    if (a.rest.size() != 1) return err(EINVAL, std::string("usage: ") + usage);
    return Ok{};
}

Result<Json> set_address(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane address <a.b.c.d>/<prefix 1-30>"); !s) return s.error();
    const std::string& w = a.rest[0];
    const size_t slash = w.find('/');
    uint32_t ip = 0;
    if (!parse_ipv4(w.substr(0, slash), ip))
        return err(EINVAL, "address: '" + w + "' is not an IPv4 address/prefix");
    if (Status s = unicast("address", ip); !s) return s.error();
    uint32_t prefix = 24;
    if (slash != std::string::npos) {
        auto p = number("address prefix", w.substr(slash + 1), 1, 30);
        if (!p) return p.error();
        prefix = p.value();
    }
    c.st.dataplane.ip = ip;
    c.st.dataplane.prefix = uint8_t(prefix);
    return Json();
}

Result<Json> set_gateway(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane gateway <a.b.c.d>"); !s) return s.error();
    uint32_t ip = 0;
    if (!parse_ipv4(a.rest[0], ip)) return err(EINVAL, "gateway: '" + a.rest[0] + "' is not an IPv4 address");
    if (Status s = unicast("gateway", ip); !s) return s.error();
    c.st.dataplane.gateway = ip;
    return Json();
}

Result<Json> set_sip_port(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane sip-port <1-65535>"); !s) return s.error();
    auto p = number("sip-port", a.rest[0], 1, 65535);
    if (!p) return p.error();
    c.st.dataplane.sip_port = uint16_t(p.value());
    return Json();
}

Result<Json> set_default_trunk(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane default-trunk <trunk>"); !s) return s.error();
    // Not required to exist yet (or still): a trunk deleted later leaves the
    // name, `show dataplane` says it is not running and new requests get 503,
    // and the running config always reloads.
    if (Status s = check_name("default-trunk: trunk", a.rest[0]); !s) return s.error();
    c.st.dataplane.default_trunk = a.rest[0];
    return Json();
}

Result<Json> set_access(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane access <a.b.c.d>[:port]"); !s) return s.error();
    const std::string& w = a.rest[0];
    const size_t colon = w.find(':');
    uint32_t ip = 0;
    if (!parse_ipv4(w.substr(0, colon), ip)) return err(EINVAL, "access: '" + w + "' is not an IPv4 address[:port]");
    if (Status s = unicast("access", ip); !s) return s.error();
    uint32_t port = 5060;
    if (colon != std::string::npos) {
        auto p = number("access port", w.substr(colon + 1), 1, 65535);
        if (!p) return p.error();
        port = p.value();
    }
    c.st.dataplane.access_ip = ip;
    c.st.dataplane.access_port = uint16_t(port);
    return Json();
}

Result<Json> unset_dataplane(CmdCtx& c, const Args& a) {
    if (!a.rest.empty()) return err(EINVAL, "unexpected word '" + a.rest[0] + "'");
    const DataplaneSettings d;
    const std::string& k = a.vars[0];
    DataplaneSettings& s = c.st.dataplane;
    if (k == "address") s.ip = d.ip, s.prefix = d.prefix;
    else if (k == "gateway") s.gateway = d.gateway;
    else if (k == "sip-port") s.sip_port = d.sip_port;
    else if (k == "default-trunk") s.default_trunk = d.default_trunk;
    else if (k == "access") s.access_ip = d.access_ip, s.access_port = d.access_port;
    else return err(EINVAL, "unknown data-plane key '" + k + "'; expected address, gateway, sip-port, default-trunk or access");
    return Json();
}

Result<Json> show_dataplane(CmdCtx& c, const Args& a) {
    if (!a.rest.empty()) return err(EINVAL, "unexpected word '" + a.rest[0] + "'");
    const DataplaneSettings& s = c.st.dataplane;
    Json o = Json::object();
    o.set("address", s.ip ? ipv4_text(s.ip) + "/" + std::to_string(s.prefix) : std::string());
    o.set("gateway", s.gateway ? ipv4_text(s.gateway) : std::string());
    o.set("sip-port", unsigned(s.sip_port));
    o.set("default-trunk", s.default_trunk);
    o.set("default-trunk-state", s.default_trunk.empty() ? std::string("none")
                                 : c.ctl.engine_status(s.default_trunk).empty()
                                     ? std::string("running")
                                     : "idle: " + c.ctl.engine_status(s.default_trunk));
    o.set("access", s.access_ip ? ipv4_text(s.access_ip) + ":" + std::to_string(s.access_port) : std::string());
    return o;
}

const Command commands[] = {
    {"set dataplane address", "<a.b.c.d>/<prefix>", "the port's IPv4 address (read when sipedge starts)", true,
     set_address},
    {"set dataplane gateway", "<a.b.c.d>", "off-link next hop (read when sipedge starts)", true, set_gateway},
    {"set dataplane sip-port", "<1-65535>", "our UDP port for SIP, default 5060 (read when sipedge starts)", true,
     set_sip_port},
    {"set dataplane default-trunk", "<trunk>", "trunk for new requests from the access side", true,
     set_default_trunk},
    {"set dataplane access", "<a.b.c.d>[:port]", "where new requests from a carrier server go", true, set_access},
    {"unset dataplane <key>", "", "reset address, gateway, sip-port, default-trunk or access", true,
     unset_dataplane},
    {"show dataplane", "", "the data-plane settings", false, show_dataplane},
};

}  // namespace

std::span<const Command> dataplane_commands() noexcept { return commands; }

void dataplane_running_config(const State& st, std::vector<std::string>& out) {
    const DataplaneSettings& s = st.dataplane;
    const DataplaneSettings d;
    if (s.ip) out.push_back("set dataplane address " + ipv4_text(s.ip) + "/" + std::to_string(s.prefix));
    if (s.gateway) out.push_back("set dataplane gateway " + ipv4_text(s.gateway));
    if (s.sip_port != d.sip_port) out.push_back("set dataplane sip-port " + std::to_string(s.sip_port));
    if (!s.default_trunk.empty()) out.push_back("set dataplane default-trunk " + s.default_trunk);
    if (s.access_ip)
        out.push_back("set dataplane access " + ipv4_text(s.access_ip) + ":" + std::to_string(s.access_port));
}

}  // namespace sipedge::ctl
