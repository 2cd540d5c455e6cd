#include "control/edge.h"

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "control/commands.h"
#include "control/dp_link.h"
#include "control/edge_args.h"
#include "control/edge_report.h"
#include "control/exception_tap.h"
#include "control/loop.h"
#include "control/metrics.h"
#include "control/monitor.h"
#include "control/socket.h"
#include "control/telemetry.h"
#include "dataplane/handoff.h"
#include "dataplane/inet.h"
#include "dataplane/msg_pool.h"
#include "dataplane/proxy_types.h"
#include "stream/transport.h"

namespace sipedge::ctl {

namespace {

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

// The driver name of DPDK port <p>, "" when it gives none.
std::string driver_of(uint16_t p) {
    rte_eth_dev_info info{};
    return rte_eth_dev_info_get(p, &info) == 0 && info.driver_name ? info.driver_name : "";
}

// Undoes a registration in the Controller, Ops or telemetry that points into
// the Edge, on every way out of Edge::run().
template <class F>
struct OnExit {
    F f;
    ~OnExit() { f(); }
};
template <class F>
OnExit(F) -> OnExit<F>;

}  // namespace

void EalScope::stop() noexcept {
    if (up_) dp::eal_stop();
    up_ = false;
}

void MempoolFree::operator()(rte_mempool* p) const noexcept { rte_mempool_free(p); }

bool PortSet::start(const dp::PortSetup& s, rte_mempool* pool, dp::MacAddr& mac) {
    taken_.push_back(Taken{s.port_id, false});
    taken_.back().started = dp::port_start(s, pool, mac);
    return taken_.back().started;
}

bool PortSet::holds(uint16_t port_id) const noexcept {
    for (const Taken& t : taken_)
        if (t.port_id == port_id) return true;
    return false;
}

void PortSet::close_all() noexcept {
    for (auto t = taken_.rbegin(); t != taken_.rend(); ++t) {
        if (t->started) dp::port_stop(t->port_id);
        else rte_eth_dev_close(t->port_id);  // configured at most: nothing to stop
    }
    taken_.clear();
}

int LcoreRuns::lcore_main(void* arg) {
    auto* r = static_cast<Run*>(arg);
    r->w->run(*r->stop);
    return 0;
}

bool LcoreRuns::launch(dp::Worker& w, unsigned lcore) {
    runs_.push_back(Run{&w, &stop_});
    if (rte_eal_remote_launch(lcore_main, &runs_.back(), lcore) != 0) {
        runs_.pop_back();
        return false;
    }
    launched_.push_back(lcore);
    return true;
}

void LcoreRuns::stop() noexcept {
    stop_.store(true, std::memory_order_relaxed);
    for (unsigned l : launched_) rte_eal_wait_lcore(l);
    launched_.clear();
}

std::unique_ptr<Edge> Edge::start(Controller& ctl, const EdgeArgs& a, int argc, char** argv, int sep) {
    std::unique_ptr<Edge> e(new Edge());
    if (!e->bring_up(ctl, a, argc, argv, sep)) return nullptr;  // ~Edge tears down what started
    return e;
}

Edge::~Edge() = default;

bool Edge::bring_up(Controller& ctl, const EdgeArgs& a, int argc, char** argv, int sep) {
    dps_ = ctl.state().dataplane;
    // Ports with an address, in DPDK port id order (= interface index order:
    // dataplane/iface.h picks the first matching one).
    for (uint16_t p = 0; p < dps_.ports.size(); p++) {
        if (dps_.ports[p].ip) port_ids_.push_back(p);
        else if (dps_.ports[p].gateway || dps_.ports[p].vlan) {
            std::fprintf(stderr, "sipedge: %s: port %u has a gateway or VLAN but no address\n",
                         a.config.c_str(), unsigned(p));
            return false;
        }
    }
    if (port_ids_.empty()) {
        std::fprintf(stderr, "sipedge: %s: no 'set dataplane address A.B.C.D/P'\n", a.config.c_str());
        return false;
    }

    // EAL: every lcore but the main one runs a worker.
    EalArgv eal(dps_, argc, argv, sep);
    if (!eal_.start(eal.argc(), eal.argv())) return false;
    for (unsigned l = rte_get_next_lcore(rte_get_main_lcore(), 1, 0); l < RTE_MAX_LCORE;
         l = rte_get_next_lcore(l, 1, 0))
        lcores_.push_back(l);
    if (lcores_.empty() || lcores_.size() > dp::Handoff::max_workers || lcores_.size() > 250) {
        std::fprintf(stderr, "sipedge: needs two lcores or more (main = control, the others = "
                             "workers, at most 128): give the EAL e.g. -l 0-1\n");
        return false;
    }
    return start_ports(a, eal.af_room()) && start_workers(ctl, a);
}

// Mempools and ports: each configured port by its device name, else DPDK
// port id = its index.
bool Edge::start_ports(const EdgeArgs& a, uint32_t af_room) {
    const uint16_t nw = uint16_t(lcores_.size());
    // Mempool sized at start-up: every port's queue pair per worker can hold
    // its descriptors' worth of mbufs (1024 RX + 1024 TX), each handoff ring
    // 1023, each lcore a 256-mbuf cache, plus 4095 in flight (ARP-parked
    // packets, fragment trains, reassembly). --mbufs overrides; say so when
    // it is smaller.
    // An exception tap per port (--exception-tap) has its own queue pairs.
    const uint64_t dpdk_ports = port_ids_.size() * (a.exception_tap ? 2 : 1);
    const uint64_t want = dpdk_ports * nw * (2 * 1024) + uint64_t(nw) * 1023 +
                          256ull * (nw + 1u) + 4095;
    uint32_t mbufs = a.mbufs;
    if (mbufs == 0) {
        mbufs = 8191;
        while (mbufs < want && mbufs < (1u << 24) - 1) mbufs = mbufs * 2 + 1;  // 2^k - 1
    } else if (mbufs < want) {
        std::fprintf(stderr, "sipedge: warning: --mbufs %u may run short with %zu port(s) and %u "
                             "worker(s) (about %lu can sit in queues, rings and caches)\n",
                     mbufs, port_ids_.size(), unsigned(nw), (unsigned long)want);
    }
    pool_.reset(dp::make_pktmbuf_pool("sipedge_mbufs", mbufs));
    // net_af_packet RX queues with frames over 2 KiB (issue 16): their own
    // pool of mbufs that hold a whole frame: per worker a burst's worth and
    // its handoff ring, the lcore caches, some in flight.
    if (af_room > RTE_MBUF_DEFAULT_DATAROOM) {
        const uint64_t n = uint64_t(nw) * 1024 + (nw > 1 ? uint64_t(nw) * 1023 : 0) + 256ull * (nw + 1u) + 511;
        uint32_t m = 2047;
        while (m < n && m < (1u << 20) - 1) m = m * 2 + 1;
        af_pool_.reset(dp::make_pktmbuf_pool("sipedge_af_rx", m, af_room));
        if (!af_pool_) return false;
    }
    if (!pool_) return false;
    for (uint16_t n : port_ids_) {
        // Port n: its configured device by name, else DPDK port id n.
        uint16_t p = n;
        const std::string& dev = dps_.ports[n].device;
        if (!dev.empty()) {
            std::string name = dev.substr(0, dev.find(','));
            if (dataplane_device_is_pci(name) && name.size() == 7) name = "0000:" + name;
            if (rte_eth_dev_get_port_by_name(name.c_str(), &p) != 0) {
                std::fprintf(stderr, "sipedge: port %u: the EAL has no device %s\n", unsigned(n),
                             name.c_str());
                return false;
            }
        } else if (!rte_eth_dev_is_valid_port(p)) {
            std::fprintf(stderr, "sipedge: %s configures port %u but the EAL has %u port(s) "
                                 "(one --vdev or PCI device per port, in order, or 'set dataplane "
                                 "port %u device ...')\n",
                         a.config.c_str(), unsigned(n), unsigned(rte_eth_dev_count_avail()),
                         unsigned(n));
            return false;
        }
        if (ports_.holds(p)) {
            std::fprintf(stderr, "sipedge: port %u is DPDK port %u, already used\n", unsigned(n),
                         unsigned(p));
            return false;
        }
        dp::PortConfig pc;
        dp::PortSetup ps;
        ps.port_id = p;
        ps.queues = nw;
        const bool af = af_pool_ && driver_of(p) == "net_af_packet";
        if (!ports_.start(ps, af ? af_pool_.get() : pool_.get(), pc.mac)) return false;
        const PortSettings& s = dps_.ports[n];
        pc.port_id = p;
        pc.ip = s.ip;
        pc.prefix = s.prefix;
        pc.gateway = s.gateway;
        pc.vlan = s.vlan;
        uint16_t mtu = 0;
        if (rte_eth_dev_get_mtu(p, &mtu) == 0 && mtu >= 576) pc.mtu = mtu;
        const std::string driver = driver_of(p);
        pc.rx_csum = rx_csum_for(driver, a.rx_udp_csum);
        if (a.exception_tap) {
            // Issue 14: the kernel's side of this port (control/exception_tap.h).
            Result<uint16_t> t = create_exception_tap(n, pc.mac, s.ip, s.prefix);
            if (!t) {
                std::fprintf(stderr, "sipedge: port %u: %s\n", unsigned(n), t.error().message.c_str());
                return false;
            }
            dp::PortSetup ts;
            ts.port_id = t.value();
            ts.queues = nw;
            dp::MacAddr tmac;
            if (!ports_.start(ts, pool_.get(), tmac)) return false;
            pc.exception_port = t.value();
            char ipb[16];
            ipb[dp::format_ipv4(s.ip, ipb)] = 0;
            std::fprintf(stderr, "sipedge: port %u: exception path to the kernel's %s (%s/%u): TCP for "
                                 "this address goes there, what the kernel sends there leaves here\n",
                         unsigned(n), exception_ifname(n).c_str(), ipb, unsigned(s.prefix));
        }
        drivers_.push_back(driver);
        pcs_.push_back(pc);
    }
    return true;
}

// Links, handoff rings, workers initialised and launched.
bool Edge::start_workers(Controller& ctl, const EdgeArgs& a) {
    const uint16_t nw = uint16_t(lcores_.size());
    std::string why;
    link_ = DpLink::create(nw, why);
    if (!link_) {
        std::fprintf(stderr, "sipedge: %s\n", why.c_str());
        return false;
    }
    // Cross-core handoff (several workers only): 1024 packets per worker.
    handoff_ = std::make_unique<dp::Handoff>();
    if (nw > 1 && !handoff_->init(nw, 1024, "sipedge_ho", int(rte_socket_id()))) return false;
    link_->sync(ctl);  // the first snapshot is there before the workers run

    dp::ProxyConfig pc;
    pc.self = {pcs_[0].ip, dps_.sip_port};  // the worker fills in every interface
    pc.max_txns = a.max_txns;
    pc.overload_percent = a.overload_percent;
    pc.overload_retry_after_s = a.overload_retry_after_s;
    pc.timer_c_ms = uint32_t(dps_.timer_c_s) * 1000;
    pc.retry_after_s = dps_.retry_after_s;
    // The worker reassembles and fragments: a message is bounded by what the
    // proxy retains (its big MsgPool slots), not by the MTU.
    pc.max_udp_payload = uint16_t(dp::MsgPool::max_size);
    // Issue 16: the key of the token in our Record-Route (dataplane/access_policy.h),
    // kept in the secrets file so that dialogs outlive a restart (else drawn
    // at every start), given to every worker.
    if (Status k = ctl.record_route_key(pc.rr_key); !k) {
        std::fprintf(stderr, "sipedge: record-route key: %s\n", k.error().message.c_str());
        return false;
    }
    if (a.sip_tcp) {
        if (!start_stream(nw, a)) return false;
        pc.streams = true;  // trunk servers over TCP/TLS are candidates
        if (!a.tls_cert.empty()) pc.tls_port = a.tls_port;
        sync_stream_profiles(ctl);
    }
    for (uint16_t i = 0; i < nw; i++) {
        workers_.push_back(std::make_unique<dp::Worker>());
        dp::Worker* w = workers_.back().get();
        ws_.push_back(w);
        dp::WorkerConfig wc;
        for (size_t k = 0; k < pcs_.size(); k++) wc.ports[k] = pcs_[k];
        wc.nports = uint8_t(pcs_.size());
        wc.queue = i;
        wc.core = uint8_t(i);  // = its RCU id and route-scratch index (dp_link)
        wc.sip_port = dps_.sip_port;
        wc.rx_udp_csum = a.rx_udp_csum;
        wc.overload_shed = a.overload_shed;
        wc.bench_spin_ns = a.bench_spin_ns;
        dp::WorkerLinks wl = link_->worker_links(i);
        if (nw > 1) wl.handoff = handoff_.get();
        if (stream_) wl.stream = &stream_->channel(i);
        if (!w->init(wc, pc, pool_.get(), wl)) {
            std::fprintf(stderr, "sipedge: worker %u init failed (memory)\n", unsigned(i));
            return false;
        }
    }
    std::string ports_text;
    for (const dp::PortConfig& p : pcs_) {
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
    for (unsigned l : lcores_) {
        if (!wl_text.empty()) wl_text += ',';
        wl_text += std::to_string(l);
    }
    std::fprintf(stderr,
                 "sipedge: SIP port %u, %s, control on lcore %u, %u worker(s) on lcore %s, %zu "
                 "trunk(s), running%s\n",
                 unsigned(dps_.sip_port), ports_text.c_str(), rte_get_main_lcore(), unsigned(nw),
                 wl_text.c_str(), ctl.state().trunks.size(), a.duration_s > 0 ? " for a while" : "");

    for (uint16_t i = 0; i < nw; i++) {
        if (!runs_.launch(*ws_[i], lcores_[i])) {
            std::fprintf(stderr, "sipedge: cannot launch worker %u on lcore %u\n", unsigned(i),
                         lcores_[i]);
            return false;
        }
    }
    return true;
}

// --sip-tcp (issue 14, docs/stream.md): the stream thread with one channel
// per worker, listening for SIP over TCP on every port's address and our SIP
// port. Those addresses live on the kernel's side of the exception path (the
// tap interfaces created with the ports), so the kernel's TCP answers there
// and its segments leave by the data ports.
bool Edge::start_stream(uint16_t workers, const EdgeArgs& a) {
    stream::StreamConfig sc;
    sc.channels = workers;
    // Off the workers' cores: its own CPU when given, else the control
    // thread's (the main lcore's), which mostly sleeps in epoll as it does.
    sc.cpu = a.stream_cpu >= 0 ? a.stream_cpu : int(rte_lcore_to_cpu_id(int(rte_get_main_lcore())));
    stream_ = std::make_unique<stream::StreamTransport>(sc);
    constexpr uint32_t access_profile = 1;  // the access side's TLS identity (server profile)
    if (!a.tls_cert.empty()) {
        stream::TlsServerConfig tc;
        tc.cert_file = a.tls_cert;
        // As a trunk's client key: only its owner may read the file; read once.
        auto key = Controller::read_tls_key(a.tls_key, "--tls-key");
        if (!key) {
            std::fprintf(stderr, "sipedge: %s\n", key.error().message.c_str());
            return false;
        }
        tc.key_pem = std::move(key.value());
        if (Status s = stream_->set_server_profile(access_profile, tc); !s) {
            std::fprintf(stderr, "sipedge: --tls-cert/--tls-key: %s\n", s.error().message.c_str());
            return false;
        }
    }
    for (const dp::PortConfig& p : pcs_) {
        char ipb[16];
        ipb[dp::format_ipv4(p.ip, ipb)] = 0;
        stream::ListenConfig lc;
        lc.addr = stream::make_peer(ipb, dps_.sip_port);
        lc.transport = stream::Transport::tcp;
        Result<stream::PeerAddr> l = stream_->listen(lc);
        if (!l) {
            std::fprintf(stderr, "sipedge: --sip-tcp: cannot listen on %s:%u: %s\n", ipb,
                         unsigned(dps_.sip_port), l.error().message.c_str());
            return false;
        }
        std::fprintf(stderr, "sipedge: SIP over TCP on %s:%u (the kernel's side of port %u)\n", ipb,
                     unsigned(dps_.sip_port), unsigned(p.port_id));
        if (a.tls_cert.empty()) continue;
        stream::ListenConfig tl;
        tl.addr = stream::make_peer(ipb, a.tls_port);
        tl.transport = stream::Transport::tls;
        tl.tls_profile = access_profile;
        Result<stream::PeerAddr> t = stream_->listen(tl);
        if (!t) {
            std::fprintf(stderr, "sipedge: --tls-cert: cannot listen on %s:%u: %s\n", ipb, unsigned(a.tls_port),
                         t.error().message.c_str());
            return false;
        }
        std::fprintf(stderr, "sipedge: SIP over TLS on %s:%u (certificate %s)\n", ipb, unsigned(a.tls_port),
                     a.tls_cert.c_str());
    }
    if (Status s = stream_->start(); !s) {
        std::fprintf(stderr, "sipedge: --sip-tcp: %s\n", s.error().message.c_str());
        return false;
    }
    std::fprintf(stderr, "sipedge: stream thread on CPU %d\n", sc.cpu);
    return true;
}

// The stream thread's connection events, every control tick. A connection
// opened for a trunk server carries its RouteTag: a failed connect or TLS
// handshake/certificate goes to the failover engine as a trigger (seed P: "a
// failed TCP connection" fails the route), a closed connection as
// connection_closed (not a trigger). Access-side connections serve no server.
// Failures of trunk connections are said on stderr (a refused certificate
// names what it expected and got); everything with --verbose.
void Edge::drain_stream_events(Controller& ctl, bool verbose) {
    stream::StreamEvent ev;
    for (int i = 0; i < 1024 && stream_->poll_event(ev); i++) {
        failover::ServerEvent se = stream::to_server_event(ev);
        const bool trunk = ev.route.server_idx != 0xffff;
        if (trunk && se.kind != failover::EventKind::none) {
            se.at_ms = ctl.now();
            ctl.engine().on_event(se);
        }
        if (verbose || (trunk && stream::is_failover_trigger(ev.kind)))
            std::fprintf(stderr, "sipedge: stream: %s%s: %s\n", stream::event_name(ev.kind),
                         trunk ? (" (trunk id " + std::to_string(ev.route.trunk_id) + ", server " +
                                  std::to_string(ev.route.server_idx) + ")").c_str()
                               : "",
                         ev.reason);
    }
}

// Per trunk that may reach a server over TCP/TLS, under stream_profile(engine
// id): its connections' timing, and for TLS its client profile: the CA bundle
// and the name its servers' certificates must carry (tls-server-name, else
// the domain, else the first TLS server's host). Set again when the configuration changed them; a
// profile that cannot be built (no CA file) is said once per change, and
// connections for that trunk then fail (send_failed) until it is fixed.
void Edge::sync_stream_profiles(Controller& ctl) {
    // The engine's TLS servers (configured or resolved) → their trunk's
    // profile, for connections opened by messages that name none (in-dialog
    // requests to a carrier whose connection closed: reconnected, not failed
    // over). Rebuilt once a second; handed over when it changed.
    if (++tls_peer_ticks_ % 100 == 1) {
        std::vector<std::pair<stream::PeerAddr, uint32_t>> peers;
        const failover::Engine& e = ctl.engine();
        for (uint32_t id = 0; id < e.trunk_count(); id++) {
            const failover::Trunk* t = e.trunk(id);
            if (!t) continue;
            for (const failover::ServerState& s : t->servers) {
                if (s.family != 4 || s.target.transport != sip::Transport::tls) continue;
                stream::PeerAddr a;
                a.family = AF_INET;
                a.port = s.target.port;
                std::memcpy(a.addr, s.addr, 4);
                peers.emplace_back(a, dp::stream_profile(id));
            }
        }
        if (peers != tls_peers_) {
            stream_->set_peer_profiles(peers);
            tls_peers_ = std::move(peers);
        }
    }
    if (ctl.commit_count() == tls_synced_) return;
    tls_synced_ = ctl.commit_count();
    for (const auto& [name, t] : ctl.state().trunks) {
        // Its connections' timing (seed P knobs, docs/stream.md): connect +
        // handshake within tcp-fast-failover-timeout (else Timer B), TCP
        // keep-alive, RFC 5626 pings every keepalive-interval.
        bool stream_server = false;
        for (const auto& s : t.servers)
            stream_server = stream_server || (s && s->mode != ServerMode::udp && s->mode != ServerMode::udp_only);
        const std::optional<uint32_t> eid = ctl.engine_id(name);
        if (stream_server && eid) {
            const TrunkSettings& k = t.knobs;
            stream::StreamKnobs sk;
            sk.connect_timeout_ms = stream::connect_timeout_ms(k.tcp_fast_failover, k.tcp_fast_failover_timeout_ms, k.t1_ms);
            sk.tcp_keepalive_idle_s = k.tcp_keepalive_idle_s;
            sk.tcp_keepalive_interval_s = k.tcp_keepalive_no_response_s;
            sk.tcp_keepalive_attempts = k.tcp_keepalive_attempts;
            sk.crlf_ping_interval_s = k.keepalive_interval_s;
            auto it = knobs_applied_.find(*eid);
            if (it == knobs_applied_.end() || !(it->second == sk)) {
                knobs_applied_[*eid] = sk;
                stream_->set_profile_knobs(dp::stream_profile(*eid), sk);
            }
        }
        const ServerEntry* first_tls = nullptr;
        for (const auto& s : t.servers)
            if (s && (s->mode == ServerMode::tls || s->mode == ServerMode::tls_only ||
                      s->mode == ServerMode::dns_naptr)) {
                first_tls = &*s;
                break;
            }
        const std::optional<uint32_t> id = ctl.engine_id(name);
        if (!first_tls || !id) continue;
        const std::string sn = !t.knobs.tls_server_name.empty() ? t.knobs.tls_server_name
                               : !t.domain.empty()               ? t.domain
                                                                 : first_tls->host;
        auto want = std::make_tuple(t.knobs.tls_ca, sn, t.knobs.tls_client_cert, t.tls_client_key_pem);
        auto it = tls_applied_.find(*id);
        if (it != tls_applied_.end() && it->second == want) continue;
        tls_applied_[*id] = want;
        stream::TlsClientConfig cc;
        cc.server_name = sn;
        cc.ca_file = t.knobs.tls_ca;
        if (!t.knobs.tls_client_cert.empty() || !t.tls_client_key_pem.empty()) {
            // The key was read (and its file's mode checked) when it was set
            // and is kept in the secrets store (Controller::read_tls_key).
            if (t.knobs.tls_client_cert.empty() || t.tls_client_key_pem.empty()) {
                std::fprintf(stderr, "sipedge: trunk %s: tls-client-cert and tls-client-key go together\n", name.c_str());
                continue;
            }
            cc.cert_file = t.knobs.tls_client_cert;
            cc.key_pem = t.tls_client_key_pem;
        }
        if (Status s = stream_->set_client_profile(dp::stream_profile(*id), cc); !s)
            std::fprintf(stderr, "sipedge: trunk %s: TLS profile: %s\n", name.c_str(), s.error().message.c_str());
    }
}

int Edge::run(Controller& ctl, Ops* ops, const EdgeArgs& a) {
    const uint16_t nw = uint16_t(lcores_.size());
    LoopOptions lo;
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
    auto stats_source = [this, nw, tsc_hz](std::vector<CoreCounters>& v) {
        for (uint16_t i = 0; i < nw; i++) v.push_back(CoreCounters{lcores_[i], ws_[i]->stats(), tsc_hz});
    };
    if (ops) ops->set_stats_source(stats_source);
    // The same counters under DPDK telemetry (/sipedge/stats...), read on the
    // telemetry thread (plain loads, as above); cleared before the workers go.
    if (Status s = register_telemetry(stats_source); !s)
        std::fprintf(stderr, "sipedge: warning: %s\n", s.error().message.c_str());
    // `show ready` / `show dataplane` (issue 12): the data plane as it runs.
    ctl.monitor().set_dataplane_probe([this, nw] {
        DataplaneStatus d;
        d.attached = true;
        d.ports_started = true;  // port_start() succeeded for each, or start() failed
        d.workers = nw;
        for (const dp::Worker* w : ws_) {
            d.workers_running += w->running();
            d.workers_with_routes += w->has_routes();
        }
        d.tables_published = link_->counters().published;
        for (size_t k = 0; k < pcs_.size(); k++) {
            PortStatus p;
            p.port = port_ids_[k];
            p.dpdk_port = pcs_[k].port_id;
            p.driver = drivers_[k];
            p.rx_udp_csum = dp::rx_csum_name(pcs_[k].rx_csum);
            rte_eth_link l{};
            p.link_up = rte_eth_link_get_nowait(pcs_[k].port_id, &l) == 0 && l.link_status == RTE_ETH_LINK_UP;
            for (const dp::Worker* w : ws_) p.udp_csum_partial += w->stats().port_udp_csum_partial[k];
            d.ports.push_back(std::move(p));
        }
        return d;
    });
    // Nothing that reads the workers survives this call, however it ends.
    OnExit unhook{[&] {
        ctl.monitor().bind(nullptr);  // the socket is closed
        ctl.monitor().set_dataplane_probe(nullptr);
        clear_telemetry_source();  // the telemetry thread no longer reads the workers
        if (ops) ops->set_stats_source(nullptr);
    }};
    std::vector<bool> partial_said(pcs_.size(), false);
    bool drops_said[2] = {false, false};
    uint32_t ticks = 0;
    started_ = std::chrono::steady_clock::now();
    return run_control_loop(
        ctl, lo,
        [&] {
            link_->tick(ctl);
            if (stream_) {
                sync_stream_profiles(ctl);
                drain_stream_events(ctl, a.verbose);
            }
            say_partial_once(ws_, pcs_, port_ids_, drivers_, partial_said);
            say_drops_once(ws_, drops_said);
            if (++ticks % 100 == 0) {
                std::vector<CoreStats> cs;
                for (uint16_t i = 0; i < nw; i++) cs.push_back(core_stats(lcores_[i], ws_[i]->stats()));
                ctl.monitor().set_core_stats(std::move(cs));
            }
        },
        [&](SocketServer& s) {
            ctl.monitor().bind(&s);  // `monitor events|trace` subscribers
            if (ops && ops->fd() >= 0) s.watch(ops->fd(), [ops] { ops->on_ready(); });
        });
}

void Edge::stop_and_report() {
    runs_.stop();
    const std::chrono::duration<double> ran = std::chrono::steady_clock::now() - started_;
    dp::WorkerStats total;
    uint32_t slots = 0;
    for (const dp::Worker* w : ws_) {
        add_stats(total, w->stats());
        slots += w->active_slots();
    }
    const stream::StreamStats ss = stream_ ? stream_->stats() : stream::StreamStats{};
    print_stats(total, ran.count(), slots, link_->counters(), ws_, lcores_, pcs_, stream_ ? &ss : nullptr);
}

Status check_host(const DataplaneSettings& d) {
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
        auto l = dataplane_lcore_list(d.lcores);
        if (l)
            for (const unsigned c : l.value())
                if (c >= RTE_MAX_LCORE)
                    return err(EINVAL, "lcores: core " + std::to_string(c) + " is not below this DPDK's RTE_MAX_LCORE " +
                                           std::to_string(RTE_MAX_LCORE));
    }
    return dataplane_check_host(d, cpus);
}

}  // namespace sipedge::ctl
