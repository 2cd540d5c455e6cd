#!/usr/bin/env bash
# No open relay (issue 16), end to end: sipedge on DPDK net_af_packet in the
# network namespaces of tests/e2e/lib.sh (caller 192.0.2.1, sipedge
# 192.0.2.10, car1 192.0.2.21, car2 192.0.2.22; 192.0.2.23 is a third host
# here, no trunk server: the address abusers aim at).
#
#   abuse   From the caller's address, a Python client (relay_tools.py
#           abuse) sends: INVITE/OPTIONS with a Route to the third host,
#           in-dialog BYE/MESSAGE/re-INVITE whose Request-URI names it, with
#           no Route, a forged token or our address without one, three Routes
#           naming sipedge, a stray BYE and ACK, an INVITE to a trunk with no
#           server (503), one with Max-Forwards 0 (483) and a malformed one
#           (bad CSeq: 400), with the ACK of each rejection. Each must get
#           403/482/503/483/400 (nothing for the ACKs), and UDP listeners on
#           the third host (ports 5060, 5070) and on both carriers must count
#           0 datagrams.
#   calls   car1 answers INVITE 503 (failover-on-503: the call rolls over),
#           car2 answers; RELAY_CALLS calls (3) from sipp (relay_uac.xml)
#           each with ACK, INFO, UPDATE, re-INVITE + ACK, an INFO from the
#           carrier side and BYE, every in-dialog request through sipedge's
#           Record-Route (with its token), all on the secondary. Every call
#           must complete; the third host still counts 0.
#   hide    the calls again with topology-hiding on: no line of the carriers' routing
#           headers names the caller (RELAY_HIDE=0 skips it).
#   guard   access peers and the per-source flood guard (below; RELAY_GUARD=0 skips it).
# The access target is 192.0.2.5 (nobody), so that the carrier's INFO to the
# caller is allowed only by the token, not by rule (c) (docs/security.md).
# The exit JSON's policy counters are checked last.
#
# RELAY_TRACE=1: both sipps trace every message (-trace_msg); KEEP_LOGS=1 keeps the files.
# Usage: relay_e2e.sh <sipedge binary> <this directory>
# Exit 0 pass, 1 fail, 77 skip (not root, no ip netns, no sipp, no python3).
set -u

SIPEDGE=${1:?sipedge binary}
HERE=${2:?source directory}

. "$HERE/lib.sh"

e2e_init
setup_topology || { echo "FAIL: topology"; exit 1; }

# The startup file: trunk `carrier` (car1, car2; failover on 503), the
# default trunk; trunk `dead` (no server) for numbers 9XXX: its INVITEs get 503.
relay_config() {
    cat >"$out/edge.conf" <<'EOF'
set dataplane address 192.0.2.10/24
set dataplane access 192.0.2.5:5060
add trunk carrier
set trunk carrier server 1 192.0.2.21:5060 udp
set trunk carrier server 2 192.0.2.22:5060 udp
set trunk carrier register off
set trunk carrier failover-on-503 on
set dataplane default-trunk carrier
add trunk dead
route-pattern 1 digits 9XXX trunk dead
EOF
}

# listener <ns> <name> <seconds> <addr:port>...: counts every datagram (bounded life).
listener() {
    local ns=$1 name=$2 secs=$3; shift 3
    start_bg "$ns" "$out/$name.err" timeout $((secs + 5)) python3 "$HERE/relay_tools.py" listen \
        "$out/$name.jsonl" "$secs" "$@"
    LAST_LISTENER=$LAST_PID
    local a i
    for a in "$@"; do  # bound before anything is sent to it (5 s at most)
        for i in $(seq 1 50); do
            [ -n "$(ip netns exec "$ns" ss -Hlun src "$a" 2>/dev/null)" ] && break
            sleep 0.1
        done
    done
}

count() { [ -f "$out/$1.jsonl" ] && wc -l <"$out/$1.jsonl" || echo 0; }

begin relay "abuse cases, then calls through the Record-Route after a rollover"
relay_config
EDGE_DURATION=100 start_edge || { stop_run; echo "FAILED"; exit 1; }

