// Data-plane commands: each port's IPv4 address, gateway and VLAN, the SIP
// port, the trunk new access-side requests use and the access target for
// requests from a carrier (docs/control.md "Data plane"). Values live in
// State::dataplane; sipedge reads the ports and sip-port when it starts and
// publishes default-trunk/access with every routing snapshot. Port 0 is set
// by `set dataplane address|gateway|vlan`, ports 1-3 by `set dataplane port
// <n> address|gateway|vlan`; two ports' subnets may not overlap and a
// gateway must be on its port's subnet (dataplane/iface.h: the interface a
// datagram leaves by is the one whose subnet holds its destination, else the
// first with a gateway).

#include <algorithm>
#include <cstdio>

#include "control/commands.h"
#include "control/number.h"
#include "control/tokens.h"
#include "dataplane/inet.h"

namespace sipedge::ctl {

bool dataplane_device_is_pci(std::string_view name) noexcept {
    // [domain:]bus:device.function, hex: dddd:bb:dd.f or bb:dd.f
    auto hex = [](std::string_view s) {
        return !s.empty() && s.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
    };
    const size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || dot + 2 != name.size() || name[dot + 1] < '0' || name[dot + 1] > '7')
        return false;
    const std::string_view head = name.substr(0, dot);
    const size_t c2 = head.rfind(':');
    if (c2 == std::string_view::npos || head.size() - c2 - 1 != 2 || !hex(head.substr(c2 + 1))) return false;
    const std::string_view bus = head.substr(0, c2);
    const size_t c1 = bus.rfind(':');
    if (c1 == std::string_view::npos) return bus.size() == 2 && hex(bus);
    return bus.size() - c1 - 1 == 2 && hex(bus.substr(c1 + 1)) && c1 == 4 && hex(bus.substr(0, 4));
}

