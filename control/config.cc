#include "control/config.h"

#include <fstream>

#include "control/cmd_access.h"
#include "control/cmd_route.h"
#include "control/knob_table.h"
#include "control/tokens.h"

namespace sipedge::ctl {

Result<std::vector<std::string>> read_lines(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return err(ENOENT, path + ": cannot open");
    std::vector<std::string> lines;
    size_t total = 0;
    for (std::string l; std::getline(in, l);) {
        total += l.size() + 1;
        if (total > (64u << 20)) return err(EFBIG, path + ": larger than 64 MiB");
        lines.push_back(std::move(l));
    }
    if (in.bad()) return err(EIO, path + ": read error");
    return lines;
}

Status load_config_file(Controller& ctl, const std::string& path) {
    auto lines = read_lines(path);
    if (!lines) return lines.error();
    return ctl.apply_lines(lines.value(), path);
}

// Order: global knobs, DNS cache, then each trunk (by name): add, domain,
// servers, identities, then knobs that differ from their defaults in table
// order. Passwords are written as stored-password (docs/control.md "Secrets").
std::vector<std::string> Controller::running_config() const {
    std::vector<std::string> out;
    out.push_back("# sipedge running configuration");
    for (const GlobalKnob& k : global_knobs())
        if (!knob_is_default(k, committed_.global))
            out.push_back(std::string("set global ") + k.key + " " + knob_value(k, committed_.global));
    ops_running_config(committed_, out);
    dns_running_config(committed_, out);  // cmd_dns.cc
    for (const auto& [key, e] : committed_.dns_cache) {
        std::string l = std::string("set dns-cache ") + dns_cache_type_name(key.first) + " " +
                        std::to_string(key.second) + " " + quote_word(e.name) + " ";
        switch (key.first) {
        case DnsCacheType::a: l += quote_word(e.address); break;
        case DnsCacheType::srv:
            l += std::to_string(e.priority) + " " + std::to_string(e.weight) + " " + std::to_string(e.port) + " " +
                 quote_word(e.target);
            break;
        case DnsCacheType::naptr:
            l += std::to_string(e.order) + " " + std::to_string(e.preference) + " " + quote_word(e.flags) + " " +
                 quote_word(e.service) + " " + quote_word(e.replacement);
            break;
        }
        l += " ttl " + std::to_string(e.ttl_s);
        out.push_back(std::move(l));
    }
    for (const auto& [name, t] : committed_.trunks) {
        const std::string p = "set trunk " + name + " ";
        out.push_back("add trunk " + name);
        if (!t.domain.empty()) out.push_back(p + "domain " + t.domain);
        for (size_t i = 0; i < t.servers.size(); i++)
            if (t.servers[i]) out.push_back(p + "server " + std::to_string(i + 1) + " " + server_text(*t.servers[i]));
        for (size_t i = 0; i < t.servers.size(); i++)  // issue 7: a restart keeps maintenance
            if (t.servers[i] && (t.maintenance >> i & 1u)) out.push_back(p + "server " + std::to_string(i + 1) + " maintenance on");
        for (const auto& [ip, port] : t.maintenance_addrs) {
            const std::string host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
            out.push_back(p + "maintenance-address " + host + (port ? ":" + std::to_string(port) : "") + " on");
        }
        for (const IdentityConfig& id : t.identities)
            out.push_back(p + "identity " + quote_word(id.user) + " auth-user " + quote_word(id.auth_user) +
                          " stored-password contact " + quote_word(id.contact));
        for (const TrunkKnob& k : trunk_knobs())
            if (!knob_is_default(k, t.knobs)) out.push_back(p + k.key + " " + knob_value(k, t.knobs));
    }
    dataplane_running_config(committed_, out);  // cmd_dataplane.cc
    route_running_config(committed_, out);      // cmd_route.cc
    access_running_config(committed_, out);     // cmd_access.cc
    return out;
}

}  // namespace sipedge::ctl
