#!/bin/bash
# Issue 14, the kernel exception path (--exception-tap; docs/stream.md
# "Exception path"): sipedge on net_af_packet with a net_tap beside its port
# whose kernel interface (sipedge0) holds the same address. The peer keeps
# its default TX checksum offload (its TCP segments carry CHECKSUM_PARTIAL
# through the veth). Checks:
#   - the start-up line names the path; sipedge0 holds 192.0.2.10/24;
#   - a TCP echo server in the edge namespace, bound to 192.0.2.10:5061 (the
#     kernel's socket on the tap), gets the peer's connection through the
#     data port: 256 KiB sent and echoed back intact, both directions
#     through the worker;
#   - a port with no listener answers RST (connection refused at once);
#   - with the peer's TSO/GSO off nothing is dropped on the way; with its
#     defaults (segments of many MTUs) the data still arrives intact;
#   - UDP SIP is still the worker's: an OPTIONS is answered;
#   - exit JSON: exception.to_kernel and .from_kernel counted; the tap
#     interface is gone after sipedge exits.
# Two network namespaces joined by one veth pair, TEST-NET-1 addresses, no
# default route; everything removed at the end, processes stopped by PID.
#
#   exception_e2e.sh SIPEDGE SIPEDGECTL     (root; exits 77 when it cannot run)

set -u
SIPEDGE=${1:?sipedge binary}
CTL=${2:?sipedgectl binary}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
command -v ip >/dev/null && command -v python3 >/dev/null || { echo "SKIP: needs ip and python3"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun (net_tap)"; exit 77; }

. "$(dirname "$0")/pair.sh"
pair_setup ex exc

echo "set dataplane address 192.0.2.10/24" >"$WORK/edge.conf"
pair_start_edge "$WORK" "$WORK/edge.conf" "$P" --exception-tap || exit 1
grep -q "exception path to the kernel's sipedge0 (192.0.2.10/24)" "$WORK/edge.log" &&
    ok "start-up: $(grep -o "port 0: exception path[^:]*" "$WORK/edge.log")" || fail "no start-up line: $(cat "$WORK/edge.log")"
ip -n "$NS_E" -4 addr show dev sipedge0 2>/dev/null | grep -q "inet 192.0.2.10/24" &&
    ok "sipedge0 holds 192.0.2.10/24" || fail "sipedge0: $(ip -n "$NS_E" addr show 2>&1)"

# The kernel's TCP echo server on the tap's address (bounded: 30 s, 4 connections).
ip netns exec "$NS_E" timeout 30 python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.10", 5061))
s.listen(4)
s.settimeout(30)
for _ in range(4):
    c, _ = s.accept()
    c.settimeout(10)
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.close()
' >"$WORK/echo.out" 2>&1 &
PIDS+=($!)
# Listening (bounded: 5 s), not a fixed sleep.
for _ in $(seq 1 50); do
    ip netns exec "$NS_E" ss -Hltn 2>/dev/null | grep -q '192.0.2.10:5061' && break
    sleep 0.1
done
ip netns exec "$NS_E" ss -Hltn 2>/dev/null | grep -q '192.0.2.10:5061' || fail "the echo server is not listening"

CLIENT_PY='
import os, socket, sys, time
data = os.urandom(256 * 1024)
t0 = time.time()
c = socket.create_connection(("192.0.2.10", 5061), timeout=10)
c.sendall(data)
c.shutdown(socket.SHUT_WR)
got = bytearray()
while True:
    d = c.recv(65536)
    if not d:
        break
    got += d
c.close()
print("echo %s %d %.3f" % ("intact" if bytes(got) == data else "differs", len(got), time.time() - t0))
t0 = time.time()
try:
    socket.create_connection(("192.0.2.10", 5062), timeout=5).close()
    print("refused no")
except ConnectionRefusedError:
    print("refused yes %.3f" % (time.time() - t0))
except Exception as e:
    print("refused error %s" % e)
'
# ETHTOOL_STSO / ETHTOOL_SGSO on the peer's eth0: <0|1>.
OFFLOAD_PY='
import array, fcntl, socket, struct, sys
for cmd in (0x1f, 0x24):
    val = array.array("B", struct.pack("II", cmd, int(sys.argv[1])))
    ifr = struct.pack("16sP", b"eth0", val.buffer_info()[0]).ljust(40, b"\0")
    fcntl.ioctl(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), 0x8946, ifr)
