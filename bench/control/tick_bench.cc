// bench/control: what one control tick (control/dp_link.cc DpLink::tick, run
// every 10 ms on the main lcore by control/edge.cc) costs when the Controller
// holds N = 100 / 1,000 / 10,000 trunks. Real EAL (--no-huge, no port), real
// rings and RCU, virtual time; the bench plays worker 0: it takes control's
// REGISTER/OPTIONS off ctl_tx, answers each with a 200 OK on ctl_rx (one tick
// later, as a worker with a short RTT would), and reports quiescent state
// after every tick. Only DpLink::tick is timed (thread CPU time); the worker's
// part runs between ticks. Results: bench/RESULTS-control.md.
//
// Each trunk: two static servers 10.<i/256>.<i%256>.1/.2, registration on
// (one identity, expire-time 3600), OPTIONS keep-alive `monitor always`
// (interval 30 s, or the argument given), the same commands an operator
// writes (docs/control.md, examples/*.conf).

#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "control/commands.h"
#include "control/dp_link.h"
#include "failover/table.h"
#include "tests/eal_scope.h"

namespace sipedge::ctl {
namespace {

constexpr failover::Millis tick_ms = 10;

double thread_cpu_ns() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

std::string trunk_name(uint32_t i) {
    char b[16];
    std::snprintf(b, sizeof b, "t%05u", i);
    return b;
}

// The startup file an operator would write for <n> trunks.
std::vector<std::string> config_lines(uint32_t n, uint32_t probe_interval_s) {
    std::vector<std::string> l = {"set dataplane address 192.0.2.10/24",
                                  "set dataplane access 192.0.2.1:5060"};
    l.reserve(2 + size_t(n) * 7);
    for (uint32_t i = 0; i < n; i++) {
        const std::string t = trunk_name(i);
        const std::string net = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256);
        const std::string user = "u" + std::to_string(100000 + i);
        l.push_back("add trunk " + t);
        l.push_back("set trunk " + t + " server 1 " + net + ".1:5060 udp");
        l.push_back("set trunk " + t + " server 2 " + net + ".2:5060 udp");
        l.push_back("set trunk " + t + " identity " + user + " password pw contact sip:" + user +
                    "@192.0.2.10:5060");
        l.push_back("set trunk " + t + " expire-time 3600");
        l.push_back("set trunk " + t + " monitor always");
        l.push_back("set trunk " + t + " monitor-interval " + std::to_string(probe_interval_s));
    }
    return l;
}

// One control thread + one simulated worker 0.
struct Harness {
    failover::Millis now = 0;
    Controller ctl{[this] { return now; }};
    std::unique_ptr<DpLink> link;
    dp::WorkerLinks links;
    std::deque<dp::ControlMsg> answers;  // 200 OKs waiting for room on ctl_rx
    double config_ms = 0;

    // What the last tick put on ctl_tx (taken by worker_step()).
    uint32_t last_register = 0, last_options = 0;
    // Expires the simulated registrar grants (BM_ChurnTick: short, so refreshes flow).
    uint32_t grant_s = 3600;

    bool setup(uint32_t n, uint32_t probe_interval_s, std::string& why) {
        const auto t0 = std::chrono::steady_clock::now();
        Status s = ctl.apply_lines(config_lines(n, probe_interval_s), "bench");
        config_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (!s.ok()) {
            why = s.error().message;
            return false;
        }
        link = DpLink::create(1, why);
        if (!link) return false;
        links = link->worker_links(0);
        link->sync(ctl);
        rte_rcu_qsbr_thread_online(links.rcu, links.rcu_id);
        return true;
    }
    ~Harness() {
        if (link) rte_rcu_qsbr_thread_offline(links.rcu, links.rcu_id);
    }

    // A header line of <req> ("Via: ...") without its CRLF.
    static std::string_view line(std::string_view req, std::string_view name) {
        std::string key = "\r\n";
        key += name;
        key += ':';
        const size_t p = req.find(key);
        if (p == std::string_view::npos) return {};
        const size_t e = req.find("\r\n", p + 2);
        return req.substr(p + 2, e - p - 2);
    }

