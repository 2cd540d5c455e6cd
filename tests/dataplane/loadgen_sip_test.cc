// The load generator's DPDK-free parts (bench/dataplane/loadgen_sip.h,
// loadgen_hist.h): every message it builds is one sipedge's parser accepts
// with the right body length; what sipedge relays back scans to the fields
// each side needs; the histogram keeps its 1/32 error bound.

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>

#include "bench/dataplane/loadgen_hist.h"
#include "bench/dataplane/loadgen_sip.h"
#include "sipparse/message.h"

namespace sipedge::bench {
namespace {

constexpr uint32_t ip(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    return a << 24 | b << 16 | c << 8 | d;
}

const CallAddrs addrs{Addr{ip(198, 18, 0, 11), 5060}, Addr{ip(198, 18, 0, 1), 5060},
                      Addr{ip(198, 18, 0, 200), 5060}};

// sipedge's own parser accepts <m> and its body is exactly Content-Length.
void expect_sipedge_parses(const std::string& m) {
    sip::Message msg;
    ASSERT_EQ(sip::parse(m.data(), m.size(), msg), sip::ParseStatus::ok) << m;
    ASSERT_TRUE(msg.has_content_length) << m;
    EXPECT_EQ(msg.body.len, msg.content_length) << m;
    EXPECT_EQ(size_t(msg.body.off) + msg.body.len, m.size()) << m;
}

// What sipedge does to a request it forwards, as far as the UAS can tell:
// its Via on top and (INVITE) a Record-Route.
std::string as_forwarded(std::string_view req, bool rr) {
    const size_t eol = req.find("\r\n") + 2;
    std::string out(req.substr(0, eol));
    out += "Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-edge1\r\n";
    if (rr) out += "Record-Route: <sip:198.18.0.1:5060;lr>\r\n";
    out += req.substr(eol);
    return out;
}

std::string built(size_t n, const char* b) { return std::string(b, n); }

TEST(LoadgenSip, InviteScansAndParses) {
    char b[2048];
    const size_t n = build_invite(b, sizeof(b), addrs, CallRef{7, 123456});
    ASSERT_GT(n, 0u);
    const std::string inv = built(n, b);
    expect_sipedge_parses(inv);
    EXPECT_NE(inv.find("c=IN IP4 198.18.0.11"), std::string::npos);

    SipScan s;
    ASSERT_TRUE(scan(inv.data(), inv.size(), s));
    EXPECT_TRUE(s.request);
    EXPECT_EQ(s.method, SipMethod::invite);
    EXPECT_EQ(s.nvia, 1);
    EXPECT_EQ(s.to_tag.len, 0);
    CallRef c;
    ASSERT_TRUE(parse_call_id(s.call_id.str(inv.data()), c));
    EXPECT_EQ(c.slot, 7u);
    EXPECT_EQ(c.seq, 123456u);
    EXPECT_EQ(build_invite(b, 100, addrs, CallRef{7, 1}), 0u);  // too small: refused
}

// The UAS's 180/200 to a forwarded INVITE copies both Vias in order and the
// Record-Route, tags To, and is what the caller then scans.
TEST(LoadgenSip, UasResponseCopiesViasAndRecordRoute) {
    char b[2048];
    const std::string fwd = as_forwarded(built(build_invite(b, sizeof(b), addrs, {3, 99}), b), true);
    SipScan req;
    ASSERT_TRUE(scan(fwd.data(), fwd.size(), req));
    ASSERT_EQ(req.nvia, 2);
    ASSERT_EQ(req.nrr, 1);

    const size_t n = build_response(b, sizeof(b), fwd.data(), req, 200, "OK", addrs.uas, 99, true);
    ASSERT_GT(n, 0u);
    const std::string ok = built(n, b);
    expect_sipedge_parses(ok);
    const size_t v1 = ok.find("branch=z9hG4bK-edge1"), v2 = ok.find("branch=z9hG4bK-lg3.99.i");
    ASSERT_NE(v1, std::string::npos);
    ASSERT_NE(v2, std::string::npos);
    EXPECT_LT(v1, v2);  // RFC 3261 §8.2.6.2: Vias in the request's order
    EXPECT_NE(ok.find("Contact: <sip:299@198.18.0.200:5060>"), std::string::npos);

    SipScan rsp;
    ASSERT_TRUE(scan(ok.data(), ok.size(), rsp));
    EXPECT_FALSE(rsp.request);
    EXPECT_EQ(rsp.status, 200);
    EXPECT_EQ(rsp.method, SipMethod::invite);  // from CSeq
    EXPECT_EQ(rsp.to_tag.str(ok.data()), "u99");
    EXPECT_EQ(rsp.rr_value.str(ok.data()), "<sip:198.18.0.1:5060;lr>");

    // 100 Trying gets no To tag from us (RFC 3261 §8.2.6.1: it may have none).
    const size_t t = build_response(b, sizeof(b), fwd.data(), req, 100, "Trying", addrs.uas, 99,
                                    false);
    SipScan tr;
    ASSERT_TRUE(scan(b, t, tr));
    EXPECT_EQ(tr.to_tag.len, 0);
}

TEST(LoadgenSip, InDialogRequestsFollowTheRouteSet) {
    char b[2048];
    for (const bool ack : {true, false}) {
        const size_t n = build_in_dialog(b, sizeof(b), addrs, CallRef{5, 42}, ack,
                                         "<sip:198.18.0.1:5060;lr>", "u42");
        ASSERT_GT(n, 0u);
        const std::string m = built(n, b);
        expect_sipedge_parses(m);
        EXPECT_EQ(m.rfind(ack ? "ACK sip:242@198.18.0.200:5060 " : "BYE sip:242@", 0), 0u);
        EXPECT_NE(m.find("Route: <sip:198.18.0.1:5060;lr>\r\n"), std::string::npos);
        EXPECT_NE(m.find(ack ? "CSeq: 1 ACK" : "CSeq: 2 BYE"), std::string::npos);
        SipScan s;
        ASSERT_TRUE(scan(m.data(), m.size(), s));
        EXPECT_EQ(s.method, ack ? SipMethod::ack : SipMethod::bye);
        EXPECT_EQ(s.to_tag.str(m.data()), "u42");
    }
    // ACK for a non-2xx reuses the INVITE's branch (RFC 3261 §17.1.1.3).
    const size_t n = build_ack_non2xx(b, sizeof(b), addrs, CallRef{5, 42}, "x1");
    const std::string m = built(n, b);
    expect_sipedge_parses(m);
    EXPECT_NE(m.find(";branch=z9hG4bK-lg5.42.i\r\n"), std::string::npos);
}

TEST(LoadgenSip, ScanAcceptsCompactFormsAndRejectsBroken) {
    const std::string compact =
        "BYE sip:a@198.18.0.200 SIP/2.0\nv: SIP/2.0/UDP 198.18.0.1\nf: <sip:x@y>;tag=1\n"
        "t: <sip:z@y>;tag=abc;foo\ni: lg1.2@loadgen\nCSeq: 2 BYE\nl: 0\n\n";
    SipScan s;
    ASSERT_TRUE(scan(compact.data(), compact.size(), s));
    EXPECT_EQ(s.method, SipMethod::bye);
    EXPECT_EQ(s.to_tag.str(compact.data()), "abc");
    EXPECT_EQ(s.call_id.str(compact.data()), "lg1.2@loadgen");

    const std::string no_blank = compact.substr(0, compact.size() - 1);
    EXPECT_FALSE(scan(no_blank.data(), no_blank.size(), s));
    std::string no_colon = compact;
    no_colon.replace(no_colon.find("CSeq:"), 5, "CSeq ");
    EXPECT_FALSE(scan(no_colon.data(), no_colon.size(), s));
    std::string no_callid = compact;
    no_callid.replace(no_callid.find("i: "), 3, "X: ");
    EXPECT_FALSE(scan(no_callid.data(), no_callid.size(), s));
    const std::string bad_status = "SIP/2.0 2x0 OK\r\n\r\n";
    EXPECT_FALSE(scan(bad_status.data(), bad_status.size(), s));
}

TEST(LoadgenSip, CallIdRoundTripAndRejects) {
    CallRef c;
    EXPECT_TRUE(parse_call_id("lg0.0@loadgen", c));
    EXPECT_TRUE(parse_call_id("lg65535.4294967295@loadgen", c));
    EXPECT_EQ(c.slot, 65535u);
    EXPECT_EQ(c.seq, 4294967295u);
    for (const char* bad : {"", "lg", "lg1@loadgen", "lg1.@loadgen", "lg.1@loadgen",
                            "xx1.2@loadgen", "lg1.2@other", "lg1.4294967296@loadgen",
                            "lg1.2@loadgenX"})
        EXPECT_FALSE(parse_call_id(bad, c)) << bad;
}

TEST(LogHistogram, BucketsAreContiguousWithinOneThirtySecond) {
    size_t prev = 0;
    for (uint64_t v = 0; v < 200000; v++) {
        const size_t i = LogHistogram::index(v);
        ASSERT_TRUE(i == prev || i == prev + 1) << v;  // no gaps, monotone
        prev = i;
        ASSERT_GE(LogHistogram::upper(i), v);
        ASSERT_LE(LogHistogram::upper(i) - v, v / 32) << v;
    }
    const uint64_t big = ~uint64_t(0);
    EXPECT_LT(LogHistogram::index(big), LogHistogram::buckets);
    EXPECT_EQ(LogHistogram::upper(LogHistogram::index(big)), big);
}

TEST(LogHistogram, Percentiles) {
    LogHistogram h;
    EXPECT_EQ(h.percentile(50), 0u);
    for (uint64_t v = 1; v <= 10000; v++) h.record(v * 1000);  // 1 µs .. 10 ms in ns
    EXPECT_EQ(h.count(), 10000u);
    EXPECT_EQ(h.min(), 1000u);
    EXPECT_EQ(h.max(), 10000000u);
    EXPECT_NEAR(h.mean(), 5000500.0, 1.0);
    for (const double p : {50.0, 90.0, 99.0, 99.9}) {
        const double want = p / 100 * 10000 * 1000;
        EXPECT_GE(double(h.percentile(p)), want) << p;
        EXPECT_LE(double(h.percentile(p)), want * (1 + 1.0 / 32)) << p;
    }
    EXPECT_EQ(h.percentile(100), h.max());
}

}  // namespace
}  // namespace sipedge::bench
