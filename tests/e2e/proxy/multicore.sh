# tests/e2e/proxy/multicore.sh: the `multicore` scenario of proxy_e2e.sh
# (sourced; helpers in common.sh and ../lib.sh).
#
# multicore: two workers (--lcores, net_af_packet qpairs=2): every call
# completes, per-worker counters add up to the totals

# Two workers (issue 6): three lcores floating over the machine's CPUs (main =
# control, two workers), net_af_packet with two queue pairs (the kernel's
# PACKET_FANOUT hash spreads flows). Deterministic: every call completes,
# the exit JSON has two workers whose counters add up to the totals, no
# handoff ring overflows. Which worker gets which flow depends on the
# kernel's hash: the per-worker counters are printed, not asserted.
run_multicore() {
    begin multicore "20 calls at 10/s on two workers (net_af_packet qpairs=2)"
    carrier $NS_C1 192.0.2.21 c1 200 200; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    EDGE_LCORES="'--lcores=(0-2)@(0-1)'" EDGE_VDEV=net_af_packet0,iface=eth0,qpairs=2 start_edge
    uac 20 10 -sf "$HERE/uac_rr.xml"
    stop_run
    check multicore "uac.successful == 20" "uac.failed == 0" "edge.calls.attempted == 20" \
        "edge.calls.answered == 20" "c1.invites == 20" "c2.invites == 0" \
        "edge.handoff.full == 0" "edge.drops.arp_unresolved == 0"
    python3 "$HERE/proxy/workers_check.py" "$out/stats.json" || fail "multicore: per-worker counters"
}
