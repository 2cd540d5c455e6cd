#pragma once
// Test scaffolding for worker tests on a real EAL: start-up with --no-huge
// and a per-process file prefix, ethdevs made of rte_ring pairs (the test
// enqueues what the worker receives and dequeues what it sends), frames in
// and out as bytes, and a clean exit that removes the EAL's runtime
// directory (/var/run/dpdk/<prefix>). Header-only; each test binary
// includes it once.

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

namespace sipedge::dp::test {

using Bytes = std::vector<uint8_t>;

/// One ethdev over two rings: <rx> feeds the worker, <tx> takes its frames.
struct RingPort {
    uint16_t port_id = 0;
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    MacAddr mac{};
};

/// rte_eal_init with <lcores> ("0-1"), --no-huge and the file prefix
/// <name><pid>. False (and a SKIP line) when the EAL does not start.
inline bool eal_up(const char* name, const char* lcores) {
    static std::string prefix, prog, lc;
    prefix = std::string("--file-prefix=") + name + std::to_string(getpid());
    prog = name;
    lc = lcores;
    const char* eal[] = {prog.c_str(), "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "-l",
                         lc.c_str(), "--log-level=lib.eal:error", prefix.c_str()};
    if (rte_eal_init(int(sizeof(eal) / sizeof(eal[0])), const_cast<char**>(eal)) < 0) {
        std::fprintf(stderr, "SKIP: EAL did not start\n");
        return false;
    }
    return true;
}

/// rte_eal_cleanup() and the runtime directory it leaves behind.
inline void eal_down() {
    const std::string dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
}

/// A started ring port named <name> (rings <name>_rx/_tx, 1024 each) fed from <pool>.
inline bool ring_port(const char* name, rte_mempool* pool, RingPort& p) {
    const std::string n = name;
    p.rx = rte_ring_create((n + "_rx").c_str(), 1024, int(rte_socket_id()),
                           RING_F_SP_ENQ | RING_F_SC_DEQ);
    p.tx = rte_ring_create((n + "_tx").c_str(), 1024, int(rte_socket_id()),
                           RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!p.rx || !p.tx) return false;
    const int id = rte_eth_from_rings(name, &p.rx, 1, &p.tx, 1, int(rte_socket_id()));
    if (id < 0) return false;
    PortSetup ps;
    ps.port_id = uint16_t(id);
    if (!port_start(ps, pool, p.mac)) return false;
    p.port_id = uint16_t(id);
    return true;
}

/// Enqueues frame <f> for the worker on <p> (stamped with its port id, as a PMD does).
inline bool inject(rte_mempool* pool, const RingPort& p, const Bytes& f) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (!m) return false;
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
    m->port = p.port_id;
    return rte_ring_enqueue(p.rx, m) == 0;
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

}  // namespace sipedge::dp::test
