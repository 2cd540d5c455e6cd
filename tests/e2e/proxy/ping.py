#!/usr/bin/env python3
"""proxy_e2e ping: one ICMP echo request to <address>, exit 0 on its reply.

usage: ping.py <address> (a raw socket: root, in the caller's namespace)."""
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
body = b"sipedge-e2e-ping"
hdr = struct.pack("!BBHHH", 8, 0, 0, 0x5e, 1)
s.sendto(struct.pack("!BBHHH", 8, 0, csum(hdr + body), 0x5e, 1) + body, (sys.argv[1], 0))
while True:
    pkt, addr = s.recvfrom(2048)
    ihl = (pkt[0] & 15) * 4
    if addr[0] == sys.argv[1] and pkt[ihl] == 0 and pkt[ihl + 8:] == body and csum(pkt[ihl:]) == 0:
        sys.exit(0)
