# tests/e2e/lib.sh: the e2e topology and helpers, sourced by sustained_e2e.sh
# and relay_e2e.sh; proxy_e2e.sh and scripts/lab-demo.sh source it too, under
# proxy/common.sh, which redefines what differs in that suite (listed there).
#
#   caller 192.0.2.1 (sipp uac)      edge 192.0.2.10 (sipedge on DPDK net_af_packet;
#   car1   192.0.2.21                  the edge's eth0 holds no address: DPDK
#   car2   192.0.2.22                  answers ARP/ICMP for it)
#   car3   192.0.2.23                dns  198.51.100.53 (knotd, optional; linked to
#                                          the edge namespace's kernel, 198.51.100.10)
#
# Every host is a network namespace of its own, joined by a bridge in one
# more; TEST-NET addresses only, no default route anywhere, nothing sent from
# the root namespace. Everything this file starts is remembered by PID and
# stopped by PID on exit (cleanup trap), namespaces and work files removed.
#
# The sourcing script sets SIPEDGE and HERE (this directory) and calls
# e2e_init; e2e_init exits 77 (SKIP) without root, ip netns, sipp or python3.

SIPEDGECTL=${SIPEDGECTL:-$(dirname "$SIPEDGE")/sipedgectl}
FAILED=0
PIDS=()

fail() { echo "  FAIL $*"; FAILED=1; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

e2e_init() {
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
    command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
    command -v sipp >/dev/null || { echo "SKIP: no sipp"; exit 77; }
    command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
    [ -x "$SIPEDGE" ] || { echo "FAIL: no sipedge binary at $SIPEDGE"; exit 1; }
    [ -x "$SIPEDGECTL" ] || { echo "FAIL: no sipedgectl at $SIPEDGECTL"; exit 1; }
    P="ss$$"                     # unique prefix: parallel runs do not clash
    NS_BR=${P}br NS_UAC=${P}uac NS_EDGE=${P}edge NS_C1=${P}c1 NS_C2=${P}c2 NS_C3=${P}c3
    NS_DNS=
    WORK=$(mktemp -d /tmp/sipedge-sustained.XXXXXX)
    trap e2e_cleanup EXIT
    trap 'exit 130' INT TERM
}

e2e_cleanup() {
    local pid ns
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    sleep 0.3
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    for ns in $NS_UAC $NS_EDGE $NS_C1 $NS_C2 $NS_C3 $NS_BR ${NS_DNS:-}; do
        ip netns del "$ns" 2>/dev/null
    done
    # The EAL runtime directory of our sipedge runs (rte_eal_cleanup keeps it).
    rm -rf "/var/run/dpdk/$P"
    # A failed run keeps its files (sipp traces, sipedge's counters) for a look.
    if [ "${KEEP_LOGS:-0}" = 1 ] || [ "$FAILED" != 0 ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}

# Peers hand veth frames over with CHECKSUM_PARTIAL (the UDP checksum left to
# an offload that never happens on af_packet): TX checksum offload off on
# their eth0 (ETHTOOL_STXCSUM; no ethtool binary needed), so that sipedge
# checks real checksums as it would from a NIC.
TXCSUM_OFF='
import array, fcntl, socket, struct, sys
ETHTOOL_STXCSUM, SIOCETHTOOL = 0x17, 0x8946
val = array.array("B", struct.pack("II", ETHTOOL_STXCSUM, 0))
ifr = struct.pack("16sP", sys.argv[1].encode(), val.buffer_info()[0]).ljust(40, b"\0")
fcntl.ioctl(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), SIOCETHTOOL, ifr)
'

# bridge_topology <n>: the bridge, the caller, the edge and carriers 1..n
# (n = 1..3; car<k> at 192.0.2.2<k>). setup_topology: all three.
bridge_topology() {
    local ns k cars=""
    for k in $(seq 1 "$1"); do cars="$cars $(carrier_ns "$k")"; done
    for ns in $NS_BR $NS_UAC $NS_EDGE $cars; do
        ip netns add "$ns" || return 1
        in_ns "$ns" ip link set lo up
        in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        in_ns "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    done
    ip -n $NS_BR link add br0 type bridge || return 1
    ip -n $NS_BR link set br0 up
    for ns in $NS_UAC $NS_EDGE $cars; do
        ip -n $NS_BR link add "p_${ns#$P}" type veth peer name eth0 netns "$ns" || return 1
        ip -n $NS_BR link set "p_${ns#$P}" master br0 up
        ip -n "$ns" link set eth0 up
    done
    ip -n $NS_UAC addr add 192.0.2.1/24 dev eth0
    for k in $(seq 1 "$1"); do ip -n "$(carrier_ns "$k")" addr add "192.0.2.2$k/24" dev eth0; done
    # TX checksum offload off on the peers' eth0 (TXCSUM_OFF says why); the
    # edge's eth0 has no address: DPDK answers ARP/ICMP for 192.0.2.10.
    for ns in $NS_UAC $cars; do
        in_ns "$ns" python3 -c "$TXCSUM_OFF" eth0 || return 1
    done
}
setup_topology() { bridge_topology 3; }

# carrier_ns <n>: the namespace of car<n>.
carrier_ns() { case $1 in 1) echo $NS_C1 ;; 2) echo $NS_C2 ;; 3) echo $NS_C3 ;; esac; }

