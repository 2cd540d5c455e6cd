#pragma once
// One worker lcore: its RX/TX queue pair, L2/L3 (ARP, IPv4 checks, ICMP echo
// and destination-unreachable, UDP), the proxy core, timers and counters.
// The receive path is a chain of stages, one file each (dataplane/stage.h).
// Shared nothing: everything here is touched by the worker's core only
// (stats are read by the main thread after the worker has stopped).
//
// Links to control (WorkerLinks, all optional): the Routes snapshot behind an
// RCU-protected pointer (acquire-loaded once per loop; the loop reports an
// rte_rcu_qsbr quiescent state at its end, after which it holds no pointer
// into the snapshot); an MP/SC ring of failover::ServerEvent to control; an
// SP/SC ring of ControlMsg from control (REGISTER/OPTIONS to send, drained
// once per millisecond tick, at most ctl_burst per tick) and an MP/SC ring of
// ControlMsg to control (responses to them). A full ring counts and drops:
// the worker never blocks. Live trace (issue 7): while *trace_wanted (read
// relaxed once per burst), every SIP message the proxy receives or sends is
// copied as a TraceSample onto this worker's SP/SC trace ring; full: counted
// (trace_dropped) and lost.
//
// Ports (issue 6): the worker polls queue <queue> of every configured port
// and keeps an ARP cache and a TX batch per port. A frame belongs to the
// port its mbuf says it came in on (m->port, kept by handoff copies); it is
// checked against that port's MAC, VLAN and address (strong host: an
// address of another port is not ours there). A datagram leaves by the
// interface Ifaces::egress() picks for its destination, from that
// interface's address, tagged with its VLAN. VLAN: tags are checked and
// removed in software on receive (a frame the PMD already stripped is
// accepted by its vlan_tci) and written in software on send; packets on the
// handoff rings are already untagged.
//
// IPv4 fragments (dataplane/ipfrag.h): fragments for our address go to a
// per-core Reassembler (4096 datagrams, 2 s timeout, swept every ms); a
// completed datagram is copied into a 64 KiB buffer and takes the byte-only
// UDP path. A datagram we send that exceeds the MTU is built in a second
// 64 KiB buffer, copied into an mbuf chain and split by a Fragmenter (direct
// mbufs from the packet pool, indirect ones from a pool made at init); its
// fragments travel as one train through ARP (one parked slot holds them all).
// Memory per worker: 2 x 64 KiB buffers + the reassembly table (~1.5 MiB at
// 4096 flows) + 1023 indirect mbufs (~150 KiB).
//
// Several workers (issue 6; WorkerLinks::handoff set): each drains its own
// handoff ring once per loop. A SIP response whose top Via branch names
// another worker (response_owner(), dataplane/handoff.h) is pushed to that
// worker's ring right after UDP parsing, on the mbuf. IPv4 fragments are
// reassembled by the worker fragment_owner() names for their addresses
// (the others push them there: RSS may hash the first fragment, which has
// the UDP ports, elsewhere than the rest); a SIP response reassembled for
// another worker's transaction is copied into a chained mbuf and pushed to
// that worker whole (a reassembled datagram is pushed at most once: its
// owner handles it). Other packets taken from a ring are never pushed
// again. ARP: a worker that receives an ARP packet with a sender address
// hands a copy to every other worker, which only learns from it (releasing
// what waits for that address) and never answers it, so a worker waiting
// for a reply that RSS put on another queue still gets it.
//
// Operations (issue 12): UDP checksums per port (PortConfig::rx_csum,
// stage_sip.cc); busy/idle TSC cycles of the loop (WorkerStats block at its
// end); running()/has_routes() for `show ready`.

#include <atomic>
#include <cstdint>

