// Header-value and URI parsers on hand-written inputs.

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "sipparse/headers.h"
#include "sipparse/message.h"
#include "tests/support/guarded_buffer.h"

namespace sipedge::sip {
namespace {

using test::GuardedBuffer;

// Parses <text> with <fn> from a guarded buffer; the span covers it all.
struct In {
    explicit In(std::string_view t) : buf(t) {}
    Span all() const { return Span{0, uint16_t(buf.size())}; }
    std::string str(Span s) const { return std::string(s.str(buf.data())); }
    const char* b() const { return buf.data(); }
    GuardedBuffer buf;
};

TEST(Uri, SipWithEverything) {
    In in("sip:alice:secret@atlanta.example.com:5061;transport=tcp;maddr=239.255.255.1;lr;user=phone?subject=project%20x&priority=urgent");
    Uri u;
    ASSERT_TRUE(parse_uri(in.b(), in.all(), u));
    EXPECT_EQ(u.kind, UriScheme::sip);
    EXPECT_EQ(in.str(u.user), "alice");
    EXPECT_EQ(in.str(u.password), "secret");
    EXPECT_EQ(in.str(u.host.host), "atlanta.example.com");
    EXPECT_EQ(u.host.kind, HostKind::name);
    EXPECT_EQ(u.host.port, 5061);
    EXPECT_EQ(in.str(u.transport), "tcp");
    EXPECT_EQ(in.str(u.maddr), "239.255.255.1");
    EXPECT_EQ(in.str(u.user_param), "phone");
    EXPECT_TRUE(u.lr);
    EXPECT_EQ(in.str(u.headers), "subject=project%20x&priority=urgent");
}

TEST(Uri, SchemesAreCaseInsensitive) {
    Uri u;
    In a("SIPS:bob@BILOXI.example.com");
    ASSERT_TRUE(parse_uri(a.b(), a.all(), u));
    EXPECT_EQ(u.kind, UriScheme::sips);
    In t("TEL:+358-555-1234567;postd=pp22");
    ASSERT_TRUE(parse_uri(t.b(), t.all(), u));
    EXPECT_EQ(u.kind, UriScheme::tel);
    EXPECT_EQ(t.str(u.user), "+358-555-1234567");
    EXPECT_EQ(t.str(u.params), "postd=pp22");
    In o("urn:service:sos");
    ASSERT_TRUE(parse_uri(o.b(), o.all(), u));
    EXPECT_EQ(u.kind, UriScheme::other);
}

TEST(Uri, Rejects) {
    for (const char* bad : {
             "sip:",                       // no host
             "sip:user@",                  // no host after @
             "sip:@example.com",           // empty user
             "sip:a b@example.com",        // space
             "sip:host:65536",             // port too large
             "sip:host:",                  // empty port
             "sip:host:12ab",              // non-digit port
             "sip:user@2001:db8::1",       // RFC 5118 §4.2: unbracketed IPv6
             "sip:[2001:db8:::1]",         // RFC 5118 §4.10: three colons
             "sip:[2001:db8::1",           // unterminated reference
             "sip:host;;lr",               // empty parameter
             "sip:host?",                  // empty headers
             "sip:host?a",                 // header without '='
             "sip:us%4g@host",             // broken escape
             "sip:1.2.3.256",              // IPv4 octet out of range
             "sip:-bad.example.com",       // label starts with '-'
             "1sip:host",                  // scheme must start with a letter
             "<sip:host>",                 // brackets are not part of a URI
             "nocolon",
         }) {
        In in(bad);
        Uri u;
        EXPECT_FALSE(parse_uri(in.b(), in.all(), u)) << "accepted: " << bad;
    }
}

TEST(Host, Ipv6Forms) {
    struct Case { const char* text; bool ok; };
    for (const Case& c : std::initializer_list<Case>{
             {"::", true}, {"::1", true}, {"2001:db8::", true}, {"2001:db8::10:5070", true},
             {"1:2:3:4:5:6:7:8", true}, {"::ffff:192.0.2.1", true}, {"2001:db8::192.0.2.1", true},
             {"1:2:3:4:5:6:7:8:9", false}, {"1:2:3:4:5:6:7", false}, {"1::2::3", false},
             {"12345::1", false}, {"2001:db8:::1", false}, {":1:2", false}, {"1:2:", false},
             {"::ffff:192.0.2", false}, {"g::1", false}, {"", false}}) {
        EXPECT_EQ(valid_ipv6(c.text, std::strlen(c.text)), c.ok) << c.text;
    }
    EXPECT_TRUE(valid_ipv4("192.0.2.255", 11));
    EXPECT_FALSE(valid_ipv4("192.0.2", 7));
    EXPECT_FALSE(valid_ipv4("192.0.2.1.", 10));
    EXPECT_FALSE(valid_ipv4("1.2.3.4.5", 9));
}

TEST(Host, PortAndKinds) {
    HostPort hp;
    In a("[2001:db8::10]:5070");
    ASSERT_TRUE(parse_hostport(a.b(), a.all(), hp));
    EXPECT_EQ(hp.kind, HostKind::ipv6);
    EXPECT_EQ(a.str(hp.host), "2001:db8::10");
    EXPECT_TRUE(hp.has_port);
    EXPECT_EQ(hp.port, 5070);
    In b("10.0.0.1");
    ASSERT_TRUE(parse_hostport(b.b(), b.all(), hp));
    EXPECT_EQ(hp.kind, HostKind::ipv4);
    EXPECT_FALSE(hp.has_port);
}

TEST(CommaList, QuotesBracketsAndEmptyElements) {
    In in(R"("a, b" <sip:x@y;p=1,2>, (c,omment) z ,, last)");
    CommaList list(in.b(), in.all());
    Span el;
    std::vector<std::string> got;
    while (list.next(el)) got.push_back(in.str(el));
    EXPECT_FALSE(list.bad());
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0], R"("a, b" <sip:x@y;p=1,2>)");
    EXPECT_EQ(got[1], "(c,omment) z");
    EXPECT_EQ(got[2], "");
    EXPECT_EQ(got[3], "last");