# Phase 1: the abuse cases. Listeners on the third host and on both carriers.
listener $NS_C3 third 90 192.0.2.23:5060 192.0.2.23:5070
listener $NS_C1 car1_abuse 20 192.0.2.21:5060
L1=$LAST_LISTENER
listener $NS_C2 car2_abuse 20 192.0.2.22:5060
L2=$LAST_LISTENER
echo "  phase 1: abuse cases from 192.0.2.1:5070"
in_ns $NS_UAC timeout 60 python3 "$HERE/relay_tools.py" abuse "$out/abuse.json" \
    192.0.2.10:5060 192.0.2.1:5070 192.0.2.23:5070 || fail "abuse: some case got another answer"
sleep 1
kill -TERM "$L1" "$L2" 2>/dev/null
wait "$L1" "$L2" 2>/dev/null
n=$(count third); [ "$n" = 0 ] && echo "  ok   third host received $n datagrams" \
    || fail "third host received $n datagrams: $(head -3 "$out/third.jsonl")"
for c in car1_abuse car2_abuse; do
    n=$(count $c); [ "$n" = 0 ] && echo "  ok   ${c%_abuse} received $n datagrams during the abuse cases" \
        || fail "${c%_abuse} received $n datagrams during the abuse cases: $(head -3 "$out/$c.jsonl")"
done

# Phase 2: legitimate calls, rolled over to car2, in-dialog requests both ways.
calls=${RELAY_CALLS:-3}
trace=; [ "${RELAY_TRACE:-0}" = 1 ] && trace=-trace_msg  # every message of both sipps, for a look
echo "  phase 2: $calls calls, car1 answers 503, car2 answers (relay_uac.xml / relay_carrier.xml)"
CARRIER_LIFE=60 carrier 1 c1 reject 503
cp "$HERE/relay_carrier.xml" "$out/c2.xml"  # -trace_counts names its file after the scenario's
start_bg $NS_C2 "$out/c2.log" sh -c "cd '$out' && exec timeout 70 sipp -sf '$out/c2.xml' \
    -i 192.0.2.22 -p 5060 -nostdin -timeout 60s -trace_counts -fd 1 -trace_err $trace"
wait_bound $NS_C2
cp "$HERE/relay_uac.xml" "$out/uac.xml"
in_ns $NS_UAC sh -c "cd '$out' && exec timeout 60 sipp 192.0.2.10:5060 -i 192.0.2.1 -p 5060 \
    -sf '$out/uac.xml' -m $calls -r 1 -nostdin -timeout 50s -timeout_error -trace_stat \
    -stf '$out/uac.csv' -trace_err -error_file '$out/uac.err' $trace" >"$out/uac.log" 2>&1
UAC_RC=$?
sleep 1
n=$(count third); [ "$n" = 0 ] && echo "  ok   third host still received $n datagrams" \
    || fail "third host received $n datagrams: $(head -3 "$out/third.jsonl")"
stop_run

check_py '
import glob, json, sys
from sustained_lib import *
out, calls, rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = uac_stats(out)
check(rc == 0, "sipp caller exit status %d" % rc)
check(u["successful"] == calls and u["failed"] == 0,
      "calls with ACK, INFO, UPDATE, re-INVITE, the carrier INFO and BYE through the Record-Route: "
      "%d successful of %d, %d failed %s" % (u["successful"], calls, u["failed"], u["failed_by"] or ""))
c1, c2 = counts(out, "c1"), counts(out, "c2")
check(c1.get("INVITE_Recv", 0) >= 1 and c1.get("BYE_Recv", 0) == 0,
      "car1 (answers 503) received INVITE %d >= 1, BYE %d == 0" % (c1.get("INVITE_Recv", 0), c1.get("BYE_Recv", 0)))
check(c2.get("BYE_Recv", 0) == calls, "car2 (the secondary) received BYE %d == calls %d" % (c2.get("BYE_Recv", 0), calls))
e = edge_stats(out)
if e:
    p = e.get("policy", {})
    info("edge policy counters: %s" % json.dumps(p))
    # Exactly the abuse cases: nothing of the legitimate calls was refused.
    want = {"route_denied": 2, "dialog_denied": 5, "token_bad": 2, "loop": 1, "acks_absorbed": 5,
            "malformed_answered": 1, "reject_records_overwritten": 0}
    for k, v in want.items():
        check(p.get(k) == v, "policy.%s %s == %d" % (k, p.get(k), v))
    t = e.get("transactions", {})
    check(t.get("rollover_503", 0) >= 1, "transactions.rollover_503 %d >= 1 (car1 answered 503, the calls went to car2)"
          % t.get("rollover_503", 0))
    d = e.get("drops", {})
    check(d.get("sip_forbidden", 0) >= 9 and d.get("sip_loop", 0) >= 1,
          "drops.sip_forbidden %d, drops.sip_loop %d" % (d.get("sip_forbidden", 0), d.get("sip_loop", 0)))
