// sipedge: the edge executable. The control loop (startup file, control
// socket, failover engine, control/dp_link.h) runs on the main lcore; one
// dp::Worker runs on the next lcore (rte_eal_remote_launch). Configuration is
// the socket's commands: the startup file is applied whole before the data
// plane starts, and a bad line ("<file>:<line>: <error>") exits 1 without
// starting it.
//
//   sipedge --config FILE [--socket PATH] [--socket-group G] [--secrets F]
//           [--duration S] [--verbose] [--check] [--max-txns N] [--mbufs N]
//           [--port-id N] [--no-rx-udp-csum]
//           -- <EAL arguments: at least two lcores, e.g. -l 0-1 --no-huge -m 512
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
// counters on stdout. Exit status: 0 normal stop, 1 refused config / EAL /
// port / socket, 2 usage.

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "control/commands.h"
#include "control/config.h"
#include "control/dp_link.h"
#include "control/loop.h"
#include "control/metrics.h"
#include "control/monitor.h"
#include "control/socket.h"
#include "dataplane/inet.h"
#include "dataplane/msg_pool.h"
#include "dataplane/port.h"
#include "dataplane/proxy_types.h"
#include "dataplane/stats_types.h"
#include "dataplane/worker.h"
#include "failover/events_types.h"

namespace {

using namespace sipedge;

struct Args {
    std::string config, socket = "/run/sipedge.sock", group, secrets;
    double duration_s = 0;
    bool verbose = false, check = false;
    uint32_t max_txns = 16384;
    uint32_t mbufs = 8191;
    uint16_t port_id = 0;
    bool rx_udp_csum = true;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "sipedge: %s\n"
                 "usage: sipedge --config FILE [--socket PATH] [--socket-group GROUP] [--secrets FILE]\n"
                 "               [--duration SECONDS] [--verbose] [--check] [--max-txns N] [--mbufs N]\n"
                 "               [--port-id N] [--no-rx-udp-csum] -- EAL-ARGS (two lcores: -l A,B)\n",
                 why);
    std::exit(2);
}

bool parse_u32(std::string_view s, uint32_t lo, uint32_t hi, uint32_t& out) {
    if (s.empty() || s.size() > 10) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + uint64_t(c - '0');
    }
    if (v < lo || v > hi) return false;
    out = uint32_t(v);
    return true;
}

// Everything before "--" is ours; the rest goes to the EAL.
int parse_args(int argc, char** argv, Args& a) {
    int i = 1;
    for (; i < argc; i++) {
        const std::string_view arg = argv[i];
        if (arg == "--") return i;
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) usage("missing value");
            return argv[++i];
        };
        uint32_t u = 0;
        if (arg == "--config") a.config = val();
        else if (arg == "--socket") a.socket = val();
        else if (arg == "--socket-group") a.group = val();
        else if (arg == "--secrets") a.secrets = val();
        else if (arg == "--verbose") a.verbose = true;
        else if (arg == "--check") a.check = true;
        else if (arg == "--duration") {
            char* end = nullptr;
            const std::string v = val();
            a.duration_s = std::strtod(v.c_str(), &end);
            if (!end || *end || a.duration_s < 0 || a.duration_s > 1e7) usage("bad --duration");
        } else if (arg == "--port-id") {
            if (!parse_u32(val(), 0, 1023, u)) usage("bad --port-id");
            a.port_id = uint16_t(u);
        } else if (arg == "--max-txns") {
            if (!parse_u32(val(), 16, 1u << 24, a.max_txns)) usage("bad --max-txns");
        } else if (arg == "--mbufs") {
            if (!parse_u32(val(), 1023, 1u << 24, a.mbufs)) usage("bad --mbufs");
        } else if (arg == "--no-rx-udp-csum") {
            a.rx_udp_csum = false;
        } else if (arg == "-h" || arg == "--help") {
            usage("help");
        } else {
            usage("unknown option (EAL options go after --)");
        }
    }
    return i;
}

