// RSS port configuration: see rss.h.

#include "dataplane/rss.h"

#include <cstdio>

#include <rte_ethdev.h>

namespace sipedge::dp {

uint64_t rss_wanted_hf() noexcept {
    return RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_UDP;
}

bool rss_port_conf(uint16_t port_id, uint16_t queues, rte_eth_conf& conf,
                   uint64_t* rss_hf) noexcept {
    if (rss_hf) *rss_hf = 0;
    rte_eth_dev_info info;
    if (!rte_eth_dev_is_valid_port(port_id) || rte_eth_dev_info_get(port_id, &info) != 0) {
        std::fprintf(stderr, "sipedge: port %u: no such port\n", port_id);
        return false;
    }
    if (queues == 0 || queues > info.max_rx_queues || queues > info.max_tx_queues) {
        std::fprintf(stderr, "sipedge: port %u: %u queues asked, device has %u RX / %u TX\n",
                     port_id, queues, info.max_rx_queues, info.max_tx_queues);
        return false;
    }
    const uint64_t hf = rss_wanted_hf() & info.flow_type_rss_offloads;
    if (queues > 1 && hf != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_key = nullptr;  // the PMD's default key
        conf.rx_adv_conf.rss_conf.rss_hf = hf;
        if (rss_hf) *rss_hf = hf;
    } else {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
        conf.rx_adv_conf.rss_conf.rss_hf = 0;
    }
    if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    return true;
}

}  // namespace sipedge::dp
