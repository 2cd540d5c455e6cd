#!/bin/bash
# Issue 12, "a topology the user did not build": sipedge on net_af_packet
# behind a veth whose peer keeps its default TX checksum offload, so every UDP
# datagram the peer's kernel sends carries CHECKSUM_PARTIAL (the pseudo-header
# partial sum in the checksum field). Checks, with no switch given:
#   - `sipedgectl wait-ready` returns 0 once the data plane is up;
#   - the peer's OPTIONS are answered (accepted as partial, counted), the log
#     says so once for the port, `show dataplane` shows the port's mode;
#   - a datagram with a genuinely wrong checksum (raw socket) is dropped;
#   - busy/idle cycles in `show stats`, metrics and the exit JSON;
#   - with --no-rx-udp-csum both are accepted and nothing is counted partial.
# Two network namespaces joined by one veth pair, TEST-NET-1 addresses, no
# default route; everything removed at the end, processes stopped by PID.
#
#   csum_e2e.sh SIPEDGE SIPEDGECTL     (root; exits 77 when it cannot run)

set -u
SIPEDGE=${1:?sipedge binary}
CTL=${2:?sipedgectl binary}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
command -v ip >/dev/null && command -v python3 >/dev/null || { echo "SKIP: needs ip and python3"; exit 77; }

. "$(dirname "$0")/pair.sh"
pair_setup ck csum

cat >"$WORK/edge.conf" <<'EOF'
set dataplane address 192.0.2.10/24
EOF

# run_edge <tag> [sipedge options]: sipedge in the edge namespace, PID in EDGE_PID.
run_edge() {
    local tag=$1
    shift
    ip netns exec "$NS_E" "$SIPEDGE" --config "$WORK/edge.conf" --socket "$WORK/$tag.sock" --duration 60 "$@" -- \
        --no-huge -m 256 --no-pci --no-shconf -l 0-1 --file-prefix="$P" \
        --vdev=net_af_packet0,iface=eth0 --log-level='*:error' \
        >"$WORK/$tag.json" 2>"$WORK/$tag.log" &
    EDGE_PID=$!
    PIDS+=("$EDGE_PID")
}

# stop_edge: SIGTERM by PID, wait for the exit JSON.
stop_edge() {
    kill -TERM "$EDGE_PID" 2>/dev/null
    wait "$EDGE_PID" 2>/dev/null
}

# The peer's OPTIONS through its kernel's UDP socket (CHECKSUM_PARTIAL on the
# veth): prints the status line of each answer, "none" for a lost one.
OPTIONS_PY='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.1", 5062))
s.settimeout(1.0)
for i in range(int(sys.argv[1])):
    m = ("OPTIONS sip:192.0.2.10:5060 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKck%d\r\n"
         "Max-Forwards: 70\r\nTo: <sip:192.0.2.10>\r\nFrom: <sip:peer@192.0.2.1>;tag=ck\r\n"
         "Call-ID: ck-%d@192.0.2.1\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n") % (i, i, i + 1)
    got = "none"
    for attempt in range(3):  # the first may wait for ARP
        s.sendto(m.encode(), ("192.0.2.10", 5060))
        try:
            got = s.recv(4096).decode(errors="replace").split("\r\n")[0]
            break
        except socket.timeout:
            pass
    print(got)
'

# One UDP datagram with a wrong checksum (raw socket: the kernel leaves the
# UDP header as given), neither right nor the partial sum.
BAD_PY='
import socket, struct
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return s
src, dst = socket.inet_aton("192.0.2.1"), socket.inet_aton("192.0.2.10")
payload = b"OPTIONS sip:192.0.2.10 SIP/2.0\r\n\r\n"
ulen = 8 + len(payload)
partial = csum(src + dst + struct.pack("!BBH", 0, 17, ulen))
good = 0xffff - csum(src + dst + struct.pack("!BBH", 0, 17, ulen) + struct.pack("!HHHH", 5063, 5060, ulen, 0) + payload)
bad = 0x1234
while bad in (partial, good, 0): bad += 1
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
r.sendto(struct.pack("!HHHH", 5063, 5060, ulen, bad) + payload, ("192.0.2.10", 0))
'

json_get() {  # json_get <file> <python expression over d>
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}

# ---- 1. defaults: partial sums recognised on net_af_packet ----------------------------------
run_edge auto
if "$CTL" --socket "$WORK/auto.sock" wait-ready --timeout 20 >"$WORK/ready.out" 2>&1; then
    ok "wait-ready: $(head -1 "$WORK/ready.out")"
else
    fail "wait-ready: $(cat "$WORK/ready.out")"
fi
answers=$(ip netns exec "$NS_P" python3 -c "$OPTIONS_PY" 3)
n_answered=$(echo "$answers" | grep -c '^SIP/2.0 ')
[ "$n_answered" = 3 ] && ok "3 OPTIONS with partial checksums answered ($(echo "$answers" | head -1))" \
    || fail "OPTIONS answered: $n_answered of 3: $answers"
