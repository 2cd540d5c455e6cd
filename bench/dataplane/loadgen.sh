#!/usr/bin/env bash
# Data-plane load benchmark: sipedge and sipedge-loadgen joined by net_memif
# (two DPDK processes, shared memory, no kernel in the packet path). Builds
# nothing: give it the two binaries.
#
#   caller(s) 198.18.0.10.. ─┐                     ┌─ sipedge 198.18.0.1 (memif server)
#   carrier UAS 198.18.0.200 ─┴─ loadgen (memif client) ─┘
#
# RFC 2544 benchmark addresses (198.18.0.0/15); nothing touches a kernel
# interface. Unique memif socket (abstract namespace) and EAL file prefixes,
# so parallel runs do not clash. sipedge's worker runs on CPU WORKER_CPU
# (default 1), the load generator on LG_CPU (default 0). Two sipedge
# generations are handled: the command-line thin path (--ip/--server, one
# worker on the main lcore) and the control-loop edge (--config FILE; control
# on the main lcore, which shares LG_CPU and mostly sleeps, worker on the next).
#
# Usage: loadgen.sh <sipedge> <sipedge-loadgen> [--calls N] [--rate CPS]
#          [--window N] [--callers N] [--duration S] [--max-txns N] [--t1 MS]
#          [--json FILE]
# WORKERS=N (environment): N workers and N generators, see below.
# Prints one summary line and one JSON object (also to --json FILE).
# Exit 0: every call completed and the checks held; 1: failures; 2: usage;
# 77: skipped (not root, or the EAL cannot start here).
set -u

SIPEDGE=${1:?usage: loadgen.sh <sipedge> <sipedge-loadgen> [options]}
LOADGEN=${2:?usage: loadgen.sh <sipedge> <sipedge-loadgen> [options]}
shift 2
CALLS=2000 RATE=0 WINDOW=256 CALLERS=4 DURATION=60 MAX_TXNS=16384 T1=500 JSON=
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || { echo "loadgen.sh: $1 needs a value" >&2; exit 2; }
    case $1 in
    --calls) CALLS=$2 ;;
    --rate) RATE=$2 ;;
    --window) WINDOW=$2 ;;
    --callers) CALLERS=$2 ;;
    --duration) DURATION=$2 ;;
    --max-txns) MAX_TXNS=$2 ;;
    --t1) T1=$2 ;;
    --json) JSON=$2 ;;
    *) echo "loadgen.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
done
for v in "$CALLS" "$WINDOW" "$CALLERS" "$DURATION" "$MAX_TXNS" "$T1"; do
    case $v in ''|*[!0-9]*) echo "loadgen.sh: numeric options only" >&2; exit 2 ;; esac
done

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (DPDK EAL)"; exit 77; }
[ -x "$SIPEDGE" ] && [ -x "$LOADGEN" ] || { echo "loadgen.sh: binaries not found" >&2; exit 2; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

WORKER_CPU=${WORKER_CPU:-1}
LG_CPU=${LG_CPU:-0}
# WORKERS=N (control-loop edge only): N sipedge workers, N queue pairs on the
# memif link and N generators (sipedge-loadgen --queues N), generator q
# talking to worker q. Workers on WORKER_CPUS (comma list; default CPUs
# 1..N), generators on LG_CPUS (default CPUs N+1..2N), each taken modulo the
# CPUs there are: a scaling figure needs 2N+1 CPUs (control and the main
# generator share LG_CPU). WORKERS=1 is the single-worker run above.
WORKERS=${WORKERS:-1}
case $WORKERS in ''|*[!0-9]*|0) echo "loadgen.sh: WORKERS must be 1-16" >&2; exit 2 ;; esac
[ "$WORKERS" -le 16 ] || { echo "loadgen.sh: WORKERS must be 1-16" >&2; exit 2; }
NCPU=$(nproc)
cpu_list() {  # <first> <count>: CPUs first.., modulo NCPU, comma separated
    local i out=
    for ((i = 0; i < $2; i++)); do out+="${out:+,}$((($1 + i) % NCPU))"; done
    echo "$out"
}

if [ "$WORKERS" = 1 ]; then
    WORKER_CPUS=${WORKER_CPUS:-$WORKER_CPU}
    LG_CPUS=${LG_CPUS:-$LG_CPU}
else
    WORKER_CPUS=${WORKER_CPUS:-$(cpu_list 1 "$WORKERS")}
    LG_CPUS=${LG_CPUS:-$(cpu_list $((WORKERS + 1)) "$WORKERS")}
