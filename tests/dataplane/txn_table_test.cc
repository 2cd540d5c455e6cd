#include "dataplane/txn_table.h"

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

namespace sipedge::dp {
namespace {

// The caller's side: transaction records holding their key bytes, indexed by slot.
struct Records {
    std::vector<std::string> key;

    uint32_t add(const std::string& k) {
        key.push_back(k);
        return uint32_t(key.size() - 1);
    }
    static TxnKeyBytes view(const std::string& k) {
        return TxnKeyBytes{reinterpret_cast<const uint8_t*>(k.data()), uint32_t(k.size())};
    }
    bool eq(uint32_t slot, TxnKeyBytes k) const {
        const std::string& s = key.at(slot);
        return s.size() == k.len && std::memcmp(s.data(), k.data, k.len) == 0;
    }
};

std::string make_key(uint32_t i, char method_class = 1) {
    uint8_t buf[max_txn_key_bytes];
    const std::string branch = "z9hG4bK" + std::to_string(i * 2654435761U) + "x" + std::to_string(i);
    const std::string sent_by = "10." + std::to_string(i % 200) + ".0." + std::to_string(i % 250) + ":5060";
    const size_t n = make_txn_key_bytes(buf, sizeof(buf), uint8_t(method_class), branch, sent_by);
    return std::string(reinterpret_cast<const char*>(buf), n);
}

TEST(TxnKeyBytes, LayoutIsUnambiguousAndLowercasesSentBy) {
    uint8_t a[64];
    uint8_t b[64];
    const size_t na = make_txn_key_bytes(a, sizeof(a), 1, "z9hG4bKab", "c.example");
    const size_t nb = make_txn_key_bytes(b, sizeof(b), 1, "z9hG4bKa", "bc.example");
    ASSERT_EQ(na, nb);
    EXPECT_NE(std::memcmp(a, b, na), 0);  // the branch length byte tells them apart
    const size_t nc = make_txn_key_bytes(b, sizeof(b), 1, "z9hG4bKab", "C.EXAMPLE");
    ASSERT_EQ(nc, na);
    EXPECT_EQ(std::memcmp(a, b, na), 0);
    const size_t nd = make_txn_key_bytes(b, sizeof(b), 1, "Z9HG4BKAB", "c.example");
    EXPECT_NE(std::memcmp(a, b, nd), 0);  // branch bytes kept as sent
    const size_t ne = make_txn_key_bytes(b, sizeof(b), 2, "z9hG4bKab", "c.example");
    EXPECT_NE(std::memcmp(a, b, ne), 0);  // method class
    EXPECT_EQ(make_txn_key_bytes(a, sizeof(a), 1, "", "c.example"), 0U);
    EXPECT_EQ(make_txn_key_bytes(a, 10, 1, "z9hG4bKab", "c.example"), 0U);
    EXPECT_EQ(make_txn_key_bytes(a, sizeof(a), 1, std::string(256, 'x'), "h"), 0U);
}

TEST(TxnHash, EveryByteLengthAndSeedMatter) {
    std::vector<uint8_t> buf(64, 0);
    for (uint32_t len = 1; len <= 64; len++) {
        const uint64_t base = txn_hash(buf.data(), len, 1, 2);
        for (uint32_t i = 0; i < len; i++) {
            buf[i] ^= 0x01;
            EXPECT_NE(txn_hash(buf.data(), len, 1, 2), base) << "len " << len << " byte " << i;
            buf[i] ^= 0x01;
        }
        EXPECT_NE(txn_hash(buf.data(), len - 1, 1, 2), base) << "len " << len;
        EXPECT_NE(txn_hash(buf.data(), len, 3, 2), base);
        EXPECT_NE(txn_hash(buf.data(), len, 1, 4), base);
    }
}

TEST(TxnTable, InsertFindEraseWithRealKeys) {
    TxnTable t;
    ASSERT_TRUE(t.init(10'000, 42));
    Records r;
    auto eq = [&](uint32_t s, TxnKeyBytes k) { return r.eq(s, k); };
    for (uint32_t i = 0; i < 10'000; i++) {
        const std::string k = make_key(i);
        const uint32_t slot = r.add(k);
        ASSERT_EQ(t.insert(Records::view(k), t.hash(Records::view(k)), slot, eq),
                  TxnTable::InsertStatus::inserted);
    }
    EXPECT_EQ(t.size(), 10'000U);
    for (uint32_t i = 0; i < 10'000; i++)
        ASSERT_EQ(t.find(Records::view(r.key[i]), eq), i);
    const std::string dup = make_key(5);
    EXPECT_EQ(t.insert(Records::view(dup), t.hash(Records::view(dup)), 77, eq),
              TxnTable::InsertStatus::exists);
    const std::string other_method = make_key(5, 2);
    EXPECT_EQ(t.find(Records::view(other_method), eq), TxnTable::npos);
    for (uint32_t i = 0; i < 10'000; i += 2)
        ASSERT_TRUE(t.erase(t.hash(Records::view(r.key[i])), i));
    EXPECT_FALSE(t.erase(t.hash(Records::view(r.key[0])), 0));  // already gone
    EXPECT_FALSE(t.erase(t.hash(Records::view(r.key[1])), 3));  // wrong slot
    for (uint32_t i = 0; i < 10'000; i++)
        ASSERT_EQ(t.find(Records::view(r.key[i]), eq), i % 2 ? i : TxnTable::npos) << i;
    EXPECT_EQ(t.size(), 5'000U);
}

// Keys forced onto one hash (same home bucket and tag): the chain spills over
// several buckets, eq() tells keys apart, and erasing unwinds the chain.
TEST(TxnTable, FullCollisionsSpillAndUnwind) {
    TxnTable t;
    ASSERT_TRUE(t.init(1000, 1));
    Records r;
    auto eq = [&](uint32_t s, TxnKeyBytes k) { return r.eq(s, k); };
    const uint64_t h = 0xdeadbeef00000005ULL;
    for (uint32_t i = 0; i < 40; i++) {
        const std::string k = make_key(i);
        ASSERT_EQ(t.insert(Records::view(k), h, r.add(k), eq), TxnTable::InsertStatus::inserted);
    }
    EXPECT_EQ(t.chain_length(h), (40 + 6) / 7U);
    // A different tag in the same home bucket walks the chain and misses.
    const std::string absent = make_key(1000);
    EXPECT_EQ(t.find(Records::view(absent), h ^ (1ULL << 40), eq), TxnTable::npos);
    for (uint32_t i = 0; i < 40; i++)
        ASSERT_EQ(t.find(Records::view(r.key[i]), h, eq), i);
    for (uint32_t i = 0; i < 40; i += 3)
        ASSERT_TRUE(t.erase(h, i));
    for (uint32_t i = 0; i < 40; i++)
        ASSERT_EQ(t.find(Records::view(r.key[i]), h, eq), i % 3 ? i : TxnTable::npos);
    for (uint32_t i = 0; i < 40; i++) {
        if (i % 3 != 0) {
            ASSERT_TRUE(t.erase(h, i));
        }
    }
    EXPECT_EQ(t.size(), 0U);
    EXPECT_EQ(t.chain_length(h), 1U);  // no tombstones, counts back to 0
}

TEST(TxnTable, ChainsWrapAroundTheLastBucket) {
    TxnTable t;
    ASSERT_TRUE(t.init(100, 1));
    const uint64_t last = t.bucket_count() - 1;
    Records r;
    auto eq = [&](uint32_t s, TxnKeyBytes k) { return r.eq(s, k); };
    for (uint32_t i = 0; i < 20; i++) {
        const std::string k = make_key(i);
        ASSERT_EQ(t.insert(Records::view(k), last | (uint64_t(i) << 32), r.add(k), eq),
                  TxnTable::InsertStatus::inserted);
    }
    for (uint32_t i = 0; i < 20; i++)
        ASSERT_EQ(t.find(Records::view(r.key[i]), last | (uint64_t(i) << 32), eq), i);
    // 7 + 7 + 6 entries in buckets last, 0, 1. Lookups homed at bucket 0 walk
    // on to 1, since entries passed through 0; bucket 2 is untouched.
    EXPECT_EQ(t.chain_length(last), 3U);
    EXPECT_EQ(t.chain_length(0), 2U);
    EXPECT_EQ(t.chain_length(2), 1U);
}

TEST(TxnTable, FullTableRejectsAndRecovers) {
    TxnTable t;
    ASSERT_TRUE(t.init(100, 9));
    for (uint32_t i = 0; i < 100; i++)
        ASSERT_EQ(t.insert_absent(uint64_t(i) * 0x9e3779b97f4a7c15ULL, i), TxnTable::InsertStatus::inserted);
    EXPECT_EQ(t.insert_absent(12345, 100), TxnTable::InsertStatus::full);
    EXPECT_EQ(t.size(), 100U);
    ASSERT_TRUE(t.erase(uint64_t(50) * 0x9e3779b97f4a7c15ULL, 50));
    EXPECT_EQ(t.insert_absent(12345, 100), TxnTable::InsertStatus::inserted);
    EXPECT_EQ(t.insert_absent(54321, 101), TxnTable::InsertStatus::full);
    EXPECT_FALSE(t.init(0, 0));
}

// Random insert/erase churn against std::unordered_map, with the hash folded
// onto a few home buckets so chains overlap, spill and wrap.
TEST(TxnTable, ChurnMatchesReference) {
    for (const uint64_t fold : {~0ULL, 0xffff00000000001fULL}) {
        TxnTable t;
        ASSERT_TRUE(t.init(5'000, 3));
        Records r;
        for (uint32_t i = 0; i < 20'000; i++)
            r.add(make_key(i));
        auto eq = [&](uint32_t s, TxnKeyBytes k) { return r.eq(s, k); };
        auto h = [&](uint32_t i) { return t.hash(Records::view(r.key[i])) & fold; };
        std::unordered_map<uint32_t, bool> live;
        std::mt19937 rng(99);
        for (int step = 0; step < 200'000; step++) {
            const uint32_t i = rng() % 20'000;
            const bool present = live.count(i) != 0;
            if (rng() % 2 == 0) {
                const auto st = t.insert(Records::view(r.key[i]), h(i), i, eq);
                if (present)
                    ASSERT_EQ(st, TxnTable::InsertStatus::exists);
                else if (live.size() == 5'000)
                    ASSERT_EQ(st, TxnTable::InsertStatus::full);
                else {
                    ASSERT_EQ(st, TxnTable::InsertStatus::inserted);
                    live[i] = true;
                }
            } else {
                ASSERT_EQ(t.erase(h(i), i), present) << step;
                live.erase(i);
            }
            ASSERT_EQ(t.size(), live.size());
        }
        for (uint32_t i = 0; i < 20'000; i++)
            ASSERT_EQ(t.find(Records::view(r.key[i]), h(i), eq), live.count(i) ? i : TxnTable::npos)
                << "fold " << fold << " key " << i;
        for (const auto& [i, unused] : live)
            ASSERT_TRUE(t.erase(h(i), i));
        for (uint32_t i = 0; i < 20'000; i++)
            ASSERT_EQ(t.chain_length(h(i)), 1U);
    }
}

TEST(TxnTable, BulkLookupEqualsSingleLookups) {
    TxnTable t;
    // ~78 % of entries in use: many keys spill past their home bucket.
    ASSERT_TRUE(t.init(5'600, 5));
    Records r;
    auto eq = [&](uint32_t s, TxnKeyBytes k) { return r.eq(s, k); };
    uint32_t spilled = 0;
    for (uint32_t i = 0; i < 5'600; i++) {
        const std::string k = make_key(i);
        const uint64_t hk = t.hash(Records::view(k));
        spilled += t.chain_length(hk) > 1;
        ASSERT_EQ(t.insert(Records::view(k), hk, r.add(k), eq), TxnTable::InsertStatus::inserted);
    }
    EXPECT_GT(spilled, 0U);  // the chain-walking path is exercised
    for (uint32_t i = 0; i < 2'000; i++)
        r.add(make_key(100'000 + i));  // records never inserted: misses
    std::mt19937 rng(5);
    uint32_t prefetched = 0;
    for (int round = 0; round < 2'000; round++) {
        const uint32_t n = 1 + rng() % TxnTable::max_burst;
        TxnKeyBytes keys[TxnTable::max_burst];
        uint32_t ids[TxnTable::max_burst];
        uint32_t out[TxnTable::max_burst];
        for (uint32_t j = 0; j < n; j++) {
            ids[j] = rng() % uint32_t(r.key.size());
            keys[j] = Records::view(r.key[ids[j]]);
        }
        const uint32_t hits = t.lookup_bulk(keys, n, out, eq, [&](uint32_t) { prefetched++; });
        uint32_t expect_hits = 0;
        for (uint32_t j = 0; j < n; j++) {
            const uint32_t single = t.find(keys[j], eq);
            ASSERT_EQ(out[j], single);
            ASSERT_EQ(single, ids[j] < 5'600 ? ids[j] : TxnTable::npos);
            expect_hits += single != TxnTable::npos;
        }
        ASSERT_EQ(hits, expect_hits);
    }
    EXPECT_GT(prefetched, 0U);
}

// Fixed-size keys that carry their own hash (the shape of txn_key.h's TxnKey)
// through find/insert/erase and the generic lookup_bulk.
TEST(TxnTable, PrehashedKeysThroughGenericApi) {
    struct HashedKey {
        uint64_t hash;
        uint32_t check;
    };
    std::vector<HashedKey> rec;
    std::mt19937_64 rng(3);
    for (uint32_t i = 0; i < 3'000; i++)
        rec.push_back({rng(), uint32_t(rng())});
    // Two keys share a hash and differ only in `check`: eq must separate them.
    rec[1].hash = rec[0].hash;
    TxnTable t;
    ASSERT_TRUE(t.init(2'000, 1));
    auto eq = [&](uint32_t s, const HashedKey& k) {
        return rec.at(s).hash == k.hash && rec.at(s).check == k.check;
    };
    for (uint32_t i = 0; i < 2'000; i++)
        ASSERT_EQ(t.insert(rec[i], rec[i].hash, i, eq), TxnTable::InsertStatus::inserted);
    EXPECT_EQ(t.insert(rec[1], rec[1].hash, 5, eq), TxnTable::InsertStatus::exists);
    const HashedKey keys[6] = {rec[0], rec[1], rec[1999], rec[2000], rec[2999], {rec[0].hash, 7}};
    uint32_t out[6];
    const uint32_t hits = t.lookup_bulk(
        keys, 6, out, [](const HashedKey& k) { return k.hash; }, eq, [](uint32_t) {});
    EXPECT_EQ(hits, 3U);
    EXPECT_EQ(out[0], 0U);
    EXPECT_EQ(out[1], 1U);
    EXPECT_EQ(out[2], 1999U);
    EXPECT_EQ(out[3], TxnTable::npos);
    EXPECT_EQ(out[4], TxnTable::npos);
    EXPECT_EQ(out[5], TxnTable::npos);
    ASSERT_TRUE(t.erase(rec[0].hash, 0));
    EXPECT_EQ(t.find(rec[0], rec[0].hash, eq), TxnTable::npos);
    EXPECT_EQ(t.find(rec[1], rec[1].hash, eq), 1U);
}

}  // namespace
}  // namespace sipedge::dp
