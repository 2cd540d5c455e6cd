#include "dns/locator.h"

#include <algorithm>
#include <utility>

namespace sipedge::dns {
namespace {

// RFC 3263 §4.1 NAPTR services for SIP, and the SRV prefix of each transport.
struct ServiceName {
    const char* naptr;
    const char* srv_prefix;
    Transport transport;
};
constexpr ServiceName service_names[] = {
    {"SIP+D2U", "_sip._udp.", Transport::udp},
    {"SIP+D2T", "_sip._tcp.", Transport::tcp},
    {"SIPS+D2T", "_sips._tcp.", Transport::tls},
};

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); i++) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z') x = char(x - 32);
        if (y >= 'a' && y <= 'z') y = char(y - 32);
        if (x != y)
            return false;
    }
    return true;
}

// Weakest source wins: a list that used one static answer is reported static.
int source_rank(Source s) {
    switch (s) {
    case Source::none: return 0;
    case Source::literal: return 1;
    case Source::network: return 2;
    case Source::restored: return 3;
    case Source::static_: return 4;
    }
    return 0;
}

}  // namespace

bool valid_request(const LocateRequest& req, std::string* why) {
    auto fail = [&](const char* w) {
        if (why) *why = w;
        return false;
    };
    if (req.host.empty() || req.host.size() > 253 + 2)
        return fail("host must be 1..253 characters");
    if (req.transports.empty() || req.transports.size() > 3)
        return fail("transports must list 1..3 transports");
    for (size_t i = 0; i < req.transports.size(); i++)
        for (size_t j = i + 1; j < req.transports.size(); j++)
            if (req.transports[i] == req.transports[j])
                return fail("transports must not repeat");
    if (req.max_addresses < 1 || req.max_addresses > 256)
        return fail("max_addresses must be 1..256");
    return true;
}

Locator::Locator(LocateRequest req, Rng rng)
    : req_(std::move(req)), host_(normalize_name(req_.host)), rng_(std::move(rng)) {
    out_.expires_at = never_ms;
    out_.status = AnswerStatus::ok;  // until a failure is noted
    // RFC 3263 §4.2: a numeric IP needs no lookup; port from the URI or the
    // transport's default.
    if (std::optional<IpAddr> ip = IpAddr::parse(req_.host)) {
        const Transport t = req_.transports.empty() ? Transport::udp : req_.transports.front();
        Service s;
        s.transport = t;
        s.port = req_.port ? req_.port : default_port(t);
        services_.push_back(s);
        Addrs& a = addrs_[host_];
        (ip->family == 4 ? a.v4 : a.v6).push_back(AddrRr{*ip, 0});
        literal_source_ = Source::literal;
        phase_ = Phase::done;
        return;
    }
    if (req_.port != 0) {
        // seed P: "because the port of 5060 is explicitly configured, PVOS will
        // not send an SRV query at all and instead make an A record query directly".
        start_host_addresses(req_.transports.front(), req_.port);
        return;
    }
    if (req_.naptr) {
        phase_ = Phase::naptr;
        ask(Question{host_, RrType::naptr});
        return;
    }
    start_srv_for_transports();
}

void Locator::ask(Question q) {
    if (asked_.insert(q).second) {
        pending_.insert(q);
        to_ask_.push_back(std::move(q));
    }
}

std::vector<Question> Locator::take_questions() {
    std::vector<Question> out;
    out.swap(to_ask_);
    return out;
}

void Locator::start_srv_for_transports() {
    // RFC 3263 §4.1: "If no NAPTR records are found, the client constructs SRV
    // queries for those transport protocols it supports"; here in the trunk's
    // order of preference.
    phase_ = Phase::srv;
    services_.clear();
    uint16_t order = 0;
    for (Transport t : req_.transports) {
        Service s;
        s.order = order++;
        s.transport = t;
        s.srv_name = std::string(service_names[size_t(t)].srv_prefix) + host_;
        services_.push_back(s);
        ask(Question{s.srv_name, RrType::srv});
    }
}

void Locator::start_host_addresses(Transport t, uint16_t port) {
    phase_ = Phase::addr;
    services_.clear();
    Service s;
    s.transport = t;
    s.port = port;
    services_.push_back(s);
    ask_addresses(host_);
}

void Locator::ask_addresses(const std::string& host) {
    if (std::optional<IpAddr> ip = IpAddr::parse(host)) {
        // An SRV target should be a name (RFC 2782) but an address costs nothing.
        Addrs& a = addrs_[host];
        std::vector<AddrRr>& v = ip->family == 4 ? a.v4 : a.v6;
        if (v.empty())
            v.push_back(AddrRr{*ip, 0});
        return;
    }
    if (req_.families != Families::v6)
        ask(Question{host, RrType::a});
    if (req_.families != Families::v4)
        ask(Question{host, RrType::aaaa});
}

void Locator::note(const Question& q, const Answer& a, Source src, Millis expires_at) {
    if (a.status == AnswerStatus::ok) {
        // A list lives as long as the answers it is made of; failures on the
        // way (an AAAA with no data) only say when to ask again.
        out_.expires_at = std::min(out_.expires_at, expires_at);
        if (source_rank(src) > source_rank(out_.source))
            out_.source = src;
        return;
    }
    fail_expires_at_ = std::min(fail_expires_at_, expires_at);
    out_.status = a.status;  // the latest failure, reported when nothing usable remains
    out_.error = q.name + " " + to_string(q.type) + ": " + to_string(a.status) +
                 (a.detail.empty() ? "" : " (" + a.detail + ")");
}

