#!/usr/bin/env bash
# bench/dataplane: instructions per relayed message inside the Proxy, counted
# by callgrind over dp_proxy_bench (BM_ProxyCall/16384). Deterministic to a
# few instructions from run to run, where the bench's ns/msg on a shared VM
# spreads by tens of percent: the figure a proxy change is first judged by.
# Instructions are not time (cache misses, branch misses), so a change is
# then timed as well (dp_proxy_bench pairs, the memif relay).
#
#   bash bench/dataplane/proxy_ir.sh build/bench/dataplane/dp_proxy_bench [top-N]
#
# Prints "ir_per_msg N" and, with top-N, the N costliest functions (self).
set -euo pipefail
bin=${1:?usage: proxy_ir.sh <dp_proxy_bench> [top-N]}
top=${2:-0}
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 77; }
out=$(mktemp /tmp/proxy_ir.XXXXXX)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$out" \
    --toggle-collect='sipedge::dp::Proxy::on_datagram*' --toggle-collect='sipedge::dp::Proxy::advance*' \
    "$bin" --benchmark_filter='BM_ProxyCall/16384/' >/dev/null 2>&1
# Messages: calls of Proxy::on_datagram (every caller and UAS message).
python3 - "$out" "$top" <<'PY'
import re, subprocess, sys
path, top = sys.argv[1], int(sys.argv[2])
names, total, calls, cur = {}, 0, 0, None
for line in open(path):
    m = re.match(r'(c?fn)=\((\d+)\)(?: (.*))?', line)
    if m:
        if m.group(3): names[m.group(2)] = m.group(3)
        cur = (m.group(1), names.get(m.group(2), ''))
        continue
    if line.startswith('calls=') and cur and cur[0] == 'cfn' and 'Proxy::on_datagram(' in cur[1]:
        calls += int(line.split()[0][6:])
    if line.startswith('summary:') or line.startswith('totals:'):
        total = int(line.split()[1])
if not calls: sys.exit('no Proxy::on_datagram calls counted (symbols stripped?)')
print(f'messages {calls}')
print(f'ir_total {total}')
print(f'ir_per_msg {total / calls:.0f}')
if top:
    r = subprocess.run(['callgrind_annotate', path], capture_output=True, text=True).stdout
    rows = [l for l in r.splitlines() if re.match(r'\s*[\d,]+ \(', l)][1:top + 1]
    for l in rows:
        n = int(l.split()[0].replace(',', ''))
        fn = l.split(':', 1)[1].split('(')[0] if ':' in l else l
        print(f'  {n / calls:8.0f}  {fn.strip()[:90]}')
PY
