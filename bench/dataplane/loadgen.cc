// sipedge-loadgen: drives sipedge over a kernel-free link (net_memif, its
// client side) and plays both ends of every call through it: callers on the
// access side (INVITE → 100/180/200 → ACK → BYE → 200) and the carrier UAS
// sipedge forwards to (100/180/200 to INVITE, 200 to BYE). It answers ARP for
// its addresses, resolves sipedge's MAC by ARP, writes correct IPv4/UDP
// checksums and checks the ones it receives. Bounded: a number of calls, an
// optional rate, a window of concurrent calls and a maximum duration.
//
//   sipedge-loadgen --edge 198.18.0.1 --uas 198.18.0.200 --caller 198.18.0.10
//       [--callers N] --calls N [--rate CPS] [--window N] [--duration S]
//       [--timeout-ms MS] [--no-uas-100] [--port-id N] [--mbufs N] [--linger S]
//       [--queues N] [--link-wait S]
//       -- <EAL args: --vdev=net_memif0,role=client,socket=...,mac=...>
//
// --queues N: N queue pairs on the port and N generators, one per EAL lcore
// (give N lcores: -l / --lcores), for an edge with N workers (memif pairs
// queue q of one side with queue q of the other, so each generator's calls
// stay with one worker). Each generator plays its own callers (--callers of
// them, from --caller + q * callers) and the UAS, with its share of --calls,
// --window and --rate; its Call-IDs are its own. One report for the run.
//
// --link-wait S: how long to wait for the memif link (default 10 s); the
// line "port N started" on stderr says the port (a memif server's listening
// socket) is ready for the peer to connect.
//
// --linger S: after the report, stop polling the port and keep it open until
// its link goes down (the edge stopped), a signal, or S seconds. DPDK 22.11's
// memif unmaps the shared rings from its interrupt thread when the peer
// disconnects, with no wait for the data path: a process still polling them
// can crash. So the driver stops sipedge first, while nothing polls here.
//
// Prints one JSON object on stdout (counters, rates, latency percentiles)
// and a summary line on stderr. Exit: 0 every call completed, 1 some failed
// or timed out, 2 usage, 3 link/ARP set-up failed, 4 EAL or port failed.
// A benchmark tool, not the data plane: it may print and use the heap at
// start-up; its loop neither allocates nor blocks.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "bench/dataplane/loadgen_hist.h"
#include "bench/dataplane/loadgen_sip.h"
#include "dataplane/inet.h"

namespace {

using namespace sipedge;
using bench::Addr;
using bench::CallRef;
using bench::LogHistogram;
using bench::SipMethod;
using bench::SipScan;

std::atomic<bool> g_stop{false};
std::atomic<bool> g_abort{false};  // another generator's set-up failed (g_stop: a signal)
void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

struct Options {
    Addr edge, uas, caller;
    uint32_t callers = 1;
    uint64_t calls = 1000;
    double rate = 0;        // calls/s; 0 = as fast as the window allows
    uint32_t window = 512;  // concurrent calls
    double duration_s = 60;
    uint32_t timeout_ms = 8000;  // per transaction
    bool uas_100 = true;
    uint16_t port_id = 0;
    uint32_t mbufs = 16383;
    double linger_s = 0;  // see --linger above
    uint16_t queues = 1;  // see --queues above
    double link_wait_s = 10;  // see --link-wait above
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "loadgen: %s\n"
                 "usage: loadgen --edge IP[:PORT] --uas IP[:PORT] --caller IP [--callers N]\n"
                 "               --calls N [--rate CPS] [--window N] [--duration S]\n"
                 "               [--timeout-ms MS] [--no-uas-100] [--port-id N] [--mbufs N]\n"
                 "               [--linger S] [--queues N] [--link-wait S]\n"
                 "               -- EAL-ARGS...\n",
                 why);
    std::exit(2);
}

bool parse_u64(std::string_view s, uint64_t lo, uint64_t hi, uint64_t& out) {
    if (s.empty() || s.size() > 19) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + uint64_t(c - '0');
    }
    if (v < lo || v > hi) return false;
    out = v;
    return true;
}

bool parse_addr(std::string_view s, Addr& a) {
    const size_t c = s.rfind(':');
    uint64_t port = 5060;
    if (c != std::string_view::npos && !parse_u64(s.substr(c + 1), 1, 65535, port)) return false;
    a.port = uint16_t(port);
    return dp::parse_ipv4(s.substr(0, c), a.ip);
}

