#!/bin/bash
# Issue 14: a trunk whose primary server is a TLS carrier (sipedge --sip-tcp;
# docs/stream.md). sipedge on net_af_packet with the exception path; the
# stream thread connects to the carrier over the kernel's TCP and OpenSSL,
# verifying its certificate against the trunk's tls-ca and the trunk's domain
# (RFC 5922). The caller is sipp over UDP (uac_rr.xml) from 192.0.2.1, the
# TLS carrier a Python ssl UAS (tls_uas.py) on 192.0.2.21:5061, the trunk's
# secondary sipp over UDP (uas_carrier.xml) on 192.0.2.22. A test CA made
# here signs the carrier's certificates. Two runs:
#   A. the carrier's certificate names carrier.example (the trunk's domain)
#      and it requires a client certificate (mutual TLS: the trunk's
#      tls-client-cert/-key): every call completes through it over TLS
#      (INVITE/ACK/BYE on one connection, SNI carrier.example), none reaches
#      the secondary;
#   B. its certificate names other.example: sipedge refuses it with a clear
#      event on stderr (expected carrier.example, got other.example), the
#      INVITE comes back undelivered and rolls over to the secondary at once
#      (well before the 3 s rollover timer: the undelivered request comes
#      back from the stream thread), every call completes through the
#      secondary. (The seed's default, ADTRAN top-first, tries the primary
#      first for every call: each pays one refused handshake, milliseconds.)
#   C. the carrier closes its connection after every ACK: each BYE opens a
#      new one (TLS session resumed), no rollover, nothing to the secondary;
#   D. a hung carrier (TCP accepted, no handshake), model poly with
#      tcp-fast-failover 2000 ms: the first call rolls over after the 2 s
#      (the connection's timeout, the trunk's), none waits longer;
#   E. the access side over TLS (--tls-cert/--tls-key): a Python ssl caller
#      (tls_uac.py) through sipedge to the UDP secondary alone, our
#      Record-Route naming sips: port 5061 on its side.
# Two network namespaces joined by one veth pair (pair.sh), TEST-NET-1
# addresses, no default route; everything removed at the end, processes
# stopped by PID.
#
#   tls_e2e.sh SIPEDGE SIPEDGECTL   (root; exits 77 when it cannot run)

set -u
SIPEDGE=${1:?sipedge binary}
CTL=${2:?sipedgectl binary}
HERE=$(cd "$(dirname "$0")" && pwd)
CALLS=${TLS_CALLS:-40}
RATE=${TLS_RATE:-10}                     # calls/s of each sipp run (TLS_CALLS=6000 TLS_RATE=100: 60 s each)
LIFE=$((CALLS / RATE + 60))              # bound of every peer's life, s
RUNS=" ${TLS_RUNS:-good bad drop fast access} "  # which runs (a fault run alone, by hand)
TRACE=()                                  # TLS_TRACE=1: sipp -trace_msg on caller and secondary
[ "${TLS_TRACE:-0}" = 1 ] && TRACE=(-trace_msg)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
command -v ip >/dev/null && command -v python3 >/dev/null || { echo "SKIP: needs ip and python3"; exit 77; }
command -v sipp >/dev/null || { echo "SKIP: no sipp"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: no openssl command"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun (net_tap)"; exit 77; }

. "$HERE/pair.sh"
pair_setup tl tls
ip -n "$NS_P" addr add 192.0.2.21/24 dev eth0
ip -n "$NS_P" addr add 192.0.2.22/24 dev eth0

# The test CA and two carrier certificates (names in subjectAltName).
(
    cd "$WORK" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=sipedge test CA" 2>/dev/null
    for n in carrier other edge; do
        openssl req -newkey rsa:2048 -nodes -keyout $n.key -out $n.csr -subj "/CN=$n.example" 2>/dev/null
        printf "subjectAltName=DNS:%s.example\n" $n >$n.ext
        openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 2 -extfile $n.ext 2>/dev/null
    done
) && [ -s "$WORK/carrier.pem" ] && [ -s "$WORK/other.pem" ] || { fail "test CA"; exit 1; }

cat >"$WORK/edge.conf" <<CONF
set dataplane address 192.0.2.10/24
add trunk carrier
set trunk carrier domain carrier.example
set trunk carrier server 1 192.0.2.21:5061 tls
set trunk carrier server 2 192.0.2.22:5060 udp
set trunk carrier register off
set trunk carrier tls-ca $WORK/ca.pem
set trunk carrier tls-client-cert $WORK/edge.pem
set trunk carrier tls-client-key $WORK/edge.key
set dataplane default-trunk carrier
CONF
chmod 600 "$WORK/edge.key"

