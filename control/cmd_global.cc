// Global commands: resolver-wide knobs (seed P dns.cache.*) and the static
// DNS cache records (seed P dns.cache.{A,SRV,NAPTR}.x.*).

#include "control/commands.h"
#include "control/knob_table.h"
#include "control/number.h"

namespace sipedge::ctl {

namespace {

// One number in [lo, hi] by the control plane's grammar (control/number.h).
Result<uint32_t> number(const std::string& what, const std::string& w, uint32_t lo, uint32_t hi) {
    auto v = number_arg(what, w, lo, hi);
    if (!v) return v.error();
    return uint32_t(v.value());
}

Result<Json> set_global(CmdCtx& c, const Args& a) {
    const GlobalKnob* k = find_global_knob(a.vars[0]);
    if (!k) return err(EINVAL, "unknown global knob '" + a.vars[0] + "'; 'show knobs' lists them");
    if (Status s = knob_set(*k, c.st.global, a.rest); !s) return s.error();
    return Json();
}

Result<Json> unset_global(CmdCtx& c, const Args& a) {
    const GlobalKnob* k = find_global_knob(a.vars[0]);
    if (!k) return err(EINVAL, "unknown global knob '" + a.vars[0] + "'; 'show knobs' lists them");
    if (!a.rest.empty()) return err(EINVAL, "unexpected word '" + a.rest[0] + "'");
    knob_reset(*k, c.st.global);
    return Json();
}

// Name syntax shared by every record: a DNS name, '.'-separated, no spaces.
Status dns_name(const std::string& what, const std::string& n) {
    if (n.empty() || n.size() > 253) return err(EINVAL, what + ": name must be 1-253 characters");
    for (const char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_'))
            return err(EINVAL, what + ": '" + n + "' is not a DNS name");
    return Ok{};
}

// Parses the optional trailing "ttl <s>" (seed P dns.cache.*.x.ttl 0-65535, default 300).
Status trailing_ttl(const std::string& what, const Args& a, size_t used, DnsCacheEntry& e) {
    if (a.rest.size() == used) return Ok{};
    if (a.rest.size() != used + 2 || a.rest[used] != "ttl")
        return err(EINVAL, what + ": unexpected word '" + a.rest[used] + "'; only 'ttl <s>' may follow");
    auto t = number(what + " ttl (seed P dns.cache.*.x.ttl, default 300)", a.rest[used + 1], 0, 65535);
    if (!t) return t.error();
    e.ttl_s = t.value();
    return Ok{};
}

Result<uint32_t> slot(const std::string& w) {
    return number("dns-cache index (seed P dns.cache.*.x)", w, 1, dns_cache_slots);
}

Result<Json> set_cache_a(CmdCtx& c, const Args& a) {
    auto x = slot(a.vars[0]);
    if (!x) return x.error();
    if (a.rest.size() < 2) return err(EINVAL, "dns-cache a: usage: <x> <name> <address> [ttl <s>]");
    DnsCacheEntry e;
    if (Status s = dns_name("dns-cache a", a.rest[0]); !s) return s.error();
    uint8_t ip[16];
    if (failover::parse_ip(a.rest[1], ip) == 0)
        return err(EINVAL, "dns-cache a: '" + a.rest[1] + "' is not an IP address");
    e.name = a.rest[0];
    e.address = a.rest[1];
    if (Status s = trailing_ttl("dns-cache a", a, 2, e); !s) return s.error();
    c.st.dns_cache[{DnsCacheType::a, x.value()}] = std::move(e);
    return Json();
}

Result<Json> set_cache_srv(CmdCtx& c, const Args& a) {
    auto x = slot(a.vars[0]);
    if (!x) return x.error();
    if (a.rest.size() < 5)
        return err(EINVAL, "dns-cache srv: usage: <x> <name> <priority> <weight> <port> <target> [ttl <s>]");
    DnsCacheEntry e;
    if (Status s = dns_name("dns-cache srv", a.rest[0]); !s) return s.error();
    auto pr = number("dns-cache srv priority", a.rest[1], 0, 65535);
    if (!pr) return pr.error();
    auto w = number("dns-cache srv weight", a.rest[2], 0, 65535);
    if (!w) return w.error();
    auto p = number("dns-cache srv port", a.rest[3], 0, 65535);
    if (!p) return p.error();
    if (Status s = dns_name("dns-cache srv target", a.rest[4]); !s) return s.error();
    e.name = a.rest[0];
    e.priority = pr.value();
    e.weight = w.value();
    e.port = p.value();
    e.target = a.rest[4];
    if (Status s = trailing_ttl("dns-cache srv", a, 5, e); !s) return s.error();
    c.st.dns_cache[{DnsCacheType::srv, x.value()}] = std::move(e);
    return Json();
}

Result<Json> set_cache_naptr(CmdCtx& c, const Args& a) {
    auto x = slot(a.vars[0]);
    if (!x) return x.error();
    if (a.rest.size() < 6)
        return err(EINVAL, "dns-cache naptr: usage: <x> <name> <order> <preference> <flags> <service> <replacement> [ttl <s>]");
    DnsCacheEntry e;
    if (Status s = dns_name("dns-cache naptr", a.rest[0]); !s) return s.error();
    auto o = number("dns-cache naptr order", a.rest[1], 0, 65535);
    if (!o) return o.error();
    auto p = number("dns-cache naptr preference", a.rest[2], 0, 65535);
    if (!p) return p.error();
    // RFC 3403: flags are letters; RFC 3263 uses "s" (and "a").
    if (a.rest[3].size() > 8) return err(EINVAL, "dns-cache naptr flags: at most 8 letters");
    for (const char ch : a.rest[3])
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            return err(EINVAL, "dns-cache naptr flags: letters and digits only");
    if (a.rest[4].empty() || a.rest[4].size() > 32) return err(EINVAL, "dns-cache naptr service: 1-32 characters (e.g. SIP+D2U)");
    if (Status s = dns_name("dns-cache naptr replacement", a.rest[5]); !s) return s.error();
    e.name = a.rest[0];
    e.order = o.value();
    e.preference = p.value();
    e.flags = a.rest[3];
    e.service = a.rest[4];
    e.replacement = a.rest[5];
    if (Status s = trailing_ttl("dns-cache naptr", a, 6, e); !s) return s.error();
    c.st.dns_cache[{DnsCacheType::naptr, x.value()}] = std::move(e);
    return Json();
}

Result<Json> del_cache(CmdCtx& c, const Args& a) {
    DnsCacheType t;
    if (a.vars[0] == "a") t = DnsCacheType::a;
    else if (a.vars[0] == "srv") t = DnsCacheType::srv;
    else if (a.vars[0] == "naptr") t = DnsCacheType::naptr;
    else return err(EINVAL, "dns-cache: unknown type '" + a.vars[0] + "'; expected a, srv or naptr");
    auto x = slot(a.vars[1]);
    if (!x) return x.error();
    if (!a.rest.empty()) return err(EINVAL, "unexpected word '" + a.rest[0] + "'");
    if (!c.st.dns_cache.erase({t, x.value()}))
        return err(ENOENT, "dns-cache " + a.vars[0] + " " + a.vars[1] + " is not set");
    return Json();
}

const Command commands[] = {
    {"set global <knob>", "<value>", "set a global knob ('show knobs' lists them)", true, set_global},
    {"unset global <knob>", "", "reset a global knob to its default", true, unset_global},
    {"set dns-cache a <x>", "<name> <address> [ttl <s>]", "static A record x (1-18), seed P dns.cache.A.x", true,
     set_cache_a},
    {"set dns-cache srv <x>", "<name> <priority> <weight> <port> <target> [ttl <s>]",
     "static SRV record x (1-18), seed P dns.cache.SRV.x", true, set_cache_srv},
    {"set dns-cache naptr <x>", "<name> <order> <preference> <flags> <service> <replacement> [ttl <s>]",
     "static NAPTR record x (1-18), seed P dns.cache.NAPTR.x", true, set_cache_naptr},
    {"del dns-cache <type> <x>", "", "remove static record x of type a, srv or naptr", true, del_cache},
};

}  // namespace

std::span<const Command> global_commands() noexcept { return commands; }

}  // namespace sipedge::ctl