void print_stats(const dp::WorkerStats& s, double secs, uint32_t active_slots,
                 const ctl::DpLinkCounters& l) {
    std::printf("{\"duration_s\":%.3f,\"rx\":{\"packets\":%lu,\"bytes\":%lu,\"udp\":%lu},"
                "\"tx\":{\"packets\":%lu,\"bytes\":%lu,\"udp\":%lu},",
                secs, s.rx_packets, s.rx_bytes, s.udp_rx, s.tx_packets, s.tx_bytes, s.udp_tx);
    std::printf("\"arp\":{\"requests_rx\":%lu,\"replies_tx\":%lu,\"requests_tx\":%lu,"
                "\"replies_rx\":%lu},\"icmp\":{\"echo_rx\":%lu,\"unreach_rx\":%lu,"
                "\"unreach_matched\":%lu},",
                s.arp_requests_rx, s.arp_replies_tx, s.arp_requests_tx, s.arp_replies_rx,
                s.icmp_echo_rx, s.icmp_unreach_rx, s.icmp_unreach_matched);
    std::printf("\"sip\":{\"requests_rx\":%lu,\"responses_rx\":%lu,\"requests_tx\":%lu,"
                "\"responses_tx\":%lu,\"retransmissions_rx\":%lu,\"retransmissions_tx\":%lu,"
                "\"responses_generated\":%lu,\"stateless_forwarded\":%lu,\"acks_rx\":%lu,"
                "\"byes_rx\":%lu,\"cancels_rx\":%lu},",
                s.sip_requests_rx, s.sip_responses_rx, s.sip_requests_tx, s.sip_responses_tx,
                s.sip_retransmissions_rx, s.sip_retransmissions_tx, s.responses_generated,
                s.stateless_forwarded, s.acks_rx, s.byes_rx, s.cancels_rx);
    std::printf("\"transactions\":{\"server_created\":%lu,\"client_created\":%lu,"
                "\"server_active\":%lu,\"client_active\":%lu,\"slots_in_use\":%u,"
                "\"failed_timeout\":%lu,\"failed_503\":%lu,\"failed_icmp\":%lu,"
                "\"failed_cancelled\":%lu,\"rollover_timeout\":%lu,\"rollover_503\":%lu,"
                "\"rollover_icmp\":%lu},",
                s.txn_server_created, s.txn_client_created, s.txn_server_active,
                s.txn_client_active, active_slots, s.txn_failed_timeout, s.txn_failed_503,
                s.txn_failed_icmp, s.txn_failed_cancelled, s.rollover_timeout, s.rollover_503,
                s.rollover_icmp);
    std::printf("\"calls\":{\"attempted\":%lu,\"answered\":%lu,\"failed\":%lu},",
                s.calls_attempted, s.calls_answered, s.calls_failed);
    std::printf("\"control\":{\"events_reported\":%lu,\"events_dropped\":%lu,\"events_in\":%lu,"
                "\"published\":%lu,\"reclaimed\":%lu,\"sent\":%lu,\"send_dropped\":%lu,"
                "\"worker_sent\":%lu,\"responses_steered\":%lu,\"responses_in\":%lu,"
                "\"responses_bad\":%lu,\"unreachable\":%lu,\"steer_dropped\":%lu,\"notices\":%lu},",
                s.events_reported, s.events_dropped, l.events, l.published, l.reclaimed, l.sent,
                l.send_dropped, s.control_tx, s.control_rx, l.responses, l.responses_bad,
                l.unreachable, s.control_rx_dropped, l.notices);
    std::printf("\"ipv4\":{\"fragments_rx\":%lu,\"reassembled\":%lu,\"fragmented_tx\":%lu,"
                "\"fragments_tx\":%lu},",
                s.ipv4_fragments_rx, s.ipv4_reassembled, s.ipv4_fragmented_tx, s.ipv4_fragments_tx);
    std::printf("\"drops\":{\"total\":%lu", s.drops_total());
    for (size_t r = 0; r < dp::drop_reason_count; r++)
        std::printf(",\"%s\":%lu", dp::drop_reason_name(dp::DropReason(r)), s.drops[r]);
    std::printf("}}\n");
    std::fflush(stdout);
}

