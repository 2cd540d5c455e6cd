# shellcheck shell=bash
# The skeleton of the two-namespace tests (csum_e2e.sh, exception_e2e.sh):
# sipedge alone in namespace NS_E on one end of a veth (eth0, no kernel
# address: the data plane owns 192.0.2.10), the peer namespace NS_P on the
# other end (eth0, 192.0.2.1/24, its offload defaults kept: tx-checksumming
# on, as a user's namespace would). Both have no default route and are
# removed at exit with this run's processes (PIDS, by PID) and the EAL's
# runtime directory; logs are kept when a check failed or KEEP_LOGS=1.
#
# Source it, then: pair_setup <prefix> <tmp-tag>   (exits 77 when it cannot).
# Gives: P NS_E NS_P WORK PIDS FAILS, fail, ok, pair_start_edge.

. "$(dirname "${BASH_SOURCE[0]}")/reap.sh"

PIDS=()
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

pair_cleanup() {
    [ "${#PIDS[@]}" -gt 0 ] && reap "${PIDS[@]}" >/dev/null
    ip netns del "$NS_E" 2>/dev/null
    ip netns del "$NS_P" 2>/dev/null
    rm -rf "/var/run/dpdk/$P"
    if [ "${KEEP_LOGS:-0}" = 1 ] || [ "$FAILS" != 0 ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}

pair_setup() {
    P=$1$$
    NS_E=${P}edge
    NS_P=${P}peer
    WORK=$(mktemp -d "/tmp/sipedge-$2-XXXXXX")
    trap pair_cleanup EXIT
    local ns
    for ns in $NS_E $NS_P; do
        ip netns add "$ns" || { echo "SKIP: ip netns add failed"; exit 77; }
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    done
    ip -n "$NS_E" link add eth0 type veth peer name eth0 netns "$NS_P" || { echo "SKIP: no veth"; exit 77; }
    ip -n "$NS_E" link set eth0 up
    ip -n "$NS_P" addr add 192.0.2.1/24 dev eth0
    ip -n "$NS_P" link set eth0 up
}

# pair_start_edge <dir> <config> <file-prefix> [sipedge options...]: sipedge
# ($SIPEDGE, at most 120 s) in NS_E on net_af_packet over eth0 (-l 0-1), its
# exit JSON in <dir>/stats.json, stderr in <dir>/edge.log, control socket
# <dir>/ctl.sock; waits (20 s at most) until `sipedgectl wait-ready` ($CTL)
# says it is up. Sets EDGE_PID. Exits 77 when the exception tap (net_tap)
# cannot be created here; returns 1 after fail() when it does not come up.
pair_start_edge() {
    local dir=$1 conf=$2 fp=$3
    shift 3
    ip netns exec "$NS_E" "$SIPEDGE" --config "$conf" --socket "$dir/ctl.sock" --duration 120 "$@" \
        -- --no-huge -m 256 --no-pci --no-shconf -l 0-1 --file-prefix="$fp" \
        --vdev=net_af_packet0,iface=eth0 --log-level='*:error' >"$dir/stats.json" 2>"$dir/edge.log" &
    EDGE_PID=$!
    PIDS+=("$EDGE_PID")
    "$CTL" --socket "$dir/ctl.sock" wait-ready --timeout 20 >"$dir/ready.out" 2>&1 && return 0
    if grep -q "exception tap" "$dir/edge.log"; then
        echo "SKIP: net_tap could not be created here: $(grep 'exception tap' "$dir/edge.log")"
        FAILS=0
        exit 77
    fi
    fail "wait-ready: $(cat "$dir/ready.out"; tail -3 "$dir/edge.log")"
    return 1
}