    In empty("");
    CommaList none(empty.b(), empty.all());
    EXPECT_FALSE(none.next(el));
    In trailing("a,");
    CommaList t(trailing.b(), trailing.all());
    ASSERT_TRUE(t.next(el));
    ASSERT_TRUE(t.next(el));
    EXPECT_EQ(el.len, 0);
    EXPECT_FALSE(t.next(el));
    In unbalanced("\"open, x");
    CommaList u(unbalanced.b(), unbalanced.all());
    EXPECT_FALSE(u.next(el));
    EXPECT_TRUE(u.bad());
}

TEST(ParamList, ValuesOfEveryForm) {
    In in(R"(a ; b = "q;uoted" ;c=[2001:db8::1];d=2001:db8::2;e)");
    ParamList p(in.b(), in.all());
    Span n, v;
    std::vector<std::pair<std::string, std::string>> got;
    while (p.next(n, v)) got.emplace_back(in.str(n), in.str(v));
    EXPECT_FALSE(p.bad());
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got[1], (std::pair<std::string, std::string>{"b", "q;uoted"}));
    EXPECT_EQ(got[2].second, "[2001:db8::1]");
    EXPECT_EQ(got[3].second, "2001:db8::2");
    EXPECT_EQ(got[4].first, "e");
    for (const char* bad : {";a", "a;;b", "a;", "a=", "=b", "a=\"open"}) {
        In x(bad);
        ParamList q(x.b(), x.all());
        while (q.next(n, v)) {}
        EXPECT_TRUE(q.bad()) << bad;
    }
}

TEST(Via, Parameters) {
    In in("SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5067;ttl=255");
    Via v;
    ASSERT_TRUE(parse_via(in.b(), in.all(), v));
    EXPECT_EQ(v.transport, Transport::udp);
    EXPECT_EQ(in.str(v.sent_by.host), "pc33.atlanta.com");
    EXPECT_EQ(v.sent_by.port, 5066);
    EXPECT_TRUE(v.rfc3261_branch);
    EXPECT_EQ(in.str(v.received), "192.0.2.1");
    EXPECT_EQ(in.str(v.rport), "5067");
    EXPECT_EQ(v.ttl, 255);
    for (const char* bad : {"SIP/2.0/UDP", "SIP/2.0 host", "SIP/2.0/UDP host;ttl=256",
                            "SIP/2.0/UDP host;received=example.com", "SIP/2.0/UDP host;branch=",
                            "SIP/2.0/UDP host;rport=x", "SIP/2.0/UDP host:99999", "SIP/2.0/UDP host junk"}) {
        In x(bad);
        EXPECT_FALSE(parse_via(x.b(), x.all(), v)) << bad;
    }
}