ctl::CoreStats core_stats(unsigned lcore, const dp::WorkerStats& s) {
    ctl::CoreStats c;
    c.core = lcore;
    c.counters = {{"rx_packets", s.rx_packets},           {"tx_packets", s.tx_packets},
                  {"sip_requests_rx", s.sip_requests_rx}, {"sip_responses_rx", s.sip_responses_rx},
                  {"calls_attempted", s.calls_attempted}, {"calls_answered", s.calls_answered},
                  {"calls_failed", s.calls_failed},       {"rollover_timeout", s.rollover_timeout},
                  {"rollover_503", s.rollover_503},       {"rollover_icmp", s.rollover_icmp},
                  {"events_reported", s.events_reported}, {"events_dropped", s.events_dropped},
                  {"control_tx", s.control_tx},           {"control_rx", s.control_rx}};
    for (size_t r = 0; r < dp::drop_reason_count; r++)
        c.drops.emplace_back(dp::drop_reason_name(dp::DropReason(r)), s.drops[r]);
    return c;
}

struct WorkerRun {
    dp::Worker* w;
    const std::atomic<bool>* stop;
};

int worker_main(void* arg) {
    auto* r = static_cast<WorkerRun*>(arg);
    r->w->run(*r->stop);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    const int sep = parse_args(argc, argv, a);
    if (a.config.empty()) usage("--config is required");

    // SIGINT/SIGTERM are taken from the control loop's signalfd: block them
    // before the EAL starts its threads, so that every thread inherits the mask.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);

    // 1. Configuration, before anything starts: a refused file starts nothing.
    const auto t0 = std::chrono::steady_clock::now();
    ctl::ControllerOptions copt;
    copt.secrets_path = a.secrets;
    copt.seed = uint64_t(std::chrono::system_clock::now().time_since_epoch().count()) ^ uint64_t(getpid());
    ctl::Controller ctl(
        [t0] {
            return failover::Millis(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - t0)
                                        .count());
        },
        copt);
    // Metrics over HTTP and SNMP traps (control/metrics.h): before the config,
    // whose ops commands bind them; not for --check.
    std::unique_ptr<ctl::Ops> ops = a.check ? nullptr : std::make_unique<ctl::Ops>(ctl);
    if (Status s = ctl.load_secrets(); !s) {
        std::fprintf(stderr, "sipedge: %s\n", s.error().message.c_str());
        return 1;
    }
    if (Status s = ctl::load_config_file(ctl, a.config); !s) {
        std::fprintf(stderr, "sipedge: %s\n", s.error().message.c_str());
        return 1;
    }
    if (a.check) {
        for (const std::string& l : ctl.running_config()) std::printf("%s\n", l.c_str());
        return 0;
    }
    const ctl::DataplaneSettings dps = ctl.state().dataplane;  // read once: the port's identity
    if (dps.ip == 0) {
        std::fprintf(stderr, "sipedge: %s: no 'set dataplane address A.B.C.D/P'\n", a.config.c_str());
        return 1;
    }

    // 2. EAL, port, links, worker.
    std::vector<char*> eal;
    eal.push_back(argv[0]);
    for (int i = sep + 1; i < argc; i++) eal.push_back(argv[i]);
    if (!dp::eal_start(int(eal.size()), eal.data())) return 1;
    const unsigned worker_lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    if (worker_lcore >= RTE_MAX_LCORE) {
        std::fprintf(stderr, "sipedge: needs two lcores (main = control, next = worker 0): "
                             "give the EAL e.g. -l 0-1\n");
        dp::eal_stop();
        return 1;
    }
    rte_mempool* pool = dp::make_pktmbuf_pool("sipedge_mbufs", a.mbufs);
    dp::MacAddr mac;
    dp::PortSetup ps;
    ps.port_id = a.port_id;
    if (!pool || !dp::port_start(ps, pool, mac)) {
        dp::eal_stop();
        return 1;
    }
    std::string why;
    std::unique_ptr<ctl::DpLink> link = ctl::DpLink::create(1, why);
    if (!link) {
        std::fprintf(stderr, "sipedge: %s\n", why.c_str());
        dp::port_stop(a.port_id);
        dp::eal_stop();
        return 1;
    }
    link->sync(ctl);  // the first snapshot is there before the worker runs

    dp::ProxyConfig pc;
    pc.self = {dps.ip, dps.sip_port};
    pc.max_txns = a.max_txns;
    // The worker reassembles and fragments: a message is bounded by what the
    // proxy retains (its big MsgPool slots), not by the MTU.
    pc.max_udp_payload = uint16_t(dp::MsgPool::max_size);
    auto* w = new dp::Worker();
    dp::WorkerConfig wc;
    wc.port_id = a.port_id;
    wc.core = 0;
    wc.ip = dps.ip;
    wc.prefix = dps.prefix;
    wc.gateway = dps.gateway;
    wc.sip_port = dps.sip_port;
    wc.mac = mac;
    wc.rx_udp_csum = a.rx_udp_csum;
    uint16_t mtu = 0;
    if (rte_eth_dev_get_mtu(a.port_id, &mtu) == 0 && mtu >= 576) wc.mtu = mtu;
    if (!w->init(wc, pc, pool, link->worker_links(0))) {
        std::fprintf(stderr, "sipedge: worker init failed (memory)\n");
        return 1;
    }
    char ipb[16];
    ipb[dp::format_ipv4(dps.ip, ipb)] = 0;
    std::fprintf(stderr,
                 "sipedge: %s/%u:%u on port %u (%02x:%02x:%02x:%02x:%02x:%02x), control on lcore "
                 "%u, worker on lcore %u, %zu trunk(s), running%s\n",
                 ipb, dps.prefix, dps.sip_port, a.port_id, mac.b[0], mac.b[1], mac.b[2], mac.b[3],
                 mac.b[4], mac.b[5], rte_get_main_lcore(), worker_lcore, ctl.state().trunks.size(),
                 a.duration_s > 0 ? " for a while" : "");

    std::atomic<bool> stop{false};
    WorkerRun run{w, &stop};
    if (rte_eal_remote_launch(worker_main, &run, worker_lcore) != 0) {
        std::fprintf(stderr, "sipedge: cannot launch the worker on lcore %u\n", worker_lcore);
        return 1;
    }

    // 3. The control loop on this (main) lcore until a signal or --duration.
    ctl::LoopOptions lo;
    lo.prog = "sipedge";
    lo.socket_path = a.socket;
    lo.socket_group = a.group;
    lo.verbose = a.verbose;
    lo.tick_ms = 10;  // rings drained and engine timers run every 10 ms
    lo.run_ms = uint64_t(a.duration_s * 1000.0);
    // Worker counters for metrics and `show stats`: read from the control
    // thread while the worker runs (plain loads; a counter may lag a little).
    ops->set_stats_source([&](std::vector<ctl::CoreCounters>& v) {
        v.push_back(ctl::CoreCounters{worker_lcore, w->stats()});
    });
    uint32_t ticks = 0;
    const auto started = std::chrono::steady_clock::now();
    const int rc = ctl::run_control_loop(
        ctl, lo,
        [&] {
            link->tick(ctl);
            if (++ticks % 100 == 0) ctl.monitor().set_core_stats({core_stats(worker_lcore, w->stats())});
        },
        [&](ctl::SocketServer& s) {
            ctl.monitor().bind(&s);  // `monitor events|trace` subscribers
            if (ops->fd() >= 0) s.watch(ops->fd(), [&] { ops->on_ready(); });
        });
    ctl.monitor().bind(nullptr);  // the socket is closed

    // relaxed: the flag only asks the worker loop to end; wait_lcore joins it.
    stop.store(true, std::memory_order_relaxed);
    rte_eal_wait_lcore(worker_lcore);
    const std::chrono::duration<double> ran = std::chrono::steady_clock::now() - started;
    print_stats(w->stats(), ran.count(), w->active_slots(), link->counters());
    link.reset();
    dp::port_stop(a.port_id);
    delete w;
    dp::eal_stop();
    return rc;
}
