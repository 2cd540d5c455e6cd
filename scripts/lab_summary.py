#!/usr/bin/env python3
"""Summary and verdict of scripts/lab-demo.sh: calls attempted, completed,
failed; INVITEs per carrier; failover time (car1 silent -> car2's first 200 OK
to an INVITE, from car2's sipp -trace_msg). Exit 1 when calls were lost beyond
the ones in flight at the failure, or no failover was measured.

usage: lab_summary.py <run dir> <calls/s> <epoch of the failure>"""
import csv, datetime, glob, re, sys
out, rate, t_fail = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
# car2's first 200 OK to an INVITE sent after the failure (sipp -trace_msg).
t_over = 0.0
for f in glob.glob(f"{out}/c2_*_messages.log"):
    for blk in open(f, errors="replace").read().split("-----------------------------------------------")[1:]:
        head, _, body = blk.partition("\n")
        if "message sent" not in body or not re.search(r"^SIP/2.0 200", body, re.M) \
                or not re.search(r"^CSeq:\s*\d+ INVITE", body, re.M | re.I):
            continue
        w = head.split()
        try:
            t = float(w[-1]) if float(w[-1]) > 1e9 else None
        except ValueError:
            t = None
        if t is None:
            t = datetime.datetime.strptime(" ".join(w[:2])[:26], "%Y-%m-%d %H:%M:%S.%f").timestamp()
        if t >= t_fail:
            t_over = t
            break
rows = list(csv.reader(open(out + "/uac.csv"), delimiter=";"))
last = dict(zip(rows[0], rows[-1]))
att, ok, bad = (int(last[k]) for k in ("TotalCallCreated", "SuccessfulCall(C)", "FailedCall(C)"))
def invites(name):
    n = 0
    for f in glob.glob(f"{out}/{name}_*_counts.csv"):
        r = list(csv.reader(open(f), delimiter=";"))
        for i, h in enumerate(r[0]):
            if h.endswith("_INVITE_Recv") and i < len(r[-1]) and r[-1][i]:
                n += int(r[-1][i])
    return n
c1, c2, c1b = invites("c1"), invites("c2"), invites("c1b")
fo = t_over - t_fail if t_over else None
print("== lab summary")
print(f"  calls attempted {att}, completed {ok}, failed {bad}")
print(f"  INVITEs: car1 {c1} before the failure, car2 {c2}, car1 {c1b} after failback")
print("  failover time: " + ("%.2f s (car1 silent -> car2's first 200 OK to an INVITE)" % fo if fo is not None else "none measured"))
# In flight at the failure: at most one second of calls (rate); all others must complete.
verdict = [(att > 0 and ok + bad == att, "every attempted call ended"),
           (bad <= rate, f"failed {bad} <= {rate} (the calls in flight at the failure)"),
           (fo is not None and fo < 10, "failover measured, under 10 s"),
           (c1 > 0 and c2 > 0 and c1b > 0, "calls on car1, then car2, then car1 again (failback)")]
for cond, what in verdict:
    print(("  ok   " if cond else "  FAIL ") + what)
sys.exit(0 if all(c for c, _ in verdict) else 1)
