# tests/e2e/proxy/common.sh: the helpers of proxy_e2e.sh's scenarios (one
# file each next to this one) and of scripts/lab-demo.sh. Sourced after
# tests/e2e/lib.sh, whose in_ns, TXCSUM_OFF, start_bg, wait_bound and dns_ns
# (through dns_ns_carrier below) are used as they are.
#
# Topology (no car3 on the bridge, unlike lib.sh's):
#   caller 192.0.2.1 (sipp uac)   edge 192.0.2.10 (sipedge, DPDK owns the address)
#   car1   192.0.2.21 (primary)   car2 192.0.2.22 (secondary)
# plus, on demand, knotd 198.51.100.53 (dns_ns_carrier) and, for twoport,
# car3 198.51.100.21 behind a user-space 802.1Q switch (twoport.sh).
#
# These lib.sh functions are redefined here, because this suite's differ:
#   fail            prints "FAIL: <what>" at the start of the line (lib.sh: "  FAIL <what>")
#   setup_topology  two carriers only; car1 answers every closed-port datagram
#                   with ICMP (icmp_ratelimit 0)
#   carrier         <ns> <ip> <name> <REGISTER status> <INVITE final> from
#                   uas_carrier.xml, 90 s (lib.sh: sustained_carrier.xml by number)
#   start_edge      EDGE_VDEV/EDGE_LCORES chosen per scenario, 80 s by default
#   uac             in the foreground, uac_*.xml given by the scenario
#   stop_run        leaves the DNS namespace and bridge ports as they are
#   begin           flushes the caller's and car1/car2's neighbours only
#   wait_resolved   no argument: waits for car2's answer (192.0.2.22:5060)
# and init/cleanup are proxy_init/proxy_cleanup (prefix se<pid>, work files in
# /tmp/sipedge-e2e.*, kept only with KEEP_LOGS=1; sipedgectl not required up
# front: the scenarios that need it fail on their own). lib.sh's ctl is
# ctl_expect here (another signature; lib.sh's own helpers use ctl).

fail() { echo "FAIL: $*"; FAILED=1; }

# proxy_init: exit 77 (SKIP) without root, ip netns, sipp or python3; the
# namespace names, the work directory and the cleanup trap.
proxy_init() {
    [ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
    command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
    command -v sipp >/dev/null || { echo "SKIP: no sipp"; exit 77; }
    command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

    P="se$$"                         # unique prefix: parallel runs do not clash
    NS_BR=${P}br NS_UAC=${P}uac NS_EDGE=${P}edge NS_C1=${P}c1 NS_C2=${P}c2
    WORK=$(mktemp -d /tmp/sipedge-e2e.XXXXXX)
    PIDS=()
    trap proxy_cleanup EXIT
}

proxy_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    sleep 0.3
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    for ns in $NS_UAC $NS_EDGE $NS_C1 $NS_C2 $NS_BR ${NS_DNS:-} ${NS_BR2:-} ${NS_C3:-}; do
        ip netns del "$ns" 2>/dev/null
    done
    # The EAL runtime directories sipedge leaves (every run here uses one of
    # these prefixes; rte_eal_cleanup keeps them): ours only, never another run's.
    rm -rf "/var/run/dpdk/$P" "/var/run/dpdk/${P}bad"
    if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}

# lib.sh's bridge with two carriers; the primary must answer every
# closed-port datagram (icmp scenario).
setup_topology() {
    bridge_topology 2 || return 1
    in_ns $NS_C1 sysctl -qw net.ipv4.icmp_ratelimit=0
}

# carrier <ns> <ip> <name> <register status> <invite final>: sipp answering
# REGISTER and INVITE as told, counts in $out/<name>_*_counts.csv.
# BIG_ANSWER=1: the 200 OK carries a ~4 KB SDP too (fragmented both ways).
# CARRIER_EXTRA: more sipp options (-trace_msg).
carrier() {
    local ns=$1 ip=$2 name=$3 reg=$4 inv=$5 path=call
    [ "$inv" = 200 ] || path=reject
    sed -e "s/@REG@/$reg/" -e "s/@INV@/$inv/" -e "s/@PATH@/$path/" \
        "$HERE/uas_carrier.xml" >"$out/$name.xml"
    [ "${BIG_ANSWER:-0}" = 1 ] && python3 "$HERE/proxy/big_answer.py" "$out/$name.xml"
    start_bg "$ns" "$out/$name.log" sh -c "cd '$out' && exec timeout 100 sipp -sf '$out/$name.xml' \
        -i $ip -p 5060 -nostdin -timeout 90s -trace_counts -fd 1 -trace_err ${CARRIER_EXTRA:-}"
    wait_bound "$ns"
}

