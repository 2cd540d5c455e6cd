#!/usr/bin/env python3
"""Live view of scripts/lab-demo.sh (one process for the whole run): every
second `show servers` on the control socket and the caller's statistics
(uac.csv), as one line. Ends when <run dir>/lab_done appears or after
<seconds>.

usage: lab_view.py <control socket> <run dir> <seconds>"""
import csv, json, os, socket, sys, time
sock, out, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
def servers():
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(sock)
        s.sendall(b"show servers\n")
        buf = b""
        while not buf.endswith(b"\n"):
            d = s.recv(65536)
            if not d:
                break
            buf += d
        s.close()
        return json.loads(buf).get("data", [])
    except Exception:
        return []
def calls():
    try:
        rows = list(csv.reader(open(out + "/uac.csv"), delimiter=";"))
        return dict(zip(rows[0], rows[-1])) if len(rows) > 1 else {}
    except OSError:
        return {}
t0 = time.time()
next_line = t0 + 1
while time.time() - t0 < limit and not os.path.exists(out + "/lab_done"):
    time.sleep(max(0.0, next_line - time.time()))
    srv = servers()
    now = time.time()
    if True:
        next_line += 1
        r = calls()
        n = lambda k: int(float(r.get(k, "0") or 0))
        act = next((x["address"] for x in srv if x.get("role") == "active"), None) or \
              next((x["address"] for x in srv if x.get("state") == "up"), "-")
        states = " | ".join("%s %s" % (x["address"].split(":")[0], x["state"]) for x in srv)
        print("  t=%3ds  calls %4d  ok %4d  failed %3d  %5.1f calls/s  active %-16s [%s]" % (
              now - t0, n("TotalCallCreated"), n("SuccessfulCall(C)"), n("FailedCall(C)"),
              float(r.get("CallRate(P)", "0") or 0), act, states), flush=True)
