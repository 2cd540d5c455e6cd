// Transaction keys over parsed messages: RFC 3261 §17.1.3 / §17.2.3 matching,
// the RFC 2543 fallback, and CANCEL to its INVITE (§9.2).

#include "dataplane/txn_key.h"

#include <gtest/gtest.h>

#include <string>

#include "sipparse/message.h"

namespace sipedge::dp {
namespace {

constexpr uint64_t seed = 0x5eed5eed12345678ull;

// Parses <text> (with \n line ends turned into CRLF) and keeps the buffer.
struct Msg {
    std::string buf;
    sip::Message m;
    explicit Msg(const std::string& text) {
        for (char c : text) {
            if (c == '\n') buf += '\r';
            buf += c;
        }
        const sip::ParseStatus st = sip::parse(buf.data(), buf.size(), m);
        EXPECT_EQ(st, sip::ParseStatus::ok) << "error " << int(m.error) << " at " << m.error_off
                                            << " in:\n" << buf;
    }
    const char* base() const { return buf.data(); }
};

std::string request(const std::string& method, const std::string& via, const std::string& to_tag = "",
                    const std::string& cseq_method = "", const std::string& ruri = "sip:bob@example.com",
                    uint32_t cseq = 1) {
    return method + " " + ruri + " SIP/2.0\n"
           "Via: SIP/2.0/UDP " + via + "\n"
           "Max-Forwards: 70\n"
           "From: <sip:alice@example.org>;tag=ft1\n"
           "To: <sip:bob@example.com>" + (to_tag.empty() ? "" : ";tag=" + to_tag) + "\n"
           "Call-ID: call-1@host\n"
           "CSeq: " + std::to_string(cseq) + " " + (cseq_method.empty() ? method : cseq_method) + "\n"
           "Content-Length: 0\n\n";
}

std::string response(int status, const std::string& via, const std::string& cseq_method) {
    return "SIP/2.0 " + std::to_string(status) + " Whatever\n"
           "Via: SIP/2.0/UDP " + via + "\n"
           "From: <sip:alice@example.org>;tag=ft1\n"
           "To: <sip:bob@example.com>;tag=tt9\n"
           "Call-ID: call-1@host\n"
           "CSeq: 1 " + cseq_method + "\n"
           "Content-Length: 0\n\n";
}

TxnKey skey(const Msg& m) {
    TxnKey k;
    EXPECT_TRUE(server_key(m.m, m.base(), seed, k));
    return k;
}

const char* via1 = "10.0.0.1:5060;branch=z9hG4bKabc123";

TEST(TxnKeyServer, RetransmissionMatchesAndAckFoldsIntoInvite) {
    const Msg inv(request("INVITE", via1));
    const Msg again(request("INVITE", via1));
    const Msg ack(request("ACK", via1, "tt9", "ACK"));
    const TxnKey k = skey(inv);
    EXPECT_TRUE(k.server());
    EXPECT_FALSE(k.rfc2543());
    EXPECT_EQ(k.method, sip::Method::invite);
    EXPECT_EQ(skey(again), k);
    EXPECT_EQ(skey(ack), k);  // §17.2.3: ACK matches the INVITE transaction
}

TEST(TxnKeyServer, BranchSentByAndMethodAllCount) {
    const TxnKey k = skey(Msg(request("INVITE", via1)));
    EXPECT_NE(skey(Msg(request("INVITE", "10.0.0.1:5060;branch=z9hG4bKabc124"))), k);
    EXPECT_NE(skey(Msg(request("INVITE", "10.0.0.2:5060;branch=z9hG4bKabc123"))), k);  // sent-by host
    EXPECT_NE(skey(Msg(request("INVITE", "10.0.0.1:5070;branch=z9hG4bKabc123"))), k);  // sent-by port
    EXPECT_NE(skey(Msg(request("BYE", via1))), k);
    // Host names compare case-insensitively; the branch does not.
    EXPECT_EQ(skey(Msg(request("OPTIONS", "PBX.Example.com;branch=z9hG4bKq"))),
              skey(Msg(request("OPTIONS", "pbx.example.com;branch=z9hG4bKq"))));
    EXPECT_NE(skey(Msg(request("OPTIONS", "pbx.example.com;branch=z9hG4bKQ"))),
              skey(Msg(request("OPTIONS", "pbx.example.com;branch=z9hG4bKq"))));
}

TEST(TxnKeyServer, CancelHasItsOwnKeyAndFindsItsInvite) {
    const Msg inv(request("INVITE", via1));
    const Msg cancel(request("CANCEL", via1));
    EXPECT_NE(skey(cancel), skey(inv));  // the CANCEL is its own non-INVITE transaction
    TxnKey target;
    ASSERT_TRUE(cancel_target_key(cancel.m, cancel.base(), seed, target));
    EXPECT_EQ(target, skey(inv));        // §9.2: and it targets the INVITE
    TxnKey none;
    EXPECT_FALSE(cancel_target_key(inv.m, inv.base(), seed, none));
    const Msg other(request("CANCEL", "10.0.0.1:5060;branch=z9hG4bKzzz"));
    ASSERT_TRUE(cancel_target_key(other.m, other.base(), seed, target));
    EXPECT_NE(target, skey(inv));
}

TEST(TxnKeyServer, Rfc2543Fallback) {
    const char* old_via = "10.0.0.9:5060;branch=1234";  // no magic cookie
    const Msg inv(request("INVITE", old_via));
    const TxnKey k = skey(inv);
    EXPECT_TRUE(k.rfc2543());
    EXPECT_EQ(k.to_tag, 0u);
    EXPECT_EQ(skey(Msg(request("INVITE", old_via))), k);
    // ACK: To tag of our response, matched by the transaction, not the key.
    const Msg ack(request("ACK", old_via, "tt9", "ACK"));
    const TxnKey ka = skey(ack);
    EXPECT_EQ(ka, k);
    EXPECT_EQ(ka.to_tag, to_tag_hash("tt9", seed));
    // Request-URI, CSeq number and top Via all count.
    EXPECT_NE(skey(Msg(request("INVITE", old_via, "", "", "sip:carol@example.com"))), k);
    EXPECT_NE(skey(Msg(request("INVITE", old_via, "", "", "sip:bob@example.com", 2))), k);
    EXPECT_NE(skey(Msg(request("INVITE", "10.0.0.9:5061;branch=1234"))), k);
    // Non-INVITE: the To tag is part of the key.
    EXPECT_NE(skey(Msg(request("BYE", old_via, "a"))), skey(Msg(request("BYE", old_via, "b"))));
    // A 3261 request with the same fields never collides with the 2543 key.
    EXPECT_NE(skey(Msg(request("INVITE", "10.0.0.9:5060;branch=z9hG4bK1234"))), k);
}

TEST(TxnKeyClient, ResponseMatchesBranchAndCSeqMethod) {
    const char* ours = "192.0.2.1:5060;branch=z9hG4bKsE0100000007000100deadbeef";
    const TxnKey sent = client_key("z9hG4bKsE0100000007000100deadbeef", sip::Method::invite, seed);
    EXPECT_FALSE(sent.server());
    TxnKey got;
    const Msg ok(response(200, ours, "INVITE"));
    ASSERT_TRUE(client_key(ok.m, ok.base(), seed, got));
    EXPECT_EQ(got, sent);
    const Msg cancel_ok(response(200, ours, "CANCEL"));  // §17.1.3: the CANCEL's 200 is not the INVITE's
    ASSERT_TRUE(client_key(cancel_ok.m, cancel_ok.base(), seed, got));
    EXPECT_NE(got, sent);
    EXPECT_EQ(got, client_key("z9hG4bKsE0100000007000100deadbeef", sip::Method::cancel, seed));
    // A request is never looked up as a response.
    const Msg req(request("INVITE", ours));
    EXPECT_FALSE(client_key(req.m, req.base(), seed, got));
    // A server key of the same bytes differs from the client key.
    EXPECT_NE(skey(req), sent);
}

TEST(TxnKeyClient, SeedChangesEveryKey) {
    EXPECT_NE(client_key("z9hG4bKx", sip::Method::invite, 1), client_key("z9hG4bKx", sip::Method::invite, 2));
    EXPECT_EQ(client_key("z9hG4bKx", sip::Method::invite, 1), client_key("z9hG4bKx", sip::Method::invite, 1));
}

TEST(TxnKeyClient, ExtensionMethodsAreDistinguishedByName) {
    EXPECT_NE(client_key("z9hG4bKx", sip::Method::extension, seed, "FOO"),
              client_key("z9hG4bKx", sip::Method::extension, seed, "BAR"));
}

}  // namespace
}  // namespace sipedge::dp