# start_car2 <dir>: the UDP secondary, sipp (uas_carrier.xml: 180, 200, ACK,
# BYE) on 192.0.2.22:5060, counts in <dir>/car2_*_counts.csv; sets CAR2_PID.
start_car2() {
    sed -e 's/@PATH@/call/' -e 's/@REG@/200/' -e 's/@INV@/486/' "$HERE/uas_carrier.xml" >"$1/car2.xml"
    ip netns exec "$NS_P" sh -c "cd '$1' && exec timeout $((LIFE + 20)) sipp -sf '$1/car2.xml' -i 192.0.2.22 -p 5060 \
        -nostdin -timeout ${LIFE}s -trace_counts -fd 1 -trace_err ${TRACE[*]}" >"$1/car2.log" 2>&1 &
    CAR2_PID=$!
    PIDS+=("$CAR2_PID")
}

# run <name> <cert> [close-after-ack|silent|mtls=<ca>]: sipedge, the TLS carrier with <cert>, the secondary, $CALLS calls.
run() {
    local name=$1 cert=$2 mode=${3:-} out=$WORK/$1
    [[ $RUNS == *" $name "* ]] || return 0
    mkdir -p "$out"
    pair_start_edge "$out" "$WORK/edge.conf" "$P$name" --sip-tcp || return 1
    ip netns exec "$NS_P" timeout $((LIFE + 20)) python3 "$HERE/tls_uas.py" 192.0.2.21 5061 "$WORK/$cert.pem" \
        "$WORK/$cert.key" "$out/tls.json" "$LIFE" $mode >"$out/tls.log" 2>&1 &
    TLS_PID=$!
    PIDS+=("$TLS_PID")
    start_car2 "$out"
    for _ in $(seq 1 50); do
        [ -n "$(ip netns exec "$NS_P" ss -Hlun 'sport = :5060' 2>/dev/null)" ] &&
            [ -n "$(ip netns exec "$NS_P" ss -Hltn 'sport = :5061' 2>/dev/null)" ] && break
        sleep 0.1
    done
    cp "$HERE/uac_rr.xml" "$out/uac.xml"
    ip netns exec "$NS_P" sh -c "cd '$out' && exec timeout $((LIFE + 10)) sipp 192.0.2.10:5060 -i 192.0.2.1 -p 5060 \
        -sf '$out/uac.xml' -m $CALLS -r $RATE -nostdin -timeout ${LIFE}s -timeout_error -trace_stat -trace_rtt \
        -rtt_freq 1 -stf '$out/uac.csv' -trace_err -error_file '$out/uac.err' ${TRACE[*]}" >"$out/uac.log" 2>&1
    echo $? >"$out/uac.rc"
    written_after "$(date +%s.%N)" "$out"/car2_*_counts.csv "$out/tls.json"  # the next dumps: complete
    # All gone (bounded) before the next run binds the same ports again.
    reap "$EDGE_PID" "$CAR2_PID" "$TLS_PID"
}

run good carrier "mtls=$WORK/ca.pem"
run bad other
run drop carrier close-after-ack
# D. tcp-fast-failover (seed P): the TLS carrier accepts TCP and never
# handshakes; model poly with tcp-fast-failover on and its timeout 2000 ms.
sed -e 's/^set trunk carrier register off$/&\nset trunk carrier retry-model poly\nset trunk carrier retry-timeout 0\nset trunk carrier tcp-fast-failover on\nset trunk carrier tcp-fast-failover-timeout 2000/' \
    "$WORK/edge.conf" >"$WORK/edge_ff.conf"
cp "$WORK/edge.conf" "$WORK/edge_plain.conf"
cp "$WORK/edge_ff.conf" "$WORK/edge.conf"
run fast carrier silent
cp "$WORK/edge_plain.conf" "$WORK/edge.conf"

# E. The access side over TLS (--tls-cert/--tls-key, port 5061): a Python
# ssl caller (tls_uac.py, verifying edge.example against the test CA) to the
# UDP carrier alone; our Record-Route names both sides (TLS port 5061 with
# sips:, UDP 5060), ACK and BYE come back through it.
out=$WORK/access
[[ $RUNS == *" access "* ]] && mkdir -p "$out"
printf '%s\n' "set dataplane address 192.0.2.10/24" "add trunk carrier" "set trunk carrier server 1 192.0.2.22:5060 udp" \
    "set trunk carrier register off" "set dataplane default-trunk carrier" >"$WORK/edge_access.conf"
