# tests/e2e/proxy/validated.sh: the `validated` scenario of proxy_e2e.sh
# (sourced; helpers in common.sh and ../lib.sh).
#
# validated: validation register: the primary refuses REGISTER (503), the
# secondary accepts it; every call goes to the secondary only

run_validated() {
    begin validated "validation register: REGISTER 503 at the primary, 200 at the secondary; 10 calls"
    carrier $NS_C1 192.0.2.21 c1 503 200; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier validation register" "set trunk carrier failover-on-503 on" \
        "set trunk carrier identity 1000 auth-user 1000 password e2e-secret contact sip:1000@192.0.2.10:5060"
    start_edge
    # The engine spreads first REGISTERs over 10 s: wait (bounded) for the binding.
    local i
    for i in $(seq 1 75); do
        grep -q "notice registered" "$out/sipedge.err" 2>/dev/null && break
        sleep 0.2
    done
    grep -q "notice registered" "$out/sipedge.err" || fail "validated: no registration within 15 s"
    uac 10 5 -sf "$HERE/uac_rr.xml"
    stop_run
    check validated "uac.successful == 10" "uac.failed == 0" "edge.calls.answered == 10" \
        "c1.registers >= 1" "c2.registers >= 1" "c1.invites == 0" "c2.invites == 10" \
        "edge.control.sent >= 2" "edge.control.responses_in >= 2" \
        "edge.transactions.rollover_timeout+edge.transactions.rollover_503 == 0"
}