void Locator::on_answer(const Question& q, const Answer& a, Source src, Millis expires_at) {
    if (pending_.erase(q) == 0)
        return;
    note(q, a, src, expires_at);

    switch (q.type) {
    case RrType::naptr: {
        std::vector<Service> found;
        if (a.status == AnswerStatus::ok) {
            for (const NaptrRr& n : a.naptr) {
                // RFC 3263 §4.1: SIP NAPTRs carry flag "s" and an empty regexp;
                // others are not for us.
                if (!iequals(n.flags, "s") || !n.regexp.empty() || n.replacement.empty())
                    continue;
                for (const ServiceName& sn : service_names) {
                    if (!iequals(n.service, sn.naptr))
                        continue;
                    if (std::find(req_.transports.begin(), req_.transports.end(), sn.transport) ==
                        req_.transports.end())
                        continue;  // only the transports the trunk allows
                    Service s;
                    s.order = n.order;
                    s.preference = n.preference;
                    s.transport = sn.transport;
                    s.srv_name = normalize_name(n.replacement);
                    found.push_back(s);
                }
            }
        }
        // RFC 3403 §4.1 / RFC 2915: lowest order first, then lowest preference.
        std::stable_sort(found.begin(), found.end(), [](const Service& x, const Service& y) {
            return x.order != y.order ? x.order < y.order : x.preference < y.preference;
        });
        if (found.empty()) {
            start_srv_for_transports();
        } else {
            phase_ = Phase::srv;
            services_ = std::move(found);
            for (const Service& s : services_)
                ask(Question{s.srv_name, RrType::srv});
        }
        break;
    }
    case RrType::srv:
        for (Service& s : services_) {
            if (s.srv_name != q.name || a.status != AnswerStatus::ok)
                continue;
            const std::vector<size_t> order = order_srv(a.srv, rng_);
            s.targets.clear();
            for (size_t i : order) {
                if (s.targets.size() >= req_.max_addresses)
                    break;  // each target gives at least one address; no need to look further
                s.targets.push_back(a.srv[i]);
                ask_addresses(a.srv[i].target);
            }
            if (!s.targets.empty())
                any_srv_ = true;
        }
        break;
    case RrType::a:
    case RrType::aaaa:
        if (a.status == AnswerStatus::ok) {
            Addrs& dst = addrs_[q.name];
            (q.type == RrType::a ? dst.v4 : dst.v6) = a.addrs;
        }
        break;
    }
    advance();
}

void Locator::advance() {
    if (!pending_.empty() || !to_ask_.empty())
        return;
    if (phase_ == Phase::srv && !any_srv_) {
        // seed P: "In the SRV query fails, PVOS will try the same address again
        // as an A record and assume port 5060" (RFC 3263 §4.2: 5061 for TLS).
        // An SRV set of only "." (RFC 2782: service decidedly not available)
        // counts as failed here too: the seed gives no exception for it.
        const Transport t = services_.empty() ? req_.transports.front() : services_.front().transport;
        start_host_addresses(t, default_port(t));
        if (!pending_.empty() || !to_ask_.empty())
            return;
    }
    phase_ = Phase::done;
}

ServerList Locator::result() const {
    ServerList out = out_;
    if (literal_source_ != Source::none)
        out.source = literal_source_;
    for (const Service& s : services_) {
        ServiceRecord rec;
        rec.order = s.order;  // NAPTR order, or the index in the trunk's transport list
        rec.preference = s.preference;
        rec.transport = s.transport;
        rec.srv_name = s.srv_name;
        auto add = [&](const std::string& host, uint16_t port, uint16_t prio, uint16_t weight,
                       uint32_t srv_ttl) {
            auto it = addrs_.find(host);
            if (it == addrs_.end())
                return;
            for (const std::vector<AddrRr>* v : {&it->second.v4, &it->second.v6})
                for (const AddrRr& ar : *v) {
                    if (rec.targets.size() >= req_.max_addresses)
                        return;
                    Target t;
                    t.host = host;
                    t.addr = ar.addr;
                    t.port = port;
                    t.priority = prio;
                    t.weight = weight;
                    t.ttl_s = srv_ttl ? std::min(srv_ttl, ar.ttl_s) : ar.ttl_s;
                    t.transport = s.transport;
                    rec.targets.push_back(std::move(t));
                }
        };
        if (s.srv_name.empty())
            add(host_, s.port, 0, 0, 0);
        else
            for (const SrvRr& r : s.targets)
                add(r.target, r.port, r.priority, r.weight, r.ttl_s);
        if (!rec.targets.empty())
            out.records.push_back(std::move(rec));
    }
    if (!out.records.empty()) {
        out.status = AnswerStatus::ok;
    } else {
        if (out.status == AnswerStatus::ok)
            out.status = AnswerStatus::nodata;  // answers, but none led to an address
        out.expires_at = fail_expires_at_;
        out.source = Source::none;
    }
    return out;
}

}  // namespace sipedge::dns
