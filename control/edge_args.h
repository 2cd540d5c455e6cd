#pragma once
// sipedge's command line (control/main.cc): our options before "--", the
// EAL's after it, and the EAL words the startup configuration adds (devices,
// lcores, memory) and the net_af_packet frame geometry (issue 16). No DPDK
// here: the words are built before the EAL starts.

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace sipedge::ctl {

struct DataplaneSettings;

struct EdgeArgs {
    std::string config, socket = "/run/sipedge.sock", group, secrets;
    double duration_s = 0;
    bool verbose = false, check = false;
    uint32_t max_txns = 16384;
    uint32_t mbufs = 0;  // 0: sized from ports and workers at start-up
    uint32_t overload_percent = 90;      // issue 16: new out-of-dialog requests get 503 at this load; 0: off
    uint32_t overload_retry_after_s = 5; //   ... with this Retry-After (0: none)
    bool rx_udp_csum = true;
    bool overload_shed = true;
    uint32_t bench_spin_ns = 0;  // --bench-spin-ns: benchmarks only, a slower core (dataplane/worker.h)
    // --exception-tap: a net_tap port per data port, the kernel's side of it
    // (issue 14, docs/stream.md "Exception path"): TCP for our address goes
    // to the kernel, which holds the same address on that tap.
    bool exception_tap = false;
    // --sip-tcp: SIP over TCP on every port's address and SIP port (issue
    // 14, docs/stream.md): the stream thread listens on the kernel's side of
    // the exception path (implies --exception-tap) and hands whole messages
    // to the workers.
    bool sip_tcp = false;
    // --tls-cert FILE --tls-key FILE [--tls-port N]: SIP over TLS for the
    // access side too, on every port's address and <tls_port> (implies
    // --sip-tcp); the certificate chain and key (PEM) it presents.
    std::string tls_cert, tls_key;
    uint16_t tls_port = 5061;
    // --stream-cpu N: the CPU of the stream thread (its own core, DESIGN.md);
    // -1 (default): the control thread's CPU (the main lcore's).
    int stream_cpu = -1;
    uint32_t socket_idle_s = 60;  // control clients that send nothing are closed after this; 0 = never
};

/// Prints "sipedge: <why>" and the usage on stderr and exits 2.
[[noreturn]] void edge_usage(const char* why);

/// Our options from argv[1, argc) into <a>, up to "--". Returns the index of
/// "--" (argc when absent). Any bad or unknown option, a missing value or
/// -h/--help exits 2 through edge_usage(); so does a missing --config.
int parse_edge_args(int argc, char** argv, EdgeArgs& a);

/// EAL words the configuration adds to the command line's <n> EAL arguments
/// <args>: each port's device (-a for a PCI address, --vdev otherwise;
/// --no-pci when every configured device is virtual and the command line
/// names no PCI device), -l, --no-huge and -m unless the command line has
/// its own.
std::vector<std::string> eal_from_config(const DataplaneSettings& d, int n, char** args);

/// Issue 16: every net_af_packet vdev among the EAL words <eal> (--vdev=X or
/// --vdev X) without its own framesz/blocksz gets frames sized from its
/// interface's MTU (dataplane/af_packet.h); rewritten words live in <keep>.
/// Returns the largest mbuf data room those ports' RX queues need (0: none).
uint32_t af_packet_frames_for(std::vector<char*>& eal, std::deque<std::string>& keep);

/// The EAL's argv: argv[0], the command line's words after "--", then what
/// the configuration adds, net_af_packet vdevs given their frame geometry.
/// Owns the words it adds; argv() points into it and into the process's argv.
class EalArgv {
public:
    /// From the process's <argc>/<argv> with "--" at <sep> (argc: none) and
    /// the configuration's data plane <d>.
    EalArgv(const DataplaneSettings& d, int argc, char** argv, int sep);
    EalArgv(const EalArgv&) = delete;
    EalArgv& operator=(const EalArgv&) = delete;

    int argc() const noexcept { return int(argv_.size()); }
    char** argv() noexcept { return argv_.data(); }
    /// The largest data room net_af_packet RX queues need (0: no such port).
    uint32_t af_room() const noexcept { return af_room_; }

private:
    std::vector<std::string> config_words_;
    std::deque<std::string> af_words_;
    std::vector<char*> argv_;
    uint32_t af_room_ = 0;
};

}  // namespace sipedge::ctl
