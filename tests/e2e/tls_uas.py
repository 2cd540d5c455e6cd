#!/usr/bin/env python3
"""A TLS SIP carrier for the e2e runs (issue 14; sipp has no TLS): listens on
<addr>:<port> with <cert>/<key>, answers each INVITE with 100, 180 and a 200
that copies Via, From, To (+tag), Call-ID, CSeq and Record-Route, names
itself as Contact with ;transport=tls, takes the ACK, answers BYE (and any
other request) 200. Frames messages by Content-Length (RFC 3261 §18.3).
Writes <out> (JSON) at the end: requests by method, connections, the SNI
names clients sent, resumed sessions, bytes. Bounded: exits after <seconds>.
With "close-after-ack" it closes the connection once a call's ACK came (a
carrier that drops connections mid-call: the BYE must come on a new one),
dropping unread whatever came after that ACK. A request seen before (same
top Via branch and method, on any connection) gets the same responses again
and is counted in "retransmissions", not in "requests" (RFC 3261 §17.2).
With "silent" it accepts TCP connections and never answers the TLS
handshake (a hung carrier: tcp-fast-failover's case). With "mtls=<ca.pem>"
it requires a client certificate chaining to that CA (mutual TLS) and
records the clients' subject CNs.

    tls_uas.py <addr> <port> <cert> <key> <out.json> <seconds> [close-after-ack|silent|mtls=<ca>]
"""
import json
import os
import socket
import ssl
import sys
import threading
import time

addr, port, cert, key, out, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6])
close_after_ack = len(sys.argv) > 7 and sys.argv[7] == "close-after-ack"
silent = len(sys.argv) > 7 and sys.argv[7] == "silent"
mtls_ca = sys.argv[7][5:] if len(sys.argv) > 7 and sys.argv[7].startswith("mtls=") else None
held = []
lock = threading.Lock()
stats = {"requests": {}, "connections": 0, "silent_accepts": 0, "client_cn": {}, "resumed": 0, "closed_by_us": 0, "sni": {}, "handshake_errors": 0,
         "bytes_in": 0, "retransmissions": 0, "unread_at_close": 0}
answered = {}  # (top Via branch, method) -> the responses sent: a retransmission gets them again
tags = [0]


def bump(method):
    with lock:
        stats["requests"][method] = stats["requests"].get(method, 0) + 1


def headers_of(head):
    lines = head.split("\r\n")
    return lines[0], lines[1:]


def response(status, reason, hdrs, to_tag=None, body=""):
    keep = []
    for h in hdrs:
        name = h.split(":", 1)[0].strip().lower()
        if name in ("via", "v", "from", "f", "call-id", "i", "cseq", "record-route"):
            keep.append(h)
        elif name in ("to", "t"):
            keep.append(h + (";tag=" + to_tag if to_tag and ";tag=" not in h else ""))
    msg = "SIP/2.0 %d %s\r\n" % (status, reason) + "\r\n".join(keep) + "\r\n"
    if status >= 180:
        msg += "Contact: <sip:carrier@%s:%d;transport=tls>\r\n" % (addr, port)
    if body:
        msg += "Content-Type: application/sdp\r\n"
    msg += "Content-Length: %d\r\n\r\n%s" % (len(body), body)
    return msg.encode()


SDP = "v=0\r\no=c 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n" % (addr, addr)


def branch_of(hdrs):
    for h in hdrs:
        if h.split(":", 1)[0].strip().lower() in ("via", "v"):
            i = h.find("branch=")
            return h[i + 7:].split(";")[0].split(",")[0].strip() if i >= 0 else h
    return ""


def serve(conn):
    buf = b""
    try:
        while True:
            d = conn.recv(65536)
            if not d:
                return
            with lock:
                stats["bytes_in"] += len(d)
            buf += d
            while True:
                buf = buf.lstrip(b"\r\n")
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = buf[:end].decode(errors="replace")
                first, hdrs = headers_of(head)
                clen = 0
                for h in hdrs:
                    if h.split(":", 1)[0].strip().lower() in ("content-length", "l"):
                        clen = int(h.split(":", 1)[1].strip())
                if len(buf) < end + 4 + clen:
                    break
                buf = buf[end + 4 + clen:]
                if first.startswith("SIP/2.0"):
                    continue
                method = first.split(" ", 1)[0]
                key = (branch_of(hdrs), method)
                with lock:
                    again = answered.get(key) if method != "ACK" else None
                    if again is not None:
                        stats["retransmissions"] += 1
                if again is not None:  # RFC 3261 §17.2: the same responses again, on this connection
                    for r in again:
                        conn.sendall(r)
                    continue
                bump(method)
                if method == "INVITE":
                    with lock:
                        tags[0] += 1
                        tag = "tls%d" % tags[0]
                    rs = [response(100, "Trying", hdrs), response(180, "Ringing", hdrs, tag),
                          response(200, "OK", hdrs, tag, SDP)]
                elif method == "ACK":
                    if close_after_ack:
                        with lock:
                            stats["closed_by_us"] += 1
                            # what came after the ACK is dropped unread, as a carrier that closes does
                            stats["unread_at_close"] += buf.count(b" SIP/2.0\r\n")
                        return
                    continue
                else:
                    rs = [response(200, "OK", hdrs)]
                with lock:
                    answered[key] = rs
                for r in rs:
                    conn.sendall(r)
    except (OSError, ssl.SSLError):
        return
    finally:
        conn.close()


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
if mtls_ca:
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(mtls_ca)


def sni(sslobj, name, c):
    with lock:
        stats["sni"][name] = stats["sni"].get(name, 0) + 1  # name -> count (a long run has thousands)


ctx.sni_callback = sni
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port))
ls.listen(64)
ls.settimeout(0.2)
deadline = time.time() + secs


last_dump = 0.0


def dump():
    global last_dump
    with lock:  # whole or not at all: the test may stop us while we write
        with open(out + ".tmp", "w") as f:
            json.dump(stats, f)
        os.replace(out + ".tmp", out)
    last_dump = time.time()


# Written at start and then every 0.2 s, busy or idle (the test waits for a
# dump newer than its calls; when sipedge reconnected for every call, a dump
# only on an idle accept() could come after the test stopped us).
dump()
while time.time() < deadline:
    if time.time() - last_dump >= 0.2:
        dump()
    try:
        raw, _ = ls.accept()
    except socket.timeout:
        continue
    if silent:
        held.append(raw)
        with lock:
            stats["silent_accepts"] += 1
        continue
    raw.settimeout(5)  # the handshake
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
        conn.settimeout(secs)
    except (OSError, ssl.SSLError):
        with lock:
            stats["handshake_errors"] += 1
        raw.close()
        continue
    with lock:
        stats["connections"] += 1
        stats["resumed"] += conn.session_reused
        if mtls_ca:
            peer = conn.getpeercert() or {}
            for v in [v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName"]:
                stats["client_cn"][v] = stats["client_cn"].get(v, 0) + 1
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
dump()
