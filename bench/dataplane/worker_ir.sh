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
trap 'rm -f "$out" "$json"' EXIT
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
python3 - "$out" "$json" "$top" "$rc" <<'PY'
import json, re, subprocess, sys
path, jpath, top, rc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
try:
    res = json.load(open(jpath))
except Exception as e:
    sys.exit(f"loadgen.sh exit {rc}, no result ({e})")
if not res.get("ok"):
    sys.exit(f"loadgen.sh exit {rc}: {res.get('problems')}")
edge = res["edge"]
pkts = edge["rx"]["udp"]
if edge["sip"]["retransmissions_rx"] or edge["sip"]["retransmissions_tx"]:
    print("warning: retransmissions in the run; the count is not comparable", file=sys.stderr)
total = 0
for line in open(path):
    if line.startswith('summary:') or line.startswith('totals:'):
        total = int(line.split()[1])
if not total: sys.exit('callgrind collected nothing (symbols stripped?)')
print(f'udp_packets {pkts}')
print(f'ir_total {total}')
print(f'ir_per_packet {total / pkts:.0f}')
if top:
    r = subprocess.run(['callgrind_annotate', path], capture_output=True, text=True).stdout
    rows = [l for l in r.splitlines() if re.match(r'\s*[\d,]+ \(', l)][1:top + 1]
    for l in rows:
        n = int(l.split()[0].replace(',', ''))
        fn = l.split(':', 1)[1].split('(')[0] if ':' in l else l
        print(f'  {n / pkts:8.0f}  {fn.strip()[:90]}')
PY
