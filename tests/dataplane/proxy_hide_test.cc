// Topology hiding (issue 16, dataplane/proxy_hide.cc; part of dp_proxy): a
// trunk with topology-hiding on sees sipedge only — one Via, our
// Record-Route, a Contact naming us with ;sxh= — and everything comes back
// to the access side as it was sent.

#include "tests/dataplane/proxy_fixture.h"

namespace sipedge::dp {
namespace {

const Endpoint access_proxy{ip_of(5), 5060};

// Every header line of <m> whose name is <name> (full form), in order.
std::vector<std::string> lines(const std::string& m, const std::string& name) {
    std::vector<std::string> out;
    size_t p = 0;
    while ((p = m.find("\r\n", p)) != std::string::npos) {
        const size_t s = p + 2, e = m.find("\r\n", s);
        if (e == s || e == std::string::npos) break;
        if (m.compare(s, name.size() + 1, name + ":") == 0) out.push_back(m.substr(s, e - s));
        p = e;
    }
    return out;
}

std::string uri_of(const std::string& line) {
    const size_t a = line.find('<'), b = line.find('>');
    return a == std::string::npos || b == std::string::npos ? std::string() : line.substr(a + 1, b - a - 1);
}

class HideTest : public ProxyTest {
protected:
    void SetUp() override {
        ProxyTest::SetUp();
        auto t = make_table({primary, secondary}, {0, 1});
        auto r = std::make_shared<failover::TrunkRoutes>(*t->find(0));
        r->flags |= failover::routes_hide_topology;
        failover::TableBuilder b(nullptr);
        b.set(std::move(r));
        publish(b.build());
        routes.hidden = cars;  // both carriers belong to the hidden trunk
        routes.hidden_count = 2;
    }
    // An INVITE through an access-side proxy: two Vias, its Record-Route.
    static std::string access_invite(const char* method = "INVITE", const char* branch = "z9hG4bK-c1") {
        return std::string(method) + " sip:1000@192.0.2.10:5060 SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 192.0.2.5:5060;branch=z9hG4bK-px1\r\n"
               "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch + "\r\n"
               "Record-Route: <sip:192.0.2.5;lr>\r\n"
               "From: <sip:a@example.com>;tag=f1\r\nTo: <sip:1000@example.com>\r\n"
               "Call-ID: c1\r\nCSeq: 1 " + method + "\r\n"
               "Contact: <sip:a@192.0.2.1:5062;transport=udp>\r\nMax-Forwards: 70\r\n"
               "Content-Length: 0\r\n\r\n";
    }
};

TEST_F(HideTest, TheCarrierSeesOnlyUsAndTheCallerGetsEverythingBack) {
    in(access_proxy, access_invite());
    ASSERT_EQ(sink.out.size(), 2u) << (sink.out.empty() ? std::string() : sink.out[0].msg);  // 100 Trying, the INVITE
    const std::string fwd = sink.out[1].msg;
    EXPECT_EQ(sink.out[1].to, primary);
    // Nothing of the access side in Via, Record-Route or Contact.
    const auto vias = lines(fwd, "Via");
    ASSERT_EQ(vias.size(), 1u) << fwd;
    EXPECT_EQ(vias[0].find("SIP/2.0/UDP 192.0.2.10:5060;branch="), 5u) << vias[0];
    const auto rrs = lines(fwd, "Record-Route");
    ASSERT_EQ(rrs.size(), 1u) << fwd;
    EXPECT_NE(rrs[0].find("<sip:192.0.2.10:5060;lr;th;sx="), std::string::npos) << rrs[0];
    const auto contact = lines(fwd, "Contact");
    ASSERT_EQ(contact.size(), 1u);
    EXPECT_EQ(contact[0].find("Contact: <sip:a@192.0.2.10:5060;transport=udp;sxh="), 0u) << contact[0];
    EXPECT_EQ(fwd.find("192.0.2.1:"), std::string::npos) << fwd;
    EXPECT_EQ(fwd.find("192.0.2.5"), std::string::npos) << fwd;
    EXPECT_EQ(st.hide_requests, 1u);
    sip::Message m;
    ASSERT_EQ(sip::parse(fwd.data(), fwd.size(), m), sip::ParseStatus::ok) << fwd;

    // 200 from the carrier, its own Record-Route on top: the caller gets its
    // two Vias and the access proxy's Record-Route after ours.
    std::string ok = response_to(fwd, 200, "OK");
    ok.insert(ok.find("Record-Route:"), "Record-Route: <sip:192.0.2.21;lr>\r\n");
    in(primary, ok);
    ASSERT_EQ(sink.out.size(), 1u);
    const std::string up = sink.out[0].msg;
    EXPECT_EQ(sink.out[0].to, access_proxy);
    const auto up_vias = lines(up, "Via");
    ASSERT_EQ(up_vias.size(), 2u) << up;
    EXPECT_EQ(up_vias[0], "Via: SIP/2.0/UDP 192.0.2.5:5060;branch=z9hG4bK-px1");
    EXPECT_EQ(up_vias[1], "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-c1");
    const auto up_rr = lines(up, "Record-Route");
    ASSERT_EQ(up_rr.size(), 3u) << up;
    EXPECT_EQ(up_rr[0], "Record-Route: <sip:192.0.2.21;lr>");
    EXPECT_EQ(up_rr[1], rrs[0]);
    EXPECT_EQ(up_rr[2], "Record-Route: <sip:192.0.2.5;lr>");
    EXPECT_EQ(st.hide_restored, 1u);

    // The carrier's BYE: to our Record-Route, Request-URI the Contact it was
    // shown. It reaches the caller's real Contact, the URI restored.
    const std::string bye = "BYE " + uri_of(contact[0]) + " SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bK-b1\r\n"
                            "Route: " + uri_of(rrs[0]).insert(0, "<") + ">\r\n"
                            "From: <sip:1000@example.com>;tag=t9\r\nTo: <sip:a@example.com>;tag=f1\r\n"
                            "Call-ID: c1\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    in(primary, bye);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(sink.out[0].to, (Endpoint{ip_of(1), 5062}));
    EXPECT_EQ(sink.out[0].msg.find("BYE sip:a@192.0.2.1:5062;transport=udp SIP/2.0\r\n"), 0u) << sink.out[0].msg;
    EXPECT_EQ(st.hide_decoded, 1u);
}

TEST_F(HideTest, AnSxhWeDidNotMintGets404) {
    const std::string bye = "BYE sip:a@192.0.2.10:5060;sxh=00112233445566778899 SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bK-b2\r\n"
                            "From: <sip:1000@example.com>;tag=t9\r\nTo: <sip:a@example.com>;tag=f1\r\n"
                            "Call-ID: c9\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    in(primary, bye);
    ASSERT_EQ(sink.out.size(), 1u);
    EXPECT_EQ(status_of(sink.out[0].msg), 404);
    EXPECT_EQ(st.hide_bad, 1u);
    EXPECT_EQ(st.hide_decoded, 0u);
}

// No open relay (issue 16): from the access side, outside a dialog of ours, a
// ;sxh= we minted steers nothing: the request goes to the trunk as any other.
TEST_F(HideTest, AnSxhFromTheAccessSideOutsideOurDialogsSteersNothing) {
    char code[hide_len];
    hide_encode(zero_key, ip_of(23), 5070, code);  // a host that is no trunk server
    const std::string inv = "INVITE sip:x@192.0.2.10:5060;sxh=" + std::string(code, hide_len) + " SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-x1\r\n"
                            "From: <sip:a@example.com>;tag=x1\r\nTo: <sip:x@example.com>\r\n"
                            "Call-ID: x1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    in(caller, inv);
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(sink.out[1].to, primary);
    for (const Sent& x : sink.out) EXPECT_NE(x.to.ip, ip_of(23));
    EXPECT_EQ(st.hide_decoded, 0u);
}

TEST_F(HideTest, AResponseWeGenerateCarriesTheCallersVias) {
    in(access_proxy, access_invite());
    ASSERT_EQ(sink.out.size(), 2u);
    in(primary, response_to(sink.out[1].msg, 503, "Service Unavailable"));  // rollover
    ASSERT_GE(sink.out.size(), 2u);  // ACK to the primary, the INVITE to the secondary
    const std::string second = sink.out.back().msg;
    EXPECT_EQ(sink.out.back().to, secondary);
    EXPECT_EQ(lines(second, "Via").size(), 1u) << second;
    in(secondary, response_to(second, 503, "Service Unavailable"));
    // Every server refused: our own 503 upstream, with both access Vias.
    const auto it = std::find_if(sink.out.begin(), sink.out.end(), [](const Sent& s) { return status_of(s.msg) == 503; });
    ASSERT_NE(it, sink.out.end());
    EXPECT_EQ(it->to, access_proxy);
    const auto vias = lines(it->msg, "Via");
    ASSERT_EQ(vias.size(), 2u) << it->msg;
    EXPECT_EQ(vias[1], "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-c1");
}

TEST_F(HideTest, ARegistrarsContactComesBackAsTheRegistrantWroteIt) {
    const std::string reg = "REGISTER sip:example.com SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-r1\r\n"
                            "From: <sip:a@example.com>;tag=f2\r\nTo: <sip:a@example.com>\r\n"
                            "Call-ID: r1\r\nCSeq: 1 REGISTER\r\n"
                            "Contact: <sip:a@192.0.2.1:5062>;expires=600\r\nMax-Forwards: 70\r\n"
                            "Content-Length: 0\r\n\r\n";
    in(caller, reg);
    ASSERT_EQ(sink.out.size(), 1u);
    const std::string fwd = sink.out[0].msg;
    const auto c = lines(fwd, "Contact");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].find("Contact: <sip:a@192.0.2.10:5060;sxh="), 0u) << c[0];
    EXPECT_NE(c[0].find(">;expires=600"), std::string::npos) << c[0];
    std::string ok = response_to(fwd, 200, "OK");
    ok.insert(ok.find("Content-Length"), c[0] + "\r\n");
    in(primary, ok);
    ASSERT_EQ(sink.out.size(), 1u);
    const auto back = lines(sink.out[0].msg, "Contact");
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0], "Contact: <sip:a@192.0.2.1:5062>;expires=600");
}

