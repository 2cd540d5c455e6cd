# retry-after (sourced by sustained_e2e.sh).
#
# car1 answers every INVITE 503 with Retry-After: 30 (and OPTIONS 200 OK);
# failover-on-503 on. RETRY_RATE calls/s (10) for RETRY_SECS (40) s, 1 s hold.
#
# How each check measures (car1's sipp -trace_msg: µs timestamps of every
# INVITE it received and every 503 it sent; INVITE transactions told apart
# by their Via branch, so a retransmission is not a second INVITE):
#  - one INVITE in the hold: after car1's first 503, no other INVITE
#    transaction reaches it within min(Retry-After, retry-after-max) s.
#  - car1 tried again after the hold: at least one INVITE transaction after
#    it (the calls run 10 s past the 30 s; each new 503 holds car1 again).
#  - every call completes on car2: sipp caller successful == created, no
#    failed call, car2 received one INVITE per call, car3 none.

RETRY_CHECK='
import sys
from sustained_lib import *
out, calls, ra, ramax, uac_rc = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
hold = min(ra, ramax) if ramax > 0 else 0
u = uac_stats(out)
check(uac_rc == 0, "sipp caller exit status %d" % uac_rc)
check(u["created"] == calls and u["successful"] == calls,
      "calls created %d, successful %d (of %d)" % (u["created"], u["successful"], calls))
check(u["failed"] == 0, "failed calls %d %s" % (u["failed"], u["failed_by"] or ""))
c2, c3 = counts(out, "c2"), counts(out, "c3")
check(c2.get("INVITE_Recv", 0) == calls, "car2 received INVITE %d == calls %d (every call completes on car2)"
      % (c2.get("INVITE_Recv", 0), calls))
check(c3.get("INVITE_Recv", 0) == 0, "car3 received INVITE %d == 0" % c3.get("INVITE_Recv", 0))
m = messages(out, "c1")
invs, seen = [], set()
for x in m:
    if x["dir"] == "recv" and x["what"] == "INVITE" and branch(x["hdr"]) not in seen:
        seen.add(branch(x["hdr"]))
        invs.append(x)
n503 = [x for x in m if x["dir"] == "sent" and x["what"] == "503"]
t0 = invs[0]["t"] if invs else None
info("car1: %d INVITE transaction(s) at %s s after the first; %d 503 sent, %d OPTIONS received"
     % (len(invs), ", ".join("%.2f" % (x["t"] - t0) for x in invs) or "-", len(n503),
        sum(1 for x in m if x["dir"] == "recv" and x["what"] == "OPTIONS")))
if check(bool(invs) and bool(n503), "car1 received an INVITE and answered 503"):
    r1 = n503[0]["t"]
    check("retry-after" in n503[0]["hdr"], "its 503 carries Retry-After: %s" % n503[0]["hdr"].get("retry-after", "(none)"))
    inside = [x for x in invs if x["t"] < r1 + hold]
    check(len(inside) == 1, "INVITE transactions at car1 from the first one to %.0f s after its 503: %d == 1"
          % (hold, len(inside)))
    later = [x for x in invs if x["t"] >= r1 + hold]
    check(bool(later), "car1 gets INVITEs again after the hold: %d, the first %s s after the 503 (hold %.0f s = min(Retry-After %.0f, retry-after-max %.0f))"
          % (len(later), "%.2f" % (later[0]["t"] - r1) if later else "-", hold, ra, ramax))
edge_summary(edge_stats(out))
done()
'

run_retry_after() {
    local rate=${RETRY_RATE:-10} secs=${RETRY_SECS:-40} ra=30
    begin retry-after "car1 answers INVITE 503 Retry-After: $ra; failover-on-503 on; $((rate * secs)) calls at $rate/s"
    CARRIER_LIFE=$((secs + 60))
    CARRIER_TRACE=1 carrier 1 c1 reject 503 "Retry-After: $ra"
    carrier 2 c2 call
    carrier 3 c3 call
    edge_config static "set trunk carrier failover-on-503 on"
    EDGE_DURATION=$((secs + 40)) start_edge || { stop_run; return; }
    local ramax
    ramax=$(trunk_knob retry-after-max)
    echo "  knobs: failover-on-503 $(trunk_knob failover-on-503), retry-after-max $ramax s," \
        "monitor $(trunk_knob monitor), monitor-interval $(trunk_knob monitor-interval) s," \
        "monitor-up-threshold $(trunk_knob monitor-up-threshold)"
    poll_servers $((secs + 20)) "$out/servers.jsonl"
    uac $((rate * secs)) "$rate"
    uac_wait
    stop_run
    check_py "$RETRY_CHECK" "$((rate * secs))" "$ra" "${ramax:-0}" "$UAC_RC"
}
