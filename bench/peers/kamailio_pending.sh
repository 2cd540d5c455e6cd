#!/usr/bin/env bash
# Memory per pending INVITE transaction in Kamailio (issue 15), measured the
# way bench/dataplane/pending_bench.cc measures sipedge: N INVITEs forwarded
# to a carrier that never answers (it reads and discards: no ICMP), all still
# pending when memory is read. Kamailio keeps transactions in shared memory:
# `kamcmd core.shmmem` used_size before the first INVITE and after the last,
# divided by N. Kamailio is Debian's 5.6 with bench/peers/kamailio.cfg plus
# the ctl module (kamcmd's socket); fr_timer 32 s, so N/rate must stay under
# ~30 s (default 25,000 at 1,000/s).
#
# Everything runs in one namespace created here (addresses on its loopback,
# no default route), removed at exit.
# Usage: kamailio_pending.sh [N=25000] [rate=1000]   Exit 0 figures, 1 fail, 77 skip.
set -u
N=${1:-25000} RATE=${2:-1000}
case "$N$RATE" in *[!0-9]*) echo "numbers only" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (namespace)"; exit 77; }
command -v kamailio >/dev/null && command -v kamcmd >/dev/null ||
    { echo "SKIP: no kamailio (bash scripts/install-deps.sh --peers)"; exit 77; }
HERE=$(cd "$(dirname "$0")" && pwd)
NS="kmem$$"
WORK=$(mktemp -d /tmp/sipedge-kmem.XXXXXX)
KPID=
cleanup() {
    [ -n "$KPID" ] && kill -TERM "$KPID" 2>/dev/null && sleep 1 && kill -KILL "$KPID" 2>/dev/null
    [ -n "$KPID" ] && wait "$KPID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
for a in 198.18.0.1 198.18.0.10 198.18.0.200; do ip -n "$NS" addr add "$a/32" dev lo; done
sed -e 's|^loadmodule "tm.so"|loadmodule "ctl.so"\nmodparam("ctl", "binrpc", "unix:'"$WORK"'/ctl.sock")\nloadmodule "tm.so"|' \
    "$HERE/kamailio.cfg" >"$WORK/kamailio.cfg"
mkdir -p "$WORK/run"
ip netns exec "$NS" kamailio -f "$WORK/kamailio.cfg" -DD -E -n 1 -m 2048 -M 64 -Y "$WORK/run" \
    >"$WORK/kam.out" 2>"$WORK/kam.err" &
KPID=$!
for _ in $(seq 1 100); do [ -S "$WORK/ctl.sock" ] && break; sleep 0.1; done
[ -S "$WORK/ctl.sock" ] || { echo "FAIL: kamailio did not start"; tail -5 "$WORK/kam.err"; exit 1; }
shm_used() { kamcmd -s "unix:$WORK/ctl.sock" core.shmmem | awk '$1 == "used:" {print $2}'; }
stats() { kamcmd -s "unix:$WORK/ctl.sock" tm.stats; }
sleep 1
U0=$(shm_used)
ip netns exec "$NS" timeout -k 5 $((N / RATE + 40)) python3 - "$N" "$RATE" "$WORK" <<'PY'
import socket, sys, time, threading
n, rate, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
car = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); car.bind(("198.18.0.200", 5060))
uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); uac.bind(("198.18.0.10", 5060))
for s in (car, uac):
    s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE: drain without loss
got = {"car": 0, "uac": 0}
stop = False
def drain(s, k):
    s.settimeout(0.2)
    while not stop:
        try:
            s.recv(65535); got[k] += 1
        except socket.timeout:
            pass
ts = [threading.Thread(target=drain, args=(car, "car")), threading.Thread(target=drain, args=(uac, "uac"))]
for t in ts: t.start()
sdp = ("v=0\r\no=user1 53655765 2353687637 IN IP4 198.18.0.10\r\ns=-\r\nc=IN IP4 198.18.0.10\r\n"
       "t=0 0\r\nm=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n")
t0 = time.time()
for i in range(n):
    cid = "%016x" % i
    m = ("INVITE sip:+4930123456@198.18.0.1:5060 SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK%s;rport\r\nMax-Forwards: 70\r\n"
         "From: \"Office 100\" <sip:100@198.18.0.10>;tag=%s\r\nTo: <sip:+4930123456@198.18.0.1>\r\n"
         "Call-ID: %s@198.18.0.10\r\nCSeq: 1 INVITE\r\nContact: <sip:100@198.18.0.10:5060>\r\n"
         "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY\r\n"
         "Supported: replaces, timer\r\nUser-Agent: PBX/1.0\r\nContent-Type: application/sdp\r\n"
         "Content-Length: %d\r\n\r\n%s") % (cid, cid[:10], cid, len(sdp), sdp)
    uac.sendto(m.encode(), ("198.18.0.1", 5060))
    lag = t0 + (i + 1) / rate - time.time()
    if lag > 0: time.sleep(lag)
time.sleep(1.0)
stop = True
for t in ts: t.join()
print("sent %d INVITEs in %.1f s; the carrier got %d datagrams (first sends and retransmissions), the caller %d"
      % (n, time.time() - t0, got["car"], got["uac"]), flush=True)
PY
U1=$(shm_used)
ST=$(stats)
echo "$ST" | grep -E 'current|waiting|created' | tr -s ' \t' ' '
CUR=$(echo "$ST" | awk '/current:/ {print $2}')
python3 - "$N" "$U0" "$U1" "${CUR:-0}" <<'PY'
import json, sys
n, u0, u1, cur = (int(x) for x in sys.argv[1:5])
per = (u1 - u0) / max(1, cur)
print(json.dumps({"invites": n, "tm_current": cur, "shm_used_before": u0, "shm_used_after": u1,
                  "shm_bytes_per_pending_invite": round(per)}))
sys.exit(0 if cur >= n * 0.95 else 1)
PY