#include "dataplane/arp_cache.h"
#include "dataplane/handoff.h"
#include "dataplane/iface.h"
#include "dataplane/inet.h"
#include "dataplane/ipfrag.h"
#include "dataplane/overload.h"
#include "dataplane/proxy.h"
#include "dataplane/proxy_types.h"
#include "dataplane/stage.h"
#include "dataplane/stats_types.h"
#include "dataplane/tsc.h"

struct rte_mbuf;
struct rte_mempool;
namespace sipedge::stream {
class Channel;
}
struct rte_ring;
struct rte_rcu_qsbr;

namespace sipedge::dp {

/// One port the worker polls (its queue <WorkerConfig::queue>): one of our
/// interfaces (dataplane/iface.h), index = position in WorkerConfig::ports.
struct PortConfig {
    uint16_t port_id = 0;
    uint32_t ip = 0;           // our address on it, host order
    uint8_t prefix = 24;
    uint32_t gateway = 0;      // off-link next hop; 0 = on-link destinations only
    uint16_t vlan = 0;         // 802.1Q VLAN id (1-4094) of every frame; 0 = untagged
    MacAddr mac;               // the port's MAC address
    uint16_t mtu = 1500;       // IPv4 bytes per frame; larger datagrams are fragmented
    // Received UDP checksums (dataplane/inet.h RxCsum; sipedge picks it from
    // the port's driver). Whatever the mode, a datagram the PMD flagged
    // RTE_MBUF_F_RX_L4_CKSUM_GOOD or _NONE is not summed again (NONE: counted
    // as partial); _BAD and _UNKNOWN take the mode's software check.
    RxCsum rx_csum = RxCsum::verify;
    // Issue 14: the kernel's side of this interface (a net_tap port holding
    // our address, its MAC ours; docs/stream.md "Exception path"): TCP for
    // our address and ARP replies to us are written there, and what the
    // kernel sends there (IPv4 from our address, ARP) leaves by this port.
    // The worker uses queue WorkerConfig::queue on it too. none: no such path
    // (TCP is dropped, ipv4_proto).
    static constexpr uint16_t none = 0xffff;
    uint16_t exception_port = none;
};

struct WorkerConfig {
    PortConfig ports[Ifaces::max];
    uint8_t nports = 1;
    uint16_t queue = 0;        // the RX/TX queue on every port
    uint8_t core = 0;          // worker index (written into branches)
    uint16_t sip_port = 5060;  // our UDP port for SIP (every interface)
    bool rx_udp_csum = true;   // false: no port verifies UDP checksums (RxCsum::off everywhere)
    bool overload_shed = true; // drop INVITEs unparsed while behind (issue 16, docs/capacity.md)
    uint32_t bench_spin_ns = 0;// benchmarks only: spin this long per SIP datagram handed to the
                               //   proxy, a slower core on a small machine (loadgen.sh EDGE_SPIN_NS)
    uint64_t run_ms = 0;       // stop after this long; 0 = until stopped
};

struct WorkerLinks {
    const std::atomic<const Routes*>* routes = nullptr;  // control's published snapshot
    rte_rcu_qsbr* rcu = nullptr;   // QSBR variable the snapshot's reclamation waits on
    uint32_t rcu_id = 0;           // this worker's thread id in <rcu> (registered by control)
    rte_ring* events = nullptr;    // → control: failover::ServerEvent (MP enqueue, SC dequeue)
    rte_ring* ctl_tx = nullptr;    // ← control: ControlMsg to send (SP/SC)
    rte_ring* ctl_rx = nullptr;    // → control: ControlMsg received (MP/SC)
    uint64_t tsc0 = 0;             // clock base shared with control (0: our own start)
    Handoff* handoff = nullptr;    // cross-core rings, one per worker (nullptr: one worker)
    rte_ring* trace = nullptr;     // → control: TraceSample (SP/SC, this worker's own ring)
    const std::atomic<bool>* trace_wanted = nullptr;  // control: someone traces (relaxed, per burst)
    // Issue 14: this worker's channel with the stream thread (SIP over
    // TCP/TLS, stage_stream.cc); nullptr: none (a message for a TCP/TLS
    // destination is dropped, stream_off).
    stream::Channel* stream = nullptr;
};

class Worker final : public PacketSink {
public:
    static constexpr uint16_t burst = 32;
    static constexpr uint16_t ctl_burst = 16;
    static constexpr uint16_t max_frags = 48;  // 64 KiB at MTU 1500 is 45 fragments
    static constexpr size_t dgram_cap = 65536;