int parse_args(int argc, char** argv, Options& o) {
    int i = 1;
    for (; i < argc; i++) {
        const std::string_view arg = argv[i];
        if (arg == "--") return i;
        auto val = [&]() -> std::string_view {
            if (i + 1 >= argc) usage("missing value");
            return argv[++i];
        };
        // A number of seconds (or calls/s) in [lo, hi], or (lo, hi] when <open>.
        auto real = [&](double lo, bool open, double hi, const char* why) {
            const double v = std::atof(std::string(val()).c_str());
            if (!(open ? v > lo : v >= lo) || v > hi) usage(why);
            return v;
        };
        uint64_t u = 0;
        if (arg == "--edge") {
            if (!parse_addr(val(), o.edge)) usage("bad --edge");
        } else if (arg == "--uas") {
            if (!parse_addr(val(), o.uas)) usage("bad --uas");
        } else if (arg == "--caller") {
            if (!parse_addr(val(), o.caller)) usage("bad --caller");
        } else if (arg == "--callers") {
            if (!parse_u64(val(), 1, 64, u)) usage("--callers: 1-64");
            o.callers = uint32_t(u);
        } else if (arg == "--calls") {
            if (!parse_u64(val(), 1, 100000000, u)) usage("--calls: 1-100000000");
            o.calls = u;
        } else if (arg == "--rate") {
            o.rate = real(0, false, 10e6, "--rate: 0 (max) to 10000000 calls/s");
        } else if (arg == "--window") {
            if (!parse_u64(val(), 1, 65536, u)) usage("--window: 1-65536");
            o.window = uint32_t(u);
        } else if (arg == "--duration") {
            o.duration_s = real(0, true, 86400, "--duration: (0, 86400] s");
        } else if (arg == "--timeout-ms") {
            if (!parse_u64(val(), 100, 600000, u)) usage("--timeout-ms: 100-600000");
            o.timeout_ms = uint32_t(u);
        } else if (arg == "--no-uas-100") {
            o.uas_100 = false;
        } else if (arg == "--port-id") {
            if (!parse_u64(val(), 0, 1023, u)) usage("bad --port-id");
            o.port_id = uint16_t(u);
        } else if (arg == "--mbufs") {
            if (!parse_u64(val(), 1023, 1u << 22, u)) usage("bad --mbufs");
            o.mbufs = uint32_t(u);
        } else if (arg == "--linger") {
            o.linger_s = real(0, false, 3600, "--linger: 0-3600 s");
        } else if (arg == "--link-wait") {
            o.link_wait_s = real(0, true, 3600, "--link-wait: (0, 3600] s");
        } else if (arg == "--queues") {
            if (!parse_u64(val(), 1, 16, u)) usage("--queues: 1-16");
            o.queues = uint16_t(u);
        } else if (arg == "-h" || arg == "--help") {
            usage("help");
        } else {
            usage("unknown option (EAL options go after --)");
        }
    }
    return i;
}

enum class CallState : uint8_t { idle, inviting, bye_sent };

// One call in the window. The caller side and the UAS side of the same call
// share it: the UAS finds it from the Call-ID, which names slot and seq.
struct Call {
    uint32_t seq = 0;
    CallState state = CallState::idle;
    uint8_t caller = 0;
    bool provisional = false;  // a 1xx came back: INVITE retransmissions stop
    bool got_180 = false;
    bool uas_invite = false, uas_ack = false, uas_bye = false;
    uint8_t to_tag_len = 0, route_len = 0;
    uint32_t retx_ms = 0;       // current retransmission interval
    uint64_t start_tsc = 0;     // first INVITE out
    uint64_t txn_tsc = 0;       // first transmission of the current request
    uint64_t req_tsc = 0;       // last transmission of the current request (INVITE/BYE)
    uint64_t ack_tsc = 0;
    uint64_t next_retx_tsc = 0, deadline_tsc = 0;
    uint64_t uas_180_tsc = 0, uas_200_tsc = 0, uas_bye200_tsc = 0;
    char to_tag[24];
    char route[64];
};

struct Counters {
    uint64_t started = 0, completed = 0, failed = 0, timeout = 0, unfinished = 0;
    uint64_t invite_ok = 0, invite_failed = 0, invite_timeout = 0;
    uint64_t ack_ok = 0, ack_lost = 0;
    uint64_t bye_ok = 0, bye_failed = 0, bye_timeout = 0;
    uint64_t fail_408 = 0, fail_503 = 0, fail_other = 0;
    uint64_t sip_tx = 0, sip_rx = 0, relayed_rx = 0, trying_rx = 0, retrans_tx = 0;
    uint64_t uas_retrans_rx = 0, stale = 0, unexpected = 0, no_record_route = 0;
    uint64_t edge_requests = 0;  // OPTIONS/REGISTER the edge itself sent to our UAS
    uint64_t arp_rx = 0, arp_tx = 0;
    uint64_t drop_csum = 0, drop_malformed = 0, drop_not_for_us = 0, drop_sip = 0;
    uint64_t tx_full = 0, mbuf_exhausted = 0;
};

class LoadGen {
public:
    /// <o> is this generator's share (calls, window, rate, first caller);
    /// it sends and receives on <queue>, its Call-IDs start at <seq_base>.
    bool init(const Options& o, rte_mempool* pool, const dp::MacAddr& mac, uint16_t queue,
              uint32_t seq_base);
    int setup_link(double wait_s);
    void run();
    /// The others' counters and latencies into this one (after run()).
    void merge(const LoadGen& o);
    void report(FILE* f, const Options& run) const;
    bool all_ok() const { return c_.completed == o_.calls; }

private:
    static constexpr uint16_t burst = 32;
    static constexpr uint16_t txq_cap = 1024;
    static constexpr size_t hdr_len = dp::eth_hdr_len + dp::ipv4_hdr_len + dp::udp_hdr_len;

    uint64_t ms_to_tsc(uint64_t ms) const { return ms * hz_ / 1000; }
    uint64_t ns(uint64_t tsc_delta) const { return uint64_t(double(tsc_delta) * ns_per_tsc_); }
    bench::CallAddrs addrs(const Call& c) const {
        return {Addr{o_.caller.ip + c.caller, o_.caller.port}, o_.edge, o_.uas};
    }
    bool ours(uint32_t ip, int& who) const;

    void poll_rx();
    void handle(rte_mbuf* m);
    void handle_arp(const uint8_t* l3, size_t len);
    void handle_udp(uint32_t src, int who, const char* d, size_t n);
    void caller_rx(const char* d, size_t n);
    void uas_rx(const char* d, size_t n);
    void start_call();
    void send_invite(uint32_t slot);
    void send_in_dialog(uint32_t slot, bool ack);
    enum class Outcome : uint8_t { completed, failed, timeout };
    void finish(uint32_t slot, Outcome how);
    void timers();
    void send_arp(uint16_t op, uint32_t spa, const dp::MacAddr& tha, uint32_t tpa);
    char* tx_begin(rte_mbuf*& m);
    void tx_commit(rte_mbuf* m, uint32_t src, size_t payload);
    void flush();
    Call* lookup(std::string_view call_id, CallRef& ref);

