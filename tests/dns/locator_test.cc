// RFC 3263 server location on synthetic answers: the Poly NAPTR "Selection
// Order" table, port rules, SRV → A fallback, literal IPs, transport filters,
// address caps and families, and what expiry/source/error the list reports.

#include "dns/locator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tests/dns/fake_dns.h"

namespace sipedge::dns {
namespace {

using testing::addrs_of;
using testing::FakeDns;
using testing::FixedDraws;

LocateRequest req(const std::string& host, uint16_t port = 0) {
    LocateRequest r;
    r.host = host;
    r.port = port;
    r.families = Families::v4;
    r.max_addresses = 4;
    return r;
}

// seed P (001_…, "DNSNaptr Records for Mixed Transports Across Multiple
// Networks"): four NAPTR records, their SRV sets and the phone's Selection
// Order. The seed's table reuses "_sip_tcp.poly-sbc" for a and b; a and b are
// different SRV names here so that each keeps its own two addresses.
struct PolyTable {
    FakeDns dns;
    // address → Selection Order from the seed's right-hand column
    std::map<std::string, int> rank{
        {"200.1.1.5", 1},      {"200.2.2.9", 1},      {"192.168.0.50", 2},  {"192.168.0.100", 2},
        {"192.148.100.5", 3},  {"192.148.100.20", 4}, {"192.148.200.4", 5}, {"192.148.200.30", 6},
        {"192.168.50.6", 7},   {"192.168.50.64", 8},
    };
    PolyTable() {
        // Answer order deliberately not the NAPTR order.
        dns.naptr("poly.example.com",
                  {NaptrRr{200, 10, "S", "SIP+D2U", "", "_sip._udp.poly-sbc-bak.example.com", 300},
                   NaptrRr{100, 10, "S", "SIP+D2T", "", "_sip._tcp.poly-sbc-b.example.com", 300},
                   NaptrRr{150, 10, "S", "SIPS+D2T", "", "_sips._tcp.poly-sbc-ext.example.com", 300},
                   NaptrRr{50, 10, "S", "SIP+D2T", "", "_sip._tcp.poly-sbc.example.com", 300}});
        dns.srv("_sip._tcp.poly-sbc.example.com", {{100, 50, 5060, "a1.example.com", 300},
                                                   {100, 50, 5060, "a2.example.com", 300}});
        dns.srv("_sip._tcp.poly-sbc-b.example.com", {{100, 50, 5060, "b1.example.com", 300},
                                                     {100, 50, 5060, "b2.example.com", 300}});
        dns.srv("_sips._tcp.poly-sbc-ext.example.com", {{440, 50, 5061, "c4.example.com", 300},
                                                        {240, 50, 5061, "c2.example.com", 300},
                                                        {340, 50, 5061, "c3.example.com", 300},
                                                        {140, 50, 5061, "c1.example.com", 300}});
        dns.srv("_sip._udp.poly-sbc-bak.example.com", {{240, 50, 5060, "d2.example.com", 300},
                                                       {140, 50, 5060, "d1.example.com", 300}});
        dns.addr("a1.example.com", "200.1.1.5");
        dns.addr("a2.example.com", "200.2.2.9");
        dns.addr("b1.example.com", "192.168.0.50");
        dns.addr("b2.example.com", "192.168.0.100");
        dns.addr("c1.example.com", "192.148.100.5");
        dns.addr("c2.example.com", "192.148.100.20");
        dns.addr("c3.example.com", "192.148.200.4");
        dns.addr("c4.example.com", "192.148.200.30");
        dns.addr("d1.example.com", "192.168.50.6");
        dns.addr("d2.example.com", "192.168.50.64");
    }
};

TEST(Locator, PolySelectionOrderTable) {
    PolyTable t;
    FixedDraws d{{0, 0}};  // first-listed of each equal pair wins
    Locator loc(req("poly.example.com"), d.rng());
    const ServerList l = t.dns.run(loc);
    ASSERT_EQ(l.status, AnswerStatus::ok);
    EXPECT_EQ(l.source, Source::network);
    ASSERT_EQ(l.records.size(), 4u);
    EXPECT_EQ(l.records[0].order, 50);
    EXPECT_EQ(l.records[1].order, 100);
    EXPECT_EQ(l.records[2].order, 150);
    EXPECT_EQ(l.records[3].order, 200);
    EXPECT_EQ(l.records[0].transport, Transport::tcp);
    EXPECT_EQ(l.records[2].transport, Transport::tls);
    EXPECT_EQ(l.records[3].transport, Transport::udp);
    EXPECT_EQ(addrs_of(l), (std::vector<std::string>{
                               "200.1.1.5", "200.2.2.9", "192.168.0.50", "192.168.0.100",
                               "192.148.100.5", "192.148.100.20", "192.148.200.4", "192.148.200.30",
                               "192.168.50.6", "192.168.50.64"}));
    // Each target carries what the failover engine needs.
    const Target& c1 = l.records[2].targets[0];
    EXPECT_EQ(c1.port, 5061);
    EXPECT_EQ(c1.priority, 140);
    EXPECT_EQ(c1.weight, 50);
    EXPECT_EQ(c1.transport, Transport::tls);
    EXPECT_EQ(c1.host, "c1.example.com");
    EXPECT_EQ(c1.ttl_s, 300u);
}

TEST(Locator, PolySelectionOrderEqualRanksFollowTheDraws) {
    PolyTable t;
    FixedDraws d{{100, 100}};  // last of each equal pair wins
    Locator loc(req("poly.example.com"), d.rng());
    const std::vector<std::string> got = addrs_of(t.dns.run(loc));
    EXPECT_EQ(got, (std::vector<std::string>{
                       "200.2.2.9", "200.1.1.5", "192.168.0.100", "192.168.0.50", "192.148.100.5",
                       "192.148.100.20", "192.148.200.4", "192.148.200.30", "192.168.50.6",
                       "192.168.50.64"}));
    // Whatever the draws, the Selection Order column is never violated.
    for (uint32_t seed = 0; seed < 50; seed++) {
        PolyTable u;
        FixedDraws r{{seed * 7 % 101, seed * 13 % 101}};
        Locator l2(req("poly.example.com"), r.rng());
        const std::vector<std::string> a = addrs_of(u.dns.run(l2));
        ASSERT_EQ(a.size(), 10u);
        for (size_t i = 1; i < a.size(); i++)
            EXPECT_LE(u.rank[a[i - 1]], u.rank[a[i]]) << a[i - 1] << " before " << a[i];
    }
}

TEST(Locator, NaptrOnlyAllowedTransports) {
    PolyTable t;
    FixedDraws d;
    LocateRequest r = req("poly.example.com");
    r.transports = {Transport::udp, Transport::tcp};  // no TLS: record c is not ours
    Locator loc(r, d.rng());
    const ServerList l = t.dns.run(loc);
    ASSERT_EQ(l.records.size(), 3u);
    for (const ServiceRecord& rec : l.records)
        EXPECT_NE(rec.transport, Transport::tls);
    for (const Question& q : t.dns.asked)
        EXPECT_NE(q.name, "_sips._tcp.poly-sbc-ext.example.com") << "asked for a disallowed transport";
}

TEST(Locator, NaptrIgnoresForeignServicesFlagsAndRegexps) {
    FakeDns dns;
    dns.naptr("ex.com", {NaptrRr{10, 10, "U", "E2U+sip", "!^.*$!sip:x@y!", "", 60},
                         NaptrRr{20, 10, "S", "SIP+D2U", "!x!y!", "_sip._udp.regexp.ex.com", 60},
                         NaptrRr{30, 10, "A", "SIP+D2U", "", "host.ex.com", 60},
                         NaptrRr{40, 10, "s", "sip+d2t", "", "_sip._tcp.ex.com", 60}});
    dns.srv("_sip._tcp.ex.com", {{1, 0, 5070, "t.ex.com", 60}});
    dns.addr("t.ex.com", "192.0.2.10");
    FixedDraws d;
    Locator loc(req("ex.com"), d.rng());
    const ServerList l = dns.run(loc);
    ASSERT_EQ(l.records.size(), 1u);
    EXPECT_EQ(l.records[0].srv_name, "_sip._tcp.ex.com");
    EXPECT_EQ(addrs_of(l), (std::vector<std::string>{"192.0.2.10"}));
    EXPECT_EQ(l.records[0].targets[0].port, 5070);
}

TEST(Locator, NaptrPreferenceBreaksOrderTies) {
    FakeDns dns;
    dns.naptr("ex.com", {NaptrRr{10, 20, "s", "SIP+D2U", "", "_sip._udp.ex.com", 60},
                         NaptrRr{10, 5, "s", "SIP+D2T", "", "_sip._tcp.ex.com", 60}});
    dns.srv("_sip._udp.ex.com", {{1, 0, 5060, "u.ex.com", 60}});
    dns.srv("_sip._tcp.ex.com", {{1, 0, 5060, "t.ex.com", 60}});
    dns.addr("u.ex.com", "192.0.2.1");
    dns.addr("t.ex.com", "192.0.2.2");
    FixedDraws d;
    Locator loc(req("ex.com"), d.rng());
    const ServerList l = dns.run(loc);
    ASSERT_EQ(l.records.size(), 2u);
    EXPECT_EQ(l.records[0].transport, Transport::tcp);
    EXPECT_EQ(l.records[0].preference, 5);
    EXPECT_EQ(l.records[1].transport, Transport::udp);
}

TEST(Locator, NoNaptrFallsBackToSrvPerTransportInTrunkOrder) {
    FakeDns dns;  // NAPTR → NXDOMAIN
    dns.srv("_sip._tcp.ex.com", {{1, 0, 5060, "t.ex.com", 60}});
    dns.srv("_sip._udp.ex.com", {{1, 0, 5060, "u.ex.com", 60}});
    dns.addr("t.ex.com", "192.0.2.2");
    dns.addr("u.ex.com", "192.0.2.1");
    FixedDraws d;
    LocateRequest r = req("ex.com");
    r.transports = {Transport::tcp, Transport::udp};  // TCPpreferred
    Locator loc(r, d.rng());
    const ServerList l = dns.run(loc);
    ASSERT_EQ(l.records.size(), 2u);
    EXPECT_EQ(l.records[0].transport, Transport::tcp);
    EXPECT_EQ(l.records[0].order, 0);
    EXPECT_EQ(l.records[1].transport, Transport::udp);
    EXPECT_EQ(l.records[1].order, 1);
    EXPECT_EQ(dns.asked.front(), (Question{"ex.com", RrType::naptr}));
    // The NXDOMAIN on the way is reported although the list is usable.
    EXPECT_NE(l.error.find("NAPTR"), std::string::npos);
}

TEST(Locator, NaptrOffAsksSrvOnlyForTheConfiguredTransport) {
    FakeDns dns;
    dns.srv("_sip._udp.ex.com", {{1, 0, 5060, "u.ex.com", 60}});
    dns.addr("u.ex.com", "192.0.2.1");
    FixedDraws d;
    LocateRequest r = req("ex.com");
    r.naptr = false;
    r.transports = {Transport::udp};  // UDPOnly
    Locator loc(r, d.rng());
    const ServerList l = dns.run(loc);
    EXPECT_EQ(dns.asked, (std::vector<Question>{{"_sip._udp.ex.com", RrType::srv}, {"u.ex.com", RrType::a}}));
    EXPECT_EQ(addrs_of(l), (std::vector<std::string>{"192.0.2.1"}));
}

TEST(Locator, ExplicitPortAsksAddressesOnly) {
    // seed P: port 5060 configured → "will not send an SRV query at all".
    FakeDns dns;
    dns.naptr("ex.com", {NaptrRr{10, 10, "s", "SIP+D2U", "", "_sip._udp.ex.com", 60}});
    dns.srv("_sip._udp.ex.com", {{1, 0, 5999, "u.ex.com", 60}});
    dns.addr("ex.com", "192.0.2.7");
    dns.addr("ex.com", "192.0.2.8");
    FixedDraws d;
    LocateRequest r = req("ex.com", 5080);
    Locator loc(r, d.rng());
    const ServerList l = dns.run(loc);
    EXPECT_EQ(dns.asked, (std::vector<Question>{{"ex.com", RrType::a}}));
    ASSERT_EQ(l.records.size(), 1u);
    EXPECT_EQ(addrs_of(l), (std::vector<std::string>{"192.0.2.7", "192.0.2.8"}));  // answer order
    EXPECT_EQ(l.records[0].targets[0].port, 5080);
    EXPECT_EQ(l.records[0].targets[1].port, 5080);
    EXPECT_EQ(l.records[0].transport, Transport::udp);
    EXPECT_TRUE(l.records[0].srv_name.empty());
}

TEST(Locator, SrvFailureFallsBackToAOn5060) {
    // seed P: "In the SRV query fails, PVOS will try the same address again as
    // an A record and assume port 5060".
    for (AnswerStatus why : {AnswerStatus::nxdomain, AnswerStatus::nodata, AnswerStatus::error_answer,
                             AnswerStatus::no_answer}) {
        FakeDns dns;
        dns.fail("_sip._udp.ex.com", RrType::srv, why);
        dns.addr("ex.com", "192.0.2.9");
        FixedDraws d;
        LocateRequest r = req("ex.com");
        r.naptr = false;
        r.transports = {Transport::udp};
        Locator loc(r, d.rng());
        const ServerList l = dns.run(loc);
        ASSERT_EQ(l.status, AnswerStatus::ok) << to_string(why);
        ASSERT_EQ(addrs_of(l), (std::vector<std::string>{"192.0.2.9"}));
        EXPECT_EQ(l.records[0].targets[0].port, 5060);
        EXPECT_EQ(dns.asked.back(), (Question{"ex.com", RrType::a}));
    }
}

TEST(Locator, SrvFallbackForTlsUses5061) {
    FakeDns dns;
    dns.addr("ex.com", "192.0.2.9");
    FixedDraws d;
    LocateRequest r = req("ex.com");
    r.naptr = false;
    r.transports = {Transport::tls};
    Locator loc(r, d.rng());
    const ServerList l = dns.run(loc);
    ASSERT_EQ(l.records.size(), 1u);
    EXPECT_EQ(l.records[0].transport, Transport::tls);
    EXPECT_EQ(l.records[0].targets[0].port, 5061);  // RFC 3263 §4.2
}

TEST(Locator, EverythingFailsReportsTheLastFailure) {
    FakeDns dns;
    dns.fail("ex.com", RrType::a, AnswerStatus::no_answer);
    FixedDraws d;
    LocateRequest r = req("ex.com");
    r.naptr = false;
    r.transports = {Transport::udp};
    Locator loc(r, d.rng());
    const ServerList l = dns.run(loc);
    EXPECT_TRUE(l.records.empty());
    EXPECT_EQ(l.status, AnswerStatus::no_answer);
    EXPECT_EQ(l.source, Source::none);
    EXPECT_NE(l.error.find("ex.com A: no_answer"), std::string::npos) << l.error;
}

TEST(Locator, LiteralIpSkipsDns) {
    for (auto [host, port, want_port, want] :
         {std::tuple{"192.0.2.44", 0, 5060, "192.0.2.44"}, std::tuple{"192.0.2.44", 5070, 5070, "192.0.2.44"},
          std::tuple{"[2001:db8::5]", 0, 5060, "2001:db8::5"}, std::tuple{"2001:db8::5", 0, 5060, "2001:db8::5"}}) {
        FakeDns dns;
        FixedDraws d;
        Locator loc(req(host, uint16_t(port)), d.rng());
        EXPECT_TRUE(loc.done());
        const ServerList l = dns.run(loc);
        EXPECT_TRUE(dns.asked.empty());
        EXPECT_EQ(l.status, AnswerStatus::ok);
        EXPECT_EQ(l.source, Source::literal);
        EXPECT_EQ(l.expires_at, never_ms);
        ASSERT_EQ(addrs_of(l), (std::vector<std::string>{want}));
        EXPECT_EQ(l.records[0].targets[0].port, want_port);
    }
}

TEST(Locator, MaxAddressesPerRecordAndOnlyThoseTargetsAreAsked) {
    // seed P: "You may obtain lists of up to four addresses in this manner."
    FakeDns dns;
    std::vector<SrvRr> rrs;
    for (int i = 0; i < 10; i++) {
        const std::string h = "h" + std::to_string(i) + ".ex.com";
        rrs.push_back(SrvRr{uint16_t(i), 0, 5060, h, 60});
        dns.addr(h, "192.0.2." + std::to_string(i + 1));
    }
    dns.srv("_sip._udp.ex.com", rrs);
    FixedDraws d;
    LocateRequest r = req("ex.com");
    r.naptr = false;
    r.transports = {Transport::udp};
    Locator loc(r, d.rng());
    const ServerList l = dns.run(loc);
    EXPECT_EQ(addrs_of(l), (std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"}));
    EXPECT_EQ(dns.asked.size(), 1u + 4u);
}

TEST(Locator, MultiAddressTargetsFillTheCapInRank) {
    FakeDns dns;
    dns.srv("_sip._udp.ex.com", {{1, 0, 5060, "a.ex.com", 60}, {2, 0, 5062, "b.ex.com", 60}});
    dns.addr("a.ex.com", "192.0.2.1");
    dns.addr("a.ex.com", "192.0.2.2");
    dns.addr("a.ex.com", "192.0.2.3");
    dns.addr("b.ex.com", "192.0.2.9");
    dns.addr("b.ex.com", "192.0.2.10");
    FixedDraws d;
    LocateRequest r = req("ex.com");
    r.naptr = false;
    r.transports = {Transport::udp};
    Locator loc(r, d.rng());
    const ServerList l = dns.run(loc);
    EXPECT_EQ(addrs_of(l), (std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.9"}));
    EXPECT_EQ(l.records[0].targets[3].port, 5062);
}

TEST(Locator, FamiliesAndAddressOrder) {
    FakeDns dns;
    dns.addr("ex.com", "2001:db8::1");
    dns.addr("ex.com", "192.0.2.1");
    FixedDraws d;
    LocateRequest r = req("ex.com", 5060);
    r.families = Families::both;
    Locator both(r, d.rng());
    EXPECT_EQ(addrs_of(dns.run(both)), (std::vector<std::string>{"192.0.2.1", "2001:db8::1"}));
    r.families = Families::v6;
    Locator v6(r, d.rng());
    EXPECT_EQ(addrs_of(dns.run(v6)), (std::vector<std::string>{"2001:db8::1"}));
}

TEST(Locator, PolySrvExampleDropsTargetsWithoutAddresses) {
    // seed P's SRV example: three SRV targets, but only summerland and
    // naramata have A records in the answer; kelowna cannot be used.
    FakeDns dns;
    dns.srv("_sip._udp.example.poly.com", {{10, 0, 5060, "summerland.poly.com", 60},
                                           {20, 0, 5060, "kelowna.poly.com", 60},
                                           {30, 0, 5060, "naramata.poly.com", 60}});
    dns.addr("summerland.poly.com", "10.242.16.2");
    dns.addr("nakusp.poly.com", "10.149.16.9");
    dns.addr("naramata.poly.com", "192.17.51.43");
    FixedDraws d;
    LocateRequest r = req("example.poly.com");
    r.naptr = false;
    r.transports = {Transport::udp};
    Locator loc(r, d.rng());
    const ServerList l = dns.run(loc);
    EXPECT_EQ(addrs_of(l), (std::vector<std::string>{"10.242.16.2", "192.17.51.43"}));
    EXPECT_EQ(l.records[0].targets[0].host, "summerland.poly.com");
}

TEST(Locator, ExpiryIsTheEarliestAndSourceTheWeakest) {
    FakeDns dns;
    dns.srv("_sip._udp.ex.com", {{1, 0, 5060, "a.ex.com", 30}});
    dns.addr("a.ex.com", "192.0.2.1", 5);
    FixedDraws d;
    LocateRequest r = req("ex.com");
    r.naptr = false;
    r.transports = {Transport::udp};
    Locator loc(r, d.rng());
    for (const Question& q : loc.take_questions()) {
        Answer a = dns.answers.at(q);
        loc.on_answer(q, a, Source::network, 31000);
    }
    for (const Question& q : loc.take_questions())
        loc.on_answer(q, dns.answers.at(q), Source::static_, 6000);
    ASSERT_TRUE(loc.done());
    const ServerList l = loc.result();
    EXPECT_EQ(l.expires_at, 6000u);
    EXPECT_EQ(l.source, Source::static_);
    EXPECT_EQ(l.records[0].targets[0].ttl_s, 5u);
}

TEST(Locator, AnswersToUnaskedQuestionsAreIgnored) {
    FixedDraws d;
    Locator loc(req("ex.com", 5060), d.rng());
    EXPECT_EQ(loc.take_questions().size(), 1u);  // A only (families v4)
    Answer a;
    a.status = AnswerStatus::ok;
    a.addrs.push_back(AddrRr{IpAddr::v4(192, 0, 2, 1), 60});
    loc.on_answer(Question{"other.com", RrType::a}, a, Source::network, 1);
    EXPECT_FALSE(loc.done());
    loc.on_answer(Question{"ex.com", RrType::a}, a, Source::network, 1);
    EXPECT_TRUE(loc.done());
    EXPECT_TRUE(loc.take_questions().empty());
}

TEST(Locator, RequestValidation) {
    LocateRequest r = req("ex.com");
    EXPECT_TRUE(valid_request(r));
    r.transports.clear();
    EXPECT_FALSE(valid_request(r));
    r = req("");
    EXPECT_FALSE(valid_request(r));
    r = req("ex.com");
    r.max_addresses = 0;
    EXPECT_FALSE(valid_request(r));
    r = req("ex.com");
    r.transports = {Transport::udp, Transport::udp};
    std::string why;
    EXPECT_FALSE(valid_request(r, &why));
    EXPECT_FALSE(why.empty());
}

TEST(ServerList, SameServersIgnoresOrderWithinRecordButNotMembership) {
    PolyTable t1, t2;
    FixedDraws d1{{0, 0}}, d2{{100, 100}};
    Locator l1(req("poly.example.com"), d1.rng()), l2(req("poly.example.com"), d2.rng());
    const ServerList a = t1.dns.run(l1), b = t2.dns.run(l2);
    EXPECT_NE(addrs_of(a), addrs_of(b));
    EXPECT_TRUE(a.same_servers(b));
    PolyTable t3;
    t3.dns.answers.erase(Question{"d2.example.com", RrType::a});
    FixedDraws d3;
    Locator l3(req("poly.example.com"), d3.rng());
    EXPECT_FALSE(a.same_servers(t3.dns.run(l3)));
}

}  // namespace
}  // namespace sipedge::dns