fi
lcores() {  # <main cpu> <cpu list>: --lcores=0@main,1@c1,2@c2...
    local out="--lcores=0@$1" i=1 c
    IFS=, read -ra cs <<<"$2"
    for c in "${cs[@]}"; do out+=",$i@$c"; i=$((i + 1)); done
    echo "$out"
}
# NICE=-10 runs both under `nice -n -10` (recorded in the JSON). With
# sched_autogroup on, nice weighs only against this session's other tasks.
NICE=${NICE:-0}
case $NICE in ''|*[!0-9-]*) echo "loadgen.sh: NICE must be a number" >&2; exit 2 ;; esac
TAG="selg$$"
SOCK="/tmp/$TAG.sock"
WORK=$(mktemp -d "/tmp/sipedge-loadgen.XXXXXX")
EDGE_PID=
LG_PID=

# EDGE_CPU_QUOTA=<percent of one CPU> (1-100): sipedge runs in a CPU cgroup of
# its own (cgroup v1 `cpu` controller or v2 `cpu.max`, CFS period 10 ms), so
# that on a small machine the generator can offer a multiple of what sipedge
# can carry (issue 16: goodput under a flood at 2x capacity). Recorded in the JSON.
EDGE_CPU_QUOTA=${EDGE_CPU_QUOTA:-0}
case $EDGE_CPU_QUOTA in ''|*[!0-9]*) echo "loadgen.sh: EDGE_CPU_QUOTA must be a percentage" >&2; exit 2 ;; esac
CGROUP=
edge_cgroup() {  # <pid>: into a new cgroup limited to EDGE_CPU_QUOTA % of one CPU
    local pid=$1 q=$((EDGE_CPU_QUOTA * 100))
    if [ -d /sys/fs/cgroup/cpu ] && [ -f /sys/fs/cgroup/cpu/cpu.cfs_period_us ]; then
        CGROUP=/sys/fs/cgroup/cpu/$TAG
        mkdir "$CGROUP" && echo 10000 >"$CGROUP/cpu.cfs_period_us" && echo "$q" >"$CGROUP/cpu.cfs_quota_us" \
            && echo "$pid" >"$CGROUP/cgroup.procs"
    elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
        CGROUP=/sys/fs/cgroup/$TAG
        mkdir "$CGROUP" && echo "$q 10000" >"$CGROUP/cpu.max" && echo "$pid" >"$CGROUP/cgroup.procs"
    else
        echo "loadgen.sh: EDGE_CPU_QUOTA needs a cgroup cpu controller" >&2; return 1
    fi
}

