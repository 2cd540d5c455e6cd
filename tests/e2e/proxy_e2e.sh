#!/usr/bin/env bash
# End-to-end: sipp UAC -> sipedge (DPDK net_af_packet on a veth) -> sipp UAS,
# each in its own network namespace, all joined by a bridge in a fifth one.
#
#   caller 192.0.2.1 (sipp uac)   edge 192.0.2.10 (sipedge, DPDK owns the address)
#   car1   192.0.2.21 (primary)   car2 192.0.2.22 (secondary sipp uas)
#
# TEST-NET-1 addresses only, inside namespaces this script creates; no
# default route anywhere; nothing is sent from the root namespace. Scenarios:
#   steady  every call through the primary completes
#   silent  the primary swallows packets: calls roll over to the secondary
#           after the rollover timer (seed A, 1 s)
#   icmp    nothing listens on the primary: ICMP port unreachable rolls the
#           request over at once
# Usage: proxy_e2e.sh <sipedge binary> <this directory> [scenario...]
# Exit 0 pass, 1 fail, 77 skip (not root, no ip netns, no sipp).
set -u

SIPEDGE=${1:?sipedge binary}
HERE=${2:?source directory}
shift 2
SCENARIOS=${*:-steady silent icmp}

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

uas() {  # uas <ns> <ip> <log>
    start_bg "$1" "$3" timeout 100 sipp -sn uas -i "$2" -p 5060 -nostdin -timeout 90s \
        -trace_err -error_file "$WORK/uas_$1.err"
}

silent_sink() {  # a UDP socket that reads and never answers (no ICMP either)
    start_bg "$1" "$WORK/sink.log" timeout 100 python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$2', 5060)); s.settimeout(0.5)
end = time.time() + 90
while time.time() < end:
    try: s.recv(65535)
    except socket.timeout: pass
"
}