    Worker() noexcept = default;
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    /// Start-up: sizes the proxy from <pcfg>. False when memory is short.
    bool init(const WorkerConfig& cfg, const ProxyConfig& pcfg, rte_mempool* pool,
              const WorkerLinks& links = {}) noexcept;
    /// The worker loop; returns when <stop> is set or the run time is over.
    void run(const std::atomic<bool>& stop) noexcept;

    const WorkerStats& stats() const noexcept { return stats_; }
    /// True from the end of the loop's first iteration until run() returns;
    /// any thread (acquire: pairs with the loop's release store).
    bool running() const noexcept { return running_.load(std::memory_order_acquire); }
    /// True once the loop has loaded a non-null routing snapshot; any thread.
    bool has_routes() const noexcept { return has_routes_.load(std::memory_order_acquire); }
    /// The first datagram accepted with a partial UDP checksum on port <f>
    /// (WorkerConfig::ports index): its source, and whether the PMD flagged
    /// it (RTE_MBUF_F_RX_L4_CKSUM_NONE) rather than the recogniser finding
    /// it. False while none was. Any thread (relaxed: a report, not a handshake).
    bool first_partial(uint8_t f, Endpoint& from, bool& flagged) const noexcept;
    uint32_t active_slots() const noexcept { return proxy_.active_slots(); }
    const ReassemblyStats& reassembly_stats() const noexcept { return frag_.stats(); }

    // PacketSink: the proxy's actions, carried out after each call into it.
    void send_sip(Endpoint to, const char* data, size_t len, const SendNote* note) noexcept override;
    void report(const failover::ServerEvent& ev) noexcept override;
    void to_control(Endpoint from, const char* data, size_t len) noexcept override;
    void control_unreachable(Endpoint to, const char* branch, size_t len) noexcept override;
    void trace(const TraceSample& s) noexcept override;

private:
    friend class WorkerStageTest;  // tests/dataplane/worker_stage_test.cc: the stages as a table
    void read_clock() noexcept;  // now_ and the proxy's µs clock
    /// What the last call into the proxy decided (its outbox), onto the TX
    /// batches, the stream channel and control's rings.
    void carry_out() noexcept { dispatch(proxy_.outbox(), *this); }
    // Receive: one frame through the stages (dataplane/stage.h; a file each).
    void handle(rte_mbuf* m, bool from_ring) noexcept;  // worker.cc: acts on the verdict
    StageOut eth_in(Pkt& p) noexcept;                    // stage_eth.cc
    StageOut arp_in(Pkt& p) noexcept;                    // stage_arp.cc
    void share_arp(rte_mbuf* m) noexcept;                // stage_arp.cc
    StageOut ipv4_in(Pkt& p) noexcept;                   // stage_ipv4.cc
    StageOut frag_in(Pkt& p) noexcept;                   // stage_frag.cc
    StageOut chained_in(Pkt& p) noexcept;                // stage_frag.cc
    StageOut dgram_in(Pkt& p, size_t n, bool reassembled_here) noexcept;  // stage_frag.cc
    StageOut icmp_in(Pkt& p) noexcept;                   // stage_icmp.cc
    StageOut sip_in(Pkt& p) noexcept;                    // stage_sip.cc: UDP, the proxy
    StageOut to_kernel(Pkt& p) noexcept;                 // stage_exception.cc: TCP to the tap
    void copy_to_kernel(const Pkt& p) noexcept;          // stage_exception.cc: an ARP reply's copy
    void from_kernel(uint8_t f, rte_mbuf* m) noexcept;   // stage_exception.cc: the kernel's frame out
    uint32_t stream_in() noexcept;                       // stage_stream.cc: TCP/TLS messages in
    void send_stream(Endpoint to, const char* data, size_t len, const SendNote* note) noexcept;  // stage_stream.cc
    // Send (worker_tx.cc; send_arp_request: stage_arp.cc).
    void send_fragmented(uint8_t f, uint32_t nh, Endpoint to, const char* data,
                         size_t len) noexcept;
    void enqueue_train(rte_mbuf* m, const MacAddr& dst, uint8_t f) noexcept;
    void drop_train(rte_mbuf* m, DropReason r) noexcept;
    void send_arp_request(uint8_t f, uint32_t ip) noexcept;
    void prime_next_hops() noexcept;                     // stage_arp.cc
    void route_out(rte_mbuf* m, uint8_t f, uint32_t nh, bool train = false) noexcept;
    void enqueue(rte_mbuf* m, const MacAddr& dst, uint8_t f) noexcept;
    void enqueue_frame(rte_mbuf* m, uint8_t f) noexcept;  // MACs already in place
    void release_parked(const ArpCache::Parked& parked, const MacAddr& mac, uint8_t f) noexcept;
    int port_index(uint16_t port_id) const noexcept;
    void drop(rte_mbuf* m, DropReason r) noexcept;
    void flush() noexcept;
    uint16_t drain_control() noexcept;  // requests sent
    void note_partial(uint8_t f, uint32_t src, uint16_t sport, bool flagged) noexcept;
    void push_control(Endpoint peer, ControlMsg::Kind kind, const char* data, size_t len) noexcept;