    // The worker between two ticks: quiescent report, control's datagrams
    // taken off ctl_tx and each answered 200 OK, answers queued on ctl_rx
    // (at most what fits; the rest next time).
    void worker_step() {
        rte_rcu_qsbr_quiescent(links.rcu, links.rcu_id);
        last_register = last_options = 0;
        dp::ControlMsg m;
        while (rte_ring_sc_dequeue_elem(links.ctl_tx, &m, sizeof(m)) == 0) {
            const std::string_view req(m.data, m.len);
            const bool reg = req.rfind("REGISTER ", 0) == 0;
            (reg ? last_register : last_options)++;
            std::string ok = "SIP/2.0 200 OK\r\n";
            for (const char* h : {"Via", "From", "To", "Call-ID", "CSeq"}) {
                ok += line(req, h);
                if (h[0] == 'T') ok += ";tag=b1";
                ok += "\r\n";
            }
            if (reg) {
                ok += line(req, "Contact");
                ok += "\r\nExpires: " + std::to_string(grant_s) + "\r\n";
            }
            ok += "Content-Length: 0\r\n\r\n";
            dp::ControlMsg back;
            back.peer = m.peer;
            back.len = uint16_t(ok.size());
            ok.copy(back.data, ok.size());
            answers.push_back(back);
        }
        while (!answers.empty() &&
               rte_ring_mp_enqueue_elem(links.ctl_rx, &answers.front(), sizeof(dp::ControlMsg)) == 0)
            answers.pop_front();
    }

    // One timed tick at now + 10 ms: thread CPU nanoseconds.
    double tick() {
        now += tick_ms;
        const double c0 = thread_cpu_ns();
        link->tick(ctl);
        return thread_cpu_ns() - c0;
    }

    // Runs virtual time up to <until> (ms), worker answering.
    void run_until(failover::Millis until) {
        while (now < until) {
            tick();
            worker_step();
        }
    }

    uint32_t registered() {
        uint32_t n = 0;
        for (uint32_t id = 0; id < ctl.engine().trunk_count(); id++)
            for (const failover::Registration& r : ctl.engine().trunk(id)->regs)
                n += r.bound >= 0 ? 1 : 0;
        return n;
    }
};

struct Stats {
    std::vector<double> ns;
    void add(double v) { ns.push_back(v); }
    double mean() const {
        double s = 0;
        for (double v : ns) s += v;
        return ns.empty() ? 0 : s / double(ns.size());
    }
    double max() const { return ns.empty() ? 0 : *std::max_element(ns.begin(), ns.end()); }
    double pct(double p) const {
        if (ns.empty()) return 0;
        std::vector<double> v = ns;
        const size_t k = std::min(v.size() - 1, size_t(p * double(v.size())));
        std::nth_element(v.begin(), v.begin() + long(k), v.end());
        return v[k];
    }
};

// <h> with <n> trunks and the keep-alive interval state.range(1); false (the
// benchmark marked skipped with the reason) when the set-up failed.
bool set_up(Harness& h, benchmark::State& state, uint32_t n) {
    std::string why;
    if (h.setup(n, uint32_t(state.range(1)), why)) return true;
    state.SkipWithError(why.c_str());
    return false;
}

// a. Steady state: from 120 s (every trunk registered; keep-alives flowing,
//    refreshes far away), <iterations> ticks of 10 ms. Counters: per-tick CPU
//    mean/p99/max, and the mean of ticks where nothing was due (no datagram
//    out, no answer in, no event).
void BM_SteadyTick(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    Harness h;
    if (!set_up(h, state, n)) return;
    h.run_until(120000);
    const uint32_t reg = h.registered();
    Stats all, idle;
    uint64_t msgs = 0;
    for (auto _ : state) {
        const uint64_t sent0 = h.link->counters().sent, resp0 = h.link->counters().responses;
        const double ns = h.tick();
        const bool nothing = h.link->counters().sent == sent0 && h.link->counters().responses == resp0;
        state.SetIterationTime(ns * 1e-9);
        all.add(ns);
        if (nothing) idle.add(ns);
        h.worker_step();
        msgs += h.last_register + h.last_options;
    }
    state.counters["trunks_registered"] = reg;
    state.counters["mean_us"] = all.mean() / 1e3;
    state.counters["p99_us"] = all.pct(0.99) / 1e3;
    state.counters["max_us"] = all.max() / 1e3;
    state.counters["idle_ticks"] = double(idle.ns.size());
    state.counters["idle_mean_us"] = idle.mean() / 1e3;
    state.counters["idle_max_us"] = idle.max() / 1e3;
    state.counters["msgs_per_tick"] = double(msgs) / double(all.ns.size());
    state.counters["send_dropped"] = double(h.link->counters().send_dropped);
}

// b. Start-up burst: virtual time 0 → 120 s in 10 ms ticks, registration and
//    keep-alives flowing. Counters: total CPU, slowest tick, the most
//    REGISTER / OPTIONS put on ctl_tx by one tick, registered at the end.
void BM_StartupBurst(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    for (auto _ : state) {
        Harness h;
        if (!set_up(h, state, n)) return;
        Stats all;
        uint32_t peak_reg = 0, peak_opt = 0, peak_msgs = 0;
        double total = 0;
        while (h.now < 120000) {
            const double ns = h.tick();
            total += ns;
            all.add(ns);
            h.worker_step();
            peak_reg = std::max(peak_reg, h.last_register);
            peak_opt = std::max(peak_opt, h.last_options);
            peak_msgs = std::max(peak_msgs, h.last_register + h.last_options);
        }
        state.SetIterationTime(total * 1e-9);
        state.counters["config_ms"] = h.config_ms;
        state.counters["total_cpu_ms"] = total / 1e6;
        state.counters["mean_us"] = all.mean() / 1e3;
        state.counters["p99_us"] = all.pct(0.99) / 1e3;
        state.counters["max_us"] = all.max() / 1e3;
        state.counters["peak_register_per_tick"] = peak_reg;
        state.counters["peak_options_per_tick"] = peak_opt;
        state.counters["peak_msgs_per_tick"] = peak_msgs;
        state.counters["sent"] = double(h.link->counters().sent);
        state.counters["send_dropped"] = double(h.link->counters().send_dropped);
        state.counters["registered"] = h.registered();
    }
}

// c. One server failing: from 120 s, the worker reports a timeout for server 1
//    (index 0) of one trunk (a different trunk each iteration, the table
//    generation the worker would have read); the timed tick drains it, the
//    engine fails the server over and the tick publishes the new snapshot.
void BM_ServerFailTick(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    Harness h;
    if (!set_up(h, state, n)) return;
    h.run_until(120000);
    Stats all;
    uint32_t k = 0, not_published = 0;
    for (auto _ : state) {
        const uint32_t id = (k++ * 7919u) % n;
        const dp::Routes* r = h.links.routes->load(std::memory_order_acquire);
        const failover::TrunkRoutes* tr = r->table->find(id);
        failover::ServerEvent ev;
        ev.trunk_id = id;
        ev.server_idx = 0;
        ev.list_epoch = tr ? tr->list_epoch : 0;
        ev.kind = failover::EventKind::timeout;
        if (rte_ring_mp_enqueue_elem(h.links.events, &ev, sizeof(ev)) != 0) {
            state.SkipWithError("event ring full");
            return;
        }
        const uint64_t pub0 = h.link->counters().published;
        const double ns = h.tick();
        if (h.link->counters().published == pub0) not_published++;
        state.SetIterationTime(ns * 1e-9);
        all.add(ns);
        h.worker_step();
        // Ten quiet ticks between failures (the walk's REGISTER is answered).
        for (int i = 0; i < 10; i++) {
            h.tick();
            h.worker_step();
        }
    }
    state.counters["mean_us"] = all.mean() / 1e3;
    state.counters["max_us"] = all.max() / 1e3;
    state.counters["not_published"] = not_published;
}

// Resident set of this process (/proc/self/status <field>, e.g. "VmRSS"), KiB.
long proc_kib(const char* field) {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    const size_t n = std::strlen(field);
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, field, n) == 0 && line[n] == ':') v = std::strtol(line + n + 1, nullptr, 10);
    std::fclose(f);
    return v;
}

