#!/usr/bin/env python3
"""A SIP caller over TLS for the e2e runs (issue 14; sipp has no TLS): one
connection to <edge>:<port>, verifying the edge's certificate against <ca>
and <name>; <calls> calls one after the other: INVITE (100/180 taken), its
200's Record-Route kept as the route set (reversed, RFC 3261 §12.1.2), ACK
and BYE to the 200's Contact through that route set, the BYE's 200. Writes
<out> (JSON): calls completed, failures with a reason, the route set and the
Via of the first call's 200 as seen here.

    tls_uac.py <edge> <port> <ca> <name> <local-ip> <calls> <out.json>
"""
import json
import re
import socket
import ssl
import sys

edge, port, ca, name, local, calls, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), sys.argv[7]
result = {"completed": 0, "failed": [], "route_set": None, "response_via": None}

ctx = ssl.create_default_context(cafile=ca)
raw = socket.create_connection((edge, port), timeout=5, source_address=(local, 0))
conn = ctx.wrap_socket(raw, server_hostname=name)
lport = conn.getsockname()[1]
buf = b""


def read_msg():
    global buf
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode(errors="replace")
            m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
            clen = int(m.group(1)) if m else 0
            if len(buf) >= end + 4 + clen:
                msg = buf[:end + 4 + clen].decode(errors="replace")
                buf = buf[end + 4 + clen:]
                return msg
        d = conn.recv(65536)
        if not d:
            raise EOFError("the edge closed the connection")
        buf += d


def headers(msg, hname):
    return [v.strip() for k, v in re.findall(r"(?im)^([A-Za-z-]+)\s*:(.*)$", msg) if k.lower() == hname]


def request(method, ruri, cid, cseq, to_tag=None, routes=(), body=""):
    via = "SIP/2.0/TLS %s:%d;branch=z9hG4bK-%s-%s;rport" % (local, lport, cid, method.lower())
    to = "<sip:1000@%s>" % edge + (";tag=" + to_tag if to_tag else "")
    lines = ["%s %s SIP/2.0" % (method, ruri), "Via: " + via]
    lines += ["Route: " + r for r in routes]
    lines += ["From: <sip:tls@%s>;tag=f%s" % (local, cid), "To: " + to, "Call-ID: %s@%s" % (cid, local),
              "CSeq: %d %s" % (cseq, method), "Contact: <sip:tls@%s:%d;transport=tls>" % (local, lport),
              "Max-Forwards: 70"]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body))
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n" + body).encode())


def final(method):
    while True:
        m = read_msg()
        if not m.startswith("SIP/2.0 "):
            continue
        code = int(m[8:11])
        cseq = headers(m, "cseq")
        if code >= 200 and cseq and cseq[0].split()[-1] == method:
            return code, m


SDP = "v=0\r\no=u 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n" % (local, local)
for i in range(calls):
    cid = "tls%d" % i
    try:
        request("INVITE", "sip:1000@%s:%d;transport=tls" % (edge, port), cid, 1, body=SDP)
        code, ok = final("INVITE")
        if code != 200:
            result["failed"].append("%s: INVITE %d" % (cid, code))
            continue
        rr = []
        for v in headers(ok, "record-route"):
            rr += [x.strip() for x in v.split(",")]
        routes = list(reversed(rr))  # a UAC's route set: Record-Route reversed
        tag = re.search(r";tag=([^;>\s]+)", headers(ok, "to")[0]).group(1)
        contact = re.search(r"<([^>]+)>", headers(ok, "contact")[0]).group(1)
        if i == 0:
            result["route_set"] = routes
            result["response_via"] = headers(ok, "via")
        request("ACK", contact, cid, 1, tag, routes)
        request("BYE", contact, cid, 2, tag, routes)
        code, _ = final("BYE")
        if code != 200:
            result["failed"].append("%s: BYE %d" % (cid, code))
            continue
        result["completed"] += 1
    except (OSError, EOFError, ssl.SSLError, AttributeError, IndexError) as e:
        result["failed"].append("%s: %s" % (cid, e))
        break
conn.close()
with open(out, "w") as f:
    json.dump(result, f)
