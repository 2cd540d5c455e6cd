// Trunk commands: add/del trunk, servers, identities, domain, and every
// per-trunk knob of the knob table (set/unset trunk <name> <key>).

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "control/commands.h"
#include "control/knob_table.h"
#include "control/number.h"

namespace sipedge::ctl {

namespace {

Status no_more(const Args& a, size_t used) {
    if (a.rest.size() > used) return err(EINVAL, "unexpected word '" + a.rest[used] + "'");
    return Ok{};
}

// RFC 1123 host name: labels of letters, digits and '-', joined by dots.
bool valid_hostname(const std::string& h) {
    if (h.empty() || h.size() > 253) return false;
    size_t label = 0;
    for (size_t i = 0; i < h.size(); i++) {
        const char c = h[i];
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
        if (++label > 63) return false;
    }
    return label != 0 || h.back() == '.';
}

bool is_ip(const std::string& h) {
    uint8_t buf[16];
    return failover::parse_ip(h, buf) != 0;
}

// A host word: an IP address, or a host name that cannot be mistaken for a
// broken IPv4 literal ("999.1.1.1", "1.2.3", "010.0.0.1" are refused, not
// resolved as names: control/number.h looks_like_ipv4).
Status check_host(const std::string& what, const std::string& h, const char* neither) {
    if (looks_like_ipv4(h)) {
        uint32_t v4 = 0;
        if (!parse_ipv4(h, v4))
            return err(EINVAL, what + ": '" + h + "' is not a valid IPv4 address (four numbers 0-255 without leading zeros) and not a host name");
        return Ok{};
    }
    if (!is_ip(h) && !valid_hostname(h)) return err(EINVAL, what + ": '" + h + "' " + neither);
    return Ok{};
}

// "<host>[:port]" or "[v6]:port" into <e>.host / <e>.port.
Status parse_hostport(const std::string& w, ServerEntry& e) {
    std::string host = w, port;
    if (!w.empty() && w[0] == '[') {
        const size_t close = w.find(']');
        if (close == std::string::npos) return err(EINVAL, "server: '" + w + "': missing ']'");
        host = w.substr(1, close - 1);
        if (close + 1 < w.size()) {
            if (w[close + 1] != ':') return err(EINVAL, "server: '" + w + "': expected ':' after ']'");
            port = w.substr(close + 2);
            if (port.empty()) return err(EINVAL, "server: '" + w + "': empty port");
        }
        if (!is_ip(host) || host.find(':') == std::string::npos)
            return err(EINVAL, "server: '" + host + "' is not an IPv6 address");
    } else {
        const size_t colon = w.find(':');
        if (colon != std::string::npos) {
            if (w.find(':', colon + 1) != std::string::npos)
                return err(EINVAL, "server: IPv6 address '" + w + "' must be written [addr] or [addr]:port");
            host = w.substr(0, colon);
            port = w.substr(colon + 1);
            if (port.empty()) return err(EINVAL, "server: '" + w + "': empty port");
        }
        if (Status s = check_host("server", host, "is neither an IP address nor a host name"); !s) return s;
    }
    e.host = host;
    e.port = 0;
    if (!port.empty()) {
        auto v = number_arg("server: port", port, 0, 65535);
        if (!v) return v.error();
        e.port = uint16_t(v.value());
    }
    return Ok{};
}

Result<size_t> server_slot(const std::string& w) {
    if (w == "primary") return size_t(0);    // seed A sip-server primary
    if (w == "secondary") return size_t(1);  // seed A sip-server secondary
    uint64_t v = 0;
    switch (parse_number(w, 1, max_server_slots, v)) {  // control/number.h
    case NumStatus::ok: return size_t(v - 1);
    case NumStatus::not_a_number: return err(EINVAL, "server: '" + w + "': number 1-16, primary or secondary");
    case NumStatus::out_of_range: break;
    }
    return err(EINVAL, "server: " + w + " is out of range 1-16");
}

// ---- handlers --------------------------------------------------------------------------

// set trunk <name> server <n> maintenance on|off (issue 7): the administrative
// state of a configured static server; applied to the running engine by
// apply_maintenance() (state.cc) when the command commits, without a rebuild.
Result<Json> set_maintenance(CmdCtx& c, const Args& a, TrunkConfig& t, size_t slot) {
    if (a.rest.size() < 2) return err(EINVAL, "maintenance: missing value; range on|off");
    const std::string& v = a.rest[1];
    if (v != "on" && v != "off") return err(EINVAL, "maintenance: '" + v + "': range on|off");
    if (Status s = no_more(a, 2); !s) return s.error();
    const auto& e = t.servers[slot];
    if (!e) return err(ENOENT, "trunk '" + a.vars[0] + "' has no server " + a.vars[1]);
    if (e->mode >= ServerMode::dns_naptr)
        return err(EINVAL, "maintenance: server " + a.vars[1] + " is a DNS name (" + e->host +
                               "); maintenance applies to static servers (IP or A-record entries); for the "
                               "servers it resolves to: set trunk " + a.vars[0] + " maintenance-address <ip> on");
    if (v == "on") t.maintenance |= 1u << slot;
    else t.maintenance &= ~(1u << slot);
    c.touched.insert(a.vars[0]);
    return Json();
}

// set trunk <name> maintenance-address <ip>[:<port>] on|off: maintenance by
// address, for servers that come from DNS (a slot's `maintenance` needs a
// static entry) or that several slots share; applied like the slot flag.
Result<Json> set_maintenance_addr(CmdCtx& c, const Args& a) {
    auto t = find_trunk(c.st, a.vars[0]);
    if (!t) return t.error();
    if (a.rest.empty()) return err(EINVAL, "maintenance-address: missing value; range on|off");
    const std::string& v = a.rest[0];
    if (v != "on" && v != "off") return err(EINVAL, "maintenance-address: '" + v + "': range on|off");
    if (Status s = no_more(a, 1); !s) return s.error();
    ServerEntry e;
    if (Status s = parse_hostport(a.vars[1], e); !s) return err(EINVAL, "maintenance-address: " + s.error().message);
    uint8_t ip[16];
    const int fam = failover::parse_ip(e.host, ip);
    if (fam == 0) return err(EINVAL, "maintenance-address: '" + e.host + "' is not an IP address");
    char text[64];
    if (fam == 4) std::snprintf(text, sizeof text, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
    else inet_ntop(AF_INET6, ip, text, sizeof text);
    auto& list = t.value()->maintenance_addrs;
    const std::pair<std::string, uint16_t> key{text, e.port};
    const auto at = std::lower_bound(list.begin(), list.end(), key);
    const bool present = at != list.end() && *at == key;
    if (v == "on" && !present) {
        if (list.size() >= TrunkConfig::max_maintenance_addrs)
            return err(ENOSPC, "maintenance-address: trunk '" + a.vars[0] + "' has " +
                                   std::to_string(TrunkConfig::max_maintenance_addrs) + " already");
        list.insert(at, key);
    } else if (v == "off" && present) {
        list.erase(at);
    }
    c.touched.insert(a.vars[0]);
    return Json();
}

Result<Json> add_trunk(CmdCtx& c, const Args& a) {
    if (Status s = check_name("trunk", a.vars[0]); !s) return s.error();
    if (Status s = no_more(a, 0); !s) return s.error();
    if (c.st.trunks.count(a.vars[0])) return err(EEXIST, "trunk '" + a.vars[0] + "' exists");
    if (c.st.trunks.size() >= 100000) return err(ENOSPC, "too many trunks (100000)");
    TrunkConfig t;
    t.name = a.vars[0];
    c.st.trunks.emplace(t.name, std::move(t));
    c.touched.insert(a.vars[0]);
    return Json();
}

Result<Json> del_trunk(CmdCtx& c, const Args& a) {
    if (Status s = no_more(a, 0); !s) return s.error();
    if (!c.st.trunks.erase(a.vars[0])) return err(ENOENT, "no trunk '" + a.vars[0] + "'");
    c.touched.insert(a.vars[0]);
    return Json();
}

Result<Json> set_server(CmdCtx& c, const Args& a) {
    auto t = find_trunk(c.st, a.vars[0]);
    if (!t) return t.error();
    auto slot = server_slot(a.vars[1]);
    if (!slot) return slot.error();
    if (!a.rest.empty() && a.rest[0] == "maintenance") return set_maintenance(c, a, *t.value(), slot.value());
    if (a.rest.empty()) return err(EINVAL, "server: missing address; usage: <host|ip>[:port] [udp|tcp|tls] | <fqdn>[:port] transport dnsNaptr|UDPOnly|TCPOnly|TLS|TCPpreferred");
    ServerEntry e;
    if (Status s = parse_hostport(a.rest[0], e); !s) return s.error();
    size_t used = 1;
    if (a.rest.size() >= 2 && a.rest[1] == "transport") {
        // seed P/AC transport: the name is resolved through DNS (RFC 3263).
        if (a.rest.size() < 3) return err(EINVAL, "transport: missing value; range dnsNaptr|UDPOnly|TCPOnly|TLS|TCPpreferred (seed P, AC: transport)");
        const std::string& m = a.rest[2];
        if (m == "dnsNaptr") e.mode = ServerMode::dns_naptr;
        else if (m == "UDPOnly") e.mode = ServerMode::udp_only;
        else if (m == "TCPOnly") e.mode = ServerMode::tcp_only;
        else if (m == "TLS") e.mode = ServerMode::tls_only;
        else if (m == "TCPpreferred") e.mode = ServerMode::tcp_preferred;
        else return err(EINVAL, "transport: unknown word '" + m + "'; range dnsNaptr|UDPOnly|TCPOnly|TLS|TCPpreferred, default dnsNaptr (seed P, AC: transport)");
        if (is_ip(e.host)) return err(EINVAL, "transport " + m + " needs a DNS name, not the address " + e.host);
        // seed AC: port 65535 means "query SRV", as port 0/empty does for seed P.
        if (e.port == 65535) e.port = 0;
        used = 3;
    } else if (a.rest.size() >= 2) {
        const std::string& m = a.rest[1];
        if (m == "udp") e.mode = ServerMode::udp;
        else if (m == "tcp") e.mode = ServerMode::tcp;
        else if (m == "tls") e.mode = ServerMode::tls;
        else return err(EINVAL, "server: unknown word '" + m + "'; expected udp, tcp, tls or 'transport <mode>'");
        used = 2;
    }
    if (Status s = no_more(a, used); !s) return s.error();
    t.value()->servers[slot.value()] = std::move(e);
    c.touched.insert(a.vars[0]);
    return Json();
}

Result<Json> del_server(CmdCtx& c, const Args& a) {
    auto t = find_trunk(c.st, a.vars[0]);
    if (!t) return t.error();
    auto slot = server_slot(a.vars[1]);
    if (!slot) return slot.error();
    if (Status s = no_more(a, 0); !s) return s.error();
    auto& s = t.value()->servers[slot.value()];
    if (!s) return err(ENOENT, "trunk '" + a.vars[0] + "' has no server " + a.vars[1]);
    s.reset();
    t.value()->maintenance &= ~(1u << slot.value());
    c.touched.insert(a.vars[0]);
    return Json();
}

// set trunk <name> identity <user> [auth-user <u>] (password <p> | stored-password) contact <uri>
// Never echoes the password in an error.
Result<Json> set_identity(CmdCtx& c, const Args& a) {
    auto t = find_trunk(c.st, a.vars[0]);
    if (!t) return t.error();
    const std::string& user = a.vars[1];
    if (user.empty() || user.size() > 64) return err(EINVAL, "identity: user must be 1-64 characters");
    IdentityConfig id;
    id.user = user;
    bool have_pw = false, have_contact = false;
    for (size_t i = 0; i < a.rest.size(); i++) {
        const std::string& w = a.rest[i];
        if (w == "stored-password") {
            const IdentityConfig* old = nullptr;
            for (const IdentityConfig& x : t.value()->identities)
                if (x.user == user) old = &x;
            const std::string* pw = old ? &old->password : c.ctl.stored_password(a.vars[0], user);
            if (!pw) return err(ENOENT, "identity " + user + ": stored-password, but no password is stored for trunk " + a.vars[0] + " identity " + user + " (secrets file)");
            id.password = *pw;
            have_pw = true;
            continue;
        }
        if (i + 1 >= a.rest.size()) return err(EINVAL, "identity: '" + (w == "password" ? std::string("password") : w) + "' needs a value");
        const std::string& v = a.rest[++i];
        if (w == "auth-user") {
            if (v.empty() || v.size() > 64) return err(EINVAL, "identity: auth-user must be 1-64 characters");
            id.auth_user = v;
        } else if (w == "password") {
            if (v.empty() || v.size() > 128) return err(EINVAL, "identity: password must be 1-128 characters");
            id.password = v;
            have_pw = true;
        } else if (w == "contact") {
            if (v.size() > 256 || !(v.rfind("sip:", 0) == 0 || v.rfind("sips:", 0) == 0) || v.size() < 5)
                return err(EINVAL, "identity: contact must be a sip: or sips: URI of at most 256 characters");
            id.contact = v;
            have_contact = true;
        } else {
            return err(EINVAL, "identity: unknown word '" + w + "'; expected auth-user, password, stored-password or contact");
        }
    }
    if (!have_pw) return err(EINVAL, "identity " + user + ": password <p> or stored-password is required");
    if (!have_contact) return err(EINVAL, "identity " + user + ": contact <uri> is required");
    if (id.auth_user.empty()) id.auth_user = user;
    auto& ids = t.value()->identities;
    bool replaced = false;
    for (IdentityConfig& x : ids)
        if (x.user == user) {
            x = id;
            replaced = true;
        }
    if (!replaced) {
        if (ids.size() >= 1024) return err(ENOSPC, "identity: at most 1024 per trunk");
        ids.push_back(std::move(id));
    }
    c.touched.insert(a.vars[0]);
    return Json();
}

Result<Json> del_identity(CmdCtx& c, const Args& a) {
    auto t = find_trunk(c.st, a.vars[0]);
    if (!t) return t.error();
    if (Status s = no_more(a, 0); !s) return s.error();
    auto& ids = t.value()->identities;
    for (auto it = ids.begin(); it != ids.end(); ++it)
        if (it->user == a.vars[1]) {
            ids.erase(it);
            c.touched.insert(a.vars[0]);
            return Json();
        }
    return err(ENOENT, "trunk '" + a.vars[0] + "' has no identity " + a.vars[1]);
}

Result<Json> set_domain(CmdCtx& c, const Args& a) {
    auto t = find_trunk(c.st, a.vars[0]);
    if (!t) return t.error();
    if (Status s = no_more(a, 0); !s) return s.error();
    if (Status s = check_host("domain", a.vars[1], "is not a host name"); !s) return s.error();
    t.value()->domain = a.vars[1];
    c.touched.insert(a.vars[0]);
    return Json();
}

// set trunk <t> tls-client-key FILE|stored (issue 14): the key is read from
// FILE now (only its owner may read it) and kept in the secrets store, not in
// the configuration: the knob then says "stored", which is also what the
// running config writes; "stored" alone takes the key the secrets file holds
// for the trunk (docs/control.md "Secrets"). An empty value: no key.
Result<Json> set_client_key(CmdCtx& c, TrunkConfig& t, const std::string& trunk, const std::vector<std::string>& rest) {
    if (rest.size() != 1) return err(EINVAL, "tls-client-key: expected the key's PEM file (mode 0600) or 'stored'");
    const std::string& v = rest[0];
    if (v.empty()) {
        t.tls_client_key_pem.clear();
        t.knobs.tls_client_key.clear();
    } else if (v == "stored") {
        if (t.tls_client_key_pem.empty()) {
            std::optional<std::string> pem = c.ctl.stored_tls_key(trunk);
            if (!pem || pem->empty())
                return err(ENOENT, "tls-client-key stored, but the secrets file holds no TLS key for trunk " + trunk);
            t.tls_client_key_pem = std::move(*pem);
        }
        t.knobs.tls_client_key = "stored";
    } else {
        auto pem = Controller::read_tls_key(v);
        if (!pem) return pem.error();
        t.tls_client_key_pem = std::move(pem.value());
        t.knobs.tls_client_key = "stored";
    }
    c.touched.insert(trunk);
    return Json();
}

Result<Json> set_knob(CmdCtx& c, const Args& a) {
    const std::string& key = a.vars[1];
    if (key == "server" || key == "identity" || key == "domain")
        return err(EINVAL, "incomplete command; see 'help' for set trunk <name> " + key);
    auto t = find_trunk(c.st, a.vars[0]);
    if (!t) return t.error();
    if (key == "tls-client-key") return set_client_key(c, *t.value(), a.vars[0], a.rest);
    const TrunkKnob* k = find_trunk_knob(key);
    if (!k) return err(EINVAL, "unknown knob '" + key + "'; 'show knobs' lists them");
    if (Status s = knob_set(*k, t.value()->knobs, a.rest); !s) return s.error();
    c.touched.insert(a.vars[0]);
    return Json();
}

Result<Json> unset_knob(CmdCtx& c, const Args& a) {
    auto t = find_trunk(c.st, a.vars[0]);
    if (!t) return t.error();
    if (Status s = no_more(a, 0); !s) return s.error();
    const std::string& key = a.vars[1];
    if (key == "domain") {
        t.value()->domain.clear();
    } else {
        const TrunkKnob* k = find_trunk_knob(key);
        if (!k) return err(EINVAL, "unknown knob '" + key + "'; 'show knobs' lists them");
        knob_reset(*k, t.value()->knobs);
        if (key == "tls-client-key") t.value()->tls_client_key_pem.clear();
    }
    c.touched.insert(a.vars[0]);
    return Json();
}

const Command commands[] = {
    {"add trunk <name>", "", "create an empty trunk", true, add_trunk},
    {"del trunk <name>", "", "remove a trunk", true, del_trunk},
    {"set trunk <name> server <n>",
     "<host|ip>[:port] [udp|tcp|tls] | <fqdn>[:port] transport dnsNaptr|UDPOnly|TCPOnly|TLS|TCPpreferred",
     "server <n> (1-16, primary, secondary) of the trunk's ordered list; 'server <n> maintenance on|off': "
     "no new requests or registrations to it, in-flight ones complete (issue 7)", true, set_server},
    {"del trunk <name> server <n>", "", "remove server <n>", true, del_server},
    {"set trunk <name> maintenance-address <addr>", "on|off",
     "every server of the trunk at <ip>[:port] (any port when none), static or from DNS, in or out "
     "of maintenance", true, set_maintenance_addr},
    {"set trunk <name> identity <user>", "[auth-user <u>] password <p>|stored-password contact <uri>",
     "add or replace an identity (registration and digest credentials)", true, set_identity},
    {"del trunk <name> identity <user>", "", "remove an identity", true, del_identity},
    {"set trunk <name> domain <domain>", "", "AOR/registrar domain (default: the first server's host)", true,
     set_domain},
    {"set trunk <name> <knob>", "<value>...", "set a per-trunk knob ('show knobs' lists them)", true, set_knob},
    {"unset trunk <name> <knob>", "", "reset a per-trunk knob (or domain) to its default", true, unset_knob},
};

}  // namespace

std::span<const Command> trunk_commands() noexcept { return commands; }

}  // namespace sipedge::ctl