# link_set <n> down|up: the bridge's port to car<n> (the cable pulled at the
# switch). Down, nothing reaches car<n> and nothing leaves it, without ICMP:
# its eth0 loses carrier but keeps address and route, so its sipp's sends
# still succeed (into the void). (`ip link set eth0 down` inside car<n>
# would make its sends fail with ENETUNREACH instead: car1's sipp 3.6.1
# died of SIGSEGV during one such 30 s outage.) Up, it answers again.
# Prints the epoch times just before and just after the change (the command
# and date(1) take ~10 ms) to stdout.
link_set() {
    local ns t0
    ns=$(carrier_ns "$1")
    t0=$(date +%s.%N)
    ip -n $NS_BR link set "p_${ns#$P}" "$2" || { fail "ip link set car$1's bridge port $2"; return 1; }
    echo "$t0 $(date +%s.%N)"
}

start_bg() {  # start_bg <ns> <log> cmd...: background, PID remembered for cleanup
    local ns=$1 log=$2; shift 2
    ip netns exec "$ns" "$@" >"$log" 2>&1 &
    PIDS+=($!)
    LAST_PID=$!
}

# wait_bound <ns>: until something listens on UDP 5060 there (bounded, 5 s).
wait_bound() {
    local i
    for i in $(seq 1 50); do
        [ -n "$(ip netns exec "$1" ss -Hlun 'sport = :5060' 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    fail "nothing listens on UDP 5060 in $1"
}

# carrier <n> <name> <path> [<final status> [<extra header line>]]: sipp UAS on
# car<n> from sustained_carrier.xml. Paths: call (180, 200, ACK, BYE), answer
# (the same without the 180), reject (the final
# status with the extra header, e.g. "Retry-After: 30", then ACK), trying
# (100 Trying, then nothing: no final response, a CANCEL is taken and not
# answered). OPTIONS get 200 OK on every path. Files in $out: <name>_*_counts.csv
# (-trace_counts, every second), with CARRIER_TRACE=1 <name>_*_messages.log
# (-trace_msg). Lives CARRIER_LIFE seconds (default 120).
carrier() {
    local n=$1 name=$2 path=$3 final=${4:-200} extra=${5:-}
    local ns ip=192.0.2.2$n life=${CARRIER_LIFE:-120}
    ns=$(carrier_ns "$n")
    if [ -n "$extra" ]; then
        sed -e "s/@INV@/$final/" -e "s/@PATH@/$path/" -e "s/@EXTRA@/$extra/" \
            "$HERE/sustained_carrier.xml" >"$out/$name.xml"
    else
        sed -e "s/@INV@/$final/" -e "s/@PATH@/$path/" -e "/@EXTRA@/d" \
            "$HERE/sustained_carrier.xml" >"$out/$name.xml"
    fi
    local trace=
    [ "${CARRIER_TRACE:-0}" = 1 ] && trace=-trace_msg
    start_bg "$ns" "$out/$name.log" sh -c "cd '$out' && exec timeout $((life + 10)) sipp -sf '$out/$name.xml' \
        -i $ip -p 5060 -nostdin -timeout ${life}s -trace_counts -fd 1 -trace_err $trace"
    wait_bound "$ns"
}

# edge_config [static|dns] <extra lines...>: $out/edge.conf, the startup file
# (socket commands): trunk `carrier` with car1 > car2 > car3 (static) or the
# domain carrier.example (dns: NAPTR/SRV from knotd), no registration, the
# OPTIONS monitor always on every 2 s; the extra lines after (they win), then
# E2E_EXTRA_CONF (lines, for trying a knob by hand: the checks read the knobs
# they need from the running trunk).
edge_config() {
    local mode=$1; shift
    {
        echo "set dataplane address 192.0.2.10/24"
        echo "set dataplane access 192.0.2.1:5060"
        [ "$mode" = dns ] && echo "set global dns-server 198.51.100.53"
        echo "add trunk carrier"
        if [ "$mode" = dns ]; then
            echo "set trunk carrier server 1 carrier.example transport dnsNaptr"
        else
            echo "set trunk carrier server 1 192.0.2.21:5060 udp"
            echo "set trunk carrier server 2 192.0.2.22:5060 udp"
            echo "set trunk carrier server 3 192.0.2.23:5060 udp"
        fi
        echo "set trunk carrier register off"
        echo "set trunk carrier monitor always"
        echo "set trunk carrier monitor-interval 2"
        echo "set dataplane default-trunk carrier"
        local l
        for l in "$@"; do echo "$l"; done
        [ -n "${E2E_EXTRA_CONF:-}" ] && printf '%s\n' "$E2E_EXTRA_CONF"
    } >"$out/edge.conf"
}

# start_edge: sipedge in the edge namespace on $out/edge.conf, control socket
# $out/ctl.sock, counters (JSON) in $out/stats.json on exit. Runs at most
# EDGE_DURATION seconds (default 120). Returns 1 when it does not come up.
start_edge() {
    local dur=${EDGE_DURATION:-120}
    start_bg $NS_EDGE "$out/sipedge.err" sh -c "exec timeout $((dur + 10)) '$SIPEDGE' --config '$out/edge.conf' \
        --socket '$out/ctl.sock' --duration $dur \
        -- --no-huge -m 512 --no-pci --no-shconf --no-telemetry -l 0-1 --file-prefix=$P \
        --log-level=lib.eal:error --vdev=net_af_packet0,iface=eth0 >'$out/stats.json'"
    EDGE_PID=$LAST_PID
    local i
    for i in $(seq 1 50); do   # bounded: the data plane says "running" once the port is up
        grep -q "running" "$out/sipedge.err" 2>/dev/null && break
        kill -0 "$EDGE_PID" 2>/dev/null || break
        sleep 0.2
    done
    if ! grep -q "running" "$out/sipedge.err" 2>/dev/null; then
        fail "sipedge did not start: $(tail -3 "$out/sipedge.err")"
        return 1
    fi
    # Ports started, every worker polling with a routing table (show ready).
    if ! "$SIPEDGECTL" --socket "$out/ctl.sock" wait-ready --timeout 20 >"$out/ready.out" 2>&1; then
        fail "sipedge not ready: $(tail -2 "$out/ready.out")"
        return 1
    fi
}

# ctl <command words...>: sipedgectl on this run's socket (a Unix socket: no
# network traffic), reply on stdout.
ctl() { timeout 10 "$SIPEDGECTL" --socket "$out/ctl.sock" "$@"; }

# trunk_knob <key>: the running trunk's value of a knob (show trunk --json).
trunk_knob() {
    ctl --json show trunk carrier 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("data", d)
v = d["knobs"][sys.argv[1]]
print(v if not isinstance(v, bool) else ("on" if v else "off"))' "$1"
}

# poll_servers <seconds> <file>: `show servers` (JSON) every 0.2 s into
# <file>, one line per poll with its time, in the background (bounded).
poll_servers() {
    python3 - "$out/ctl.sock" "$1" "$2" <<'PY' &
import json, socket, sys, time
sock, limit, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
end = time.time() + limit
with open(path, "w") as f:
    while time.time() < end:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(2)
            s.connect(sock)
            s.sendall(b"show servers\n")
            buf = b""
            while not buf.endswith(b"\n"):
                d = s.recv(65536)
                if not d:
                    break
                buf += d
            s.close()
            f.write(json.dumps({"t": time.time(), "reply": json.loads(buf)}) + "\n")
            f.flush()
        except Exception as e:
            f.write(json.dumps({"t": time.time(), "error": str(e)}) + "\n")
        time.sleep(0.2)
PY
    PIDS+=($!)
    POLL_PID=$!
}

# uac <calls> <rate> [<extra sipp args>...]: the caller (sustained_uac.xml: INVITE ->
# 200 timed as rtd 1, ACK, hold of HOLD_MS (1000), BYE), in the background;
# UAC_PID. -trace_rtt -rtt_freq 1: every call's setup time in
# $out/uac_*_rtt.csv; statistics in $out/uac.csv; counts in uac_*_counts.csv.
# -l (open calls) is 20 s worth of calls: sipp's default, 3 x hold x rate,
# would slow the caller down while calls wait a rollover.
uac() {
    local calls=$1 rate=$2; shift 2
    local life=$((calls / rate + 60))
    cp "$HERE/sustained_uac.xml" "$out/uac.xml"
    UAC_T0=$(date +%s.%N)
    start_bg $NS_UAC "$out/uac.log" sh -c "cd '$out' && exec timeout $((life + 10)) sipp 192.0.2.10:5060 \
        -i 192.0.2.1 -p 5060 -sf '$out/uac.xml' -m $calls -r $rate -l $((rate * 20)) -d ${HOLD_MS:-1000} -nostdin \
        -timeout ${life}s -timeout_error -trace_stat -stf '$out/uac.csv' -fd 1 -trace_rtt -rtt_freq 1 \
        -trace_counts -trace_err -error_file '$out/uac.err' $*"
    UAC_PID=$LAST_PID
}

uac_wait() {  # the caller's exit status in UAC_RC
    wait "$UAC_PID"
    UAC_RC=$?
}

# reap <pid>...: tests/e2e/reap.sh
. "$(dirname "${BASH_SOURCE[0]}")/reap.sh"

# stop_run: sipedge and this run's peers (our PIDs only).
stop_run() {
    local f cf=()  # the carriers' next dump (not the caller's: it has exited): counts complete
    for f in "$out"/*_counts.csv; do case ${f##*/} in uac_*) ;; *) cf+=("$f") ;; esac; done
    written_after "$(date +%s.%N)" "${cf[@]}"
    kill -TERM "$EDGE_PID" 2>/dev/null
    local i k
    for i in $(seq 1 50); do kill -0 "$EDGE_PID" 2>/dev/null || break; sleep 0.1; done
    reap "$EDGE_PID" "${PIDS[@]:$RUN_FIRST}"
    [ -n "${NS_DNS:-}" ] && { ip netns del "$NS_DNS" 2>/dev/null; ip -n $NS_EDGE link del eth1 2>/dev/null; NS_DNS=; }
    local n ns
    for n in 1 2 3; do ns=$(carrier_ns $n); ip -n $NS_BR link set "p_${ns#$P}" up 2>/dev/null; done
}

