// bench/dataplane/timer_bench.cc: sipedge::dp::TimerWheel against DPDK rte_timer,
// side by side in one binary.
//
//   ArmCancel/N  N timers pending; arm one timer at a random deadline inside
//                the pending range, then cancel it. One item = arm + cancel.
//   ArmExpire/N  N timers pending (none due); arm 256 timers due on the next
//                tick and fire them (advance() / rte_timer_manage()).
//                One item = one timer armed and fired.
//   Drain/N      N timers spread over 64 s, all fired. The wheel is advanced
//                1 ms at a time (64 000 calls, cascades included); rte_timer
//                gets one rte_timer_manage() call after all are due. Arming is
//                not timed and is done in deadline order for both (cheap
//                set-up for the skiplist). One item = one timer fired.
//
// rte_timer runs on real TSC time (it has no injected clock), so pending
// timers are placed 100..164 s ahead, out of reach during a run.
#include "dataplane/timer_wheel.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_timer.h>

namespace {

using sipedge::dp::TimerHandle;
using sipedge::dp::TimerWheel;

constexpr uint64_t pending_lo_ms = 100'000;
constexpr uint64_t pending_span_ms = 64'000;
constexpr uint32_t expire_batch = 256;
constexpr uint32_t rand_count = 1 << 16;

std::vector<uint64_t> make_delays(uint64_t lo, uint64_t span, uint32_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<uint64_t> v(n);
    for (auto& d : v)
        d = lo + rng() % span;
    return v;
}

// ---- ours -------------------------------------------------------------------

struct WheelSetup {
    TimerWheel wheel;
    uint64_t now = 1;
};

// One wheel per N, shared by ArmCancel and ArmExpire (built once: Google
// Benchmark calls each function several times).
std::unique_ptr<WheelSetup> g_wheel;

WheelSetup& wheel_with_pending(uint32_t n) {
    if (!g_wheel || g_wheel->wheel.size() != n) {
        g_wheel.reset();
        g_wheel = std::make_unique<WheelSetup>();
        WheelSetup& s = *g_wheel;
        if (!s.wheel.init(n + expire_batch + 16, s.now))
            std::abort();
        const auto d = make_delays(pending_lo_ms, pending_span_ms, n, 1);
        for (uint32_t i = 0; i < n; i++)
            s.wheel.arm_at(s.now + d[i], i);
    }
    return *g_wheel;
}

void BM_ArmCancel_Wheel(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    WheelSetup& s = wheel_with_pending(n);
    const auto d = make_delays(pending_lo_ms, pending_span_ms, rand_count, 2);
    uint32_t i = 0;
    for (auto _ : state) {
        const TimerHandle h = s.wheel.arm_at(s.now + d[i++ & (rand_count - 1)], 0);
        benchmark::DoNotOptimize(h);
        s.wheel.cancel(h);
    }
    if (s.wheel.size() != n)
        state.SkipWithError("pending count changed");
    state.SetItemsProcessed(int64_t(state.iterations()));
    state.counters["pending"] = double(s.wheel.size());
    state.counters["bytes_per_timer"] = double(TimerWheel::bytes_per_timer);
}

void BM_ArmExpire_Wheel(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    WheelSetup& s = wheel_with_pending(n);
    uint64_t fired = 0;
    for (auto _ : state) {
        for (uint32_t k = 0; k < expire_batch; k++)
            s.wheel.arm_at(s.now + 1, k);
        s.now++;
        fired += s.wheel.advance(s.now, [](uint64_t c) { benchmark::DoNotOptimize(c); });
    }
    // Pending timers are >= 100 s out; a run advances a few seconds at most.
    if (fired != uint64_t(state.iterations()) * expire_batch || s.wheel.size() != n)
        state.SkipWithError("unexpected expiries");
    state.SetItemsProcessed(int64_t(fired));
    state.counters["pending"] = double(s.wheel.size());
}

void BM_Drain_Wheel(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    g_wheel.reset();  // drain an otherwise empty wheel
    auto d = make_delays(1, 64'000, n, 3);
    std::sort(d.begin(), d.end());
    TimerWheel w;
    uint64_t now = 1;
    if (!w.init(n, now))
        std::abort();
    uint64_t fired = 0;
    for (auto _ : state) {
        state.PauseTiming();
        for (uint32_t i = 0; i < n; i++)
            w.arm_at(now + d[i], i);
        state.ResumeTiming();
        const uint64_t end = now + 64'000;
        while (now < end)
            fired += w.advance(++now, [](uint64_t c) { benchmark::DoNotOptimize(c); });
    }
    if (fired != uint64_t(state.iterations()) * n)
        state.SkipWithError("not all fired");
    state.SetItemsProcessed(int64_t(fired));
}

// ---- DPDK rte_timer ---------------------------------------------------------

void rte_cb(rte_timer*, void* arg) {
    benchmark::DoNotOptimize(arg);
}

uint64_t ms_to_cycles(uint64_t ms) {
    return ms * (rte_get_timer_hz() / 1000);
}

struct RteSetup {
    std::unique_ptr<rte_timer[]> pending;
    std::unique_ptr<rte_timer[]> batch;
    uint32_t n = 0;

    // The skiplist links these structs: stop them before freeing.
    ~RteSetup() {
        for (uint32_t i = 0; i < n; i++)
            rte_timer_stop(&pending[i]);
        for (uint32_t i = 0; i < expire_batch; i++)
            rte_timer_stop(&batch[i]);
    }
};

std::unique_ptr<RteSetup> g_rte;

RteSetup& rte_with_pending(uint32_t n) {
    auto& s = g_rte;
    if (!s || s->n != n) {
        s.reset();
        s = std::make_unique<RteSetup>();
        s->pending.reset(new rte_timer[n]);
        s->batch.reset(new rte_timer[expire_batch]);
        for (uint32_t i = 0; i < expire_batch; i++)
            rte_timer_init(&s->batch[i]);
        auto d = make_delays(pending_lo_ms, pending_span_ms, n, 1);
        // Deadline order: the skiplist insert then follows its hot right edge,
        // which keeps set-up of 10 M timers to seconds.
        std::sort(d.begin(), d.end());
        const unsigned lcore = rte_lcore_id();
        for (uint32_t i = 0; i < n; i++) {
            rte_timer_init(&s->pending[i]);
            if (rte_timer_reset(&s->pending[i], ms_to_cycles(d[i]), SINGLE, lcore, rte_cb, nullptr) != 0)
                std::abort();
        }
        s->n = n;
    }
    return *s;
}

void BM_ArmCancel_RteTimer(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    RteSetup& s = rte_with_pending(n);
    auto d = make_delays(pending_lo_ms, pending_span_ms, rand_count, 2);
    for (auto& x : d)
        x = ms_to_cycles(x);
    const unsigned lcore = rte_lcore_id();
    rte_timer* t = &s.batch[0];
    uint32_t i = 0;
    uint64_t failed = 0;
    for (auto _ : state) {
        failed += rte_timer_reset(t, d[i++ & (rand_count - 1)], SINGLE, lcore, rte_cb, nullptr) != 0;
        failed += rte_timer_stop(t) != 0;
    }
    if (failed != 0)
        state.SkipWithError("rte_timer_reset/stop failed");
    state.SetItemsProcessed(int64_t(state.iterations()));
    state.counters["pending"] = double(n);
    state.counters["bytes_per_timer"] = double(sizeof(rte_timer));
}

void BM_ArmExpire_RteTimer(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    RteSetup& s = rte_with_pending(n);
    const unsigned lcore = rte_lcore_id();
    uint64_t failed = 0;
    for (auto _ : state) {
        // ticks = 0: due at once, the wheel's "next tick" counterpart.
        for (uint32_t k = 0; k < expire_batch; k++)
            failed += rte_timer_reset(&s.batch[k], 0, SINGLE, lcore, rte_cb, nullptr) != 0;
        rte_timer_manage();
    }
    for (uint32_t k = 0; k < expire_batch; k++)
        failed += rte_timer_pending(&s.batch[k]) != 0;
    if (failed != 0)
        state.SkipWithError("timers failed to arm or to fire");
    state.SetItemsProcessed(int64_t(state.iterations() * expire_batch));
    state.counters["pending"] = double(n);
}

void BM_Drain_RteTimer(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    g_rte.reset();  // drain an otherwise empty skiplist
    std::unique_ptr<rte_timer[]> t(new rte_timer[n]);
    const unsigned lcore = rte_lcore_id();
    // Spread over 20 ms of real time, in deadline order; all due after a sleep.
    const uint64_t span = ms_to_cycles(20);
    uint64_t failed = 0;
    for (uint32_t i = 0; i < n; i++)
        rte_timer_init(&t[i]);
    for (auto _ : state) {
        state.PauseTiming();
        for (uint32_t i = 0; i < n; i++)
            failed += rte_timer_reset(&t[i], span * i / n, SINGLE, lcore, rte_cb, nullptr) != 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        state.ResumeTiming();
        rte_timer_manage();
    }
    for (uint32_t i = 0; i < n; i++)
        failed += rte_timer_pending(&t[i]) != 0;
    if (failed != 0)
        state.SkipWithError("timers failed to arm or to fire");
    state.SetItemsProcessed(int64_t(state.iterations()) * n);
}

// Ours and DPDK's next to each other for each N; the 1 M runs first so that
// only one N's pending set is alive at a time per implementation.
// ArmExpire has a fixed iteration count: each iteration moves the wheel's
// clock 1 ms, and 20 000 ms stays clear of the pending timers (>= 100 s).
BENCHMARK(BM_ArmCancel_Wheel)->Arg(1'000'000)->MinTime(0.3);
BENCHMARK(BM_ArmCancel_RteTimer)->Arg(1'000'000)->MinTime(0.3);
BENCHMARK(BM_ArmExpire_Wheel)->Arg(1'000'000)->Iterations(20'000);
BENCHMARK(BM_ArmExpire_RteTimer)->Arg(1'000'000)->Iterations(20'000);
BENCHMARK(BM_ArmCancel_Wheel)->Arg(10'000'000)->MinTime(0.3);
BENCHMARK(BM_ArmCancel_RteTimer)->Arg(10'000'000)->MinTime(0.3);
BENCHMARK(BM_ArmExpire_Wheel)->Arg(10'000'000)->Iterations(20'000);
BENCHMARK(BM_ArmExpire_RteTimer)->Arg(10'000'000)->Iterations(20'000);
BENCHMARK(BM_Drain_Wheel)->Arg(1'000'000)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Drain_RteTimer)->Arg(1'000'000)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Drain_Wheel)->Arg(10'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Drain_RteTimer)->Arg(10'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    // No hugepages, no devices: rte_timer needs only EAL and the timer
    // subsystem; the timer structs themselves live on the ordinary heap.
    char* eal_argv[] = {argv[0], const_cast<char*>("--no-huge"), const_cast<char*>("-m"),
                        const_cast<char*>("256"), const_cast<char*>("--no-pci"),
                        const_cast<char*>("--no-telemetry"), const_cast<char*>("--no-shconf"),
                        const_cast<char*>("-l"), const_cast<char*>("0"),
                        const_cast<char*>("--log-level=3")};
    if (rte_eal_init(int(std::size(eal_argv)), eal_argv) < 0) {
        std::fprintf(stderr, "timer_bench: rte_eal_init failed\n");
        return 1;
    }
    if (rte_timer_subsystem_init() != 0) {
        std::fprintf(stderr, "timer_bench: rte_timer_subsystem_init failed\n");
        return 1;
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    g_wheel.reset();
    g_rte.reset();
    rte_timer_subsystem_finalize();
    rte_eal_cleanup();
    return 0;
}
