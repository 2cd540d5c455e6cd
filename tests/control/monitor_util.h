#pragma once
// Helpers for the views/monitor tests: a Controller with a manual clock served
// on a Unix socket by a thread (the control loop), a way to run code on that
// thread (the Controller is single-threaded), a line reader with a timeout,
// and a registrar that answers the engine's REGISTER actions the way a data
// plane would deliver them (response built from the request's own headers).

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "control/socket.h"
#include "ctl_util.h"

namespace sipedge::ctl::test {

/// Two UDP servers, one identity, validated failover (seed A "sip-server
/// rollover" with registrar validation): the failover scenario's trunk.
inline const char* validated_trunk = R"(add trunk acme
set trunk acme domain carrier.example
set trunk acme server 1 192.0.2.10 udp
set trunk acme server 2 192.0.2.11 udp
set trunk acme identity 100 password s3cret contact sip:100@198.51.100.7:5060
set trunk acme validation register
add trunk idle
)";

inline bool send_line(int fd, const std::string& s) {
    const std::string l = s + "\n";
    return send(fd, l.data(), l.size(), MSG_NOSIGNAL) == ssize_t(l.size());
}

/// One line (without the newline) or "" on EOF/timeout.
inline std::string read_line(int fd, std::string& buf) {
    char b[4096];
    for (;;) {
        const size_t nl = buf.find('\n');
        if (nl != std::string::npos) {
            std::string l = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            return l;
        }
        const ssize_t r = recv(fd, b, sizeof b, 0);
        if (r <= 0) return "";
        buf.append(b, size_t(r));
    }
}

/// A Controller served on <dir>/ctl.sock by a thread, with its Monitor bound.
struct Served {
    TempDir dir;
    failover::Millis now = 1000;
    Controller ctl{manual_clock(&now)};
    std::unique_ptr<SocketServer> srv;
    std::thread th;
    int stop_pipe[2] = {-1, -1};
    int run_pipe[2] = {-1, -1};
    std::mutex mu;
    std::condition_variable cv;
    std::function<void()> job;
    bool done = false;

    /// <config>: startup commands applied before the loop starts.
    explicit Served(const std::string& config = "", SocketOptions o = {}) {
        if (!config.empty()) {
            std::vector<std::string> lines;
            size_t p = 0;
            while (p < config.size()) {
                size_t e = config.find('\n', p);
                if (e == std::string::npos) e = config.size();
                lines.push_back(config.substr(p, e - p));
                p = e + 1;
            }
            Status s = ctl.apply_lines(lines, "test");
            EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        }
        if (o.path.empty()) o.path = dir.file("ctl.sock");
        auto r = SocketServer::open(o, [this](std::string_view l) { return ctl.execute(l); });
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        if (!r.ok()) return;
        srv = std::move(r.value());
        ctl.monitor().bind(srv.get());
        EXPECT_EQ(pipe(stop_pipe), 0);
        EXPECT_EQ(pipe(run_pipe), 0);
        srv->watch(stop_pipe[0], [this] { srv->stop(); });
        srv->watch(run_pipe[0], [this] {
            char c;
            (void)!read(run_pipe[0], &c, 1);
            std::lock_guard<std::mutex> g(mu);
            if (job) job();
            job = nullptr;
            done = true;
            cv.notify_all();
        });
        th = std::thread([this] { srv->run(); });
    }
    ~Served() {
        if (th.joinable()) {
            (void)!write(stop_pipe[1], "x", 1);
            th.join();
        }
        ctl.monitor().bind(nullptr);
        srv.reset();
        for (int fd : {stop_pipe[0], stop_pipe[1], run_pipe[0], run_pipe[1]})
            if (fd >= 0) close(fd);
    }
    std::string path() const { return dir.file("ctl.sock"); }
    /// Runs <f> on the loop thread and waits for it (the Controller is not thread-safe).
    void run(std::function<void()> f) {
        std::unique_lock<std::mutex> g(mu);
        job = std::move(f);
        done = false;
        g.unlock();
        (void)!write(run_pipe[1], "x", 1);
        g.lock();
        cv.wait(g, [this] { return done; });
    }
};

inline std::string sip_header(const std::string& msg, const std::string& name) {
    size_t p = msg.find("\r\n" + name + ": ");
    if (p == std::string::npos) return {};
    p += 4 + name.size();
    return msg.substr(p, msg.find("\r\n", p) - p);
}

/// The data plane's part for tests: drains the engine's actions at <now>,
/// answers each REGISTER sent to a server not in <dead> with 200 (binding
/// granted as asked), feeds the monitor (deliver_notices) and clears.
/// Returns the servers REGISTERs went to.
inline std::vector<int> pump(Controller& ctl, failover::Millis now, std::vector<int> dead = {}) {
    failover::Engine& e = ctl.engine();
    std::vector<int> sent;
    for (int round = 0; round < 4; round++) {
        std::vector<failover::Action> acts = e.actions();
        ctl.deliver_notices();
        e.clear_actions();
        bool any = false;
        for (const failover::Action& a : acts) {
            if (a.kind != failover::ActionKind::send_register) continue;
            char buf[4096];
            const size_t n = e.write_register(
                a, failover::SendContext{"192.0.2.1:5060", "z9hG4bKsEff0000000100010000000001"}, buf, sizeof buf);
            if (n == 0) continue;
            sent.push_back(a.server);
            if (std::find(dead.begin(), dead.end(), int(a.server)) != dead.end()) continue;
            const std::string req(buf, n);
            std::string r = "SIP/2.0 200 OK\r\n";
            for (const char* h : {"Via", "From", "Call-ID", "CSeq"}) r += std::string(h) + ": " + sip_header(req, h) + "\r\n";
            r += "To: " + sip_header(req, "To") + ";tag=reg1\r\n";
            r += "Contact: " + sip_header(req, "Contact") + ";expires=" + sip_header(req, "Expires") + "\r\n";
            r += "Content-Length: 0\r\n\r\n";
            e.on_register_response(a.trunk, a.identity, r.data(), r.size(), now);
            any = true;
        }
        if (!any) break;
    }
    ctl.deliver_notices();
    e.clear_actions();
    return sent;
}

/// A worker's observation of server <server> of trunk <name>.
inline void server_event(Controller& ctl, const std::string& name, uint16_t server, failover::EventKind k,
                         failover::Millis now, uint32_t rtt_us = 0) {
    const auto id = ctl.engine_id(name);
    ASSERT_TRUE(id.has_value());
    failover::ServerEvent ev;
    ev.at_ms = now;
    ev.trunk_id = *id;
    ev.server_idx = server;
    ev.kind = k;
    ev.rtt_us = rtt_us;
    ev.list_epoch = ctl.engine().trunk(*id)->list_epoch;
    ctl.engine().on_event(ev);
}

/// Registers acme on server 0, then fails server 0 (timeout) so that the
/// trunk re-registers on server 1: registered, server_down, failover.
inline void drive_failover(Controller& ctl, failover::Millis& now) {
    now = 12000;  // past the start-up spread (10 s)
    ctl.engine().tick(now);
    pump(ctl, now);
    now += 1000;
    server_event(ctl, "acme", 0, failover::EventKind::timeout, now);
    pump(ctl, now, {0});
    now += 1000;
    ctl.engine().tick(now);
    pump(ctl, now, {0});
}

}  // namespace sipedge::ctl::test