TEST_F(HideTest, ACarriersCallGetsTheAnswerHidden) {
    // A new INVITE from the hidden carrier to the access side; the access
    // side's 200 names its Contact and an access proxy's Record-Route.
    const std::string inv = "INVITE sip:100@192.0.2.10 SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bK-i1\r\n"
                            "From: <sip:+15551234@carrier>;tag=c1\r\nTo: <sip:100@example.com>\r\n"
                            "Call-ID: in1\r\nCSeq: 1 INVITE\r\nContact: <sip:+15551234@192.0.2.21>\r\n"
                            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    in(primary, inv);
    ASSERT_EQ(sink.out.size(), 2u);
    const std::string fwd = sink.out[1].msg;
    EXPECT_EQ(sink.out[1].to, caller);
    const auto rrs = lines(fwd, "Record-Route");
    ASSERT_EQ(rrs.size(), 1u);
    EXPECT_NE(rrs[0].find(";th;sx="), std::string::npos);
    std::string ok = response_to(fwd, 200, "OK");
    ok.insert(ok.find("Record-Route:"), "Record-Route: <sip:192.0.2.5;lr>\r\n");
    ok.insert(ok.find("Content-Length"), "Contact: <sip:100@192.0.2.1:5070>\r\n");
    in(caller, ok);
    ASSERT_EQ(sink.out.size(), 1u);
    const std::string down = sink.out[0].msg;
    EXPECT_EQ(sink.out[0].to, primary);
    EXPECT_EQ(down.find("192.0.2.1:"), std::string::npos) << down;
    EXPECT_EQ(down.find("192.0.2.5"), std::string::npos) << down;
    const auto c = lines(down, "Contact");
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].find("Contact: <sip:100@192.0.2.10:5060;sxh="), 0u) << c[0];
    EXPECT_EQ(lines(down, "Record-Route"), rrs);
    EXPECT_EQ(st.hide_responses, 1u);
}

