#!/bin/bash
# Issue 14: SIP over TCP from the access side through the workers to a UDP
# carrier (sipedge --sip-tcp; docs/stream.md). sipedge on net_af_packet with
# the exception path: the kernel's sipedge0 holds 192.0.2.10, the stream
# thread listens there on TCP 5060 and hands whole messages to the worker.
# Peers in one namespace behind the veth: the caller, sipp over TCP (-t t1,
# relay_uac.xml: ACK, INFO, UPDATE, re-INVITE, takes the carrier's INFO,
# BYE) from 192.0.2.1, and the carrier, sipp over UDP (relay_carrier.xml) on
# 192.0.2.21. Checks:
#   - every call completes, in-dialog requests both ways (the carrier's INFO
#     reaches the caller over its TCP connection: the Request-URI names no
#     transport, our Record-Route entry for the caller's side does);
#   - the carrier sees our double Record-Route: its own side's entry first
#     (UDP), the caller's with ;transport=tcp, and our Via as SIP/2.0/UDP;
#   - exit JSON: stream.rx/tx counted by the worker, the stream thread
#     accepted the connection and framed every message, nothing dropped for
#     the stream (stream_full, stream_off) or refused (sip_not_udp).
# Two network namespaces joined by one veth pair (pair.sh), TEST-NET-1
# addresses, no default route; everything removed at the end, processes
# stopped by PID.
#
#   tcp_e2e.sh SIPEDGE SIPEDGECTL DIR_OF_SCENARIOS   (root; exits 77 when it cannot run)

