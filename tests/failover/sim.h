#pragma once
// Deterministic simulation harness for failover::Engine tests: a manual
// clock, the engine's actions drained into vectors, REGISTER texts rendered
// with write_register() and answered by scripted registrars (responses built
// from the request's own Via/From/To/Call-ID/CSeq, then parsed by the engine).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "failover/engine.h"

namespace sipedge::failover::test {

inline Target udp(const std::string& addr, uint16_t prio = 0, uint16_t weight = 0, uint32_t ttl = 300) {
    Target t;
    t.address = addr;
    t.priority = prio;
    t.weight = weight;
    t.ttl_s = ttl;
    return t;
}

/// A static list of UDP servers 10.0.0.1, 10.0.0.2, ... (seed A primary/secondary).
inline ServerSet servers(size_t n) {
    std::vector<Target> v;
    for (size_t i = 0; i < n; i++) v.push_back(udp("10.0.0." + std::to_string(i + 1)));
    return static_servers(std::move(v));
}

inline std::string ip(size_t i) { return "10.0.0." + std::to_string(i + 1); }

struct Sim {
    Engine e;
    Millis now = 1000;
    std::vector<Action> log;  // every action since the last take()

    explicit Sim(uint64_t seed = 7, Millis spread = 0) : e(seed, EngineOptions{spread, "sipedge-test"}) {}

    static AddTrunk spec(ServerSet set, TrunkKnobs k = {}, size_t identities = 1) {
        AddTrunk a;
        a.name = "t";
        a.domain = "carrier.example";
        a.knobs = k;
        a.servers = std::move(set);
        for (size_t i = 0; i < identities; i++) {
            const std::string u = std::to_string(100 + i);
            a.identities.push_back({u, u, "secret" + u, "sip:" + u + "@198.51.100.7:5060"});
        }
        return a;
    }
    uint32_t add(ServerSet set, TrunkKnobs k = {}, size_t identities = 1) {
        AddResult r = e.add_trunk(spec(std::move(set), k, identities), now);
        EXPECT_EQ(r.error, ConfigError::ok) << config_error_text(r.error);
        pull();
        return r.trunk_id;
    }
    void pull() {
        log.insert(log.end(), e.actions().begin(), e.actions().end());
        e.clear_actions();
    }
    /// Advances the clock in 100 ms steps, ticking the engine.
    void run(Millis dt) {
        const Millis end = now + dt;
        while (now < end) {
            now = std::min(end, now + 100);
            e.tick(now);
            pull();
        }
    }
    void tick() {
        e.tick(now);
        pull();
    }
    /// REGISTER actions in the log (optionally only to <server>), removed from it.
    std::vector<Action> registers(int server = -1) {
        std::vector<Action> out, rest;
        for (const Action& a : log)
            (a.kind == ActionKind::send_register && (server < 0 || a.server == server) ? out : rest).push_back(a);
        log = rest;
        return out;
    }
    std::vector<Notification> notices(NoticeKind k) const {
        std::vector<Notification> out;
        for (const Action& a : log)
            if (a.kind == ActionKind::notify && a.notice.kind == k) out.push_back(a.notice);
        return out;
    }
    std::string text(const Action& a) const {
        char buf[4096];
        const size_t n = e.write_register(a, SendContext{"192.0.2.1:5060", "z9hG4bKsEff0000000100010000000001"},
                                          buf, sizeof buf);
        return std::string(buf, n);
    }
    static std::string header(const std::string& msg, const std::string& name) {
        size_t p = msg.find("\r\n" + name + ": ");
        if (p == std::string::npos) return {};
        p += 4 + name.size();
        return msg.substr(p, msg.find("\r\n", p) - p);
    }
    /// Answers REGISTER <a> with <status>; <extra> are header lines (each with CRLF).
    void reply(const Action& a, int status, const std::string& extra = "", int contact_expires = -1) {
        reply_to(a, text(a), status, extra, contact_expires);
    }
    /// As reply(), to the REGISTER text <req> as it was sent (captured with
    /// text() before the server list changed under it).
    void reply_to(const Action& a, const std::string& req, int status, const std::string& extra = "",
                  int contact_expires = -1) {
        ASSERT_FALSE(req.empty()) << "stale REGISTER action";
        std::string r = "SIP/2.0 " + std::to_string(status) + " X\r\n";
        for (const char* h : {"Via", "From", "Call-ID", "CSeq"}) r += std::string(h) + ": " + header(req, h) + "\r\n";
        r += "To: " + header(req, "To") + ";tag=reg1\r\n";
        if (status / 100 == 2) {
            const std::string contact = header(req, "Contact");
            const int ex = contact_expires >= 0 ? contact_expires : std::stoi(header(req, "Expires"));
            r += "Contact: " + contact + ";expires=" + std::to_string(ex) + "\r\n";
        }
        r += extra + "Content-Length: 0\r\n\r\n";
        e.on_register_response(a.trunk, a.identity, r.data(), r.size(), now);
        pull();
    }
    /// Answers every pending REGISTER in the log with <status>; returns how many.
    size_t reply_all(int status, int server = -1) {
        auto rs = registers(server);
        for (const Action& a : rs) reply(a, status);
        return rs.size();
    }
    void event(uint32_t trunk, uint16_t server, EventKind k, uint32_t retry_after = 0, uint8_t flags = 0) {
        ServerEvent ev;
        ev.at_ms = now;
        ev.trunk_id = trunk;
        ev.server_idx = server;
        ev.kind = k;
        ev.retry_after_s = retry_after;
        ev.flags = flags;
        ev.list_epoch = e.trunk(trunk)->list_epoch;
        e.on_event(ev);
        pull();
    }
    /// Candidate server indices new requests would use now.
    std::vector<int> cands(uint32_t trunk) {
        TrunkRoutes r = e.routes(trunk, now);
        std::vector<int> out;
        for (size_t i = 0; i < r.count; i++) out.push_back(r.cand[i].server_idx);
        return out;
    }
    const Trunk& t(uint32_t id) const { return *e.trunk(id); }
};

}  // namespace sipedge::failover::test
