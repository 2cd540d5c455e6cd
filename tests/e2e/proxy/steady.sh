# tests/e2e/proxy/steady.sh: the `steady` scenario of proxy_e2e.sh (sourced;
# helpers in common.sh and ../lib.sh).
#
# steady: every call through the primary completes

run_steady() {
    begin steady "50 calls at 10/s, both carriers up"
    carrier $NS_C1 192.0.2.21 c1 200 200; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    start_edge
    in_ns $NS_UAC timeout 5 python3 "$HERE/proxy/ping.py" 192.0.2.10 && echo "  ok   ICMP echo reply" \
        || fail "steady: no ICMP echo reply from 192.0.2.10"
    # Live trace (issue 7): a `monitor trace` subscriber during the calls gets
    # the workers' SIP messages (5 of them, then sipedgectl exits).
    local trace_pid=
    if [ -x "$SIPEDGECTL" ]; then
        timeout 30 "$SIPEDGECTL" --socket "$out/ctl.sock" --count 5 monitor trace \
            >"$out/trace.log" 2>&1 &
        trace_pid=$!
        sleep 0.3
    fi
    # uac_rr.xml: the route set kept, ACK and BYE through our Record-Route
    # (issue 16: an in-dialog request from the access side without it is
    # refused, so sipp's built-in uac, which sends them to us bare, no longer fits).
    uac 50 10 -sf "$HERE/uac_rr.xml"
    if [ -n "$trace_pid" ]; then
        wait "$trace_pid" && grep -q "^INVITE sip:" "$out/trace.log" \
            && echo "  ok   monitor trace printed INVITE lines" \
            || fail "steady: monitor trace printed no INVITE (see $out/trace.log)"
    fi
    stop_run
    check steady "uac.successful == 50" "uac.failed == 0" "edge.calls.attempted == 50" \
        "edge.calls.answered == 50" "edge.calls.failed == 0" "edge.sip.byes_rx >= 50" \
        "edge.sip.acks_rx >= 50" "edge.icmp.echo_rx >= 1" \
        "edge.transactions.rollover_timeout+edge.transactions.rollover_icmp+edge.transactions.rollover_503 == 0" \
        "c1.invites == 50" "c2.invites == 0" "edge.control.published >= 1" \
        "edge.control.events_in >= 50" "edge.control.events_dropped == 0" \
        "edge.trace.copied >= 5" "edge.trace.dropped == 0"
}
