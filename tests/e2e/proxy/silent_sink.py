#!/usr/bin/env python3
"""proxy_e2e silent sink: a UDP socket on <address>:5060 that reads and never
answers (no ICMP either), for 90 s.

usage: silent_sink.py <address>"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5060)); s.settimeout(0.5)
end = time.time() + 90
while time.time() < end:
    try: s.recv(65535)
    except socket.timeout: pass
