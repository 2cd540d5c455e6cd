#!/usr/bin/env bash
# End-to-end: sipp UAC -> sipedge (DPDK net_af_packet on a veth) -> sipp
# carriers, each in its own network namespace, all joined by a bridge in a
# fifth one. sipedge runs as it does in production: configured by a startup
# file of socket commands, control loop on the main lcore, one worker lcore,
# routes from the failover engine (RCU-published table), worker events back
# to the engine, the engine's REGISTERs sent through the worker.
#
#   caller 192.0.2.1 (sipp uac)   edge 192.0.2.10 (sipedge, DPDK owns the address)
#   car1   192.0.2.21 (primary)   car2 192.0.2.22 (secondary)
#
# TEST-NET-1 addresses only, inside namespaces this script creates; no
# default route anywhere; nothing is sent from the root namespace. Carriers
# are sipp with uas_carrier.xml (REGISTER and INVITE answers chosen per run;
# -trace_counts gives the per-carrier INVITE/REGISTER counts checked below).
# Scenarios:
#   steady     every call through the primary completes
#   silent     the primary swallows packets: calls roll over to the secondary
#              after the rollover timer (seed A, 1 s)
#   icmp       nothing listens on the primary: ICMP port unreachable rolls the
#              request over at once
#   503        the primary answers INVITE 503: with failover-on-503 on every
#              call rolls over to the secondary; with it off the 503 is
#              relayed to the caller and the secondary sees nothing (two runs)
#   failback   the primary is silent, then answers again: with recover-delay
#              4 s the engine takes it out of the table after its failure and
#              puts it back after the delay; calls return to it
#   validated  validation register: the primary refuses REGISTER (503), the
#              secondary accepts it; every call goes to the secondary only
#   fragment   INVITEs with a ~4 KB SDP (uac_big.xml): the caller's kernel
#              fragments them on the 1500-byte veth, sipedge reassembles,
#              relays and fragments them again towards the carrier
#   runtime    200 calls at 20/s while sipedgectl changes the trunk on the
#              control socket: a third server added, T1 changed, one refused
#              command (T1 out of range: error, running-config unchanged),
#              the primary in maintenance (issue 7) and back; every
#              call completes and no transaction is lost
#   multicore  two workers (--lcores, net_af_packet qpairs=2): every call
#              completes, per-worker counters add up to the totals
#   twoport    access and carrier on different DPDK ports (issue 6): port 0
#              on the caller's bridge (192.0.2.10), port 1 (198.51.100.10)
#              in VLAN 100 on the trunk port of a user-space 802.1Q switch
#              (vlan_switch.py) whose access port leads to the carrier
#              (198.51.100.21): only frames tagged 100 reach it.
#              REGISTER and INVITE name port 1's address, the dialog gets a
#              double Record-Route, ACK and BYE come back through both of
#              our Routes; every call completes. twoport-rollover: the
#              primary behind port 1 unreachable (ICMP through the VLAN),
#              the secondary behind port 0: Via/Record-Route rewritten for
#              port 0 on the rollover, every call completes
#   dns        the trunk's server is the domain carrier.example, resolved by
#              sipedge from knotd in a sixth namespace (NAPTR/SRV/A): calls go
#              to car1 (SRV 10); car1 silent: they roll over to car2 (SRV 20)
#   lab        the main job's live demo (scripts/main-job.sh): the dns
#              topology, LAB_SECONDS (60) of calls at 10/s with a live line
#              per second; car1 silent, rollover, failback; summary
# Usage: proxy_e2e.sh <sipedge binary> <this directory> [scenario...]
# Exit 0 pass, 1 fail, 77 skip (not root, no ip netns, no sipp).
set -u

SIPEDGE=${1:?sipedge binary}
HERE=${2:?source directory}
shift 2
SIPEDGECTL=${SIPEDGECTL:-$(dirname "$SIPEDGE")/sipedgectl}
SCENARIOS=${*:-steady silent icmp 503 failback validated fragment runtime}

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
command -v sipp >/dev/null || { echo "SKIP: no sipp"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

P="se$$"                         # unique prefix: parallel runs do not clash
NS_BR=${P}br NS_UAC=${P}uac NS_EDGE=${P}edge NS_C1=${P}c1 NS_C2=${P}c2
WORK=$(mktemp -d /tmp/sipedge-e2e.XXXXXX)
PIDS=()

cleanup() {
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
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILED=1; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

setup_topology() {
    for ns in $NS_BR $NS_UAC $NS_EDGE $NS_C1 $NS_C2; do
        ip netns add "$ns" || return 1
        in_ns "$ns" ip link set lo up
        in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        in_ns "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    done
    ip -n $NS_BR link add br0 type bridge || return 1
    ip -n $NS_BR link set br0 up
    local ns
    for ns in $NS_UAC $NS_EDGE $NS_C1 $NS_C2; do
        ip -n $NS_BR link add "p_${ns#$P}" type veth peer name eth0 netns "$ns" || return 1
        ip -n $NS_BR link set "p_${ns#$P}" master br0 up
        ip -n "$ns" link set eth0 up
    done
    ip -n $NS_UAC addr add 192.0.2.1/24 dev eth0
    ip -n $NS_C1 addr add 192.0.2.21/24 dev eth0
    ip -n $NS_C2 addr add 192.0.2.22/24 dev eth0
    # Peers hand veth frames over with CHECKSUM_PARTIAL (the UDP checksum left
    # to an offload that never happens on af_packet): turn TX checksum offload
    # off on their eth0 (ETHTOOL_STXCSUM; no ethtool binary needed), so that
    # sipedge checks real checksums as it would from a NIC.
    for ns in $NS_UAC $NS_C1 $NS_C2; do
        in_ns "$ns" python3 -c "$TXCSUM_OFF" eth0 || return 1
    done
    # The edge's eth0 has no address: DPDK answers ARP/ICMP for 192.0.2.10.
    # The primary must answer every closed-port datagram (icmp scenario).
    in_ns $NS_C1 sysctl -qw net.ipv4.icmp_ratelimit=0
}

TXCSUM_OFF='
import array, fcntl, socket, struct, sys
ETHTOOL_STXCSUM, SIOCETHTOOL = 0x17, 0x8946
val = array.array("B", struct.pack("II", ETHTOOL_STXCSUM, 0))
ifr = struct.pack("16sP", sys.argv[1].encode(), val.buffer_info()[0]).ljust(40, b"\0")
fcntl.ioctl(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), SIOCETHTOOL, ifr)
'

PING='
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
body = b"sipedge-e2e-ping"
hdr = struct.pack("!BBHHH", 8, 0, 0, 0x5e, 1)
s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + body), 0x5e, 1) + body, (sys.argv[1], 0))
while True:
    pkt, addr = s.recvfrom(2048)
    ihl = (pkt[0] & 15) * 4
    if addr[0] == sys.argv[1] and pkt[ihl] == 0 and pkt[ihl + 8:] == body and csum(pkt[ihl:]) == 0:
        sys.exit(0)