if [ -d "$out" ] && pair_start_edge "$out" "$WORK/edge_access.conf" "${P}access" --tls-cert "$WORK/edge.pem" --tls-key "$WORK/edge.key"; then
    start_car2 "$out"
    for _ in $(seq 1 50); do
        [ -n "$(ip netns exec "$NS_P" ss -Hlun 'sport = :5060' 2>/dev/null)" ] && break
        sleep 0.1
    done
    ip netns exec "$NS_P" timeout "$LIFE" python3 "$HERE/tls_uac.py" 192.0.2.10 5061 "$WORK/ca.pem" edge.example \
        192.0.2.1 "$CALLS" "$out/tls_uac.json" >"$out/tls_uac.log" 2>&1
    written_after "$(date +%s.%N)" "$out"/car2_*_counts.csv
    reap "$EDGE_PID" "$CAR2_PID"
fi

PYTHONPATH="$HERE" python3 - "$WORK" "$CALLS" <<'PY'
import glob, json, os, re, sys
from sustained_lib import *
work, calls = sys.argv[1], int(sys.argv[2])

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        check(False, "%s readable: %s" % (path, e))
        return {}

out = os.path.join(work, "access")
if os.path.isdir(out):
    print("  run access")
    a = load(os.path.join(out, "tls_uac.json"))
    check(a.get("completed") == calls and not a.get("failed"),
          "access: calls over TLS from the caller: %s of %d completed, failed %s" % (a.get("completed"), calls, a.get("failed")))
    rs = a.get("route_set") or []
    check(len(rs) == 2 and re.match(r"<sips:192\.0\.2\.10:5061;lr;sx=[0-9a-f]+>$", rs[0] or "")
          and re.match(r"<sip:192\.0\.2\.10:5060;lr;sx=[0-9a-f]+>$", rs[1] or ""),
          "the caller's route set: our TLS entry (port 5061) first, then the UDP one: %s" % rs)
    check(any(v.startswith("SIP/2.0/TLS 192.0.2.1:") for v in (a.get("response_via") or [])),
          "the 200 came back with the caller's TLS Via on top: %s" % a.get("response_via"))
    c2 = counts(out, "car2")
    check(c2.get("INVITE_Recv", 0) == calls and c2.get("BYE_Recv", 0) == calls,
          "the UDP carrier took INVITE %d, BYE %d" % (c2.get("INVITE_Recv", 0), c2.get("BYE_Recv", 0)))
    e = edge_stats(out) or {}
    s = e.get("stream", {})
    info("access: edge stream %s" % json.dumps(s))
    check(s.get("conns_accepted", 0) == 1 and s.get("rx", 0) == 3 * calls and s.get("tx", 0) >= 3 * calls,
          "one TLS connection accepted, stream.rx %s == %d (INVITE, ACK, BYE), tx %s" % (s.get("rx"), 3 * calls, s.get("tx")))

