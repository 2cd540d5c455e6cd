// bench/dataplane/txn_table_bench.cc: sipedge::dp::TxnTable against DPDK
// rte_hash, side by side in one binary, with 4 M live transaction keys.
//
// Keys are what make_txn_key_bytes() builds for a realistic Via: method class,
// branch "z9hG4bK" + 16 hex digits, sent-by "10.a.b.c:5060" (about 40 bytes).
// Each record is 64 bytes {len, key bytes, zero padding}: our table indexes
// the records (the key lives in the caller's record, compared by eq()), and
// rte_hash gets the same 64 bytes as a fixed-length key (its usual setup; it
// keeps its own copy in its key store). Both tables have 1 Mi buckets.
//
// Lookups are hits, in random order over all 4 M keys, from a separate 1 Mi
// query array (the query side stands for keys just parsed from packets):
//   Lookup_Bulk_*    bursts of 32: TxnTable::lookup_bulk / rte_hash_lookup_bulk
//   Lookup_Single_*  one key at a time: TxnTable::find / rte_hash_lookup
#include "dataplane/txn_table.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

namespace {

using sipedge::dp::TxnKeyBytes;
using sipedge::dp::TxnTable;

constexpr uint32_t live = 4'000'000;
constexpr uint32_t table_entries = 5'000'000;  // both: 1 Mi buckets
constexpr uint32_t num_queries = 1 << 20;
constexpr uint32_t burst = 32;

struct alignas(64) Rec {
    uint8_t len;
    uint8_t key[63];
};
static_assert(sizeof(Rec) == 64);

struct Data {
    std::unique_ptr<Rec[]> recs;     // the caller's transaction keys, by slot
    std::unique_ptr<Rec[]> queries;  // copies, as parsed from packets
    std::unique_ptr<uint32_t[]> expect;
};

Data& data() {
    static Data d = [] {
        Data x;
        x.recs.reset(new Rec[live]);
        x.queries.reset(new Rec[num_queries]);
        x.expect.reset(new uint32_t[num_queries]);
        std::mt19937_64 rng(77);
        for (uint32_t i = 0; i < live; i++) {
            char branch[32];
            char sent_by[32];
            std::snprintf(branch, sizeof(branch), "z9hG4bK%016llx", static_cast<unsigned long long>(rng()));
            const uint64_t a = rng();
            std::snprintf(sent_by, sizeof(sent_by), "10.%u.%u.%u:5060", unsigned(a & 255),
                          unsigned((a >> 8) & 255), unsigned((a >> 16) & 255));
            Rec& r = x.recs[i];
            std::memset(&r, 0, sizeof(r));
            r.len = uint8_t(sipedge::dp::make_txn_key_bytes(r.key, sizeof(r.key), 1, branch, sent_by));
            if (r.len == 0)
                std::abort();
        }
        for (uint32_t q = 0; q < num_queries; q++) {
            x.expect[q] = uint32_t(rng() % live);
            x.queries[q] = x.recs[x.expect[q]];
        }
        return x;
    }();
    return d;
}

// ---- ours -------------------------------------------------------------------

struct Ours {
    TxnTable table;
};

bool rec_eq(const Rec* recs, uint32_t slot, TxnKeyBytes k) {
    const Rec& r = recs[slot];
    return r.len == k.len && std::memcmp(r.key, k.data, k.len) == 0;
}

Ours& ours() {
    static std::unique_ptr<Ours> o = [] {
        auto x = std::make_unique<Ours>();
        if (!x->table.init(table_entries, 0x5eed))
            std::abort();
        Data& d = data();
        const Rec* recs = d.recs.get();
        auto eq = [recs](uint32_t s, TxnKeyBytes k) { return rec_eq(recs, s, k); };
        for (uint32_t i = 0; i < live; i++) {
            const TxnKeyBytes k{recs[i].key, recs[i].len};
            if (x->table.insert(k, x->table.hash(k), i, eq) != TxnTable::InsertStatus::inserted)
                std::abort();  // a duplicate key would make the benchmark meaningless
        }
        return x;
    }();
    return *o;
}

void BM_Lookup_Bulk_TxnTable(benchmark::State& state) {
    Data& d = data();
    Ours& o = ours();
    const Rec* recs = d.recs.get();
    auto eq = [recs](uint32_t s, TxnKeyBytes k) { return rec_eq(recs, s, k); };
    auto pf = [recs](uint32_t s) { __builtin_prefetch(&recs[s]); };
    uint32_t q = 0;
    uint64_t wrong = 0;
    for (auto _ : state) {
        TxnKeyBytes keys[burst];
        uint32_t out[burst];
        for (uint32_t i = 0; i < burst; i++)
            keys[i] = TxnKeyBytes{d.queries[q + i].key, d.queries[q + i].len};
        o.table.lookup_bulk(keys, burst, out, eq, pf);
        for (uint32_t i = 0; i < burst; i++)
            wrong += out[i] != d.expect[q + i];
        q = (q + burst) & (num_queries - 1);
    }
    if (wrong != 0)
        state.SkipWithError("wrong lookup results");
    state.SetItemsProcessed(int64_t(state.iterations()) * burst);
    state.counters["live"] = double(o.table.size());
    state.counters["index_B_per_entry"] = double(o.table.memory_bytes()) / live;
    state.counters["total_B_per_entry"] = double(o.table.memory_bytes()) / live + sizeof(Rec);
}

void BM_Lookup_Single_TxnTable(benchmark::State& state) {
    Data& d = data();
    Ours& o = ours();
    const Rec* recs = d.recs.get();
    auto eq = [recs](uint32_t s, TxnKeyBytes k) { return rec_eq(recs, s, k); };
    uint32_t q = 0;
    uint64_t wrong = 0;
    for (auto _ : state) {
        const TxnKeyBytes k{d.queries[q].key, d.queries[q].len};
        wrong += o.table.find(k, eq) != d.expect[q];
        q = (q + 1) & (num_queries - 1);
    }
    if (wrong != 0)
        state.SkipWithError("wrong lookup results");
    state.SetItemsProcessed(int64_t(state.iterations()));
}

// ---- DPDK rte_hash ----------------------------------------------------------

rte_hash* g_rte_hash = nullptr;  // freed in main() if a benchmark built it

struct Rte {
    rte_hash* h = nullptr;
    size_t bytes = 0;  // DPDK heap growth from create + inserts
    std::unique_ptr<int32_t[]> pos_of;  // slot -> rte_hash position
};

Rte& rte() {
    static Rte r = [] {
        Rte x;
        rte_malloc_socket_stats before{};
        rte_malloc_socket_stats after{};
        rte_malloc_get_socket_stats(int(rte_socket_id()), &before);
        rte_hash_parameters p{};
        p.name = "bench_txn";
        p.entries = table_entries;
        p.key_len = sizeof(Rec);
        p.hash_func = rte_hash_crc;
        p.hash_func_init_val = 0;
        p.socket_id = int(rte_socket_id());
        x.h = rte_hash_create(&p);
        if (x.h == nullptr) {
            std::fprintf(stderr, "rte_hash_create failed (raise -m?)\n");
            std::abort();
        }
        Data& d = data();
        x.pos_of.reset(new int32_t[live]);
        for (uint32_t i = 0; i < live; i++) {
            x.pos_of[i] = rte_hash_add_key(x.h, &d.recs[i]);
            if (x.pos_of[i] < 0) {
                std::fprintf(stderr, "rte_hash_add_key failed at %u: %d\n", i, x.pos_of[i]);
                std::abort();
            }
        }
        rte_malloc_get_socket_stats(int(rte_socket_id()), &after);
        x.bytes = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
        g_rte_hash = x.h;
        return x;
    }();
    return r;
}

void BM_Lookup_Bulk_RteHash(benchmark::State& state) {
    Data& d = data();
    Rte& r = rte();
    uint32_t q = 0;
    uint64_t wrong = 0;
    for (auto _ : state) {
        const void* keys[burst];
        int32_t pos[burst];
        for (uint32_t i = 0; i < burst; i++)
            keys[i] = &d.queries[q + i];
        rte_hash_lookup_bulk(r.h, keys, burst, pos);
        for (uint32_t i = 0; i < burst; i++)
            wrong += pos[i] != r.pos_of[d.expect[q + i]];
        q = (q + burst) & (num_queries - 1);
    }
    if (wrong != 0)
        state.SkipWithError("wrong lookup results");
    state.SetItemsProcessed(int64_t(state.iterations()) * burst);
    state.counters["live"] = double(rte_hash_count(r.h));
    state.counters["total_B_per_entry"] = double(r.bytes) / live;
}

void BM_Lookup_Single_RteHash(benchmark::State& state) {
    Data& d = data();
    Rte& r = rte();
    uint32_t q = 0;
    uint64_t wrong = 0;
    for (auto _ : state) {
        wrong += rte_hash_lookup(r.h, &d.queries[q]) != r.pos_of[d.expect[q]];
        q = (q + 1) & (num_queries - 1);
    }
    if (wrong != 0)
        state.SkipWithError("wrong lookup results");
    state.SetItemsProcessed(int64_t(state.iterations()));
}

BENCHMARK(BM_Lookup_Bulk_TxnTable)->MinTime(1.0);
BENCHMARK(BM_Lookup_Bulk_RteHash)->MinTime(1.0);
BENCHMARK(BM_Lookup_Single_TxnTable)->MinTime(1.0);
BENCHMARK(BM_Lookup_Single_RteHash)->MinTime(1.0);

}  // namespace

int main(int argc, char** argv) {
    // No hugepages, no devices. -m covers rte_hash's key store (5 M x 72 B),
    // buckets and free-slot ring.
    char* eal_argv[] = {argv[0], const_cast<char*>("--no-huge"), const_cast<char*>("-m"),
                        const_cast<char*>("1536"), const_cast<char*>("--no-pci"),
                        const_cast<char*>("--no-telemetry"), const_cast<char*>("--no-shconf"),
                        const_cast<char*>("-l"), const_cast<char*>("0"),
                        const_cast<char*>("--log-level=3")};
    if (rte_eal_init(int(std::size(eal_argv)), eal_argv) < 0) {
        std::fprintf(stderr, "txn_table_bench: rte_eal_init failed\n");
        return 1;
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    rte_hash_free(g_rte_hash);
    rte_eal_cleanup();
    return 0;
}
