#!/usr/bin/env bash
# Side by side (issue 15): sipedge and Kamailio driven by the same generator
# (sipedge-loadgen on DPDK net_af_packet), the same call flow
# (INVITE/100/180/200/ACK/BYE/200, callers and carrier played by the
# generator), the same rates, one after the other in one run.
#
#   ns sbsg<pid>: sipedge-loadgen on lg0 (af_packet, no kernel address)
#        │ veth
#   ns sbsp<pid>: px0 — either Kamailio (Debian 12's 5.6, bench/peers/kamailio.cfg)
#                 on the kernel's UDP socket 198.18.0.1:5060, or sipedge on
#                 net_af_packet over px0 (peer `sipedge`) or on net_af_xdp over
#                 px0 (peer `sipedge-xdp`: an XDP program on px0 redirects
#                 every frame to the AF_XDP socket; copy mode on a veth),
#                 address 198.18.0.1 its own
#
# Both namespaces are created here, have no default route, and are removed
# at exit. The proxy runs on CPU PROXY_CPU (default 1: Kamailio pinned with
# taskset, sipedge's worker lcore); the generator on LG_CPU (default 0, with
# sipedge's control thread, which mostly sleeps).
#
# Cost per call: Kamailio — CPU time (utime+stime) of all its processes while
# the calls ran; sipedge — its worker's busy cycles (exit JSON cycles.busy /
# tsc_hz: polls that found work; its idle polling is not work) and, apart,
# its whole process CPU time (which includes the idle polling).
#
# Usage: sidebyside.sh <sipedge> <sipedge-loadgen> [--rates "1000 2000"]
#          [--seconds S] [--peers "kamailio sipedge"] [--kam-children N] [--json FILE]
# Prints one line per run and a JSON array (also to --json FILE).
# Exit 0 when every run produced figures; 1 otherwise; 77 skip (not root,
# no kamailio, EAL cannot start). Kamailio: `bash scripts/install-deps.sh --peers`.
set -u

SIPEDGE=${1:?usage: sidebyside.sh <sipedge> <sipedge-loadgen> [options]}
LOADGEN=${2:?usage: sidebyside.sh <sipedge> <sipedge-loadgen> [options]}
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
RATES="1000 2000" SECONDS_=10 PEERS="kamailio sipedge" KAM_CHILDREN=1 JSON=
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || { echo "sidebyside.sh: $1 needs a value" >&2; exit 2; }
    case $1 in
    --rates) RATES=$2 ;;
    --seconds) SECONDS_=$2 ;;
    --peers) PEERS=$2 ;;
    --kam-children) KAM_CHILDREN=$2 ;;
    --json) JSON=$2 ;;
    *) echo "sidebyside.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
done
for v in $RATES "$SECONDS_" "$KAM_CHILDREN"; do
    case $v in ''|*[!0-9]*) echo "sidebyside.sh: numeric rates, seconds, children only" >&2; exit 2 ;; esac
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (namespaces, DPDK EAL)"; exit 77; }
case " $PEERS " in *" kamailio "*)
    command -v kamailio >/dev/null || { echo "SKIP: no kamailio (bash scripts/install-deps.sh --peers)"; exit 77; } ;;
esac
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

PROXY_CPU=${PROXY_CPU:-1}
LG_CPU=${LG_CPU:-0}
NSG="sbsg$$" NSP="sbsp$$" TAG="sbs$$"
WORK=$(mktemp -d /tmp/sipedge-sbs.XXXXXX)
PIDS=()
EAL_COMMON="--no-huge --no-pci --no-shconf --no-telemetry --log-level=lib.eal:error"

cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$NSG" 2>/dev/null
    ip netns del "$NSP" 2>/dev/null
    rm -rf /var/run/dpdk/${TAG}*
    if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# TX checksum offload off (ETHTOOL_STXCSUM): the kernel's UDP datagrams leave
# px0 with full checksums, as from a NIC, for the generator to verify.
TXCSUM_OFF='
import array, fcntl, socket, struct, sys
val = array.array("B", struct.pack("II", 0x17, 0))
ifr = struct.pack("16sP", sys.argv[1].encode(), val.buffer_info()[0]).ljust(40, b"\0")
fcntl.ioctl(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), 0x8946, ifr)
'

topology() {  # fresh namespaces and veth for one run
    ip netns del "$NSG" 2>/dev/null; ip netns del "$NSP" 2>/dev/null
    ip netns add "$NSG" && ip netns add "$NSP" || return 1
    for ns in "$NSG" "$NSP"; do
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    ip link add "lg$$" type veth peer name "px$$" || return 1
    ip link set "lg$$" netns "$NSG" && ip link set "px$$" netns "$NSP" || return 1
    ip -n "$NSG" link set "lg$$" name lg0 && ip -n "$NSP" link set "px$$" name px0 || return 1
    ip -n "$NSG" link set lg0 up && ip -n "$NSP" link set px0 up
    ip netns exec "$NSP" python3 -c "$TXCSUM_OFF" px0
    ip netns exec "$NSG" python3 -c "$TXCSUM_OFF" lg0
}

