#pragma once
// Per-question answer cache with seed P's two DNS-failure mitigations:
//
//  - Dynamic cache restore (dns.cache.dynamicRestore.enable / .ttl): when the
//    server gives no answer or is unreachable, the last good answer is used
//    again, past its TTL, for the restore TTL. Never on a negative answer
//    (NXDOMAIN, no records) or an error answer (SERVFAIL, REFUSED, FORMERR,
//    NOTIMP): "Dynamic DNS Cache Restore *will not* restore a record if a DNS
//    server responds, but that response is a negative response ... or an error
//    response". A restored answer is used once; if the network still fails
//    when it expires, static records (or the failure) follow.
//  - Static records (dns.cache.{A,SRV,NAPTR}.x.*): "Should a DNS query fail to
//    receive a response, or receive a negative response, the phone will check
//    the configured static cache for a result and use that result for the TTL
//    duration defined. Once the TTL has expired, a network-based query is once
//    again attempted." With dns.cache.A.networkOverride a static A (or AAAA)
//    record is used before the network is asked at all.
//
// Pure: time is passed in as <now>; no I/O. Control thread only.
// Memory: one Entry per distinct question asked (names of configured trunks
// and their SRV targets), each holding at most two answers (in use, last good).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "dns/records.h"
#include "dns/types.h"

namespace sipedge::dns {

/// seed P dns.cache.A.x.* (an IPv6 address here serves AAAA questions).
struct StaticA {
    std::string name;
    uint32_t ttl_s = 300;  // 0–65535
    IpAddr addr;
};

/// seed P dns.cache.SRV.x.*
struct StaticSrv {
    std::string name;  // "_sip._udp.example.com"
    uint32_t ttl_s = 300;
    uint16_t priority = 0, weight = 0, port = 0;
    std::string target;
};

/// seed P dns.cache.NAPTR.x.* (preference is a number here; the seed lists it as a string).
struct StaticNaptr {
    std::string name;
    uint32_t ttl_s = 300;
    uint16_t order = 0, preference = 0;
    std::string flags, service, regexp, replacement;
};

/// Cap on how long a negative answer is cached (RFC 2308 §5 suggests 1–3 hours).
inline constexpr uint32_t max_negative_ttl_s = 3600;

/// Records per type. seed P allows 18 of each; sipedge serves more trunks.
inline constexpr size_t max_static_records = 256;

struct CacheConfig {
    bool restore_enable = false;    // seed P dns.cache.dynamicRestore.enable, default 0
    uint32_t restore_ttl_s = 120;   // seed P dns.cache.dynamicRestore.ttl, 90–600 s, default 120
    bool a_network_override = false;  // seed P dns.cache.A.networkOverride, default 0
    std::vector<StaticA> static_a;
    std::vector<StaticSrv> static_srv;
    std::vector<StaticNaptr> static_naptr;
    /// How long a failure with nothing to fall back on is kept before the
    /// network is asked again, when the answer carries no SOA negative TTL
    /// (no seed knob; 1–3600 s).
    uint32_t failure_retry_s = 10;
    /// Floor for record TTLs so a TTL of 0 does not turn into a query loop (1–60 s).
    uint32_t min_ttl_s = 1;
    /// Ask again this long before a network answer expires (background refresh),
    /// at most half its TTL. 0–60000 ms.
    uint32_t refresh_lead_ms = 1000;
};

/// Range-checks every knob (seed P ranges) and every static record.
Status validate(const CacheConfig& cfg);

/// What the cache holds for one question: the answer in use, and why.
struct CacheEntry {
    Answer answer;            // in use: records (status ok) or the failure
    Source source = Source::none;
    Millis fetched_at = 0;    // when the answer in use was decided
    Millis expires_at = 0;    // when it stops being used
    Millis refresh_at = 0;    // when to ask the network again (<= expires_at)
    // The last good network answer, kept for dynamic restore.
    Answer last_good;
    bool has_last_good = false;
    bool last_good_restored = false;  // already served once as restored
    Millis last_good_at = 0;
    // Last failure from the network, for `show dns`.
    AnswerStatus last_error = AnswerStatus::ok;
    std::string last_error_detail;
    Millis last_error_at = 0;
    uint64_t queries = 0, failures = 0, restores = 0, static_uses = 0;
};

/// One row of `show dns`: per name and type, the answer in use.
struct NameStatus {
    Question question;
    Source source = Source::none;
    AnswerStatus status = AnswerStatus::no_answer;
    size_t records = 0;
    Millis expires_at = 0;
    AnswerStatus last_error = AnswerStatus::ok;
    std::string last_error_detail;
    Millis last_error_at = 0;
    uint64_t queries = 0, failures = 0, restores = 0, static_uses = 0;
};

class Cache {
public:
    /// <cfg> must have passed validate().
    explicit Cache(CacheConfig cfg);

    /// The entry to use for <q> at <now> without asking the network, or null
    /// when the network must be asked: an entry before its refresh time, or a
    /// static A/AAAA record when networkOverride is on.
    const CacheEntry* lookup(const Question& q, Millis now);

    /// Records the network's <answer> for <q> at <now> and returns the entry
    /// now in use: the answer itself, a restored or static answer, or the failure.
    const CacheEntry& on_network_answer(const Question& q, Answer answer, Millis now);

    std::vector<NameStatus> status() const;
    const CacheEntry* find(const Question& q) const;
    const CacheConfig& config() const { return cfg_; }

    /// Test hook: restore TTL in milliseconds, below the seed's 90 s floor, so
    /// an integration test can watch a restore expire. Never used by sipedge.
    void test_only_set_restore_ttl_ms(Millis ms) { restore_ttl_ms_ = ms; }

private:
    bool use_static(const Question& q, CacheEntry& e, Millis now);
    Millis ttl_ms(uint32_t ttl_s) const;

    CacheConfig cfg_;
    Millis restore_ttl_ms_;
    std::map<Question, Answer> statics_;  // grouped by name and type; ttl in each record
    std::map<Question, CacheEntry> entries_;
};

}  // namespace sipedge::dns