done()
' "$calls" "$UAC_RC"

# Topology hiding (issue 16, docs/security.md "Topology hiding"): the calls
# of phase 2 again with `topology-hiding on` on the trunk, both carriers
# tracing every message (-trace_msg). Every call must complete (the carrier's
# INFO reaches the caller through the Contact sipedge encoded), and no Via,
# Contact, Record-Route or Route line a carrier received may name the
# caller's address 192.0.2.1.
if [ "${RELAY_HIDE:-1}" = 1 ]; then
begin hide "topology hiding: the calls again with topology-hiding on"
relay_config
echo "set trunk carrier topology-hiding on" >>"$out/edge.conf"
EDGE_DURATION=60 start_edge || { stop_run; echo "FAILED"; exit 1; }
CARRIER_LIFE=40 CARRIER_TRACE=1 carrier 1 h1 reject 503
cp "$HERE/relay_carrier.xml" "$out/h2.xml"
start_bg $NS_C2 "$out/h2.log" sh -c "cd '$out' && exec timeout 50 sipp -sf '$out/h2.xml' \
    -i 192.0.2.22 -p 5060 -nostdin -timeout 40s -trace_counts -fd 1 -trace_err -trace_msg"
wait_bound $NS_C2
cp "$HERE/relay_uac.xml" "$out/uac.xml"
in_ns $NS_UAC sh -c "cd '$out' && exec timeout 40 sipp 192.0.2.10:5060 -i 192.0.2.1 -p 5060 \
    -sf '$out/uac.xml' -m $calls -r 1 -nostdin -timeout 30s -timeout_error -trace_stat \
    -stf '$out/uac.csv' -trace_err -error_file '$out/uac.err' -trace_msg" >"$out/uac.log" 2>&1
UAC_RC=$?
stop_run
check_py '
import glob, re, sys
from sustained_lib import *
out, calls, rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = uac_stats(out)
check(rc == 0 and u["successful"] == calls and u["failed"] == 0,
      "calls through a hidden trunk (ACK, INFO, UPDATE, re-INVITE, the carrier INFO, BYE): %d successful of %d, "
      "%d failed, sipp exit %d" % (u["successful"], calls, u["failed"], rc))
caller = re.compile(r"192\.0\.2\.1(?![0-9])")
seen, leaks, contacts = 0, [], 0
for path in glob.glob(out + "/h1_*_messages.log") + glob.glob(out + "/h2_*_messages.log"):
    for line in open(path, errors="replace"):
        name = line.split(":", 1)[0].strip().lower()
        if name in ("via", "v", "contact", "m", "record-route", "route"):
            seen += 1
            if name in ("contact", "m") and ";sxh=" in line: contacts += 1
            if caller.search(line): leaks.append(line.strip())
check(seen > 0, "the carriers traced %d Via/Contact/Record-Route/Route lines" % seen)
check(not leaks, "none of them names the caller 192.0.2.1 (%d do: %s)" % (len(leaks), leaks[:3]))
check(contacts > 0, "the carriers saw %d Contacts encoded by sipedge (;sxh=)" % contacts)
e = edge_stats(out)
if e:
    h = e.get("hide", {})
    info("edge hide counters: %s" % h)
    check(h.get("requests", 0) >= 2 * calls and h.get("restored", 0) >= calls and h.get("decoded", 0) >= calls
          and h.get("bad", 0) == 0,
          "hide.requests %s >= %d, restored %s >= %d, decoded %s >= %d (the carrier INFOs), bad %s == 0"
          % (h.get("requests"), 2 * calls, h.get("restored"), calls, h.get("decoded"), calls, h.get("bad")))
done()
' "$calls" "$UAC_RC"
fi

