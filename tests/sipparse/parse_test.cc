// Parser properties that spec files cannot express: no over-read on any
// prefix of any corpus message, the header index, limits, error mapping.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sipparse/message.h"
#include "tests/support/guarded_buffer.h"

namespace sipedge::sip {
namespace {

namespace fs = std::filesystem;
using test::GuardedBuffer;

std::vector<std::string> corpus() {
    std::vector<std::string> out;
    for (const char* dir : {"rfc4475", "rfc4475/variants", "rfc5118"}) {
        for (const auto& e : fs::directory_iterator(fs::path(SIPEDGE_DATA_DIR) / dir)) {
            const auto ext = e.path().extension();
            if (ext != ".dat" && ext != ".sip") continue;
            std::ifstream f(e.path(), std::ios::binary);
            std::stringstream ss;
            ss << f.rdbuf();
            out.push_back(ss.str());
        }
    }
    return out;
}

const std::string kInvite =
    "INVITE sip:+15551230000@carrier.example.net SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKabc;rport\r\n"
    "Via: SIP/2.0/UDP 10.1.1.1;branch=z9hG4bKinner\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:+15551230000@carrier.example.net>\r\n"
    "From: \"PBX\" <sip:100@pbx.example.org>;tag=9fxced76sl\r\n"
    "Call-ID: 3848276298220188511@pbx.example.org\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:100@198.51.100.7:5060>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

// Every prefix of every corpus message, in both framings, from a buffer that
// ends on a PROT_NONE page: an over-read is a SIGSEGV, not a flaky result.
TEST(Parse, NoOverReadOnAnyPrefix) {
    size_t runs = 0, complete = 0;
    for (const std::string& msg : corpus()) {
        for (size_t n = 0; n <= msg.size(); n++) {
            GuardedBuffer buf(std::string_view(msg).substr(0, n));
            Message m;
            const ParseStatus d = parse(buf.data(), buf.size(), m, Framing::datagram);
            if (d == ParseStatus::ok) {
                EXPECT_LE(m.size, n);
            }
            const ParseStatus s = parse(buf.data(), buf.size(), m, Framing::stream);
            if (s == ParseStatus::ok) {
                EXPECT_LE(m.size, n);
                complete++;
            }
            if (s == ParseStatus::incomplete && m.need) {
                EXPECT_GT(m.need, n);
            }
            runs++;
        }
    }
    EXPECT_GT(runs, 20000u);
    EXPECT_GT(complete, 0u);
}

// A stream parser fed a growing buffer reports incomplete until the last
// byte arrives, then ok with the same fields as the datagram parse.
TEST(Parse, StreamCompletesExactlyAtTheLastByte) {
    Message m;
    for (size_t n = 0; n < kInvite.size(); n++) {
        GuardedBuffer buf(std::string_view(kInvite).substr(0, n));
        ASSERT_EQ(parse(buf.data(), n, m, Framing::stream), ParseStatus::incomplete) << n;
    }
    GuardedBuffer buf(kInvite);
    ASSERT_EQ(parse(buf.data(), buf.size(), m, Framing::stream), ParseStatus::ok);
    EXPECT_EQ(m.size, kInvite.size());
    EXPECT_EQ(m.body.str(buf.data()), "v=0\n");
}

TEST(Parse, HeaderIndex) {
    GuardedBuffer buf(kInvite);
    Message m;
    ASSERT_EQ(parse(buf.data(), buf.size(), m), ParseStatus::ok);
    const char* b = buf.data();
    EXPECT_EQ(m.header_count, 10);
    EXPECT_EQ(m.count(HeaderId::via), 2u);
    EXPECT_EQ(m.via_count, 2);
    const Header* via = m.find(HeaderId::via);
    ASSERT_NE(via, nullptr);
    EXPECT_EQ(via->name.str(b), "Via");
    const Header* via2 = m.next(via);
    ASSERT_NE(via2, nullptr);
    EXPECT_EQ(via2->value.str(b), "SIP/2.0/UDP 10.1.1.1;branch=z9hG4bKinner");
    EXPECT_EQ(m.next(via2), nullptr);
    EXPECT_EQ(m.find(HeaderId::route), nullptr);
    EXPECT_EQ(m.find(HeaderId::content_type)->value.str(b), "application/sdp");
    EXPECT_EQ(m.top_via.branch.str(b), "z9hG4bKabc");
    EXPECT_TRUE(m.top_via.has_rport);
    EXPECT_EQ(m.from.display.str(b), "PBX");
    EXPECT_EQ(m.cseq.method, Method::invite);
    EXPECT_EQ(m.method, Method::invite);
    EXPECT_EQ(m.max_forwards, 70u);
    // Headers are in message order.
    for (uint16_t i = 1; i < m.header_count; i++)
        EXPECT_LT(m.headers[i - 1].name.off, m.headers[i].name.off);
}

TEST(Parse, ReusingAMessageClearsOldFields) {
    Message m;
    GuardedBuffer a(kInvite);
    ASSERT_EQ(parse(a.data(), a.size(), m), ParseStatus::ok);
    const std::string resp =
        "SIP/2.0 100 Trying\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n"
        "From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    GuardedBuffer b(resp);
    ASSERT_EQ(parse(b.data(), b.size(), m), ParseStatus::ok);
    EXPECT_FALSE(m.is_request);
    EXPECT_FALSE(m.has_max_forwards);
    EXPECT_EQ(m.find(HeaderId::contact), nullptr);
    EXPECT_EQ(m.header_count, 6);
    EXPECT_EQ(m.status, 100);
    EXPECT_EQ(m.via_count, 1);
}

// The first Route value's URI is kept (the proxy's routing starts from it):
// from the first Route header only, cleared when the next message has none.
TEST(Parse, KeepsTheFirstRouteValuesUri) {
    const std::string req =
        "BYE sip:uas@198.51.100.9 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKr1\r\n"
        "Route: <sip:192.0.2.1:5070;lr;sx=0123456789abcdef>, <sip:core.example.net;lr>\r\n"
        "Route: <sip:192.0.2.99;lr>\r\n"
        "Max-Forwards: 70\r\nTo: <sip:uas@x>;tag=b\r\nFrom: <sip:a@y>;tag=a\r\n"
        "Call-ID: r1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
    Message m;
    GuardedBuffer a(req);
    ASSERT_EQ(parse(a.data(), a.size(), m), ParseStatus::ok);
    ASSERT_TRUE(m.has_route0);
    EXPECT_EQ(m.route0.host.host.str(a.data()), "192.0.2.1");
    EXPECT_EQ(m.route0.host.kind, HostKind::ipv4);
    EXPECT_EQ(m.route0.host.port, 5070);
    EXPECT_TRUE(m.route0.lr);
    EXPECT_EQ(m.route0.params.str(a.data()), "lr;sx=0123456789abcdef");
    GuardedBuffer b(kInvite);  // no Route
    ASSERT_EQ(parse(b.data(), b.size(), m), ParseStatus::ok);
    EXPECT_FALSE(m.has_route0);
    EXPECT_EQ(m.route0.host.port, 0);
}

TEST(Parse, TooManyHeaders) {
    std::string msg = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
                      "To: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n";
    for (size_t i = 0; i < max_headers; i++) msg += "X-H: " + std::to_string(i) + "\r\n";
    msg += "\r\n";
    GuardedBuffer buf(msg);
    Message m;
    EXPECT_EQ(parse(buf.data(), buf.size(), m), ParseStatus::invalid);
    EXPECT_EQ(m.error, ParseError::too_many_headers);
}

TEST(Parse, TooLargeDatagram) {
    std::string msg(max_message_size + 1, 'a');
    Message m;
    EXPECT_EQ(parse(msg.data(), msg.size(), m), ParseStatus::invalid);
    EXPECT_EQ(m.error, ParseError::too_large);
}

TEST(Parse, ErrorOffsetPointsAtTheProblem) {
    const std::string msg =
        "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n"
        "From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: many\r\n\r\n";
    GuardedBuffer buf(msg);
    Message m;
    ASSERT_EQ(parse(buf.data(), buf.size(), m), ParseStatus::invalid);
    EXPECT_EQ(m.error, ParseError::bad_max_forwards);
    EXPECT_EQ(m.error_header, HeaderId::max_forwards);
    EXPECT_EQ(msg.substr(m.error_off, 4), "many");
}

TEST(Parse, ErrorStatusAndReasons) {
    EXPECT_EQ(error_status(ParseError::unsupported_version), 505);
    EXPECT_EQ(error_status(ParseError::bad_via), 400);
    for (int e = 1; e < int(ParseError::count_); e++)
        EXPECT_STRNE(error_reason(ParseError(e)), "") << e;
}

}  // namespace
}  // namespace sipedge::sip
