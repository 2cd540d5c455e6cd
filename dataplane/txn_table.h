// dataplane/txn_table.h: per-core transaction index, key -> u32 slot id.
//
// One table per worker core, no locks, no DPDK. It indexes the transactions
// that this core owns (RFC 3261 §17.1.3 client and §17.2.3 server matching).
// The table stores no keys: each entry is a 32-bit tag (high hash bits) and
// the caller's 32-bit slot id, and a candidate is confirmed by the caller's
// `eq(slot, key)` against the key kept in its transaction record, which the
// caller has to read on a hit anyway. This keeps the index at 8-9 bytes per
// entry and the key in one place. Any key type works: the caller supplies its
// 64-bit hash, e.g. the seeded `TxnKey::hash` of dataplane/txn_key.h (24-byte
// hashed keys), or a byte string built by make_txn_key_bytes() and hashed by
// hash() (txn_hash(), keyed at init()).
//
// Layout: 64-byte buckets (one cache line) of 7 {tag, slot} entries plus an
// overflow count; open addressing with linear probing over buckets. A key's
// home bucket is hash & mask; when it is full the key goes to the next bucket
// with room and every full bucket passed bumps its overflow count (the F14
// scheme). A lookup stops at the first bucket whose overflow count is 0, and
// erase decrements the counts it bumped, so deletion leaves no tombstones and
// chains do not grow under churn.
//
// Capacity and memory: `max_entries` live entries, fixed at init(); buckets
// = bit_ceil(max_entries / 5.6) so the load stays <= 80 % of entries; 64 bytes
// per bucket, i.e. at most ~16 bytes per entry at full capacity and ~11.4 at
// the 80 % mark (4 M entries: 1 Mi buckets, 64 MiB, 16.8 B per entry).
// insert() reports `full` at max_entries. Nothing is allocated after init().
// The buckets are anonymous zero pages (mmap), resident only once written: an
// index sized for a peak (the tombstone store's, 8 records per transaction
// slot) costs memory as it fills, not at start (issue 15).
//
// Hash quality: bucket index and tag come from the low and high halves of
// the caller's hash, so it must be well mixed in both. Keys come from the
// network; txn_hash() is keyed so precomputed collisions miss, but it is not a
// proven PRF like SipHash, so eq() always confirms a match.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <sys/mman.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sipedge::dp {

/// A byte-string transaction key the caller owns (see make_txn_key_bytes()).
struct TxnKeyBytes {
    const uint8_t* data = nullptr;
    uint32_t len = 0;
};

/// Longest key make_txn_key_bytes() builds: 2 + 255 branch bytes + sent-by.
inline constexpr size_t max_txn_key_bytes = 320;

/// Builds a byte-string transaction key into out[0, cap): [method class][branch length]
/// [branch bytes][sent-by, ASCII-lowercased]. The caller maps methods to
/// classes (RFC 3261 §17.2.3: ACK matches the INVITE transaction, CANCEL is a
/// transaction of its own). Branch bytes are kept as sent: retransmissions
/// repeat them byte for byte. Returns the key length, or 0 when <branch> is
/// empty or longer than 255 bytes or the key does not fit in <cap>.
inline size_t make_txn_key_bytes(uint8_t* out, size_t cap, uint8_t method_class,
                                 std::string_view branch, std::string_view sent_by) noexcept {
    const size_t len = 2 + branch.size() + sent_by.size();
    if (branch.empty() || branch.size() > 255 || len > cap)
        return 0;
    out[0] = method_class;
    out[1] = uint8_t(branch.size());
    std::memcpy(out + 2, branch.data(), branch.size());
    uint8_t* s = out + 2 + branch.size();
    for (size_t i = 0; i < sent_by.size(); i++) {
        const uint8_t c = uint8_t(sent_by[i]);
        s[i] = (c >= 'A' && c <= 'Z') ? uint8_t(c | 0x20) : c;
    }
    return len;
}