// What sipp sends: a Contact without < >, no Record-Route (ours goes where
// the Via lines were removed), a body.
TEST_F(HideTest, AContactWithoutAnglesAndNoRecordRoute) {
    const std::string inv = "INVITE sip:service@192.0.2.10:5060 SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-s1\r\n"
                            "From: sipp <sip:sipp@192.0.2.1:5060>;tag=s1\r\nTo: <sip:service@192.0.2.10:5060>\r\n"
                            "Call-ID: 1-1@192.0.2.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@192.0.2.1:5060\r\n"
                            "Max-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length:   5\r\n\r\nv=0\r\n";
    in(caller, inv);
    ASSERT_EQ(sink.out.size(), 2u) << sink.out[0].msg;
    const std::string fwd = sink.out[1].msg;
    ASSERT_EQ(lines(fwd, "Via").size(), 1u) << fwd;
    ASSERT_EQ(lines(fwd, "Record-Route").size(), 1u) << fwd;
    EXPECT_EQ(lines(fwd, "Contact")[0].find("Contact: <sip:sipp@192.0.2.10:5060;sxh="), 0u) << fwd;
    EXPECT_EQ(fwd.substr(fwd.size() - 5), "v=0\r\n");
    sip::Message m;
    EXPECT_EQ(sip::parse(fwd.data(), fwd.size(), m), sip::ParseStatus::ok) << fwd;
}

TEST_F(HideTest, ATrunkWithoutItIsUntouched) {
    routes.hidden_count = 0;
    publish(make_table({primary, secondary}, {0, 1}));
    in(access_proxy, access_invite());
    ASSERT_EQ(sink.out.size(), 2u);
    EXPECT_EQ(lines(sink.out[1].msg, "Via").size(), 3u);
    EXPECT_EQ(lines(sink.out[1].msg, "Contact")[0], "Contact: <sip:a@192.0.2.1:5062;transport=udp>");
    EXPECT_EQ(st.hide_requests, 0u);
}

}  // namespace
}  // namespace sipedge::dp
