// The resolver against a real DNS server: knotd on a loopback address and a
// free port, serving zones written here, with c-ares pointed at it and driven
// by the poll() helper on the real monotonic clock. Checks the RFC 3263 order
// end to end, TTL refresh picking up a change, truncation → TCP for a large
// SRV set, and the outage rules: restore on "server stopped" (for the restore
// TTL, then static records), none on NXDOMAIN or SERVFAIL.
// Nothing is sent anywhere but 127.0.0.0/8. Each test takes a few seconds.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dns/poll_loop.h"
#include "dns/resolver.h"
#include "tests/dns/fake_dns.h"
#include "tests/dns/knot_server.h"

namespace sipedge::dns {
namespace {

using testing::addrs_of;
using testing::KnotServer;

constexpr const char* origin = "example.test";

// NAPTR (tcp 10, udp 20, tls 30) → SRV → A/AAAA, TTL <ttl>, serial <serial>.
// <a_addr> is what a1.example.test resolves to (the record tests change).
std::string sip_zone(int serial, uint32_t ttl, const std::string& a_addr = "192.0.2.11",
                     bool with_a1 = true) {
    std::string z = "$ORIGIN example.test.\n$TTL " + std::to_string(ttl) + "\n" +
                    "@ SOA ns hostmaster " + std::to_string(serial) + " 3600 600 86400 1\n"
                    "@ NS ns\n"
                    "ns A 127.0.0.1\n"
                    "@ NAPTR 20 10 \"S\" \"SIP+D2U\" \"\" _sip._udp\n"
                    "@ NAPTR 10 10 \"S\" \"SIP+D2T\" \"\" _sip._tcp\n"
                    "@ NAPTR 30 10 \"S\" \"SIPS+D2T\" \"\" _sips._tcp\n"
                    "_sip._tcp SRV 10 0 5070 t1\n"
                    "_sip._tcp SRV 20 0 5071 t2\n"
                    "_sip._udp SRV 10 0 5060 a1\n"
                    "_sips._tcp SRV 10 0 5061 s1\n"
                    "t1 A 192.0.2.1\n"
                    "t1 AAAA 2001:db8::1\n"
                    "t2 A 192.0.2.2\n"
                    "s1 AAAA 2001:db8::5\n";
    if (with_a1)
        z += "a1 A " + a_addr + "\n";
    // A large SRV set: 60 records, ~2.4 KB, far over 512 bytes of UDP without EDNS.
    for (int i = 0; i < 60; i++)
        z += "_sip._udp.big SRV " + std::to_string(i) + " 1 5060 target-number-" + std::to_string(i) +
             ".example.test.\n";
    for (int i = 0; i < 4; i++)
        z += "target-number-" + std::to_string(i) + " A 192.0.2." + std::to_string(100 + i) + "\n";
    return z;
}

class DnsE2e : public ::testing::Test {
protected:
    void SetUp() override {
        if (!KnotServer::available())
            GTEST_SKIP() << "knotd not installed (apt-get install knot)";
    }

    void start_server(uint32_t ttl) {
        std::string err;
        knot_ = KnotServer::start("127.0.0.1", {{origin, sip_zone(1, ttl)}}, &err);
        ASSERT_NE(knot_, nullptr) << err;
    }

    ResolverConfig config() const {
        ResolverConfig c;
        c.channel.servers.push_back(ServerAddr{*IpAddr::parse(knot_->addr()), knot_->port()});
        c.channel.timeout_ms = 300;
        c.channel.tries = 1;
        c.cache.failure_retry_s = 1;
        return c;
    }

    void make_resolver(ResolverConfig c) {
        auto r = Resolver::create(std::move(c), [](uint32_t) { return 0u; });
        ASSERT_TRUE(r.ok()) << r.error().message;
        res_ = std::move(r).value();
    }

    // Starts <req> and records every delivery.
    LocateId locate(LocateRequest req) {
        auto id = res_->start(std::move(req), [this](LocateId, const ServerList& l, bool changed) {
            lists_.push_back(l);
            changed_.push_back(changed);
            at_.push_back(monotonic_ms());
        }, monotonic_ms());
        EXPECT_TRUE(id.ok());
        return id.ok() ? id.value() : 0;
    }

