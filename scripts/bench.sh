#!/usr/bin/env bash
# Builds the release benchmark dir (build-bench) if needed, builds every
# benchmark executable under bench/, and runs each one briefly.
#
#   scripts/bench.sh                       # all benchmarks, short runs (< 2 min)
#   scripts/bench.sh --benchmark_filter=corpus   # extra args go to every binary
#
# Environment:
#   BENCH_MIN_TIME  seconds per benchmark (default 0.05; Google Benchmark 1.7
#                   takes a plain number)
#   BENCH_TIMEOUT   seconds one binary may run before it is stopped (default 60)
#   BENCH_JOBS      ninja -j (default 2: the build machine is shared)
#   BUILD_DIR       default build-bench
#
# Benchmarks are never part of `meson test` (STYLE.md §1). Numbers depend on
# the CPU and on load: the header printed below records both, with the commit.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
MIN_TIME=${BENCH_MIN_TIME:-0.05}
TIMEOUT=${BENCH_TIMEOUT:-60}
JOBS=${BENCH_JOBS:-2}

if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
    # Tests are not needed here, and leaving them out keeps a half-written
    # tests/ meson.build elsewhere in the tree from breaking the benchmarks.
    meson setup "$BUILD_DIR" -Dbuildtype=release -Dbench=enabled -Dtests=disabled
fi

# Every linked executable meson declares under bench/ (not the .p object dirs).
mapfile -t targets < <(ninja -C "$BUILD_DIR" -t targets all |
    awk -F': ' '$1 ~ /^bench\// && $1 !~ /\.p\// && $2 ~ /_LINKER$/ { print $1 }' | sort)
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "bench.sh: no benchmark targets in $BUILD_DIR (is libbenchmark-dev installed?)" >&2
    exit 1
fi
ninja -C "$BUILD_DIR" -j"$JOBS" "${targets[@]}"

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git status --porcelain 2>/dev/null | head -1)" ]]; then commit+="-dirty"; fi
echo "== date:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "== cpu:    $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1) ($(nproc) cpus)"
echo "== load:   $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== commit: $commit"
echo "== args:   --benchmark_min_time=$MIN_TIME $*"

status=0
for t in "${targets[@]}"; do
    bin="$BUILD_DIR/$t"
    echo
    echo "== $bin"
    if ! timeout "$TIMEOUT" "$bin" --benchmark_min_time="$MIN_TIME" "$@"; then
        echo "bench.sh: $bin failed or timed out" >&2
        status=1
    fi
done
exit $status
