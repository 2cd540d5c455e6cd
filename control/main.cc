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

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "control/commands.h"
#include "control/config.h"
#include "control/dp_link.h"
#include "control/edge_args.h"
#include "control/edge_report.h"
#include "control/loop.h"
#include "control/metrics.h"
#include "control/monitor.h"
#include "control/socket.h"
#include "control/telemetry.h"
#include "dataplane/handoff.h"
#include "dataplane/inet.h"
#include "dataplane/msg_pool.h"
#include "dataplane/port.h"
#include "dataplane/proxy_types.h"
#include "dataplane/stats_types.h"
#include "dataplane/stats_table.h"
#include "dataplane/worker.h"
#include "failover/events_types.h"

namespace {

using namespace sipedge;

// How a port's received UDP checksums are checked (dataplane/inet.h RxCsum;
// docs/existing-network.md "Checksums"). PMDs on Linux packet sockets hand
// us what the kernel had: a veth peer's datagram with CHECKSUM_PARTIAL
// carries the pseudo-header partial sum, and these PMDs give no per-packet
// hint (DPDK 22.11 net_af_packet sets no RTE_MBUF_F_RX_L4_CKSUM_* flag and
// does not read TP_STATUS_CSUMNOTREADY), so the recogniser runs there.
// --no-rx-udp-csum: off everywhere.
dp::RxCsum rx_csum_for(std::string_view driver, bool verify) {
    if (!verify) return dp::RxCsum::off;
    if (driver == "net_af_packet" || driver == "net_tap") return dp::RxCsum::verify_partial;
    return dp::RxCsum::verify;
}

// --check: ctl::dataplane_check_host against the cores this process may
// run on (sched_getaffinity: a systemd CPUAffinity= or taskset narrows them)
// and this DPDK build's RTE_MAX_LCORE.
Status check_host(const ctl::DataplaneSettings& d) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<unsigned> cpus;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (unsigned c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &set)) cpus.push_back(c);
    } else {
        const long n = sysconf(_SC_NPROCESSORS_ONLN);
        for (long c = 0; c < n; c++) cpus.push_back(unsigned(c));
    }
    if (!d.lcores.empty()) {
        auto l = ctl::dataplane_lcore_list(d.lcores);
        if (l)
            for (const unsigned c : l.value())
                if (c >= RTE_MAX_LCORE)
                    return err(EINVAL, "lcores: core " + std::to_string(c) + " is not below this DPDK's RTE_MAX_LCORE " +
                                           std::to_string(RTE_MAX_LCORE));
    }
    return ctl::dataplane_check_host(d, cpus);
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
    ctl::EdgeArgs a;
    const int sep = ctl::parse_edge_args(argc, argv, a);  // usage errors exit 2

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
        // Beyond the commands' own checks: what this machine must offer the
        // data plane (lcores it may run on, device names the EAL parses).
        if (Status s = check_host(ctl.state().dataplane); !s) {
            std::fprintf(stderr, "sipedge: %s: %s\n", a.config.c_str(), s.error().message.c_str());
            return 1;
        }
        for (const std::string& l : ctl.running_config()) std::printf("%s\n", l.c_str());
        return 0;
    }
    // From now on (socket commands) route tables compile off the control
    // thread; the startup file's were compiled before anything runs.
    ctl.set_defer_route_compile(true);
    const ctl::DataplaneSettings dps = ctl.state().dataplane;  // read once: the ports' identity
    // Ports with an address, in DPDK port id order (= interface index order:
    // dataplane/iface.h picks the first matching one).
    std::vector<uint16_t> port_ids;
    for (uint16_t p = 0; p < dps.ports.size(); p++) {
        if (dps.ports[p].ip) port_ids.push_back(p);
        else if (dps.ports[p].gateway || dps.ports[p].vlan) {
            std::fprintf(stderr, "sipedge: %s: port %u has a gateway or VLAN but no address\n",
                         a.config.c_str(), unsigned(p));
            return 1;
        }
    }
    if (port_ids.empty()) {
        std::fprintf(stderr, "sipedge: %s: no 'set dataplane address A.B.C.D/P'\n", a.config.c_str());
        return 1;
    }

    // 2. EAL, port, links, workers: every lcore but the main one runs a worker.
    // The command line's EAL arguments first, then what the configuration
    // adds (devices, lcores, memory) where the command line does not say it.
    ctl::EalArgv eal(dps, argc, argv, sep);
    const uint32_t af_room = eal.af_room();
    if (!dp::eal_start(eal.argc(), eal.argv())) return 1;
    std::vector<unsigned> lcores;
    for (unsigned l = rte_get_next_lcore(rte_get_main_lcore(), 1, 0); l < RTE_MAX_LCORE;
         l = rte_get_next_lcore(l, 1, 0))
        lcores.push_back(l);
    if (lcores.empty() || lcores.size() > dp::Handoff::max_workers || lcores.size() > 250) {
        std::fprintf(stderr, "sipedge: needs two lcores or more (main = control, the others = "
                             "workers, at most 128): give the EAL e.g. -l 0-1\n");
        dp::eal_stop();
        return 1;
    }
    const uint16_t nw = uint16_t(lcores.size());
    // Mempool sized at start-up: every port's queue pair per worker can hold
    // its descriptors' worth of mbufs (1024 RX + 1024 TX), each handoff ring
    // 1023, each lcore a 256-mbuf cache, plus 4095 in flight (ARP-parked
    // packets, fragment trains, reassembly). --mbufs overrides; say so when
    // it is smaller.
    const uint64_t want = uint64_t(port_ids.size()) * nw * (2 * 1024) + uint64_t(nw) * 1023 +
                          256ull * (nw + 1u) + 4095;
    uint32_t mbufs = a.mbufs;
    if (mbufs == 0) {
        mbufs = 8191;
        while (mbufs < want && mbufs < (1u << 24) - 1) mbufs = mbufs * 2 + 1;  // 2^k - 1
    } else if (mbufs < want) {
        std::fprintf(stderr, "sipedge: warning: --mbufs %u may run short with %zu port(s) and %u "
                             "worker(s) (about %lu can sit in queues, rings and caches)\n",
                     mbufs, port_ids.size(), unsigned(nw), (unsigned long)want);
    }
    rte_mempool* pool = dp::make_pktmbuf_pool("sipedge_mbufs", mbufs);
    // net_af_packet RX queues with frames over 2 KiB (issue 16): their own
    // pool of mbufs that hold a whole frame: per worker a burst's worth and
    // its handoff ring, the lcore caches, some in flight.
    rte_mempool* af_pool = nullptr;
    if (af_room > RTE_MBUF_DEFAULT_DATAROOM) {
        const uint64_t n = uint64_t(nw) * 1024 + (nw > 1 ? uint64_t(nw) * 1023 : 0) + 256ull * (nw + 1u) + 511;
        uint32_t m = 2047;
        while (m < n && m < (1u << 20) - 1) m = m * 2 + 1;
        af_pool = dp::make_pktmbuf_pool("sipedge_af_rx", m, af_room);
        if (!af_pool) {
            dp::eal_stop();
            return 1;
        }
    }
    std::vector<dp::PortConfig> pcs;
    std::vector<std::string> drivers;  // per pcs entry: rte_eth_dev_info::driver_name
    auto stop_ports = [&] {
        for (const dp::PortConfig& p : pcs) dp::port_stop(p.port_id);
        dp::eal_stop();
    };
    if (!pool) {
        dp::eal_stop();
        return 1;
    }
    for (uint16_t n : port_ids) {
        // Port n: its configured device by name, else DPDK port id n.
        uint16_t p = n;
        const std::string& dev = dps.ports[n].device;
        if (!dev.empty()) {
            std::string name = dev.substr(0, dev.find(','));
            if (ctl::dataplane_device_is_pci(name) && name.size() == 7) name = "0000:" + name;
            if (rte_eth_dev_get_port_by_name(name.c_str(), &p) != 0) {
                std::fprintf(stderr, "sipedge: port %u: the EAL has no device %s\n", unsigned(n),
                             name.c_str());
                stop_ports();
                return 1;
            }
        } else if (!rte_eth_dev_is_valid_port(p)) {
            std::fprintf(stderr, "sipedge: %s configures port %u but the EAL has %u port(s) "
                                 "(one --vdev or PCI device per port, in order, or 'set dataplane "
                                 "port %u device ...')\n",
                         a.config.c_str(), unsigned(n), unsigned(rte_eth_dev_count_avail()),
                         unsigned(n));
            stop_ports();
            return 1;
        }
        for (const dp::PortConfig& q : pcs)
            if (q.port_id == p) {
                std::fprintf(stderr, "sipedge: port %u is DPDK port %u, already used\n", unsigned(n),
                             unsigned(p));
                stop_ports();
                return 1;
            }
        dp::PortConfig pc;
        dp::PortSetup ps;
        ps.port_id = p;
        ps.queues = nw;
        rte_eth_dev_info info0{};
        const bool af = af_pool && rte_eth_dev_info_get(p, &info0) == 0 && info0.driver_name &&
                        std::string_view(info0.driver_name) == "net_af_packet";
        if (!dp::port_start(ps, af ? af_pool : pool, pc.mac)) {
            stop_ports();
            return 1;
        }
        const ctl::PortSettings& s = dps.ports[n];
        pc.port_id = p;
        pc.ip = s.ip;
        pc.prefix = s.prefix;
        pc.gateway = s.gateway;
        pc.vlan = s.vlan;
        uint16_t mtu = 0;
        if (rte_eth_dev_get_mtu(p, &mtu) == 0 && mtu >= 576) pc.mtu = mtu;
        rte_eth_dev_info info{};
        const std::string driver = rte_eth_dev_info_get(p, &info) == 0 && info.driver_name ? info.driver_name : "";
        pc.rx_csum = rx_csum_for(driver, a.rx_udp_csum);
        drivers.push_back(driver);
        pcs.push_back(pc);
    }
    std::string why;
    std::unique_ptr<ctl::DpLink> link = ctl::DpLink::create(nw, why);
    if (!link) {
        std::fprintf(stderr, "sipedge: %s\n", why.c_str());
        stop_ports();
        return 1;
    }
    // Cross-core handoff (several workers only): 1024 packets per worker.
    auto handoff = std::make_unique<dp::Handoff>();
    if (nw > 1 && !handoff->init(nw, 1024, "sipedge_ho", int(rte_socket_id()))) {
        stop_ports();
        return 1;
    }
    link->sync(ctl);  // the first snapshot is there before the workers run

    dp::ProxyConfig pc;
    pc.self = {pcs[0].ip, dps.sip_port};  // the worker fills in every interface
    pc.max_txns = a.max_txns;
    pc.overload_percent = a.overload_percent;
    pc.overload_retry_after_s = a.overload_retry_after_s;
    pc.timer_c_ms = uint32_t(dps.timer_c_s) * 1000;
    pc.retry_after_s = dps.retry_after_s;
    // The worker reassembles and fragments: a message is bounded by what the
    // proxy retains (its big MsgPool slots), not by the MTU.
    pc.max_udp_payload = uint16_t(dp::MsgPool::max_size);
    // Issue 16: the key of the token in our Record-Route (dataplane/access_policy.h),
    // kept in the secrets file so that dialogs outlive a restart (else drawn
    // at every start), given to every worker.
    if (Status k = ctl.record_route_key(pc.rr_key); !k) {
        std::fprintf(stderr, "sipedge: record-route key: %s\n", k.error().message.c_str());
        stop_ports();
        return 1;
    }
    std::vector<dp::Worker*> ws;
    for (uint16_t i = 0; i < nw; i++) {
        auto* w = new dp::Worker();
        ws.push_back(w);
        dp::WorkerConfig wc;
        for (size_t k = 0; k < pcs.size(); k++) wc.ports[k] = pcs[k];
        wc.nports = uint8_t(pcs.size());
        wc.queue = i;
        wc.core = uint8_t(i);  // = its RCU id and route-scratch index (dp_link)
        wc.sip_port = dps.sip_port;
        wc.rx_udp_csum = a.rx_udp_csum;
        dp::WorkerLinks wl = link->worker_links(i);
        if (nw > 1) wl.handoff = handoff.get();
        if (!w->init(wc, pc, pool, wl)) {
            std::fprintf(stderr, "sipedge: worker %u init failed (memory)\n", unsigned(i));
            return 1;
        }
    }
    std::string ports_text;
    for (const dp::PortConfig& p : pcs) {
        char ipb[16];
        ipb[dp::format_ipv4(p.ip, ipb)] = 0;
        char b[128];
        std::snprintf(b, sizeof b, "%s%s/%u on port %u (%02x:%02x:%02x:%02x:%02x:%02x", 
                      ports_text.empty() ? "" : ", ", ipb, unsigned(p.prefix), unsigned(p.port_id),
                      p.mac.b[0], p.mac.b[1], p.mac.b[2], p.mac.b[3], p.mac.b[4], p.mac.b[5]);
        ports_text += b;
        if (p.vlan) ports_text += ", vlan " + std::to_string(p.vlan);
        ports_text += std::string(", UDP checksums ") + dp::rx_csum_name(p.rx_csum) + ")";
    }
    std::string wl_text;
    for (unsigned l : lcores) {
        if (!wl_text.empty()) wl_text += ',';
        wl_text += std::to_string(l);
    }
    std::fprintf(stderr,
                 "sipedge: SIP port %u, %s, control on lcore %u, %u worker(s) on lcore %s, %zu "
                 "trunk(s), running%s\n",
                 unsigned(dps.sip_port), ports_text.c_str(), rte_get_main_lcore(), unsigned(nw),
                 wl_text.c_str(), ctl.state().trunks.size(), a.duration_s > 0 ? " for a while" : "");

    std::atomic<bool> stop{false};
    std::vector<WorkerRun> runs;
    runs.reserve(nw);
    for (uint16_t i = 0; i < nw; i++) runs.push_back(WorkerRun{ws[i], &stop});
    for (uint16_t i = 0; i < nw; i++) {
        if (rte_eal_remote_launch(worker_main, &runs[i], lcores[i]) != 0) {
            std::fprintf(stderr, "sipedge: cannot launch worker %u on lcore %u\n", unsigned(i),
                         lcores[i]);
            stop.store(true, std::memory_order_relaxed);
            rte_eal_mp_wait_lcore();
            return 1;
        }
    }

    // 3. The control loop on this (main) lcore until a signal or --duration.
    ctl::LoopOptions lo;
    lo.prog = "sipedge";
    lo.socket_path = a.socket;
    lo.socket_group = a.group;
    lo.verbose = a.verbose;
    lo.tick_ms = 10;  // rings drained and engine timers run every 10 ms
    lo.socket_idle_ms = a.socket_idle_s * 1000;
    lo.run_ms = uint64_t(a.duration_s * 1000.0);
    // Worker counters for metrics and `show stats`: read from the control
    // thread while the workers run (plain loads; a counter may lag a little).
    const uint64_t tsc_hz = rte_get_tsc_hz();
    auto stats_source = [&ws, &lcores, nw, tsc_hz](std::vector<ctl::CoreCounters>& v) {
        for (uint16_t i = 0; i < nw; i++) v.push_back(ctl::CoreCounters{lcores[i], ws[i]->stats(), tsc_hz});
    };
    ops->set_stats_source(stats_source);
    // The same counters under DPDK telemetry (/sipedge/stats...), read on the
    // telemetry thread (plain loads, as above); cleared before the workers go.
    if (Status s = ctl::register_telemetry(stats_source); !s)
        std::fprintf(stderr, "sipedge: warning: %s\n", s.error().message.c_str());
    // `show ready` / `show dataplane` (issue 12): the data plane as it runs.
    ctl.monitor().set_dataplane_probe([&] {
        ctl::DataplaneStatus d;
        d.attached = true;
        d.ports_started = true;  // port_start() succeeded for each, or we exited
        d.workers = nw;
        for (const dp::Worker* w : ws) {
            d.workers_running += w->running();
            d.workers_with_routes += w->has_routes();
        }
        d.tables_published = link->counters().published;
        for (size_t k = 0; k < pcs.size(); k++) {
            ctl::PortStatus p;
            p.port = port_ids[k];
            p.dpdk_port = pcs[k].port_id;
            p.driver = drivers[k];
            p.rx_udp_csum = dp::rx_csum_name(pcs[k].rx_csum);
            rte_eth_link l{};
            p.link_up = rte_eth_link_get_nowait(pcs[k].port_id, &l) == 0 && l.link_status == RTE_ETH_LINK_UP;
            for (const dp::Worker* w : ws) p.udp_csum_partial += w->stats().port_udp_csum_partial[k];
            d.ports.push_back(std::move(p));
        }
        return d;
    });
    std::vector<bool> partial_said(pcs.size(), false);
    bool drops_said[2] = {false, false};
    uint32_t ticks = 0;
    const auto started = std::chrono::steady_clock::now();
    const int rc = ctl::run_control_loop(
        ctl, lo,
        [&] {
            link->tick(ctl);
            ctl::say_partial_once(ws, pcs, port_ids, drivers, partial_said);
            ctl::say_drops_once(ws, drops_said);
            if (++ticks % 100 == 0) {
                std::vector<ctl::CoreStats> cs;
                for (uint16_t i = 0; i < nw; i++) cs.push_back(ctl::core_stats(lcores[i], ws[i]->stats()));
                ctl.monitor().set_core_stats(std::move(cs));
            }
        },
        [&](ctl::SocketServer& s) {
            ctl.monitor().bind(&s);  // `monitor events|trace` subscribers
            if (ops->fd() >= 0) s.watch(ops->fd(), [&] { ops->on_ready(); });
        });
    ctl.monitor().bind(nullptr);  // the socket is closed
    ctl.monitor().set_dataplane_probe(nullptr);
    ctl::clear_telemetry_source();  // the telemetry thread no longer reads the workers

    // relaxed: the flag only asks the worker loops to end; wait_lcore joins them.
    stop.store(true, std::memory_order_relaxed);
    for (unsigned l : lcores) rte_eal_wait_lcore(l);
    const std::chrono::duration<double> ran = std::chrono::steady_clock::now() - started;
    dp::WorkerStats total;
    uint32_t slots = 0;
    for (dp::Worker* w : ws) {
        ctl::add_stats(total, w->stats());
        slots += w->active_slots();
    }
    ctl::print_stats(total, ran.count(), slots, link->counters(), ws, lcores, pcs);
    link.reset();
    handoff.reset();  // frees what is still in the rings
    for (const dp::PortConfig& p : pcs) dp::port_stop(p.port_id);
    for (dp::Worker* w : ws) delete w;
    dp::eal_stop();
    return rc;
}