    Options o_;
    uint16_t queue_ = 0;
    uint32_t seq_base_ = 0;
    rte_mempool* pool_ = nullptr;
    dp::MacAddr mac_{};
    dp::MacAddr edge_mac_{};
    bool edge_known_ = false;
    uint64_t hz_ = 1;
    double ns_per_tsc_ = 1;
    uint64_t now_ = 0;
    uint16_t ip_id_ = 0;
    std::vector<Call> calls_;
    std::vector<uint32_t> free_;
    uint32_t active_ = 0;
    uint64_t t_first_ = 0, t_last_ = 0;
    rte_mbuf* txq_[txq_cap];
    uint16_t ntx_ = 0;
    Counters c_;
    LogHistogram req_relay_, rsp_relay_, invite_rtt_, bye_rtt_, call_time_;
};

bool LoadGen::init(const Options& o, rte_mempool* pool, const dp::MacAddr& mac, uint16_t queue,
                   uint32_t seq_base) {
    o_ = o;
    queue_ = queue;
    seq_base_ = seq_base;
    pool_ = pool;
    mac_ = mac;
    hz_ = rte_get_tsc_hz();
    ns_per_tsc_ = 1e9 / double(hz_);
    calls_.resize(o.window);
    free_.resize(o.window);
    for (uint32_t i = 0; i < o.window; i++) free_[i] = o.window - 1 - i;
    return true;
}

bool LoadGen::ours(uint32_t ip, int& who) const {
    if (ip == o_.uas.ip) {
        who = -1;
        return true;
    }
    if (ip >= o_.caller.ip && ip - o_.caller.ip < o_.callers) {
        who = int(ip - o_.caller.ip);
        return true;
    }
    return false;
}

// Waits (bounded) for the memif link, then ARPs the edge from every one of our
// addresses, so that the edge both answers (its MAC) and learns each of ours
// (RFC 826: a request aimed at it creates the entry). 0, or the exit code.
int LoadGen::setup_link(double wait_s) {
    const uint64_t t0 = rte_rdtsc();
    const uint64_t limit = uint64_t(wait_s * double(hz_));
    rte_eth_link link;
    for (;;) {
        std::memset(&link, 0, sizeof(link));
        rte_eth_link_get_nowait(o_.port_id, &link);
        if (link.link_status == RTE_ETH_LINK_UP) break;
        if (rte_rdtsc() - t0 > limit || g_stop.load(std::memory_order_relaxed) || g_abort.load()) {
            std::fprintf(stderr, "loadgen: link on port %u did not come up in %.1f s\n",
                         o_.port_id, wait_s);
            return 3;
        }
        rte_delay_us_sleep(10000);
    }
    dp::MacAddr none{};
    uint64_t next = 0;
    int rounds_after = 0;
    while (rounds_after < 2) {
        now_ = rte_rdtsc();
        if (now_ - t0 > 2 * limit || g_stop.load(std::memory_order_relaxed) || g_abort.load()) {
            std::fprintf(stderr, "loadgen: edge did not answer ARP\n");
            return 3;
        }
        if (now_ >= next) {
            if (edge_known_) rounds_after++;
            send_arp(1, o_.uas.ip, none, o_.edge.ip);
            for (uint32_t i = 0; i < o_.callers; i++) send_arp(1, o_.caller.ip + i, none, o_.edge.ip);
            flush();
            next = now_ + ms_to_tsc(100);
        }
        poll_rx();
        flush();
    }
    return 0;
}

void LoadGen::poll_rx() {
    rte_mbuf* pkts[burst];
    const uint16_t n = rte_eth_rx_burst(o_.port_id, queue_, pkts, burst);
    if (n) now_ = rte_rdtsc();
    for (uint16_t i = 0; i < n; i++) {
        handle(pkts[i]);
        rte_pktmbuf_free(pkts[i]);
    }
}

// Everything the generator receives is for one of its addresses; the rest is
// counted and dropped (the caller frees the mbuf).
void LoadGen::handle(rte_mbuf* m) {
    if (m->nb_segs != 1 || rte_pktmbuf_data_len(m) < dp::eth_hdr_len) {
        c_.drop_malformed++;
        return;
    }
    const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
    const size_t len = rte_pktmbuf_data_len(m);
    dp::EthHdr eth;
    std::memcpy(&eth, p, sizeof(eth));
    if (!(eth.dst == mac_) && !eth.dst.is_broadcast()) {
        c_.drop_not_for_us++;
        return;
    }
    const uint16_t type = dp::be16(eth.type);
    const uint8_t* l3 = p + dp::eth_hdr_len;
    const size_t l3len = len - dp::eth_hdr_len;
    if (type == dp::ethertype_arp) {
        handle_arp(l3, l3len);
        return;
    }
    if (type != dp::ethertype_ipv4) {
        c_.drop_malformed++;
        return;
    }
    size_t ihl = 0, tot = 0;
    if (dp::ipv4_check(l3, l3len, ihl, tot) != dp::Ipv4Check::ok) {
        c_.drop_malformed++;
        return;
    }
    dp::Ipv4Hdr ip;
    std::memcpy(&ip, l3, sizeof(ip));
    const uint32_t src = dp::be32(ip.src), dst = dp::be32(ip.dst);
    int who = 0;
    if (!ours(dst, who) || ip.proto != dp::ipproto_udp) {
        c_.drop_not_for_us++;
        return;
    }
    size_t plen = 0;
    switch (dp::udp_check(src, dst, l3 + ihl, tot - ihl, plen)) {
    case dp::UdpCheck::ok: break;
    case dp::UdpCheck::bad_csum: c_.drop_csum++; return;
    case dp::UdpCheck::malformed: c_.drop_malformed++; return;
    }
    handle_udp(src, who, reinterpret_cast<const char*>(l3 + ihl + dp::udp_hdr_len), plen);
}

