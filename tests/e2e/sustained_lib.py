"""Readers and the verdict for sustained_e2e.sh's checks (run by lib.sh check_py).

Inputs in a run's directory: uac.csv (sipp -trace_stat), uac_*_rtt.csv (-trace_rtt
-rtt_freq 1: one row per call, the setup time as rtd 1), <name>_*_counts.csv
(-trace_counts), <name>_*_messages.log (-trace_msg), stats.json (sipedge's
counters on exit), servers.jsonl (lib.sh poll_servers), t_* files (epoch times).
"""
import csv
import datetime
import glob
import json
import os
import re
import statistics
import sys

OK = True


def check(cond, what):
    """One verdict line; a false condition fails the scenario."""
    global OK
    print(("  ok   " if cond else "  FAIL ") + what, flush=True)
    OK = OK and bool(cond)
    return cond


def info(what):
    print("  info " + what, flush=True)


def done():
    sys.exit(0 if OK else 1)


def epoch(out, name, field=0):
    """An epoch time the script wrote to <out>/<name> (field: which of the
    times on its line, e.g. lib.sh link_set's before/after)."""
    with open(os.path.join(out, name)) as f:
        return float(f.read().split()[field])


def uac_stats(out):
    """The caller's last statistics row (cumulative columns)."""
    with open(os.path.join(out, "uac.csv")) as f:
        rows = list(csv.reader(f, delimiter=";"))
    last = dict(zip(rows[0], rows[-1]))
    num = lambda k: int(float(last.get(k, "0") or 0))
    failed = {k[6:-3]: num(k) for k in last if k.startswith("Failed") and k.endswith("(C)")
              and k != "FailedCall(C)" and num(k)}
    return {"created": num("TotalCallCreated"), "successful": num("SuccessfulCall(C)"),
            "failed": num("FailedCall(C)"), "failed_by": failed}


def aborted_calls(out, carrier="c1"):
    """Calls the caller aborted on its own retransmission timeout (sipp's
    error file): {Call-ID: True when its dialog was with <carrier>} (the To
    tag sipp's UAS writes starts with that carrier's pid)."""
    pids = [os.path.basename(p).split("_")[1] for p in glob.glob(os.path.join(out, "%s_*_counts.csv" % carrier))]
    try:
        text = open(os.path.join(out, "uac.err"), errors="replace").read()
    except OSError:
        return {}
    calls = {}
    for m in re.finditer(r"Aborting call on UDP retransmission timeout for Call-ID '([^']+)'", text):
        calls[m.group(1)] = False
    for m in re.finditer(r"Dead call (\S+) .*?\nTo: [^\n]*;tag=([0-9]+)SIPpTag", text, re.S):
        if m.group(1) in calls and m.group(2) in pids:
            calls[m.group(1)] = True
    return calls


def setup_times(out):
    """Setup time (ms) of every answered call, in answer order, with its time
    since the caller started (ms): [(t_ms, setup_ms)]."""
    rows = []
    for path in glob.glob(os.path.join(out, "uac_*_rtt.csv")):
        with open(path) as f:
            for r in csv.reader(f, delimiter=";"):
                if len(r) >= 3 and r[2].strip() == "1":
                    try:
                        rows.append((float(r[0]), float(r[1])))
                    except ValueError:
                        pass
    return sorted(rows)


def describe(values):
    if not values:
        return "none"
    v = sorted(values)
    pick = lambda q: v[min(len(v) - 1, int(q * len(v)))]
    return "n %d, min %.0f, median %.0f, p99 %.0f, max %.0f ms" % (
        len(v), v[0], statistics.median(v), pick(0.99), v[-1])


def counts(out, name):
    """sipp -trace_counts of <name>, last row, summed by column suffix
    (e.g. 'INVITE_Recv', 'OPTIONS_Recv', 'CANCEL_Recv', '200_Sent')."""
    total = {}
    for path in glob.glob(os.path.join(out, "%s_*_counts.csv" % name)):
        with open(path) as f:
            rows = list(csv.reader(f, delimiter=";"))
        if len(rows) < 2:
            continue
        for i, h in enumerate(rows[0]):
            m = re.match(r"\d+_(.*)$", h)
            if m and i < len(rows[-1]) and rows[-1][i]:
                total[m.group(1)] = total.get(m.group(1), 0) + int(rows[-1][i])
    return total


def messages(out, name):
    """sipp -trace_msg of <name>: every message with its time (epoch), direction
    ('recv'/'sent'), start line, method or status, and the first value of each
    header (lower-case names)."""
    msgs = []
    for path in glob.glob(os.path.join(out, "%s_*_messages.log" % name)):
        text = open(path, errors="replace").read()
        for blk in re.split(r"^-{20,} ", text, flags=re.M)[1:]:
            head, _, rest = blk.partition("\n")
            try:
                t = datetime.datetime.strptime(head.strip()[:26], "%Y-%m-%d %H:%M:%S.%f").timestamp()
            except ValueError:
                continue
            kind, _, body = rest.partition("\n")
            direction = "recv" if "received" in kind else "sent" if "sent" in kind else "?"
            lines = body.strip("\r\n").splitlines()
            if not lines:
                continue
            start = lines[0].strip()
            hdr = {}
            for ln in lines[1:]:
                if not ln.strip():
                    break
                k, _, v = ln.partition(":")
                hdr.setdefault(k.strip().lower(), v.strip())
            w = start.split()
            what = w[1] if start.startswith("SIP/2.0") and len(w) > 1 else (w[0] if w else "")
            cseq = hdr.get("cseq", "")
            msgs.append({"t": t, "dir": direction, "start": start, "what": what, "hdr": hdr,
                         "cseq_method": cseq.split()[-1] if cseq else ""})
    msgs.sort(key=lambda m: m["t"])
    return msgs


def branch(hdr):
    m = re.search(r"branch=([^;\s,]+)", hdr.get("via", ""))
    return m.group(1) if m else ""


def edge_stats(out):
    try:
        with open(os.path.join(out, "stats.json")) as f:
            return json.load(f)
    except Exception as e:  # noqa: BLE001 - reported, the check fails
        check(False, "sipedge's counters (stats.json) readable: %s" % e)
        return None


def edge_summary(e):
    if not e:
        return
    t = e.get("transactions", {})
    keep = {k: v for k, v in t.items() if v and ("rollover" in k or "failed" in k or "timeout" in k or "revived" in k
                                                 or "provisional" in k or "cancel" in k)}
    info("sipedge calls " + json.dumps(e.get("calls", {})))
    info("sipedge transactions (rollovers/failures) " + json.dumps(keep))
    drops = {k: v for k, v in e.get("drops", {}).items() if v}
    info("sipedge drops " + (json.dumps(drops) if drops else "none"))


def server_polls(out):
    """lib.sh poll_servers: [(t, [row, ...])] for the replies that came."""
    polls = []
    path = os.path.join(out, "servers.jsonl")
    if not os.path.exists(path):
        return polls
    for line in open(path):
        try:
            j = json.loads(line)
        except ValueError:
            continue
        r = j.get("reply")
        if isinstance(r, dict) and r.get("ok", True) and isinstance(r.get("data"), list):
            polls.append((j["t"], r["data"]))
    return polls
