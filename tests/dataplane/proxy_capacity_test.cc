// Issue 16, sustained capacity: calls at a steady rate through one proxy core
// with simulated time, every call INVITE / 180 / 200 / ACK, a 1 s hold, BYE /
// 200. It measures what a call holds (slot-seconds and retained-buffer-seconds
// per call: RFC 3261 lingering made that ~4 slots × 32 s) and the proxy's own
// CPU time per call, and checks that a table of 4,096 slots carries 1,000
// calls/s with no 503: the sustained rate is bounded by CPU, not by slot
// lifetime. Uses only the Proxy's public interface (so it also runs against
// older trees for the before figures) and prints its figures.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>

#include "tests/dataplane/proxy_calls.h"

namespace sipedge::dp {
namespace {

using namespace calls;

struct Figures {
    uint64_t offered = 0, answered = 0, refused = 0, ended = 0;
    double slot_s_per_call = 0, buf_s_per_call = 0;
    uint32_t peak_slots = 0, peak_bufs = 0;  // per answered call below
    double proxy_us_per_call = 0;
};

// <rate> calls/s for <seconds>, then 40 s more of time so every timer ends.
Figures run(uint32_t max_txns, uint32_t rate, uint32_t seconds) {
    Sink sink;
    WorkerStats st;
    ProxyConfig c;
    c.self = edge;
    c.max_txns = max_txns;
    auto p = std::make_unique<SinkProxy>();
    EXPECT_TRUE(p->init(c, 0, 99, 0, sink, st));
    auto table = make_table({primary});
    Routes routes;
    routes.table = table.get();
    routes.default_trunk = 0;
    routes.access = caller;
    uint32_t cars[1] = {primary.ip};
    routes.carrier_count = 1;
    routes.carriers = cars;
    p->set_routes(&routes);

    using clock = std::chrono::steady_clock;
    clock::duration in_proxy{};
    auto in = [&](Endpoint from, const std::string& m, Millis now) {
        sink.out.clear();
        const auto t0 = clock::now();
        p->on_datagram(from, m.data(), m.size(), now);
        in_proxy += clock::now() - t0;
    };
    auto sent_to = [&](Endpoint e) -> const Sent* {
        for (const Sent& s : sink.out)
            if (s.to == e) return &s;
        return nullptr;
    };
    struct Call {
        int i;
        Millis t0;
        int stage;
        std::string fwd, rr, bye;
    };
    std::deque<Call> live;
    Figures f;
    uint64_t slot_ms = 0, buf_ms = 0;
    const Millis end = Millis(seconds) * 1000, drain = end + 40000;
    double due = 0;
    int next = 0;
    for (Millis t = 0; t <= drain; t++) {
        const auto t0 = clock::now();
        p->advance(t);
        in_proxy += clock::now() - t0;
        for (due += t < end ? double(rate) / 1000 : 0; due >= 1; due -= 1) {
            Call k{next++, t, 0, {}, {}, {}};
            f.offered++;
            in(caller, invite(k.i), t);
            const Sent* fw = sent_to(primary);
            if (!fw) {
                f.refused++;
                continue;
            }
            k.fwd = fw->msg;
            k.rr = header(k.fwd, "Record-Route");
            live.push_back(std::move(k));
        }
        for (Call& k : live) {
            const Millis age = t - k.t0;
            if (k.stage == 0 && age >= 10) {
                in(primary, response_to(k.fwd, 180, "Ringing", k.i), t);
                k.stage = 1;
            } else if (k.stage == 1 && age >= 20) {
                in(primary, response_to(k.fwd, 200, "OK", k.i), t);
                const Sent* up = sent_to(caller);
                f.answered += up && status_of(up->msg) == 200;
                k.stage = 2;
            } else if (k.stage == 2 && age >= 30) {
                in(caller, in_dialog("ACK", k.i, k.rr, 1, "z9hG4bK-a" + std::to_string(k.i)), t);
                k.stage = 3;
            } else if (k.stage == 3 && age >= 1030) {
                in(caller, in_dialog("BYE", k.i, k.rr, 2, "z9hG4bK-b" + std::to_string(k.i)), t);
                const Sent* fw = sent_to(primary);
                k.bye = fw ? fw->msg : std::string();
                k.stage = fw ? 4 : 5;
            } else if (k.stage == 4 && age >= 1040) {
                in(primary, response_to(k.bye, 200, "OK", k.i), t);
                const Sent* up = sent_to(caller);
                f.ended += up && status_of(up->msg) == 200;
                k.stage = 5;
            }
        }
        while (!live.empty() && live.front().stage == 5) live.pop_front();
        slot_ms += p->active_slots();
        buf_ms += p->retained_messages();
        if (p->active_slots() > f.peak_slots) f.peak_slots = p->active_slots();
        if (p->retained_messages() > f.peak_bufs) f.peak_bufs = p->retained_messages();
    }
    const double calls = double(f.answered ? f.answered : 1);  // per call carried
    f.slot_s_per_call = double(slot_ms) / 1000 / calls;
    f.buf_s_per_call = double(buf_ms) / 1000 / calls;
    f.proxy_us_per_call =
        std::chrono::duration<double, std::micro>(in_proxy).count() / calls;
    return f;
}

void print(const char* what, const Figures& f) {
    std::printf("%s: offered %lu answered %lu refused %lu ended %lu\n  per answered call: %.3f "
                "slot-seconds, %.3f retained-buffer-seconds; peak %u slots, %u buffers\n  proxy "
                "CPU: %.2f us per call (%.0f calls/s per core, messages only)\n",
                what, (unsigned long)f.offered, (unsigned long)f.answered, (unsigned long)f.refused,
                (unsigned long)f.ended, f.slot_s_per_call, f.buf_s_per_call, f.peak_slots,
                f.peak_bufs, f.proxy_us_per_call, 1e6 / f.proxy_us_per_call);
}

// Below any limit (20 calls/s): what one call holds, before any shedding.
TEST(SustainedCapacity, WhatACallHolds) {
    const Figures f = run(4096, 20, 60);
    print("20 calls/s x 60 s on 4096 slots", f);
    EXPECT_EQ(f.refused, 0u);
    EXPECT_LT(f.slot_s_per_call, 0.5);  // was 4 slots x ~32 s (Timers J/L/M)
    EXPECT_LT(f.buf_s_per_call, 0.5);
}

TEST(SustainedCapacity, AThousandCallsPerSecondOn4096SlotsWithNo503) {
    const Figures f = run(4096, 1000, 60);
    print("1000 calls/s x 60 s on 4096 slots", f);
    EXPECT_EQ(f.refused, 0u);
    EXPECT_EQ(f.answered, f.offered);
    EXPECT_EQ(f.ended, f.offered);
    EXPECT_LT(f.slot_s_per_call, 0.5);  // was ~4 slots x 32 s
    EXPECT_LT(f.peak_slots, 4096u * 9 / 10);
}

}  // namespace
}  // namespace sipedge::dp