cleanup() {
    for pid in $LG_PID $EDGE_PID; do kill -TERM "$pid" 2>/dev/null; done
    sleep 0.2
    for pid in $LG_PID $EDGE_PID; do kill -KILL "$pid" 2>/dev/null; done
    [ -n "$CGROUP" ] && { sleep 0.2; rmdir "$CGROUP" 2>/dev/null; }
    rm -rf "/var/run/dpdk/${TAG}e" "/var/run/dpdk/${TAG}g"  # EAL runtime dirs (ours)
    if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# The generators: lcore i on the i-th of LG_CPUS (generator 0 on the main lcore).
LG_LCORES="--lcores=$(IFS=, read -ra cs <<<"$LG_CPUS"; o=; i=0; for c in "${cs[@]}"; do o+="${o:+,}$i@$c"; i=$((i + 1)); done; echo "$o")"
EAL_COMMON="--no-huge --no-pci --no-shconf --no-telemetry --log-level=lib.eal:error"
# Started directly (its PID is the one stopped below and read for CPU time);
# its own --duration is the backstop should this script die first.
if "$SIPEDGE" --help 2>&1 | grep -q -- "--config"; then
    # The control-loop edge: the same set-up as startup-file commands.
    cat >"$WORK/edge.conf" <<EOF
set dataplane address 198.18.0.1/24
add trunk lg-carrier
set trunk lg-carrier server 1 198.18.0.200:5060 udp
set trunk lg-carrier register off
set trunk lg-carrier t1 $T1
set dataplane default-trunk lg-carrier
set dataplane access 198.18.0.10:5060
EOF
    EDGE_ARGS=(--config "$WORK/edge.conf" --socket "$WORK/ctl.sock")
    # EDGE_SHED=0: sipedge --no-overload-shed (never drops INVITEs for being behind).
    # Default: off in the closed loop (--rate 0: each caller's next call as soon
    # as a window slot frees), on when paced. A closed-loop generator keeps the
    # worker's RX ring non-empty by construction, and the shedding rule
    # (dataplane/overload.h: full polls for 5 ms and 512 packets drained) reads
    # that as overload: 200,000 calls with a window of 512 ran at 19,899 relayed
    # msgs/s with it on against 544,588 off (bench/RESULTS-dataplane.md).
    SHED_DEFAULT=1
    [ "$RATE" = 0 ] && SHED_DEFAULT=0
    if [ "${EDGE_SHED:-$SHED_DEFAULT}" = 0 ]; then
        EDGE_ARGS+=(--no-overload-shed)
        why="closed loop: see loadgen.sh"
        [ -n "${EDGE_SHED:-}" ] && why="EDGE_SHED=0"
        echo "loadgen.sh: sipedge runs with --no-overload-shed ($why)" >&2
    fi
    # EDGE_SPIN_NS=N: sipedge --bench-spin-ns N, a slower worker core, so that the
    # generator can offer a multiple of its capacity on a small machine.
    [ "${EDGE_SPIN_NS:-0}" != 0 ] && EDGE_ARGS+=(--bench-spin-ns "$EDGE_SPIN_NS")
    EDGE_LCORES=$(lcores "$LG_CPU" "$WORKER_CPUS")
else
    [ "$WORKERS" = 1 ] || { echo "loadgen.sh: WORKERS needs the control-loop edge (--config)" >&2; exit 2; }
    EDGE_ARGS=(--ip 198.18.0.1/24 --server 198.18.0.200:5060 --access 198.18.0.10:5060
               --t1 "$T1")
    EDGE_LCORES="--lcores=0@$WORKER_CPU"
fi
# EDGE_WRAP="cmd args": sipedge runs under that command (exec'ing, so the PID
# stays sipedge's): bench/dataplane/worker_ir.sh runs it under callgrind.
read -ra EDGE_WRAP_CMD <<<"${EDGE_WRAP:-}"
# EDGE_MEMIF: sipedge's side of the memif link. "server" (default): the
# generator connects to it and owns the shared memory; each side's PMD copies
# every packet between its mbufs and the shared buffers. "client-zc": sipedge
# is the memif client with zero-copy (its own mbufs are the shared buffers,
# the generator's PMD does both copies, as a vswitch would); it needs EAL
# --single-file-segments, and the generator, now the server, starts first.
# "client": the same roles without zero-copy.
EDGE_MEMIF=${EDGE_MEMIF:-server}
EDGE_VDEV="role=server" LG_VDEV="role=client" EDGE_EAL=
case $EDGE_MEMIF in
server) ;;
client) EDGE_VDEV="role=client" LG_VDEV="role=server" EDGE_EAL=--single-file-segments ;;
client-zc) EDGE_VDEV="role=client,zero-copy=yes" LG_VDEV="role=server" EDGE_EAL=--single-file-segments ;;
*) echo "loadgen.sh: EDGE_MEMIF is server, client or client-zc" >&2; exit 2 ;;
esac
wait_line() {  # <file> <text> <pid>: until the file has the text (0), the pid exits or 60 s pass (1)
    for _ in $(seq 1 600); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || break
        sleep 0.1
    done
    grep -q "$2" "$1" 2>/dev/null
}
start_edge() {
    nice -n "$NICE" "${EDGE_WRAP_CMD[@]}" "$SIPEDGE" "${EDGE_ARGS[@]}" --max-txns "$MAX_TXNS" \
        --duration $((DURATION + 40)) -- $EAL_COMMON $EDGE_EAL -m 512 "$EDGE_LCORES" --file-prefix="${TAG}e" \
        "--vdev=net_memif0,$EDGE_VDEV,socket=$SOCK,mac=02:00:00:5e:00:01" \
        >"$WORK/edge.json" 2>"$WORK/edge.err" &
    EDGE_PID=$!
    if [ "$EDGE_CPU_QUOTA" != 0 ]; then edge_cgroup "$EDGE_PID" || { echo "FAIL: cgroup"; exit 1; }; fi

    if ! wait_line "$WORK/edge.err" "running" "$EDGE_PID"; then  # EAL, port and transaction pools
        cat "$WORK/edge.err" >&2
        if grep -qE "EAL init failed|port .* (configure|start)|no DPDK port" "$WORK/edge.err"; then
            echo "SKIP: sipedge could not start its EAL/port here"; exit 77
        fi
        echo "FAIL: sipedge did not start"; exit 1
    fi
}
start_lg() {  # <link wait, s>
    nice -n "$NICE" timeout -k 5 $((DURATION + 90)) "$LOADGEN" --edge 198.18.0.1 --uas 198.18.0.200 \
        --caller 198.18.0.10 --callers "$CALLERS" --calls "$CALLS" --rate "$RATE" \
        --window "$WINDOW" --duration "$DURATION" --linger 30 --queues "$WORKERS" --link-wait "$1" \
        -- $EAL_COMMON -m 256 "$LG_LCORES" --file-prefix="${TAG}g" \
        "--vdev=net_memif0,$LG_VDEV,socket=$SOCK,mac=02:00:00:5e:00:02" \
        >"$WORK/lg.json" 2>"$WORK/lg.err" &
    LG_PID=$!
}