void LoadGen::handle_arp(const uint8_t* l3, size_t len) {
    dp::ArpPkt a;
    if (len < dp::arp_pkt_len) {
        c_.drop_malformed++;
        return;
    }
    std::memcpy(&a, l3, sizeof(a));
    c_.arp_rx++;
    const uint16_t op = dp::be16(a.op);
    const uint32_t spa = dp::be32(a.spa), tpa = dp::be32(a.tpa);
    if (spa == o_.edge.ip) {
        edge_mac_ = a.sha;
        edge_known_ = true;
    }
    int who = 0;
    if (op == 1 && ours(tpa, who)) send_arp(2, tpa, a.sha, spa);
}

// A checksummed UDP datagram from <src> to our address <who> (-1: the UAS,
// else the caller index). Only the edge talks to us.
void LoadGen::handle_udp(uint32_t src, int who, const char* d, size_t n) {
    if (src != o_.edge.ip) {
        c_.drop_not_for_us++;
        return;
    }
    c_.sip_rx++;
    if (who < 0) uas_rx(d, n);
    else caller_rx(d, n);
}

Call* LoadGen::lookup(std::string_view call_id, CallRef& ref) {
    if (!bench::parse_call_id(call_id, ref) || ref.slot >= calls_.size()) return nullptr;
    Call& c = calls_[ref.slot];
    if (c.state == CallState::idle || c.seq != ref.seq) return nullptr;
    return &c;
}

// Responses for our callers, relayed by the edge (its own 100 Trying aside).
void LoadGen::caller_rx(const char* d, size_t n) {
    SipScan s;
    if (!bench::scan(d, n, s)) {
        c_.drop_sip++;
        return;
    }
    if (s.request) {
        c_.unexpected++;
        return;
    }
    if (s.status == 100) c_.trying_rx++;
    else c_.relayed_rx++;
    CallRef ref;
    Call* cp = lookup(s.call_id.str(d), ref);
    if (!cp) {
        c_.stale++;
        return;
    }
    Call& c = *cp;
    if (s.method == SipMethod::invite) {
        if (s.status < 200) {
            c.provisional = true;
            if (s.status == 180 && !c.got_180 && c.uas_180_tsc) {
                c.got_180 = true;
                rsp_relay_.record(ns(now_ - c.uas_180_tsc));
            }
            return;
        }
        if (c.state != CallState::inviting) {  // a 2xx retransmission: ACK it again
            if (s.status < 300 && c.to_tag_len) send_in_dialog(ref.slot, true);
            return;
        }
        if (s.status >= 300) {
            c_.invite_failed++;
            if (s.status == 408) c_.fail_408++;
            else if (s.status == 503) c_.fail_503++;
            else c_.fail_other++;
            char buf[1024];
            const size_t len = bench::build_ack_non2xx(buf, sizeof(buf), addrs(c), ref,
                                                       s.to_tag.str(d));
            rte_mbuf* m = nullptr;
            if (char* p = tx_begin(m)) {
                std::memcpy(p, buf, len);
                tx_commit(m, o_.caller.ip + c.caller, len);
            }
            finish(ref.slot, Outcome::failed);
            return;
        }
        c_.invite_ok++;
        invite_rtt_.record(ns(now_ - c.start_tsc));
        if (c.uas_200_tsc) rsp_relay_.record(ns(now_ - c.uas_200_tsc));
        const std::string_view tag = s.to_tag.str(d);
        c.to_tag_len = uint8_t(tag.size() < sizeof(c.to_tag) ? tag.size() : 0);
        std::memcpy(c.to_tag, tag.data(), c.to_tag_len);
        std::string_view rr = s.rr_value.str(d);
        if (rr.empty() || rr.size() > sizeof(c.route)) {
            c_.no_record_route++;
            rr = {};
        }
        c.route_len = uint8_t(rr.size());
        std::memcpy(c.route, rr.data(), rr.size());
        send_in_dialog(ref.slot, true);
        send_in_dialog(ref.slot, false);
        return;
    }
    if (s.method != SipMethod::bye || c.state != CallState::bye_sent) {
        c_.unexpected++;
        return;
    }
    if (s.status < 200) return;
    if (s.status >= 300) {
        c_.bye_failed++;
        finish(ref.slot, Outcome::failed);
        return;
    }
    c_.bye_ok++;
    bye_rtt_.record(ns(now_ - c.txn_tsc));
    if (c.uas_bye200_tsc) rsp_relay_.record(ns(now_ - c.uas_bye200_tsc));
    if (c.uas_ack) c_.ack_ok++;
    else c_.ack_lost++;
    call_time_.record(ns(now_ - c.start_tsc));
    finish(ref.slot, c.uas_ack ? Outcome::completed : Outcome::failed);
}

