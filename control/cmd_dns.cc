// Resolver settings: the DNS servers the control loop's resolver asks
// (control/dns_link.h). `set global dns-server <ip>[:port] ...` wins over
// `set global <knob>` by its extra literal word.

#include "control/commands.h"
#include "control/number.h"
#include "dns/types.h"

namespace sipedge::ctl {

namespace {

// "<ip>", "<ip>:<port>", "[<ipv6>]" or "[<ipv6>]:<port>"; port 1-65535.
Status server_word(const std::string& w) {
    std::string host = w, port;
    if (!w.empty() && w.front() == '[') {
        const size_t close = w.find(']');
        if (close == std::string::npos) return err(EINVAL, "dns-server: '" + w + "' lacks ']'");
        host = w.substr(0, close + 1);
        if (close + 1 < w.size()) {
            if (w[close + 1] != ':') return err(EINVAL, "dns-server: '" + w + "': expected ':' after ']'");
            port = w.substr(close + 2);
        }
    } else if (const size_t colon = w.find(':'); colon != std::string::npos && w.find(':', colon + 1) == std::string::npos) {
        host = w.substr(0, colon);
        port = w.substr(colon + 1);
    }
    if (!dns::IpAddr::parse(host)) return err(EINVAL, "dns-server: '" + host + "' is not an IP address");
    if (w.front() != '[' && w.find(':') != w.rfind(':') && !port.empty())
        return err(EINVAL, "dns-server: write an IPv6 address with a port as [addr]:port");
    if (!port.empty() || (!w.empty() && w.back() == ':')) {
        if (auto v = number_arg("dns-server: port", port, 1, 65535); !v) return v.error();
    }
    return Ok{};
}

Result<Json> set_dns_server(CmdCtx& c, const Args& a) {
    if (a.rest.empty()) return err(EINVAL, "dns-server: usage: set global dns-server <ip>[:port] ... (at most 4)");
    if (a.rest.size() > 4) return err(EINVAL, "dns-server: at most 4 servers");
    for (const std::string& w : a.rest)
        if (Status s = server_word(w); !s) return s.error();
    c.st.global.dns_servers = a.rest;
    return Json();
}

Result<Json> unset_dns_server(CmdCtx& c, const Args& a) {
    if (!a.rest.empty()) return err(EINVAL, "unexpected word '" + a.rest[0] + "'");
    c.st.global.dns_servers.clear();
    return Json();
}

const Command commands[] = {
    {"set global dns-server", "<ip>[:port] ...",
     "DNS servers the resolver asks, in order (default: /etc/resolv.conf)", true, set_dns_server},
    {"unset global dns-server", "", "use the servers of /etc/resolv.conf again", true, unset_dns_server},
};

}  // namespace

std::span<const Command> dns_commands() noexcept { return commands; }

void dns_running_config(const State& st, std::vector<std::string>& out) {
    if (st.global.dns_servers.empty()) return;
    std::string l = "set global dns-server";
    for (const std::string& s : st.global.dns_servers) l += " " + s;
    out.push_back(std::move(l));
}

}  // namespace sipedge::ctl