# silent_sink <ns> <ip>: a UDP socket that reads and never answers (no ICMP
# either); SINK_PID.
silent_sink() {
    start_bg "$1" "$out/sink.log" timeout 100 python3 "$HERE/proxy/silent_sink.py" "$2"
    SINK_PID=$LAST_PID
    wait_bound "$1"
}

# write_config <extra lines...>: the startup file (socket commands).
write_config() {
    {
        echo "set dataplane address 192.0.2.10/24"
        echo "set dataplane access 192.0.2.1:5060"
        echo "add trunk carrier"
        echo "set trunk carrier server 1 192.0.2.21:5060 udp"
        echo "set trunk carrier server 2 192.0.2.22:5060 udp"
        echo "set trunk carrier rollover 1"
        echo "set dataplane default-trunk carrier"
        local l
        for l in "$@"; do echo "$l"; done
    } >"$out/edge.conf"
}

# The edge's DPDK port on its eth0. net_af_packet joins a PACKET_FANOUT group
# with the kernel's DEFRAG flag, so it never sees IPv4 fragments; the
# fragment scenario uses net_pcap (libpcap, no defrag) to reach sipedge's own
# reassembly.
EDGE_VDEV=net_af_packet0,iface=eth0
start_edge() {
    start_bg $NS_EDGE "$out/sipedge.err" sh -c "exec timeout $((${EDGE_DURATION:-80} + 10)) '$SIPEDGE' --config '$out/edge.conf' \
        --socket '$out/ctl.sock' --duration ${EDGE_DURATION:-80} \
        -- --no-huge -m 512 --no-pci --no-shconf --no-telemetry ${EDGE_LCORES:--l 0-1} --file-prefix=$P \
        --log-level=lib.eal:error --vdev=$EDGE_VDEV >'$out/stats.json'"
    EDGE_PID=$LAST_PID
    # Wait (bounded) for the data plane: it answers ARP once the port is up.
    local i
    for i in $(seq 1 50); do
        grep -q "running" "$out/sipedge.err" 2>/dev/null && break
        sleep 0.2
    done
    # Ports started, every worker polling with a routing table (show ready).
    "$SIPEDGECTL" --socket "$out/ctl.sock" wait-ready --timeout 20 >"$out/ready.out" 2>&1 ||
        fail "sipedge not ready: $(tail -2 "$out/ready.out")"
}

# uac <calls> <rate> <sipp scenario args...>: the caller, in the foreground.
uac() {
    local calls=$1 rate=$2; shift 2
    in_ns $NS_UAC timeout 60 sipp 192.0.2.10:5060 -i 192.0.2.1 -p 5060 "$@" \
        -m "$calls" -r "$rate" -nostdin -timeout 50s -timeout_error \
        -trace_stat -stf "$out/uac.csv" -trace_err -error_file "$out/uac.err" \
        >"$out/uac.log" 2>&1
    UAC_RC=$?
    return $UAC_RC
}

# Stops sipedge and this run's peers (our PIDs only).
stop_run() {
    local f cf=()  # the carriers' next dump (not the caller's: it has exited): counts complete
    for f in "$out"/*_counts.csv; do case ${f##*/} in uac_*) ;; *) cf+=("$f") ;; esac; done
    written_after "$(date +%s.%N)" "${cf[@]}"
    kill -TERM "$EDGE_PID" 2>/dev/null
    local i k
    for i in $(seq 1 50); do kill -0 "$EDGE_PID" 2>/dev/null || break; sleep 0.1; done
    reap "$EDGE_PID" "${PIDS[@]:$RUN_FIRST}"  # lib.sh: bounded
}

