// `monitor events` and `monitor trace` over a real Unix socket: a failover
// driven through the engine arrives as JSON lines on the subscriber; trace
// filters (trunk, address, Call-ID); a subscriber that does not read is
// dropped and counted while other clients keep being served; a closed
// subscriber is forgotten; the event log's bound.

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "monitor_util.h"

namespace sipedge::ctl {
namespace {

using test::read_line;
using test::send_line;
using test::Served;

Json parse(const std::string& l) {
    auto j = Json::parse(l);
    EXPECT_TRUE(j.ok()) << l;
    return j ? j.value() : Json();
}

std::string str(const Json& o, const char* k) {
    const Json* v = o.get(k);
    return v && v->is_string() ? v->as_string() : "";
}

TEST(Monitor, EventsStreamCarriesAFailover) {
    Served s(test::validated_trunk);
    const int fd = test::connect_to(s.path());
    ASSERT_GE(fd, 0);
    std::string buf;
    ASSERT_TRUE(send_line(fd, "monitor events"));
    Json r = parse(read_line(fd, buf));
    ASSERT_EQ(test::status_of(r), 0) << r.dump();
    EXPECT_EQ(str(*r.get("data"), "subscribed"), "events");
    s.run([&] { EXPECT_EQ(s.ctl.monitor().subscriber_count(), 1u); });

    s.run([&] { test::drive_failover(s.ctl, s.now); });

    // registered on #0, server_down #0 (timeout), the walk, registered on #1, failover.
    std::vector<Json> ev;
    for (int i = 0; i < 10; i++) {
        const std::string l = read_line(fd, buf);
        if (l.empty()) break;
        ev.push_back(parse(l));
        if (str(ev.back(), "event") == "failover") break;
    }
    std::vector<std::string> kinds;
    for (const Json& e : ev) kinds.push_back(str(e, "event") + "/" + std::to_string(e.get("server")->as_int()));
    std::string all;
    for (const auto& k : kinds) all += k + " ";
    ASSERT_FALSE(ev.empty());
    EXPECT_EQ(kinds.front(), "registered/0") << all;
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "server_down/0"), kinds.end()) << all;
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "registered/1"), kinds.end()) << all;
    EXPECT_EQ(kinds.back(), "failover/1") << all;
    for (const Json& e : ev) {
        EXPECT_EQ(str(e, "trunk"), "acme");
        if (str(e, "event") == "server_down") {
            EXPECT_EQ(str(e, "detail"), "timeout");
            EXPECT_EQ(str(e, "address"), "udp:192.0.2.10:5060");
        }
        if (str(e, "event") == "registered") {
            EXPECT_EQ(str(e, "identity"), "100");
        }
    }
    // seq numbers increase by one: nothing lost between the log and the stream.
    for (size_t i = 1; i < ev.size(); i++) EXPECT_EQ(ev[i].get("seq")->as_int(), ev[i - 1].get("seq")->as_int() + 1);

    // The same events are in the log (show events) for a second client.
    const int fd2 = test::connect_to(s.path());
    std::string buf2;
    ASSERT_TRUE(send_line(fd2, "show events 100"));
    Json log = parse(read_line(fd2, buf2));
    ASSERT_EQ(test::status_of(log), 0);
    EXPECT_EQ(log.get("data")->size(), ev.size());

    // A subscriber's later input is not executed.
    ASSERT_TRUE(send_line(fd, "add trunk sneaky"));
    ASSERT_TRUE(send_line(fd2, "show trunks"));
    Json t = parse(read_line(fd2, buf2));
    EXPECT_EQ(t.dump().find("sneaky"), std::string::npos);

    // Closing the subscriber removes it.
    close(fd);
    for (int i = 0; i < 50; i++) {
        size_t n = 1;
        s.run([&] { n = s.ctl.monitor().subscriber_count(); });
        if (n == 0) break;
        usleep(10000);
    }
    s.run([&] { EXPECT_EQ(s.ctl.monitor().subscriber_count(), 0u); });
    close(fd2);
}

TraceSample sample(const char* src, const char* dst, const std::string& call_id, uint32_t trunk,
                   const std::string& text) {
    TraceSample t;
    t.at_ms = 5000;
    t.family = 4;
    inet_pton(AF_INET, src, t.src);
    inet_pton(AF_INET, dst, t.dst);
    t.src_port = 5060;
    t.dst_port = 5070;
    t.trunk_id = trunk;
    t.call_id_len = uint8_t(call_id.size());
    std::memcpy(t.call_id, call_id.data(), call_id.size());
    t.msg_len = uint16_t(text.size() + 100);
    t.head_len = uint16_t(text.size());
    std::memcpy(t.head, text.data(), text.size());
    return t;
}

