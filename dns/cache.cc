#include "dns/cache.h"

#include <algorithm>
#include <cerrno>
#include <utility>

namespace sipedge::dns {
namespace {

Status invalid(std::string msg) { return Error{EINVAL, std::move(msg)}; }

}  // namespace

Status validate(const CacheConfig& cfg) {
    // seed P: dns.cache.dynamicRestore.ttl "90 to 600, seconds".
    if (cfg.restore_ttl_s < 90 || cfg.restore_ttl_s > 600)
        return invalid("dns.cache.dynamicRestore.ttl must be 90..600 s");
    if (cfg.static_a.size() > max_static_records || cfg.static_srv.size() > max_static_records ||
        cfg.static_naptr.size() > max_static_records)
        return invalid("at most " + std::to_string(max_static_records) + " static records per type");
    // seed P: dns.cache.*.x.ttl "0 to 65535, seconds".
    for (const StaticA& r : cfg.static_a) {
        if (r.name.empty() || r.ttl_s > 65535 || (r.addr.family != 4 && r.addr.family != 6))
            return invalid("dns.cache.A: needs a name, an address and ttl 0..65535");
    }
    for (const StaticSrv& r : cfg.static_srv) {
        if (r.name.empty() || r.target.empty() || r.ttl_s > 65535)
            return invalid("dns.cache.SRV: needs a name, a target and ttl 0..65535");
    }
    for (const StaticNaptr& r : cfg.static_naptr) {
        if (r.name.empty() || r.replacement.empty() || r.ttl_s > 65535)
            return invalid("dns.cache.NAPTR: needs a name, a replacement and ttl 0..65535");
    }
    if (cfg.failure_retry_s < 1 || cfg.failure_retry_s > 3600)
        return invalid("failure retry must be 1..3600 s");
    if (cfg.min_ttl_s < 1 || cfg.min_ttl_s > 60)
        return invalid("minimum TTL must be 1..60 s");
    if (cfg.refresh_lead_ms > 60000)
        return invalid("refresh lead must be 0..60000 ms");
    return Ok{};
}

Cache::Cache(CacheConfig cfg) : cfg_(std::move(cfg)), restore_ttl_ms_(Millis(cfg_.restore_ttl_s) * 1000) {
    for (const StaticA& r : cfg_.static_a) {
        Answer& a = statics_[Question{normalize_name(r.name), r.addr.family == 6 ? RrType::aaaa : RrType::a}];
        a.status = AnswerStatus::ok;
        a.addrs.push_back(AddrRr{r.addr, r.ttl_s});
    }
    for (const StaticSrv& r : cfg_.static_srv) {
        Answer& a = statics_[Question{normalize_name(r.name), RrType::srv}];
        a.status = AnswerStatus::ok;
        a.srv.push_back(SrvRr{r.priority, r.weight, r.port, normalize_name(r.target), r.ttl_s});
    }
    for (const StaticNaptr& r : cfg_.static_naptr) {
        Answer& a = statics_[Question{normalize_name(r.name), RrType::naptr}];
        a.status = AnswerStatus::ok;
        a.naptr.push_back(NaptrRr{r.order, r.preference, r.flags, r.service, r.regexp,
                                  normalize_name(r.replacement), r.ttl_s});
    }
}

Millis Cache::ttl_ms(uint32_t ttl_s) const {
    return Millis(std::max(ttl_s, cfg_.min_ttl_s)) * 1000;
}

bool Cache::use_static(const Question& q, CacheEntry& e, Millis now) {
    auto it = statics_.find(q);
    if (it == statics_.end())
        return false;
    e.answer = it->second;
    e.source = Source::static_;
    e.fetched_at = now;
    // seed P: "use that result for the TTL duration defined. Once the TTL has
    // expired, a network-based query is once again attempted."
    e.expires_at = e.refresh_at = now + ttl_ms(it->second.min_ttl_s());
    e.static_uses++;
    return true;
}

const CacheEntry* Cache::lookup(const Question& q, Millis now) {
    const bool addr = q.type == RrType::a || q.type == RrType::aaaa;
    if (cfg_.a_network_override && addr && statics_.count(q)) {
        // seed P dns.cache.A.networkOverride: static A before the network.
        CacheEntry& e = entries_[q];
        if (e.source != Source::static_ || e.refresh_at <= now)
            use_static(q, e, now);
        return &e;
    }
    auto it = entries_.find(q);
    if (it != entries_.end() && it->second.refresh_at > now)
        return &it->second;
    return nullptr;
}

const CacheEntry& Cache::on_network_answer(const Question& q, Answer answer, Millis now) {
    CacheEntry& e = entries_[q];
    e.queries++;
    if (answer.status == AnswerStatus::ok) {
        const Millis ttl = ttl_ms(answer.min_ttl_s());
        e.last_good = answer;
        e.has_last_good = true;
        e.last_good_restored = false;
        e.last_good_at = now;
        e.answer = std::move(answer);
        e.source = Source::network;
        e.fetched_at = now;
        e.expires_at = now + ttl;
        // Background refresh: ask again a little before expiry (at most half the
        // TTL early) so the list in use never lapses while the network is up.
        e.refresh_at = e.expires_at - std::min<Millis>(cfg_.refresh_lead_ms, ttl / 2);
        return e;
    }

    e.failures++;
    e.last_error = answer.status;
    e.last_error_detail = answer.detail;
    e.last_error_at = now;
    if (answer.status == AnswerStatus::nxdomain || answer.status == AnswerStatus::nodata)
        e.has_last_good = false;  // the name is gone: nothing to restore later either

    // An early refresh failed while the answer in use is still within its TTL:
    // keep it, and ask again when it expires.
    if (e.answer.status == AnswerStatus::ok && e.source == Source::network && e.expires_at > now) {
        e.refresh_at = e.expires_at;
        return e;
    }
    // seed P dynamicRestore: only when the server "fails to respond in any way"
    // or is unreachable; a restored value is "temporary", used for the restore TTL.
    if (answer.status == AnswerStatus::no_answer && cfg_.restore_enable && e.has_last_good &&
        !e.last_good_restored) {
        e.answer = e.last_good;
        e.source = Source::restored;
        e.fetched_at = now;
        e.expires_at = e.refresh_at = now + restore_ttl_ms_;
        e.last_good_restored = true;
        e.restores++;
        return e;
    }
    // seed P static cache: on no response or a negative response.
    if (use_static(q, e, now))
        return e;
    // Negative answers are remembered as long as the zone allows (RFC 2308
    // §5, from the SOA), other failures for failure_retry_s.
    Millis hold = Millis(cfg_.failure_retry_s) * 1000;
    if (answer.negative_ttl_s > 0)
        hold = ttl_ms(std::min<uint32_t>(answer.negative_ttl_s, max_negative_ttl_s));
    e.answer = std::move(answer);
    e.source = Source::none;
    e.fetched_at = now;
    e.expires_at = e.refresh_at = now + hold;
    return e;
}

const CacheEntry* Cache::find(const Question& q) const {
    auto it = entries_.find(q);
    return it == entries_.end() ? nullptr : &it->second;
}

std::vector<NameStatus> Cache::status() const {
    std::vector<NameStatus> out;
    out.reserve(entries_.size());
    for (const auto& [q, e] : entries_) {
        NameStatus s;
        s.question = q;
        s.source = e.source;
        s.status = e.answer.status;
        s.records = e.answer.size();
        s.expires_at = e.expires_at;
        s.last_error = e.last_error;
        s.last_error_detail = e.last_error_detail;
        s.last_error_at = e.last_error_at;
        s.queries = e.queries;
        s.failures = e.failures;
        s.restores = e.restores;
        s.static_uses = e.static_uses;
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace sipedge::dns