namespace detail {

inline uint64_t load64(const uint8_t* p) noexcept {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

inline uint64_t load32(const uint8_t* p) noexcept {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// 64x64 -> 128 multiply, folded: every output bit depends on every input bit.
inline uint64_t fold_mul(uint64_t a, uint64_t b) noexcept {
    const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    return uint64_t(r) ^ uint64_t(r >> 64);
}

}  // namespace detail

/// Keyed 64-bit hash of <p>[0, <len>). Reads no byte outside the range. Both
/// seeds enter every multiply so that no input can zero a factor without
/// knowing them.
inline uint64_t txn_hash(const uint8_t* p, size_t len, uint64_t s0, uint64_t s1) noexcept {
    constexpr uint64_t k0 = 0x9e3779b97f4a7c15ULL;
    constexpr uint64_t k1 = 0xd6e8feb86659fd93ULL;
    constexpr uint64_t k2 = 0xa0761d6478bd642fULL;
    uint64_t h = s0 ^ (uint64_t(len) * k0);
    uint64_t a = 0;
    uint64_t b = 0;
    if (len <= 16) {
        if (len >= 8) {
            a = detail::load64(p);
            b = detail::load64(p + len - 8);
        } else if (len >= 4) {
            a = detail::load32(p);
            b = detail::load32(p + len - 4);
        } else if (len > 0) {
            a = (uint64_t(p[0]) << 16) | (uint64_t(p[len >> 1]) << 8) | p[len - 1];
        }
    } else {
        const uint8_t* q = p;
        size_t n = len;
        while (n > 16) {
            h = detail::fold_mul(detail::load64(q) ^ s1 ^ k1, detail::load64(q + 8) ^ h);
            q += 16;
            n -= 16;
        }
        a = detail::load64(p + len - 16);
        b = detail::load64(p + len - 8);
    }
    h = detail::fold_mul(a ^ s1 ^ k2, b ^ h ^ k1);
    return detail::fold_mul(h ^ s0 ^ k0, uint64_t(len) ^ s1 ^ k2);
}

class TxnTable {
  public:
    static constexpr uint32_t npos = UINT32_MAX;
    static constexpr uint32_t entries_per_bucket = 7;
    /// Most keys lookup_bulk() takes per call.
    static constexpr uint32_t max_burst = 64;

    enum class InsertStatus : uint8_t { inserted, exists, full };

    TxnTable() noexcept = default;
    ~TxnTable() { release(); }
    TxnTable(const TxnTable&) = delete;
    TxnTable& operator=(const TxnTable&) = delete;

    /// Allocates room for <max_entries> (1 .. 2^31) entries and keys the hash
    /// with <seed> (use a random one). Start-up only; returns false when the
    /// size is out of range or memory is short. Calling it again empties the
    /// table.
    bool init(uint32_t max_entries, uint64_t seed) noexcept;

    /// Keyed hash of a byte-string key (seeded by init()).
    uint64_t hash(TxnKeyBytes k) const noexcept { return txn_hash(k.data, k.len, seed0_, seed1_); }

    /// Slot id stored for <k> (whose hash is <h>), or npos. <eq>(slot, k)
    /// must return true when the caller's record at `slot` holds key <k>.
    template <class K, class Eq>
    uint32_t find(const K& k, uint64_t h, Eq&& eq) const noexcept;
    template <class Eq>
    uint32_t find(TxnKeyBytes k, Eq&& eq) const noexcept {
        return find(k, hash(k), eq);
    }

    /// Maps <k> (hash <h>) to <slot>. Returns `exists` (table unchanged) when
    /// <eq> finds <k> already present, `full` at max_entries.
    template <class K, class Eq>
    InsertStatus insert(const K& k, uint64_t h, uint32_t slot, Eq&& eq) noexcept {
        if (find(k, h, eq) != npos)
            return InsertStatus::exists;
        return insert_absent(h, slot);
    }

    /// insert() for a key the caller has just looked up and not found: skips
    /// the duplicate check. Inserting a present key twice makes two entries.
    InsertStatus insert_absent(uint64_t h, uint32_t slot) noexcept;

    /// Removes the entry {<h>, <slot>}: slot ids are unique, so no key compare
    /// is needed (store the hash in the transaction record, or recompute it).
    /// Returns false when there is no such entry.
    bool erase(uint64_t h, uint32_t slot) noexcept;

    /// Looks up keys[0, n) (n <= max_burst; more are ignored): computes all
    /// hashes with <hash_of>(key) and prefetches their home buckets, then
    /// matches tags and calls <prefetch>(slot) for each first candidate so the
    /// caller can prefetch its record, then confirms with <eq>(slot, key).
    /// slots[i] receives the slot id or npos. Returns the number of hits.
    /// Results equal find() (like rte_hash_lookup_bulk, pipelined).
    template <class K, class HashOf, class Eq, class Prefetch>
    uint32_t lookup_bulk(const K* keys, uint32_t n, uint32_t* slots, HashOf&& hash_of, Eq&& eq,
                         Prefetch&& prefetch) const noexcept;
    /// lookup_bulk() of byte-string keys hashed by hash().
    template <class Eq, class Prefetch>
    uint32_t lookup_bulk(const TxnKeyBytes* keys, uint32_t n, uint32_t* slots, Eq&& eq,
                         Prefetch&& prefetch) const noexcept {
        return lookup_bulk(keys, n, slots, [this](TxnKeyBytes k) { return hash(k); }, eq, prefetch);
    }

    /// Buckets a lookup of hash <h> visits (1 when its chain ends at home).
    /// For tests and diagnostics.
    uint32_t chain_length(uint64_t h) const noexcept {
        if (buckets_ == nullptr)
            return 0;
        uint32_t n = 1;
        for (uint32_t bi = uint32_t(h) & mask_; buckets_[bi].overflow != 0; bi = (bi + 1) & mask_)
            n++;
        return n;
    }

    uint32_t size() const noexcept { return size_; }
    /// Makes every bucket page resident now (they are zero pages until
    /// written): for a benchmark that measures the steady state, not the
    /// first touches. The table's contents are unchanged.
    void prefault() noexcept {
        volatile char* p = reinterpret_cast<volatile char*>(buckets_);
        for (size_t i = 0; buckets_ && i < memory_bytes(); i += 4096) p[i] = p[i];
    }
    /// Starts loading the home bucket of hash <h> into the cache: a caller
    /// about to look up two tables issues both loads before either lookup.
    void prefetch(uint64_t h) const noexcept {
        if (buckets_) __builtin_prefetch(&buckets_[uint32_t(h) & mask_]);
    }
    uint32_t capacity() const noexcept { return max_entries_; }
    uint32_t bucket_count() const noexcept { return mask_ + 1; }
    /// Bytes the index holds (the keys live in the caller's records).
    size_t memory_bytes() const noexcept { return size_t(bucket_count()) * sizeof(Bucket); }

  private:
    void release() noexcept {
        if (buckets_ != nullptr) munmap(buckets_, size_t(mask_ + 1) * sizeof(Bucket));
        buckets_ = nullptr;
    }

    // One cache line. Tags are nonzero for live entries; 0 marks a free entry.
    struct alignas(64) Bucket {
        uint32_t tag[entries_per_bucket];
        uint32_t overflow;  // entries that probed past this bucket
        uint32_t slot[entries_per_bucket];
        uint32_t unused;
    };
    static_assert(sizeof(Bucket) == 64);

    static uint32_t tag_of(uint64_t h) noexcept { return uint32_t(h >> 32) | 1U; }

    // Bit i set when tag[i] == <t>, for i < 7. <t> == 0 finds free entries.
    static uint32_t match(const Bucket& b, uint32_t t) noexcept {
#if defined(__SSE2__)
        const __m128i v = _mm_set1_epi32(int(t));
        const __m128i lo = _mm_load_si128(reinterpret_cast<const __m128i*>(b.tag));
        const __m128i hi = _mm_load_si128(reinterpret_cast<const __m128i*>(b.tag + 4));
        const uint32_t m = uint32_t(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo, v)))) |
                           uint32_t(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(hi, v)))) << 4;
        return m & 0x7fU;  // lane 7 is the overflow count
