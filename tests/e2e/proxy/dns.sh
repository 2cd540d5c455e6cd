# tests/e2e/proxy/dns.sh: the `dns` scenario of proxy_e2e.sh (sourced; helpers
# in common.sh and ../lib.sh).

# dns: the trunk's server is the domain carrier.example, resolved by the
# control loop's resolver (control/dns_link.h) from knotd in its own
# namespace (TEST-NET-2 link to the edge's kernel side: DNS goes through the
# kernel, SIP through DPDK): NAPTR -> SRV priority 10 car1 192.0.2.21, 20 car2
# 192.0.2.22. 10 calls go to car1; car1 then goes silent and 10 more roll
# over to car2 in the SRV order.
run_dns() {
    begin dns "trunk server carrier.example via knotd: 10 calls to car1 (SRV 10), car1 silent, 10 to car2 (SRV 20)"
    command -v knotd >/dev/null || { echo "  skip: knotd not installed"; return 0; }
    [ -x "$SIPEDGECTL" ] || { fail "dns: no sipedgectl next to sipedge"; return; }
    dns_ns_carrier || return
    carrier $NS_C1 192.0.2.21 c1 200 200; local c1_pid=$LAST_PID
    carrier $NS_C2 192.0.2.22 c2 200 200
    dns_edge_config
    start_edge
    wait_resolved
    uac 10 5 -sf "$HERE/uac_rr.xml"
    [ "$UAC_RC" = 0 ] && echo "  ok   first 10 calls (car1 up) complete" || fail "dns: first uac exit $UAC_RC"
    written_after "$(date +%s.%N)" "$out"/c1_*_counts.csv  # car1's counts written (-fd 1) before it goes
    kill -TERM "$c1_pid" 2>/dev/null; wait "$c1_pid" 2>/dev/null
    silent_sink $NS_C1 192.0.2.21
    uac 10 5 -sf "$HERE/uac_rr.xml"
    stop_run
    check dns "uac.successful == 10" "uac.failed == 0" "edge.calls.answered == 20" \
        "c1.invites == 10" "c2.invites == 10" "edge.transactions.rollover_timeout >= 10"
}
