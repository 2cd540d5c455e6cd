// IPv4 reassembly (dataplane/ipfrag.h) against bare rte_ip_frag, fragmentation
// of a 4,000-byte datagram, and the cross-core handoff rings (handoff.h).
// Results: bench/RESULTS-dataplane.md. EAL: --no-huge, lcores 0-1.
//
// Reassembly runs in batches of 256 datagrams of 3 fragments each (a 4,000-byte
// SIP INVITE cut at MTU 1500): the fragment mbufs are filled with the timer
// paused, then all 768 are fed with the timer running; the datagrams that come
// out are freed with the timer paused again. Items = datagrams.

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip_frag.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dataplane/handoff.h"
#include "dataplane/inet.h"
#include "dataplane/ipfrag.h"
#include "dataplane/stats_types.h"

namespace sipedge::dp {
namespace {

rte_mempool* g_pool = nullptr;
rte_mempool* g_indirect = nullptr;
unsigned g_second_lcore = RTE_MAX_LCORE;
constexpr int batch = 256;

using Bytes = std::vector<uint8_t>;

void set_csum(uint8_t* ip) {
    ip[10] = ip[11] = 0;
    const uint16_t c = csum_fold(csum_add(0, ip, 20));
    std::memcpy(ip + 10, &c, 2);
}

// A 4,000-byte SIP payload in a UDP/IPv4/Ethernet frame with IP id <id>, no DF.
Bytes frame(uint16_t id) {
    std::string sip = "INVITE sip:+15551230000@carrier.example SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bK776asdhds\r\n"
                      "Content-Length: 3900\r\n\r\n";
    while (sip.size() < 4000) sip += char('a' + sip.size() % 26);
    Bytes f(42 + sip.size());
    f[12] = 0x08;
    std::memcpy(f.data() + 42, sip.data(), sip.size());
    build_ipv4_udp(f.data() + 14, 0xc0000215, 5060, 0xc000020a, 5060, sip.size(), id);
    f[14 + 6] = 0;  // DF off
    set_csum(f.data() + 14);
    return f;
}

// The three fragments of frame(id) at MTU 1500.
std::vector<Bytes> fragments(uint16_t id) {
    const Bytes w = frame(id);
    const size_t n = w.size() - 34;
    std::vector<Bytes> v;
    for (size_t o = 0; o < n; o += 1480) {
        const size_t len = std::min<size_t>(1480, n - o);
        Bytes f(34 + len);
        std::memcpy(f.data(), w.data(), 34);
        std::memcpy(f.data() + 34, w.data() + 34 + o, len);
        const uint16_t tot = be16(uint16_t(20 + len));
        const uint16_t fr = be16(uint16_t((o + len < n ? 0x2000 : 0) | o / 8));
        std::memcpy(f.data() + 16, &tot, 2);
        std::memcpy(f.data() + 20, &fr, 2);
        set_csum(f.data() + 14);
        v.push_back(std::move(f));
    }
    return v;
}

const std::vector<std::vector<Bytes>>& corpus() {
    static const std::vector<std::vector<Bytes>> c = [] {
        std::vector<std::vector<Bytes>> v;
        for (int i = 0; i < batch; i++) v.push_back(fragments(uint16_t(1000 + i)));
        return v;
    }();
    return c;
}

// Fills out[] with the batch's fragment mbufs, each datagram's in <order>.
void load(rte_mbuf** out, const int (&order)[3]) {
    const auto& c = corpus();
    size_t k = 0;
    for (int d = 0; d < batch; d++)
        for (int i : order) {
            const Bytes& b = c[size_t(d)][size_t(i)];
            rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
            std::memcpy(rte_pktmbuf_append(m, uint16_t(b.size())), b.data(), b.size());
            out[k++] = m;
        }
}

void BM_Reassemble3(benchmark::State& state) {
    const int in_order[3] = {0, 1, 2}, reversed[3] = {2, 1, 0};
    const auto& order = state.range(0) ? reversed : in_order;
    WorkerStats st;
    Reassembler r;
    if (!r.init({.flows = 4096, .bucket_entries = 16, .timeout_ms = 2000}, &st)) {
        state.SkipWithError("init");
        return;
    }
    std::vector<rte_mbuf*> frags(3 * batch), out;
    out.reserve(batch);
    for (auto _ : state) {
        state.PauseTiming();
        load(frags.data(), order);
        out.clear();
        state.ResumeTiming();
        const uint64_t now = rte_rdtsc();
        for (rte_mbuf* m : frags)
            if (rte_mbuf* d = r.reassemble(m, eth_hdr_len, now)) out.push_back(d);
        state.PauseTiming();
        if (out.size() != size_t(batch)) state.SkipWithError("lost datagrams");
        for (rte_mbuf* d : out) rte_pktmbuf_free(d);
        state.ResumeTiming();
    }
    if (st.drops_total() != 0) state.SkipWithError("drops");
    state.SetItemsProcessed(int64_t(state.iterations()) * batch);
}
BENCHMARK(BM_Reassemble3)->Arg(0)->Arg(1)->ArgName("reversed");

// The same on bare rte_ip_frag: no checks, no duplicate filter, no expiry
// sweep, no checksum (what Reassembler adds around it).
void BM_RawIpFrag3(benchmark::State& state) {
    const int in_order[3] = {0, 1, 2}, reversed[3] = {2, 1, 0};
    const auto& order = state.range(0) ? reversed : in_order;
    const uint64_t hz = rte_get_tsc_hz();
    rte_ip_frag_tbl* tbl = rte_ip_frag_table_create(256, 16, 4096, hz * 2, SOCKET_ID_ANY);
    auto* dr = static_cast<rte_ip_frag_death_row*>(rte_zmalloc(nullptr, sizeof(rte_ip_frag_death_row), 64));
    std::vector<rte_mbuf*> frags(3 * batch), out;
    out.reserve(batch);
    for (auto _ : state) {
        state.PauseTiming();
        load(frags.data(), order);
        out.clear();
        state.ResumeTiming();
        const uint64_t now = rte_rdtsc();
        for (rte_mbuf* m : frags) {
            m->l2_len = 14;
            m->l3_len = 20;
            auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, 14);
            if (rte_mbuf* d = rte_ipv4_frag_reassemble_packet(tbl, dr, m, now, ip)) out.push_back(d);
        }
        rte_ip_frag_free_death_row(dr, 0);
        state.PauseTiming();
        if (out.size() != size_t(batch)) state.SkipWithError("lost datagrams");
        for (rte_mbuf* d : out) rte_pktmbuf_free(d);
        state.ResumeTiming();
    }
    rte_ip_frag_table_destroy(tbl);
    rte_free(dr);
    state.SetItemsProcessed(int64_t(state.iterations()) * batch);
}
BENCHMARK(BM_RawIpFrag3)->Arg(0)->Arg(1)->ArgName("reversed");

// Fragmenter: a 4,000-byte datagram (in a 2-segment chain) into 3 fragments
// of at most 1500 bytes, checksums written, L2 header copied; then freed.
void BM_Fragment4000(benchmark::State& state) {
    const Bytes w = frame(7);
    Fragmenter fr(g_pool, g_indirect);
    rte_mbuf* out[8];
    for (auto _ : state) {
        rte_mbuf* m = copy_in(g_pool, w.data(), w.size());
        uint16_t n = 0;
        if (fr.fragment(m, eth_hdr_len, 1500, out, 8, n) != FragmentResult::ok || n != 3) {
            state.SkipWithError("fragment");
            break;
        }
        for (uint16_t i = 0; i < n; i++) rte_pktmbuf_free(out[i]);
    }
    state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_Fragment4000);

// Handoff on one core: push_burst() of N packets to a ring, then drain() them.
void BM_HandoffSameCore(benchmark::State& state) {
    const uint16_t n = uint16_t(state.range(0));
    Handoff ho;
    if (!ho.init(2, 1024, "bho_same")) {
        state.SkipWithError("init");
        return;
    }
    std::vector<rte_mbuf*> ms(n);
    for (auto& m : ms) m = rte_pktmbuf_alloc(g_pool);
    WorkerStats st;
    for (auto _ : state) {
        ho.push_burst(1, ms.data(), n, st);
        uint16_t k = 0;
        ho.drain(1, n, [&](rte_mbuf* m) { ms[k++] = m; });
        benchmark::DoNotOptimize(k);
    }
    for (auto m : ms) rte_pktmbuf_free(m);
    if (st.drops_total()) state.SkipWithError("drops");
    state.SetItemsProcessed(int64_t(state.iterations()) * n);
}
BENCHMARK(BM_HandoffSameCore)->Arg(1)->Arg(32);

// Across cores: a burst goes to the second lcore's ring; that lcore drains it
// and pushes it back to ring 0; we drain ring 0 until the burst is back. One
// iteration = one round trip of a burst (two handoffs per packet).
struct Echo {
    Handoff* ho;
    std::atomic<bool> stop{false};
};
int echo(void* arg) {
    auto* e = static_cast<Echo*>(arg);
    WorkerStats st;
    rte_mbuf* b[Handoff::max_burst];
    while (!e->stop.load(std::memory_order_relaxed)) {
        uint16_t k = 0;
        e->ho->drain(1, 32, [&](rte_mbuf* m) { b[k++] = m; });
        if (k) e->ho->push_burst(0, b, k, st);
    }
    return 0;
}

void BM_HandoffCrossCore(benchmark::State& state) {
    if (g_second_lcore >= RTE_MAX_LCORE) {
        state.SkipWithError("needs two lcores");
        return;
    }
    const uint16_t n = uint16_t(state.range(0));
    Handoff ho;
    if (!ho.init(2, 1024, "bho_cross")) {
        state.SkipWithError("init");
        return;
    }
    Echo e{&ho};
    rte_eal_remote_launch(echo, &e, g_second_lcore);
    std::vector<rte_mbuf*> ms(n);
    for (auto& m : ms) m = rte_pktmbuf_alloc(g_pool);
    WorkerStats st;
    const uint64_t hz = rte_get_tsc_hz();
    for (auto _ : state) {
        ho.push_burst(1, ms.data(), n, st);
        uint16_t k = 0;
        const uint64_t deadline = rte_rdtsc() + hz;
        while (k < n && rte_rdtsc() < deadline) ho.drain(0, n, [&](rte_mbuf* m) { ms[k++] = m; });
        if (k < n) {
            state.SkipWithError("burst not returned within 1 s");
            break;
        }
    }
    e.stop.store(true);
    rte_eal_wait_lcore(g_second_lcore);
    for (auto m : ms) rte_pktmbuf_free(m);
    state.SetItemsProcessed(int64_t(state.iterations()) * n);
}
BENCHMARK(BM_HandoffCrossCore)->Arg(1)->Arg(32)->UseRealTime();

}  // namespace
}  // namespace sipedge::dp

int main(int argc, char** argv) {
    char* eal_argv[] = {argv[0], const_cast<char*>("--no-huge"), const_cast<char*>("-m"),
                        const_cast<char*>("512"), const_cast<char*>("--no-pci"),
                        const_cast<char*>("--no-telemetry"), const_cast<char*>("--no-shconf"),
                        const_cast<char*>("-l"), const_cast<char*>("0-1"),
                        const_cast<char*>("--log-level=3")};
    if (rte_eal_init(int(std::size(eal_argv)), eal_argv) < 0) {
        std::fprintf(stderr, "frag_handoff_bench: rte_eal_init failed\n");
        return 1;
    }
    using namespace sipedge::dp;
    g_second_lcore = rte_get_next_lcore(-1, 1, 0);
    g_pool = rte_pktmbuf_pool_create("bench_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     int(rte_socket_id()));
    g_indirect = rte_pktmbuf_pool_create("bench_ind", 8191, 256, 0, 0, int(rte_socket_id()));
    if (!g_pool || !g_indirect) {
        std::fprintf(stderr, "frag_handoff_bench: mempool\n");
        return 1;
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    rte_eal_cleanup();
    return 0;
}