    bool wait_for(size_t deliveries, uint32_t ms) {
        return run_until(*res_, [&] { return lists_.size() >= deliveries; }, ms);
    }
    // Waits until a delivery satisfies <pred>; returns its index or -1.
    template <class P>
    int wait_until(P pred, uint32_t ms) {
        size_t seen = 0;
        int found = -1;
        run_until(*res_, [&] {
            for (; seen < lists_.size(); seen++)
                if (pred(lists_[seen])) {
                    found = int(seen);
                    return true;
                }
            return false;
        }, ms);
        return found;
    }

    const NameStatus* name_status(const std::string& name, RrType t) {
        status_ = res_->name_status();
        for (const NameStatus& s : status_)
            if (s.question.name == name && s.question.type == t)
                return &s;
        return nullptr;
    }

    // For failure messages: every delivery and every cache row.
    std::string describe() {
        std::string out;
        for (size_t i = 0; i < lists_.size(); i++)
            out += "delivery " + std::to_string(i) + " at " + std::to_string(at_[i]) + ": " +
                   to_string(lists_[i].status) + " " + to_string(lists_[i].source) + " " +
                   std::to_string(lists_[i].flat().size()) + " targets; " + lists_[i].error + "\n";
        for (const NameStatus& n : res_->name_status())
            out += n.question.name + " " + to_string(n.question.type) + ": " + to_string(n.status) +
                   " " + to_string(n.source) + " queries " + std::to_string(n.queries) + " last error " +
                   to_string(n.last_error) + " " + n.last_error_detail + "\n";
        return out + "now " + std::to_string(monotonic_ms());
    }

