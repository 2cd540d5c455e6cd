// TombStore (dataplane/tomb_store.h): completed transactions as tombstones
// in creation order, their messages in a byte ring, expiry and eviction.

#include "dataplane/tomb_store.h"

#include <string>

#include <gtest/gtest.h>

namespace sipedge::dp {
namespace {

TxnKey key_of(int i) {
    return client_key("z9hG4bK-tomb-" + std::to_string(i), sip::Method::invite, 42);
}

Tombstone tomb(Millis expires, TombKind k = TombKind::server_completed) {
    Tombstone t;
    t.expires = expires;
    t.kind = k;
    return t;
}

TEST(TombStore, FindsWhatWasAddedWithItsMessageUntilItExpires) {
    TombStore s;
    ASSERT_TRUE(s.init(8, 1024, 1));
    const std::string ok = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
    s.add(key_of(1), tomb(32000), 0xc0000201, 5060, ok.data(), ok.size(), 0);
    s.add(key_of(2), tomb(5000, TombKind::client_completed), 0, 0, nullptr, 0, 0);
    EXPECT_EQ(s.size(), 2u);
    const TombRecord* r = s.find(key_of(1), 100);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->ip, 0xc0000201u);
    EXPECT_EQ(r->port, 5060);
    EXPECT_EQ(std::string(s.msg(*r), r->msg_len), ok);
    EXPECT_EQ(r->t.on_message(100, 0, sip::Method::bye), TombVerdict::resend);
    EXPECT_EQ(s.find(key_of(3), 100), nullptr);
    // The short one expires behind the long one: find() refuses and forgets it.
    EXPECT_EQ(s.find(key_of(2), 5000), nullptr);
    EXPECT_EQ(s.size(), 1u);
    EXPECT_EQ(s.held(), 2u);  // swept when the head goes
    s.sweep(6000);
    EXPECT_EQ(s.held(), 2u);  // the head (32 s) still lives
    s.sweep(32000);
    EXPECT_EQ(s.held(), 0u);
    EXPECT_EQ(s.size(), 0u);
    EXPECT_EQ(s.bytes_used(), 0u);
    EXPECT_EQ(s.evicted(), 0u);
}

TEST(TombStore, FullStoreDropsTheOldestNeverTheNew) {
    TombStore s;
    ASSERT_TRUE(s.init(4, 0, 1));
    for (int i = 0; i < 6; i++) s.add(key_of(i), tomb(32000), 0, 0, nullptr, 0, i);
    EXPECT_EQ(s.size(), 4u);
    EXPECT_EQ(s.evicted(), 2u);
    EXPECT_EQ(s.find(key_of(0), 10), nullptr);
    EXPECT_EQ(s.find(key_of(1), 10), nullptr);
    for (int i = 2; i < 6; i++) EXPECT_NE(s.find(key_of(i), 10), nullptr) << i;
}

TEST(TombStore, MessagesWrapInTheByteRingAndGoWithTheirRecords) {
    TombStore s;
    ASSERT_TRUE(s.init(64, 100, 1));
    const std::string a(40, 'a'), b(40, 'b'), c(30, 'c');
    s.add(key_of(1), tomb(1000), 1, 1, a.data(), a.size(), 0);
    s.add(key_of(2), tomb(1000), 2, 2, b.data(), b.size(), 0);
    EXPECT_EQ(s.bytes_used(), 80u);
    // 30 more do not fit at the tail (20 left): the oldest goes, c starts at 0.
    s.add(key_of(3), tomb(1000), 3, 3, c.data(), c.size(), 0);
    EXPECT_EQ(s.evicted(), 1u);
    EXPECT_EQ(s.find(key_of(1), 1), nullptr);
    const TombRecord* rb = s.find(key_of(2), 1);
    const TombRecord* rc = s.find(key_of(3), 1);
    ASSERT_TRUE(rb && rc);
    EXPECT_EQ(std::string(s.msg(*rb), rb->msg_len), b);
    EXPECT_EQ(std::string(s.msg(*rc), rc->msg_len), c);
    EXPECT_EQ(rc->t.buf, 0u);
    EXPECT_EQ(s.bytes_used(), 40u + 20u + 30u);  // b, the skipped tail, c
    // A message larger than the ring is not kept; the tombstone still absorbs.
    const std::string huge(101, 'h');
    s.add(key_of(4), tomb(1000), 4, 4, huge.data(), huge.size(), 0);
    const TombRecord* rh = s.find(key_of(4), 1);
    ASSERT_NE(rh, nullptr);
    EXPECT_EQ(s.msg(*rh), nullptr);
    s.sweep(1000);
    EXPECT_EQ(s.held(), 0u);
    EXPECT_EQ(s.bytes_used(), 0u);
    // Many rounds: the ring never loses track of its bytes.
    for (int i = 0; i < 1000; i++) {
        const std::string m(size_t(1 + i % 37), char('a' + i % 26));
        s.add(key_of(100 + i), tomb(2000 + i), 9, 9, m.data(), m.size(), 1000 + i);
        const TombRecord* r = s.find(key_of(100 + i), 1000 + i);
        ASSERT_NE(r, nullptr);
        ASSERT_EQ(std::string(s.msg(*r), r->msg_len), m);
        ASSERT_LE(s.bytes_used(), 100u);
    }
}

TEST(TombStore, AlreadyExpiredIsNotKept) {
    TombStore s;
    ASSERT_TRUE(s.init(4, 64, 1));
    s.add(key_of(1), tomb(10), 0, 0, nullptr, 0, 10);
    EXPECT_EQ(s.size(), 0u);
    EXPECT_EQ(s.held(), 0u);
}

}  // namespace
}  // namespace sipedge::dp
