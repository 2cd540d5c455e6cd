// Cost of publishing a new failover::Table for 10,000 trunks after one
// server's state changes (incremental: one trunk rebuilt, the rest shared),
// against a full rebuild; and the worker's per-request selection cost
// (table lookup, first candidate, RetryState init from its policy).

#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "failover/engine.h"
#include "failover/table.h"

using namespace sipedge::failover;

namespace {

constexpr uint32_t trunks = 10000;

std::unique_ptr<Engine> make_engine() {
    auto e = std::make_unique<Engine>(1);
    for (uint32_t i = 0; i < trunks; i++) {
        AddTrunk a;
        a.name = "t" + std::to_string(i);
        a.knobs.register_enabled = false;
        a.knobs.recover_delay_enabled = true;
        a.knobs.recover_delay_min_s = 60;
        std::vector<Target> v;
        for (int s = 0; s < 4; s++) {
            Target t;
            t.address = "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + "." + std::to_string(s + 1);
            v.push_back(t);
        }
        a.servers = static_servers(std::move(v));
        e->add_trunk(std::move(a), 0);
    }
    e->clear_actions();
    return e;
}

// One event flips one server of one trunk; publish() rebuilds that trunk only.
void BM_PublishAfterOneServerChange(benchmark::State& st) {
    auto e = make_engine();
    Millis now = 1000;
    std::unique_ptr<const Table> cur = e->publish(nullptr, now);
    uint32_t i = 0;
    for (auto _ : st) {
        ServerEvent ev;
        ev.at_ms = ++now;
        ev.trunk_id = i % trunks;
        ev.server_idx = 0;
        ev.list_epoch = e->trunk(ev.trunk_id)->list_epoch;
        ev.kind = (i / trunks) % 2 ? EventKind::success : EventKind::timeout;
        e->on_event(ev);
        std::unique_ptr<const Table> next = e->publish(cur.get(), now);
        benchmark::DoNotOptimize(next.get());
        cur = std::move(next);  // the old table is freed here (after RCU in production)
        e->clear_actions();
        i++;
    }
    st.counters["trunks"] = trunks;
}
BENCHMARK(BM_PublishAfterOneServerChange)->Unit(benchmark::kMicrosecond);

// Every trunk rebuilt (first publication, or a config reload).
void BM_PublishFullRebuild(benchmark::State& st) {
    auto e = make_engine();
    for (auto _ : st) {
        std::unique_ptr<const Table> t = e->publish(nullptr, 1000);
        benchmark::DoNotOptimize(t.get());
    }
    st.counters["trunks"] = trunks;
}
BENCHMARK(BM_PublishFullRebuild)->Unit(benchmark::kMillisecond);

// Worker side: pick the candidate for a new request and set up its walk.
void BM_SelectPerRequest(benchmark::State& st) {
    auto e = make_engine();
    std::unique_ptr<const Table> t = e->publish(nullptr, 1000);
    std::vector<uint32_t> ids(4096);
    Random rng(3);
    for (auto& x : ids) x = uint32_t(rng.uniform(0, trunks - 1));
    size_t i = 0;
    for (auto _ : st) {
        const uint32_t id = ids[i++ & 4095];
        const TrunkRoutes* r = t->find(id);
        const Candidate* c = select_candidate(*t, id, 0);
        RetryState rs;
        rs.init(r->policy[size_t(RequestKind::invite)], RequestKind::invite, false, r->count);
        benchmark::DoNotOptimize(c);
        benchmark::DoNotOptimize(rs);
    }
}
BENCHMARK(BM_SelectPerRequest);

// Control side: drain one worker event into the engine (no publish).
void BM_OnEvent(benchmark::State& st) {
    auto e = make_engine();
    uint32_t i = 0;
    Millis now = 1000;
    for (auto _ : st) {
        ServerEvent ev;
        ev.at_ms = ++now;
        ev.trunk_id = i % trunks;
        ev.server_idx = uint16_t(1 + i % 3);
        ev.list_epoch = 0;
        ev.kind = EventKind::success;
        ev.rtt_us = 20000;
        e->on_event(ev);
        i++;
    }
}
BENCHMARK(BM_OnEvent);

}  // namespace

BENCHMARK_MAIN();