// A DNS answer for trunk <i> (what control/dns_link.cc hands the engine):
// one SRV record set, its two targets in an order and with ports that change
// with <round>, as a provider rotating or renumbering its servers would.
failover::ServerSet dns_answer(uint32_t i, uint32_t round) {
    const std::string net = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    failover::ServerSet set;
    set.from_dns = true;
    failover::ServiceRecord r;
    r.ttl_s = 300;
    for (int k = 0; k < 2; k++) {
        failover::Target t;
        const int host = 1 + ((k + int(round)) & 1);
        t.address = net + "." + std::to_string(host + int(round % 3) * 2);
        t.port = 5060;
        t.priority = uint16_t(10 * k);
        t.weight = 10;
        t.ttl_s = 300;
        r.targets.push_back(std::move(t));
    }
    set.records.push_back(std::move(r));
    return set;
}

// d. Churn (issue 15, the allocator question): N trunks registered, then
//    <iterations> ticks of 10 ms during which the control thread also does
//    what an operator's edge does all day: every tick two DNS answers (the
//    engine's update_servers, as control/dns_link.cc applies them), every
//    5th tick a reconfiguration line (`set trunk tX server 2 ...`, alternating
//    addresses), every 50th tick a trunk deleted and a new one added (its
//    seven lines), and registrations refreshed (the registrar grants 120 s, so
//    about N/100 REGISTERs a second). Timed: the tick, and separately the
//    configuration work (apply_lines + update_servers) of that tick. Counters:
//    tick mean/p99/max, churn mean/p99, resident set (VmRSS) before and after
//    the churn and its peak (VmHWM), KiB. Run it with and without
//    LD_PRELOAD=libjemalloc.so.2 (bench/RESULTS-control.md "Allocator").
void BM_ChurnTick(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    Harness h;
    h.grant_s = 120;
    if (!set_up(h, state, n)) return;
    h.run_until(120000);
    const uint32_t reg = h.registered();
    const long rss0 = proc_kib("VmRSS");
    Stats ticks, churn;
    uint32_t k = 0, next_new = n, dns_refused = 0, cmd_refused = 0;
    uint64_t msgs = 0;
    std::vector<uint32_t> alive(n);
    for (uint32_t i = 0; i < n; i++) alive[i] = i;
    for (auto _ : state) {
        const double c0 = thread_cpu_ns();
        for (int d = 0; d < 2; d++) {
            const uint32_t i = alive[(k * 2 + uint32_t(d)) * 7919u % alive.size()];
            const auto id = h.ctl.engine_id(trunk_name(i));
            if (!id || h.ctl.engine().update_servers(*id, dns_answer(i, k), h.now) != failover::ConfigError::ok)
                dns_refused++;
        }
        if (k % 5 == 0) {
            const uint32_t i = alive[k * 104729u % alive.size()];
            const std::string net = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256);
            const std::string line = "set trunk " + trunk_name(i) + " server 2 " + net + "." +
                                     std::to_string(2 + (k / 5) % 2 * 8) + ":5060 udp";
            if (!h.ctl.apply_lines({line}, "bench").ok()) cmd_refused++;
        }
        if (k % 50 == 0) {
            const size_t slot = k * 31u % alive.size();
            std::vector<std::string> lines = {"del trunk " + trunk_name(alive[slot])};
            const uint32_t i = next_new++ % 65536u;
            for (std::string& l : config_lines(1, 30)) {
                if (l.rfind("set dataplane", 0) == 0) continue;
                // config_lines(1) names trunk 0 and its addresses: renamed to <i>.
                const std::string from = trunk_name(0), to = trunk_name(i);
                for (size_t p; (p = l.find(from)) != std::string::npos;) l.replace(p, from.size(), to);
                const std::string fnet = "10.0.0.", tnet = "10." + std::to_string(i / 256) + "." +
                                                          std::to_string(i % 256) + ".";
                for (size_t p; (p = l.find(fnet)) != std::string::npos;) l.replace(p, fnet.size(), tnet);
                lines.push_back(std::move(l));
            }
            if (h.ctl.apply_lines(lines, "bench").ok()) alive[slot] = i;
            else cmd_refused++;
        }
        churn.add(thread_cpu_ns() - c0);
        const double ns = h.tick();
        state.SetIterationTime(ns * 1e-9);
        ticks.add(ns);
        h.worker_step();
        msgs += h.last_register + h.last_options;
        k++;
    }
    state.counters["trunks_registered"] = reg;
    state.counters["tick_mean_us"] = ticks.mean() / 1e3;
    state.counters["tick_p99_us"] = ticks.pct(0.99) / 1e3;
    state.counters["tick_max_us"] = ticks.max() / 1e3;
    state.counters["churn_mean_us"] = churn.mean() / 1e3;
    state.counters["churn_p99_us"] = churn.pct(0.99) / 1e3;
    state.counters["msgs_per_tick"] = double(msgs) / double(ticks.ns.size());
    state.counters["rss_before_kib"] = double(rss0);
    state.counters["rss_after_kib"] = double(proc_kib("VmRSS"));
    state.counters["rss_peak_kib"] = double(proc_kib("VmHWM"));
    state.counters["dns_refused"] = dns_refused;
    state.counters["cmd_refused"] = cmd_refused;
    state.counters["send_dropped"] = double(h.link->counters().send_dropped);
}

void sizes(benchmark::internal::Benchmark* b, int64_t interval) {
    for (int64_t n : {100, 1000, 10000}) b->Args({n, interval});
    b->ArgNames({"trunks", "probe_s"});
    b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_SteadyTick)->Apply([](auto* b) { sizes(b, 30); })->Iterations(3000);
BENCHMARK(BM_SteadyTick)->Apply([](auto* b) { sizes(b, 3600); })->Iterations(3000);
BENCHMARK(BM_StartupBurst)->Apply([](auto* b) { sizes(b, 30); })->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ServerFailTick)->Apply([](auto* b) { sizes(b, 30); })->Iterations(50);
// 6,000 ticks = 60 s of virtual time at 10,000 trunks.
BENCHMARK(BM_ChurnTick)
    ->Args({10000, 30})
    ->ArgNames({"trunks", "probe_s"})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(6000);

}  // namespace
}  // namespace sipedge::ctl

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    if (!sipedge::test::eal_up("ctltick", "0", {}, "256")) return 77;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    sipedge::test::eal_down();
    return 0;
}