# run_scenario <name> <calls> <rate> <uac scenario args...>
run_scenario() {
    local name=$1 calls=$2 rate=$3; shift 3
    local out=$WORK/$name
    mkdir -p "$out"
    echo "== $name: $calls calls at $rate/s"
    case $name in
    steady) uas $NS_C1 192.0.2.21 "$out/uas1.log"; uas $NS_C2 192.0.2.22 "$out/uas2.log" ;;
    silent) silent_sink $NS_C1 192.0.2.21; uas $NS_C2 192.0.2.22 "$out/uas2.log" ;;
    icmp)   uas $NS_C2 192.0.2.22 "$out/uas2.log" ;;
    esac
    local bg_first=${#PIDS[@]}
    start_bg $NS_EDGE "$out/sipedge.err" sh -c "exec timeout 90 '$SIPEDGE' --ip 192.0.2.10/24 \
        --server 192.0.2.21:5060 --server 192.0.2.22:5060 --rollover 1 --duration 80 \
        -- --no-huge -m 512 --no-pci --no-shconf --no-telemetry -l 0 --file-prefix=$P \
        --log-level=lib.eal:error --vdev=net_af_packet0,iface=eth0 >'$out/stats.json'"
    local edge_pid=$LAST_PID
    # Wait (bounded) for the data plane: it answers ARP once the port is up.
    local i
    for i in $(seq 1 50); do
        grep -q "running" "$out/sipedge.err" 2>/dev/null && break
        sleep 0.2
    done
    sleep 0.5
    if [ "$name" = steady ]; then  # ICMP echo answered by the data plane
        in_ns $NS_UAC timeout 5 python3 -c "$PING" 192.0.2.10 && echo "  ok   ICMP echo reply" \
            || fail "$name: no ICMP echo reply from 192.0.2.10"
    fi
    in_ns $NS_UAC timeout 60 sipp 192.0.2.10:5060 -i 192.0.2.1 -p 5060 "$@" \
        -m "$calls" -r "$rate" -nostdin -timeout 50s -timeout_error \
        -trace_stat -stf "$out/uac.csv" -trace_err -error_file "$out/uac.err" \
        >"$out/uac.log" 2>&1
    local rc=$?
    kill -TERM "$edge_pid" 2>/dev/null
    for i in $(seq 1 50); do kill -0 "$edge_pid" 2>/dev/null || break; sleep 0.1; done
    # The UAS and the sink are done with this scenario: stop them (our PIDs only).
    local k
    for k in "${PIDS[@]:0:$bg_first}"; do kill -TERM "$k" 2>/dev/null; done
    wait 2>/dev/null

    [ "$rc" = 0 ] || fail "$name: sipp uac exit status $rc"
    python3 - "$out/uac.csv" "$out/stats.json" "$name" "$calls" <<'PY' || FAILED=1
import csv, json, sys
csvf, statsf, name, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ok = True
def check(cond, what):
    global ok
    print(("  ok   " if cond else "  FAIL ") + what)
    ok = ok and cond
rows = list(csv.reader(open(csvf), delimiter=';'))
h, last = rows[0], rows[-1]
col = lambda n: int(last[h.index(n)])
succ, failed, created = col('SuccessfulCall(C)'), col('FailedCall(C)'), col('TotalCallCreated')
check(created == calls, f"uac created {created} calls")
check(succ == calls, f"uac successful calls {succ} == {calls}")
check(failed == 0, f"uac failed calls {failed} == 0")
try:
    s = json.load(open(statsf))
except Exception as e:
    check(False, f"sipedge stats JSON readable ({e})")
    sys.exit(1)
c, t, d = s['calls'], s['transactions'], s['drops']
check(c['attempted'] == calls, f"sipedge calls attempted {c['attempted']} == {calls}")
check(c['answered'] == calls, f"sipedge calls answered {c['answered']} == {calls}")
check(c['failed'] == 0, f"sipedge calls failed {c['failed']} == 0")
check(s['sip']['byes_rx'] >= calls, f"sipedge BYEs seen {s['sip']['byes_rx']} >= {calls}")
check(s['sip']['acks_rx'] >= calls, f"sipedge ACKs seen {s['sip']['acks_rx']} >= {calls}")
for r in ('sip_parse', 'sip_rewrite', 'sip_foreign_branch', 'txn_exhausted', 'udp_bad_csum',
          'ipv4_bad_csum', 'tx_full', 'mbuf_exhausted', 'timer_exhausted'):
    check(d[r] == 0, f"drop {r} == {d[r]}")
if name == 'steady':
    check(s['icmp']['echo_rx'] >= 1, f"ICMP echo requests answered {s['icmp']['echo_rx']}")
    check(t['rollover_timeout'] + t['rollover_icmp'] + t['rollover_503'] == 0, "no rollover")
if name == 'silent':
    check(t['rollover_timeout'] >= calls, f"rollovers on timeout {t['rollover_timeout']} >= {calls}")
if name == 'icmp':
    check(s['icmp']['unreach_matched'] >= 1, f"ICMP unreachable matched {s['icmp']['unreach_matched']}")
    check(t['rollover_icmp'] >= 1, f"rollovers on ICMP {t['rollover_icmp']} >= 1")
    check(t['rollover_icmp'] + t['rollover_timeout'] >= calls,
          f"every INVITE rolled over ({t['rollover_icmp']} icmp + {t['rollover_timeout']} timeout)")
print("  sipedge:", json.dumps({k: s[k] for k in ('calls', 'transactions')}))
sys.exit(0 if ok else 1)
PY
    [ "${FAILED:-0}" = 0 ] || { echo "--- sipedge stderr"; tail -5 "$out/sipedge.err"; \
        echo "--- uac log"; tail -30 "$out/uac.log"; head -20 "$out/uac.err" 2>/dev/null; }
}

FAILED=0
setup_topology || { echo "FAIL: topology"; exit 1; }
for sc in $SCENARIOS; do
    case $sc in
    steady) run_scenario steady 50 10 -sn uac ;;
    silent) run_scenario silent 10 5 -sf "$HERE/uac_rr.xml" ;;
    icmp)   run_scenario icmp 20 10 -sf "$HERE/uac_rr.xml" ;;
    *) fail "unknown scenario $sc" ;;
    esac
done
[ "$FAILED" = 0 ] && echo "PASS" || echo "FAILED"
exit "$FAILED"
