// make_response: answers to valid and refused requests (RFC 3261 §8.2.6).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sipparse/message.h"
#include "sipparse/response.h"
#include "tests/support/guarded_buffer.h"

namespace sipedge::sip {
namespace {

namespace fs = std::filesystem;

std::string read(const std::string& rel) {
    std::ifstream f(fs::path(SIPEDGE_DATA_DIR) / rel, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string respond(const std::string& req, const ResponseSpec& spec, size_t cap = 4096) {
    test::GuardedBuffer in(req);
    std::string out(cap, '\0');
    const size_t n = make_response(in.data(), in.size(), spec, out.data(), cap);
    out.resize(n);
    return out;
}

TEST(Response, AnswersAValidRequest) {
    const std::string req = read("rfc4475/esc01.dat");
    Message q;
    ASSERT_EQ(parse(req.data(), req.size(), q), ParseStatus::ok);
    const std::string out = respond(req, {486, "Busy Here", "edge-1", {}});
    Message r;
    ASSERT_EQ(parse(out.data(), out.size(), r), ParseStatus::ok) << out;
    EXPECT_FALSE(r.is_request);
    EXPECT_EQ(r.status, 486);
    EXPECT_EQ(r.reason.str(out.data()), "Busy Here");
    EXPECT_EQ(r.call_id.str(out.data()), q.call_id.str(req.data()));
    EXPECT_EQ(r.cseq.number, q.cseq.number);
    EXPECT_EQ(r.via_count, q.via_count);
    EXPECT_EQ(r.top_via.branch.str(out.data()), q.top_via.branch.str(req.data()));
    EXPECT_EQ(r.from.tag.str(out.data()), q.from.tag.str(req.data()));
    EXPECT_EQ(r.to.tag.str(out.data()), "edge-1");
    EXPECT_EQ(r.body.len, 0);
}

TEST(Response, KeepsAnExistingToTagAndEveryViaInOrder) {
    const std::string req =
        "BYE sip:a@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1, SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n"
        "Via: SIP/2.0/UDP 192.0.2.3;branch=z9hG4bK3\r\n"
        "To: <sip:a@example.com>;tag=callee\r\n"
        "From: <sip:b@example.com>;tag=caller\r\n"
        "Call-ID: k1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
    const std::string out = respond(req, {200, "OK", "ignored", {}});
    Message r;
    ASSERT_EQ(parse(out.data(), out.size(), r), ParseStatus::ok) << out;
    EXPECT_EQ(r.via_count, 3);
    EXPECT_EQ(r.top_via.branch.str(out.data()), "z9hG4bK1");
    EXPECT_EQ(r.to.tag.str(out.data()), "callee");
    EXPECT_EQ(out.find("ignored"), std::string::npos);
}

TEST(Response, ExtraHeaderLines) {
    const std::string req = read("rfc4475/esc01.dat");
    const std::string out = respond(req, {503, "Service Unavailable", "t", "Retry-After: 30\r\n"});
    Message r;
    ASSERT_EQ(parse(out.data(), out.size(), r), ParseStatus::ok) << out;
    ASSERT_NE(r.find(HeaderId::retry_after), nullptr);
    EXPECT_EQ(r.find(HeaderId::retry_after)->value.str(out.data()), "30");
}

// Every refused RFC 4475 request that still names Via, From, To, Call-ID and
// CSeq gets an answer carrying the parse error; the others cannot be answered.
TEST(Response, AnswersRefusedTortureRequests) {
    size_t answered = 0;
    for (const char* f : {"badinv01.dat", "clerr.dat", "ncl.dat", "scalar02.dat", "quotbal.dat",
                          "ltgtruri.dat", "lwsruri.dat", "lwsstart.dat", "trws.dat", "escruri.dat",
                          "baddate.dat", "regbadct.dat", "badaspec.dat", "badvers.dat",
                          "mismatch01.dat", "mismatch02.dat", "multi01.dat", "mcl01.dat"}) {
        const std::string req = read(std::string("rfc4475/") + f);
        Message q;
        ParseStatus st = parse(req.data(), req.size(), q);
        if (st == ParseStatus::ok) st = validate(req.data(), q);
        ASSERT_EQ(st, ParseStatus::invalid) << f;
        const std::string out =
            respond(req, {error_status(q.error), error_reason(q.error), "edge", {}});
        ASSERT_FALSE(out.empty()) << f;
        const std::string head = "SIP/2.0 " + std::to_string(error_status(q.error)) + " " +
                                 error_reason(q.error) + "\r\n";
        EXPECT_EQ(out.substr(0, head.size()), head) << f;
        EXPECT_EQ(out.substr(out.size() - 21), "Content-Length: 0\r\n\r\n") << f;
        answered++;
    }
    EXPECT_EQ(answered, 18u);
    EXPECT_EQ(respond(read("rfc4475/insuf.dat"), {400, "Missing Mandatory Header", "e", {}}), "");
}

// The response built from a parse()d request's header index (the proxy's
// 100 Trying) is the byte scan's, less any LWS that ended a copied header
// line: over every request of the corpus parse() accepts, with and without
// a To tag to add, and with extra header lines.
TEST(Response, FromTheHeaderIndexIsTheByteScansLessTrailingLws) {
    auto strip_trailing_lws = [](std::string s) {
        for (size_t i; (i = s.find(" \r\n")) != std::string::npos || (i = s.find("\t\r\n")) != std::string::npos;)
            s.erase(i, 1);
        return s;
    };
    size_t compared = 0, differed_by_lws = 0;
    for (const char* dir : {"rfc4475", "rfc4475/variants", "rfc5118"}) {
        for (const auto& e : fs::directory_iterator(fs::path(SIPEDGE_DATA_DIR) / dir)) {
            const auto ext = e.path().extension();
            if (ext != ".dat" && ext != ".sip") continue;
            const std::string req = read(fs::relative(e.path(), SIPEDGE_DATA_DIR).string());
            test::GuardedBuffer in(req);
            Message q;
            if (parse(in.data(), in.size(), q) != ParseStatus::ok || !q.is_request) continue;
            for (const ResponseSpec& spec : {ResponseSpec{100, "Trying", {}, {}},
                                             ResponseSpec{486, "Busy Here", "edge-7", "Retry-After: 5\r\n"}}) {
                const std::string scan = respond(req, spec);
                std::string idx(4096, '\0');
                idx.resize(make_response(q, in.data(), spec, idx.data(), idx.size()));
                ASSERT_FALSE(idx.empty()) << e.path();
                EXPECT_EQ(strip_trailing_lws(scan), idx) << e.path();
                Message r;
                ASSERT_EQ(parse(idx.data(), idx.size(), r), ParseStatus::ok) << e.path() << "\n" << idx;
                EXPECT_EQ(r.status, spec.status);
                EXPECT_EQ(r.via_count, q.via_count) << e.path();
                EXPECT_EQ(r.call_id.str(idx.data()), q.call_id.str(in.data()));
                EXPECT_EQ(r.to.tag.str(idx.data()),
                          q.to.has_tag ? q.to.tag.str(in.data()) : spec.to_tag) << e.path();
                differed_by_lws += scan != idx;
                compared++;
            }
        }
    }
    EXPECT_GE(compared, 40u);
    EXPECT_LT(differed_by_lws, compared);
    // Not a request, or no room: nothing.
    Message rsp;
    const std::string ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n"
                           "To: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    ASSERT_EQ(parse(ok.data(), ok.size(), rsp), ParseStatus::ok);
    char out[512];
    EXPECT_EQ(make_response(rsp, ok.data(), {100, "Trying", {}, {}}, out, sizeof out), 0u);
    const std::string inv = read("rfc4475/esc01.dat");
    Message q;
    ASSERT_EQ(parse(inv.data(), inv.size(), q), ParseStatus::ok);
    EXPECT_EQ(make_response(q, inv.data(), {100, "Trying", {}, {}}, out, 64), 0u);
}

TEST(Response, RefusesResponsesGarbageAndSmallBuffers) {
    EXPECT_EQ(respond(read("rfc4475/unreason.dat"), {400, "x", "e", {}}), "");
    EXPECT_EQ(respond("", {400, "x", "e", {}}), "");
    EXPECT_EQ(respond("INVITE sip:a@b SIP/2.0", {400, "x", "e", {}}), "");
    EXPECT_EQ(respond(read("rfc4475/esc01.dat"), {400, "x", "e", {}}, 64), "");
    EXPECT_EQ(respond(read("rfc4475/esc01.dat"), {99, "x", "e", {}}), "");
}

// Issue 16: a request parse() refused is answered whenever a Via can be
// read (partial): the headers it has are copied, those it lacks left out.
TEST(Response, PartialAnswersAnyRequestWithAVia) {
    ResponseSpec spec{400, "Missing Mandatory Header", "e1", {}};
    spec.partial = true;
    const std::string out = respond(read("rfc4475/insuf.dat"), spec);
    EXPECT_EQ(out,
              "SIP/2.0 400 Missing Mandatory Header\r\n"
              "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n"
              "CSeq: 193942 INVITE\r\nContent-Length: 0\r\n\r\n");
    // With a To (no tag): ours is added, as for any response.
    const std::string req =
        "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\n\r\n";
    EXPECT_EQ(respond(req, spec),
              "SIP/2.0 400 Missing Mandatory Header\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
              "To: <sip:a@b>;tag=e1\r\nContent-Length: 0\r\n\r\n");
    // No Via, or a Via with nothing in it: nothing to answer.
    EXPECT_EQ(respond("MESSAGE sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\nCall-ID: x\r\n\r\n", spec), "");
    EXPECT_EQ(respond("MESSAGE sip:a@b SIP/2.0\r\nVia:  \r\nCall-ID: x\r\n\r\n", spec), "");
    // Still never a response to a response.
    EXPECT_EQ(respond(read("rfc4475/unreason.dat"), spec), "");
}

}  // namespace
}  // namespace sipedge::sip
