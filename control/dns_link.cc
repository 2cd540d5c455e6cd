#include "control/dns_link.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "control/number.h"
#include "dns/to_failover.h"

namespace sipedge::ctl {

namespace fo = sipedge::failover;

namespace {

bool is_dns_mode(ServerMode m) { return m >= ServerMode::dns_naptr; }

// "<ip>[:port]" / "[<ipv6>][:port]" (checked by cmd_dns.cc) into a ServerAddr.
Result<dns::ServerAddr> server_addr(const std::string& w) {
    std::string host = w, port;
    if (!w.empty() && w.front() == '[') {
        const size_t close = w.find(']');
        host = w.substr(0, close == std::string::npos ? w.size() : close + 1);
        if (close != std::string::npos && close + 2 <= w.size()) port = w.substr(close + 2);
    } else if (const size_t c = w.find(':'); c != std::string::npos && w.find(':', c + 1) == std::string::npos) {
        host = w.substr(0, c);
        port = w.substr(c + 1);
    }
    const auto ip = dns::IpAddr::parse(host);
    if (!ip) return err(EINVAL, "dns-server: '" + w + "' is not an IP address");
    dns::ServerAddr a;
    a.addr = *ip;
    if (!port.empty()) {
        uint64_t v = 0;
        if (parse_number(port, 1, 65535, v) != NumStatus::ok)  // control/number.h
            return err(EINVAL, "dns-server: bad port in '" + w + "'");
        a.port = uint16_t(v);
    }
    return a;
}

const char* source_text(dns::Source s) {
    switch (s) {
    case dns::Source::network: return "dns";
    case dns::Source::restored: return "restored";
    case dns::Source::static_: return "static";
    case dns::Source::literal: return "literal";
    case dns::Source::none: break;
    }
    return "none";
}

}  // namespace

Result<dns::ResolverConfig> resolver_config(const State& st) {
    dns::ResolverConfig c;
    for (const std::string& w : st.global.dns_servers) {
        auto a = server_addr(w);
        if (!a) return a.error();
        c.channel.servers.push_back(a.value());
    }
    c.cache.restore_enable = st.global.dns_restore;
    c.cache.restore_ttl_s = st.global.dns_restore_ttl_s;
    c.cache.a_network_override = st.global.dns_a_network_override;
    for (const auto& [key, e] : st.dns_cache) {
        switch (key.first) {
        case DnsCacheType::a: {
            const auto ip = dns::IpAddr::parse(e.address);
            if (!ip) return err(EINVAL, "dns-cache a " + std::to_string(key.second) + ": bad address");
            c.cache.static_a.push_back(dns::StaticA{e.name, e.ttl_s, *ip});
            break;
        }
        case DnsCacheType::srv:
            c.cache.static_srv.push_back(dns::StaticSrv{e.name, e.ttl_s, uint16_t(e.priority), uint16_t(e.weight),
                                                        uint16_t(e.port), e.target});
            break;
        case DnsCacheType::naptr:
            c.cache.static_naptr.push_back(dns::StaticNaptr{e.name, e.ttl_s, uint16_t(e.order),
                                                            uint16_t(e.preference), e.flags, e.service, "",
                                                            e.replacement});
            break;
        }
    }
    if (Status s = dns::validate(c); !s) return s.error();
    return c;
}

dns::LocateRequest locate_request(const ServerEntry& e) {
    using T = dns::Transport;
    dns::LocateRequest r;
    r.host = e.host;
    r.port = e.port;
    // The data plane sends to IPv4 addresses (dataplane/): A records only.
    r.families = dns::Families::v4;
    r.naptr = false;
    switch (e.mode) {
    case ServerMode::dns_naptr: r.transports = {T::udp, T::tcp, T::tls}; r.naptr = true; break;
    case ServerMode::udp_only: r.transports = {T::udp}; break;
    case ServerMode::tcp_only: r.transports = {T::tcp}; break;
    case ServerMode::tls_only: r.transports = {T::tls}; break;
    case ServerMode::tcp_preferred: r.transports = {T::tcp, T::udp}; break;
    case ServerMode::udp: r.transports = {T::udp}; break;
    case ServerMode::tcp: r.transports = {T::tcp}; break;
    case ServerMode::tls: r.transports = {T::tls}; break;
    }
    return r;
}

Result<std::unique_ptr<DnsLink>> DnsLink::create(Controller& ctl) {
    std::unique_ptr<DnsLink> d(new DnsLink(ctl));
    d->epfd_ = epoll_create1(EPOLL_CLOEXEC);
    d->tfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (d->epfd_ < 0 || d->tfd_ < 0) return err(errno, std::string("dns: epoll/timerfd: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = d->tfd_;
    if (epoll_ctl(d->epfd_, EPOLL_CTL_ADD, d->tfd_, &ev) != 0)
        return err(errno, std::string("dns: epoll_ctl: ") + std::strerror(errno));
    DnsLink* self = d.get();
    ctl.set_dns(self, [self] { self->sync(); });
    d->sync();
    return d;
}

DnsLink::~DnsLink() {
    if (ctl_.dns() == this) ctl_.set_dns(nullptr, {});
    hosts_.clear();
    by_id_.clear();
    res_.reset();  // closes the c-ares sockets (watch_socket removes them)
    if (tfd_ >= 0) close(tfd_);
    if (epfd_ >= 0) close(epfd_);
}

void DnsLink::watch_socket(int fd, bool rd, bool wr) {
    epoll_event ev{};
    ev.events = (rd ? EPOLLIN : 0u) | (wr ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    if (!rd && !wr) {
        epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);  // EBADF when c-ares closed it first: gone anyway
        watched_.erase(fd);
        return;
    }
    if (watched_.count(fd)) {
        if (epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0) return;
    }
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
        epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
    watched_.insert(fd);
}

void DnsLink::rebuild_resolver() {
    for (auto& [k, h] : hosts_) h.id = 0;
    by_id_.clear();
    res_.reset();
    for (const int fd : watched_) epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    watched_.clear();
    auto cfg = resolver_config(ctl_.state());
    if (!cfg) {
        config_error_ = cfg.error().message;
        return;
    }
    auto r = dns::Resolver::create(std::move(cfg.value()));
    if (!r) {
        config_error_ = r.error().message;
        return;
    }
    config_error_.clear();
    res_ = std::move(r.value());
    res_->set_socket_watch([this](int fd, bool rd, bool wr) { watch_socket(fd, rd, wr); });
}

void DnsLink::start(const Key& k, Host& h) {
    if (!res_) return;
    auto r = res_->start(locate_request(h.entry),
                         [this](dns::LocateId id, const dns::ServerList&, bool) {
                             auto it = by_id_.find(id);
                             if (it != by_id_.end()) dirty_.insert(it->second.first);
                         },
                         ctl_.now());
    if (!r) {
        config_error_ = k.first + " server " + std::to_string(k.second + 1) + ": " + r.error().message;
        return;
    }
    h.id = r.value();
    by_id_[h.id] = k;
    dirty_.insert(k.first);  // the first list may have arrived inside start()
}

void DnsLink::sync() {
    const State& st = ctl_.state();
    const GlobalSettings& g = st.global;
    if (!have_seen_ || g.dns_servers != global_seen_.dns_servers || g.dns_restore != global_seen_.dns_restore ||
        g.dns_restore_ttl_s != global_seen_.dns_restore_ttl_s ||
        g.dns_a_network_override != global_seen_.dns_a_network_override || st.dns_cache != cache_seen_) {
        have_seen_ = true;
        global_seen_ = g;
        cache_seen_ = st.dns_cache;
        rebuild_resolver();
    }
    // Names wanted now: every DNS-mode server of every trunk.
    std::map<Key, const ServerEntry*> want;
    for (const auto& [name, t] : st.trunks)
        for (size_t i = 0; i < t.servers.size(); i++)
            if (t.servers[i] && is_dns_mode(t.servers[i]->mode)) want[{name, i}] = &*t.servers[i];
    for (auto it = hosts_.begin(); it != hosts_.end();) {
        auto w = want.find(it->first);
        if (w != want.end() && *w->second == it->second.entry) {
            ++it;
            continue;
        }
        if (res_ && it->second.id) res_->stop(it->second.id);
        by_id_.erase(it->second.id);
        it = hosts_.erase(it);
    }
    for (const auto& [k, e] : want) {
        auto [it, added] = hosts_.try_emplace(k);
        if (added) it->second.entry = *e;
        if (it->second.id == 0) start(k, it->second);
        dirty_.insert(k.first);  // a rebuilt engine or a server command may have replaced the answer
    }
    apply_dirty();
    arm_timer();
}

void DnsLink::apply(const std::string& trunk) {
    const auto tid = ctl_.engine_id(trunk);
    const auto tc = ctl_.state().trunks.find(trunk);
    if (!tid || tc == ctl_.state().trunks.end() || !res_) return;
    // Slots in order: a resolved name contributes its ranked records, a static
    // server joins the static record before it; an unresolved name is left out.
    const fo::ServerSet configured = to_server_set(tc->second);
    fo::ServerSet set;
    set.from_dns = true;
    bool resolved = false, open_static = false;
    size_t si = 0, total = 0;
    for (size_t i = 0; i < tc->second.servers.size(); i++) {
        const auto& e = tc->second.servers[i];
        if (!e) continue;
        const fo::Target& st = configured.records[0].targets[si++];
        if (is_dns_mode(e->mode)) {
            open_static = false;
            auto h = hosts_.find({trunk, i});
            const dns::ServerList* l = h == hosts_.end() || !h->second.id ? nullptr : res_->current(h->second.id);
            if (!l || l->records.empty()) continue;
            for (fo::ServiceRecord& r : dns::to_server_set(*l).records) {
                if (total + r.targets.size() > fo::max_servers) r.targets.resize(fo::max_servers - total);
                if (r.targets.empty()) continue;
                total += r.targets.size();
                set.records.push_back(std::move(r));
                resolved = true;
            }
            continue;
        }
        if (total >= fo::max_servers) continue;
        if (!open_static) {
            fo::ServiceRecord r;
            r.transport = st.transport;
            set.records.push_back(std::move(r));
            open_static = true;
        }
        set.records.back().targets.push_back(st);
        total++;
    }
    if (!resolved) return;  // nothing resolved yet: the engine keeps the configured set
    // Already in the engine (same endpoints, same order)? Then nothing to do.
    if (const fo::Trunk* t = ctl_.engine().trunk(*tid)) {
        size_t n = 0;
        bool same = true;
        for (const fo::ServiceRecord& r : set.records)
            for (const fo::Target& tg : r.targets) {
                same = same && n < t->servers.size() && fo::same_endpoint(t->servers[n].target, tg) &&
                       t->servers[n].target.priority == tg.priority;
                n++;
            }
        if (same && n == t->servers.size()) return;
    }
    if (ctl_.engine().update_servers(*tid, set, ctl_.now()) == fo::ConfigError::ok) {
        applied_++;
        // A server new in the answer at a maintenance address starts in
        // maintenance (the ones kept follow their endpoint in the engine).
        apply_maintenance(ctl_.engine(), *tid, tc->second, ctl_.now());
    }
}

void DnsLink::apply_dirty() {
    std::set<std::string> d;
    d.swap(dirty_);
    for (const std::string& t : d) apply(t);
}

void DnsLink::arm_timer() {
    itimerspec its{};
    if (res_) {
        const dns::Millis now = ctl_.now();
        const dns::Millis at = res_->next_deadline(now);
        if (at != dns::never_ms) {
            const dns::Millis delta = at > now ? at - now : 1;
            its.it_value.tv_sec = time_t(delta / 1000);
            its.it_value.tv_nsec = long(delta % 1000) * 1000000L;
        }
    }
    timerfd_settime(tfd_, 0, &its, nullptr);  // all zero: disarmed
}

void DnsLink::on_ready() {
    epoll_event evs[32];
    const int n = epoll_wait(epfd_, evs, 32, 0);
    for (int i = 0; i < n; i++) {
        const int fd = evs[i].data.fd;
        if (fd == tfd_) {
            uint64_t x;
            while (read(tfd_, &x, sizeof x) == ssize_t(sizeof x)) {}
            continue;
        }
        if (!res_) continue;
        const bool rd = evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP);
        res_->on_fd(fd, rd, evs[i].events & EPOLLOUT, ctl_.now());
    }
    if (res_) {
        const dns::Millis now = ctl_.now();
        if (res_->next_deadline(now) <= now) res_->on_timer(now);
    }
    apply_dirty();
    arm_timer();
}

void DnsLink::poll(int timeout_ms) {
    epoll_event ev;
    // epoll on the epoll fd itself: returns when anything inside is ready.
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return;
    epoll_event reg{};
    reg.events = EPOLLIN;
    reg.data.fd = epfd_;
    epoll_ctl(ep, EPOLL_CTL_ADD, epfd_, &reg);
    epoll_wait(ep, &ev, 1, timeout_ms);
    close(ep);
    on_ready();
}

Json DnsLink::show() const {
    const dns::Millis now = ctl_.now();
    Json hosts = Json::array();
    for (const auto& [k, h] : hosts_) {
        Json j = Json::object();
        j.set("trunk", k.first);
        j.set("server", unsigned(k.second + 1));
        j.set("host", h.entry.host);
        j.set("transport", server_mode_name(h.entry.mode));
        const dns::ServerList* l = res_ && h.id ? res_->current(h.id) : nullptr;
        j.set("source", l ? source_text(l->source) : "none");
        j.set("status", l ? dns::to_string(l->status) : "no_answer");
        if (l && !l->error.empty()) j.set("error", l->error);
        Json answers = Json::array();
        if (l)
            for (const dns::Target* t : l->flat()) {
                Json a = Json::object();
                a.set("answer", t->addr.to_string() + ":" + std::to_string(t->port));
                a.set("target", t->host);
                a.set("transport", dns::to_string(t->transport));
                a.set("priority", unsigned(t->priority));
                a.set("weight", unsigned(t->weight));
                a.set("ttl", t->ttl_s);
                answers.push(std::move(a));
            }
        j.set("answers", std::move(answers));
        j.set("expires_in_ms", l && l->expires_at != dns::never_ms && l->expires_at > now
                                   ? Json(uint64_t(l->expires_at - now)) : Json(nullptr));
        j.set("updates", l ? Json(l->generation) : Json(0u));
        hosts.push(std::move(j));
    }
    Json qs = Json::array();
    if (res_)
        for (const dns::NameStatus& s : res_->name_status()) {
            Json j = Json::object();
            j.set("name", s.question.name);
            j.set("type", dns::to_string(s.question.type));
            j.set("source", source_text(s.source));
            j.set("status", dns::to_string(s.status));
            j.set("records", uint64_t(s.records));
            j.set("queries", s.queries);
            j.set("failures", s.failures);
            j.set("restores", s.restores);
            j.set("static_uses", s.static_uses);
            if (s.last_error != dns::AnswerStatus::ok) {
                j.set("last_error", dns::to_string(s.last_error));
                if (!s.last_error_detail.empty()) j.set("last_error_detail", s.last_error_detail);
            }
            qs.push(std::move(j));
        }
    Json out = Json::object();
    out.set("hosts", std::move(hosts));
    out.set("questions", std::move(qs));
    out.set("applied", applied_);
    if (!config_error_.empty()) out.set("config_error", config_error_);
    return out;
}

}  // namespace sipedge::ctl