// Requests the edge forwarded to our carrier UAS. Answers are built from the
// request alone (the To tag comes from the Call-ID's seq), so a stale
// retransmission gets the same answer; latency is taken once per request.
void LoadGen::uas_rx(const char* d, size_t n) {
    SipScan s;
    if (!bench::scan(d, n, s)) {
        c_.drop_sip++;
        return;
    }
    if (!s.request) {
        c_.unexpected++;
        return;
    }
    CallRef ref;
    Call* c = nullptr;
    if (s.method == SipMethod::options || s.method == SipMethod::register_) {
        ref = CallRef{0, 0};  // the edge's own: answered below, not counted as relayed
    } else {
        c_.relayed_rx++;
        c = lookup(s.call_id.str(d), ref);
        if (!c) {
            c_.stale++;
            if (!bench::parse_call_id(s.call_id.str(d), ref)) return;
        }
    }
    auto respond = [&](uint16_t status, std::string_view reason, bool sdp) -> uint64_t {
        rte_mbuf* m = nullptr;
        char* p = tx_begin(m);
        if (!p) return 0;
        const size_t len = bench::build_response(p, RTE_MBUF_DEFAULT_DATAROOM - hdr_len, d, s,
                                                  status, reason, o_.uas, ref.seq, sdp);
        if (len == 0) {
            rte_pktmbuf_free(m);
            c_.drop_sip++;
            return 0;
        }
        tx_commit(m, o_.uas.ip, len);
        return now_;
    };
    switch (s.method) {
    case SipMethod::invite:
        if (c && !c->uas_invite) {
            c->uas_invite = true;
            req_relay_.record(ns(now_ - c->req_tsc));
            if (o_.uas_100) respond(100, "Trying", false);
            c->uas_180_tsc = respond(180, "Ringing", false);
            c->uas_200_tsc = respond(200, "OK", true);
        } else {
            c_.uas_retrans_rx++;
            respond(200, "OK", true);
        }
        break;
    case SipMethod::ack:
        if (c && !c->uas_ack) {
            c->uas_ack = true;
            req_relay_.record(ns(now_ - c->ack_tsc));
        }
        break;
    case SipMethod::bye:
        if (c && !c->uas_bye) {
            c->uas_bye = true;
            req_relay_.record(ns(now_ - c->req_tsc));
            c->uas_bye200_tsc = respond(200, "OK", false);
        } else {
            c_.uas_retrans_rx++;
            respond(200, "OK", false);
        }
        break;
    case SipMethod::options:   // the edge's server monitor, should it be on
    case SipMethod::register_: // or a registration: accepted, not part of the calls
        c_.edge_requests++;
        respond(200, "OK", false);
        break;
    case SipMethod::other: c_.unexpected++; respond(501, "Not Implemented", false); break;
    }
}

void LoadGen::start_call() {
    const uint32_t slot = free_.back();
    free_.pop_back();
    Call& c = calls_[slot];
    const uint32_t seq = seq_base_ + uint32_t(c_.started++);
    c = Call{};
    c.seq = seq;
    c.caller = uint8_t(seq % o_.callers);
    c.state = CallState::inviting;
    c.start_tsc = c.txn_tsc = now_;
    c.retx_ms = 500;  // RFC 3261 T1
    c.next_retx_tsc = now_ + ms_to_tsc(c.retx_ms);
    c.deadline_tsc = now_ + ms_to_tsc(o_.timeout_ms);
    active_++;
    if (t_first_ == 0) t_first_ = now_;
    send_invite(slot);
}

void LoadGen::send_invite(uint32_t slot) {
    Call& c = calls_[slot];
    rte_mbuf* m = nullptr;
    char* p = tx_begin(m);
    if (!p) return;  // counted; the retransmission timer tries again
    const size_t len = bench::build_invite(p, RTE_MBUF_DEFAULT_DATAROOM - hdr_len, addrs(c),
                                           CallRef{slot, c.seq});
    c.req_tsc = now_;
    tx_commit(m, o_.caller.ip + c.caller, len);
}

// ACK (<ack>) or BYE for the call in <slot>, inside the dialog of its 2xx.
void LoadGen::send_in_dialog(uint32_t slot, bool ack) {
    Call& c = calls_[slot];
    rte_mbuf* m = nullptr;
    char* p = tx_begin(m);
    if (!ack && c.state != CallState::bye_sent) {
        c.state = CallState::bye_sent;
        c.txn_tsc = now_;
        c.retx_ms = 500;
        c.next_retx_tsc = now_ + ms_to_tsc(c.retx_ms);
        c.deadline_tsc = now_ + ms_to_tsc(o_.timeout_ms);
    }
    if (!p) return;
    const size_t len = bench::build_in_dialog(
        p, RTE_MBUF_DEFAULT_DATAROOM - hdr_len, addrs(c), CallRef{slot, c.seq}, ack,
        {c.route, c.route_len}, {c.to_tag, c.to_tag_len});
    if (ack) c.ack_tsc = now_;
    else c.req_tsc = now_;
    tx_commit(m, o_.caller.ip + c.caller, len);
}

void LoadGen::finish(uint32_t slot, Outcome how) {
    Call& c = calls_[slot];
    c.state = CallState::idle;
    free_.push_back(slot);
    active_--;
    switch (how) {
    case Outcome::completed: c_.completed++; break;
    case Outcome::failed: c_.failed++; break;
    case Outcome::timeout: c_.timeout++; break;
    }
    t_last_ = now_;
}

// Once per millisecond: retransmissions (Timer A/E style: T1 doubling to T2
// = 4 s; INVITE only until a provisional response) and transaction timeouts.
void LoadGen::timers() {
    for (uint32_t i = 0; i < calls_.size(); i++) {
        Call& c = calls_[i];
        if (c.state == CallState::idle) continue;
        if (now_ >= c.deadline_tsc) {
            if (c.state == CallState::inviting) c_.invite_timeout++;
            else c_.bye_timeout++;
            finish(i, Outcome::timeout);
            continue;
        }
        if (now_ < c.next_retx_tsc) continue;
        if (c.state == CallState::inviting && c.provisional) {
            c.next_retx_tsc = c.deadline_tsc;
            continue;
        }
        c_.retrans_tx++;
        if (c.state == CallState::inviting) send_invite(i);
        else send_in_dialog(i, false);
        c.retx_ms = c.retx_ms * 2 > 4000 ? 4000 : c.retx_ms * 2;
        c.next_retx_tsc = now_ + ms_to_tsc(c.retx_ms);
    }
}