ip netns exec "$NS_P" python3 -c "$BAD_PY" || fail "raw bad-checksum datagram not sent"
# `show stats` is refreshed every second: wait (bounded, 5 s) for a refresh
# that holds the traffic above, not a fixed time.
for _ in $(seq 1 50); do
    b=$("$CTL" --socket "$WORK/auto.sock" --json show stats 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["total"].get("busy_cycles", 0))' 2>/dev/null)
    [ "${b:-0}" -gt 0 ] 2>/dev/null && break
    sleep 0.1
done
dpj=$("$CTL" --socket "$WORK/auto.sock" --json show dataplane)
mode=$(echo "$dpj" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["running"][0]["rx_udp_csum"])')
[ "$mode" = "verify+accept-partial" ] && ok "show dataplane: port 0 $mode" || fail "show dataplane mode: $dpj"
stats=$("$CTL" --socket "$WORK/auto.sock" --json show stats)
busy=$(echo "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["total"].get("busy_cycles", -1))')
[ "${busy:--1}" -gt 0 ] 2>/dev/null && ok "show stats: busy_cycles $busy" || fail "show stats busy_cycles: $stats"
"$CTL" --socket "$WORK/auto.sock" metrics >"$WORK/metrics.txt" 2>&1
grep -q '^sipedge_worker_busy_cycles_total{core="1",worker="0"} [1-9]' "$WORK/metrics.txt" &&
    grep -q '^sipedge_worker_tsc_hz{' "$WORK/metrics.txt" && ok "metrics: busy cycles and TSC hz" ||
    fail "metrics: $(grep -E 'cycles|tsc' "$WORK/metrics.txt")"
stop_edge
partial=$(json_get "$WORK/auto.json" 'd["rx"]["udp_csum_partial"]')
badc=$(json_get "$WORK/auto.json" 'd["drops"]["udp_bad_csum"]')
cyc=$(json_get "$WORK/auto.json" 'd["cycles"]["busy"] > 0 and d["cycles"]["idle"] > 0 and d["workers"][0]["busy_cycles"] > 0')
pmode=$(json_get "$WORK/auto.json" 'd["ports"][0]["rx_udp_csum"]')
[ "${partial:-0}" -ge 3 ] 2>/dev/null && ok "exit JSON: udp_csum_partial $partial" || fail "udp_csum_partial: $partial"
[ "$badc" = 1 ] && ok "exit JSON: the wrong checksum dropped (udp_bad_csum 1)" || fail "udp_bad_csum: $badc"
[ "$cyc" = True ] && ok "exit JSON: busy and idle cycles" || fail "exit JSON cycles: $cyc"
[ "$pmode" = "verify+accept-partial" ] || fail "exit JSON port mode: $pmode"
said=$(grep -c 'accepted a UDP datagram from 192.0.2.1:5062' "$WORK/auto.log")
[ "$said" = 1 ] && ok "log said it once: $(grep -o 'port 0 (DPDK port 0, net_af_packet)[^;]*' "$WORK/auto.log")" ||
    fail "partial log lines: $said ($(cat "$WORK/auto.log"))"
grep -q 'ethtool -K <peer-interface> tx off' "$WORK/auto.log" || fail "the log does not say how to fix the peers"

# ---- 2. --no-rx-udp-csum still turns every check off ----------------------------------------
run_edge off --no-rx-udp-csum
"$CTL" --socket "$WORK/off.sock" wait-ready --timeout 20 >/dev/null 2>&1 || fail "wait-ready (off)"
answers=$(ip netns exec "$NS_P" python3 -c "$OPTIONS_PY" 1)
echo "$answers" | grep -q '^SIP/2.0 ' && ok "--no-rx-udp-csum: OPTIONS answered" || fail "--no-rx-udp-csum: $answers"
ip netns exec "$NS_P" python3 -c "$BAD_PY"
sleep 0.3
stop_edge
partial=$(json_get "$WORK/off.json" 'd["rx"]["udp_csum_partial"]')
badc=$(json_get "$WORK/off.json" 'd["drops"]["udp_bad_csum"]')
pmode=$(json_get "$WORK/off.json" 'd["ports"][0]["rx_udp_csum"]')
[ "$partial" = 0 ] && [ "$badc" = 0 ] && [ "$pmode" = off ] &&
    ok "--no-rx-udp-csum: nothing dropped or counted partial, port mode off" ||
    fail "--no-rx-udp-csum: partial $partial bad $badc mode $pmode"

# After sipedge is gone, wait-ready gives up with the reason.
if "$CTL" --socket "$WORK/off.sock" wait-ready --timeout 0.5 >"$WORK/gone.out" 2>&1; then
    fail "wait-ready succeeded with no sipedge"
else
    ok "wait-ready without sipedge: $(cat "$WORK/gone.out")"
fi

echo "$((FAILS == 0 ? 1 : 0)) passed, $FAILS failed"
[ "$FAILS" = 0 ]
