// Resolutions per second of the control thread's resolver against a local
// knotd (started here, on 127.0.0.1 and a free port, stopped at exit):
//   - A only (explicit port): one question per resolution;
//   - the full RFC 3263 chain NAPTR → SRV → A: three questions per resolution;
//   - from the cache: the pure Locator/Cache path, no network.
// <concurrency> resolutions are started at once and driven by the poll()
// helper until all are delivered; each batch uses a fresh Resolver (its
// creation is excluded from the timing) so that every network benchmark
// really goes to the server. Results: bench/RESULTS-dns.md.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "dns/poll_loop.h"
#include "dns/resolver.h"
#include "tests/dns/knot_server.h"

namespace sipedge::dns {
namespace {

constexpr int hosts = 4096;

std::string zone() {
    std::string z = "$ORIGIN bench.test.\n$TTL 3600\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n";
    for (int i = 0; i < hosts; i++) {
        const std::string h = "h" + std::to_string(i);
        z += h + " NAPTR 10 10 \"S\" \"SIP+D2U\" \"\" _sip._udp." + h + "\n";
        z += "_sip._udp." + h + " SRV 10 0 5060 t." + h + "\n";
        z += "t." + h + " A 192.0.2." + std::to_string(1 + i % 250) + "\n";
        z += h + " A 198.51.100." + std::to_string(1 + i % 250) + "\n";
    }
    return z;
}

testing::KnotServer* server() {
    static std::unique_ptr<testing::KnotServer> k = [] {
        std::string err;
        auto s = testing::KnotServer::start("127.0.0.1", {{"bench.test", zone()}}, &err);
        if (!s) {
            std::fprintf(stderr, "knotd: %s\n", err.c_str());
            std::exit(1);
        }
        return s;
    }();
    return k.get();
}

std::unique_ptr<Resolver> make_resolver() {
    ResolverConfig c;
    c.channel.servers.push_back(ServerAddr{*IpAddr::parse(server()->addr()), server()->port()});
    c.channel.timeout_ms = 2000;
    c.channel.tries = 2;
    auto r = Resolver::create(std::move(c), [](uint32_t) { return 0u; });
    if (!r.ok()) {
        std::fprintf(stderr, "resolver: %s\n", r.error().message.c_str());
        std::exit(1);
    }
    return std::move(r).value();
}

LocateRequest request(int i, bool naptr) {
    LocateRequest r;
    r.host = "h" + std::to_string(i % hosts) + ".bench.test";
    r.port = naptr ? 0 : 5060;
    r.transports = {Transport::udp};
    r.families = Families::v4;
    return r;
}

// Runs one batch of <n> resolutions starting at host <first>; returns how many
// came back with addresses.
int64_t batch(Resolver& r, int first, int n, bool naptr) {
    int64_t done = 0, good = 0;
    for (int i = 0; i < n; i++) {
        auto id = r.start(request(first + i, naptr), [&](LocateId id, const ServerList& l, bool) {
            done++;
            good += l.status == AnswerStatus::ok;
            r.stop(id);
        }, monotonic_ms());
        if (!id.ok())
            std::abort();
    }
    run_until(r, [&] { return done >= n; }, 10000);
    return good;
}

void network(benchmark::State& state, bool naptr) {
    const int n = int(state.range(0));
    int next = 0;
    int64_t ok = 0, total = 0;
    server();
    for (auto _ : state) {
        state.PauseTiming();
        std::unique_ptr<Resolver> r = make_resolver();
        state.ResumeTiming();
        ok += batch(*r, next, n, naptr);
        total += n;
        next += n;
        state.PauseTiming();
        r.reset();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(total);
    state.counters["failed"] = double(total - ok);
    state.counters["queries_per_resolution"] = naptr ? 3 : 1;
}

void BM_ResolveA(benchmark::State& state) { network(state, false); }
void BM_ResolveNaptrSrvA(benchmark::State& state) { network(state, true); }

void BM_ResolveFromCache(benchmark::State& state) {
    std::unique_ptr<Resolver> r = make_resolver();
    batch(*r, 0, 64, true);  // warm: 64 hosts' NAPTR, SRV and A answers cached for an hour
    int next = 0;
    int64_t total = 0;
    for (auto _ : state) {
        // Fresh answers: the list is built and delivered inside start().
        batch(*r, next % 64, 1, true);
        next++;
        total++;
    }
    state.SetItemsProcessed(total);
    state.counters["in_flight_after"] = double(r->queries_in_flight());
}

BENCHMARK(BM_ResolveA)->Arg(1)->Arg(16)->Arg(64)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ResolveNaptrSrvA)->Arg(1)->Arg(16)->Arg(64)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ResolveFromCache)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sipedge::dns

BENCHMARK_MAIN();