'

start_bg() {  # start_bg <ns> <log> cmd...: background, PID remembered for cleanup
    local ns=$1 log=$2; shift 2
    ip netns exec "$ns" "$@" >"$log" 2>&1 &
    PIDS+=($!)
    LAST_PID=$!
}

# wait_bound <ns>: until something listens on UDP 5060 there (bounded, 5 s),
# so that the first request does not meet a closed port (ICMP) by accident.
wait_bound() {
    local i
    for i in $(seq 1 50); do
        [ -n "$(ip netns exec "$1" ss -Hlun 'sport = :5060' 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    fail "nothing listens on UDP 5060 in $1"
}

# carrier <ns> <ip> <name> <register status> <invite final>: sipp answering
# REGISTER and INVITE as told, counts in $out/<name>_*_counts.csv.
carrier() {
    local ns=$1 ip=$2 name=$3 reg=$4 inv=$5 path=call
    [ "$inv" = 200 ] || path=reject
    sed -e "s/@REG@/$reg/" -e "s/@INV@/$inv/" -e "s/@PATH@/$path/" \
        "$HERE/uas_carrier.xml" >"$out/$name.xml"
    # BIG_ANSWER=1: the 200 OK carries a ~4 KB SDP too (fragmented both ways).
    [ "${BIG_ANSWER:-0}" = 1 ] && python3 - "$out/$name.xml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
pad = "".join("      a=x-carrier-pad-%02d:%s\n" % (i, "fedcba9876543210" * 5) for i in range(40))
s = s.replace("      a=rtpmap:0 PCMU/8000\n", "      a=rtpmap:0 PCMU/8000\n" + pad, 1)
open(p, "w").write(s)
PY
    start_bg "$ns" "$out/$name.log" sh -c "cd '$out' && exec timeout 100 sipp -sf '$out/$name.xml' \
        -i $ip -p 5060 -nostdin -timeout 90s -trace_counts -fd 1 -trace_err ${CARRIER_EXTRA:-}"
    wait_bound "$ns"
}

silent_sink() {  # a UDP socket that reads and never answers (no ICMP either)
    start_bg "$1" "$out/sink.log" timeout 100 python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$2', 5060)); s.settimeout(0.5)
end = time.time() + 90
while time.time() < end:
    try: s.recv(65535)
    except socket.timeout: pass
"
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
    sleep 0.5
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
    sleep 1.2  # one more -fd period: the carriers' counts are complete
    kill -TERM "$EDGE_PID" 2>/dev/null
    local i k
    for i in $(seq 1 50); do kill -0 "$EDGE_PID" 2>/dev/null || break; sleep 0.1; done
    for k in "${PIDS[@]:$RUN_FIRST}"; do kill -TERM "$k" 2>/dev/null; done
    wait 2>/dev/null
}

# check <run> <assertion>...: "path op value" over uac.*, edge.* (the stats
# JSON), c1.* and c2.* (INVITE/REGISTER counts of each carrier).
check() {
    local name=$1; shift
    [ "$UAC_RC" = 0 ] || fail "$name: sipp uac exit status $UAC_RC"
    python3 - "$out" "$@" <<'PY' || FAILED=1
import csv, glob, json, operator, sys
out, asserts = sys.argv[1], sys.argv[2:]
ok = True
def check(cond, what):
    global ok
    print(("  ok   " if cond else "  FAIL ") + what)
    ok = ok and cond
rows = list(csv.reader(open(out + '/uac.csv'), delimiter=';'))
h, last = rows[0], rows[-1]
col = lambda n: int(last[h.index(n)])
data = {'uac': {'created': col('TotalCallCreated'), 'successful': col('SuccessfulCall(C)'),
                'failed': col('FailedCall(C)')}}
try:
    data['edge'] = json.load(open(out + '/stats.json'))
except Exception as e:
    check(False, f"sipedge stats JSON readable ({e})")
    sys.exit(1)
for c in ('c1', 'c2'):
    d = {'invites': 0, 'registers': 0, 'byes': 0}
    files = glob.glob(f"{out}/{c}_*_counts.csv")
    if files:
        r = list(csv.reader(open(files[0]), delimiter=';'))
        for i, n in enumerate(r[0]):
            for k, m in (('invites', '_INVITE_Recv'), ('registers', '_REGISTER_Recv'), ('byes', '_BYE_Recv')):
                if n.endswith(m) and i < len(r[-1]) and r[-1][i]:
                    d[k] += int(r[-1][i])
    data[c] = d
def get(path):
    v = data
    for p in path.split('.'):
        v = v[int(p)] if isinstance(v, list) else v[p]
    return v
ops = {'==': operator.eq, '>=': operator.ge, '<=': operator.le, '>': operator.gt}
for a in asserts:
    lhs, op, rhs = a.split()
    v = sum(get(x) for x in lhs.split('+'))
    check(ops[op](v, int(rhs)), f"{lhs} = {v} {op} {rhs}")
d = data['edge']['drops']
for r in ('sip_parse', 'sip_rewrite', 'sip_foreign_branch', 'txn_exhausted', 'udp_bad_csum',
          'ipv4_bad_csum', 'tx_full', 'mbuf_exhausted', 'timer_exhausted', 'sip_too_big',
          'ipv4_fragment', 'ipv4_frag_malformed', 'ipv4_frag_overlap', 'ipv4_frag_too_many',
          'ipv4_frag_no_room', 'ipv4_frag_timeout'):
    check(d[r] == 0, f"drop {r} == {d[r]}")
e = data['edge']
print("  sipedge:", json.dumps({k: e[k] for k in ('calls', 'transactions', 'control')}))
print("  carriers:", json.dumps({c: data[c] for c in ('c1', 'c2')}))
sys.exit(0 if ok else 1)
PY
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

run_steady() {
    begin steady "50 calls at 10/s, both carriers up"
    carrier $NS_C1 192.0.2.21 c1 200 200; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    start_edge
    in_ns $NS_UAC timeout 5 python3 -c "$PING" 192.0.2.10 && echo "  ok   ICMP echo reply" \
        || fail "steady: no ICMP echo reply from 192.0.2.10"
    # Live trace (issue 7): a `monitor trace` subscriber during the calls gets
    # the workers' SIP messages (5 of them, then sipedgectl exits).
    local trace_pid=
    if [ -x "$SIPEDGECTL" ]; then
        timeout 30 "$SIPEDGECTL" --socket "$out/ctl.sock" --count 5 monitor trace \
            >"$out/trace.log" 2>&1 &
        trace_pid=$!
        sleep 0.3
    fi
    # uac_rr.xml: the route set kept, ACK and BYE through our Record-Route
    # (issue 16: an in-dialog request from the access side without it is
    # refused, so sipp's built-in uac, which sends them to us bare, no longer fits).
    uac 50 10 -sf "$HERE/uac_rr.xml"
    if [ -n "$trace_pid" ]; then
        wait "$trace_pid" && grep -q "^INVITE sip:" "$out/trace.log" \
            && echo "  ok   monitor trace printed INVITE lines" \
            || fail "steady: monitor trace printed no INVITE (see $out/trace.log)"
    fi
    stop_run
    check steady "uac.successful == 50" "uac.failed == 0" "edge.calls.attempted == 50" \
        "edge.calls.answered == 50" "edge.calls.failed == 0" "edge.sip.byes_rx >= 50" \
        "edge.sip.acks_rx >= 50" "edge.icmp.echo_rx >= 1" \
        "edge.transactions.rollover_timeout+edge.transactions.rollover_icmp+edge.transactions.rollover_503 == 0" \
        "c1.invites == 50" "c2.invites == 0" "edge.control.published >= 1" \
        "edge.control.events_in >= 50" "edge.control.events_dropped == 0" \
        "edge.trace.copied >= 5" "edge.trace.dropped == 0"
}

run_silent() {
    begin silent "10 calls at 5/s, the primary swallows everything"
    silent_sink $NS_C1 192.0.2.21; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    start_edge
    uac 10 5 -sf "$HERE/uac_rr.xml"
    stop_run
    # top_first without a recovery delay keeps the failed primary first:
    # every call waits out its rollover timer there.
    check silent "uac.successful == 10" "uac.failed == 0" "edge.calls.answered == 10" \
        "edge.transactions.rollover_timeout >= 10" "c2.invites == 10" \
        "edge.control.events_in >= 10" "edge.control.published >= 2"
}

run_icmp() {
    begin icmp "20 calls at 10/s, nothing listens on the primary"
    carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    start_edge
    uac 20 10 -sf "$HERE/uac_rr.xml"
    stop_run
    check icmp "uac.successful == 20" "uac.failed == 0" "edge.calls.answered == 20" \
        "edge.icmp.unreach_matched >= 1" "edge.transactions.rollover_icmp >= 1" \
        "edge.transactions.rollover_icmp+edge.transactions.rollover_timeout >= 20" \
        "c2.invites == 20" "edge.control.events_in >= 1" "edge.control.published >= 2"
}

run_503() {
    begin 503-on "10 calls at 5/s, the primary answers 503, failover-on-503 on"
    carrier $NS_C1 192.0.2.21 c1 200 503; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off" "set trunk carrier failover-on-503 on"
    start_edge
    uac 10 5 -sf "$HERE/uac_rr.xml"
    stop_run
    check 503-on "uac.successful == 10" "uac.failed == 0" "edge.calls.answered == 10" \
        "edge.transactions.rollover_503 == 10" "c1.invites == 10" "c2.invites == 10" \
        "edge.control.events_in >= 20"

    begin 503-off "10 calls at 5/s, the primary answers 503, failover-on-503 off"
    carrier $NS_C1 192.0.2.21 c1 200 503; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off" "set trunk carrier failover-on-503 off"
    start_edge
    uac 10 5 -sf "$HERE/uac_503.xml"
    stop_run
    check 503-off "uac.successful == 10" "uac.failed == 0" "edge.calls.attempted == 10" \
        "edge.calls.failed == 10" "edge.calls.answered == 0" \
        "edge.transactions.rollover_503 == 0" "c1.invites == 10" "c2.invites == 0"
}

run_failback() {
    begin failback "24 calls at 2/s; the primary silent for 3 s, then back; recover-delay 4 s"
    silent_sink $NS_C1 192.0.2.21; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off" "set trunk carrier recover-delay 4"
    start_edge
    uac 24 2 -sf "$HERE/uac_rr.xml" &
    local uac_pid=$!
    sleep 3
    kill -TERM "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null
    carrier $NS_C1 192.0.2.21 c1 200 200
    wait "$uac_pid"
    UAC_RC=$?
    stop_run
    # The first call(s) roll over; then the secondary alone until the delay
    # ends (~5 s in); then the primary again, for the rest (~7 s of calls).
    check failback "uac.successful == 24" "uac.failed == 0" "edge.calls.answered == 24" \
        "edge.transactions.rollover_timeout >= 1" "edge.transactions.rollover_timeout <= 4" \
        "c2.invites >= 3" "c1.invites >= 5" "c1.invites+c2.invites >= 24" \
        "edge.control.published >= 3"
}

run_validated() {
    begin validated "validation register: REGISTER 503 at the primary, 200 at the secondary; 10 calls"
    carrier $NS_C1 192.0.2.21 c1 503 200; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier validation register" "set trunk carrier failover-on-503 on" \
        "set trunk carrier identity 1000 auth-user 1000 password e2e-secret contact sip:1000@192.0.2.10:5060"
    start_edge
    # The engine spreads first REGISTERs over 10 s: wait (bounded) for the binding.
    local i
    for i in $(seq 1 75); do
        grep -q "notice registered" "$out/sipedge.err" 2>/dev/null && break
        sleep 0.2
    done
    grep -q "notice registered" "$out/sipedge.err" || fail "validated: no registration within 15 s"
    uac 10 5 -sf "$HERE/uac_rr.xml"
    stop_run
    check validated "uac.successful == 10" "uac.failed == 0" "edge.calls.answered == 10" \
        "c1.registers >= 1" "c2.registers >= 1" "c1.invites == 0" "c2.invites == 10" \
        "edge.control.sent >= 2" "edge.control.responses_in >= 2" \
        "edge.transactions.rollover_timeout+edge.transactions.rollover_503 == 0"
}

run_fragment() {
    begin fragment "20 calls at 10/s, INVITE and 200 OK with a ~4 KB SDP: reassembled in, fragmented out"
    BIG_ANSWER=1 carrier $NS_C1 192.0.2.21 c1 200 200; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    EDGE_VDEV=net_pcap0,iface=eth0,phy_mac=1 start_edge
    uac 20 10 -sf "$HERE/uac_big.xml"
    stop_run
    # Each INVITE and each 200 OK (~4.4 KB) is 4 fragments each way;
    # retransmissions only add.
    check fragment "uac.successful == 20" "uac.failed == 0" "edge.calls.attempted == 20" \
        "edge.calls.answered == 20" "c1.invites == 20" "c2.invites == 0" \
        "edge.ipv4.reassembled >= 40" "edge.ipv4.fragments_rx >= 160" \
        "edge.ipv4.fragmented_tx >= 40" "edge.ipv4.fragments_tx >= 160" \
        "edge.drops.ipv4_frag_duplicate == 0" "edge.drops.arp_unresolved == 0" \
        "edge.transactions.rollover_timeout+edge.transactions.rollover_icmp == 0"
}

# Two workers (issue 6): three lcores floating over the machine's CPUs (main =
# control, two workers), net_af_packet with two queue pairs (the kernel's
# PACKET_FANOUT hash spreads flows). Deterministic: every call completes,
# the exit JSON has two workers whose counters add up to the totals, no
# handoff ring overflows. Which worker gets which flow depends on the
# kernel's hash: the per-worker counters are printed, not asserted.
run_multicore() {
    begin multicore "20 calls at 10/s on two workers (net_af_packet qpairs=2)"
    carrier $NS_C1 192.0.2.21 c1 200 200; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    EDGE_LCORES="'--lcores=(0-2)@(0-1)'" EDGE_VDEV=net_af_packet0,iface=eth0,qpairs=2 start_edge
    uac 20 10 -sf "$HERE/uac_rr.xml"
    stop_run
    check multicore "uac.successful == 20" "uac.failed == 0" "edge.calls.attempted == 20" \
        "edge.calls.answered == 20" "c1.invites == 20" "c2.invites == 0" \
        "edge.handoff.full == 0" "edge.drops.arp_unresolved == 0"
    python3 - "$out/stats.json" <<'PY' || fail "multicore: per-worker counters"
import json, sys
e = json.load(open(sys.argv[1]))
w = e.get('workers', [])
ok = len(w) == 2
print(("  ok   " if ok else "  FAIL ") + f"workers in the exit JSON: {len(w)} (2 expected)")
for k, tot in (('rx_packets', e['rx']['packets']), ('calls_attempted', e['calls']['attempted']),
               ('handoff_pushed', e['handoff']['pushed'])):
    s = sum(x[k] for x in w)
    print(("  ok   " if s == tot else "  FAIL ") + f"sum of workers' {k} = {s} == total {tot}")
    ok = ok and s == tot
for x in w:
    print("  worker", json.dumps({k: x[k] for k in ('worker', 'rx_packets', 'calls_attempted',
          'sip_responses_rx', 'handoff_pushed', 'handoff_drained', 'arp_shared')}))
sys.exit(0 if ok else 1)
PY
}

# The carrier side of `twoport`: the edge's eth1 is a trunk port of a
# user-space 802.1Q switch (vlan_switch.py, in its own namespace: this
# kernel has no 8021q module, bridge VLAN filtering or tc vlan action) whose
# access port in VLAN 100 leads to the carrier's namespace. Frames sipedge
# sends untagged or with another tag never reach the carrier (counted).
setup_carrier_vlan() {
    NS_BR2=${P}sw NS_C3=${P}c3
    local ns
    for ns in $NS_BR2 $NS_C3; do
        ip netns add "$ns" || return 1
        in_ns "$ns" ip link set lo up
        in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
        in_ns "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    done
    ip -n $NS_BR2 link add t_edge type veth peer name eth1 netns $NS_EDGE || return 1
    ip -n $NS_BR2 link add t_c3 type veth peer name eth0 netns $NS_C3 || return 1
    ip -n $NS_BR2 link set t_edge up
    ip -n $NS_BR2 link set t_c3 up
    ip -n $NS_EDGE link set eth1 up
    ip -n $NS_C3 link set eth0 up
    ip -n $NS_C3 addr add 198.51.100.21/24 dev eth0
    in_ns $NS_C3 python3 -c "$TXCSUM_OFF" eth0 || return 1
}

run_twoport() {
    begin twoport "20 calls: access on port 0, the carrier on port 1 in VLAN 100"
    [ -n "${NS_C3:-}" ] || setup_carrier_vlan || { fail "twoport: carrier VLAN topology"; return; }
    start_bg $NS_BR2 "$out/switch.log" timeout 100 python3 "$HERE/vlan_switch.py" t_edge t_c3 100 90 \
        "$out/switch.json"
    carrier $NS_C3 198.51.100.21 c1 200 200
    cat >"$out/edge.conf" <<'CFG'
set dataplane address 192.0.2.10/24
set dataplane port 1 address 198.51.100.10/24
set dataplane port 1 vlan 100
set dataplane port 1 device net_af_packet7,iface=eth1
set dataplane access 192.0.2.1:5060
add trunk carrier
set trunk carrier server 1 198.51.100.21:5060 udp
set trunk carrier rollover 1
set dataplane default-trunk carrier
set trunk carrier identity 1000 password secret contact sip:1000@198.51.100.10
CFG
    # Port 0 from the command line's --vdev (DPDK port id 0), port 1 from its
    # configured device, found by name (twoport-rollover gives both on the
    # command line instead).
    start_edge
    # The first REGISTER (spread over 10 s) goes out through port 1, its Via
    # naming 198.51.100.10: wait (bounded) for the binding.
    local i
    for i in $(seq 1 75); do
        grep -q "notice registered" "$out/sipedge.err" 2>/dev/null && break
        sleep 0.2
    done
    grep -q "notice registered" "$out/sipedge.err" || fail "twoport: no registration within 15 s"
    uac 20 10 -sf "$HERE/uac_rr.xml"
    stop_run
    check twoport "uac.successful == 20" "uac.failed == 0" "edge.calls.answered == 20" \
        "c1.invites >= 20" "c1.byes >= 20" "c1.registers >= 1" "edge.control.responses_in >= 1" \
        "edge.sip.byes_rx >= 20" "edge.sip.acks_rx >= 20" "edge.sip.cross_iface == 0" \
        "edge.drops.vlan_mismatch == 0" "edge.drops.ipv4_no_route == 0" \
        "edge.drops.arp_unresolved == 0" "edge.ports.0.port == 0" "edge.ports.1.port == 1" \
        "edge.ports.1.vlan == 100" "edge.ports.0.rx_packets >= 60" "edge.ports.1.rx_packets >= 61" \
        "edge.ports.0.tx_packets >= 80" "edge.ports.1.tx_packets >= 61"
    python3 - "$out/switch.json" <<'PY' || fail "twoport: VLAN switch counters"
import json, sys
c = json.load(open(sys.argv[1]))
ok = c["to_access"] >= 61 and c["to_trunk"] >= 61 and c["dropped_untagged"] == 0 \
    and c["dropped_other_vlan"] == 0
print(("  ok   " if ok else "  FAIL ") + "802.1Q switch: " + json.dumps(c))
sys.exit(0 if ok else 1)
PY

    # The primary (VLAN side) has no listener: ICMP port unreachable comes
    # back tagged through port 1 and rolls each INVITE over at once to the
    # secondary on port 0's subnet; the retained request's Via and
    # Record-Route are rewritten for port 0 before it goes.
    begin twoport-rollover "10 calls: primary behind port 1 unreachable, secondary behind port 0"
    in_ns $NS_C3 sysctl -qw net.ipv4.icmp_ratelimit=0
    start_bg $NS_BR2 "$out/switch.log" timeout 100 python3 "$HERE/vlan_switch.py" t_edge t_c3 100 90 \
        "$out/switch.json"
    carrier $NS_C2 192.0.2.22 c2 200 200
    cat >"$out/edge.conf" <<'CFG'
set dataplane address 192.0.2.10/24
set dataplane port 1 address 198.51.100.10/24
set dataplane port 1 vlan 100
set dataplane access 192.0.2.1:5060
add trunk carrier
set trunk carrier server 1 198.51.100.21:5060 udp
set trunk carrier server 2 192.0.2.22:5060 udp
set trunk carrier rollover 1
set trunk carrier register off
set dataplane default-trunk carrier
CFG
    EDGE_VDEV="net_af_packet0,iface=eth0 --vdev=net_af_packet1,iface=eth1" start_edge
    uac 10 5 -sf "$HERE/uac_rr.xml"
    stop_run
    check twoport-rollover "uac.successful == 10" "uac.failed == 0" "c2.invites == 10" \
        "c2.byes == 10" "edge.transactions.rollover_icmp >= 1" "edge.sip.cross_iface >= 1" \
        "edge.icmp.unreach_matched >= 1" "edge.drops.vlan_mismatch == 0"
}

# ctl <expected exit status> <command words...>: sipedgectl on this run's
# control socket (a Unix socket path: reachable from the root namespace
# without any network traffic), reply in $out/ctl.log.
ctl() {
    local want=$1 rc=0; shift
    echo "> $*" >>"$out/ctl.log"
    timeout 10 "$SIPEDGECTL" --socket "$out/ctl.sock" "$@" >>"$out/ctl.log" 2>&1 || rc=$?
    [ "$rc" = "$want" ] && echo "  ok   sipedgectl $* -> exit $rc" \
        || fail "runtime: sipedgectl $* -> exit $rc, expected $want"
}

run_runtime() {
    begin runtime "200 calls at 20/s; the trunk changed at runtime through sipedgectl"
    [ -x "$SIPEDGECTL" ] || { fail "runtime: no sipedgectl next to sipedge"; return; }
    carrier $NS_C1 192.0.2.21 c1 200 200; carrier $NS_C2 192.0.2.22 c2 200 200
    write_config "set trunk carrier register off"
    start_edge
    uac 200 20 -sf "$HERE/uac_rr.xml" &
    local uac_pid=$!
    sleep 1.5
    ctl 0 set trunk carrier server 3 192.0.2.23:5060 udp
    sleep 1
    ctl 0 set trunk carrier t1 400
    "$SIPEDGECTL" --socket "$out/ctl.sock" show running-config >"$out/rc_before" 2>&1
    ctl 1 set trunk carrier t1 20
    "$SIPEDGECTL" --socket "$out/ctl.sock" show running-config >"$out/rc_after" 2>&1
    grep -q "error" "$out/ctl.log" && echo "  ok   refused command answered with an error" \
        || fail "runtime: no error in the refused command's reply"
    grep -q "server 3 192.0.2.23" "$out/rc_after" && grep -q "t1 400" "$out/rc_after" \
        && cmp -s "$out/rc_before" "$out/rc_after" \
        && echo "  ok   running-config has the changes and is unchanged by the refused command" \
        || fail "runtime: running-config: $(diff "$out/rc_before" "$out/rc_after" | head -5)"
    sleep 1
    ctl 0 set trunk carrier server 1 maintenance on   # the primary drained for maintenance (issue 7)
    "$SIPEDGECTL" --socket "$out/ctl.sock" show servers carrier >"$out/servers_maint" 2>&1
    grep -q "maintenance" "$out/servers_maint" && echo "  ok   show servers: primary in maintenance" \
        || fail "runtime: show servers: $(head -5 "$out/servers_maint")"
    # RTT samples from the workers' success events (first send -> first answer).
    grep -Eq '^carrier +0 .* [0-9.]+ms *$' "$out/servers_maint" \
        && echo "  ok   show servers: the primary's RTT measured by the data plane" \
        || fail "runtime: show servers has no RTT for the primary: $(head -3 "$out/servers_maint")"
    sleep 3
    ctl 0 set trunk carrier server 1 maintenance off  # and back in service
    wait "$uac_pid"
    UAC_RC=$?
    stop_run
    # Calls before maintenance and after it go to the primary, the ones
    # between to the secondary; in-flight ones complete: none is lost or sent twice.
    check runtime "uac.successful == 200" "uac.failed == 0" "edge.calls.attempted == 200" \
        "edge.calls.answered == 200" "edge.calls.failed == 0" \
        "edge.transactions.failed_timeout+edge.transactions.failed_icmp+edge.transactions.failed_503 == 0" \
        "edge.transactions.rollover_timeout+edge.transactions.rollover_icmp == 0" \
        "c1.invites+c2.invites == 200" "c1.invites >= 40" "c2.invites >= 20" \
        "edge.control.published >= 4" "edge.drops.sip_no_route == 0"
}

# A refused startup file: sipedge names file and line, exits 1 and starts no
# data plane (the EAL is never initialised, so no namespace is needed).
check_bad_config() {
    echo "== bad-config: a refused startup line"
    printf 'set dataplane address 192.0.2.10/24\nadd trunk carrier\nset trunk carrier t1 20\n' \
        >"$WORK/bad.conf"
    local rc=0
    timeout 20 "$SIPEDGE" --config "$WORK/bad.conf" --socket "$WORK/bad.sock" \
        -- --no-huge -m 512 --no-pci --no-shconf -l 0-1 --file-prefix=${P}bad \
        >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
    [ "$rc" = 1 ] && echo "  ok   exit status 1" || fail "bad-config: exit status $rc, expected 1"
    grep -q "bad.conf:3: t1" "$WORK/bad.err" && echo "  ok   error names bad.conf:3" \
        || fail "bad-config: no file:line in: $(cat "$WORK/bad.err")"
    ! grep -q running "$WORK/bad.err" && [ ! -e "$WORK/bad.sock" ] && echo "  ok   nothing started" \
        || fail "bad-config: sipedge started anyway"
}

# dns_ns: knotd in namespace $NS_DNS on 198.51.100.53, linked to the edge
# namespace's kernel (eth1 198.51.100.10), serving carrier.example (NAPTR ->
# SRV 10 car1 192.0.2.21, SRV 20 car2 192.0.2.22).
dns_ns() {
    [ -n "${NS_DNS:-}" ] && ip netns del $NS_DNS 2>/dev/null  # a previous run's (its knotd is stopped)
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
    cat >"$out/knot/carrier.example.zone" <<'ZONE'
$ORIGIN carrier.example.
$TTL 30
@ SOA ns hostmaster 1 3600 600 86400 30
@ NS ns
ns A 198.51.100.53
@ NAPTR 10 10 "S" "SIP+D2U" "" _sip._udp
_sip._udp SRV 10 0 5060 car1
_sip._udp SRV 20 0 5060 car2
car1 A 192.0.2.21
car2 A 192.0.2.22
ZONE
    start_bg $NS_DNS "$out/knot.log" timeout 100 knotd -c "$out/knot/knot.conf"
    local i
    for i in $(seq 1 50); do
        [ -n "$(ip netns exec $NS_DNS ss -Hlun 'sport = :53' 2>/dev/null)" ] && break
        sleep 0.1
    done
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
    # Bounded wait (10 s) for the answer in the engine's server set.
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

# dns: the trunk's server is the domain carrier.example, resolved by the
# control loop's resolver (control/dns_link.h) from knotd in its own
# namespace (TEST-NET-2 link to the edge's kernel side: DNS goes through the
# kernel, SIP through DPDK): NAPTR -> SRV priority 10 car1 192.0.2.21, 20 car2
# 192.0.2.22. 10 calls go to car1; car1 then goes silent and 10 more roll
# over to car2 in the SRV order.
run_dns() {
    begin dns "trunk server carrier.example via knotd: 10 calls to car1 (SRV 10), car1 silent, 10 to car2 (SRV 20)"
    command -v knotd >/dev/null || { echo "  skip: knotd not installed"; return 0; }
    [ -x "$SIPEDGECTL" ] || { fail "dns: no sipedgectl next to sipedge"; return; }
    dns_ns || return
    carrier $NS_C1 192.0.2.21 c1 200 200; local c1_pid=$LAST_PID
    carrier $NS_C2 192.0.2.22 c2 200 200
    dns_edge_config
    start_edge
    wait_resolved
    uac 10 5 -sf "$HERE/uac_rr.xml"
    [ "$UAC_RC" = 0 ] && echo "  ok   first 10 calls (car1 up) complete" || fail "dns: first uac exit $UAC_RC"
    sleep 1.2  # car1's counts written (-fd 1) before it goes
    kill -TERM "$c1_pid" 2>/dev/null; wait "$c1_pid" 2>/dev/null
    silent_sink $NS_C1 192.0.2.21
    uac 10 5 -sf "$HERE/uac_rr.xml"
    stop_run
    check dns "uac.successful == 10" "uac.failed == 0" "edge.calls.answered == 20" \
        "c1.invites == 10" "c2.invites == 10" "edge.transactions.rollover_timeout >= 10"
}

# lab: the main job's live demo (scripts/main-job.sh). The dns topology,
# LAB_SECONDS (default 60) of calls at 10/s from the caller; at 1/3 of the
# time car1 (the SRV primary) goes silent, at 2/3 it comes back; with
# recover-delay 8 s the engine fails over to car2, then fails back to car1.
# A live line every second (time, calls, calls/s, active server, states);
# then a summary: calls attempted, completed, failed, failover time (from
# car1 going silent to the first call completed on car2: car2's first RTT
# sample in `show servers`, polled every 0.1 s). Fails when calls are lost
# beyond the ones in flight at the failure, or no summary could be made.
# The live view (one process for the whole run): every second `show servers`
# on the control socket and the caller's statistics, as one line. Ends when
# $out/lab_done appears.
LAB_VIEW='
import csv, json, os, socket, sys, time
sock, out, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
def servers():
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
        return json.loads(buf).get("data", [])
    except Exception:
        return []
def calls():
    try:
        rows = list(csv.reader(open(out + "/uac.csv"), delimiter=";"))
        return dict(zip(rows[0], rows[-1])) if len(rows) > 1 else {}
    except OSError:
        return {}
t0 = time.time()
next_line = t0 + 1
while time.time() - t0 < limit and not os.path.exists(out + "/lab_done"):
    time.sleep(max(0.0, next_line - time.time()))
    srv = servers()
    now = time.time()
    if True:
        next_line += 1
        r = calls()
        n = lambda k: int(float(r.get(k, "0") or 0))
        act = next((x["address"] for x in srv if x.get("role") == "active"), None) or \
              next((x["address"] for x in srv if x.get("state") == "up"), "-")
        states = " | ".join("%s %s" % (x["address"].split(":")[0], x["state"]) for x in srv)
        print("  t=%3ds  calls %4d  ok %4d  failed %3d  %5.1f calls/s  active %-16s [%s]" % (
              now - t0, n("TotalCallCreated"), n("SuccessfulCall(C)"), n("FailedCall(C)"),
              float(r.get("CallRate(P)", "0") or 0), act, states), flush=True)
'

run_lab() {
    local secs=${LAB_SECONDS:-60} rate=10
    [ "$secs" -ge 20 ] && [ "$secs" -le 60 ] || secs=60  # the carriers live 90 s (carrier())
    begin lab "calls at $rate/s for ${secs}s to carrier.example (DNS: car1 SRV 10, car2 SRV 20); car1 silent at $((secs / 3))s, back at $((secs * 2 / 3))s"
    command -v knotd >/dev/null || { echo "  skip: knotd not installed"; return 0; }
    [ -x "$SIPEDGECTL" ] || { fail "lab: no sipedgectl next to sipedge"; return; }
    dns_ns || return
    carrier $NS_C1 192.0.2.21 c1 200 200; local c1_pid=$LAST_PID
    CARRIER_EXTRA=-trace_msg carrier $NS_C2 192.0.2.22 c2 200 200  # its 200 OKs, timed
    dns_edge_config "set trunk carrier recover-delay 8"
    start_edge
    wait_resolved
    local calls=$((secs * rate))
    start_bg $NS_UAC "$out/uac.log" timeout $((secs + 40)) sipp 192.0.2.10:5060 -i 192.0.2.1 -p 5060 \
        -sf "$HERE/uac_rr.xml" -m $calls -r $rate -nostdin -timeout $((secs + 30))s -timeout_error \
        -trace_stat -stf "$out/uac.csv" -fd 1 -trace_err -error_file "$out/uac.err"
    local uac_pid=$LAST_PID t_fail
    python3 -c "$LAB_VIEW" "$out/ctl.sock" "$out" $((secs + 40)) &
    local view_pid=$!
    PIDS+=($view_pid)
    sleep $((secs / 3))
    t_fail=$(date +%s.%N)
    echo "$t_fail" >"$out/t_fail"
    echo "  --- car1 goes silent"
    # Stopped, its socket stays bound: requests queue unread, no ICMP, no answer.
    # (car1's sipp is the child of the timeout(1) started as $c1_pid.)
    local c1_sipp
    c1_sipp=$(ps -o pid= --ppid "$c1_pid" | head -1)
    kill -STOP ${c1_sipp:-$c1_pid} 2>/dev/null
    sleep $((secs / 3))
    kill -KILL ${c1_sipp:-$c1_pid} 2>/dev/null; kill -TERM "$c1_pid" 2>/dev/null; wait "$c1_pid" 2>/dev/null
    carrier $NS_C1 192.0.2.21 c1b 200 200
    echo "  --- car1 answers again (failback once recover-delay 8 s has passed)"
    wait "$uac_pid"
    UAC_RC=$?
    sleep 1.2
    touch "$out/lab_done"; wait "$view_pid" 2>/dev/null
    stop_run
    # The summary and the test's verdict.
    python3 - "$out" "$rate" "$t_fail" <<'PY' || FAILED=1
import csv, datetime, glob, re, sys
out, rate, t_fail = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
# car2's first 200 OK to an INVITE sent after the failure (sipp -trace_msg).
t_over = 0.0
for f in glob.glob(f"{out}/c2_*_messages.log"):
    for blk in open(f, errors="replace").read().split("-----------------------------------------------")[1:]:
        head, _, body = blk.partition("\n")
        if "message sent" not in body or not re.search(r"^SIP/2.0 200", body, re.M) \
                or not re.search(r"^CSeq:\s*\d+ INVITE", body, re.M | re.I):
            continue
        w = head.split()
        try:
            t = float(w[-1]) if float(w[-1]) > 1e9 else None
        except ValueError:
            t = None
        if t is None:
            t = datetime.datetime.strptime(" ".join(w[:2])[:26], "%Y-%m-%d %H:%M:%S.%f").timestamp()
        if t >= t_fail:
            t_over = t
            break
rows = list(csv.reader(open(out + "/uac.csv"), delimiter=";"))
last = dict(zip(rows[0], rows[-1]))
att, ok, bad = (int(last[k]) for k in ("TotalCallCreated", "SuccessfulCall(C)", "FailedCall(C)"))
def invites(name):
    n = 0
    for f in glob.glob(f"{out}/{name}_*_counts.csv"):
        r = list(csv.reader(open(f), delimiter=";"))
        for i, h in enumerate(r[0]):
            if h.endswith("_INVITE_Recv") and i < len(r[-1]) and r[-1][i]:
                n += int(r[-1][i])
    return n
c1, c2, c1b = invites("c1"), invites("c2"), invites("c1b")
fo = t_over - t_fail if t_over else None
print("== lab summary")
print(f"  calls attempted {att}, completed {ok}, failed {bad}")
print(f"  INVITEs: car1 {c1} before the failure, car2 {c2}, car1 {c1b} after failback")
print("  failover time: " + ("%.2f s (car1 silent -> car2's first 200 OK to an INVITE)" % fo if fo is not None else "none measured"))
# In flight at the failure: at most one second of calls (rate); all others must complete.
verdict = [(att > 0 and ok + bad == att, "every attempted call ended"),
           (bad <= rate, f"failed {bad} <= {rate} (the calls in flight at the failure)"),
           (fo is not None and fo < 10, "failover measured, under 10 s"),
           (c1 > 0 and c2 > 0 and c1b > 0, "calls on car1, then car2, then car1 again (failback)")]
for cond, what in verdict:
    print(("  ok   " if cond else "  FAIL ") + what)
sys.exit(0 if all(c for c, _ in verdict) else 1)
PY
}

FAILED=0
check_bad_config
setup_topology || { echo "FAIL: topology"; exit 1; }
for sc in $SCENARIOS; do
    case $sc in
    steady|silent|icmp|503|failback|validated|fragment|runtime|multicore|twoport) run_$sc ;;
    dns|lab) run_$sc ;;
    *) fail "unknown scenario $sc" ;;
    esac
done
[ "$FAILED" = 0 ] && echo "PASS" || echo "FAILED"
exit "$FAILED"
