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
#              the primary removed for maintenance and added back; every
#              call completes and no transaction is lost
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
    for ns in $NS_UAC $NS_EDGE $NS_C1 $NS_C2 $NS_BR; do ip netns del "$ns" 2>/dev/null; done
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
        -i $ip -p 5060 -nostdin -timeout 90s -trace_counts -fd 1 -trace_err"
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
    start_bg $NS_EDGE "$out/sipedge.err" sh -c "exec timeout 90 '$SIPEDGE' --config '$out/edge.conf' \
        --socket '$out/ctl.sock' --duration 80 \
        -- --no-huge -m 512 --no-pci --no-shconf --no-telemetry -l 0-1 --file-prefix=$P \
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
        v = v[p]
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
    uac 50 10 -sn uac
    stop_run
    check steady "uac.successful == 50" "uac.failed == 0" "edge.calls.attempted == 50" \
        "edge.calls.answered == 50" "edge.calls.failed == 0" "edge.sip.byes_rx >= 50" \
        "edge.sip.acks_rx >= 50" "edge.icmp.echo_rx >= 1" \
        "edge.transactions.rollover_timeout+edge.transactions.rollover_icmp+edge.transactions.rollover_503 == 0" \
        "c1.invites == 50" "c2.invites == 0" "edge.control.published >= 1" \
        "edge.control.events_in >= 50" "edge.control.events_dropped == 0"
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
    ctl 0 del trunk carrier server 1      # the primary out for maintenance
    sleep 3
    ctl 0 set trunk carrier server 1 192.0.2.21:5060 udp   # and back
    wait "$uac_pid"
    UAC_RC=$?
    stop_run
    # Calls before the removal and after the return go to the primary, the
    # ones between to the secondary; none is lost or sent twice.
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

FAILED=0
check_bad_config
setup_topology || { echo "FAIL: topology"; exit 1; }
for sc in $SCENARIOS; do
    case $sc in
    steady|silent|icmp|503|failback|validated|fragment|runtime) run_$sc ;;
    *) fail "unknown scenario $sc" ;;
    esac
done
[ "$FAILED" = 0 ] && echo "PASS" || echo "FAILED"
exit "$FAILED"
