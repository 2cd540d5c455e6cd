#!/usr/bin/env bash
# The main job's live demo (scripts/main-job.sh; meson test e2e_lab, suite
# lab, with LAB_SECONDS=30): the topology of tests/e2e/proxy_e2e.sh (sipp
# caller, sipedge on DPDK net_af_packet, two sipp carriers, each in its own
# network namespace; TEST-NET addresses, no default route, all removed at the
# end) with the trunk's server given as carrier.example, resolved by sipedge
# from knotd in a sixth namespace (NAPTR -> SRV 10 car1, SRV 20 car2).
#
# LAB_SECONDS (default 60) of calls at 10/s from the caller; at 1/3 of the
# time car1 (the SRV primary) goes silent, at 2/3 it comes back; with
# recover-delay 8 s the engine fails over to car2, then fails back to car1.
# A live line every second (time, calls, calls/s, active server, states);
# then a summary: calls attempted, completed, failed, failover time (from
# car1 going silent to car2's first 200 OK to an INVITE, from car2's sipp
# -trace_msg). Fails when calls are lost
# beyond the ones in flight at the failure, or no summary could be made.
# The live view is scripts/lab_view.py, the summary scripts/lab_summary.py;
# the helpers are tests/e2e/lib.sh and tests/e2e/proxy/common.sh. Before the
# demo, the startup-file check of proxy_e2e.sh (tests/e2e/proxy/bad_config.sh).
# Usage: lab-demo.sh <sipedge binary> [<tests/e2e directory>]
# Exit 0 pass, 1 fail, 77 skip (not root, no ip netns, no sipp).
set -u

SIPEDGE=${1:?sipedge binary}
LAB_DIR=$(cd "$(dirname "$0")" && pwd)
HERE=${2:-$LAB_DIR/../tests/e2e}

. "$HERE/lib.sh"
. "$HERE/proxy/common.sh"
. "$HERE/proxy/bad_config.sh"

run_lab() {
    local secs=${LAB_SECONDS:-60} rate=10
    [ "$secs" -ge 20 ] && [ "$secs" -le 60 ] || secs=60  # the carriers live 90 s (carrier())
    begin lab "calls at $rate/s for ${secs}s to carrier.example (DNS: car1 SRV 10, car2 SRV 20); car1 silent at $((secs / 3))s, back at $((secs * 2 / 3))s"
    command -v knotd >/dev/null || { echo "  skip: knotd not installed"; return 0; }
    [ -x "$SIPEDGECTL" ] || { fail "lab: no sipedgectl next to sipedge"; return; }
    dns_ns_carrier || return
    carrier $NS_C1 192.0.2.21 c1 200 200; local c1_pid=$LAST_PID
    CARRIER_EXTRA=-trace_msg carrier $NS_C2 192.0.2.22 c2 200 200  # its 200 OKs, timed
    dns_edge_config "set trunk carrier recover-delay 8"
    start_edge
    wait_resolved
    local calls=$((secs * rate))
    start_bg $NS_UAC "$out/uac.log" timeout $((secs + 40)) sipp 192.0.2.10:5060 -i 192.0.2.1 -p 5060 \
        -sf "$HERE/uac_rr.xml" -m $calls -r $rate -nostdin -timeout $((secs + 30))s -timeout_error \
        -trace_stat -stf "$out/uac.csv" -fd 1 -trace_err -error_file "$out/uac.err"
    local uac_pid=$LAST_PID t_fail
    python3 "$LAB_DIR/lab_view.py" "$out/ctl.sock" "$out" $((secs + 40)) &
    local view_pid=$!
    PIDS+=($view_pid)
    sleep $((secs / 3))
    t_fail=$(date +%s.%N)
    echo "$t_fail" >"$out/t_fail"
    echo "  --- car1 goes silent"
    # Stopped, its socket stays bound: requests queue unread, no ICMP, no answer.
    # (car1's sipp is the child of the timeout(1) started as $c1_pid.)
    local c1_sipp
    c1_sipp=$(ps -o pid= --ppid "$c1_pid" | head -1)
    kill -STOP ${c1_sipp:-$c1_pid} 2>/dev/null
    sleep $((secs / 3))
    kill -KILL ${c1_sipp:-$c1_pid} 2>/dev/null; kill -TERM "$c1_pid" 2>/dev/null; wait "$c1_pid" 2>/dev/null
    carrier $NS_C1 192.0.2.21 c1b 200 200
    echo "  --- car1 answers again (failback once recover-delay 8 s has passed)"
    wait "$uac_pid"
    UAC_RC=$?
    sleep 1.2
    touch "$out/lab_done"; wait "$view_pid" 2>/dev/null
    stop_run
    # The summary and the test's verdict.
    python3 "$LAB_DIR/lab_summary.py" "$out" "$rate" "$t_fail" || FAILED=1
}

proxy_init
FAILED=0
check_bad_config
setup_topology || { echo "FAIL: topology"; exit 1; }
run_lab
[ "$FAILED" = 0 ] && echo "PASS" || echo "FAILED"
exit "$FAILED"