TEST(NameAddr, Forms) {
    NameAddr na;
    In a(R"("Alice \"A\" Liddell" <sip:alice@example.com>;tag=1928301774;x=y)");
    ASSERT_TRUE(parse_name_addr(a.b(), a.all(), na));
    EXPECT_EQ(a.str(na.display), R"(Alice \"A\" Liddell)");
    EXPECT_EQ(a.str(na.uri), "sip:alice@example.com");
    EXPECT_EQ(a.str(na.tag), "1928301774");
    EXPECT_TRUE(na.angle);
    In b("sip:bob@example.com;tag=7");  // addr-spec: params are header params
    ASSERT_TRUE(parse_name_addr(b.b(), b.all(), na));
    EXPECT_EQ(b.str(na.uri), "sip:bob@example.com");
    EXPECT_EQ(b.str(na.tag), "7");
    In star("*");
    EXPECT_FALSE(parse_name_addr(star.b(), star.all(), na, false));
    EXPECT_TRUE(parse_name_addr(star.b(), star.all(), na, true));
    EXPECT_TRUE(na.star);
    for (const char* bad : {"Bell, Alexander <sip:a@b>", "< sip:a@b >", "\"open <sip:a@b>",
                            "sip:a@b?x=y", "<sip:a@b>;tag=1;tag=2", "<sip:a@b>;q=2", "<sip:a@b>;expires=x",
                            "<>", "<sip:a@b", "sip:a@b;;"}) {
        In x(bad);
        EXPECT_FALSE(parse_name_addr(x.b(), x.all(), na, true)) << bad;
    }
}

TEST(Values, CSeqNumbersAndCallId) {
    CSeq c;
    In a("4711 INVITE");
    ASSERT_TRUE(parse_cseq(a.b(), a.all(), c));
    EXPECT_EQ(c.number, 4711u);
    EXPECT_EQ(c.method, Method::invite);
    In big("2147483648 INVITE");  // RFC 3261 §8.1.1.5: below 2^31
    EXPECT_FALSE(parse_cseq(big.b(), big.all(), c));
    In nomethod("1");
    EXPECT_FALSE(parse_cseq(nomethod.b(), nomethod.all(), c));
    In nospace("1INVITE");
    EXPECT_FALSE(parse_cseq(nospace.b(), nospace.all(), c));

    uint32_t v;
    In n("0068");
    ASSERT_TRUE(parse_uint(n.b(), n.all(), 255, v));
    EXPECT_EQ(v, 68u);
    In neg("-1");
    EXPECT_FALSE(parse_uint(neg.b(), neg.all(), 255, v));
    In huge("99999999999999999999");
    EXPECT_FALSE(parse_uint(huge.b(), huge.all(), 0xffffffffu, v));

    In id("f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com");
    EXPECT_TRUE(valid_call_id(id.b(), id.all()));
    for (const char* bad : {"", "a@b@c", "@b", "a@", "has space"}) {
        In x(bad);
        EXPECT_FALSE(valid_call_id(x.b(), x.all())) << bad;
    }
}

TEST(Values, RetryAfterAndDate) {
    RetryAfter ra;
    In a("18000;duration=3600");
    ASSERT_TRUE(parse_retry_after(a.b(), a.all(), ra));
    EXPECT_EQ(ra.seconds, 18000u);
    EXPECT_TRUE(ra.has_duration);
    EXPECT_EQ(ra.duration, 3600u);
    In b("120 (I'm in a meeting)");
    ASSERT_TRUE(parse_retry_after(b.b(), b.all(), ra));
    EXPECT_EQ(ra.seconds, 120u);
    for (const char* bad : {"", "abc", "10 (unclosed", "10;duration=x", "4294967296"}) {
        In x(bad);
        EXPECT_FALSE(parse_retry_after(x.b(), x.all(), ra)) << bad;
    }
    In d("Sat, 13 Nov 2010 23:29:00 GMT");
    EXPECT_TRUE(parse_date(d.b(), d.all()));
    In est("Fri, 01 Jan 2010 16:00:00 EST");  // RFC 4475 §3.1.2.12
    EXPECT_FALSE(parse_date(est.b(), est.all()));
}