# The EAL device sipedge drives px0 with.
proxy_vdev() {
    case $1 in
    sipedge-xdp) echo "--vdev=net_af_xdp0,iface=px0,start_queue=0,queue_count=1" ;;
    *) echo "--vdev=net_af_packet0,iface=px0" ;;
    esac
}

ticks_of() {  # utime+stime of the given PIDs and their children (clock ticks)
    local t=0 p c
    for p in "$@"; do
        for c in $p $(pgrep -P "$p" 2>/dev/null); do
            [ -r "/proc/$c/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat")))
        done
    done
    echo "$t"
}

# sipedge's worker busy cycles now (`show stats` total.busy_cycles), into <file>:
# the cost is counted over the same window as Kamailio's CPU time.
CTL="$(dirname "$SIPEDGE")/sipedgectl"
busy_snapshot() {
    case $1 in sipedge|sipedge-xdp) ;; *) return 0 ;; esac
    timeout 5 "$CTL" --socket "$WORK/ctl.sock" --json show stats 2>/dev/null \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["total"]["busy_cycles"])' >"$2" 2>"$2.err"
}

# One run: <peer> <rate>. Writes $WORK/<peer>-<rate>.{lg.json,lg.err,proxy.*,meta}.
run_one() {
    local peer=$1 rate=$2 out="$WORK/$1-$2" calls=$(( $2 * SECONDS_ )) ppid
    topology || { echo "FAIL: topology" >&2; return 1; }
    if [ "$peer" = kamailio ]; then
        ip -n "$NSP" addr add 198.18.0.1/24 dev px0
        mkdir -p "$WORK/kam-run"
        ip netns exec "$NSP" taskset -c "$PROXY_CPU" kamailio -f "$HERE/kamailio.cfg" -DD -E \
            -n "$KAM_CHILDREN" -m 1024 -M 32 -Y "$WORK/kam-run" >"$out.proxy.out" 2>"$out.proxy.err" &
        ppid=$!
        for _ in $(seq 1 100); do  # bounded: 10 s to bind
            ip netns exec "$NSP" ss -Hlun 2>/dev/null | grep -q "198.18.0.1:5060" && break
            sleep 0.1
        done
    else
        cat >"$out.edge.conf" <<CONF
set dataplane address 198.18.0.1/24
add trunk lg-carrier
set trunk lg-carrier server 1 198.18.0.200:5060 udp
set trunk lg-carrier register off
set dataplane default-trunk lg-carrier
set dataplane access 198.18.0.10:5060
CONF
        ip netns exec "$NSP" "$SIPEDGE" --config "$out.edge.conf" --socket "$WORK/ctl.sock" \
            --max-txns 262144 --duration $((SECONDS_ + 60)) \
            -- $EAL_COMMON -m 512 "--lcores=0@$LG_CPU,1@$PROXY_CPU" --file-prefix="${TAG}e" \
            "$(proxy_vdev "$peer")" >"$out.proxy.out" 2>"$out.proxy.err" &
        ppid=$!
        for _ in $(seq 1 600); do
            grep -q "running" "$out.proxy.err" 2>/dev/null && break
            kill -0 "$ppid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    PIDS+=("$ppid")
    kill -0 "$ppid" 2>/dev/null || { echo "FAIL: $peer did not start:" >&2; tail -5 "$out.proxy.err" >&2; return 1; }
    if [ "$peer" != kamailio ]; then
        # The first per-core counters (refreshed once a second), taken while
        # the worker is idle, before the generator starts: the busy cycles
        # the calls cost are busy1 - busy0.
        for _ in $(seq 1 30); do
            busy_snapshot "$peer" "$out.busy0" && [ -s "$out.busy0" ] && break
            sleep 0.2
        done
    fi
    ip netns exec "$NSG" timeout -k 5 $((SECONDS_ + 60)) "$LOADGEN" --edge 198.18.0.1 \
        --uas 198.18.0.200 --caller 198.18.0.10 --callers 4 --calls "$calls" --rate "$rate" \
        --window 65536 --duration $((SECONDS_ + 30)) \
        -- $EAL_COMMON -m 256 "--lcores=0@$LG_CPU" --file-prefix="${TAG}g" \
        --vdev=net_af_packet0,iface=lg0 >"$out.lg.json" 2>"$out.lg.err" &
    local lg=$! t0 t1
    PIDS+=("$lg")
    t0=$(ticks_of "$ppid")
    while kill -0 "$lg" 2>/dev/null; do  # bounded by the generator's timeout
        if grep -q "starting calls" "$out.lg.err" 2>/dev/null; then t0=$(ticks_of "$ppid"); break; fi
        sleep 0.02
    done
    wait "$lg"
    local lgrc=$?
    t1=$(ticks_of "$ppid")
    # show stats is refreshed once a second: read it once the calls are over
    # and the worker idle, so the value holds all their busy cycles.
    [ "$peer" != kamailio ] && { sleep 1.2; busy_snapshot "$peer" "$out.busy1"; }
    kill -TERM "$ppid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$ppid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ppid" 2>/dev/null
    wait "$ppid" 2>/dev/null
    echo "{\"peer\":\"$peer\",\"rate\":$rate,\"calls\":$calls,\"loadgen_rc\":$lgrc,\"proxy_ticks\":$((t1 - t0)),\"clk_tck\":$(getconf CLK_TCK)}" >"$out.meta"
    tail -n 2 "$out.lg.err" | head -n 1 >&2
}