set -u
SIPEDGE=${1:?sipedge binary}
CTL=${2:?sipedgectl binary}
HERE=$(cd "$(dirname "$0")" && pwd)
CALLS=${TCP_CALLS:-200}
RATE=${TCP_RATE:-20}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
command -v ip >/dev/null && command -v python3 >/dev/null || { echo "SKIP: needs ip and python3"; exit 77; }
command -v sipp >/dev/null || { echo "SKIP: no sipp"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun (net_tap)"; exit 77; }

. "$HERE/pair.sh"
pair_setup tc tcp
ip -n "$NS_P" addr add 192.0.2.21/24 dev eth0

cat >"$WORK/edge.conf" <<CONF
set dataplane address 192.0.2.10/24
add trunk carrier
set trunk carrier server 1 192.0.2.21:5060 udp
set trunk carrier register off
set dataplane default-trunk carrier
CONF
pair_start_edge "$WORK" "$WORK/edge.conf" "$P" --sip-tcp --verbose || exit 1
grep -q "SIP over TCP on 192.0.2.10:5060" "$WORK/edge.log" &&
    ok "start-up: $(grep -o "SIP over TCP on [^(]*" "$WORK/edge.log")" || fail "no TCP listener line: $(cat "$WORK/edge.log")"
grep -q "stream thread on CPU 0" "$WORK/edge.log" &&
    ok "the stream thread runs on the main lcore's CPU (0)" || fail "stream thread CPU: $(grep 'stream thread' "$WORK/edge.log")"
ip netns exec "$NS_E" ss -Hltn 2>/dev/null | grep -q '192.0.2.10:5060' &&
    ok "the kernel listens on 192.0.2.10:5060 (TCP) behind the tap" || fail "no TCP listener: $(ip netns exec "$NS_E" ss -Hltn)"

cp "$HERE/relay_carrier.xml" "$WORK/car.xml"
ip netns exec "$NS_P" sh -c "cd '$WORK' && exec timeout 100 sipp -sf '$WORK/car.xml' -i 192.0.2.21 -p 5060 \
    -nostdin -timeout 90s -trace_counts -fd 1 -trace_msg -trace_err" >"$WORK/car.log" 2>&1 &
CAR_PID=$!
PIDS+=("$CAR_PID")
for _ in $(seq 1 50); do
    [ -n "$(ip netns exec "$NS_P" ss -Hlun 'sport = :5060' 2>/dev/null)" ] && break
    sleep 0.1
done
cp "$HERE/relay_uac.xml" "$WORK/uac.xml"
ip netns exec "$NS_P" sh -c "cd '$WORK' && exec timeout 80 sipp 192.0.2.10:5060 -t t1 -i 192.0.2.1 -p 5060 \
    -sf '$WORK/uac.xml' -m $CALLS -r $RATE -nostdin -timeout 70s -timeout_error -trace_stat \
    -stf '$WORK/uac.csv' -trace_err -error_file '$WORK/uac.err'" >"$WORK/uac.log" 2>&1
UAC_RC=$?
written_after "$(date +%s.%N)" "$WORK"/car_*_counts.csv  # the carrier's next dump: counts complete
reap "$EDGE_PID" "$CAR_PID"

PYTHONPATH="$HERE" python3 - "$WORK" "$CALLS" "$UAC_RC" <<'PY'
import glob, json, re, sys
from sustained_lib import *
out, calls, rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = uac_stats(out)
check(rc == 0, "sipp caller (TCP) exit status %d" % rc)
check(u["successful"] == calls and u["failed"] == 0,
      "calls over TCP with ACK, INFO, UPDATE, re-INVITE, the carrier's INFO and BYE: %d successful of %d, "
      "%d failed %s" % (u["successful"], calls, u["failed"], u["failed_by"] or ""))
c = counts(out, "car")
check(c.get("BYE_Recv", 0) == calls, "the carrier (UDP) received BYE %d == calls %d" % (c.get("BYE_Recv", 0), calls))
text = "".join(open(p, errors="replace").read() for p in glob.glob(out + "/car_*_messages.log"))
inv = re.search(r"INVITE sip:[^\n]*\n(?:[^\n]+\n)*?", text)
rr = re.search(r"Record-Route: (<sip:192\.0\.2\.10:5060;lr;sx=[0-9a-f]+>),(<sip:192\.0\.2\.10:5060;transport=tcp;lr;sx=[0-9a-f]+>)", text)
check(rr is not None, "the carrier sees our double Record-Route, UDP side first, then ;transport=tcp: %s"
      % (rr.group(0) if rr else "none in %d bytes of its trace" % len(text)))
check(re.search(r"Via: SIP/2\.0/UDP 192\.0\.2\.10:5060;branch=", text) is not None, "our Via to the carrier says UDP")
check(re.search(r"Via: SIP/2\.0/TCP 192\.0\.2\.1:5060", text) is not None, "the caller's TCP Via reaches the carrier below ours")
e = edge_stats(out)
check(bool(e), "sipedge's exit JSON")
if e:
    s = e.get("stream", {})
    info("edge stream section: %s" % json.dumps(s))
    # Per call the caller sends INVITE, ACK, INFO, UPDATE, INVITE, ACK, 200 (carrier INFO), BYE = 8.
    check(s.get("rx", 0) >= 8 * calls, "stream.rx %d >= %d (8 messages per call from the caller)" % (s.get("rx", 0), 8 * calls))
    check(s.get("tx", 0) >= 7 * calls, "stream.tx %d >= %d (100s, 200s, the carrier's INFO)" % (s.get("tx", 0), 7 * calls))
    check(s.get("conns_accepted", 0) >= 1 and s.get("framing_errors", 1) == 0 and s.get("too_large", 1) == 0,
          "stream thread: accepted %s, framing errors %s, too large %s" % (s.get("conns_accepted"), s.get("framing_errors"), s.get("too_large")))
    check(s.get("msgs_rx", 0) == s.get("rx", -1), "every framed message reached the worker (%s == %s)" % (s.get("msgs_rx"), s.get("rx")))
    check(s.get("conns_opened", 0) == 0, "no outbound connection: the caller's INFO went on its own (conns_opened %s)" % s.get("conns_opened"))
    d = e.get("drops", {})
    for k in ("stream_full", "stream_off", "sip_not_udp", "sip_forbidden"):
        check(d.get(k, 0) == 0, "drops.%s %d == 0" % (k, d.get(k, 0)))
done()
PY
[ $? = 0 ] || FAILS=$((FAILS + 1))
[ "$FAILS" = 0 ] && { echo "PASS"; exit 0; }
echo "FAILED ($FAILS)"; exit 1
