// SIP stream framing (RFC 3261 §18.3) and RFC 5626 keep-alives: next_frame()
// and Framer over split, coalesced and oversize input. Pure, no sockets.
#include "stream/framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/stream/stream_helpers.h"

namespace sipedge::stream {
namespace {

using testing::sip_msg;

struct Seen {
    FrameKind kind;
    std::string bytes;
};

// Feeds <chunks> one by one; returns the frames and the last status.
struct FeedRun {
    std::vector<Seen> frames;
    Framer::Status status = Framer::Status::ok;
};
FeedRun feed_chunks(Framer& f, const std::vector<std::string>& chunks) {
    static sip::Message scratch;
    FeedRun r;
    for (const std::string& c : chunks) {
        r.status = f.feed(c.data(), c.size(), scratch, [&](const Frame& fr, const char* p) {
            r.frames.push_back({fr.kind, std::string(p, fr.len)});
            return true;
        });
        if (r.status != Framer::Status::ok) break;
    }
    return r;
}

TEST(NextFrame, WholeMessage) {
    sip::Message m;
    const std::string s = sip_msg("a1", 10);
    const Frame f = next_frame(s.data(), s.size(), false, 0, m);
    EXPECT_EQ(f.kind, FrameKind::message);
    EXPECT_EQ(f.len, s.size());
}

TEST(NextFrame, HeadersIncompleteReportsScanProgress) {
    sip::Message m;
    const std::string s = sip_msg("a1").substr(0, 60);
    const Frame f = next_frame(s.data(), s.size(), false, 0, m);
    EXPECT_EQ(f.kind, FrameKind::need_more);
    EXPECT_EQ(f.scanned, s.size());
    EXPECT_EQ(f.need, 0u);
}

TEST(NextFrame, BodyIncompleteKnowsTheTotal) {
    sip::Message m;
    const std::string full = sip_msg("a1", 100);
    const std::string s = full.substr(0, full.size() - 40);
    const Frame f = next_frame(s.data(), s.size(), false, 0, m);
    EXPECT_EQ(f.kind, FrameKind::need_more);
    EXPECT_EQ(f.need, full.size());
}

TEST(NextFrame, PingPongAndAmbiguousCrlf) {
    sip::Message m;
    EXPECT_EQ(next_frame("\r\n\r\n", 4, false, 0, m).kind, FrameKind::ping);
    EXPECT_EQ(next_frame("\r\n\r\n", 4, false, 0, m).len, 4u);
    // A lone CRLF may be half a ping, unless a pong is awaited.
    EXPECT_EQ(next_frame("\r\n", 2, false, 0, m).kind, FrameKind::need_more);
    EXPECT_EQ(next_frame("\r\n", 2, true, 0, m).kind, FrameKind::pong);
    EXPECT_EQ(next_frame("\r\n\r", 3, true, 0, m).kind, FrameKind::need_more);
    const std::string pong_then_msg = "\r\n" + sip_msg("b");
    const Frame f = next_frame(pong_then_msg.data(), pong_then_msg.size(), false, 0, m);
    EXPECT_EQ(f.kind, FrameKind::pong);
    EXPECT_EQ(f.len, 2u);
    EXPECT_EQ(next_frame("\nX", 2, false, 0, m).kind, FrameKind::skip);
}

TEST(NextFrame, ContentLengthOverLimitIsTooLarge) {
    sip::Message m;
    std::string s = sip_msg("big");
    s.replace(s.find("Content-Length: 0"), 17, "Content-Length: 70000");
    const Frame f = next_frame(s.data(), s.size(), false, 0, m);
    ASSERT_EQ(f.kind, FrameKind::too_large);
    EXPECT_GT(f.need, 70000u);
    const std::string why = frame_error_text(f);
    EXPECT_NE(why.find("exceeds the 65535-byte limit"), std::string::npos) << why;
    EXPECT_NE(why.find(std::to_string(f.need)), std::string::npos) << why;
}

TEST(NextFrame, BodyPushingPastLimitIsTooLarge) {
    sip::Message m;
    // Content-Length under 65535 but headers + body over it.
    std::string s = sip_msg("big");
    s.replace(s.find("Content-Length: 0"), 17, "Content-Length: 65500");
    const Frame f = next_frame(s.data(), s.size(), false, 0, m);
    EXPECT_EQ(f.kind, FrameKind::too_large);
    EXPECT_GT(f.need, 65535u);
}

TEST(NextFrame, EndlessHeadersAreTooLarge) {
    sip::Message m;
    std::string s = "OPTIONS sip:x SIP/2.0\r\n";
    while (s.size() <= 65536) s += "X-Pad: " + std::string(100, 'p') + "\r\n";
    const Frame f = next_frame(s.data(), s.size(), false, 0, m);
    EXPECT_EQ(f.kind, FrameKind::too_large);
    EXPECT_NE(frame_error_text(f).find("headers exceed"), std::string::npos);
}

TEST(NextFrame, MissingContentLengthIsInvalidWithReason) {
    sip::Message m;
    std::string s = sip_msg("nocl");
    s.erase(s.find("Content-Length: 0\r\n"), 19);
    const Frame f = next_frame(s.data(), s.size(), false, 0, m);
    ASSERT_EQ(f.kind, FrameKind::invalid);
    EXPECT_NE(frame_error_text(f).find("missing Content-Length"), std::string::npos) << frame_error_text(f);
}

TEST(Framer, CoalescedMessagesAndKeepalivesInOneSegment) {
    Framer f;
    const std::string a = sip_msg("a", 5), b = sip_msg("b", 0), c = sip_msg("c", 300);
    const FeedRun r = feed_chunks(f, {a + "\r\n\r\n" + b + c});
    ASSERT_EQ(r.status, Framer::Status::ok);
    ASSERT_EQ(r.frames.size(), 4u);
    EXPECT_EQ(r.frames[0].bytes, a);
    EXPECT_EQ(r.frames[1].kind, FrameKind::ping);
    EXPECT_EQ(r.frames[2].bytes, b);
    EXPECT_EQ(r.frames[3].bytes, c);
    EXPECT_EQ(f.buffered(), 0u);
}

TEST(Framer, EverySplitPointOfTwoMessages) {
    const std::string a = sip_msg("split-a", 37), b = sip_msg("split-b", 2);
    const std::string all = a + b;
    for (size_t cut = 1; cut < all.size(); cut++) {
        Framer f;
        const FeedRun r = feed_chunks(f, {all.substr(0, cut), all.substr(cut)});
        ASSERT_EQ(r.status, Framer::Status::ok) << cut;
        ASSERT_EQ(r.frames.size(), 2u) << cut;
        EXPECT_EQ(r.frames[0].bytes, a) << cut;
        EXPECT_EQ(r.frames[1].bytes, b) << cut;
        EXPECT_EQ(f.buffered(), 0u);
    }
}

TEST(Framer, ByteByByte) {
    const std::string a = sip_msg("bytes", 64);
    std::vector<std::string> chunks;
    for (char ch : "\r\n\r\n" + a) chunks.emplace_back(1, ch);
    Framer f;
    const FeedRun r = feed_chunks(f, chunks);
    ASSERT_EQ(r.status, Framer::Status::ok);
    ASSERT_EQ(r.frames.size(), 2u);
    EXPECT_EQ(r.frames[0].kind, FrameKind::ping);
    EXPECT_EQ(r.frames[1].bytes, a);
}

TEST(Framer, WaitsForTheBodyWithoutReparsing) {
    Framer f;
    const std::string a = sip_msg("body", 2000);
    const size_t head = a.size() - 2000;
    FeedRun r = feed_chunks(f, {a.substr(0, head + 10)});
    EXPECT_TRUE(r.frames.empty());
    EXPECT_EQ(f.need(), a.size());
    r = feed_chunks(f, {a.substr(head + 10)});
    ASSERT_EQ(r.frames.size(), 1u);
    EXPECT_EQ(r.frames[0].bytes, a);
}

TEST(Framer, PongWhenExpected) {
    Framer f;
    f.set_pong_expected(true);
    const FeedRun r = feed_chunks(f, {"\r\n"});
    ASSERT_EQ(r.frames.size(), 1u);
    EXPECT_EQ(r.frames[0].kind, FrameKind::pong);
}

TEST(Framer, OversizeArrivingInPiecesIsRefused) {
    Framer f;
    std::string s = sip_msg("big");
    s.replace(s.find("Content-Length: 0"), 17, "Content-Length: 65500");
    s += std::string(20000, 'x');
    std::vector<std::string> chunks;
    for (size_t off = 0; off < s.size(); off += 1000) chunks.push_back(s.substr(off, 1000));
    const FeedRun r = feed_chunks(f, chunks);
    EXPECT_EQ(r.status, Framer::Status::too_large);
    EXPECT_EQ(f.error().kind, FrameKind::too_large);
}

TEST(Framer, LargestMessageFits) {
    std::string s = sip_msg("max");
    const size_t body = 65535 - s.size() - 4;  // "0" → 5 digits adds 4 bytes
    s = sip_msg("max", body);
    ASSERT_EQ(s.size(), 65535u);
    Framer f;
    const FeedRun r = feed_chunks(f, {s.substr(0, 30000), s.substr(30000)});
    ASSERT_EQ(r.status, Framer::Status::ok);
    ASSERT_EQ(r.frames.size(), 1u);
    EXPECT_EQ(r.frames[0].bytes.size(), 65535u);
}

TEST(Framer, StopKeepsTheRestForResume) {
    Framer f;
    sip::Message scratch;
    const std::string a = sip_msg("s1"), b = sip_msg("s2");
    const std::string both = a + b;
    int calls = 0;
    auto st = f.feed(both.data(), both.size(), scratch, [&](const Frame&, const char*) { return ++calls < 2; });
    EXPECT_EQ(st, Framer::Status::stopped);
    EXPECT_EQ(f.buffered(), b.size());
    std::string got;
    st = f.resume(scratch, [&](const Frame& fr, const char* p) {
        got.assign(p, fr.len);
        return true;
    });
    EXPECT_EQ(st, Framer::Status::ok);
    EXPECT_EQ(got, b);
    EXPECT_EQ(f.buffered(), 0u);
}

}  // namespace
}  // namespace sipedge::stream