for rate in $RATES; do
    for peer in $PEERS; do
        case $peer in kamailio|sipedge|sipedge-xdp) ;; *) echo "sidebyside.sh: unknown peer $peer" >&2; exit 2 ;; esac
        echo "== $peer at $rate calls/s for $SECONDS_ s" >&2
        run_one "$peer" "$rate"
    done
done

python3 - "$WORK" "$JSON" "$(kamailio -v 2>/dev/null | head -n 1)" "$KAM_CHILDREN" <<'PY'
import glob, json, os, sys
work, out, kamv, children = sys.argv[1:5]
rows, ok = [], True
for meta in sorted(glob.glob(os.path.join(work, "*.meta"))):
    base = meta[:-5]
    m = json.load(open(meta))
    r = {"peer": m["peer"], "rate": m["rate"], "calls": m["calls"], "loadgen_exit": m["loadgen_rc"]}
    try:
        lg = json.load(open(base + ".lg.json"))
    except Exception as e:
        r["problem"] = "no generator JSON (%s)" % e
        rows.append(r); ok = False; continue
    c, L = lg["calls"], lg["latency_us"]
    r.update(completed=c["completed"], failed=c["failed"], timeout=c["timeout"],
             calls_per_s=round(lg["calls_per_s"], 1), window_s=lg["window_s"],
             setup_p50_ms=round(L["invite_to_200"]["p50"] / 1000, 2),
             setup_p99_ms=round(L["invite_to_200"]["p99"] / 1000, 2),
             retransmissions=lg["messages"]["retransmissions_tx"],
             generator_drops=lg["drops"])
    proc_s = m["proxy_ticks"] / m["clk_tck"]
    r["proxy_process_cpu_s"] = proc_s
    if m["peer"].startswith("sipedge"):
        try:
            e = json.loads(open(base + ".proxy.out").read().strip().splitlines()[-1])
            # Busy cycles while the calls ran (show stats at their start and
            # end); the whole run's from the exit JSON if a snapshot failed.
            try:
                cyc = int(open(base + ".busy1").read()) - int(open(base + ".busy0").read())
                r["busy_window"] = "calls"
            except Exception:
                cyc = e["cycles"]["busy"]
                r["busy_window"] = "whole run"
            busy = cyc / e["cycles"]["tsc_hz"]
            r["proxy_busy_s"] = round(busy, 3)
            r["cpu_us_per_call"] = round(busy / max(1, c["completed"]) * 1e6, 1)
            r["edge_drops"] = {k: v for k, v in e["drops"].items() if v}
        except Exception as ex:
            r["problem"] = "no sipedge exit JSON (%s)" % ex; ok = False
    else:
        r["kamailio"] = kamv
        r["kamailio_children"] = int(children)
        r["cpu_us_per_call"] = round(proc_s / max(1, c["completed"]) * 1e6, 1)
    r["p99_le_50ms"] = r["setup_p99_ms"] <= 50 and c["completed"] == m["calls"]
    rows.append(r)
    print("%-9s %6d calls/s offered: %d/%d completed (%d timed out), %.0f calls/s, setup p50/p99 %.2f/%.2f ms, "
          "%d retransmissions, CPU %.1f us/call%s" % (r["peer"], r["rate"], r["completed"], r["calls"], r["timeout"],
          r["calls_per_s"], r["setup_p50_ms"], r["setup_p99_ms"], r["retransmissions"], r.get("cpu_us_per_call", -1),
          " (worker busy over the %s; process %.1f s)" % (r.get("busy_window"), proc_s) if r["peer"].startswith("sipedge") else " (all processes)"))
text = json.dumps(rows)
if out:
    open(out, "w").write(text + "\n")
print(text)
sys.exit(0 if ok and rows else 1)
PY
