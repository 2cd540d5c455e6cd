#include "control/edge_args.h"

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string_view>

#include "control/commands.h"
#include "control/number.h"
#include "control/state.h"
#include "dataplane/af_packet.h"

namespace sipedge::ctl {

namespace {

// An integer option by the control plane's one grammar (control/number.h).
bool parse_u32(std::string_view s, uint32_t lo, uint32_t hi, uint32_t& out) {
    uint64_t v = 0;
    if (parse_number(s, lo, hi, v) != NumStatus::ok) return false;
    out = uint32_t(v);
    return true;
}

}  // namespace

void edge_usage(const char* why) {
    std::fprintf(stderr,
                 "sipedge: %s\n"
                 "usage: sipedge --config FILE [--socket PATH] [--socket-group GROUP] [--secrets FILE]\n"
                 "               [--duration SECONDS] [--verbose] [--check] [--max-txns N] [--mbufs N]\n"
                 "               [--overload-percent P] [--overload-retry-after SECONDS]\n"
                 "               [--no-rx-udp-csum] [--no-overload-shed] [--socket-idle-timeout SECONDS]\n"
                 "               [--exception-tap] [--sip-tcp] [--tls-cert FILE --tls-key FILE [--tls-port N]]\n"
                 "               [--stream-cpu N]\n"
                 "               -- EAL-ARGS (lcores: main + workers, -l 0-N)\n",
                 why);
    std::exit(2);
}

// Everything before "--" is ours; the rest goes to the EAL.
int parse_edge_args(int argc, char** argv, EdgeArgs& a) {
    int i = 1;
    for (; i < argc; i++) {
        const std::string_view arg = argv[i];
        if (arg == "--") break;
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) edge_usage("missing value");
            return argv[++i];
        };
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
            if (!end || *end || a.duration_s < 0 || a.duration_s > 1e7) edge_usage("bad --duration");
        } else if (arg == "--max-txns") {
            if (!parse_u32(val(), 16, 1u << 24, a.max_txns)) edge_usage("bad --max-txns");
        } else if (arg == "--overload-percent") {
            if (!parse_u32(val(), 0, 100, a.overload_percent)) edge_usage("bad --overload-percent (0-100; 0: off)");
        } else if (arg == "--overload-retry-after") {
            if (!parse_u32(val(), 0, 3600, a.overload_retry_after_s)) edge_usage("bad --overload-retry-after (seconds 0-3600)");
        } else if (arg == "--mbufs") {
            if (!parse_u32(val(), 1023, 1u << 24, a.mbufs)) edge_usage("bad --mbufs");
        } else if (arg == "--socket-idle-timeout") {
            if (!parse_u32(val(), 0, 86400, a.socket_idle_s)) edge_usage("bad --socket-idle-timeout (seconds 0-86400)");
        } else if (arg == "--no-rx-udp-csum") {
            a.rx_udp_csum = false;
        } else if (arg == "--no-overload-shed") {
            a.overload_shed = false;
        } else if (arg == "--exception-tap") {
            a.exception_tap = true;
        } else if (arg == "--sip-tcp") {
            a.sip_tcp = a.exception_tap = true;  // the kernel's TCP holds our address on the tap
        } else if (arg == "--tls-cert") {
            a.tls_cert = val();
            a.sip_tcp = a.exception_tap = true;
        } else if (arg == "--tls-key") {
            a.tls_key = val();
            a.sip_tcp = a.exception_tap = true;
        } else if (arg == "--stream-cpu") {
            uint32_t v = 0;
            if (!parse_u32(val(), 0, 4095, v)) edge_usage("bad --stream-cpu (0-4095)");
            a.stream_cpu = int(v);
        } else if (arg == "--tls-port") {
            uint32_t v = 0;
            if (!parse_u32(val(), 1, 65535, v)) edge_usage("bad --tls-port (1-65535)");
            a.tls_port = uint16_t(v);
        } else if (arg == "--bench-spin-ns") {
            uint32_t v = 0;
            if (!parse_u32(val(), 0, 1000000, v)) edge_usage("--bench-spin-ns: 0-1000000");
            a.bench_spin_ns = v;
        } else if (arg == "-h" || arg == "--help") {
            edge_usage("help");
        } else {
            edge_usage("unknown option (EAL options go after --)");
        }
    }
    if (a.config.empty()) edge_usage("--config is required");
    if (a.tls_cert.empty() != a.tls_key.empty()) edge_usage("--tls-cert and --tls-key go together");
    return i;
}

