// The cache's restore/static state machine on an injected clock: seed P
// dynamicRestore (only on no answer, once, for its TTL), static records (on
// failure or negative answers, for their TTL, then the network again),
// networkOverride, background refresh times, and knob validation.

#include "dns/cache.h"

#include <gtest/gtest.h>

#include <string>

namespace sipedge::dns {
namespace {

constexpr Millis s = 1000;

Answer a_answer(const char* ip, uint32_t ttl) {
    Answer a;
    a.status = AnswerStatus::ok;
    a.addrs.push_back(AddrRr{*IpAddr::parse(ip), ttl});
    return a;
}

std::string addr_of(const CacheEntry& e) {
    return e.answer.addrs.empty() ? "" : e.answer.addrs[0].addr.to_string();
}

const Question q_a{"sbc.example.com", RrType::a};

CacheConfig restore_on() {
    CacheConfig c;
    c.restore_enable = true;
    c.restore_ttl_s = 120;
    return c;
}

TEST(Cache, NetworkAnswerUsedForItsTtlAndRefreshedEarly) {
    CacheConfig c;
    c.refresh_lead_ms = 1000;
    Cache cache(c);
    EXPECT_EQ(cache.lookup(q_a, 0), nullptr);
    const CacheEntry& e = cache.on_network_answer(q_a, a_answer("192.0.2.1", 60), 10 * s);
    EXPECT_EQ(e.source, Source::network);
    EXPECT_EQ(e.expires_at, 70 * s);
    EXPECT_EQ(e.refresh_at, 69 * s);
    EXPECT_NE(cache.lookup(q_a, 68 * s), nullptr);
    EXPECT_EQ(cache.lookup(q_a, 69 * s), nullptr) << "due for background refresh";
    // Short TTLs refresh at most half their TTL early; TTL 0 is floored to 1 s.
    const CacheEntry& e2 = cache.on_network_answer(q_a, a_answer("192.0.2.1", 0), 100 * s);
    EXPECT_EQ(e2.expires_at, 101 * s);
    EXPECT_EQ(e2.refresh_at, 100 * s + 500);
}

TEST(Cache, RestoreOnNoAnswerForRestoreTtlOnce) {
    Cache cache(restore_on());
    cache.on_network_answer(q_a, a_answer("192.0.2.1", 60), 0);
    // At expiry the server does not answer: the last good answer is restored.
    const CacheEntry& e = cache.on_network_answer(q_a, Answer::failure(AnswerStatus::no_answer, "timeout"), 60 * s);
    EXPECT_EQ(e.source, Source::restored);
    EXPECT_EQ(addr_of(e), "192.0.2.1");
    EXPECT_EQ(e.expires_at, 180 * s);  // seed P: restored record lives for .ttl
    EXPECT_EQ(e.last_error, AnswerStatus::no_answer);
    EXPECT_NE(cache.lookup(q_a, 179 * s), nullptr);
    EXPECT_EQ(cache.lookup(q_a, 180 * s), nullptr) << "then the network is asked again";
    // Still no answer: a restored value is temporary, it is not restored again.
    const CacheEntry& e2 = cache.on_network_answer(q_a, Answer::failure(AnswerStatus::no_answer, "timeout"), 180 * s);
    EXPECT_EQ(e2.source, Source::none);
    EXPECT_EQ(e2.answer.status, AnswerStatus::no_answer);
    EXPECT_EQ(e2.restores, 1u);
    // The network comes back: a fresh answer, which may be restored again later.
    cache.on_network_answer(q_a, a_answer("192.0.2.2", 60), 200 * s);
    const CacheEntry& e3 = cache.on_network_answer(q_a, Answer::failure(AnswerStatus::no_answer, "refused"), 260 * s);
    EXPECT_EQ(e3.source, Source::restored);
    EXPECT_EQ(addr_of(e3), "192.0.2.2");
}

TEST(Cache, NoRestoreWhenDisabled) {
    Cache cache(CacheConfig{});  // seed P default: dynamicRestore.enable = 0
    cache.on_network_answer(q_a, a_answer("192.0.2.1", 60), 0);
    const CacheEntry& e = cache.on_network_answer(q_a, Answer::failure(AnswerStatus::no_answer, "timeout"), 60 * s);
    EXPECT_EQ(e.source, Source::none);
    EXPECT_EQ(e.answer.status, AnswerStatus::no_answer);
}

TEST(Cache, NeverRestoreOnNegativeOrErrorAnswers) {
    for (AnswerStatus st : {AnswerStatus::nxdomain, AnswerStatus::nodata, AnswerStatus::error_answer}) {
        Cache cache(restore_on());
        cache.on_network_answer(q_a, a_answer("192.0.2.1", 60), 0);
        const CacheEntry& e = cache.on_network_answer(q_a, Answer::failure(st, "x"), 60 * s);
        EXPECT_EQ(e.source, Source::none) << to_string(st);
        EXPECT_EQ(e.answer.status, st);
        EXPECT_EQ(e.restores, 0u);
    }
    // After NXDOMAIN the old answer is gone for good: a later outage restores nothing.
    Cache cache(restore_on());
    cache.on_network_answer(q_a, a_answer("192.0.2.1", 60), 0);
    cache.on_network_answer(q_a, Answer::failure(AnswerStatus::nxdomain, "x"), 60 * s);
    const CacheEntry& e = cache.on_network_answer(q_a, Answer::failure(AnswerStatus::no_answer, "x"), 80 * s);
    EXPECT_EQ(e.source, Source::none);
}

TEST(Cache, FailedEarlyRefreshKeepsTheAnswerUntilItExpires) {
    CacheConfig c;
    c.refresh_lead_ms = 5000;
    Cache cache(c);
    cache.on_network_answer(q_a, a_answer("192.0.2.1", 60), 0);
    const CacheEntry& e = cache.on_network_answer(q_a, Answer::failure(AnswerStatus::no_answer, "timeout"), 56 * s);
    EXPECT_EQ(e.source, Source::network);
    EXPECT_EQ(e.refresh_at, 60 * s);
    EXPECT_EQ(e.last_error, AnswerStatus::no_answer);
    EXPECT_EQ(e.failures, 1u);
}

TEST(Cache, StaticOnFailureAndNegativeForItsTtlThenNetwork) {
    CacheConfig c;
    c.static_a.push_back(StaticA{"SBC.example.com.", 30, *IpAddr::parse("198.51.100.7")});
    for (AnswerStatus st : {AnswerStatus::no_answer, AnswerStatus::nxdomain, AnswerStatus::nodata,
                            AnswerStatus::error_answer}) {
        Cache cache(c);
        const CacheEntry& e = cache.on_network_answer(q_a, Answer::failure(st, "x"), 5 * s);
        EXPECT_EQ(e.source, Source::static_) << to_string(st);
        EXPECT_EQ(addr_of(e), "198.51.100.7");
        EXPECT_EQ(e.expires_at, 35 * s);
        EXPECT_EQ(e.last_error, st);
        EXPECT_NE(cache.lookup(q_a, 34 * s), nullptr);
        EXPECT_EQ(cache.lookup(q_a, 35 * s), nullptr) << "network tried again after the static TTL";
    }
}

TEST(Cache, RestoreFirstThenStatic) {
    CacheConfig c = restore_on();
    c.static_a.push_back(StaticA{"sbc.example.com", 300, *IpAddr::parse("198.51.100.7")});
    Cache cache(c);
    cache.test_only_set_restore_ttl_ms(3 * s);
    cache.on_network_answer(q_a, a_answer("192.0.2.1", 2), 0);
    const Answer down = Answer::failure(AnswerStatus::no_answer, "refused");
    EXPECT_EQ(cache.on_network_answer(q_a, down, 2 * s).source, Source::restored);
    EXPECT_EQ(cache.lookup(q_a, 4 * s)->expires_at, 5 * s);
    const CacheEntry& e = cache.on_network_answer(q_a, down, 5 * s);
    EXPECT_EQ(e.source, Source::static_);
    EXPECT_EQ(addr_of(e), "198.51.100.7");
    EXPECT_EQ(e.expires_at, 305 * s);
}

TEST(Cache, NetworkOverrideUsesStaticAWithoutAsking) {
    CacheConfig c;
    c.a_network_override = true;
    c.static_a.push_back(StaticA{"sbc.example.com", 10, *IpAddr::parse("198.51.100.7")});
    c.static_a.push_back(StaticA{"sbc.example.com", 20, *IpAddr::parse("2001:db8::7")});
    Cache cache(c);
    const CacheEntry* e = cache.lookup(q_a, 0);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->source, Source::static_);
    EXPECT_EQ(addr_of(*e), "198.51.100.7");
    EXPECT_EQ(e->queries, 0u);
    const CacheEntry* e6 = cache.lookup(Question{"sbc.example.com", RrType::aaaa}, 0);
    ASSERT_NE(e6, nullptr);
    EXPECT_EQ(addr_of(*e6), "2001:db8::7");
    // After its TTL the static record is simply used again.
    e = cache.lookup(q_a, 11 * s);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->expires_at, 21 * s);
    EXPECT_EQ(e->static_uses, 2u);
    // Other names still go to the network.
    EXPECT_EQ(cache.lookup(Question{"other.example.com", RrType::a}, 0), nullptr);
    // Without networkOverride the static A waits for a failure.
    c.a_network_override = false;
    Cache plain(c);
    EXPECT_EQ(plain.lookup(q_a, 0), nullptr);
}

