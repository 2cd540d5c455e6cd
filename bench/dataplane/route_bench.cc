// Route patterns (dataplane/route_table): lookups per second over 1k, 5k and
// 20k patterns, and the control thread's compile time for each.
// Results: bench/RESULTS-dataplane.md.
//
// The patterns look like a carrier edge's: DID blocks (+1NXXNXX then 2-4
// wildcards), national and international prefixes with X, [ ] and !, some
// with a source prefix, and 2 % regular expressions. The numbers looked up
// are drawn from the patterns themselves (each matches at least one), 4096
// of them, cycled.

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/route_table.h"

namespace {

using namespace sipedge::dp;

struct Set {
    std::vector<RouteSpec> specs;
    std::vector<std::string> numbers;
    std::vector<uint32_t> sources;
};

std::string digits(std::mt19937& rng, int n, char first_min = '0') {
    std::string s;
    for (int i = 0; i < n; i++) s += char((i == 0 ? first_min : '0') + rng() % (i == 0 ? 10 - (first_min - '0') : 10));
    return s;
}

// A number that <pattern> (as generated below) matches.
std::string fill(const std::string& p, std::mt19937& rng) {
    std::string s;
    for (size_t i = 0; i < p.size(); i++) {
        const char c = p[i];
        if (c == 'X') s += char('0' + rng() % 10);
        else if (c == '!') s += digits(rng, 1 + int(rng() % 6));
        else if (c == '[') {  // [2-9] only
            s += char('2' + rng() % 8);
            i = p.find(']', i);
        } else s += c;
    }
    return s;
}

Set make_set(size_t n) {
    std::mt19937 rng{uint32_t(n)};
    Set set;
    for (uint32_t i = 0; i < n; i++) {
        RouteSpec s;
        s.id = i + 1;
        s.target = i % 1000;
        std::string num;
        const unsigned k = rng() % 100;
        if (k < 2) {
            s.kind = RouteKind::regex;
            const std::string cc = digits(rng, 2, '2');
            s.pattern = "(\\+|00)" + cc + "[0-9]{6,12}";
            num = "+" + cc + digits(rng, 9);
        } else if (k < 70) {  // DID block
            s.pattern = "+1" + digits(rng, 3, '2') + digits(rng, 3, '2') + digits(rng, 4 - int(rng() % 3));
            while (s.pattern.size() < 12) s.pattern += 'X';
            num = fill(s.pattern, rng);
        } else if (k < 85) {  // national prefix
            s.pattern = "1" + digits(rng, 3, '2') + "[2-9]XXXXXX";
            num = fill(s.pattern, rng);
        } else if (k < 95) {  // international
            s.pattern = "011" + digits(rng, 1 + int(rng() % 3), '1') + "!";
            num = fill(s.pattern, rng);
        } else {  // access-code style with a source restriction
            s.pattern = digits(rng, 1, '2') + digits(rng, 2) + "XXXX";
            s.src_addr = (10u << 24) | ((rng() % 256) << 16);
            s.src_len = 16;
            num = fill(s.pattern, rng);
        }
        set.specs.push_back(s);
        if (set.numbers.size() < 4096) {
            set.numbers.push_back(num);
            set.sources.push_back(s.src_len ? s.src_addr | 0x0102 : (192u << 24) | (2u << 8) | 7u);
        }
    }
    const size_t have = set.numbers.size();
    while (set.numbers.size() < 4096) {
        const size_t j = rng() % have;
        set.numbers.push_back(set.numbers[j]);
        set.sources.push_back(set.sources[j]);
    }
    return set;
}

// One compiled table per size, built once (Google Benchmark calls a function several times).
struct Fixture {
    Set set;
    std::unique_ptr<RouteTable> table;
    RouteScratch scratch;
    std::string error;
};

Fixture& fixture(size_t n) {
    static std::map<size_t, std::unique_ptr<Fixture>> all;
    auto& f = all[n];
    if (!f) {
        f = std::make_unique<Fixture>();
        f->set = make_set(n);
        auto t = RouteTable::compile(f->set.specs);
        if (!t) {
            f->error = t.error().message;
            return *f;
        }
        f->table = std::move(t.value());
        auto s = f->table->clone_scratch();
        if (s) f->scratch = std::move(s.value());
    }
    return *f;
}

void BM_RouteLookup(benchmark::State& state) {
    Fixture& f = fixture(size_t(state.range(0)));
    if (!f.table) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    const Set& set = f.set;
    size_t i = 0, matched = 0;
    for (auto _ : state) {
        RouteHit hit;
        const RouteStatus st = f.table->lookup(f.scratch, set.numbers[i], set.sources[i], hit);
        matched += st == RouteStatus::matched;
        benchmark::DoNotOptimize(hit);
        i = (i + 1) & 4095;
    }
    if (matched != size_t(state.iterations())) state.SkipWithError("a generated number did not match");
    state.SetItemsProcessed(int64_t(state.iterations()));
    state.counters["db_kib"] = double(f.table->database_bytes()) / 1024.0;
}
BENCHMARK(BM_RouteLookup)->Arg(1000)->Arg(5000)->Arg(20000);

void BM_RouteCompile(benchmark::State& state) {
    const Set& set = fixture(size_t(state.range(0))).set;
    for (auto _ : state) {
        auto table = RouteTable::compile(set.specs);
        if (!table) {
            state.SkipWithError(table.error().message.c_str());
            return;
        }
        benchmark::DoNotOptimize(table.value().get());
    }
    state.SetItemsProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_RouteCompile)->Arg(1000)->Arg(5000)->Arg(20000)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