void LoadGen::run() {
    now_ = rte_rdtsc();
    const uint64_t t0 = now_;
    const uint64_t end = t0 + uint64_t(o_.duration_s * double(hz_));
    const uint64_t ms = ms_to_tsc(1);
    uint64_t next_tick = now_ + ms;
    const double per_tsc = o_.rate / double(hz_);
    while (!g_stop.load(std::memory_order_relaxed)) {
        poll_rx();
        now_ = rte_rdtsc();
        if (now_ >= next_tick) {
            next_tick = now_ + ms;
            timers();
            if (now_ >= end) break;
        }
        if (c_.started == o_.calls && active_ == 0) break;
        // Start calls while the window, the rate and the TX queue allow.
        uint64_t allowed = o_.calls;
        if (o_.rate > 0) {
            const uint64_t due = uint64_t(double(now_ - t0) * per_tsc) + 1;
            if (due < allowed) allowed = due;
        }
        for (int k = 0; k < burst && c_.started < allowed && !free_.empty() &&
                        ntx_ + 4 < txq_cap;
             k++)
            start_call();
        flush();
    }
    now_ = rte_rdtsc();
    c_.unfinished = active_;
    if (t_last_ == 0) t_last_ = now_;
    // Drain what is queued; the edge is still polling.
    for (int i = 0; i < 100 && ntx_; i++) flush();
}

void LoadGen::send_arp(uint16_t op, uint32_t spa, const dp::MacAddr& tha, uint32_t tpa) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) {
        c_.mbuf_exhausted++;
        return;
    }
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, dp::eth_hdr_len + dp::arp_pkt_len));
    dp::EthHdr eth;
    if (op == 1) std::memset(eth.dst.b, 0xff, 6);
    else eth.dst = tha;
    eth.src = mac_;
    eth.type = dp::be16(dp::ethertype_arp);
    std::memcpy(p, &eth, sizeof(eth));
    dp::ArpPkt a;
    a.htype = dp::be16(1);
    a.ptype = dp::be16(dp::ethertype_ipv4);
    a.hlen = 6;
    a.plen = 4;
    a.op = dp::be16(op);
    a.sha = mac_;
    a.spa = dp::be32(spa);
    a.tha = tha;
    a.tpa = dp::be32(tpa);
    std::memcpy(p + dp::eth_hdr_len, &a, sizeof(a));
    c_.arp_tx++;
    if (ntx_ == txq_cap) flush();
    if (ntx_ == txq_cap) {
        c_.tx_full++;
        rte_pktmbuf_free(m);
        return;
    }
    txq_[ntx_++] = m;
}

// A fresh mbuf with room for our headers; returns where the SIP text goes
// (RTE_MBUF_DEFAULT_DATAROOM - hdr_len bytes), nullptr (counted) when the
// pool or the TX queue is exhausted.
char* LoadGen::tx_begin(rte_mbuf*& m) {
    if (ntx_ == txq_cap) flush();
    if (ntx_ == txq_cap) {
        c_.tx_full++;
        return nullptr;
    }
    m = rte_pktmbuf_alloc(pool_);
    if (!m) {
        c_.mbuf_exhausted++;
        return nullptr;
    }
    return rte_pktmbuf_mtod(m, char*) + hdr_len;
}

void LoadGen::tx_commit(rte_mbuf* m, uint32_t src, size_t payload) {
    if (payload == 0 || !rte_pktmbuf_append(m, uint16_t(hdr_len + payload))) {
        c_.drop_sip++;
        rte_pktmbuf_free(m);
        return;
    }
    auto* p = rte_pktmbuf_mtod(m, uint8_t*);
    dp::EthHdr eth;
    eth.dst = edge_mac_;
    eth.src = mac_;
    eth.type = dp::be16(dp::ethertype_ipv4);
    std::memcpy(p, &eth, sizeof(eth));
    dp::build_ipv4_udp(p + dp::eth_hdr_len, src, 5060, o_.edge.ip, o_.edge.port, payload,
                       ip_id_++);
    c_.sip_tx++;
    txq_[ntx_++] = m;
}

// Hands the queue to the PMD; what it does not take stays queued, in order.
void LoadGen::flush() {
    if (ntx_ == 0) return;
    const uint16_t sent = rte_eth_tx_burst(o_.port_id, queue_, txq_, ntx_);
    if (sent < ntx_) std::memmove(txq_, txq_ + sent, (ntx_ - sent) * sizeof(txq_[0]));
    ntx_ = uint16_t(ntx_ - sent);
}

void print_hist(FILE* f, const char* name, const LogHistogram& h, bool comma) {
    std::fprintf(f,
                 "\"%s\":{\"count\":%lu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
                 "\"max\":%.1f,\"mean\":%.1f}%s",
                 name, h.count(), h.percentile(50) / 1e3, h.percentile(90) / 1e3,
                 h.percentile(99) / 1e3, h.percentile(99.9) / 1e3, double(h.max()) / 1e3,
                 h.mean() / 1e3, comma ? "," : "");
}

void LoadGen::merge(const LoadGen& o) {
    const uint64_t* a = reinterpret_cast<const uint64_t*>(&o.c_);
    uint64_t* b = reinterpret_cast<uint64_t*>(&c_);
    static_assert(sizeof(Counters) % sizeof(uint64_t) == 0);
    for (size_t i = 0; i < sizeof(Counters) / sizeof(uint64_t); i++) b[i] += a[i];
    if (o.t_first_ && (t_first_ == 0 || o.t_first_ < t_first_)) t_first_ = o.t_first_;
    if (o.t_last_ > t_last_) t_last_ = o.t_last_;
    req_relay_.merge(o.req_relay_);
    rsp_relay_.merge(o.rsp_relay_);
    invite_rtt_.merge(o.invite_rtt_);
    bye_rtt_.merge(o.bye_rtt_);
    call_time_.merge(o.call_time_);
}

