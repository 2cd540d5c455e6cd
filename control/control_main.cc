// sipedge-control: the control loop alone — startup file, control socket,
// failover engine — without the DPDK data plane, so operators and tests can
// use the control plane before (or without) the data plane. The engine's
// REGISTER/OPTIONS actions are dropped (no worker to send them).
//
//   sipedge-control [--config FILE] [--socket PATH] [--socket-group GROUP]
//                   [--secrets FILE] [--check] [--verbose]
//
// Exit status: 0 after SIGINT/SIGTERM; 1 when the config or the socket is
// refused (the message says which file and line); 2 on usage errors.

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "control/commands.h"
#include "control/config.h"
#include "control/metrics.h"
#include "control/socket.h"

using namespace sipedge::ctl;
using sipedge::Status;

namespace {

int usage() {
    std::fprintf(stderr,
                 "usage: sipedge-control [--config FILE] [--socket PATH] [--socket-group GROUP]\n"
                 "                       [--secrets FILE] [--check] [--verbose]\n"
                 "  --config FILE        startup commands (same as the socket's), applied all or nothing\n"
                 "  --socket PATH        control socket (default /run/sipedge.sock), mode 0660\n"
                 "  --socket-group NAME  group owning the socket (default: the process's group)\n"
                 "  --secrets FILE       identity passwords (mode 0600), read at start, rewritten on change\n"
                 "  --check              load the config, print the running config, exit\n"
                 "  --verbose            log every command (passwords redacted) to stderr\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string config, sock = "/run/sipedge.sock", group, secrets;
    bool check = false, verbose = false;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto next = [&](std::string& v) {
            if (i + 1 >= argc) return false;
            v = argv[++i];
            return true;
        };
        if (a == "--config") { if (!next(config)) return usage(); }
        else if (a == "--socket") { if (!next(sock)) return usage(); }
        else if (a == "--socket-group") { if (!next(group)) return usage(); }
        else if (a == "--secrets") { if (!next(secrets)) return usage(); }
        else if (a == "--check") check = true;
        else if (a == "--verbose") verbose = true;
        else return usage();
    }
    try {
        const auto t0 = std::chrono::steady_clock::now();
        ControllerOptions opt;
        opt.secrets_path = secrets;
        opt.seed = uint64_t(std::chrono::system_clock::now().time_since_epoch().count()) ^ uint64_t(getpid());
        Controller ctl([t0] {
            return sipedge::failover::Millis(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::steady_clock::now() - t0).count());
        }, opt);
        // Metrics over HTTP and SNMP traps (control/metrics.h); not for --check.
        std::unique_ptr<Ops> ops = check ? nullptr : std::make_unique<Ops>(ctl);
        if (Status s = ctl.load_secrets(); !s) {
            std::fprintf(stderr, "sipedge-control: %s\n", s.error().message.c_str());
            return 1;
        }
        if (!config.empty()) {
            if (Status s = load_config_file(ctl, config); !s) {
                std::fprintf(stderr, "sipedge-control: %s\n", s.error().message.c_str());
                return 1;
            }
        }
        if (check) {
            for (const std::string& l : ctl.running_config()) std::printf("%s\n", l.c_str());
            return 0;
        }

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, nullptr);
        signal(SIGPIPE, SIG_IGN);
        const int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        const int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (sfd < 0 || tfd < 0) {
            std::fprintf(stderr, "sipedge-control: signalfd/timerfd: %s\n", std::strerror(errno));
            return 1;
        }
        itimerspec its{};
        its.it_interval.tv_sec = 1;  // engine timers need a tick at least every second
        its.it_value.tv_sec = 1;
        timerfd_settime(tfd, 0, &its, nullptr);

        SocketOptions so;
        so.path = sock;
        so.group = group;
        auto srv = SocketServer::open(so, [&](std::string_view line) {
            std::string reply = ctl.execute(line);
            if (verbose) std::fprintf(stderr, "ctl: %s -> %.60s\n", redact(line).c_str(), reply.c_str());
            return reply;
        });
        if (!srv) {
            std::fprintf(stderr, "sipedge-control: %s\n", srv.error().message.c_str());
            return 1;
        }
        SocketServer& s = *srv.value();
        ctl.monitor().bind(&s);  // `monitor events|trace` subscribers (control/monitor.h)
        struct Unbind {
            Controller& c;
            ~Unbind() { c.monitor().bind(nullptr); }
        } unbind{ctl};
        s.watch(sfd, [&] {
            signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == ssize_t(sizeof si)) s.stop();
        });
        if (ops && ops->fd() >= 0) s.watch(ops->fd(), [&] { ops->on_ready(); });
        s.watch(tfd, [&] {
            uint64_t n;
            while (read(tfd, &n, sizeof n) == ssize_t(sizeof n)) {}
            ctl.tick();
        });
        std::fprintf(stderr, "sipedge-control: listening on %s (%zu trunks)\n", sock.c_str(),
                     ctl.state().trunks.size());
        if (Status r = s.run(); !r) {
            std::fprintf(stderr, "sipedge-control: %s\n", r.error().message.c_str());
            return 1;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sipedge-control: %s\n", e.what());
        return 1;
    }
}