# The access guard (issue 16, docs/security.md "Access peers and flood
# guard"): the caller's namespace gets two more addresses, 192.0.2.2 (the
# flooder, inside access-peer office's 192.0.2.0/28) and 192.0.2.40 (in no
# peer's networks). restrict-sources on, source-rps 20, block 5 s: of 200
# INVITEs from the flooder 20 pass and 180 get 503 + Retry-After (their ACKs
# absorbed); the honest caller 192.0.2.1 is served meanwhile; 192.0.2.40 gets
# 403; the flooder is served again after the block. The carriers (listeners)
# must see exactly the INVITEs that passed and no ACK.
if [ "${RELAY_GUARD:-1}" = 1 ]; then
begin guard "access peers and the per-source flood guard over af_packet"
relay_config
cat >>"$out/edge.conf" <<'EOF'
access-peer office networks 192.0.2.0/28 invite-rps 1000
set access-guard source-rps 20
set access-guard block 5
set access-guard restrict-sources on
EOF
ip -n $NS_UAC addr add 192.0.2.2/24 dev eth0
ip -n $NS_UAC addr add 192.0.2.40/24 dev eth0
EDGE_DURATION=40 start_edge || { stop_run; echo "FAILED"; exit 1; }
listener $NS_C1 car1_guard 25 192.0.2.21:5060
G1=$LAST_LISTENER
listener $NS_C2 car2_guard 25 192.0.2.22:5060
G2=$LAST_LISTENER
in_ns $NS_UAC timeout 40 python3 "$HERE/relay_tools.py" flood "$out/flood.json" 192.0.2.10:5060 \
    192.0.2.2:5090 192.0.2.1:5071 192.0.2.40:5072 200 20 5 || fail "flood: some check failed"
sleep 1
kill -TERM "$G1" "$G2" 2>/dev/null
wait "$G1" "$G2" 2>/dev/null
ip -n $NS_UAC addr del 192.0.2.2/24 dev eth0
ip -n $NS_UAC addr del 192.0.2.40/24 dev eth0
stop_run
check_py '
import json, os, sys
from sustained_lib import *
out = sys.argv[1]
invites, acks = set(), 0
for name in ("car1_guard", "car2_guard"):
    path = os.path.join(out, name + ".jsonl")
    for line in open(path) if os.path.exists(path) else []:
        r = json.loads(line)
        if r["first"].startswith("INVITE "): invites.add(r["call_id"])
        if r["first"].startswith("ACK "): acks += 1
flooder = sum(1 for c in invites if c.startswith("flood-f-"))
check(flooder == 20, "the carriers received %d distinct flood INVITEs == source-rps 20" % flooder)
check(len(invites) == 26, "the carriers received %d distinct INVITEs == 20 + 5 honest + 1 after the block" % len(invites))
check(acks == 0, "the carriers received %d ACKs (the 503s and the 403 ACKs were absorbed)" % acks)
e = edge_stats(out)
if e:
    g = e.get("guard", {})
    info("edge guard counters: %s" % json.dumps(g))
    d = e.get("drops", {})
    info("edge drops: %s" % json.dumps({k: v for k, v in d.items() if v}))
    info("edge ports: %s" % json.dumps(e.get("ports", [])))
    # A burst of 200 that fits the RX ring is drained, not shed (dataplane/overload.h).
    missed = sum(p.get("device", {}).get("imissed", 0) for p in e.get("ports", []))
    check(d.get("sip_shed", 0) == 0 and missed == 0,
          "drops.sip_shed %s == 0, ports device imissed %s == 0 (the flood is a burst, not overload)"
          % (d.get("sip_shed", 0), missed))
    check(g.get("source_flood") == 180 and g.get("not_peer") == 1 and g.get("peer_rate") == 0 and g.get("dropped") == 0,
          "guard.source_flood %s == 180, not_peer %s == 1, peer_rate %s == 0, dropped %s == 0"
          % (g.get("source_flood"), g.get("not_peer"), g.get("peer_rate"), g.get("dropped")))
    check(e.get("policy", {}).get("acks_absorbed") == 181,
          "policy.acks_absorbed %s == 181 (180 503s, one 403)" % e.get("policy", {}).get("acks_absorbed"))
done()
'
fi

[ "$FAILED" = 0 ] && echo "PASS" || echo "FAILED"
exit "$FAILED"