// <run>: the options of the whole run (all generators), reported as given.
void LoadGen::report(FILE* f, const Options& run) const {
    const double secs = t_last_ > t_first_ ? double(t_last_ - t_first_) / double(hz_) : 0;
    const auto rate = [&](uint64_t n) { return secs > 0 ? double(n) / secs : 0.0; };
    std::fprintf(f, "{\"config\":{\"calls\":%lu,\"rate\":%.1f,\"window\":%u,\"callers\":%u,"
                    "\"timeout_ms\":%u,\"uas_100\":%s,\"queues\":%u},",
                 run.calls, run.rate, run.window, run.callers, run.timeout_ms,
                 run.uas_100 ? "true" : "false", unsigned(run.queues));
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double cpu = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    std::fprintf(f, "\"cpu_s\":%.3f,", cpu);
    std::fprintf(f, "\"window_s\":%.4f,\"calls_per_s\":%.1f,\"relayed_msgs_per_s\":%.1f,"
                    "\"sip_tx_per_s\":%.1f,",
                 secs, rate(c_.completed), rate(c_.relayed_rx), rate(c_.sip_tx));
    std::fprintf(f, "\"calls\":{\"started\":%lu,\"completed\":%lu,\"failed\":%lu,"
                    "\"timeout\":%lu,\"unfinished\":%lu},",
                 c_.started, c_.completed, c_.failed, c_.timeout, c_.unfinished);
    std::fprintf(f, "\"transactions\":{\"invite\":{\"ok\":%lu,\"failed\":%lu,\"timeout\":%lu},"
                    "\"ack\":{\"ok\":%lu,\"lost\":%lu},"
                    "\"bye\":{\"ok\":%lu,\"failed\":%lu,\"timeout\":%lu},"
                    "\"final_408\":%lu,\"final_503\":%lu,\"final_other\":%lu},",
                 c_.invite_ok, c_.invite_failed, c_.invite_timeout, c_.ack_ok, c_.ack_lost,
                 c_.bye_ok, c_.bye_failed, c_.bye_timeout, c_.fail_408, c_.fail_503,
                 c_.fail_other);
    std::fprintf(f, "\"messages\":{\"sip_tx\":%lu,\"sip_rx\":%lu,\"relayed_rx\":%lu,"
                    "\"edge_100_rx\":%lu,\"retransmissions_tx\":%lu,\"uas_retransmissions_rx\":%lu,"
                    "\"stale\":%lu,\"unexpected\":%lu,\"no_record_route\":%lu,\"arp_rx\":%lu,"
                    "\"arp_tx\":%lu,\"edge_requests_rx\":%lu},",
                 c_.sip_tx, c_.sip_rx, c_.relayed_rx, c_.trying_rx, c_.retrans_tx,
                 c_.uas_retrans_rx, c_.stale, c_.unexpected, c_.no_record_route, c_.arp_rx,
                 c_.arp_tx, c_.edge_requests);
    std::fprintf(f, "\"drops\":{\"bad_csum\":%lu,\"malformed\":%lu,\"not_for_us\":%lu,"
                    "\"sip\":%lu,\"tx_full\":%lu,\"mbuf_exhausted\":%lu},",
                 c_.drop_csum, c_.drop_malformed, c_.drop_not_for_us, c_.drop_sip, c_.tx_full,
                 c_.mbuf_exhausted);
    std::fprintf(f, "\"latency_us\":{");
    print_hist(f, "request_relay", req_relay_, true);
    print_hist(f, "response_relay", rsp_relay_, true);
    print_hist(f, "invite_to_200", invite_rtt_, true);
    print_hist(f, "bye_to_200", bye_rtt_, true);
    print_hist(f, "call", call_time_, false);
    std::fprintf(f, "}}\n");
    std::fflush(f);
    std::fprintf(stderr,
                 "loadgen: %lu/%lu calls completed (%lu failed, %lu timeout, %lu unfinished) in "
                 "%.3f s: %.0f calls/s, %.0f relayed msgs/s; relay latency p50 %.1f us, p99 "
                 "%.1f us\n",
                 c_.completed, run.calls, c_.failed, c_.timeout, c_.unfinished, secs,
                 rate(c_.completed), rate(c_.relayed_rx),
                 double(req_relay_.percentile(50)) / 1e3, double(req_relay_.percentile(99)) / 1e3);
}

bool port_up(uint16_t port, uint16_t queues, rte_mempool* pool, dp::MacAddr& mac) {
    if (!rte_eth_dev_is_valid_port(port)) {
        std::fprintf(stderr, "loadgen: no DPDK port %u (give --vdev=net_memif0,role=client,...)\n",
                     port);
        return false;
    }
    rte_eth_conf conf;
    std::memset(&conf, 0, sizeof(conf));
    int r = rte_eth_dev_configure(port, queues, queues, &conf);
    uint16_t rxd = 1024, txd = 1024;
    if (r == 0) r = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
    const int sock = rte_eth_dev_socket_id(port);
    for (uint16_t q = 0; q < queues && r == 0; q++) {
        r = rte_eth_rx_queue_setup(port, q, rxd, sock, nullptr, pool);
        if (r == 0) r = rte_eth_tx_queue_setup(port, q, txd, sock, nullptr);
    }
    if (r == 0) r = rte_eth_dev_start(port);
    rte_ether_addr a;
    if (r == 0) r = rte_eth_macaddr_get(port, &a);
    if (r != 0) {
        std::fprintf(stderr, "loadgen: port %u set-up: %s\n", port, rte_strerror(-r));
        return false;
    }
    std::memcpy(mac.b, a.addr_bytes, 6);
    return true;
}

