// bench/dataplane: the proxy core alone (dataplane/proxy.h, no DPDK, no
// ports): whole calls through one worker's Proxy, in process. The caller and
// the carrier UAS are sipedge-loadgen's SIP text (loadgen_sip.h), so the
// messages are the memif benchmark's (a ~700-byte INVITE with SDP).
//
// One iteration is one call: INVITE (and our 100 Trying), 180, 200, ACK, BYE,
// 200 — 6 messages relayed. Time moves 1 ms every 100 calls (100,000 calls
// per simulated second), with advance() each millisecond, so transactions
// complete, become tombstones and expire as in a sustained run. Reported:
// calls/s of the whole loop (generator included) and `proxy_ns_per_msg`, the
// time inside the Proxy's calls alone (steady_clock around each), per
// relayed message. Argument: transaction slots (--max-txns): 16 Ki is the
// default, 2 Mi the memif benchmark's (its tombstone index is 16 M records).
// The indexes are made resident before the loop (Proxy::prefault_indexes()):
// a fresh worker pays their first touches once, during its first traffic.
//
// Results: bench/RESULTS-dataplane.md "The proxy core alone".

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <memory>

#include "bench/dataplane/loadgen_sip.h"
#include "bench/dataplane/one_trunk.h"
#include "dataplane/sink_proxy.h"

namespace sipedge::dp {
namespace {

using bench::Addr;
using bench::SipScan;

constexpr uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d;
}

// Keeps the last message sent to the caller and to the UAS.
struct Keep final : PacketSink {
    uint32_t uas_ip = 0;
    char up[4096], down[4096];
    size_t up_n = 0, down_n = 0;
    uint64_t sent = 0;
    void send_sip(Endpoint to, const char* d, size_t n, const SendNote*) noexcept override {
        sent++;
        if (n > sizeof up) return;
        if (to.ip == uas_ip) std::memcpy(down, d, n), down_n = n;
        else std::memcpy(up, d, n), up_n = n;
    }
};

void BM_ProxyCall(benchmark::State& state) {
    const uint32_t slots = uint32_t(state.range(0));
    const bench::CallAddrs a{{ip4(198, 18, 0, 10), 5060}, {ip4(198, 18, 0, 1), 5060},
                             {ip4(198, 18, 0, 200), 5060}};
    const Endpoint caller{a.caller.ip, a.caller.port}, uas{a.uas.ip, a.uas.port};
    const OneTrunk one(uas, caller);  // the routing snapshot control would publish

    ProxyConfig cfg;
    cfg.self = Endpoint{a.edge.ip, a.edge.port};
    cfg.max_txns = slots;
    cfg.max_udp_payload = MsgPool::max_size;
    Keep sink;
    sink.uas_ip = uas.ip;
    WorkerStats st;
    auto p = std::make_unique<SinkProxy>();
    if (!p->init(cfg, 0, 1, 0, sink, st)) {
        state.SkipWithError("init failed (memory?)");
        return;
    }
    p->set_routes(&one.routes);
    // The steady state: the indexes' first touches (zero pages, 65,536 of
    // them for the 2 Mi-slot tombstone index) are not what is measured.
    p->prefault_indexes();

    using clock = std::chrono::steady_clock;
    clock::duration in_proxy{};
    char buf[4096];
    uint32_t seq = 0;
    Millis now = 0;
    SipScan s;
    auto feed = [&](Endpoint from, size_t n) {
        const auto t0 = clock::now();
        p->on_datagram(from, buf, n, now);
        in_proxy += clock::now() - t0;
    };
    // The UAS's <status> to what it last got (scanned): built into buf.
    auto answer = [&](uint16_t status, std::string_view reason, bool sdp) -> size_t {
        if (!bench::scan(sink.down, sink.down_n, s)) return 0;
        return bench::build_response(buf, sizeof buf, sink.down, s, status, reason, a.uas, seq, sdp);
    };
    uint64_t failed = 0;
    for (auto _ : state) {
        const bench::CallRef cr{seq % 4096, seq};
        seq++;
        if (seq % 100 == 0) {
            now++;
            const auto t0 = clock::now();
            p->advance(now);
            in_proxy += clock::now() - t0;
        }
        sink.up_n = sink.down_n = 0;
        feed(caller, bench::build_invite(buf, sizeof buf, a, cr));
        size_t n = answer(180, "Ringing", false);
        feed(uas, n);
        n = answer(200, "OK", true);
        feed(uas, n);
        // The caller's ACK and BYE follow the 200's Record-Route and To tag.
        SipScan ok;
        if (!bench::scan(sink.up, sink.up_n, ok) || ok.status != 200) {
            failed++;
            continue;
        }
        char ok_copy[4096];
        std::memcpy(ok_copy, sink.up, sink.up_n);
        feed(caller, bench::build_in_dialog(buf, sizeof buf, a, cr, true, ok.rr_value.str(ok_copy),
                                            ok.to_tag.str(ok_copy)));
        feed(caller, bench::build_in_dialog(buf, sizeof buf, a, cr, false, ok.rr_value.str(ok_copy),
                                            ok.to_tag.str(ok_copy)));
        n = answer(200, "OK", false);
        feed(uas, n);
        SipScan bye_ok;
        if (!bench::scan(sink.up, sink.up_n, bye_ok) || bye_ok.status != 200 ||
            bye_ok.method != bench::SipMethod::bye)
            failed++;
    }
    const double msgs = double(state.iterations()) * 6;
    state.SetItemsProcessed(int64_t(msgs));
    state.counters["proxy_ns_per_msg"] =
        double(std::chrono::duration_cast<std::chrono::nanoseconds>(in_proxy).count()) / msgs;
    state.counters["failed_calls"] = double(failed);
    state.counters["drops"] = double(st.drops_total());
    state.counters["tombs_evicted"] = double(st.tombs_evicted);
    if (failed) state.SkipWithError("calls failed: the flow is broken");
}
BENCHMARK(BM_ProxyCall)->Arg(16384)->Arg(2097152)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

}  // namespace
}  // namespace sipedge::dp

BENCHMARK_MAIN();
