# tests/e2e/proxy/silent.sh: the `silent` scenario of proxy_e2e.sh (sourced;
# helpers in common.sh and ../lib.sh).
#
# silent: the primary swallows packets: calls roll over to the secondary after
# the rollover timer (seed A, 1 s)

run_silent() {
    begin silent "10 calls at 5/s, the primary swallows everything"
    silent_sink $NS_C1 192.0.2.21; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    start_edge
    uac 10 5 -sf "$HERE/uac_rr.xml"
    stop_run
    # top_first without a recovery delay keeps the failed primary first:
    # every call waits out its rollover timer there.
    check silent "uac.successful == 10" "uac.failed == 0" "edge.calls.answered == 10" \
        "edge.transactions.rollover_timeout >= 10" "c2.invites == 10" \
        "edge.control.events_in >= 10" "edge.control.published >= 2"
}
