# tests/e2e/proxy/twoport.sh: the `twoport` scenario of proxy_e2e.sh (sourced;
# helpers in common.sh and ../lib.sh).
#
# twoport: access and carrier on different DPDK ports (issue 6): port 0 on the
# caller's bridge (192.0.2.10), port 1 (198.51.100.10) in VLAN 100 on the
# trunk port of a user-space 802.1Q switch (vlan_switch.py) whose access port
# leads to the carrier (198.51.100.21): only frames tagged 100 reach it.
# REGISTER and INVITE name port 1's address, the dialog gets a double
# Record-Route, ACK and BYE come back through both of our Routes; every call
# completes. twoport-rollover: the primary behind port 1 unreachable (ICMP
# through the VLAN), the secondary behind port 0: Via/Record-Route rewritten
# for port 0 on the rollover, every call completes

# The carrier side of `twoport`: the edge's eth1 is a trunk port of a
# user-space 802.1Q switch (vlan_switch.py, in its own namespace: this
# kernel has no 8021q module, bridge VLAN filtering or tc vlan action) whose
# access port in VLAN 100 leads to the carrier's namespace. Frames sipedge
# sends untagged or with another tag never reach the carrier (counted).
setup_carrier_vlan() {
    NS_BR2=${P}sw NS_C3=${P}c3
    local ns
    for ns in $NS_BR2 $NS_C3; do
        ip netns add "$ns" || return 1
        in_ns "$ns" ip link set lo up
        in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        in_ns "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    done
    ip -n $NS_BR2 link add t_edge type veth peer name eth1 netns $NS_EDGE || return 1
    ip -n $NS_BR2 link add t_c3 type veth peer name eth0 netns $NS_C3 || return 1
    ip -n $NS_BR2 link set t_edge up
    ip -n $NS_BR2 link set t_c3 up
    ip -n $NS_EDGE link set eth1 up
    ip -n $NS_C3 link set eth0 up
    ip -n $NS_C3 addr add 198.51.100.21/24 dev eth0
    in_ns $NS_C3 python3 -c "$TXCSUM_OFF" eth0 || return 1
}

run_twoport() {
    begin twoport "20 calls: access on port 0, the carrier on port 1 in VLAN 100"
    [ -n "${NS_C3:-}" ] || setup_carrier_vlan || { fail "twoport: carrier VLAN topology"; return; }
    start_bg $NS_BR2 "$out/switch.log" timeout 100 python3 "$HERE/vlan_switch.py" t_edge t_c3 100 90 \
        "$out/switch.json"
    carrier $NS_C3 198.51.100.21 c1 200 200
    cat >"$out/edge.conf" <<'CFG'
set dataplane address 192.0.2.10/24
set dataplane port 1 address 198.51.100.10/24
set dataplane port 1 vlan 100
set dataplane port 1 device net_af_packet7,iface=eth1
set dataplane access 192.0.2.1:5060
add trunk carrier
set trunk carrier server 1 198.51.100.21:5060 udp
set trunk carrier rollover 1
set dataplane default-trunk carrier
set trunk carrier identity 1000 password secret contact sip:1000@198.51.100.10
CFG
    # Port 0 from the command line's --vdev (DPDK port id 0), port 1 from its
    # configured device, found by name (twoport-rollover gives both on the
    # command line instead).
    start_edge
    # The first REGISTER (spread over 10 s) goes out through port 1, its Via
    # naming 198.51.100.10: wait (bounded) for the binding.
    local i
    for i in $(seq 1 75); do
        grep -q "notice registered" "$out/sipedge.err" 2>/dev/null && break
        sleep 0.2
    done
    grep -q "notice registered" "$out/sipedge.err" || fail "twoport: no registration within 15 s"
    uac 20 10 -sf "$HERE/uac_rr.xml"
    stop_run
    check twoport "uac.successful == 20" "uac.failed == 0" "edge.calls.answered == 20" \
        "c1.invites >= 20" "c1.byes >= 20" "c1.registers >= 1" "edge.control.responses_in >= 1" \
        "edge.sip.byes_rx >= 20" "edge.sip.acks_rx >= 20" "edge.sip.cross_iface == 0" \
        "edge.drops.vlan_mismatch == 0" "edge.drops.ipv4_no_route == 0" \
        "edge.drops.arp_unresolved == 0" "edge.ports.0.port == 0" "edge.ports.1.port == 1" \
        "edge.ports.1.vlan == 100" "edge.ports.0.rx_packets >= 60" "edge.ports.1.rx_packets >= 61" \
        "edge.ports.0.tx_packets >= 80" "edge.ports.1.tx_packets >= 61"
    python3 "$HERE/proxy/switch_check.py" "$out/switch.json" || fail "twoport: VLAN switch counters"

    # The primary (VLAN side) has no listener: ICMP port unreachable comes
    # back tagged through port 1 and rolls each INVITE over at once to the
    # secondary on port 0's subnet; the retained request's Via and
    # Record-Route are rewritten for port 0 before it goes.
    begin twoport-rollover "10 calls: primary behind port 1 unreachable, secondary behind port 0"
    in_ns $NS_C3 sysctl -qw net.ipv4.icmp_ratelimit=0
    start_bg $NS_BR2 "$out/switch.log" timeout 100 python3 "$HERE/vlan_switch.py" t_edge t_c3 100 90 \
        "$out/switch.json"
    carrier $NS_C2 192.0.2.22 c2 200 200
    cat >"$out/edge.conf" <<'CFG'
set dataplane address 192.0.2.10/24
set dataplane port 1 address 198.51.100.10/24
set dataplane port 1 vlan 100
set dataplane access 192.0.2.1:5060
add trunk carrier
set trunk carrier server 1 198.51.100.21:5060 udp
set trunk carrier server 2 192.0.2.22:5060 udp
set trunk carrier rollover 1
set trunk carrier register off
set dataplane default-trunk carrier
CFG
    EDGE_VDEV="net_af_packet0,iface=eth0 --vdev=net_af_packet1,iface=eth1" start_edge
    uac 10 5 -sf "$HERE/uac_rr.xml"
    stop_run
    check twoport-rollover "uac.successful == 10" "uac.failed == 0" "c2.invites == 10" \
        "c2.byes == 10" "edge.transactions.rollover_icmp >= 1" "edge.sip.cross_iface >= 1" \
        "edge.icmp.unreach_matched >= 1" "edge.drops.vlan_mismatch == 0"
}