#else
        uint32_t m = 0;
        for (uint32_t i = 0; i < entries_per_bucket; i++)
            m |= uint32_t(b.tag[i] == t) << i;
        return m;
#endif
    }

    // Probes from bucket <bi> onwards (the home bucket or a later one on the
    // same chain).
    template <class K, class Eq>
    uint32_t find_from(const K& k, uint32_t t, uint32_t bi, Eq& eq) const noexcept {
        for (;;) {
            const Bucket& b = buckets_[bi];
            for (uint32_t m = match(b, t); m != 0; m &= m - 1) {
                const uint32_t s = b.slot[std::countr_zero(m)];
                if (eq(s, k))
                    return s;
            }
            if (b.overflow == 0)
                return npos;
            bi = (bi + 1) & mask_;
        }
    }

    Bucket* buckets_ = nullptr;
    uint32_t mask_ = 0;
    uint32_t size_ = 0;
    uint32_t max_entries_ = 0;
    uint64_t seed0_ = 0;
    uint64_t seed1_ = 0;
};

inline bool TxnTable::init(uint32_t max_entries, uint64_t seed) noexcept {
    if (max_entries == 0 || max_entries > (1U << 31))
        return false;
    // <= 80 % of the 7-entry buckets in use at max_entries: chains stay short.
    const uint64_t want = (uint64_t(max_entries) * 5 + 27) / 28;
    const uint64_t n = std::bit_ceil(want < 2 ? 2 : want);
    // Zero pages, page-aligned (so each bucket is a cache line of its own).
    void* m = mmap(nullptr, n * sizeof(Bucket), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED)
        return false;
    release();
    buckets_ = static_cast<Bucket*>(m);
    mask_ = uint32_t(n - 1);
    size_ = 0;
    max_entries_ = max_entries;
    // Two independent words from one seed (splitmix64 steps).
    auto mix = [](uint64_t z) {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    };
    seed0_ = mix(seed + 0x9e3779b97f4a7c15ULL);
    seed1_ = mix(seed + 2 * 0x9e3779b97f4a7c15ULL);
    return true;
}

