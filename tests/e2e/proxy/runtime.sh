# tests/e2e/proxy/runtime.sh: the `runtime` scenario of proxy_e2e.sh (sourced;
# helpers in common.sh and ../lib.sh).
#
# runtime: 200 calls at 20/s while sipedgectl changes the trunk on the control
# socket: a third server added, T1 changed, one refused command (T1 out of
# range: error, running-config unchanged), the primary in maintenance (issue
# 7) and back; every call completes and no transaction is lost

run_runtime() {
    begin runtime "200 calls at 20/s; the trunk changed at runtime through sipedgectl"
    [ -x "$SIPEDGECTL" ] || { fail "runtime: no sipedgectl next to sipedge"; return; }
    carrier $NS_C1 192.0.2.21 c1 200 200; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    start_edge
    uac 200 20 -sf "$HERE/uac_rr.xml" &
    local uac_pid=$!
    sleep 1.5
    ctl_expect 0 set trunk carrier server 3 192.0.2.23:5060 udp
    sleep 1
    ctl_expect 0 set trunk carrier t1 400
    "$SIPEDGECTL" --socket "$out/ctl.sock" show running-config >"$out/rc_before" 2>&1
    ctl_expect 1 set trunk carrier t1 20
    "$SIPEDGECTL" --socket "$out/ctl.sock" show running-config >"$out/rc_after" 2>&1
    grep -q "error" "$out/ctl.log" && echo "  ok   refused command answered with an error" \
        || fail "runtime: no error in the refused command's reply"
    grep -q "server 3 192.0.2.23" "$out/rc_after" && grep -q "t1 400" "$out/rc_after" \
        && cmp -s "$out/rc_before" "$out/rc_after" \
        && echo "  ok   running-config has the changes and is unchanged by the refused command" \
        || fail "runtime: running-config: $(diff "$out/rc_before" "$out/rc_after" | head -5)"
    sleep 1
    ctl_expect 0 set trunk carrier server 1 maintenance on   # the primary drained for maintenance (issue 7)
    "$SIPEDGECTL" --socket "$out/ctl.sock" show servers carrier >"$out/servers_maint" 2>&1
    grep -q "maintenance" "$out/servers_maint" && echo "  ok   show servers: primary in maintenance" \
        || fail "runtime: show servers: $(head -5 "$out/servers_maint")"
    # RTT samples from the workers' success events (first send -> first answer).
    grep -Eq '^carrier +0 .* [0-9.]+ms *$' "$out/servers_maint" \
        && echo "  ok   show servers: the primary's RTT measured by the data plane" \
        || fail "runtime: show servers has no RTT for the primary: $(head -3 "$out/servers_maint")"
    sleep 3
    ctl_expect 0 set trunk carrier server 1 maintenance off  # and back in service
    wait "$uac_pid"
    UAC_RC=$?
    stop_run
    # Calls before maintenance and after it go to the primary, the ones
    # between to the secondary; in-flight ones complete: none is lost or sent twice.
    check runtime "uac.successful == 200" "uac.failed == 0" "edge.calls.attempted == 200" \
        "edge.calls.answered == 200" "edge.calls.failed == 0" \
        "edge.transactions.failed_timeout+edge.transactions.failed_icmp+edge.transactions.failed_503 == 0" \
        "edge.transactions.rollover_timeout+edge.transactions.rollover_icmp == 0" \
        "c1.invites+c2.invites == 200" "c1.invites >= 40" "c2.invites >= 20" \
        "edge.control.published >= 4" "edge.drops.sip_no_route == 0"
}