uint32_t af_packet_frames_for(std::vector<char*>& eal, std::deque<std::string>& keep) {
    uint32_t room = 0;
    for (size_t i = 1; i < eal.size(); i++) {
        std::string_view w = eal[i];
        size_t at = i;
        if (w == "--vdev" && i + 1 < eal.size()) w = eal[at = ++i];
        else if (w.rfind("--vdev=", 0) == 0) w.remove_prefix(7);
        else continue;
        uint32_t r = 0;
        std::string dev = dp::af_packet_vdev(w, r);
        if (r == 0) continue;
        room = r > room ? r : room;
        if (dev.size() == w.size()) continue;  // the operator's own geometry
        std::fprintf(stderr, "sipedge: %s: frames of %s bytes (interface MTU %u; whole datagrams "
                             "up to %u bytes)\n",
                     std::string(w.substr(0, w.find(','))).c_str(),
                     std::string(dp::devarg(dev, "framesz")).c_str(),
                     unsigned(dp::kernel_mtu(dp::devarg(dev, "iface"))),
                     unsigned(r - 80 - 4 + 32));
        keep.push_back(eal[at] == w.data() ? dev : "--vdev=" + dev);
        eal[at] = keep.back().data();
    }
    return room;
}

std::vector<std::string> eal_from_config(const DataplaneSettings& d, int n, char** args) {
    auto has = [&](std::initializer_list<std::string_view> opts) {
        for (int i = 0; i < n; i++) {
            const std::string_view w = args[i];
            for (std::string_view o : opts)
                if (w == o || (w.size() > o.size() && w.substr(0, o.size()) == o && w[o.size()] == '='))
                    return true;
        }
        return false;
    };
    std::vector<std::string> out;
    bool any = false, pci = false;
    for (const PortSettings& p : d.ports) {
        if (p.device.empty() || !p.ip) continue;
        any = true;
        if (dataplane_device_is_pci(p.device.substr(0, p.device.find(',')))) {
            pci = true;
            out.push_back("-a");
            out.push_back(p.device);
        } else {
            out.push_back("--vdev=" + p.device);
        }
    }
    if (any && !pci && !has({"-a", "--allow", "-b", "--block", "--no-pci"})) out.push_back("--no-pci");
    if (!d.lcores.empty() && !has({"-l", "--lcores", "-c"})) {
        out.push_back("-l");
        out.push_back(d.lcores);
    }
    if (!d.hugepages && !has({"--no-huge"})) out.push_back("--no-huge");
    if (d.memory_mb && !has({"-m", "--socket-mem"})) {
        out.push_back("-m");
        out.push_back(std::to_string(d.memory_mb));
    }
    return out;
}

// The command line's EAL arguments first, then what the configuration adds
// (devices, lcores, memory) where the command line does not say it.
EalArgv::EalArgv(const DataplaneSettings& d, int argc, char** argv, int sep) {
    const int n = sep < argc ? argc - sep - 1 : 0;
    config_words_ = eal_from_config(d, n, n ? argv + sep + 1 : argv);
    argv_.push_back(argv[0]);
    for (int i = sep + 1; i < argc; i++) argv_.push_back(argv[i]);
    for (std::string& w : config_words_) argv_.push_back(w.data());
    af_room_ = af_packet_frames_for(argv_, af_words_);
}

}  // namespace sipedge::ctl