template <class K, class Eq>
uint32_t TxnTable::find(const K& k, uint64_t h, Eq&& eq) const noexcept {
    if (buckets_ == nullptr)
        return npos;
    return find_from(k, tag_of(h), uint32_t(h) & mask_, eq);
}

inline TxnTable::InsertStatus TxnTable::insert_absent(uint64_t h, uint32_t slot) noexcept {
    if (size_ >= max_entries_)
        return InsertStatus::full;
    // size_ < max_entries_ <= 80 % of all entries, so a bucket with room exists.
    const uint32_t home = uint32_t(h) & mask_;
    uint32_t bi = home;
    uint32_t m;
    while ((m = match(buckets_[bi], 0)) == 0)
        bi = (bi + 1) & mask_;
    for (uint32_t i = home; i != bi; i = (i + 1) & mask_)
        buckets_[i].overflow++;
    Bucket& b = buckets_[bi];
    const uint32_t e = uint32_t(std::countr_zero(m));
    b.tag[e] = tag_of(h);
    b.slot[e] = slot;
    size_++;
    return InsertStatus::inserted;
}

inline bool TxnTable::erase(uint64_t h, uint32_t slot) noexcept {
    if (buckets_ == nullptr)
        return false;
    const uint32_t t = tag_of(h);
    const uint32_t home = uint32_t(h) & mask_;
    uint32_t bi = home;
    for (;;) {
        Bucket& b = buckets_[bi];
        for (uint32_t m = match(b, t); m != 0; m &= m - 1) {
            const uint32_t e = uint32_t(std::countr_zero(m));
            if (b.slot[e] == slot) {
                b.tag[e] = 0;
                for (uint32_t i = home; i != bi; i = (i + 1) & mask_)
                    buckets_[i].overflow--;
                size_--;
                return true;
            }
        }
        if (b.overflow == 0)
            return false;
        bi = (bi + 1) & mask_;
    }
}

template <class K, class HashOf, class Eq, class Prefetch>
uint32_t TxnTable::lookup_bulk(const K* keys, uint32_t n, uint32_t* slots, HashOf&& hash_of,
                               Eq&& eq, Prefetch&& prefetch) const noexcept {
    if (n > max_burst)
        n = max_burst;
    if (buckets_ == nullptr) {
        for (uint32_t i = 0; i < n; i++)
            slots[i] = npos;
        return 0;
    }
    uint64_t hs[max_burst];
    uint32_t ms[max_burst];
    // Stage 1: hash everything and start the home-bucket loads.
    for (uint32_t i = 0; i < n; i++) {
        hs[i] = hash_of(keys[i]);
        __builtin_prefetch(&buckets_[uint32_t(hs[i]) & mask_]);
    }
    // Stage 2: match tags and let the caller start loading its first candidate.
    for (uint32_t i = 0; i < n; i++) {
        const Bucket& b = buckets_[uint32_t(hs[i]) & mask_];
        ms[i] = match(b, tag_of(hs[i]));
        if (ms[i] != 0)
            prefetch(b.slot[std::countr_zero(ms[i])]);
    }
    // Stage 3: confirm; rare cases (tag false positive, spilled key) walk the chain.
    uint32_t hits = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t bi = uint32_t(hs[i]) & mask_;
        const Bucket& b = buckets_[bi];
        uint32_t found = npos;
        for (uint32_t m = ms[i]; m != 0; m &= m - 1) {
            const uint32_t s = b.slot[std::countr_zero(m)];
            if (eq(s, keys[i])) {
                found = s;
                break;
            }
        }
        if (found == npos && b.overflow != 0)
            found = find_from(keys[i], tag_of(hs[i]), (bi + 1) & mask_, eq);
        slots[i] = found;
        hits += found != npos;
    }
    return hits;
}

}  // namespace sipedge::dp