Result<std::vector<unsigned>> dataplane_lcore_list(std::string_view w) {
    // EAL -l syntax: "<n>" or "<a>-<b>" items joined by ',', every number by
    // the one grammar (control/number.h), each below dataplane_max_lcores,
    // ranges ascending, no core twice. Sorted in the result.
    auto bad = [&](const std::string& why) {
        return err(EINVAL, "lcores: '" + std::string(w) + "' is not a list of cores like 0-2 or 0,2,4 (cores 0-" +
                               std::to_string(dataplane_max_lcores - 1) + "): " + why);
    };
    if (w.empty()) return bad("empty list");
    std::vector<bool> seen(dataplane_max_lcores, false);
    std::vector<unsigned> out;
    std::string_view rest = w;
    for (;;) {
        const size_t comma = rest.find(',');
        const std::string_view item = rest.substr(0, comma);
        const size_t dash = item.find('-');
        const std::string_view lo_w = item.substr(0, dash);
        const std::string_view hi_w = dash == std::string_view::npos ? lo_w : item.substr(dash + 1);
        uint64_t lo = 0, hi = 0;
        for (auto [word, v] : {std::pair{lo_w, &lo}, std::pair{hi_w, &hi}}) {
            switch (parse_number(word, 0, dataplane_max_lcores - 1, *v)) {
            case NumStatus::ok: break;
            case NumStatus::not_a_number: return bad("'" + std::string(item) + "' is not a core number or a range <a>-<b>");
            case NumStatus::out_of_range:
                return bad("core " + std::string(word) + " is out of range 0-" + std::to_string(dataplane_max_lcores - 1));
            }
        }
        if (lo > hi) return bad("range " + std::string(item) + " is descending");
        for (uint64_t k = lo; k <= hi; k++) {
            if (seen[k]) return bad("core " + std::to_string(k) + " is listed twice");
            seen[k] = true;
            out.push_back(unsigned(k));
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    std::sort(out.begin(), out.end());
    return out;
}

Status dataplane_check_host(const DataplaneSettings& d, const std::vector<unsigned>& cpus) {
    if (!d.lcores.empty()) {
        auto l = dataplane_lcore_list(d.lcores);
        if (!l) return l.error();
        if (l.value().size() < 2)
            return err(EINVAL, "lcores: " + d.lcores + " names one core; sipedge needs the control core and a worker");
        for (const unsigned core : l.value())
            if (std::find(cpus.begin(), cpus.end(), core) == cpus.end()) {
                std::string have;
                for (const unsigned x : cpus) have += (have.empty() ? "" : ",") + std::to_string(x);
                return err(ENODEV, "lcores: core " + std::to_string(core) + " of " + d.lcores +
                                       " is not available on this machine (this process may run on " + have + ")");
            }
    }
    bool any = false;
    for (size_t n = 0; n < d.ports.size(); n++) {
        const PortSettings& p = d.ports[n];
        const std::string port = "port " + std::to_string(n);
        if (p.ip) any = true;
        if (!p.ip && (p.gateway || p.vlan)) return err(EINVAL, port + " has a gateway or VLAN but no address");
        if (p.device.empty()) continue;
        // The name the EAL looks up: a PCI address, or net_<driver><index>;
        // devargs are key or key=value items.
        const std::string name = p.device.substr(0, p.device.find(','));
        if (!dataplane_device_is_pci(name)) {
            size_t k = name.size();
            while (k > 4 && name[k - 1] >= '0' && name[k - 1] <= '9') k--;
            uint64_t idx = 0;
            if (name.rfind("net_", 0) != 0 || k <= 4 || k == name.size() ||
                name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_", 4) != std::string::npos ||
                parse_number(std::string_view(name).substr(k), 0, 1023, idx) != NumStatus::ok)
                return err(EINVAL, port + " device '" + name +
                                       "': a virtual device is net_<driver><index> (e.g. net_af_packet0)");
        }
        std::string_view args = p.device;
        args.remove_prefix(std::min(args.size(), name.size() + 1));
        while (!args.empty()) {
            const std::string_view item = args.substr(0, args.find(','));
            const std::string_view key = item.substr(0, item.find('='));
            if (key.empty() ||
                key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                    std::string_view::npos)
                return err(EINVAL, port + " device '" + p.device + "': devargs item '" + std::string(item) +
                                       "' is not key or key=value");
            args.remove_prefix(std::min(args.size(), item.size() + 1));
        }
    }
    if (!any) return err(EINVAL, "no 'set dataplane address A.B.C.D/P': sipedge needs port 0's address at least");
    return Ok{};
}

namespace {

std::string ipv4_text(uint32_t ip) {
    return std::to_string(ip >> 24) + "." + std::to_string(ip >> 16 & 255) + "." +
           std::to_string(ip >> 8 & 255) + "." + std::to_string(ip & 255);
}

// One number in [lo, hi] by the control plane's grammar (control/number.h).
Result<uint32_t> number(const std::string& what, const std::string& w, uint32_t lo, uint32_t hi) {
    auto v = number_arg(what, w, lo, hi);
    if (!v) return v.error();
    return uint32_t(v.value());
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

using dp::same_subnet;  // dataplane/inet.h: the rule the workers route by

std::string port_name(size_t n) { return n == 0 ? "port 0" : "port " + std::to_string(n); }

// <w> = "a.b.c.d[/prefix]" for port <n>: unicast, no subnet overlap with
// another port, its gateway (if any) still on-link.
Status set_port_address(DataplaneSettings& d, size_t n, const std::string& w) {
    const size_t slash = w.find('/');
    uint32_t ip = 0;
    if (!parse_ipv4(w.substr(0, slash), ip))
        return err(EINVAL, "address: '" + w + "' is not an IPv4 address/prefix");
    if (Status s = unicast("address", ip); !s) return s;
    uint32_t prefix = 24;
    if (slash != std::string::npos) {
        auto p = number("address prefix", w.substr(slash + 1), 1, 30);
        if (!p) return p.error();
        prefix = p.value();
    }
    for (size_t i = 0; i < d.ports.size(); i++) {
        const PortSettings& o = d.ports[i];
        if (i == n || o.ip == 0) continue;
        const uint8_t shorter = uint8_t(std::min<uint32_t>(prefix, o.prefix));
        if (same_subnet(ip, o.ip, shorter))
            return err(EEXIST, "address: " + w + " overlaps " + port_name(i) + "'s " + ipv4_text(o.ip) +
                                   "/" + std::to_string(o.prefix) + " (ports need separate subnets)");
    }
    PortSettings& p = d.ports[n];
    if (p.gateway && !same_subnet(p.gateway, ip, uint8_t(prefix)))
        return err(EINVAL, "address: " + w + " does not hold " + port_name(n) + "'s gateway " +
                               ipv4_text(p.gateway) + " (unset it first)");
    p.ip = ip;
    p.prefix = uint8_t(prefix);
    return Ok{};
}

Status set_port_gateway(DataplaneSettings& d, size_t n, const std::string& w) {
    uint32_t ip = 0;
    if (!parse_ipv4(w, ip)) return err(EINVAL, "gateway: '" + w + "' is not an IPv4 address");
    if (Status s = unicast("gateway", ip); !s) return s;
    PortSettings& p = d.ports[n];
    if (p.ip && !same_subnet(ip, p.ip, p.prefix))
        return err(EINVAL, "gateway: " + w + " is not on " + port_name(n) + "'s subnet " +
                               ipv4_text(p.ip) + "/" + std::to_string(p.prefix));
    if (p.ip == ip) return err(EINVAL, "gateway: " + w + " is " + port_name(n) + "'s own address");
    p.gateway = ip;
    return Ok{};
}

Status set_port_vlan(DataplaneSettings& d, size_t n, const std::string& w) {
    auto v = number("vlan", w, 1, 4094);
    if (!v) return v.error();
    d.ports[n].vlan = uint16_t(v.value());
    return Ok{};
}

// An EAL device: a PCI address ("0000:03:00.0" or "03:00.0") or a virtual
// device ("net_<driver><n>"), each with optional ",key=value" devargs.
Status set_port_device(DataplaneSettings& d, size_t n, const std::string& w) {
    if (w.empty() || w.size() > 200)
        return err(EINVAL, "device: give a PCI address or a net_* virtual device (at most 200 characters)");
    for (const char ch : w)
        if (ch <= ' ' || ch > '~' || ch == '"' || ch == '\\')
            return err(EINVAL, "device: '" + w + "' has a character the EAL does not take");
    const std::string name = w.substr(0, w.find(','));
    if (!dataplane_device_is_pci(name) && name.rfind("net_", 0) != 0)
        return err(EINVAL, "device: '" + name + "' is neither a PCI address (0000:03:00.0) nor a net_* virtual device");
    for (size_t i = 0; i < d.ports.size(); i++)
        if (i != n && !d.ports[i].device.empty() &&
            d.ports[i].device.substr(0, d.ports[i].device.find(',')) == name)
            return err(EEXIST, "device: " + name + " is already " + port_name(i));
    d.ports[n].device = w;
    return Ok{};
}

Result<Json> set_lcores(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane lcores <list, e.g. 0-2>"); !s) return s.error();
    if (a.rest[0].size() > 256) return err(EINVAL, "lcores: list longer than 256 characters");
    auto l = dataplane_lcore_list(a.rest[0]);
    if (!l) return l.error();
    c.st.dataplane.lcores = a.rest[0];
    return Json();
}

Result<Json> set_hugepages(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane hugepages on|off"); !s) return s.error();
    if (a.rest[0] != "on" && a.rest[0] != "off") return err(EINVAL, "hugepages: on or off");
    c.st.dataplane.hugepages = a.rest[0] == "on";
    return Json();
}

Result<Json> set_memory(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane memory <64-1048576> (MB)"); !s) return s.error();
    auto v = number("memory (MB)", a.rest[0], 64, 1048576);
    if (!v) return v.error();
    c.st.dataplane.memory_mb = v.value();
    return Json();
}

Result<Json> set_address(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane address <a.b.c.d>/<prefix 1-30>"); !s) return s.error();
    if (Status s = set_port_address(c.st.dataplane, 0, a.rest[0]); !s) return s.error();
    return Json();
}

Result<Json> set_gateway(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane gateway <a.b.c.d>"); !s) return s.error();
    if (Status s = set_port_gateway(c.st.dataplane, 0, a.rest[0]); !s) return s.error();
    return Json();
}

Result<Json> set_vlan(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane vlan <1-4094>"); !s) return s.error();
    if (Status s = set_port_vlan(c.st.dataplane, 0, a.rest[0]); !s) return s.error();
    return Json();
}

Result<size_t> port_number(const std::string& w) {
    auto n = number("port", w, 0, uint32_t(DataplaneSettings::max_ports - 1));
    if (!n) return n.error();
    return size_t(n.value());
}

// set dataplane port <n> address <a.b.c.d/p> | gateway <a.b.c.d> | vlan <id>
Result<Json> set_port(CmdCtx& c, const Args& a) {
    auto n = port_number(a.vars[0]);
    if (!n) return n.error();
    if (a.rest.size() != 2)
        return err(EINVAL, "usage: set dataplane port <0-3> address <a.b.c.d>/<prefix> | gateway <a.b.c.d> | "
                           "vlan <1-4094> | device <pci-address|net_vdev[,args]>");
    const std::string& k = a.rest[0];
    Status s = k == "address"   ? set_port_address(c.st.dataplane, n.value(), a.rest[1])
               : k == "gateway" ? set_port_gateway(c.st.dataplane, n.value(), a.rest[1])
               : k == "vlan"    ? set_port_vlan(c.st.dataplane, n.value(), a.rest[1])
               : k == "device"  ? set_port_device(c.st.dataplane, n.value(), a.rest[1])
                                : Status(err(EINVAL, "port: unknown key '" + k + "'; expected address, gateway, vlan or device"));
    if (!s) return s.error();
    return Json();
}

// unset dataplane port <n> [address|gateway|vlan]: without a key, the whole port.
Result<Json> unset_port(CmdCtx& c, const Args& a) {
    auto n = port_number(a.vars[0]);
    if (!n) return n.error();
    if (a.rest.size() > 1) return err(EINVAL, "unexpected word '" + a.rest[1] + "'");
    PortSettings& p = c.st.dataplane.ports[n.value()];
    const PortSettings d;
    const std::string k = a.rest.empty() ? "" : a.rest[0];
    if (k.empty()) p = d;
    else if (k == "address") p.ip = d.ip, p.prefix = d.prefix;
    else if (k == "gateway") p.gateway = d.gateway;
    else if (k == "vlan") p.vlan = d.vlan;
    else if (k == "device") p.device = d.device;
    else return err(EINVAL, "port: unknown key '" + k + "'; expected address, gateway, vlan or device");
    return Json();
}

Result<Json> set_sip_port(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane sip-port <1-65535>"); !s) return s.error();
    auto p = number("sip-port", a.rest[0], 1, 65535);
    if (!p) return p.error();
    c.st.dataplane.sip_port = uint16_t(p.value());
    return Json();
}

Result<Json> set_timer_c(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane timer-c <10-3600>"); !s) return s.error();
    auto v = number("timer-c (seconds; RFC 3261 16.6 asks for more than 3 minutes)", a.rest[0], 10, 3600);
    if (!v) return v.error();
    c.st.dataplane.timer_c_s = uint16_t(v.value());
    Json o = Json::object();
    if (v.value() <= 180) {
        // Accepted (callers often give up long before 3 minutes), but said.
        o.set("warning", "timer-c below RFC 3261 16.6's 3 minutes: a call ringing longer than " +
                             std::to_string(v.value()) + " s is cancelled");
        std::fprintf(stderr, "sipedge: warning: timer-c %u s is below RFC 3261 16.6's 3 minutes\n",
                     unsigned(v.value()));
    }
    return o;
}

Result<Json> set_retry_after(CmdCtx& c, const Args& a) {
    if (Status s = one_value(a, "set dataplane retry-after <0-3600>"); !s) return s.error();
    auto v = number("retry-after (seconds; 0: none)", a.rest[0], 0, 3600);
    if (!v) return v.error();
    c.st.dataplane.retry_after_s = uint16_t(v.value());
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
    if (k == "address") s.ports[0].ip = d.ports[0].ip, s.ports[0].prefix = d.ports[0].prefix;
    else if (k == "gateway") s.ports[0].gateway = d.ports[0].gateway;
    else if (k == "vlan") s.ports[0].vlan = d.ports[0].vlan;
    else if (k == "sip-port") s.sip_port = d.sip_port;
    else if (k == "timer-c") s.timer_c_s = d.timer_c_s;
    else if (k == "retry-after") s.retry_after_s = d.retry_after_s;
    else if (k == "lcores") s.lcores = d.lcores;
    else if (k == "hugepages") s.hugepages = d.hugepages;
    else if (k == "memory") s.memory_mb = d.memory_mb;
    else if (k == "default-trunk") s.default_trunk = d.default_trunk;
    else if (k == "access") s.access_ip = d.access_ip, s.access_port = d.access_port;
    else return err(EINVAL, "unknown data-plane key '" + k + "'; expected address, gateway, vlan, sip-port, timer-c, retry-after, lcores, hugepages, memory, default-trunk or access");
    return Json();
}

Result<Json> show_dataplane(CmdCtx& c, const Args& a) {
    if (!a.rest.empty()) return err(EINVAL, "unexpected word '" + a.rest[0] + "'");
    const DataplaneSettings& s = c.st.dataplane;
    Json o = Json::object();
    const PortSettings& p0 = s.ports[0];
    o.set("address", p0.ip ? ipv4_text(p0.ip) + "/" + std::to_string(p0.prefix) : std::string());
    o.set("gateway", p0.gateway ? ipv4_text(p0.gateway) : std::string());
    o.set("vlan", unsigned(p0.vlan));
    Json ports = Json::array();
    for (size_t i = 0; i < s.ports.size(); i++) {
        const PortSettings& p = s.ports[i];
        if (!p.ip && !p.gateway && !p.vlan && p.device.empty()) continue;
        Json j = Json::object();
        j.set("port", unsigned(i));
        j.set("address", p.ip ? ipv4_text(p.ip) + "/" + std::to_string(p.prefix) : std::string());
        j.set("gateway", p.gateway ? ipv4_text(p.gateway) : std::string());
        j.set("vlan", unsigned(p.vlan));
        j.set("device", p.device);
        ports.push(std::move(j));
    }
    o.set("ports", std::move(ports));
    o.set("sip-port", unsigned(s.sip_port));
    o.set("timer-c", unsigned(s.timer_c_s));
    o.set("retry-after", unsigned(s.retry_after_s));
    o.set("lcores", s.lcores);
    o.set("hugepages", s.hugepages);
    o.set("memory", unsigned(s.memory_mb));
    o.set("default-trunk", s.default_trunk);
    o.set("default-trunk-state", s.default_trunk.empty() ? std::string("none")
                                 : c.ctl.engine_status(s.default_trunk).empty()
                                     ? std::string("running")
                                     : "idle: " + c.ctl.engine_status(s.default_trunk));
    o.set("access", s.access_ip ? ipv4_text(s.access_ip) + ":" + std::to_string(s.access_port) : std::string());
    // What the running sipedge started (issue 12): per port its driver and
    // how received UDP checksums are checked. Absent without a data plane.
    const DataplaneStatus d = c.ctl.monitor().dataplane_status();
    if (d.attached) {
        Json run = Json::array();
        for (const PortStatus& p : d.ports) {
            Json j = Json::object();
            j.set("port", p.port);
            j.set("dpdk_port", p.dpdk_port);
            j.set("driver", p.driver);
            j.set("link", p.link_up ? "up" : "down");
            j.set("rx_udp_csum", p.rx_udp_csum);
            j.set("udp_csum_partial", p.udp_csum_partial);
            run.push(std::move(j));
        }
        o.set("running", std::move(run));
    }
    return o;
}

const Command commands[] = {
    {"set dataplane address", "<a.b.c.d>/<prefix>", "port 0's IPv4 address (read when sipedge starts)", true,
     set_address},
    {"set dataplane gateway", "<a.b.c.d>", "port 0's off-link next hop (read when sipedge starts)", true,
     set_gateway},
    {"set dataplane vlan", "<1-4094>", "port 0's 802.1Q VLAN (read when sipedge starts)", true, set_vlan},
    {"set dataplane port <n>",
     "address <a.b.c.d>/<prefix> | gateway <a.b.c.d> | vlan <1-4094> | device <pci-address|net_vdev[,args]>",
     "port n's interface and its EAL device (0-3; read when sipedge starts)", true, set_port},
    {"unset dataplane port <n>", "[address|gateway|vlan|device]", "reset port n (all of it without a key)",
     true, unset_port},
    {"set dataplane lcores", "<list>", "EAL lcores: control + one worker per other core (read at start)", true,
     set_lcores},
    {"set dataplane hugepages", "on|off", "off: EAL --no-huge (read when sipedge starts)", true, set_hugepages},
    {"set dataplane memory", "<MB>", "EAL memory, -m (read when sipedge starts)", true, set_memory},
    {"set dataplane sip-port", "<1-65535>", "our UDP port for SIP, default 5060 (read when sipedge starts)", true,
     set_sip_port},
    {"set dataplane timer-c", "<10-3600>",
     "seconds a forwarded INVITE may wait for its final response (RFC 3261 Timer C; default 181; read when "
     "sipedge starts)",
     true, set_timer_c},
    {"set dataplane retry-after", "<0-3600>",
     "Retry-After seconds on the 503s sipedge generates (default 30; 0: none; read when sipedge starts)", true,
     set_retry_after},
    {"set dataplane default-trunk", "<trunk>", "trunk for new requests from the access side", true,
     set_default_trunk},
    {"set dataplane access", "<a.b.c.d>[:port]", "where new requests from a carrier server go", true, set_access},
    {"unset dataplane <key>", "", "reset address, gateway, vlan, sip-port, timer-c, default-trunk or access", true,
     unset_dataplane},
    {"show dataplane", "", "the data-plane settings; with a data plane, its ports as started (driver, link, "
     "UDP checksum mode)", false, show_dataplane},
};

}  // namespace

std::span<const Command> dataplane_commands() noexcept { return commands; }

void dataplane_running_config(const State& st, std::vector<std::string>& out) {
    const DataplaneSettings& s = st.dataplane;
    const DataplaneSettings d;
    // Addresses before gateways: each line is checked against the ones before it.
    for (size_t i = 0; i < s.ports.size(); i++) {
        const PortSettings& p = s.ports[i];
        const std::string pre = i == 0 ? "set dataplane " : "set dataplane port " + std::to_string(i) + " ";
        if (p.ip) out.push_back(pre + "address " + ipv4_text(p.ip) + "/" + std::to_string(p.prefix));
        if (p.gateway) out.push_back(pre + "gateway " + ipv4_text(p.gateway));
        if (p.vlan) out.push_back(pre + "vlan " + std::to_string(p.vlan));
        if (!p.device.empty())
            out.push_back("set dataplane port " + std::to_string(i) + " device " + quote_word(p.device));
    }
    if (!s.lcores.empty()) out.push_back("set dataplane lcores " + s.lcores);
    if (!s.hugepages) out.push_back("set dataplane hugepages off");
    if (s.memory_mb) out.push_back("set dataplane memory " + std::to_string(s.memory_mb));
    if (s.sip_port != d.sip_port) out.push_back("set dataplane sip-port " + std::to_string(s.sip_port));
    if (s.timer_c_s != d.timer_c_s) out.push_back("set dataplane timer-c " + std::to_string(s.timer_c_s));
    if (s.retry_after_s != d.retry_after_s)
        out.push_back("set dataplane retry-after " + std::to_string(s.retry_after_s));
    if (!s.default_trunk.empty()) out.push_back("set dataplane default-trunk " + s.default_trunk);
    if (s.access_ip)
        out.push_back("set dataplane access " + ipv4_text(s.access_ip) + ":" + std::to_string(s.access_port));
}

}  // namespace sipedge::ctl
