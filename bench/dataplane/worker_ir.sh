#!/usr/bin/env bash
# bench/dataplane: instructions per packet on sipedge's worker, counted by
# callgrind: sipedge runs under valgrind in the memif benchmark
# (loadgen.sh, EDGE_WRAP) and only Worker::handle is collected — one
# received frame from the Ethernet stage through the proxy to the reply
# frames built (checksums included); the PMD's receive and transmit bursts
# and the idle polls are not in it. Divided by the UDP datagrams received.
# Deterministic to a few instructions where the memif relay's msgs/s on a
# shared VM spreads by tens of percent; proxy_ir.sh counts the Proxy alone.
#
#   bash bench/dataplane/worker_ir.sh build/control/sipedge build/bench/dataplane/sipedge-loadgen [calls] [top-N]
#
# Prints "ir_per_packet N" and, with top-N, the N costliest functions (self).
# Needs root (DPDK EAL) and valgrind; exit 77 when either is missing.
set -euo pipefail
edge=${1:?usage: worker_ir.sh <sipedge> <sipedge-loadgen> [calls] [top-N]}
lg=${2:?usage: worker_ir.sh <sipedge> <sipedge-loadgen> [calls] [top-N]}
calls=${3:-10000}
top=${4:-0}
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp /tmp/worker_ir.XXXXXX)
json=$(mktemp /tmp/worker_ir_json.XXXXXX)
trap 'rm -f "$out" "$json" "$json.pkts"' EXIT
# --fair-sched: the EAL interrupt thread (memif's connection handshake)
# gets its turn beside the busy-polling worker. A window of 64 keeps the
# relay latency under valgrind far below the generator's T1 (500 ms): no
# retransmission changes the count.
rc=0
EDGE_WRAP="valgrind --tool=callgrind --fair-sched=yes --dump-instr=no --callgrind-out-file=$out \
--toggle-collect=sipedge::dp::Worker::handle*" \
    bash "$here/loadgen.sh" "$edge" "$lg" --calls "$calls" --window 64 --duration 240 \
    --json "$json" >/dev/null 2>&1 || rc=$?
[ "$rc" = 77 ] && { echo "SKIP: the memif benchmark cannot run here"; exit 77; }
python3 - "$json" "$rc" <<'PY' || exit 1
import json, sys
jpath, rc = sys.argv[1], int(sys.argv[2])
try:
    res = json.load(open(jpath))
except Exception as e:
    sys.exit(f"loadgen.sh exit {rc}, no result ({e})")
if not res.get("ok"):
    sys.exit(f"loadgen.sh exit {rc}: {res.get('problems')}")
edge = res["edge"]
if edge["sip"]["retransmissions_rx"] or edge["sip"]["retransmissions_tx"]:
    print("warning: retransmissions in the run; the count is not comparable", file=sys.stderr)
open(jpath + ".pkts", "w").write(str(edge["rx"]["udp"]))
PY
python3 "$here/cg_report.py" "$out" packet "$(cat "$json.pkts")" "$top"