TEST(Monitor, TraceFiltersByTrunkAddressAndCallId) {
    Served s(test::validated_trunk);
    uint32_t acme = 0;
    s.run([&] { acme = *s.ctl.engine_id("acme"); });
    s.run([&] { EXPECT_FALSE(s.ctl.monitor().trace_wanted()); });
    struct Sub {
        const char* cmd;
        int fd = -1;
        std::string buf;
    } subs[] = {{"monitor trace", -1, ""}, {"monitor trace trunk acme", -1, ""},
                {"monitor trace address 192.0.2.11", -1, ""}, {"monitor trace call-id abc@host", -1, ""}};
    for (Sub& x : subs) {
        x.fd = test::connect_to(s.path());
        ASSERT_TRUE(send_line(x.fd, x.cmd));
        Json r = parse(read_line(x.fd, x.buf));
        ASSERT_EQ(test::status_of(r), 0) << x.cmd << " " << r.dump();
    }
    s.run([&] { EXPECT_TRUE(s.ctl.monitor().trace_wanted()); });
    s.run([&] {
        // 1: acme, 192.0.2.10, abc@host; 2: no trunk, 192.0.2.11, other; 3: acme, 192.0.2.11, abc@host.
        s.ctl.monitor().feed_trace(sample("198.51.100.7", "192.0.2.10", "abc@host", acme, "INVITE sip:1@x SIP/2.0\r\n"), s.ctl.engine());
        s.ctl.monitor().feed_trace(sample("192.0.2.11", "198.51.100.7", "other", 0xffffffff, "SIP/2.0 200 OK\r\n"), s.ctl.engine());
        s.ctl.monitor().feed_trace(sample("192.0.2.11", "198.51.100.7", "abc@host", acme, "SIP/2.0 180 Ringing\r\n"), s.ctl.engine());
        // A marker every subscriber gets, so each reader knows where to stop.
        TraceSample end = sample("192.0.2.11", "0.0.0.0", "abc@host", acme, "END");
        s.ctl.monitor().feed_trace(end, s.ctl.engine());
    });
    auto lines = [&](Sub& x) {
        std::vector<std::string> out;
        for (int i = 0; i < 10; i++) {
            Json j = parse(read_line(x.fd, x.buf));
            if (str(j, "text") == "END") break;
            out.push_back(str(j, "text").substr(0, 11) + "|" + str(j, "trunk") + "|" + str(j, "src") + "|" + str(j, "call_id"));
        }
        return out;
    };
    EXPECT_EQ(lines(subs[0]).size(), 3u);
    auto by_trunk = lines(subs[1]);
    ASSERT_EQ(by_trunk.size(), 2u);
    EXPECT_EQ(by_trunk[0], "INVITE sip:|acme|198.51.100.7:5060|abc@host");
    auto by_addr = lines(subs[2]);
    ASSERT_EQ(by_addr.size(), 2u);
    EXPECT_EQ(by_addr[0], "SIP/2.0 200||192.0.2.11:5060|other");
    auto by_call = lines(subs[3]);
    ASSERT_EQ(by_call.size(), 2u);
    EXPECT_EQ(by_call[1], "SIP/2.0 180|acme|192.0.2.11:5060|abc@host");
    s.run([&] { EXPECT_EQ(s.ctl.monitor().trace_fed(), 4u); });
    for (Sub& x : subs) close(x.fd);
    for (int i = 0; i < 100; i++) {
        bool w = true;
        s.run([&] { w = s.ctl.monitor().trace_wanted(); });
        if (!w) break;
        usleep(10000);
    }
    s.run([&] { EXPECT_FALSE(s.ctl.monitor().trace_wanted()); });
}

TEST(Monitor, InvalidMonitorCommands) {
    Served s(test::validated_trunk);
    const int fd = test::connect_to(s.path());
    std::string buf;
    for (const char* bad : {"monitor trace trunk", "monitor trace address notanip", "monitor trace bogus x",
                            "monitor trace trunk nosuch", "monitor events now", "monitor", "monitor trace call-id a b"}) {
        ASSERT_TRUE(send_line(fd, bad));
        Json r = parse(read_line(fd, buf));
        EXPECT_NE(test::status_of(r), 0) << bad;
        EXPECT_FALSE(test::error_of(r).empty()) << bad;
    }
    // Still a command connection: a valid command is answered.
    ASSERT_TRUE(send_line(fd, "show events"));
    EXPECT_EQ(test::status_of(parse(read_line(fd, buf))), 0);
    s.run([&] { EXPECT_EQ(s.ctl.monitor().subscriber_count(), 0u); });
    close(fd);
    // Without a socket connection (startup file, direct execute) monitor is refused.
    failover::Millis now = 0;
    Controller c(test::manual_clock(&now));
    Json r = c.execute_json("monitor events");
    EXPECT_EQ(test::status_of(r), ENOTSUP);
    Status st = c.apply_lines({"monitor events"}, "cfg");
    EXPECT_FALSE(st.ok());
}

