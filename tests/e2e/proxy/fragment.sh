# tests/e2e/proxy/fragment.sh: the `fragment` scenario of proxy_e2e.sh
# (sourced; helpers in common.sh and ../lib.sh).
#
# fragment: INVITEs with a ~4 KB SDP (uac_big.xml): the caller's kernel
# fragments them on the 1500-byte veth, sipedge reassembles, relays and
# fragments them again towards the carrier

run_fragment() {
    begin fragment "20 calls at 10/s, INVITE and 200 OK with a ~4 KB SDP: reassembled in, fragmented out"
    BIG_ANSWER=1 carrier $NS_C1 192.0.2.21 c1 200 200; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    EDGE_VDEV=net_pcap0,iface=eth0,phy_mac=1 start_edge
    uac 20 10 -sf "$HERE/uac_big.xml"
    stop_run
    # Each INVITE and each 200 OK (~4.4 KB) is 4 fragments each way;
    # retransmissions only add.
    check fragment "uac.successful == 20" "uac.failed == 0" "edge.calls.attempted == 20" \
        "edge.calls.answered == 20" "c1.invites == 20" "c2.invites == 0" \
        "edge.ipv4.reassembled >= 40" "edge.ipv4.fragments_rx >= 160" \
        "edge.ipv4.fragmented_tx >= 40" "edge.ipv4.fragments_tx >= 160" \
        "edge.drops.ipv4_frag_duplicate == 0" "edge.drops.arp_unresolved == 0" \
        "edge.transactions.rollover_timeout+edge.transactions.rollover_icmp == 0"
}
