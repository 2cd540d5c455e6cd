# tests/e2e/proxy/icmp.sh: the `icmp` scenario of proxy_e2e.sh (sourced;
# helpers in common.sh and ../lib.sh).
#
# icmp: nothing listens on the primary: ICMP port unreachable rolls the
# request over at once

run_icmp() {
    begin icmp "20 calls at 10/s, nothing listens on the primary"
    carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    start_edge
    uac 20 10 -sf "$HERE/uac_rr.xml"
    stop_run
    check icmp "uac.successful == 20" "uac.failed == 0" "edge.calls.answered == 20" \
        "edge.icmp.unreach_matched >= 1" "edge.transactions.rollover_icmp >= 1" \
        "edge.transactions.rollover_icmp+edge.transactions.rollover_timeout >= 20" \
        "c2.invites == 20" "edge.control.events_in >= 1" "edge.control.published >= 2"
}