edge_ticks() { awk '{print $14 + $15}' "/proc/$EDGE_PID/stat" 2>/dev/null || echo 0; }
if [ "$EDGE_MEMIF" = server ]; then
    start_edge
    read -r LOAD_START _ < /proc/loadavg
    EDGE_TICKS0=$(edge_ticks)
    start_lg 10
else
    # The generator's memif server first (its socket must exist when
    # sipedge's client starts its port), then sipedge, within its link wait.
    start_lg 90
    if ! wait_line "$WORK/lg.err" "waiting for the link" "$LG_PID"; then
        cat "$WORK/lg.err" >&2
        if ! kill -0 "$LG_PID" 2>/dev/null; then
            wait "$LG_PID"
            rc=$?
            LG_PID=
            [ "$rc" = 4 ] && { echo "SKIP: the load generator could not start its EAL/port here"; exit 77; }
        fi
        echo "FAIL: the load generator did not start"; exit 1
    fi
    start_edge
    read -r LOAD_START _ < /proc/loadavg
    EDGE_TICKS0=$(edge_ticks)
fi
# The edge's CPU time is sampled from the moment calls start (the load
# generator says so on stderr) to the moment it exits; bounded by its timeout.
while kill -0 "$LG_PID" 2>/dev/null; do
    if grep -q "starting calls" "$WORK/lg.err" 2>/dev/null; then EDGE_TICKS0=$(edge_ticks); break; fi
    sleep 0.02
done
# The load generator reports, then stops polling and keeps its memif port
# open (--linger) until sipedge has stopped: DPDK 22.11's memif unmaps the
# shared rings from its interrupt thread when the peer goes, while the other
# side may still be polling them (sipedge crashed so in CI). Bounded by the
# load generator's own timeout.
while kill -0 "$LG_PID" 2>/dev/null; do
    grep -q "loadgen: done" "$WORK/lg.err" 2>/dev/null && break
    sleep 0.05
done
read -r LOAD_END _ < /proc/loadavg

# sipedge's CPU time (utime + stime, clock ticks) while calls ran, read
# before sipedge is stopped (TERM: it prints its counters; KILL after 10 s).
EDGE_CPU_TICKS=$(( $(edge_ticks) - EDGE_TICKS0 ))
kill -TERM "$EDGE_PID" 2>/dev/null
for _ in $(seq 1 100); do kill -0 "$EDGE_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$EDGE_PID" 2>/dev/null && kill -KILL "$EDGE_PID"
wait "$EDGE_PID" 2>/dev/null
EDGE_RC=$?
EDGE_PID=
# The load generator sees its link go down and exits (TERM after 5 s).
for _ in $(seq 1 50); do kill -0 "$LG_PID" 2>/dev/null || break; sleep 0.1; done
kill -TERM "$LG_PID" 2>/dev/null
wait "$LG_PID"
LG_RC=$?
LG_PID=
[ "$EDGE_RC" = 0 ] || { echo "sipedge exit status $EDGE_RC:" >&2; cat "$WORK/edge.err" >&2; }

cat "$WORK/lg.err" >&2
if [ "$LG_RC" = 4 ]; then
    echo "SKIP: the load generator could not start its EAL/port here"; exit 77
fi

python3 - "$WORK/lg.json" "$WORK/edge.json" "$LG_RC" "$CALLS" "$EDGE_CPU_TICKS" \
    "$(getconf CLK_TCK)" "$LOAD_START" "$LOAD_END" "$JSON" "$NICE" "$WORKERS" <<'PY'
