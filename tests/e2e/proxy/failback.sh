# tests/e2e/proxy/failback.sh: the `failback` scenario of proxy_e2e.sh
# (sourced; helpers in common.sh and ../lib.sh).
#
# failback: the primary is silent, then answers again: with recover-delay 4 s
# the engine takes it out of the table after its failure and puts it back
# after the delay; calls return to it

run_failback() {
    begin failback "24 calls at 2/s; the primary silent for 3 s, then back; recover-delay 4 s"
    silent_sink $NS_C1 192.0.2.21; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off" "set trunk carrier recover-delay 4"
    start_edge
    uac 24 2 -sf "$HERE/uac_rr.xml" &
    local uac_pid=$!
    sleep 3
    kill -TERM "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null
    carrier $NS_C1 192.0.2.21 c1 200 200
    wait "$uac_pid"
    UAC_RC=$?
    stop_run
    # The first call(s) roll over; then the secondary alone until the delay
    # ends (~5 s in); then the primary again, for the rest (~7 s of calls).
    check failback "uac.successful == 24" "uac.failed == 0" "edge.calls.answered == 24" \
        "edge.transactions.rollover_timeout >= 1" "edge.transactions.rollover_timeout <= 4" \
        "c2.invites >= 3" "c1.invites >= 5" "c1.invites+c2.invites >= 24" \
        "edge.control.published >= 3"
}
