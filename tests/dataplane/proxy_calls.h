#pragma once
// Whole calls through the proxy core (dataplane/proxy.h) for the capacity
// and overload tests: a recording sink, a one-trunk table, and the messages
// of a caller and of a carrier server, each call with its own branch and
// Call-ID. Only the Proxy's public interface is used, so the same scenarios
// run against older trees for before/after figures.

#include <memory>
#include <string>
#include <vector>

#include "dataplane/sink_proxy.h"
#include "failover/table.h"

namespace sipedge::dp::calls {

constexpr uint32_t ip_of(uint8_t last) { return 0xc0000200u | last; }  // 192.0.2.x
inline const Endpoint caller{ip_of(1), 5060}, edge{ip_of(10), 5060};
inline const Endpoint primary{ip_of(21), 5060}, secondary{ip_of(22), 5060};

struct Sent {
    Endpoint to;
    std::string msg;
};
struct Sink final : PacketSink {
    std::vector<Sent> out;
    std::vector<SendNote> notes;  // trunk sends: which server (issue 14)
    bool keep = true;  // false: only count (long runs)
    uint64_t sent = 0;
    void send_sip(Endpoint to, const char* d, size_t n, const SendNote* note) noexcept override {
        if (note) notes.push_back(*note);
        sent++;
        if (keep) out.push_back({to, std::string(d, n)});
    }
};

inline failover::Candidate cand(Endpoint e, uint16_t server_idx) {
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

// Trunk 0: <servers> in order, seed A timing (rollover 1 s, on 503).
inline std::unique_ptr<const failover::Table> make_table(std::vector<Endpoint> servers) {
    auto r = std::make_shared<failover::TrunkRoutes>();
    r->trunk_id = 0;
    r->list_epoch = 1;
    failover::AdtranTimers at;
    at.rollover_s = 1;
    at.rollover_on_503 = true;
    for (auto k : {failover::RequestKind::invite, failover::RequestKind::register_,
                   failover::RequestKind::other})
        r->policy[size_t(k)] = failover::make_policy(at, k);
    for (size_t i = 0; i < servers.size(); i++) r->cand[r->count++] = cand(servers[i], uint16_t(i));
    failover::TableBuilder b(nullptr);
    b.set(std::move(r));
    return b.build();
}

inline std::string call_id(int i) { return "cap" + std::to_string(i) + "@192.0.2.1"; }

// The caller's INVITE for call <i>, with an SDP-like body of <body> bytes.
inline std::string invite(int i, size_t body = 0, int attempt = 0) {
    const std::string b(body, 'v');
    return "INVITE sip:1000@192.0.2.10:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-i" + std::to_string(i) + "-" +
           std::to_string(attempt) + "\r\n"
           "From: <sip:a@192.0.2.1>;tag=f" + std::to_string(i) + "\r\n"
           "To: <sip:1000@192.0.2.10>\r\n"
           "Call-ID: " + call_id(i) + "\r\nCSeq: 1 INVITE\r\n"
           "Contact: <sip:a@192.0.2.1:5060>\r\nMax-Forwards: 70\r\n"
           "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(b.size()) +
           "\r\n\r\n" + b;
}

// The value of header <name> in <m> ("" when none).
inline std::string header(const std::string& m, const std::string& name) {
    const size_t p = m.find("\r\n" + name + ": ");
    if (p == std::string::npos) return {};
    const size_t s = p + 4 + name.size();
    return m.substr(s, m.find("\r\n", s) - s);
}

// An in-dialog request of call <i> from the caller (its To tag t<i>), routed
// by our Record-Route <rr> (taken from the forwarded INVITE) to the callee.
inline std::string in_dialog(const char* method, int i, const std::string& rr, int cseq,
                             const std::string& branch) {
    return std::string(method) + " sip:callee@192.0.2.21:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + branch + "\r\n"
           "Route: " + rr + "\r\n"
           "From: <sip:a@192.0.2.1>;tag=f" + std::to_string(i) + "\r\n"
           "To: <sip:1000@192.0.2.10>;tag=t" + std::to_string(i) + "\r\n"
           "Call-ID: " + call_id(i) + "\r\nCSeq: " + std::to_string(cseq) + " " + method + "\r\n"
           "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

// The server's response to the forwarded request <fwd>: its Vias, From, To
// with tag t<i> (the call's), Call-ID, CSeq, Record-Route.
inline std::string response_to(const std::string& fwd, int status, const char* reason, int i) {
    std::string r = "SIP/2.0 " + std::to_string(status) + " " + reason + "\r\n";
    size_t p = 0;
    while ((p = fwd.find("\r\n", p)) != std::string::npos) {
        const size_t s = p + 2;
        const size_t e = fwd.find("\r\n", s);
        if (e == s || e == std::string::npos) break;
        const std::string line = fwd.substr(s, e - s);
        for (const char* h : {"Via:", "From:", "Call-ID:", "CSeq:", "Record-Route:"})
            if (line.rfind(h, 0) == 0) r += line + "\r\n";
        if (line.rfind("To:", 0) == 0)
            r += line + (line.find(";tag=") == std::string::npos ? ";tag=t" + std::to_string(i) : "") + "\r\n";
        p = e;
    }
    return r + "Content-Length: 0\r\n\r\n";
}

inline int status_of(const std::string& m) {
    return m.rfind("SIP/2.0 ", 0) == 0 ? std::stoi(m.substr(8, 3)) : 0;
}
inline bool starts(const std::string& m, const char* p) { return m.rfind(p, 0) == 0; }

}  // namespace sipedge::dp::calls