TEST(Digest, ChallengeAndCredentials) {
    Digest d;
    In ch(R"(Digest realm="carrier.example.net", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", qop="auth,auth-int", algorithm=SHA-256, stale=FALSE)");
    ASSERT_TRUE(parse_digest(ch.b(), ch.all(), d));
    EXPECT_TRUE(d.is_digest);
    EXPECT_EQ(ch.str(d.realm), "carrier.example.net");
    EXPECT_EQ(ch.str(d.nonce), "ea9c8e88df84f1cec4341ae6cbe5a359");
    EXPECT_EQ(ch.str(d.qop), "auth,auth-int");
    EXPECT_EQ(ch.str(d.algorithm), "SHA-256");
    EXPECT_EQ(ch.str(d.stale), "FALSE");
    In cr(R"(Digest username="trunk42", realm="carrier.example.net", nonce="abc", uri="sip:carrier.example.net", response="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", nc=00000001, qop=auth)");
    ASSERT_TRUE(parse_digest(cr.b(), cr.all(), d));
    EXPECT_EQ(cr.str(d.username), "trunk42");
    EXPECT_EQ(cr.str(d.uri), "sip:carrier.example.net");
    EXPECT_EQ(cr.str(d.nc), "00000001");
    EXPECT_EQ(cr.str(d.cnonce), "0a4f113b");
    In other("NoOneKnowsThisScheme opaque-data=here");  // RFC 4475 §3.3.7
    ASSERT_TRUE(parse_digest(other.b(), other.all(), d));
    EXPECT_FALSE(d.is_digest);
    In bad(R"(Digest realm="unterminated)");
    EXPECT_FALSE(parse_digest(bad.b(), bad.all(), d));
}

// Require / Proxy-Require / Supported: option-tag lists are comma lists of
// tokens (RFC 3261 §20.29, §20.32, §20.37); a proxy answers 420 listing the
// ones it does not support (RFC 4475 §3.3.5).
TEST(OptionTags, FromTheHeaderIndex) {
    const std::string msg =
        "OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        "To: <sip:a@example.com>\r\nFrom: <sip:b@example.com>;tag=1\r\nCall-ID: o@x\r\n"
        "CSeq: 1 OPTIONS\r\nRequire: 100rel , timer\r\nk: replaces,\r\n norefersub\r\n"
        "Proxy-Require: foo\r\nContent-Length: 0\r\n\r\n";
    GuardedBuffer buf(msg);
    Message m;
    ASSERT_EQ(parse(buf.data(), buf.size(), m), ParseStatus::ok);
    auto tags = [&](HeaderId id) {
        std::vector<std::string> out;
        for (const Header* h = m.find(id); h; h = m.next(h)) {
            CommaList list(buf.data(), h->value);
            Span el;
            while (list.next(el)) out.emplace_back(el.str(buf.data()));
        }
        return out;
    };
    EXPECT_EQ(tags(HeaderId::require), (std::vector<std::string>{"100rel", "timer"}));
    EXPECT_EQ(tags(HeaderId::supported), (std::vector<std::string>{"replaces", "norefersub"}));
    EXPECT_EQ(tags(HeaderId::proxy_require), (std::vector<std::string>{"foo"}));
}

TEST(Names, HeadersMethodsTransports) {
    EXPECT_EQ(header_from("v", 1), HeaderId::via);
    EXPECT_EQ(header_from("VIA", 3), HeaderId::via);
    EXPECT_EQ(header_from("Proxy-Authorization", 19), HeaderId::proxy_authorization);
    EXPECT_EQ(header_from("WWW-AUTHENTICATE", 16), HeaderId::www_authenticate);
    EXPECT_EQ(header_from("C%6Fntact", 9), HeaderId::other);  // RFC 4475 §3.1.1.5
    EXPECT_EQ(header_from("X-Unknown", 9), HeaderId::other);
    for (int i = 1; i < int(HeaderId::count_); i++) {
        const char* n = header_name(HeaderId(i));
        EXPECT_EQ(header_from(n, std::strlen(n)), HeaderId(i)) << n;
    }
    EXPECT_EQ(method_from("INVITE", 6), Method::invite);
    EXPECT_EQ(method_from("invite", 6), Method::extension);  // case-sensitive
    EXPECT_EQ(method_from("RE%47IST%45R", 12), Method::extension);
    EXPECT_EQ(transport_from("tls-sctp", 8), Transport::tls_sctp);
    EXPECT_EQ(transport_from("WSS", 3), Transport::wss);
    EXPECT_EQ(transport_from("FOO", 3), Transport::other);
}

}  // namespace
}  // namespace sipedge::sip
