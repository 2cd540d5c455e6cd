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
python3 "$(dirname "$0")/cg_report.py" "$out" msg 'calls:Proxy::on_datagram(' "$top"
