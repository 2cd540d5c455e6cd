// Rewriter: each edit alone, edits combined, unchanged bytes untouched.

#include <gtest/gtest.h>

#include <string>

#include "sipparse/message.h"
#include "sipparse/rewrite.h"

namespace sipedge::sip {
namespace {

const std::string kReq =
    "INVITE sip:+15551230000@edge.example.net SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKabc;rport\r\n"
    "Route: <sip:edge.example.net;lr>, <sip:core.example.net;lr>\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:+15551230000@edge.example.net>\r\n"
    "From: <sip:100@pbx.example.org>;tag=9fx\r\n"
    "Call-ID: c1@pbx\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

struct Rw {
    explicit Rw(const std::string& in) : in(in) { ok = parse(this->in.data(), this->in.size(), m) == ParseStatus::ok; }
    std::string run(Rewriter& r) {
        char out[4096];
        const size_t n = r.finish(out, sizeof(out));
        return std::string(out, n);
    }
    std::string in;
    Message m;
    bool ok;
};

TEST(Rewrite, NoEditsCopiesTheMessage) {
    Rw t(kReq);
    ASSERT_TRUE(t.ok);
    Rewriter r(t.in.data(), t.m);
    EXPECT_EQ(t.run(r), kReq);
}

TEST(Rewrite, ProxyForwardingEdits) {
    Rw t(kReq);
    ASSERT_TRUE(t.ok);
    Rewriter r(t.in.data(), t.m);
    ASSERT_TRUE(r.prepend_via("SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKedge1"));
    ASSERT_TRUE(r.set_request_uri("sip:+15551230000@carrier.example.com:5060"));
    ASSERT_TRUE(r.decrement_max_forwards());
    ASSERT_TRUE(r.add_record_route("<sip:203.0.113.1;lr>"));
    ASSERT_TRUE(r.remove_top_route());
    // Edits at one offset keep the order they were recorded in.
    const std::string out = t.run(r);
    EXPECT_EQ(out,
              "INVITE sip:+15551230000@carrier.example.com:5060 SIP/2.0\r\n"
              "Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKedge1\r\n"
              "Record-Route: <sip:203.0.113.1;lr>\r\n"
              "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKabc;rport\r\n"
              "Route: <sip:core.example.net;lr>\r\n"
              "Max-Forwards: 69\r\n"
              "To: <sip:+15551230000@edge.example.net>\r\n"
              "From: <sip:100@pbx.example.org>;tag=9fx\r\n"
              "Call-ID: c1@pbx\r\n"
              "CSeq: 1 INVITE\r\n"
              "Content-Length: 4\r\n"
              "\r\n"
              "v=0\n");
    Message m2;
    ASSERT_EQ(parse(out.data(), out.size(), m2), ParseStatus::ok);
    EXPECT_EQ(m2.via_count, 2);
    EXPECT_EQ(m2.max_forwards, 69u);
}

// placed(): where the caller's own text landed in the output, whatever the
// order the edits were recorded in; npos for text that is not an edit's.
TEST(Rewrite, PlacedReportsWhereTheViaAndRecordRouteLanded) {
    Rw t(kReq);
    ASSERT_TRUE(t.ok);
    const std::string via = "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKsx1-0123456789";
    const std::string rr = "<sip:192.0.2.1;lr;sx=0123456789abcdef>";
    Rewriter r(t.in.data(), t.m);
    ASSERT_TRUE(r.remove_top_route());
    ASSERT_TRUE(r.add_record_route(rr));
    ASSERT_TRUE(r.prepend_via(via));
    ASSERT_TRUE(r.decrement_max_forwards());
    const std::string out = t.run(r);
    ASSERT_FALSE(out.empty());
    const size_t br = via.find("z9hG4bK");
    EXPECT_EQ(r.placed(via.data() + br), out.find("z9hG4bKsx1"));
    EXPECT_EQ(r.placed(via.data()), out.find(via));
    EXPECT_EQ(r.placed(rr.data()), out.find(rr));
    EXPECT_EQ(out.substr(r.placed(rr.data()), rr.size()), rr);
    EXPECT_EQ(r.placed(rr.data() + rr.size()), Rewriter::npos);  // one past the end
    EXPECT_EQ(r.placed(t.in.data()), Rewriter::npos);            // the input's own bytes
}

TEST(Rewrite, RemoveTopViaFromResponse) {
    const std::string resp =
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bKedge1, SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKabc\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n"
        "To: <sip:a@b>;tag=2\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
        "Content-Length: 0\r\n\r\n";
    Rw t(resp);
    ASSERT_TRUE(t.ok);
    Rewriter r(t.in.data(), t.m);
    ASSERT_TRUE(r.remove_top_via());
    const std::string out = t.run(r);
    EXPECT_NE(out.find("Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKabc\r\n"), std::string::npos) << out;
    Message m2;
    ASSERT_EQ(parse(out.data(), out.size(), m2), ParseStatus::ok);
    EXPECT_EQ(m2.via_count, 2);
    EXPECT_EQ(m2.top_via.branch.str(out.data()), "z9hG4bKabc");

    // A single-value top Via line goes away entirely.
    Rw t2(out);
    Rewriter r2(t2.in.data(), t2.m);
    ASSERT_TRUE(r2.remove_top_via());
    const std::string out2 = t2.run(r2);
    Message m3;
    ASSERT_EQ(parse(out2.data(), out2.size(), m3), ParseStatus::ok);
    EXPECT_EQ(m3.via_count, 1);
    EXPECT_EQ(m3.top_via.branch.str(out2.data()), "z9hG4bKx");
    EXPECT_EQ(out2.size(), out.size() - std::string("Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKabc\r\n").size());
}

TEST(Rewrite, MaxForwardsZeroIsRefusedAndMissingIsAdded) {
    std::string zero = kReq;
    zero.replace(zero.find("Max-Forwards: 70"), 16, "Max-Forwards: 0 ");
    Rw t(zero);
    ASSERT_TRUE(t.ok);
    Rewriter r(t.in.data(), t.m);
    EXPECT_FALSE(r.decrement_max_forwards());

    std::string none = kReq;
    none.erase(none.find("Max-Forwards: 70\r\n"), 18);
    Rw t2(none);
    ASSERT_TRUE(t2.ok);
    Rewriter r2(t2.in.data(), t2.m);
    ASSERT_TRUE(r2.decrement_max_forwards(70));
    const std::string out = t2.run(r2);
    Message m2;
    ASSERT_EQ(parse(out.data(), out.size(), m2), ParseStatus::ok);
    EXPECT_EQ(m2.max_forwards, 70u);
}

TEST(Rewrite, TrailingDatagramBytesAreDroppedAndContentLengthAdded) {
    std::string extra = kReq + "garbage";
    Rw t(extra);
    ASSERT_TRUE(t.ok);
    Rewriter r(t.in.data(), t.m);
    EXPECT_EQ(t.run(r), kReq);

    std::string nocl = kReq;
    nocl.erase(nocl.find("Content-Length: 4\r\n"), 19);
    Rw t2(nocl);
    ASSERT_TRUE(t2.ok);
    Rewriter r2(t2.in.data(), t2.m);
    const std::string out = t2.run(r2);
    Message m2;
    ASSERT_EQ(parse(out.data(), out.size(), m2), ParseStatus::ok);
    EXPECT_TRUE(m2.has_content_length);
    EXPECT_EQ(m2.content_length, 4u);
}

TEST(Rewrite, OverflowAndTooManyEdits) {
    Rw t(kReq);
    ASSERT_TRUE(t.ok);
    Rewriter r(t.in.data(), t.m);
    char small[16];
    EXPECT_EQ(r.finish(small, sizeof(small)), 0u);
    Rewriter r2(t.in.data(), t.m);
    for (size_t i = 0; i < Rewriter::max_edits; i++) ASSERT_TRUE(r2.add_header("X-N", "1"));
    EXPECT_FALSE(r2.add_header("X-N", "1"));
    char out[4096];
    EXPECT_EQ(r2.finish(out, sizeof(out)), 0u);
}

TEST(Rewrite, AddHeaderGoesBeforeTheBlankLine) {
    Rw t(kReq);
    ASSERT_TRUE(t.ok);
    Rewriter r(t.in.data(), t.m);
    ASSERT_TRUE(r.add_header("P-Sipedge-Trunk", "carrier-a"));
    const std::string out = t.run(r);
    EXPECT_NE(out.find("Content-Length: 4\r\nP-Sipedge-Trunk: carrier-a\r\n\r\nv=0\n"), std::string::npos) << out;
}

// Topology hiding's edits (issue 16): every Via line off with ours in their
// place, lines inserted after the last Record-Route, a span replaced, a cut.
TEST(Rewrite, RemoveAllInsertBeforeAndAfterReplaceCut) {
    const std::string in =
        "INVITE sip:a@x SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1\r\n"
        "v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK3\r\n"
        "Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\n"
        "Contact: <sip:a@10.0.0.1>\r\n"
        "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK4\r\n"
        "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
        "Content-Length: 0\r\n\r\n";
    Rw t(in);
    ASSERT_TRUE(t.ok);
    Rewriter r(t.in.data(), t.m);
    EXPECT_TRUE(r.prepend_via("SIP/2.0/UDP edge;branch=z9hG4bKe"));
    EXPECT_TRUE(r.remove_all(HeaderId::via));  // two adjacent lines as one edit, then the last
    EXPECT_TRUE(r.insert_after_last(HeaderId::record_route, "Record-Route: <sip:p3;lr>\r\n"));
    const Header* c = t.m.find(HeaderId::contact);
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(r.replace(c->value, "<sip:a@edge;sxh=1>"));
    const Header* rr = t.m.find(HeaderId::record_route);
    const uint32_t second = uint32_t(t.in.find("<sip:p2"));
    EXPECT_TRUE(r.cut(rr->value.off, second));  // the first value and its comma
    EXPECT_EQ(t.run(r),
              "INVITE sip:a@x SIP/2.0\r\n"
              "Via: SIP/2.0/UDP edge;branch=z9hG4bKe\r\n"
              "Record-Route: <sip:p2;lr>\r\n"
              "Record-Route: <sip:p3;lr>\r\n"
              "Contact: <sip:a@edge;sxh=1>\r\n"
              "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
              "Content-Length: 0\r\n\r\n");
    Rewriter none(t.in.data(), t.m);
    EXPECT_FALSE(none.remove_all(HeaderId::route));             // absent
    EXPECT_FALSE(none.insert_after_last(HeaderId::route, "x"));  // absent
    EXPECT_TRUE(none.insert_before_first(HeaderId::route, "Route: <sip:r;lr>\r\n"));  // before the blank line
    EXPECT_NE(t.run(none).find("Content-Length: 0\r\nRoute: <sip:r;lr>\r\n\r\n"), std::string::npos);
}

}  // namespace
}  // namespace sipedge::sip
