// sipedge: the edge executable. The control loop (startup file, control
// socket, failover engine, control/dp_link.h) runs on the main lcore; one
// dp::Worker runs on each other lcore of the EAL list (-l 0-N: N workers,
// worker i on the i-th worker lcore, its own RX/TX queue i, branch core i,
// RCU thread id i). With N > 1 the port has N queue pairs (RSS, or the
// device's own spreading) and the workers hand each other responses and ARP
// copies through dataplane/handoff.h rings. Configuration is
// the socket's commands: the startup file is applied whole before the data
// plane starts, and a bad line ("<file>:<line>: <error>") exits 1 without
// starting it.
//
//   sipedge --config FILE [--socket PATH] [--socket-group G] [--secrets F]
//           [--duration S] [--verbose] [--check] [--max-txns N] [--mbufs N (default: sized
//           from ports and workers)] [--overload-percent P (default 90; 0: off)]
//           [--overload-retry-after S (default 5)]
//           [--no-rx-udp-csum] [--socket-idle-timeout S (default 60; 0: never)]
//           -- <EAL arguments: at least two lcores (main = control, the rest = workers),
//               e.g. -l 0-1 (one worker) or -l 0-2 (two) --no-huge -m 512
//               --no-pci --vdev=net_af_packet0,iface=veth0>
//
// The file must set the data plane's address (`set dataplane address
// A.B.C.D/P`) and normally `set dataplane default-trunk <trunk>` and `set
// dataplane access IP[:PORT]` (docs/control.md "Data plane"). Tables flow
// down (an RCU-published routing snapshot), events flow up (a ring of
// failover::ServerEvent), control's REGISTER/OPTIONS go out through the
// worker and their responses come back by their control-core branch.
//
// On exit (SIGINT/SIGTERM or --duration) it prints one JSON object of
// counters on stdout: the top-level fields are the totals over all workers,
// "workers" is an array with each worker's own counters. Exit status: 0 normal stop, 1 refused config / EAL /
// port / socket, 2 usage.
//
// main() is the order of things; control/edge.h owns the data plane (EAL,
// mempools, ports, links, workers) and tears down whatever had started, in
// reverse order, on every way out: a refused start-up step, the loop's end,
// an early return. control/edge_args.h holds the command line,
// control/edge_report.h the exit JSON.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#ifdef SIPEDGE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "control/commands.h"
#include "control/config.h"
#include "control/edge.h"
#include "control/edge_args.h"
#include "control/metrics.h"

namespace {

using namespace sipedge;

// Says a refused step's message ("sipedge: <prefix><message>"); false then.
bool say(const Status& s, const std::string& prefix = "") {
    if (!s) std::fprintf(stderr, "sipedge: %s%s\n", prefix.c_str(), s.error().message.c_str());
    return bool(s);
}

// SIGINT/SIGTERM are taken from the control loop's signalfd: blocked here,
// before the EAL starts its threads, so that every thread inherits the mask.
// One that comes during start-up waits there: the loop then ends at once and
// the edge stops in order.
void block_stop_signals() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
}

// The allocator this binary was linked with (meson option `jemalloc`),
// said once at start so an operator can tell.
std::string allocator_name() {
#ifdef SIPEDGE_JEMALLOC
    const char* v = nullptr;
    size_t len = sizeof v;
    if (mallctl("version", &v, &len, nullptr, 0) == 0 && v) return std::string("jemalloc ") + v;
    return "jemalloc";
#else
    return "glibc malloc";
#endif
}

// The engine's clock: milliseconds since start-up (steady).
ctl::Clock uptime_clock() {
    const auto t0 = std::chrono::steady_clock::now();
    return [t0] {
        return failover::Millis(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
    };
}

}  // namespace

int main(int argc, char** argv) {
    ctl::EdgeArgs a;
    const int sep = ctl::parse_edge_args(argc, argv, a);  // usage errors exit 2

    block_stop_signals();

    // 1. Configuration, before anything starts: a refused file starts nothing.
    ctl::ControllerOptions copt;
    copt.secrets_path = a.secrets;
    copt.seed = uint64_t(std::chrono::system_clock::now().time_since_epoch().count()) ^ uint64_t(getpid());
    ctl::Controller ctl(uptime_clock(), copt);
    // Metrics over HTTP and SNMP traps (control/metrics.h): before the config,
    // whose ops commands bind them; not for --check.
    std::unique_ptr<ctl::Ops> ops = a.check ? nullptr : std::make_unique<ctl::Ops>(ctl);
    if (!say(ctl.load_secrets()) || !say(ctl::load_config_file(ctl, a.config))) return 1;
    if (a.check) {
        // Beyond the commands' own checks: what this machine must offer the
        // data plane (lcores it may run on, device names the EAL parses).
        if (!say(ctl::check_host(ctl.state().dataplane), a.config + ": ")) return 1;
        for (const std::string& l : ctl.running_config()) std::printf("%s\n", l.c_str());
        return 0;
    }
    // From now on (socket commands) route tables compile off the control
    // thread; the startup file's were compiled before anything runs.
    ctl.set_defer_route_compile(true);

    // 2. EAL, ports, links, workers (control/edge.h): torn down in reverse
    // order when `edge` goes, whichever way main() ends.
    std::unique_ptr<ctl::Edge> edge = ctl::Edge::start(ctl, a, argc, argv, sep);
    if (!edge) return 1;
    std::fprintf(stderr, "sipedge: allocator: %s\n", allocator_name().c_str());

    // 3. The control loop on this (main) lcore until a signal or --duration,
    // then the workers' counters as JSON on stdout.
    const int rc = edge->run(ctl, ops.get(), a);
    edge->stop_and_report();
    return rc;
}