import json, os, sys
lgf, edgef, rc, calls, ticks, hz, l0, l1, out, nice, nw = sys.argv[1:12]
rc, calls, nw = int(rc), int(calls), int(nw)
problems = []
try:
    lg = json.load(open(lgf))
except Exception as e:
    lg = None
    problems.append(f"loadgen JSON unreadable ({e}), exit status {rc}")
try:
    edge = json.load(open(edgef))
except Exception as e:
    edge = None
    problems.append(f"sipedge JSON unreadable ({e})")
res = {"ok": False, "loadgen_exit": rc, "loadgen": lg, "edge": edge}
if lg and edge:
    secs = lg["window_s"]
    s = edge["sip"]
    # Messages sipedge relayed (its own 100 Trying and other generated
    # responses left out), over the load generator's busy window.
    relayed = s["requests_tx"] + s["responses_tx"] - s["responses_generated"]
    workers = len(edge["workers"]) if isinstance(edge.get("workers"), list) else 1
    res["edge_relayed_msgs"] = relayed
    res["workers"] = workers
    res["edge_msgs_per_s"] = relayed / secs if secs else 0.0
    res["edge_msgs_per_s_per_worker"] = res["edge_msgs_per_s"] / workers
    edge_cpu = int(ticks) / int(hz)
    # sipedge busy-polls, so its CPU time is the time it had a core: on a
    # shared machine msgs per CPU-second is the per-core figure to compare.
    res["edge_msgs_per_cpu_s"] = relayed / edge_cpu if edge_cpu else 0.0
    res["cpu"] = {"edge_s": edge_cpu, "loadgen_s": lg.get("cpu_s"),
                  "loadavg_1m_start": float(l0), "loadavg_1m_end": float(l1),
                  "nice": int(nice), "edge_cpu_quota_percent": int(os.environ.get("EDGE_CPU_QUOTA", "0"))}
    c, d = lg["calls"], edge["drops"]
    if rc != 0: problems.append(f"loadgen exit status {rc}")
    if c["completed"] != calls: problems.append(f"completed {c['completed']} of {calls} calls")
    if edge["calls"]["answered"] < calls:
        problems.append(f"sipedge answered {edge['calls']['answered']} < {calls}")
    for r in ("udp_bad_csum", "ipv4_bad_csum", "sip_parse", "sip_rewrite", "txn_exhausted",
              "mbuf_exhausted", "sip_foreign_branch"):
        if d.get(r, 0): problems.append(f"sipedge drop {r} = {d[r]}")
    if lg["drops"]["bad_csum"]: problems.append(f"loadgen saw {lg['drops']['bad_csum']} bad checksums")
    if lg["latency_us"]["request_relay"]["count"] < 3 * calls:
        problems.append("fewer relay latency samples than requests")
    # WORKERS=N: N workers ran, and each answered its generator's share of the
    # calls (queue q of the link is worker q's and generator q's).
    if workers != nw: problems.append(f"{workers} sipedge workers, {nw} asked")
    elif nw > 1:
        for w in edge["workers"]:
            share = calls // nw + (1 if w["worker"] < calls % nw else 0)
            if w["calls_answered"] != share:
                problems.append(f"worker {w['worker']} answered {w['calls_answered']} calls, not its share {share}")
        res["per_worker_msgs_per_s"] = [w["udp_tx"] / secs if secs else 0.0 for w in edge["workers"]]
res["problems"] = problems
res["ok"] = not problems
text = json.dumps(res, separators=(",", ":"))
if out:
    with open(out, "w") as f: f.write(text + "\n")
if lg and edge:
    L = lg["latency_us"]
    print(f"loadgen: {lg['calls']['completed']}/{calls} calls in {lg['window_s']:.3f} s, "
          f"{lg['calls_per_s']:.0f} calls/s, sipedge {res['edge_msgs_per_s']:.0f} msgs/s "
          f"({res['edge_msgs_per_s_per_worker']:.0f}/worker, {res['workers']} worker; "
          f"{res['edge_msgs_per_cpu_s']:.0f} per edge CPU-second), "
          f"request relay p50/p99/max {L['request_relay']['p50']}/{L['request_relay']['p99']}/"
          f"{L['request_relay']['max']} us, response relay p50/p99/max "
          f"{L['response_relay']['p50']}/{L['response_relay']['p99']}/{L['response_relay']['max']} us"
          + ("" if res["ok"] else "; FAIL: " + "; ".join(problems)))
else:
    print("loadgen: FAIL: " + "; ".join(problems))
print(text)
sys.exit(0 if res["ok"] else 1)
PY
