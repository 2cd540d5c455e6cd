#pragma once
// Test scaffolding for worker tests on a real EAL (tests/eal_scope.h):
// ethdevs made of rte_ring pairs (the test enqueues what the worker receives
// and dequeues what it sends) and frames in and out as bytes. Header-only;
// each test binary includes it once.

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/inet.h"
#include "dataplane/port.h"
#include "tests/eal_scope.h"

namespace sipedge::dp::test {

using Bytes = std::vector<uint8_t>;

/// One ethdev over rings: rxq[q] feeds the worker polling queue q, txq[q]
/// takes what it sends on queue q. <rx>/<tx> are queue 0's (the only ones of
/// a single-queue port).
struct RingPort {
    static constexpr uint16_t max_queues = 8;
    uint16_t port_id = 0;
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    MacAddr mac{};
    uint16_t queues = 1;
    rte_ring* rxq[max_queues] = {};
    rte_ring* txq[max_queues] = {};
};

using sipedge::test::eal_down;  // tests/eal_scope.h
using sipedge::test::eal_up;

/// A started ring port named <name> with <queues> RX/TX queue pairs (rings
/// <name>_rx/_tx for one queue, <name>_rx<q>/_tx<q> for several; 1024 each)
/// fed from <pool>.
inline bool ring_port(const char* name, rte_mempool* pool, RingPort& p, uint16_t queues = 1) {
    if (queues < 1 || queues > RingPort::max_queues) return false;
    const std::string n = name;
    for (uint16_t q = 0; q < queues; q++) {
        const std::string sfx = queues == 1 ? "" : std::to_string(q);
        p.rxq[q] = rte_ring_create((n + "_rx" + sfx).c_str(), 1024, int(rte_socket_id()),
                                   RING_F_SP_ENQ | RING_F_SC_DEQ);
        p.txq[q] = rte_ring_create((n + "_tx" + sfx).c_str(), 1024, int(rte_socket_id()),
                                   RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!p.rxq[q] || !p.txq[q]) return false;
    }
    p.rx = p.rxq[0];
    p.tx = p.txq[0];
    p.queues = queues;
    const int id = rte_eth_from_rings(name, p.rxq, queues, p.txq, queues, int(rte_socket_id()));
    if (id < 0) return false;
    PortSetup ps;
    ps.port_id = uint16_t(id);
    ps.queues = queues;
    if (!port_start(ps, pool, p.mac)) return false;
    p.port_id = uint16_t(id);
    return true;
}

/// Enqueues frame <f> for the worker on <p>, queue <q> (stamped with its
/// port id, as a PMD does).
inline bool inject(rte_mempool* pool, const RingPort& p, const Bytes& f, uint16_t q = 0) {
    if (q >= p.queues || !p.rxq[q]) return false;
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (!m) return false;
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
    m->port = p.port_id;
    if (rte_ring_enqueue(p.rxq[q], m) == 0) return true;
    rte_pktmbuf_free(m);
    return false;
}

/// Frames the worker sent on <p> within <ms> (polled every millisecond).
inline std::vector<Bytes> collect(const RingPort& p, unsigned ms) {
    std::vector<Bytes> out;
    for (unsigned i = 0; i < ms; i++) {
        void* v = nullptr;
        while (rte_ring_dequeue(p.tx, &v) == 0) {
            auto* m = static_cast<rte_mbuf*>(v);
            Bytes b(rte_pktmbuf_pkt_len(m));
            const void* d = rte_pktmbuf_read(m, 0, b.size(), b.data());  // copies when chained
            if (d != b.data()) std::memcpy(b.data(), d, b.size());
            out.push_back(std::move(b));
            rte_pktmbuf_free(m);
        }
        usleep(1000);
    }
    return out;
}

/// A frame the worker sent, with the TX queue it left on.
struct QueuedFrame {
    uint16_t queue;
    Bytes b;
};

/// Frames the worker sent on every queue of <p>: a pass over the queues every
/// millisecond for <ms>, then a last one (<ms> 0: one pass, which drains).
inline std::vector<QueuedFrame> collect_queues(const RingPort& p, unsigned ms) {
    std::vector<QueuedFrame> out;
    for (unsigned i = 0; i <= ms; i++) {
        for (uint16_t q = 0; q < p.queues; q++) {
            void* v = nullptr;
            while (rte_ring_dequeue(p.txq[q], &v) == 0) {
                auto* m = static_cast<rte_mbuf*>(v);
                Bytes b(rte_pktmbuf_pkt_len(m));
                const void* d = rte_pktmbuf_read(m, 0, b.size(), b.data());
                if (d != b.data()) std::memcpy(b.data(), d, b.size());
                out.push_back({q, std::move(b)});
                rte_pktmbuf_free(m);
            }
        }
        if (i < ms) usleep(1000);
    }
    return out;
}

/// A locally administered MAC 02:02:02:02:02:<last> (test peers).
inline MacAddr mac_of(uint8_t last) {
    MacAddr m;
    std::memset(m.b, 0x02, 6);
    m.b[5] = last;
    return m;
}

/// An ARP frame from <spa>/<sha> about <tpa>: op 1 a broadcast request, op 2
/// a reply to <to> (Ethernet destination and target hardware address).
inline Bytes arp_frame(uint16_t op, uint32_t spa, const MacAddr& sha, uint32_t tpa, const MacAddr& to) {
    Bytes f(eth_hdr_len + arp_pkt_len);
    EthHdr e{};
    if (op == 1) std::memset(e.dst.b, 0xff, 6);
    else e.dst = to;
    e.src = sha;
    e.type = be16(ethertype_arp);
    std::memcpy(f.data(), &e, sizeof(e));
    ArpPkt a{};
    a.htype = be16(1);
    a.ptype = be16(ethertype_ipv4);
    a.hlen = 6;
    a.plen = 4;
    a.op = be16(op);
    a.sha = sha;
    a.spa = be32(spa);
    if (op == 2) a.tha = to;
    a.tpa = be32(tpa);
    std::memcpy(f.data() + eth_hdr_len, &a, sizeof(a));
    return f;
}

/// The UDP datagram <payload> from <src>:5060 to <dst>:5060 as IPv4
/// fragments of at most 1480 data bytes (a sender's kernel on a 1500 MTU),
/// Ethernet from <smac> to <dmac>.
inline std::vector<Bytes> ipv4_fragments(uint32_t src, const MacAddr& smac, uint32_t dst,
                                         const MacAddr& dmac, const std::string& payload, uint16_t id) {
    const size_t ip_len = ipv4_hdr_len + udp_hdr_len + payload.size();
    Bytes whole(eth_hdr_len + ip_len);
    std::memcpy(whole.data() + eth_hdr_len + ipv4_hdr_len + udp_hdr_len, payload.data(), payload.size());
    build_ipv4_udp(whole.data() + eth_hdr_len, src, 5060, dst, 5060, payload.size(), id);
    std::vector<Bytes> out;
    const size_t data = ip_len - ipv4_hdr_len;
    for (size_t ofs = 0; ofs < data; ofs += 1480) {
        const size_t n = data - ofs < 1480 ? data - ofs : 1480;
        Bytes f(eth_hdr_len + ipv4_hdr_len + n);
        EthHdr e{};
        e.dst = dmac;
        e.src = smac;
        e.type = be16(ethertype_ipv4);
        std::memcpy(f.data(), &e, sizeof(e));
        uint8_t* ip = f.data() + eth_hdr_len;
        std::memcpy(ip, whole.data() + eth_hdr_len, ipv4_hdr_len);
        std::memcpy(ip + ipv4_hdr_len, whole.data() + eth_hdr_len + ipv4_hdr_len + ofs, n);
        const uint16_t tot = be16(uint16_t(ipv4_hdr_len + n));
        const uint16_t fr = be16(uint16_t((ofs + n < data ? 0x2000 : 0) | ofs / 8));
        std::memcpy(ip + 2, &tot, 2);
        std::memcpy(ip + 6, &fr, 2);
        ip[10] = ip[11] = 0;
        const uint16_t c = csum_fold(csum_add(0, ip, ipv4_hdr_len));
        std::memcpy(ip + 10, &c, 2);
        out.push_back(f);
    }
    return out;
}

}  // namespace sipedge::dp::test