TEST(Cache, StaticSrvAndNaptrAreGroupedByName) {
    CacheConfig c;
    c.static_srv.push_back(StaticSrv{"_sip._udp.example.com", 300, 10, 5, 5060, "a.example.com"});
    c.static_srv.push_back(StaticSrv{"_sip._udp.example.com", 200, 20, 5, 5060, "b.example.com"});
    c.static_naptr.push_back(StaticNaptr{"example.com", 100, 10, 10, "s", "SIP+D2U", "", "_sip._udp.example.com."});
    Cache cache(c);
    const Answer fail = Answer::failure(AnswerStatus::no_answer, "x");
    const CacheEntry& srv = cache.on_network_answer(Question{"_sip._udp.example.com", RrType::srv}, fail, 0);
    ASSERT_EQ(srv.answer.srv.size(), 2u);
    EXPECT_EQ(srv.answer.srv[1].target, "b.example.com");
    EXPECT_EQ(srv.expires_at, 200 * s);  // the smaller TTL of the set
    const CacheEntry& naptr = cache.on_network_answer(Question{"example.com", RrType::naptr}, fail, 0);
    ASSERT_EQ(naptr.answer.naptr.size(), 1u);
    EXPECT_EQ(naptr.answer.naptr[0].replacement, "_sip._udp.example.com");
}

