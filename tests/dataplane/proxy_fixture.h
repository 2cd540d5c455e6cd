#pragma once
// The proxy tests' scaffolding (dataplane/proxy.h driven with injected time):
// addresses, a recording sink, a hand-built failover::Table as control
// publishes it, request/response builders and the ProxyTest fixture. Used by
// proxy_test.cc and proxy_policy_test.cc (one executable, dp_proxy); in an
// unnamed namespace, so each file has its own copy.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/access_policy.h"
#include "dataplane/branch.h"
#include "dataplane/inet.h"
#include "dataplane/sink_proxy.h"
#include "dataplane/route_table.h"
#include "failover/table.h"
#include "sipparse/message.h"

namespace sipedge::dp {
namespace {

constexpr uint32_t ip_of(uint8_t last) { return 0xc0000200u | last; }  // 192.0.2.x
const Endpoint caller{ip_of(1), 5060}, edge{ip_of(10), 5060};
const Endpoint primary{ip_of(21), 5060}, secondary{ip_of(22), 5060};

struct Sent {
    Endpoint to;
    std::string msg;
};
struct Sink final : PacketSink {
    std::vector<Sent> out;
    std::vector<SendNote> notes;  // trunk sends: which server (issue 14)
    std::vector<failover::ServerEvent> events;
    std::vector<Sent> control;
    std::vector<Sent> unreachable;
    void send_sip(Endpoint to, const char* d, size_t n, const SendNote* note) noexcept override {
        if (note) notes.push_back(*note);
        out.push_back({to, std::string(d, n)});
    }
    void report(const failover::ServerEvent& ev) noexcept override { events.push_back(ev); }
    void to_control(Endpoint from, const char* d, size_t n) noexcept override {
        control.push_back({from, std::string(d, n)});
    }
    void control_unreachable(Endpoint to, const char* b, size_t n) noexcept override {
        unreachable.push_back({to, std::string(b, n)});
    }
    std::vector<TraceSample> traces;
    void trace(const TraceSample& s) noexcept override { traces.push_back(s); }
};

// A candidate as the engine writes it: IPv4 in addr[0..3], network order.
failover::Candidate cand(Endpoint e, uint16_t server_idx) {
    failover::Candidate c;
    c.addr[0] = uint8_t(e.ip >> 24);
    c.addr[1] = uint8_t(e.ip >> 16);
    c.addr[2] = uint8_t(e.ip >> 8);
    c.addr[3] = uint8_t(e.ip);
    c.port = e.port;
    c.server_idx = server_idx;
    c.family = 4;
    return c;
}

// Trunk 0 at generation <gen> with <servers> as candidates in that order
// (server_idx = position in <idx>), seed A timing: rollover 1 s, on 503.
std::unique_ptr<const failover::Table> make_table(std::vector<Endpoint> servers,
                                                  std::vector<uint16_t> idx, uint8_t gen = 1,
                                                  bool on_503 = true, uint32_t rollover_s = 1) {
    auto r = std::make_shared<failover::TrunkRoutes>();
    r->trunk_id = 0;
    r->list_epoch = gen;
    failover::AdtranTimers at;
    at.rollover_s = rollover_s;
    at.rollover_on_503 = on_503;
    for (auto k : {failover::RequestKind::invite, failover::RequestKind::register_,
                   failover::RequestKind::other})
        r->policy[size_t(k)] = failover::make_policy(at, k);
    for (size_t i = 0; i < servers.size(); i++) r->cand[r->count++] = cand(servers[i], idx[i]);
    failover::TableBuilder b(nullptr);
    b.set(std::move(r));
    return b.build();
}

std::string invite(const char* branch = "z9hG4bK-c1", int mf = 70, const char* method = "INVITE") {
    return std::string(method) + " sip:1000@192.0.2.10:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch + "\r\n"
           "From: <sip:a@192.0.2.1>;tag=f1\r\nTo: <sip:1000@192.0.2.10>\r\n"
           "Call-ID: c1@192.0.2.1\r\nCSeq: 1 " + method + "\r\n"
           "Contact: <sip:a@192.0.2.1:5060>\r\nMax-Forwards: " + std::to_string(mf) +
           "\r\nContent-Length: 0\r\n\r\n";
}

// The response a server sends to the forwarded request <fwd>: its Vias, From,
// To with a tag, Call-ID, CSeq.
std::string response_to(const std::string& fwd, int status, const char* reason) {
    std::string r = "SIP/2.0 " + std::to_string(status) + " " + reason + "\r\n";
    size_t p = 0;
    while ((p = fwd.find("\r\n", p)) != std::string::npos) {
        const size_t s = p + 2;
        const size_t e = fwd.find("\r\n", s);
        if (e == s || e == std::string::npos) break;
        const std::string line = fwd.substr(s, e - s);
        for (const char* h : {"Via:", "From:", "Call-ID:", "CSeq:", "Record-Route:"})
            if (line.rfind(h, 0) == 0) r += line + "\r\n";
        if (line.rfind("To:", 0) == 0) r += line + ";tag=t9\r\n";
        p = e;
    }
    return r + "Content-Length: 0\r\n\r\n";
}

// Our Record-Route value naming <host> for the dialog <call_id> whose
// initiator's tag is <tag> (issue 16: the `;sx=` token, under <key>; the
// fixtures' ProxyConfig has the zero key).
constexpr uint64_t zero_key[2] = {0, 0};
std::string rr_value(const std::string& host, const std::string& call_id, const std::string& tag,
                     const uint64_t key[2] = zero_key) {
    char t[rr_token_len];
    rr_token_hex(rr_token(key, call_id, tag), t);
    return "<sip:" + host + ";lr;sx=" + std::string(t, rr_token_len) + ">";
}

int status_of(const std::string& m) { return m.rfind("SIP/2.0 ", 0) == 0 ? std::stoi(m.substr(8, 3)) : 0; }
bool starts(const std::string& m, const char* p) { return m.rfind(p, 0) == 0; }

// What control publishes for one trunk (id 0) over carriers <a> and <b>:
// <t> as the table, the default trunk, <access> as the access target, the
// carrier set sorted as control sorts it (into <cars>).
inline void fill_routes(Routes& routes, const failover::Table* t, Endpoint access, Endpoint a, Endpoint b,
                        uint32_t (&cars)[2]) {
    routes.table = t;
    routes.default_trunk = 0;
    routes.access = access;
    cars[0] = std::min(a.ip, b.ip);
    cars[1] = std::max(a.ip, b.ip);
    routes.carrier_count = 2;
    routes.carriers = cars;
}

class ProxyTest : public ::testing::Test {
protected:
    void SetUp() override {
        ProxyConfig c;
        c.self = edge;
        c.max_txns = 64;
        ASSERT_TRUE(p.init(c, 0, 1234, 0, sink, st));
        publish(make_table({primary, secondary}, {0, 1}));
    }
    // What control does: a new snapshot (table, default trunk 0, carriers).
    void publish(std::unique_ptr<const failover::Table> t) {
        table = std::move(t);
        fill_routes(routes, table.get(), caller, primary, secondary, cars);
        p.set_routes(&routes);
    }
    void in(Endpoint from, const std::string& m, Millis now = 0) {
        sink.out.clear();
        p.on_datagram(from, m.data(), m.size(), now);
    }
    // Forwards an INVITE and returns what went to the primary.
    std::string forward_invite() {
        in(caller, invite());
        EXPECT_EQ(sink.out.size(), 2u);
        return sink.out.size() == 2 ? sink.out[1].msg : std::string();
    }
    Sink sink;
    WorkerStats st;
    std::unique_ptr<const failover::Table> table;
    Routes routes;
    uint32_t cars[2] = {};  // routes.carriers
    SinkProxy p;
};

}  // namespace
}  // namespace sipedge::dp