    std::unique_ptr<KnotServer> knot_;
    std::unique_ptr<Resolver> res_;
    std::vector<ServerList> lists_;
    std::vector<bool> changed_;
    std::vector<Millis> at_;
    std::vector<NameStatus> status_;
};

LocateRequest naptr_req(const std::string& host) {
    LocateRequest r;
    r.host = host;
    r.families = Families::both;
    return r;
}

LocateRequest a_req(const std::string& host, uint16_t port) {
    LocateRequest r;
    r.host = host;
    r.port = port;
    r.families = Families::v4;
    return r;
}

TEST_F(DnsE2e, NaptrSrvAddressesInRfc3263Order) {
    start_server(60);
    make_resolver(config());
    locate(naptr_req("Example.Test."));
    ASSERT_TRUE(wait_for(1, 10000)) << knot_->log();
    const ServerList l = lists_[0];  // a copy: lists_ grows below
    ASSERT_EQ(l.status, AnswerStatus::ok) << l.error;
    EXPECT_EQ(l.source, Source::network);
    ASSERT_EQ(l.records.size(), 3u);
    EXPECT_EQ(l.records[0].transport, Transport::tcp);
    EXPECT_EQ(l.records[0].srv_name, "_sip._tcp.example.test");
    EXPECT_EQ(l.records[1].transport, Transport::udp);
    EXPECT_EQ(l.records[2].transport, Transport::tls);
    EXPECT_EQ(addrs_of(l), (std::vector<std::string>{"192.0.2.1", "2001:db8::1", "192.0.2.2",
                                                     "192.0.2.11", "2001:db8::5"}));
    EXPECT_EQ(l.records[0].targets[0].port, 5070);
    EXPECT_EQ(l.records[0].targets[2].port, 5071);
    EXPECT_EQ(l.records[0].targets[2].priority, 20);
    EXPECT_EQ(l.records[0].targets[0].ttl_s, 60u);
    EXPECT_EQ(l.records[2].targets[0].port, 5061);
    EXPECT_TRUE(changed_[0]);
    const Millis now = monotonic_ms();
    EXPECT_GT(l.expires_at, now + 50000);
    EXPECT_LE(l.expires_at, now + 60000);
    // Observability: every question with its source, and the NXDOMAIN-free path.
    const NameStatus* naptr = name_status("example.test", RrType::naptr);
    ASSERT_NE(naptr, nullptr);
    EXPECT_EQ(naptr->source, Source::network);
    EXPECT_EQ(naptr->records, 3u);
    EXPECT_EQ(naptr->queries, 1u);
    // s1 has no A record: an answered "no data", kept as such.
    const NameStatus* s1a = name_status("s1.example.test", RrType::a);
    ASSERT_NE(s1a, nullptr);
    EXPECT_EQ(s1a->status, AnswerStatus::nodata);
    // A second locate of the same host is served from the cache.
    locate(naptr_req("example.test"));
    ASSERT_EQ(lists_.size(), 2u) << "fresh cache: delivered inside start()";
    EXPECT_EQ(addrs_of(lists_[1]), addrs_of(l));
    EXPECT_EQ(name_status("example.test", RrType::naptr)->queries, 1u);
}

TEST_F(DnsE2e, ExplicitPortAndSrvFallbackToA) {
    start_server(60);
    make_resolver(config());
    ASSERT_TRUE(knot_->update_zone(origin, sip_zone(2, 60) + "plain A 192.0.2.50\n"));
    locate(a_req("plain.example.test", 5080));
    LocateRequest srv = naptr_req("plain.example.test");  // no NAPTR, no SRV → A on 5060
    srv.families = Families::v4;
    locate(srv);
    ASSERT_TRUE(wait_for(2, 10000));
    for (const ServerList& l : lists_) {
        ASSERT_EQ(addrs_of(l), (std::vector<std::string>{"192.0.2.50"})) << l.error;
    }
    EXPECT_EQ(lists_[0].records[0].targets[0].port, 5080);
    EXPECT_EQ(lists_[1].records[0].targets[0].port, 5060);
    EXPECT_EQ(name_status("_sip._udp.plain.example.test", RrType::srv)->status, AnswerStatus::nxdomain);
    EXPECT_EQ(name_status("plain.example.test", RrType::naptr)->status, AnswerStatus::nodata);
}

TEST_F(DnsE2e, RecordChangePickedUpAfterTtl) {
    start_server(2);
    make_resolver(config());
    locate(naptr_req("example.test"));
    ASSERT_TRUE(wait_for(1, 10000));
    const Millis t0 = at_[0];
    ASSERT_EQ(lists_[0].records[1].targets[0].addr.to_string(), "192.0.2.11");
    ASSERT_TRUE(knot_->update_zone(origin, sip_zone(2, 2, "192.0.2.99")));
    const int i = wait_until([](const ServerList& l) {
        return l.records.size() == 3 && l.records[1].targets[0].addr.to_string() == "192.0.2.99";
    }, 8000);
    ASSERT_GE(i, 1) << "change not picked up";
    EXPECT_TRUE(changed_[size_t(i)]);
    EXPECT_EQ(lists_[size_t(i)].source, Source::network);
    // Refreshed in the background before the 2 s TTL ran out, or within one refresh after.
    EXPECT_GE(at_[size_t(i)] - t0, 900u);
    EXPECT_LE(at_[size_t(i)] - t0, 4500u);
    // Refreshes whose servers did not change are flagged unchanged.
    for (int k = 1; k < i; k++)
        EXPECT_FALSE(changed_[size_t(k)]);
    EXPECT_GT(lists_[size_t(i)].generation, lists_[0].generation);
}

TEST_F(DnsE2e, LargeSrvSetTruncatedOverUdpComesOverTcp) {
    start_server(60);
    make_resolver(config());  // no EDNS: 512-byte UDP answers
    LocateRequest r = naptr_req("big.example.test");
    r.naptr = false;
    r.transports = {Transport::udp};
    r.families = Families::v4;
    locate(r);
    ASSERT_TRUE(wait_for(1, 10000));
    const NameStatus* srv = name_status("_sip._udp.big.example.test", RrType::srv);
    ASSERT_NE(srv, nullptr);
    EXPECT_EQ(srv->status, AnswerStatus::ok);
    EXPECT_EQ(srv->records, 60u) << "the whole set, so it came over TCP";
    EXPECT_EQ(addrs_of(lists_[0]), (std::vector<std::string>{"192.0.2.100", "192.0.2.101",
                                                             "192.0.2.102", "192.0.2.103"}));

    // Control: told to keep truncated UDP answers, c-ares cannot get the set,
    // which shows the answer above really needed the TCP retry.
    ResolverConfig c = config();
    c.channel.ignore_truncation = true;
    make_resolver(c);
    lists_.clear();
    locate(r);
    ASSERT_TRUE(wait_for(1, 10000));
    const NameStatus* cut = name_status("_sip._udp.big.example.test", RrType::srv);
    ASSERT_NE(cut, nullptr);
    EXPECT_LT(cut->records, 60u);
}

TEST_F(DnsE2e, ServerStoppedRestoresThenUsesStaticRecords) {
    start_server(2);
    ResolverConfig c = config();
    c.cache.restore_enable = true;
    c.cache.static_a.push_back(StaticA{"a1.example.test", 30, *IpAddr::parse("198.51.100.7")});
    make_resolver(c);
    res_->cache().test_only_set_restore_ttl_ms(2500);  // seed minimum is 90 s; see Cache
    locate(a_req("a1.example.test", 5060));
    ASSERT_TRUE(wait_for(1, 10000));
    ASSERT_EQ(addrs_of(lists_[0]), (std::vector<std::string>{"192.0.2.11"}));
    const Millis network_expiry = lists_[0].expires_at;
    knot_->stop();  // loopback: queries now get ICMP port unreachable → ECONNREFUSED

    const int r = wait_until([](const ServerList& l) { return l.source == Source::restored; }, 8000);
    ASSERT_GE(r, 0);
    const ServerList restored = lists_[size_t(r)];
    EXPECT_EQ(addrs_of(restored), (std::vector<std::string>{"192.0.2.11"}));
    EXPECT_GE(at_[size_t(r)] + 50, network_expiry) << "restore only after the TTL ran out";
    const NameStatus* st = name_status("a1.example.test", RrType::a);
    ASSERT_NE(st, nullptr);
    EXPECT_EQ(st->source, Source::restored);
    EXPECT_EQ(st->last_error, AnswerStatus::no_answer);
    EXPECT_EQ(st->restores, 1u);

    const int s = wait_until([](const ServerList& l) { return l.source == Source::static_; }, 8000);
    ASSERT_GT(s, r);
    EXPECT_EQ(addrs_of(lists_[size_t(s)]), (std::vector<std::string>{"198.51.100.7"}));
    // The restored list was used for the restore TTL, not more.
    const Millis restored_for = at_[size_t(s)] - at_[size_t(r)];
    EXPECT_GE(restored_for, 2400u);
    EXPECT_LE(restored_for, 4000u);
    EXPECT_TRUE(changed_[size_t(s)]);
    EXPECT_EQ(name_status("a1.example.test", RrType::a)->source, Source::static_);
}

TEST_F(DnsE2e, UnresponsiveServerTimesOutAndRestores) {
    start_server(2);
    ResolverConfig c = config();
    c.cache.restore_enable = true;
    make_resolver(c);
    res_->cache().test_only_set_restore_ttl_ms(5000);
    locate(a_req("a1.example.test", 5060));
    ASSERT_TRUE(wait_for(1, 10000));
    knot_->pause();  // bound but silent: c-ares times out (300 ms, 1 try)
    const int r = wait_until([](const ServerList& l) { return l.source == Source::restored; }, 8000);
    knot_->resume();
    ASSERT_GE(r, 0);
    EXPECT_EQ(addrs_of(lists_[size_t(r)]), (std::vector<std::string>{"192.0.2.11"}));
    const NameStatus* st = name_status("a1.example.test", RrType::a);
    EXPECT_EQ(st->last_error, AnswerStatus::no_answer);
    EXPECT_NE(st->last_error_detail.find("imeout"), std::string::npos) << st->last_error_detail;
}

TEST_F(DnsE2e, NxdomainIsNotRestoredButStaticApplies) {
    start_server(2);
    ResolverConfig c = config();
    c.cache.restore_enable = true;
    c.cache.static_a.push_back(StaticA{"t2.example.test", 30, *IpAddr::parse("198.51.100.8")});
    make_resolver(c);
    res_->cache().test_only_set_restore_ttl_ms(60000);
    const LocateId gone = locate(a_req("a1.example.test", 5060));
    const LocateId with_static = locate(a_req("t2.example.test", 5060));
    ASSERT_TRUE(wait_for(2, 10000));
    // Remove a1 and t2 (t2 had only its A record): both names now answer NXDOMAIN.
    std::string z = sip_zone(2, 2, "", false);
    const std::string t2 = "t2 A 192.0.2.2\n";
    z.erase(z.find(t2), t2.size());
    ASSERT_TRUE(knot_->update_zone(origin, z));

    ASSERT_GE(wait_until([](const ServerList& l) { return l.status == AnswerStatus::nxdomain; }, 8000), 0);
    ASSERT_GE(wait_until([](const ServerList& l) { return l.source == Source::static_; }, 8000), 0);
    const ServerList* a1 = res_->current(gone);
    ASSERT_NE(a1, nullptr);
    EXPECT_TRUE(a1->records.empty());
    EXPECT_EQ(a1->source, Source::none);
    EXPECT_EQ(a1->status, AnswerStatus::nxdomain);
    EXPECT_NE(a1->error.find("nxdomain"), std::string::npos);
    const NameStatus* st = name_status("a1.example.test", RrType::a);
    EXPECT_EQ(st->restores, 0u);
    EXPECT_EQ(st->last_error, AnswerStatus::nxdomain);
    const ServerList* t = res_->current(with_static);
    EXPECT_EQ(addrs_of(*t), (std::vector<std::string>{"198.51.100.8"}));
    EXPECT_EQ(name_status("t2.example.test", RrType::a)->last_error, AnswerStatus::nxdomain);
}

TEST_F(DnsE2e, ServfailIsNotRestored) {
    start_server(2);
    ResolverConfig c = config();
    c.cache.restore_enable = true;
    make_resolver(c);
    res_->cache().test_only_set_restore_ttl_ms(60000);
    const LocateId id = locate(a_req("a1.example.test", 5060));
    ASSERT_TRUE(wait_for(1, 10000));
    ASSERT_TRUE(knot_->expire_zone(origin));  // the server now answers SERVFAIL
    ASSERT_GE(wait_until([](const ServerList& l) { return l.status != AnswerStatus::ok; }, 8000), 0)
        << describe();
    const ServerList* l = res_->current(id);
    EXPECT_EQ(l->status, AnswerStatus::error_answer);
    EXPECT_TRUE(l->records.empty());
    EXPECT_EQ(l->source, Source::none);
    const NameStatus* st = name_status("a1.example.test", RrType::a);
    EXPECT_EQ(st->restores, 0u);
    EXPECT_EQ(st->last_error, AnswerStatus::error_answer);
    EXPECT_NE(st->last_error_detail.find("SERVFAIL"), std::string::npos) << st->last_error_detail;
}

TEST_F(DnsE2e, SocketWatchReportsEveryChange) {
    start_server(60);
    make_resolver(config());
    std::map<int, bool> watched;  // fd → watched now
    size_t peak = 0;
    res_->set_socket_watch([&](int fd, bool rd, bool wr) {
        if (rd || wr)
            watched[fd] = true;
        else
            watched.erase(fd);
        peak = std::max(peak, watched.size());
    });
    locate(naptr_req("example.test"));
    EXPECT_EQ(watched.size(), res_->sockets().size()) << "the watch mirrors sockets()";
    ASSERT_TRUE(wait_for(1, 10000));
    EXPECT_GE(peak, 1u);
    EXPECT_EQ(res_->queries_in_flight(), 0u);
    res_.reset();  // closing the channel removes whatever is left
    EXPECT_TRUE(watched.empty());
}

}  // namespace
}  // namespace sipedge::dns