TEST(Cache, FailureWithoutFallbackIsRetriedLater) {
    CacheConfig c;
    c.failure_retry_s = 7;
    Cache cache(c);
    const CacheEntry& e = cache.on_network_answer(q_a, Answer::failure(AnswerStatus::nxdomain, "x"), 0);
    EXPECT_EQ(e.refresh_at, 7 * s);
    EXPECT_NE(cache.lookup(q_a, 6 * s), nullptr);
    EXPECT_EQ(cache.lookup(q_a, 7 * s), nullptr);
}

TEST(Cache, StatusReportsSourceExpiryAndLastError) {
    Cache cache(restore_on());
    cache.on_network_answer(q_a, a_answer("192.0.2.1", 60), 0);
    cache.on_network_answer(q_a, Answer::failure(AnswerStatus::no_answer, "Timeout while contacting DNS servers"), 60 * s);
    const std::vector<NameStatus> st = cache.status();
    ASSERT_EQ(st.size(), 1u);
    EXPECT_EQ(st[0].question, q_a);
    EXPECT_EQ(st[0].source, Source::restored);
    EXPECT_EQ(st[0].status, AnswerStatus::ok);
    EXPECT_EQ(st[0].records, 1u);
    EXPECT_EQ(st[0].expires_at, 180 * s);
    EXPECT_EQ(st[0].last_error, AnswerStatus::no_answer);
    EXPECT_EQ(st[0].last_error_detail, "Timeout while contacting DNS servers");
    EXPECT_EQ(st[0].last_error_at, 60 * s);
    EXPECT_EQ(st[0].queries, 2u);
    EXPECT_EQ(st[0].failures, 1u);
    EXPECT_EQ(st[0].restores, 1u);
}

TEST(Cache, Validation) {
    CacheConfig c;
    EXPECT_TRUE(validate(c).ok());
    c.restore_ttl_s = 89;
    EXPECT_FALSE(validate(c).ok());
    c.restore_ttl_s = 601;
    EXPECT_FALSE(validate(c).ok());
    c.restore_ttl_s = 600;
    EXPECT_TRUE(validate(c).ok());
    c.static_a.push_back(StaticA{"x", 65536, *IpAddr::parse("192.0.2.1")});
    EXPECT_FALSE(validate(c).ok());
    c.static_a.back().ttl_s = 65535;
    EXPECT_TRUE(validate(c).ok());
    c.static_a.back().addr = IpAddr{};
    EXPECT_FALSE(validate(c).ok());
    c.static_a.clear();
    c.static_srv.push_back(StaticSrv{"_sip._udp.x", 0, 0, 0, 0, ""});
    EXPECT_FALSE(validate(c).ok()) << "SRV without target";
    c.static_srv.clear();
    for (size_t i = 0; i <= max_static_records; i++)
        c.static_a.push_back(StaticA{"x", 1, *IpAddr::parse("192.0.2.1")});
    EXPECT_FALSE(validate(c).ok());
    const Status bad = validate(c);
    EXPECT_EQ(bad.error().code, EINVAL);
}

}  // namespace
}  // namespace sipedge::dns

namespace sipedge::dns {
namespace {

TEST(Cache, NegativeAnswerHeldForItsSoaTtl) {
    CacheConfig c;
    c.failure_retry_s = 7;
    Cache cache(c);
    Answer neg = Answer::failure(AnswerStatus::nodata, "x");
    neg.negative_ttl_s = 30;
    EXPECT_EQ(cache.on_network_answer(q_a, neg, 0).refresh_at, 30 * s);
    neg.negative_ttl_s = 999999;  // capped
    EXPECT_EQ(cache.on_network_answer(q_a, neg, 0).refresh_at, Millis(max_negative_ttl_s) * s);
}

}  // namespace
}  // namespace sipedge::dns
