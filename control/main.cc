// sipedge: the edge executable. For now configured from the command line
// (issue 6 thin path); the config file and the Unix socket come with issue 7.
//
//   sipedge --ip 192.0.2.10/24 --server 192.0.2.21:5060 [--server ...]
//           [--gateway G] [--access ip:port] [--sip-port 5060] [--duration S]
//           [--t1 MS] [--rollover S] [--max-txns N] [--mbufs N] [--no-rx-udp-csum]
//           -- <EAL arguments, e.g. --no-huge -m 512 --no-pci --vdev=net_af_packet0,iface=veth0>
//
// On exit it prints one JSON object of counters on stdout.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/inet.h"
#include "dataplane/port.h"
#include "dataplane/proxy_types.h"
#include "dataplane/stats_types.h"
#include "dataplane/worker.h"
#include "failover/retry_policy.h"

namespace {

using namespace sipedge;

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

struct Args {
    uint32_t ip = 0;
    uint8_t prefix = 24;
    uint32_t gateway = 0;
    uint16_t sip_port = 5060;
    std::vector<dp::Endpoint> servers;
    dp::Endpoint access;
    double duration_s = 0;
    uint32_t t1_ms = 500;
    uint32_t rollover_s = 3;
    uint32_t max_txns = 16384;
    uint32_t mbufs = 8191;
    uint16_t port_id = 0;
    bool rx_udp_csum = true;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "sipedge: %s\n"
                 "usage: sipedge --ip A.B.C.D/P --server IP:PORT [--server IP:PORT ...]\n"
                 "               [--gateway IP] [--access IP:PORT] [--sip-port N] [--port-id N]\n"
                 "               [--duration SECONDS] [--t1 MS] [--rollover SECONDS(1-32)]\n"
                 "               [--max-txns N] [--mbufs N] [--no-rx-udp-csum] -- EAL-ARGS...\n",
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

bool parse_endpoint(std::string_view s, dp::Endpoint& e) {
    const size_t c = s.rfind(':');
    uint32_t port = 5060;
    if (c != std::string_view::npos && !parse_u32(s.substr(c + 1), 1, 65535, port)) return false;
    if (!dp::parse_ipv4(s.substr(0, c), e.ip)) return false;
    e.port = uint16_t(port);
    return true;
}

// Everything before "--" is ours; the rest goes to the EAL.
int parse_args(int argc, char** argv, Args& a) {
    int i = 1;
    for (; i < argc; i++) {
        const std::string_view arg = argv[i];
        if (arg == "--") return i;
        auto val = [&]() -> std::string_view {
            if (i + 1 >= argc) usage("missing value");
            return argv[++i];
        };
        uint32_t u = 0;
        if (arg == "--ip") {
            const std::string_view v = val();
            const size_t sl = v.find('/');
            if (!dp::parse_ipv4(v.substr(0, sl), a.ip)) usage("bad --ip");
            if (sl != std::string_view::npos) {
                if (!parse_u32(v.substr(sl + 1), 1, 32, u)) usage("bad --ip prefix");
                a.prefix = uint8_t(u);
            }
        } else if (arg == "--gateway") {
            if (!dp::parse_ipv4(val(), a.gateway)) usage("bad --gateway");
        } else if (arg == "--server") {
            dp::Endpoint e;
            if (!parse_endpoint(val(), e)) usage("bad --server");
            a.servers.push_back(e);
        } else if (arg == "--access") {
            if (!parse_endpoint(val(), a.access)) usage("bad --access");
        } else if (arg == "--sip-port") {
            if (!parse_u32(val(), 1, 65535, u)) usage("bad --sip-port");
            a.sip_port = uint16_t(u);
        } else if (arg == "--port-id") {
            if (!parse_u32(val(), 0, 1023, u)) usage("bad --port-id");
            a.port_id = uint16_t(u);
        } else if (arg == "--duration") {
            a.duration_s = std::atof(std::string(val()).c_str());
            if (a.duration_s < 0) usage("bad --duration");
        } else if (arg == "--t1") {
            if (!parse_u32(val(), 50, 1000, a.t1_ms)) usage("--t1: 50-1000 ms (seed A)");
        } else if (arg == "--rollover") {
            if (!parse_u32(val(), 1, 32, a.rollover_s)) usage("--rollover: 1-32 s (seed A)");
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

void print_stats(const dp::WorkerStats& s, double secs, uint32_t active_slots) {
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
    std::printf("\"drops\":{\"total\":%lu", s.drops_total());
    for (size_t r = 0; r < dp::drop_reason_count; r++)
        std::printf(",\"%s\":%lu", dp::drop_reason_name(dp::DropReason(r)), s.drops[r]);
    std::printf("}}\n");
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    const int sep = parse_args(argc, argv, a);
    if (a.ip == 0) usage("--ip is required");
    if (a.servers.empty()) usage("at least one --server is required");
    if (a.servers.size() > dp::ProxyConfig::max_servers) usage("too many --server");

    // EAL sees argv[0] followed by what came after "--".
    std::vector<char*> eal;
    eal.push_back(argv[0]);
    for (int i = sep + 1; i < argc; i++) eal.push_back(argv[i]);
    if (!dp::eal_start(int(eal.size()), eal.data())) return 1;

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    rte_mempool* pool = dp::make_pktmbuf_pool("sipedge_mbufs", a.mbufs);
    dp::MacAddr mac;
    dp::PortSetup ps;
    ps.port_id = a.port_id;
    if (!pool || !dp::port_start(ps, pool, mac)) {
        dp::eal_stop();
        return 1;
    }

    dp::ProxyConfig pc;
    pc.self = {a.ip, a.sip_port};
    for (size_t i = 0; i < a.servers.size(); i++) pc.servers[i] = a.servers[i];
    pc.server_count = uint16_t(a.servers.size());
    pc.access = a.access;
    pc.max_txns = a.max_txns;
    // Seed A (ADTRAN) timing: rollover after `rollover` s per server, on 503
    // and on ICMP unreachable; Timer B/F = 64·T1 on the last server.
    failover::AdtranTimers at;
    at.t1_ms = a.t1_ms;
    at.rollover_s = a.rollover_s;
    at.rollover_on_503 = true;
    at.rollover_on_icmp = true;
    if (failover::validate(at) != failover::KnobError::ok) usage("timer knobs out of range");
    pc.invite_policy = failover::make_policy(at, failover::RequestKind::invite);
    pc.other_policy = failover::make_policy(at, failover::RequestKind::other);

    auto* w = new dp::Worker();
    dp::WorkerConfig wc;
    wc.port_id = a.port_id;
    wc.ip = a.ip;
    wc.prefix = a.prefix;
    wc.gateway = a.gateway;
    wc.sip_port = a.sip_port;
    wc.mac = mac;
    wc.rx_udp_csum = a.rx_udp_csum;
    wc.run_ms = uint64_t(a.duration_s * 1000.0);
    if (!w->init(wc, pc, pool)) {
        std::fprintf(stderr, "sipedge: worker init failed (memory)\n");
        return 1;
    }
    char ipb[16];
    ipb[dp::format_ipv4(a.ip, ipb)] = 0;
    std::fprintf(stderr,
                 "sipedge: %s/%u:%u on port %u (%02x:%02x:%02x:%02x:%02x:%02x), %zu server(s), "
                 "running%s\n",
                 ipb, a.prefix, a.sip_port, a.port_id, mac.b[0], mac.b[1], mac.b[2], mac.b[3],
                 mac.b[4], mac.b[5], a.servers.size(), a.duration_s > 0 ? " for a while" : "");

    // The thin path runs its one worker on the main lcore (-l 0).
    // TODO(lead): one Worker per lcore with RSS queues, launched by rte_eal_remote_launch.
    const auto t0 = std::chrono::steady_clock::now();
    w->run(g_stop);
    const std::chrono::duration<double> ran = std::chrono::steady_clock::now() - t0;

    print_stats(w->stats(), ran.count(), w->active_slots());
    dp::port_stop(a.port_id);
    delete w;
    dp::eal_stop();
    return 0;
}
