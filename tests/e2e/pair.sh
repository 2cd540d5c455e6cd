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
# Gives: P NS_E NS_P WORK PIDS FAILS, fail, ok.

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
