#pragma once
// The resolver on the control loop (dns/resolver.h attached to a Controller):
// every trunk server given as a host name with a DNS transport mode
// (`set trunk <t> server <n> <fqdn>[:port] transport dnsNaptr|UDPOnly|...`)
// is located by RFC 3263 and refreshed before its TTL runs out; every new
// answer becomes the trunk's server set through Engine::update_servers, so
// the next published table carries the resolved addresses. A server or
// trunk that goes away stops its lookup. The global DNS settings
// (`set global dns-server`, dns-restore*, dns-a-network-override) and the
// static dns-cache records make up the Resolver's config; a change of them
// starts a new Resolver and locates every name again.
//
// Event-loop integration: fd() is one epoll descriptor holding the c-ares
// sockets and a timerfd for c-ares timeouts and refreshes; the control loop
// watches it and calls on_ready() (control/loop.cc). Control thread only.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "control/commands.h"
#include "control/json.h"
#include "dns/resolver.h"

namespace sipedge::ctl {

/// The Resolver's config from the committed state (servers, restore knobs, static records).
Result<dns::ResolverConfig> resolver_config(const State& st);
/// What to locate for <e> (a DNS-mode server entry).
dns::LocateRequest locate_request(const ServerEntry& e);

class DnsLink {
public:
    /// Opens the epoll fd and timerfd, builds the Resolver from <ctl>'s state
    /// and attaches itself to <ctl> (Controller::set_dns): from now on every
    /// commit runs sync(). Locates the names already configured.
    static Result<std::unique_ptr<DnsLink>> create(Controller& ctl);
    /// Detaches from the Controller, stops every lookup, closes the fds.
    ~DnsLink();
    DnsLink(const DnsLink&) = delete;
    DnsLink& operator=(const DnsLink&) = delete;

    /// Readable when a DNS socket or the timer is ready.
    int fd() const noexcept { return epfd_; }
    /// Serves ready sockets and due timers; applies new answers to the engine.
    void on_ready();
    /// Waits up to <timeout_ms> for fd() and serves it (tests, tools).
    void poll(int timeout_ms);
    /// After a commit: a new Resolver when its config changed, lookups
    /// started/stopped for added/changed/removed names, answers re-applied to
    /// trunks whose engine server set no longer carries them (a rebuilt
    /// engine, a server command).
    void sync();

    /// `show dns`: per located host its request, answer (with source
    /// dns/static/restored/literal) and updates; per DNS question the cache state.
    Json show() const;
    /// Server sets handed to the engine so far.
    uint64_t applied() const noexcept { return applied_; }
    /// Resolver config failures (bad dns-server): the last message, "" when fine.
    const std::string& config_error() const noexcept { return config_error_; }
    dns::Resolver* resolver() noexcept { return res_.get(); }

private:
    struct Host {
        ServerEntry entry;
        dns::LocateId id = 0;
    };
    using Key = std::pair<std::string, size_t>;  // (trunk, slot)

    explicit DnsLink(Controller& ctl) : ctl_(ctl) {}
    void rebuild_resolver();
    void start(const Key& k, Host& h);
    void apply(const std::string& trunk);
    void apply_dirty();
    void watch_socket(int fd, bool rd, bool wr);
    void arm_timer();

    Controller& ctl_;
    int epfd_ = -1;
    int tfd_ = -1;
    std::unique_ptr<dns::Resolver> res_;
    GlobalSettings global_seen_;
    std::map<std::pair<DnsCacheType, uint32_t>, DnsCacheEntry> cache_seen_;
    bool have_seen_ = false;
    std::map<Key, Host> hosts_;
    std::map<dns::LocateId, Key> by_id_;
    std::set<std::string> dirty_;
    std::set<int> watched_;
    uint64_t applied_ = 0;
    std::string config_error_;
};

}  // namespace sipedge::ctl