TEST(Monitor, SlowSubscriberDroppedAndCounted) {
    SocketOptions o;
    o.max_subscriber_pending = 8192;
    Served s("", o);
    const int slow = test::connect_to(s.path());
    int small = 4096;
    setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    std::string buf;
    ASSERT_TRUE(send_line(slow, "monitor events"));
    ASSERT_EQ(test::status_of(parse(read_line(slow, buf))), 0);
    // Never read again; publish until the socket and the 8 KiB buffer are full.
    s.run([&] {
        for (int i = 0; i < 20000 && s.ctl.monitor().subscriber_count() > 0; i++) {
            EventRecord e;
            e.trunk = "acme";
            e.kind = "server_down";
            e.detail = std::string(100, 'x');
            s.ctl.monitor().publish_event(e);
            if (s.srv->subscribers_dropped() > 0) break;
        }
    });
    s.run([&] { EXPECT_EQ(s.srv->subscribers_dropped(), 1u); });
    // After the poll round the connection is closed and forgotten.
    const int fd = test::connect_to(s.path());
    std::string b2;
    ASSERT_TRUE(send_line(fd, "show events 5"));
    Json r = parse(read_line(fd, b2));
    EXPECT_EQ(test::status_of(r), 0);
    EXPECT_EQ(r.get("data")->size(), 5u);
    s.run([&] { EXPECT_EQ(s.ctl.monitor().subscriber_count(), 0u); });
    close(fd);
    close(slow);
}

// bench/RESULTS-control.md: collect() looked every trunk up by name on every
// 10 ms tick (1.4 ms of the 6 ms idle tick at 10,000 trunks). While the
// engine decides nothing it must compare no trunk; a decision costs one walk
// and is still reported; a rebuilt engine is walked once, by name.
TEST(Monitor, CollectComparesNoTrunkWhileNothingIsDecided) {
    failover::Millis now = 1000;
    Controller ctl{test::manual_clock(&now)};
    std::vector<std::string> lines;
    for (int i = 0; i < 300; i++) {
        const std::string t = "t" + std::to_string(i);
        lines.push_back("add trunk " + t);
        lines.push_back("set trunk " + t + " server 1 192.0.2." + std::to_string(10 + i % 200) + " udp");
        lines.push_back("set trunk " + t + " server 2 198.51.100." + std::to_string(10 + i % 200) + " udp");
        lines.push_back("set trunk " + t + " register off");
        lines.push_back("set trunk " + t + " recover-delay 30");
    }
    Status st = ctl.apply_lines(lines, "test");
    ASSERT_TRUE(st.ok()) << st.error().message;
    ASSERT_EQ(ctl.engine().trunk_count(), 300u);
    ctl.tick();
    EXPECT_EQ(ctl.monitor().decision_checks(), 300u);  // the first walk sees every trunk
    const uint64_t logged = ctl.monitor().events().total();
    for (int i = 0; i < 200; i++) {
        now += 10;
        ctl.tick();
    }
    EXPECT_EQ(ctl.monitor().decision_checks(), 300u) << "idle ticks walked the trunks";
    EXPECT_EQ(ctl.monitor().events().total(), logged);

    // The primary of t7 times out: a notice, no decision (top_first), no walk.
    now += 10;
    test::server_event(ctl, "t7", 0, failover::EventKind::timeout, now);
    ctl.tick();
    EXPECT_EQ(ctl.monitor().decision_checks(), 300u);
    auto kinds_since = [&](uint64_t seq) {
        std::vector<std::string> k;
        for (const EventRecord& e : ctl.monitor().events().last(10))
            if (e.seq > seq) k.push_back(e.kind + "/" + e.trunk);
        return k;
    };
    std::vector<std::string> kinds = kinds_since(logged);
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "server_down/t7"), kinds.end());
    // Then the secondary: every server down, the primary's recovery delay is
    // cancelled (a decision): one walk, and the decision is logged.
    const uint64_t logged1 = ctl.monitor().events().total();
    now += 10;
    test::server_event(ctl, "t7", 1, failover::EventKind::timeout, now);
    ctl.tick();
    EXPECT_EQ(ctl.monitor().decision_checks(), 600u);
    kinds = kinds_since(logged1);
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "server_down/t7"), kinds.end());
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "decision/t7"), kinds.end());
    const uint64_t logged2 = ctl.monitor().events().total();
    now += 10;
    ctl.tick();
    EXPECT_EQ(ctl.monitor().decision_checks(), 600u);
    EXPECT_EQ(ctl.monitor().events().total(), logged2);

    // Deleting a trunk removes it alone (ids kept, not reused): one walk over
    // the 299 left; their old decisions are not news.
    ASSERT_EQ(test::status_of(ctl.execute_json("del trunk t0")), 0);
    ASSERT_EQ(ctl.engine().live_trunks(), 299u);
    now += 10;
    ctl.tick();
    EXPECT_EQ(ctl.monitor().decision_checks(), 899u);
    now += 10;
    ctl.tick();
    EXPECT_EQ(ctl.monitor().decision_checks(), 899u);
}

TEST(Monitor, EventLogIsBounded) {
    EventLog log(3);
    for (int i = 0; i < 5; i++) {
        EventRecord e;
        e.kind = "k" + std::to_string(i);
        log.push(e);
    }
    EXPECT_EQ(log.size(), 3u);
    EXPECT_EQ(log.total(), 5u);
    auto last = log.last(10);
    ASSERT_EQ(last.size(), 3u);
    EXPECT_EQ(last[0].kind, "k2");
    EXPECT_EQ(last[2].seq, 5u);
    EXPECT_EQ(log.last(1)[0].kind, "k4");
}

}  // namespace
}  // namespace sipedge::ctl