begin() {  # begin <run name> <description>
    out=$WORK/$1
    mkdir -p "$out"
    RUN_FIRST=${#PIDS[@]}
    local ns
    for ns in $NS_UAC $NS_C1 $NS_C2 $NS_C3; do ip -n "$ns" neigh flush all 2>/dev/null; done
    echo "== $1: $2"
}

# dns_ns <zone records...>: knotd in namespace $NS_DNS on 198.51.100.53,
# linked to the edge namespace's kernel (eth1 198.51.100.10), serving
# carrier.example with the given records after the SOA/NS ones.
dns_ns() {
    command -v knotd >/dev/null || { echo "  SKIP knotd not installed"; return 77; }
    NS_DNS=${P}dns
    ip netns add $NS_DNS && ip -n $NS_DNS link set lo up || { fail "dns: namespace"; return 1; }
    ip -n $NS_EDGE link add eth1 type veth peer name eth0 netns $NS_DNS || { fail "dns: veth"; return 1; }
    ip -n $NS_EDGE addr add 198.51.100.10/24 dev eth1; ip -n $NS_EDGE link set eth1 up
    ip -n $NS_DNS addr add 198.51.100.53/24 dev eth0; ip -n $NS_DNS link set eth0 up
    mkdir -p "$out/knot"
    cat >"$out/knot/knot.conf" <<KNOT
server:
    rundir: "$out/knot"
    listen: 198.51.100.53@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$out/knot"
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: "$out/knot"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
  - domain: carrier.example
KNOT
    {
        echo '$ORIGIN carrier.example.'
        echo '$TTL 30'
        echo '@ SOA ns hostmaster 1 3600 600 86400 30'
        echo '@ NS ns'
        echo 'ns A 198.51.100.53'
        local r
        for r in "$@"; do echo "$r"; done
    } >"$out/knot/carrier.example.zone"
    start_bg $NS_DNS "$out/knot.log" timeout $((${CARRIER_LIFE:-120} + 10)) knotd -c "$out/knot/knot.conf"
    local i
    for i in $(seq 1 50); do
        [ -n "$(ip netns exec $NS_DNS ss -Hlun 'sport = :53' 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    fail "dns: knotd does not listen"
    return 1
}

# wait_resolved <address>: bounded (10 s) until `show dns` has an answer
# <address> from source dns in the engine's server set.
wait_resolved() {
    local i
    for i in $(seq 1 50); do
        ctl --json show dns >"$out/show_dns.json" 2>&1
        grep -q "\"answer\":\"$1\"" "$out/show_dns.json" && grep -q '"source":"dns"' "$out/show_dns.json" \
            && { echo "  ok   show dns: carrier.example resolved ($1 among the answers, ${i} polls)"; return 0; }
        sleep 0.2
    done
    fail "dns: not resolved: $(head -c 600 "$out/show_dns.json"; tail -3 "$out/knot.log")"
    return 1
}

# check_py <python code> [args...]: runs the check code with sustained_lib
# importable; its exit status decides (FAILED on non-zero).
check_py() {
    local code=$1; shift
    PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" python3 -c "$code" "$out" "$@" || FAILED=1
}
