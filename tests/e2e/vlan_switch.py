#!/usr/bin/env python3
"""A two-port 802.1Q switch in user space, for the e2e `twoport` scenario.

The test machines' kernel has neither the 8021q module nor bridge VLAN
filtering nor tc's vlan action, so the carrier side of VLAN 100 is this:
<trunk> is a trunk port (frames tagged with <vid>), <access> an access port
(untagged, in <vid>). Frames from the trunk tagged with <vid> lose the tag
and go to the access port; frames from the access port get the tag and go
to the trunk. Everything else (untagged or another VLAN on the trunk, tagged
on the access port) is dropped and counted, as a switch would. The kernel
moves a received tag into the packet's auxiliary data (PACKET_AUXDATA), so
the tag is read from there, or from the frame when it is still inline.

usage: vlan_switch.py <trunk ifname> <access ifname> <vid> <seconds> <counts file>
Runs at most <seconds>; writes its counters (JSON) on SIGTERM or at the end.
"""
import json
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 3
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10
PACKET_OUTGOING = 4

trunk_if, access_if, vid, seconds, counts_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    float(sys.argv[4]), sys.argv[5]
counts = {"to_access": 0, "to_trunk": 0, "dropped_untagged": 0, "dropped_other_vlan": 0,
          "dropped_tagged_on_access": 0}


def write_counts(*_):
    with open(counts_path, "w") as f:
        json.dump(counts, f)
    sys.exit(0)


signal.signal(signal.SIGTERM, write_counts)


def open_port(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((name, 0))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    return s


trunk, access = open_port(trunk_if), open_port(access_if)
end = time.time() + seconds
while time.time() < end:
    ready, _, _ = select.select([trunk, access], [], [], 0.5)
    for s in ready:
        data, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(32))
        if addr[2] == PACKET_OUTGOING:  # what we sent ourselves
            continue
        tci = None
        for level, kind, d in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(d) >= 20:
                status, _, _, _, _, vtci, _ = struct.unpack("IIIHHHH", d[:20])
                if status & TP_STATUS_VLAN_VALID:
                    tci = vtci
        if tci is None and len(data) >= 18 and data[12:14] == b"\x81\x00":
            tci = struct.unpack("!H", data[14:16])[0]
            data = data[:12] + data[16:]
        if s is trunk:
            if tci is None:
                counts["dropped_untagged"] += 1
            elif tci & 0xfff != vid:
                counts["dropped_other_vlan"] += 1
            else:
                access.send(data)
                counts["to_access"] += 1
        else:
            if tci is not None:
                counts["dropped_tagged_on_access"] += 1
            else:
                trunk.send(data[:12] + struct.pack("!HH", 0x8100, vid) + data[12:])
                counts["to_trunk"] += 1
write_counts()
