# tests/e2e/proxy/503.sh: the `503` scenario of proxy_e2e.sh (sourced; helpers
# in common.sh and ../lib.sh).
#
# 503: the primary answers INVITE 503: with failover-on-503 on every call
# rolls over to the secondary; with it off the 503 is relayed to the caller
# and the secondary sees nothing (two runs)

run_503() {
    begin 503-on "10 calls at 5/s, the primary answers 503, failover-on-503 on"
    carrier $NS_C1 192.0.2.21 c1 200 503; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off" "set trunk carrier failover-on-503 on"
    start_edge
    uac 10 5 -sf "$HERE/uac_rr.xml"
    stop_run
    check 503-on "uac.successful == 10" "uac.failed == 0" "edge.calls.answered == 10" \
        "edge.transactions.rollover_503 == 10" "c1.invites == 10" "c2.invites == 10" \
        "edge.control.events_in >= 20"

    begin 503-off "10 calls at 5/s, the primary answers 503, failover-on-503 off"
    carrier $NS_C1 192.0.2.21 c1 200 503; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off" "set trunk carrier failover-on-503 off"
    start_edge
    uac 10 5 -sf "$HERE/uac_503.xml"
    stop_run
    check 503-off "uac.successful == 10" "uac.failed == 0" "edge.calls.attempted == 10" \
        "edge.calls.failed == 10" "edge.calls.answered == 0" \
        "edge.transactions.rollover_503 == 0" "c1.invites == 10" "c2.invites == 0"
}