// One generator per lcore: link and ARP set-up, then (when every generator
// has resolved the edge) the calls. The first to fail stops the others.
struct Gen {
    LoadGen* lg = nullptr;
    double link_wait_s = 10;
    int rc = 0;
};
std::atomic<uint32_t> g_resolved{0};
uint32_t g_gens = 1;

int gen_main(void* arg) {
    Gen& g = *static_cast<Gen*>(arg);
    g.rc = g.lg->setup_link(g.link_wait_s);
    if (g.rc != 0) {
        g_abort.store(true);
        return g.rc;
    }
    g_resolved.fetch_add(1);
    while (g_resolved.load() < g_gens && !g_abort.load() && !g_stop.load(std::memory_order_relaxed))
        rte_pause();
    if (g_abort.load() || g_stop.load()) return g.rc;
    // The driver samples the edge's CPU time from this line on (printed once).
    if (rte_lcore_id() == rte_get_main_lcore())
        std::fprintf(stderr, "loadgen: link up, edge resolved, starting calls\n");
    g.lg->run();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    const int sep = parse_args(argc, argv, o);
    if (!o.edge.ip || !o.uas.ip || !o.caller.ip) usage("--edge, --uas and --caller are required");
    if (o.window < o.queues) usage("--window: at least one call per queue");
    if (o.calls / o.queues >= (1u << 28)) usage("--calls: under 2^28 per queue (Call-IDs)");
    std::vector<char*> eal;
    eal.push_back(argv[0]);
    for (int i = sep + 1; i < argc; i++) eal.push_back(argv[i]);
    if (rte_eal_init(int(eal.size()), eal.data()) < 0) {
        std::fprintf(stderr, "loadgen: EAL init failed: %s\n", rte_strerror(rte_errno));
        return 4;
    }
    if (rte_lcore_count() < o.queues) {
        std::fprintf(stderr, "loadgen: --queues %u needs %u EAL lcores (-l/--lcores), %u given\n",
                     o.queues, o.queues, rte_lcore_count());
        rte_eal_cleanup();
        return 4;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    rte_mempool* pool = rte_pktmbuf_pool_create("loadgen_mbufs", o.mbufs, 256, 0,
                                                RTE_MBUF_DEFAULT_BUF_SIZE, int(rte_socket_id()));
    dp::MacAddr mac{};
    if (!pool) std::fprintf(stderr, "loadgen: mempool: %s\n", rte_strerror(rte_errno));
    if (!pool || !port_up(o.port_id, o.queues, pool, mac)) {
        rte_eal_cleanup();
        return 4;
    }
    std::fprintf(stderr, "loadgen: port %u started, waiting for the link\n", o.port_id);
    // Generator q: its callers, its share of calls, window and rate.
    std::vector<Gen> gens(o.queues);
    for (uint16_t q = 0; q < o.queues; q++) {
        Options share = o;
        share.calls = o.calls / o.queues + (q < o.calls % o.queues ? 1 : 0);
        share.window = o.window / o.queues + (q < o.window % o.queues ? 1 : 0);
        share.rate = o.rate / o.queues;
        share.caller.ip = o.caller.ip + uint32_t(q) * o.callers;
        gens[q].lg = new LoadGen();
        gens[q].link_wait_s = o.link_wait_s;
        gens[q].lg->init(share, pool, mac, q, uint32_t(q) << 28);
    }
    g_gens = o.queues;
    unsigned lcore = rte_get_main_lcore();
    for (uint16_t q = 1; q < o.queues; q++) {
        lcore = rte_get_next_lcore(lcore, 1, 0);
        rte_eal_remote_launch(gen_main, &gens[q], lcore);
    }
    gen_main(&gens[0]);
    rte_eal_mp_wait_lcore();
    int rc = 0;
    for (const Gen& g : gens)
        if (g.rc != 0 && rc == 0) rc = g.rc;
    if (rc == 0) {
        bool ok = true;  // each generator completed its share (before the merge)
        for (const Gen& g : gens) ok = ok && g.lg->all_ok();
        for (uint16_t q = 1; q < o.queues; q++) gens[0].lg->merge(*gens[q].lg);
        gens[0].lg->report(stdout, o);
        rc = ok ? 0 : 1;
    }
    if (o.linger_s > 0) {
        // Nothing polls the port from here on (see --linger above).
        std::fflush(stdout);
        std::fprintf(stderr, "loadgen: done, port kept open until the edge stops (at most %.0f s)\n",
                     o.linger_s);
        const uint64_t end = rte_rdtsc() + uint64_t(o.linger_s * double(rte_get_tsc_hz()));
        while (!g_stop.load(std::memory_order_relaxed) && rte_rdtsc() < end) {
            rte_eth_link l{};
            if (rte_eth_link_get_nowait(o.port_id, &l) == 0 && l.link_status == RTE_ETH_LINK_DOWN) {
                // The PMD's interrupt thread marks the link down first and
                // then unmaps and frees the rings of every queue; stopping
                // the port meanwhile frees them under it (a crash there, 1
                // run in 3 with two queues; none in 8 runs with this wait).
                rte_delay_us_sleep(300000);
                break;
            }
            rte_delay_us_sleep(10000);
        }
    }
    rte_eth_dev_stop(o.port_id);
    rte_eth_dev_close(o.port_id);
    for (Gen& g : gens) delete g.lg;
    rte_eal_cleanup();
    return rc;
}