    WorkerConfig cfg_{};
    WorkerLinks links_{};
    rte_mempool* pool_ = nullptr;
    WorkerStats stats_;
    Ifaces ifs_;                      // cfg_.ports as interfaces (egress choice)
    ArpCache arp_[Ifaces::max];       // one per port
    const Routes* routes_now_ = nullptr;  // the snapshot loaded this iteration (prime_next_hops)
    uint64_t primed_version_ = ~0ull;     // the snapshot whose carriers prime_next_hops() walks
    uint32_t prime_next_ = 0;             //   and the next index in its carriers[]
    Proxy proxy_;
    uint64_t tsc_hz_ = 1;
    TscToUs to_us_{1000000};           // tsc_hz_ once init() ran
    uint64_t tsc0_ = 0;
    uint64_t now_ = 0;
    // Overload shedding (issue 16): shed_ is behind_'s verdict at the last
    // millisecond tick (dataplane/overload.h).
    BehindDetector behind_;
    bool shed_ = false;
    uint16_t ip_id_ = 0;
    uint16_t ntx_[Ifaces::max] = {};
    rte_mbuf* tx_[Ifaces::max][burst * 4];
    ControlMsg msg_;  // staging for the control rings (too big for the stack of a hot call)
    Reassembler frag_;
    Fragmenter fragmenter_{nullptr, nullptr};
    rte_mempool* indirect_ = nullptr;  // data room 0: fragments' references to a datagram
    int train_off_ = -1;               // mbuf dynfield: next packet of a fragment train
    int hops_off_ = -1;                // mbuf dynfield: workers a passed-on CANCEL has visited
    char rx_dgram_[dgram_cap];         // a reassembled frame, contiguous (proxy input)
    uint8_t tx_dgram_[dgram_cap];      // a frame over the MTU, before fragmenting
    // Written by this worker only, read by control (readiness, the partial-
    // checksum log line): see running(), has_routes(), first_partial().
    std::atomic<bool> running_{false};
    std::atomic<bool> has_routes_{false};
    std::atomic<uint64_t> first_partial_[Ifaces::max] = {};  // 0: none; else 1<<63 | flagged<<48 | ip<<16 | port
};

}  // namespace sipedge::dp
