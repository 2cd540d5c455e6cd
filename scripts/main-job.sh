#!/usr/bin/env bash
# The project's main job on an embedded default, from a fresh machine:
#  1. install what is missing and build (release, in build/);
#  2. the lab (root, `ip netns`): a sipp caller, sipedge on a DPDK
#     net_af_packet port and two sipp carriers, each in its own network
#     namespace (TEST-NET addresses, no default route, all removed at the end).
#     sipedge is configured by a startup file of socket commands and runs its
#     control loop (failover engine) beside one worker lcore. Bounded runs:
#     steady calls through the primary; the primary goes silent (calls roll
#     over on the timer); the primary is gone (ICMP port unreachable rolls
#     calls over at once); the primary answers 503 (rolled over with
#     failover-on-503 on, relayed with it off); validated failover (the trunk
#     registers through the worker and calls go only to the server that
#     accepted the REGISTER); INVITEs with a ~4 KB SDP arrive in IPv4
#     fragments, are reassembled by sipedge and leave fragmented again
#     (fragment); 200 calls run while sipedgectl changes the trunk on the
#     control socket (a server added, T1 changed, one command refused with
#     running-config unchanged, the primary out for maintenance and back) and
#     none is lost (runtime). Each prints what it checked and sipedge's call,
#     transaction and control counters (failback: tests/e2e, meson suite e2e);
#  3. sipedge-inspect over the bundled capture, one JSON line per message and
#     a summary.
# Without root or network namespaces step 2 is skipped (and said so).
# Exit status: non-zero when the build, the lab or the inspect tool failed.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SKIP_INSTALL:-0}" = 1 ] || bash scripts/install-deps.sh

if [ ! -f build/build.ninja ]; then
  if [ -d build/meson-private ]; then
    meson setup --wipe build --buildtype=release  # a setup that failed half way
  else
    meson setup build --buildtype=release
  fi
fi
ninja -C build control/sipedge control/sipedgectl tools/inspect/sipedge-inspect  # no-op when up to date

echo "== lab: caller -> sipedge (DPDK) -> carriers"
lab_rc=0
# The live demo first (scripts/lab-demo.sh, ~75 s): DNS-named
# carriers from knotd, a live line per second, the primary going silent,
# rollover, failback, then a summary (calls attempted/completed/failed,
# failover time). Then the scenario runs (tests/e2e/proxy_e2e.sh, one file
# per scenario in tests/e2e/proxy/), and `dns` (the trunk's server as
# a domain resolved through knotd, rollover in the SRV order).
bash scripts/lab-demo.sh build/control/sipedge tests/e2e || lab_rc=$?
[ "$lab_rc" = 77 ] || \
bash tests/e2e/proxy_e2e.sh build/control/sipedge tests/e2e steady silent icmp 503 validated fragment runtime dns || lab_rc=$?
case $lab_rc in
  0) echo "lab: all runs passed" ;;
  77) echo "lab: skipped (needs root, ip netns and sipp)"; lab_rc=0 ;;
  *) echo "lab: FAILED" ;;
esac

echo "== sipedge-inspect on the bundled capture"
capture=tests/data/captures/sample.pcapng
tool=build/tools/inspect/sipedge-inspect
rc=0
out=$("$tool" --summary "$capture") || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
  echo "main-job: $tool failed on $capture (exit $rc)" >&2
  exit "$rc"
fi
# One JSON line per message, then {"summary":{...}} (see sipedge-inspect --help).
# Exit 1 from the tool is expected: the sample holds one invalid message on purpose.
printf '%s\n' "$out" | sed '$d'
printf '%s\n' "$out" | tail -n 1 | python3 -c '
import json, sys
s = json.load(sys.stdin)["summary"]
print("main-job: %s: %d messages, %d ok, %d invalid, %d incomplete (%d frames)"
      % (sys.argv[1], s["messages"], s["ok"], s["invalid"], s["incomplete"], s["frames"]))
' "$capture"
exit "$lab_rc"