'
# next_reading: waits (3 s at most) until show stats holds a reading of the
# workers' counters taken after now (they are read once a second: "readings").
next_reading() {
    local n0 n i
    n0=$("$CTL" --socket "$WORK/ctl.sock" --json show stats 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["readings"])')
    for i in $(seq 1 30); do
        n=$("$CTL" --socket "$WORK/ctl.sock" --json show stats 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["readings"])')
        [ -n "$n0" ] && [ -n "$n" ] && [ "$n" -gt "$n0" ] && return 0
        sleep 0.1
    done
    return 1
}

drops_now() {  # drop reasons with a count, from show stats: "reason=count ..."
    "$CTL" --socket "$WORK/ctl.sock" --json show stats 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
print(" ".join("%s=%s" % (r["reason"], r["count"]) for r in d["drops"]))'
}

# A. The peer sends segments of at most its MTU (TSO/GSO off, as a NIC link
# would): nothing is lost on the way to the kernel.
ip netns exec "$NS_P" python3 -c "$OFFLOAD_PY" 0 || fail "peer offloads off"
res=$(ip netns exec "$NS_P" timeout 40 python3 -c "$CLIENT_PY" 2>&1)
echo "$res" | grep -q "^echo intact 262144 " && ok "TCP through the data port to the kernel: $(echo "$res" | grep '^echo') s" ||
    fail "TCP echo: $res"
echo "$res" | grep -q "^refused yes " && ok "no listener: RST from the kernel ($(echo "$res" | grep '^refused'))" ||
    fail "closed port: $res"
next_reading || fail "show stats: no new reading of the workers' counters within 3 s"
d=$(drops_now)
case " $d " in *" exception_full="*|*" ipv4_truncated="*|*" exception_other="*) fail "drops with MTU-sized segments: $d" ;;
    *) ok "no exception_full / ipv4_truncated / exception_other drop (drops: ${d:-none})" ;; esac

# B. The peer's defaults (veth TSO/GSO: segments of many MTUs handed over
# whole): the data port cuts or the tap refuses them (counted), TCP resends
# them MTU-sized; the data still arrives intact (docs/stream.md).
ip netns exec "$NS_P" python3 -c "$OFFLOAD_PY" 1 || fail "peer offloads on"
res=$(ip netns exec "$NS_P" timeout 40 python3 -c "$CLIENT_PY" 2>&1)
echo "$res" | grep -q "^echo intact 262144 " && ok "with the peer's TSO/GSO on: $(echo "$res" | grep '^echo') s" ||
    fail "TCP echo with TSO/GSO: $res"
next_reading || fail "show stats: no new reading of the workers' counters within 3 s"
echo "info: drops after the peer's TSO/GSO segments: $(drops_now)"

OPTIONS_PY='
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.1", 5062))
s.settimeout(1.0)
m = ("OPTIONS sip:192.0.2.10:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKex1\r\n"
     "Max-Forwards: 70\r\nTo: <sip:192.0.2.10>\r\nFrom: <sip:peer@192.0.2.1>;tag=ex\r\n"
     "Call-ID: ex-1@192.0.2.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
got = "none"
for attempt in range(3):
    s.sendto(m.encode(), ("192.0.2.10", 5060))
    try:
        got = s.recv(4096).decode(errors="replace").split("\r\n")[0]
        break
    except socket.timeout:
        pass
print(got)
'
ans=$(ip netns exec "$NS_P" python3 -c "$OPTIONS_PY")
case $ans in "SIP/2.0 "*) ok "UDP SIP still the worker's: OPTIONS got $ans" ;; *) fail "OPTIONS: $ans" ;; esac

kill -TERM "$EDGE_PID" 2>/dev/null
wait "$EDGE_PID" 2>/dev/null
read -r tok fromk full other <<<"$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["exception"]["to_kernel"], d["exception"]["from_kernel"], d["drops"]["exception_full"], d["drops"]["exception_other"])' "$WORK/stats.json" 2>/dev/null)"
[ "${tok:-0}" -gt 100 ] 2>/dev/null && [ "${fromk:-0}" -gt 100 ] 2>/dev/null &&
    ok "exit JSON: exception.to_kernel $tok, from_kernel $fromk, drops exception_full $full, exception_other $other" ||
    fail "exit JSON exception counters: to $tok from $fromk full $full other $other"
for _ in $(seq 1 50); do  # bounded: 5 s for the kernel to remove it
    ip -n "$NS_E" link show sipedge0 >/dev/null 2>&1 || break
    sleep 0.1
done
ip -n "$NS_E" link show sipedge0 >/dev/null 2>&1 && fail "sipedge0 still there 5 s after sipedge exited" ||
    ok "sipedge0 removed with sipedge"

echo "$((FAILS == 0 ? 1 : 0)) passed, $FAILS failed"
[ "$FAILS" = 0 ]
