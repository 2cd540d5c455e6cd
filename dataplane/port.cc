// EAL and port start-up: see port.h.

#include "dataplane/port.h"

#include <cstdio>
#include <cstring>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dataplane/rss.h"

namespace sipedge::dp {

bool eal_start(int argc, char** argv) noexcept {
    const int r = rte_eal_init(argc, argv);
    if (r < 0) {
        std::fprintf(stderr, "sipedge: EAL init failed: %s\n", rte_strerror(rte_errno));
        return false;
    }
    return true;
}

void eal_stop() noexcept { rte_eal_cleanup(); }

rte_mempool* make_pktmbuf_pool(const char* name, uint32_t mbufs, uint32_t data_room) noexcept {
    const uint32_t room = data_room ? data_room + RTE_PKTMBUF_HEADROOM : RTE_MBUF_DEFAULT_BUF_SIZE;
    if (room > UINT16_MAX) {
        std::fprintf(stderr, "sipedge: mempool %s: data room %u over 65535\n", name, room);
        return nullptr;
    }
    rte_mempool* p = rte_pktmbuf_pool_create(name, mbufs, 256, 0, uint16_t(room),
                                             int(rte_socket_id()));
    if (!p)
        std::fprintf(stderr, "sipedge: mempool %s (%u mbufs): %s\n", name, mbufs,
                     rte_strerror(rte_errno));
    return p;
}

bool port_start(const PortSetup& s, rte_mempool* pool, MacAddr& mac) noexcept {
    if (!rte_eth_dev_is_valid_port(s.port_id)) {
        std::fprintf(stderr, "sipedge: no DPDK port %u (is a --vdev or NIC given?)\n", s.port_id);
        return false;
    }
    rte_eth_dev_info info;
    if (rte_eth_dev_info_get(s.port_id, &info) != 0) {
        std::fprintf(stderr, "sipedge: port %u: no device info\n", s.port_id);
        return false;
    }
    rte_eth_conf conf;
    std::memset(&conf, 0, sizeof(conf));
    uint64_t hf = 0;
    if (!rss_port_conf(s.port_id, s.queues, conf, &hf)) return false;  // says why
    if (s.queues > 1)
        std::fprintf(stderr, "sipedge: port %u: %u queues, %s\n", s.port_id, s.queues,
                     hf ? "RSS over IPv4/UDP" : "no RSS (the device spreads by its own rule)");
    int r = rte_eth_dev_configure(s.port_id, s.queues, s.queues, &conf);
    if (r < 0) {
        std::fprintf(stderr, "sipedge: port %u configure: %s\n", s.port_id, rte_strerror(-r));
        return false;
    }
    uint16_t rxd = s.rx_desc, txd = s.tx_desc;
    rte_eth_dev_adjust_nb_rx_tx_desc(s.port_id, &rxd, &txd);
    const int sock = rte_eth_dev_socket_id(s.port_id);
    for (uint16_t q = 0; q < s.queues; q++) {
        r = rte_eth_rx_queue_setup(s.port_id, q, rxd, sock, nullptr, pool);
        if (r < 0) {
            std::fprintf(stderr, "sipedge: port %u rxq %u: %s\n", s.port_id, q, rte_strerror(-r));
            return false;
        }
        r = rte_eth_tx_queue_setup(s.port_id, q, txd, sock, nullptr);
        if (r < 0) {
            std::fprintf(stderr, "sipedge: port %u txq %u: %s\n", s.port_id, q, rte_strerror(-r));
            return false;
        }
    }
    r = rte_eth_dev_start(s.port_id);
    if (r < 0) {
        std::fprintf(stderr, "sipedge: port %u start: %s\n", s.port_id, rte_strerror(-r));
        return false;
    }
    rte_ether_addr a;
    if (rte_eth_macaddr_get(s.port_id, &a) != 0) {
        std::fprintf(stderr, "sipedge: port %u: no MAC address\n", s.port_id);
        return false;
    }
    std::memcpy(mac.b, a.addr_bytes, 6);
    return true;
}

void port_stop(uint16_t port_id) noexcept {
    rte_eth_dev_stop(port_id);
    rte_eth_dev_close(port_id);
}

}  // namespace sipedge::dp