for name in ("good", "bad", "drop", "fast"):
    out = os.path.join(work, name)
    if not os.path.isdir(out):
        continue  # not in TLS_RUNS
    print("  run %s" % name)
    rc = int(open(os.path.join(out, "uac.rc")).read().strip() or 1)
    u = uac_stats(out)
    check(rc == 0 and u["successful"] == calls and u["failed"] == 0,
          "%s: calls %d successful of %d, %d failed, sipp exit %d %s" % (name, u["successful"], calls, u["failed"], rc, u["failed_by"] or ""))
    tls = load(os.path.join(out, "tls.json"))
    c2 = counts(out, "car2")
    e = edge_stats(out) or {}
    s = e.get("stream", {})
    info("%s: edge stream %s" % (name, json.dumps(s)))
    info("%s: TLS carrier %s" % (name, json.dumps(tls)))
    log = open(os.path.join(out, "edge.log"), errors="replace").read()
    if name == "good":
        r = tls.get("requests", {})
        check(r.get("INVITE", 0) == calls and r.get("ACK", 0) == calls and r.get("BYE", 0) == calls,
              "the TLS carrier took INVITE %s, ACK %s, BYE %s of %d calls" % (r.get("INVITE"), r.get("ACK"), r.get("BYE"), calls))
        check(c2.get("INVITE_Recv", 0) == 0, "the UDP secondary took no INVITE (%d)" % c2.get("INVITE_Recv", 0))
        check(tls.get("connections", 0) >= 1 and set(tls.get("sni", [])) == {"carrier.example"},
              "TLS connections %s with SNI %s (the trunk's domain)" % (tls.get("connections"), tls.get("sni")))
        check(set(tls.get("client_cn", [])) == {"edge.example"},
              "mutual TLS: the carrier required and got the trunk's client certificate (CN %s)" % tls.get("client_cn"))
        check(s.get("conns_opened", 0) >= 1 and s.get("conns_opened", 0) == tls.get("connections", -1),
              "sipedge opened %s TLS connection(s), the carrier accepted %s (reused for ACK and BYE)" % (s.get("conns_opened"), tls.get("connections")))
        check(s.get("tls_verify_failed", 0) == 0 and s.get("tx", 0) >= 3 * calls,
              "no certificate refused, stream.tx %s >= %d" % (s.get("tx"), 3 * calls))
    elif name == "fast":
        t = setup_times(out)
        info("fast: call setup %s" % describe([x[1] for x in t]))
        # Calls queued on the hung connection roll over when it times out:
        # the first one after the whole 2000 ms, later ones after the rest.
        first = max(x[1] for x in t) if t else None
        check(first is not None and 1900 <= first <= 2600,
              "tcp-fast-failover: the first call rolled over after the 2000 ms timeout: setup %s ms" % first)
        check(c2.get("INVITE_Recv", 0) == calls, "every call through the UDP secondary (%d)" % c2.get("INVITE_Recv", 0))
        # Every call tries the primary first (the engine marks it failed, its
        # selection still starts at the top: the seed's default failback);
        # none waits longer than the fast-failover timeout (Timer B: 32 s).
        check(len(t) == calls, "every call answered (%d of %d)" % (len(t), calls))
        check(tls.get("silent_accepts", 0) >= 1 and not tls.get("requests"),
              "the hung carrier accepted %s TCP connection(s), took no request" % tls.get("silent_accepts"))
    elif name == "drop":
        r = tls.get("requests", {})
        # ACKs: an ACK for a 200 is end to end, sent once by us; one written
        # into a connection the carrier is closing is lost, and only the
        # carrier's 2xx retransmission (RFC 3261 §13.3.1.4; this test carrier
        # has none) brings another. At 100 calls/s a few are: at most 1 %.
        check(r.get("INVITE", 0) == calls and r.get("ACK", 0) >= calls * 0.99 and r.get("BYE", 0) == calls,
              "the carrier that closes the connection after every ACK still took INVITE %s, ACK %s, BYE %s of %d calls"
              % (r.get("INVITE"), r.get("ACK"), r.get("BYE"), calls))
        t = e.get("transactions", {})
        info("drop: requests resent after their connection closed %s (the carrier saw %s again; it dropped %s unread)"
             % (t.get("resent_closed", 0), tls.get("retransmissions"), tls.get("unread_at_close")))
        check(s.get("conns_open", 0) <= 2,
              "no connection left behind: %s open at the end (the in-dialog requests wait on the trunk's)" % s.get("conns_open"))
        check(c2.get("INVITE_Recv", 0) == 0, "no failover: the UDP secondary took no INVITE (%d)" % c2.get("INVITE_Recv", 0))
        check(tls.get("connections", 0) >= tls.get("closed_by_us", 0) >= calls * 0.99 and s.get("conns_opened", 0) == tls.get("connections"),
              "reconnected: %s TLS connections for %d calls, %s closed by the carrier (sipedge opened %s)" % (tls.get("connections"), calls, tls.get("closed_by_us"), s.get("conns_opened")))
        check(tls.get("resumed", 0) >= 1 and s.get("tls_resumed", 0) == tls.get("resumed"),
              "reconnects resumed the TLS session: %s (sipedge counted %s)" % (tls.get("resumed"), s.get("tls_resumed")))
        t = e.get("transactions", {})
        check(t.get("rollover_icmp", 0) + t.get("rollover_timeout", 0) == 0,
              "no rollover (timeout %s, transport %s)" % (t.get("rollover_timeout"), t.get("rollover_icmp")))
    else:
        m = re.search(r"sipedge: stream: tls-verify-failed \(trunk id \d+, server 0\): ([^\n]*)", log)
        check(m is not None and "carrier.example" in m.group(1) and "other.example" in m.group(1),
              "the refused certificate said on stderr: %s" % (m.group(0) if m else log[-400:]))
        check(tls.get("requests", {}).get("INVITE", 0) == 0, "nothing reached the carrier with the wrong name (%s)" % tls.get("requests"))
        check(c2.get("INVITE_Recv", 0) == calls and c2.get("BYE_Recv", 0) == calls,
              "the UDP secondary took every call: INVITE %d, BYE %d" % (c2.get("INVITE_Recv", 0), c2.get("BYE_Recv", 0)))
        check(s.get("tls_verify_failed", 0) >= 1 and s.get("bounced", 0) >= 1,
              "stream: tls_verify_failed %s, requests handed back undelivered %s" % (s.get("tls_verify_failed"), s.get("bounced")))
        t = [x[1] for x in setup_times(out)]
        if t:
            info("bad: call setup %s" % describe(t))
            check(max(t) < 1500, "the first call rolled over at once: slowest setup %.0f ms < 1500 (rollover timer 3 s)" % max(t))
        else:
            check(False, "setup times (uac_*_rtt.csv)")
done()
PY
[ $? = 0 ] || FAILS=$((FAILS + 1))
[ "$FAILS" = 0 ] && { echo "PASS"; exit 0; }
echo "FAILED ($FAILS)"; exit 1
