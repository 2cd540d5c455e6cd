#!/usr/bin/env bash
# End-to-end runs of sustained faults (issue 12): a sipp caller at a steady
# rate through sipedge (DPDK net_af_packet) to three sipp carriers while one
# carrier fails for a long time, in network namespaces (tests/e2e/lib.sh has
# the topology: caller 192.0.2.1, sipedge 192.0.2.10, car1..car3
# 192.0.2.21..23, knotd 198.51.100.53 for DNS-named carriers). One function
# per scenario, one file per scenario family in scenarios/:
#
#   silent-static            car1 silent (link down, no ICMP) from t=5 s to
#   silent-static-norecover  t=35 s of 65 s of calls at 100/s (1 s hold):
#   silent-dns               at most rate x rollover x 1.1 calls wait a
#                            rollover, no call fails, car1 gets calls again
#                            within monitor-interval x up-threshold + 1 s of
#                            answering again. -norecover: recover-delay off
#                            written out; -dns: the trunk's server is
#                            carrier.example (NAPTR -> SRV 10/20/30, knotd)
#                            (scenarios/silent.sh)
#   trying-then-dead         car1 answers INVITE 100 Trying and nothing else;
#                            provisional-timeout 4: every call completes on
#                            car2 within 4 s + one round trip
#                            (scenarios/trying_then_dead.sh)
#   probe-capture            monitor-interval 1, no calls: every OPTIONS probe
#                            has its own Call-ID; one probe's first
#                            transmission is not answered: it is
#                            retransmitted, car1 never shows failed
#                            (scenarios/probe_capture.sh)
#   retry-after              car1 answers INVITE 503 + Retry-After: 30: one
#                            INVITE to car1 in the 30 s after a 503, every
#                            call on car2, car1 tried again after the 30 s
#                            (scenarios/retry_after.sh)
#
# Every scenario prints what it checked with the numbers ("ok"/"FAIL" lines,
# "info" lines for numbers not asserted). KEEP_LOGS=1 keeps the run's files.
# Usage: sustained_e2e.sh <sipedge binary> <this directory> [scenario...]
# Exit 0 pass, 1 fail, 77 skip (not root, no ip netns, no sipp).
set -u

SIPEDGE=${1:?sipedge binary}
HERE=${2:?source directory}
shift 2
ALL="silent-static silent-static-norecover silent-dns trying-then-dead probe-capture retry-after"
SCENARIOS=${*:-$ALL}

. "$HERE/lib.sh"
for f in "$HERE"/scenarios/*.sh; do . "$f" || { echo "FAIL: $f does not load"; exit 1; }; done

e2e_init
setup_topology || { echo "FAIL: topology"; exit 1; }
for sc in $SCENARIOS; do
    case " $ALL " in
    *" $sc "*)
        if declare -F "run_${sc//-/_}" >/dev/null; then "run_${sc//-/_}"
        else fail "scenario $sc: no function run_${sc//-/_} (a file in scenarios/ did not load)"; fi ;;
    *) fail "unknown scenario $sc" ;;
    esac
done
[ "$FAILED" = 0 ] && echo "PASS" || echo "FAILED"
exit "$FAILED"
