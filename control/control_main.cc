// sipedge-control: the control loop alone — startup file, control socket,
// failover engine — without the DPDK data plane, so operators and tests can
// use the control plane before (or without) the data plane. The engine's
// REGISTER/OPTIONS actions are dropped (no worker to send them). It runs
// the same control loop as sipedge (control/loop.h), with a 1 s tick.
//
//   sipedge-control [--config FILE] [--socket PATH] [--socket-group GROUP]
//                   [--secrets FILE] [--check] [--verbose] [--socket-idle-timeout S]
//
// Exit status: 0 after SIGINT/SIGTERM; 1 when the config or the socket is
// refused (the message says which file and line); 2 on usage errors.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "control/commands.h"
#include "control/config.h"
#include "control/loop.h"
#include "control/metrics.h"
#include "control/number.h"
#include "control/socket.h"

using namespace sipedge::ctl;
using sipedge::Status;

namespace {

int usage() {
    std::fprintf(stderr,
                 "usage: sipedge-control [--config FILE] [--socket PATH] [--socket-group GROUP]\n"
                 "                       [--secrets FILE] [--check] [--verbose] [--socket-idle-timeout S]\n"
                 "  --config FILE        startup commands (same as the socket's), applied all or nothing\n"
                 "  --socket PATH        control socket (default /run/sipedge.sock), mode 0660\n"
                 "  --socket-group NAME  group owning the socket (default: the process's group)\n"
                 "  --secrets FILE       identity passwords (mode 0600), read at start, rewritten on change\n"
                 "  --check              load the config, print the running config, exit\n"
                 "  --verbose            log every command (passwords redacted) to stderr\n"
                 "  --socket-idle-timeout S  close control clients that send nothing for S seconds\n"
                 "                       (default 60, 0 = never, at most 86400)\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string config, sock = "/run/sipedge.sock", group, secrets;
    bool check = false, verbose = false;
    uint32_t idle_s = 60;
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
        else if (a == "--socket-idle-timeout") {
            std::string v;
            uint64_t n = 0;
            if (!next(v) || parse_number(v, 0, 86400, n) != NumStatus::ok) return usage();  // control/number.h
            idle_s = uint32_t(n);
        } else return usage();
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

        // The control loop shared with sipedge (control/loop.h): socket,
        // signalfd, and a 1 s tick for the engine's timers.
        LoopOptions lo;
        lo.prog = "sipedge-control";
        lo.socket_path = sock;
        lo.socket_group = group;
        lo.verbose = verbose;
        lo.tick_ms = 1000;  // engine timers need a tick at least every second
        lo.socket_idle_ms = idle_s * 1000;
        return run_control_loop(
            ctl, lo, [&] { ctl.tick(); },
            [&](SocketServer& s) {
                if (ops && ops->fd() >= 0) s.watch(ops->fd(), [&] { ops->on_ready(); });
            });
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sipedge-control: %s\n", e.what());
        return 1;
    }
}
