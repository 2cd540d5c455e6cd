# probe-capture (sourced by sustained_e2e.sh).
#
# monitor always, monitor-interval 1, no calls. car1 is a small UDP responder
# (PROBE_RESPONDER below) that answers OPTIONS 200 OK and logs every datagram
# it receives (time, Call-ID, CSeq, branch, From tag) - the capture at car1;
# it leaves the first transmission of the PROBE_DROP-th probe (6th) without
# an answer (one lost probe response) and answers its retransmission. Runs
# PROBE_SECS (15) s; `show servers` polled every 0.2 s.
#
# How each check measures:
#  - own Call-ID: probes grouped by Via branch (retransmissions of one probe
#    share branch, Call-ID and CSeq): one Call-ID per branch, no Call-ID in
#    two branches, the same CSeq within a branch.
#  - the dropped probe was retransmitted (same branch/Call-ID/CSeq) and the
#    retransmission answered.
#  - car1 never down: every `show servers` poll during the run shows car1
#    `up`.

PROBE_RESPONDER='
import json, re, socket, sys, time
ip, secs, drop_nth, log = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((ip, 5060))
s.settimeout(0.2)
seen, dropped = [], None
end = time.time() + secs
with open(log, "w") as f:
    while time.time() < end:
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        t = time.time()
        text = data.decode("latin-1")
        head = text.split("\r\n\r\n", 1)[0].split("\r\n")
        hdr = {}
        for ln in head[1:]:
            k, _, v = ln.partition(":")
            hdr.setdefault(k.strip().lower(), v.strip())
        via = hdr.get("via", hdr.get("v", ""))
        m = re.search(r"branch=([^;\s,]+)", via)
        br = m.group(1) if m else ""
        ftag = re.search(r"tag=([^;\s]+)", hdr.get("from", hdr.get("f", "")))
        method = head[0].split(" ", 1)[0]
        if br not in seen:
            seen.append(br)
        answer = method == "OPTIONS"
        if method == "OPTIONS" and dropped is None and len(seen) == drop_nth:
            dropped, answer = br, False
        rec = {"t": t, "method": method, "call_id": hdr.get("call-id", hdr.get("i", "")),
               "cseq": hdr.get("cseq", ""), "branch": br, "from_tag": ftag.group(1) if ftag else "",
               "answered": answer, "dropped": br == dropped and not answer}
        f.write(json.dumps(rec) + "\n")
        f.flush()
        if answer:
            to = hdr.get("to", hdr.get("t", ""))
            if "tag=" not in to:
                to += ";tag=car1probe"
            resp = ["SIP/2.0 200 OK"]
            for ln in head[1:]:
                k = ln.partition(":")[0].strip().lower()
                if k in ("via", "v", "from", "f", "call-id", "i", "cseq"):
                    resp.append(ln)
            resp += ["To: " + to, "Content-Length: 0", "", ""]
            s.sendto("\r\n".join(resp).encode(), peer)
'

PROBE_CHECK='
import json, sys
from sustained_lib import *
out, secs, interval, drop_nth = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
t_start, t_end = epoch(out, "t_start"), epoch(out, "t_end")
recs = [json.loads(l) for l in open(out + "/car1_probes.jsonl")]
opts = [r for r in recs if r["method"] == "OPTIONS"]
info("car1 received %d datagram(s), %d OPTIONS, in %.1f s" % (len(recs), len(opts), t_end - t_start))
by_branch = {}
for r in opts:
    by_branch.setdefault(r["branch"], []).append(r)
probes = sorted(by_branch.values(), key=lambda g: g[0]["t"])
in_run = [g for g in probes if t_start <= g[0]["t"] <= t_end]
expect = int((t_end - t_start) / interval) - 2
check(len(in_run) >= expect, "probes (distinct branches) first sent in the %.1f s: %d >= %d (the time / monitor-interval %.0f s, less 2); %d since sipedge started"
      % (t_end - t_start, len(in_run), expect, interval, len(probes)))
check(all(g[0]["branch"] for g in probes), "every OPTIONS has a Via branch")
one_cid = all(len({r["call_id"] for r in g}) == 1 and len({r["cseq"] for r in g}) == 1 for g in probes)
check(one_cid, "retransmissions of one probe (same branch) share Call-ID and CSeq")
cids = [g[0]["call_id"] for g in probes]
check(len(set(cids)) == len(cids), "every probe has its own Call-ID: %d probes, %d distinct Call-IDs" % (len(cids), len(set(cids))))
tags = [g[0]["from_tag"] for g in probes]
info("distinct From tags %d, CSeqs %s" % (len(set(tags)), ", ".join(g[0]["cseq"].split()[0] for g in probes)))
retx = [g for g in probes if len(g) > 1]
info("probes retransmitted: %d (%s)" % (len(retx), ", ".join("%d x" % len(g) for g in retx)))
gaps = [b[0]["t"] - a[0]["t"] for a, b in zip(probes, probes[1:])]
if gaps:
    info("time between probes: min %.2f, max %.2f s" % (min(gaps), max(gaps)))
dropped = [g for g in probes if g[0]["dropped"]]
if check(len(dropped) == 1, "one probe had its first transmission left unanswered (the %dth)" % drop_nth):
    g = dropped[0]
    rest = g[1:]
    check(bool(rest), "the unanswered probe was retransmitted: %d transmission(s), after %s s"
          % (len(g), ", ".join("%.3f" % (r["t"] - g[0]["t"]) for r in rest) or "-"))
    check(any(r["answered"] for r in rest), "its retransmission was answered")
polls = [(t, rows) for t, rows in server_polls(out) if t_start <= t <= t_end]
states = [next((r["state"] for r in rows if r["address"].startswith("192.0.2.21:")), "absent") for _, rows in polls]
check(len(polls) >= (t_end - t_start) * 2, "show servers polled %d times in %.1f s" % (len(polls), t_end - t_start))
bad = sorted(set(s for s in states if s != "up"))
check(not bad, "car1 up in every poll (other states seen: %s)" % (", ".join(bad) or "none"))
done()
'

run_probe_capture() {
    local secs=${PROBE_SECS:-15} drop=${PROBE_DROP:-6}
    begin probe-capture "monitor-interval 1, no calls: OPTIONS captured at car1 for ${secs} s; probe $drop's first transmission unanswered"
    start_bg $NS_C1 "$out/car1_responder.log" timeout $((secs + 30)) python3 -c "$PROBE_RESPONDER" \
        192.0.2.21 $((secs + 20)) "$drop" "$out/car1_probes.jsonl"
    wait_bound $NS_C1
    CARRIER_LIFE=$((secs + 30))
    carrier 2 c2 call
    carrier 3 c3 call
    edge_config static "set trunk carrier monitor-interval 1"
    EDGE_DURATION=$((secs + 20)) start_edge || { stop_run; return; }
    local interval
    interval=$(trunk_knob monitor-interval)
    echo "  knobs: monitor $(trunk_knob monitor), monitor-interval $interval s, monitor-timeout" \
        "$(trunk_knob monitor-timeout) s, monitor-down-threshold $(trunk_knob monitor-down-threshold)," \
        "t1 $(trunk_knob t1) ms, t2 $(trunk_knob t2) ms"
    date +%s.%N >"$out/t_start"
    poll_servers "$secs" "$out/servers.jsonl"
    sleep "$secs"
    date +%s.%N >"$out/t_end"
    wait "$POLL_PID" 2>/dev/null
    stop_run
    check_py "$PROBE_CHECK" "$secs" "$interval" "$drop"
}
