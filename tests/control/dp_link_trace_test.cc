// Live SIP trace end to end inside one process (issue 7): the proxy core
// (dp::Proxy, as a worker runs it) copies the messages it receives and sends
// into TraceSamples on the worker's trace ring from DpLink::worker_links(),
// only while the flag DpLink mirrors from Monitor::trace_wanted() is set; a
// control tick drains the ring into Monitor::feed_trace, and the lines reach a
// `monitor trace call-id X` subscriber over a real Unix socket while a
// subscriber of another Call-ID gets none of them. This test plays the worker
// with the same ring call and flag read dp::Worker makes. Exits 77 when the
// EAL cannot start.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "control/dp_link.h"
#include "control/monitor.h"
#include "dataplane/sink_proxy.h"
#include "tests/control/monitor_util.h"
#include "tests/eal_scope.h"

namespace sipedge::ctl {
namespace {

using test::read_line;
using test::send_line;

const char* config =
    "set dataplane address 192.0.2.10/24\n"
    "set dataplane access 192.0.2.1:5060\n"
    "add trunk carrier\n"
    "set trunk carrier register off\n"
    "set trunk carrier server 1 192.0.2.21:5060 udp\n"
    "set dataplane default-trunk carrier\n";

// The worker's side of the trace: Worker::trace() does exactly this.
struct RingSink final : dp::PacketSink {
    rte_ring* ring = nullptr;
    dp::WorkerStats* st = nullptr;
    std::vector<std::string> sent;
    void send_sip(dp::Endpoint, const char* d, size_t n, const dp::SendNote*) noexcept override { sent.emplace_back(d, n); }
    void trace(const dp::TraceSample& s) noexcept override {
        if (rte_ring_sp_enqueue_elem(ring, const_cast<dp::TraceSample*>(&s), sizeof(s)) != 0)
            st->trace_dropped++;
    }
};

std::string invite(const std::string& call_id, const char* branch) {
    return std::string("INVITE sip:1000@192.0.2.10:5060 SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=") + branch + "\r\n"
           "From: <sip:a@192.0.2.1>;tag=f1\r\nTo: <sip:1000@192.0.2.10>\r\n"
           "Call-ID: " + call_id + "\r\nCSeq: 1 INVITE\r\n"
           "Contact: <sip:a@192.0.2.1:5060>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

Json parse(const std::string& l) {
    auto j = Json::parse(l);
    EXPECT_TRUE(j.ok()) << l;
    return j ? j.value() : Json();
}
std::string str(const Json& o, const char* k) {
    const Json* v = o.get(k);
    return v && v->is_string() ? v->as_string() : "";
}

TEST(DpLinkTrace, ProxySamplesReachTheMatchingSubscriberOnly) {
    test::Served s(config);
    std::string why;
    std::unique_ptr<DpLink> link = DpLink::create(1, why);
    ASSERT_TRUE(link) << why;
    const dp::WorkerLinks links = link->worker_links(0);
    ASSERT_TRUE(links.trace && links.trace_wanted);
    s.run([&] { link->sync(s.ctl); });

    dp::WorkerStats st;
    RingSink sink;
    sink.ring = links.trace;
    sink.st = &st;
    dp::SinkProxy p;
    dp::ProxyConfig pc;
    pc.self = dp::Endpoint{0xc000020au, 5060};
    pc.max_txns = 64;
    ASSERT_TRUE(p.init(pc, 0, 99, 0, sink, st));
    const dp::Endpoint caller{0xc0000201u, 5060};
    // One burst of the worker: the flag read once, then the packet.
    auto burst = [&](const std::string& m) {
        p.set_routes(links.routes->load(std::memory_order_acquire));
        p.set_trace(links.trace && links.trace_wanted->load(std::memory_order_relaxed));
        p.on_datagram(caller, m.data(), m.size(), 10);
    };

    // Nobody traces: the call goes through, nothing is copied.
    s.run([&] { link->tick(s.ctl); });
    sink.sent.clear();
    burst(invite("quiet@x", "z9hG4bK-q1"));
    EXPECT_EQ(sink.sent.size(), 2u);  // 100 Trying + INVITE to the carrier
    EXPECT_EQ(st.trace_copied, 0u);
    EXPECT_EQ(rte_ring_count(links.trace), 0u);

    struct Sub {
        const char* cmd;
        int fd = -1;
        std::string buf;
    } subs[] = {{"monitor trace call-id traced@x", -1, ""}, {"monitor trace call-id other@x", -1, ""}};
    for (Sub& x : subs) {
        x.fd = test::connect_to(s.path());
        ASSERT_GE(x.fd, 0);
        ASSERT_TRUE(send_line(x.fd, x.cmd));
        ASSERT_EQ(test::status_of(parse(read_line(x.fd, x.buf))), 0) << x.cmd;
    }
    EXPECT_FALSE(links.trace_wanted->load());  // mirrored at the next tick only
    s.run([&] { link->tick(s.ctl); });
    EXPECT_TRUE(links.trace_wanted->load());

    burst(invite("traced@x", "z9hG4bK-t1"));
    EXPECT_EQ(st.trace_copied, 3u);  // INVITE in, 100 Trying out, INVITE out
    EXPECT_EQ(rte_ring_count(links.trace), 3u);
    // Then a message of the other Call-ID, so the second reader knows its first line.
    burst(invite("other@x", "z9hG4bK-o1"));
    EXPECT_EQ(st.trace_copied, 6u);
    EXPECT_EQ(st.trace_dropped, 0u);
    s.run([&] { link->tick(s.ctl); });
    EXPECT_EQ(link->counters().trace_samples, 6u);
    EXPECT_EQ(rte_ring_count(links.trace), 0u);

    uint32_t carrier = 0;
    s.run([&] { carrier = *s.ctl.engine_id("carrier"); });
    std::vector<Json> got;
    for (int i = 0; i < 3; i++) got.push_back(parse(read_line(subs[0].fd, subs[0].buf)));
    EXPECT_EQ(str(got[0], "call_id"), "traced@x");
    EXPECT_EQ(str(got[0], "text").rfind("INVITE sip:1000@", 0), 0u) << got[0].dump();
    EXPECT_EQ(str(got[1], "text").rfind("SIP/2.0 100", 0), 0u) << got[1].dump();
    EXPECT_EQ(str(got[2], "text").rfind("INVITE sip:1000@", 0), 0u) << got[2].dump();
    EXPECT_EQ(str(got[2], "trunk"), "carrier") << got[2].dump() << " id " << carrier;
    // The other subscriber's first line is its own Call-ID: none of the traced call's.
    Json o = parse(read_line(subs[1].fd, subs[1].buf));
    EXPECT_EQ(str(o, "call_id"), "other@x") << o.dump();
    EXPECT_EQ(str(o, "text").rfind("INVITE sip:1000@", 0), 0u) << o.dump();

    // Subscribers gone: the flag drops at the next tick and copying stops.
    for (Sub& x : subs) close(x.fd);
    bool wanted = true;
    for (int i = 0; i < 100 && wanted; i++) {
        s.run([&] {
            link->tick(s.ctl);
            wanted = links.trace_wanted->load();
        });
        if (wanted) usleep(10000);
    }
    EXPECT_FALSE(wanted);
    burst(invite("late@x", "z9hG4bK-l1"));
    EXPECT_EQ(st.trace_copied, 6u);
    EXPECT_EQ(rte_ring_count(links.trace), 0u);
}

}  // namespace
}  // namespace sipedge::ctl

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!sipedge::test::eal_up("dptrace", "0", {}, "256")) return 77;
    const int rc = RUN_ALL_TESTS();
    sipedge::test::eal_down();
    return rc;
}