# check <run> <assertion>...: "path op value" over uac.*, edge.* (the stats
# JSON), c1.* and c2.* (INVITE/REGISTER counts of each carrier); check.py.
check() {
    local name=$1; shift
    [ "$UAC_RC" = 0 ] || fail "$name: sipp uac exit status $UAC_RC"
    python3 "$HERE/proxy/check.py" "$out" "$@" || FAILED=1
    [ "${FAILED:-0}" = 0 ] || { echo "--- sipedge stderr"; tail -8 "$out/sipedge.err"; \
        echo "--- uac log"; tail -30 "$out/uac.log"; head -20 "$out/uac.err" 2>/dev/null; }
}

begin() {  # begin <run name> <description>
    out=$WORK/$1
    mkdir -p "$out"
    RUN_FIRST=${#PIDS[@]}
    # The edge's MAC differs between PMDs (net_pcap's is its own): forget
    # what the peers learned in the previous run.
    local ns
    for ns in $NS_UAC $NS_C1 $NS_C2; do ip -n "$ns" neigh flush all 2>/dev/null; done
    echo "== $1: $2"
}

# ctl_expect <expected exit status> <command words...>: sipedgectl on this
# run's control socket (a Unix socket path: reachable from the root namespace
# without any network traffic), reply in $out/ctl.log.
ctl_expect() {
    local want=$1 rc=0; shift
    echo "> $*" >>"$out/ctl.log"
    timeout 10 "$SIPEDGECTL" --socket "$out/ctl.sock" "$@" >>"$out/ctl.log" 2>&1 || rc=$?
    [ "$rc" = "$want" ] && echo "  ok   sipedgectl $* -> exit $rc" \
        || fail "runtime: sipedgectl $* -> exit $rc, expected $want"
}

# dns_ns_carrier: lib.sh's dns_ns (knotd in namespace $NS_DNS on
# 198.51.100.53, linked to the edge namespace's kernel, eth1 198.51.100.10;
# lives 100 s) serving carrier.example: NAPTR -> SRV 10 car1 192.0.2.21,
# SRV 20 car2 192.0.2.22. A previous run's namespace (its knotd stopped) goes first.
dns_ns_carrier() {
    [ -n "${NS_DNS:-}" ] && ip netns del $NS_DNS 2>/dev/null
    CARRIER_LIFE=90 dns_ns '@ NAPTR 10 10 "S" "SIP+D2U" "" _sip._udp' \
        '_sip._udp SRV 10 0 5060 car1' '_sip._udp SRV 20 0 5060 car2' \
        'car1 A 192.0.2.21' 'car2 A 192.0.2.22'
}

# dns_edge_config <extra lines...>: the startup file with the trunk's server given as carrier.example.
dns_edge_config() {
    cat >"$out/edge.conf" <<CONF
set dataplane address 192.0.2.10/24
set dataplane access 192.0.2.1:5060
set global dns-server 198.51.100.53
add trunk carrier
set trunk carrier server 1 carrier.example transport dnsNaptr
set trunk carrier rollover 1
set trunk carrier register off
set dataplane default-trunk carrier
CONF
    local l
    for l in "$@"; do echo "$l"; done >>"$out/edge.conf"
}

wait_resolved() {  # bounded (10 s): carrier.example's answer in the engine's server set
    local i
    for i in $(seq 1 50); do
        timeout 5 "$SIPEDGECTL" --socket "$out/ctl.sock" --json show dns >"$out/show_dns.json" 2>&1
        grep -q '"answer":"192.0.2.22:5060"' "$out/show_dns.json" && grep -q '"source":"dns"' "$out/show_dns.json" \
            && break
        sleep 0.2
    done
    grep -q '"answer":"192.0.2.22:5060"' "$out/show_dns.json" && grep -q '"source":"dns"' "$out/show_dns.json" \
        && echo "  ok   show dns: carrier.example resolved (source dns, ${i} polls)" \
        || { fail "dns: not resolved: $(head -c 600 "$out/show_dns.json"; tail -3 "$out/knot.log")"; }
}
