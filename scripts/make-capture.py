#!/usr/bin/env python3
"""Generates the sample captures that tests/inspect/inspect_test.py checks.

Writes, deterministically (fixed addresses, ports, IP ids and timestamps):
  tests/data/captures/sample.pcap    pcap, Ethernet, microsecond timestamps
  tests/data/captures/sample.pcapng  the same frames as pcapng (SHB, IDB, EPBs)
  tests/data/captures/sll.pcap       Linux cooked (SLL) link type, two messages
  tests/data/captures/raw.pcap       raw IP link type (LINKTYPE_RAW), two messages

sample.* frames, in order (1-based frame numbers as Wireshark shows them):
   1  ARP request                                   (not IP)
   2  wsinv.dat       IPv4 192.0.2.2:5060 -> 198.51.100.10:5060
   3  esc01.dat       IPv6 [2001:db8::2]:5060 -> [2001:db8::10]:5060
   4  bigsdp INVITE   IPv4 fragment 3 of 3 (last, offset 2960)
   5  bigsdp INVITE   IPv4 fragment 1 of 3
   6  503 response    802.1Q VLAN 100, IPv4 198.51.100.10:5060 -> 192.0.2.2:5060
   7  bigsdp INVITE   IPv4 fragment 2 of 3: completes the datagram
   8  DNS query       UDP to port 53                (not SIP)
   9  TCP SYN         to port 5060                  (not UDP)
  10  badvers.dat     IPv4 192.0.2.3:5060 -> 198.51.100.10:5060 (invalid: SIP/7.0)

Usage: scripts/make-capture.py [OUTDIR]   (default: tests/data/captures)
Python 3 standard library only.
"""

import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RFC4475 = os.path.join(ROOT, "tests", "data", "rfc4475")
BASE_TS_US = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z
STEP_US = 10_000

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")

V4 = {
    "ua": bytes([192, 0, 2, 2]),
    "ua2": bytes([192, 0, 2, 3]),
    "edge": bytes([198, 51, 100, 10]),
    "dns": bytes([198, 51, 100, 53]),
}
V6 = {
    "ua": bytes.fromhex("20010db8000000000000000000000002"),
    "edge": bytes.fromhex("20010db8000000000000000000000010"),
}


def rfc4475(name):
    with open(os.path.join(RFC4475, name), "rb") as f:
        return f.read()


MSG_503 = (
    b"SIP/2.0 503 Service Unavailable\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK-503-test;received=192.0.2.2\r\n"
    b"From: <sip:alice@example.com>;tag=a503\r\n"
    b"To: <sip:carrier@example.net>;tag=c503\r\n"
    b"Call-ID: svc503.7f3a@192.0.2.2\r\n"
    b"CSeq: 17 INVITE\r\n"
    b"Retry-After: 30\r\n"
    b"Server: sipedge-test\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def big_sdp():
    lines = [
        "v=0",
        "o=alice 2890844526 2890844526 IN IP4 192.0.2.2",
        "s=bigsdp",
        "c=IN IP4 192.0.2.2",
        "t=0 0",
        "m=audio 49170 RTP/AVP " + " ".join(str(96 + i) for i in range(32)),
    ]
    for i in range(32):
        lines.append("a=rtpmap:%d codec-%02d/8000" % (96 + i, i))
        lines.append("a=fmtp:%d mode-set=%d; octet-align=1" % (96 + i, i % 8))
    for i in range(16):
        lines.append("a=candidate:%d 1 UDP %d 192.0.2.2 %d typ host" % (i, 2130706431 - i, 49170 + 2 * i))
    return ("\r\n".join(lines) + "\r\n").encode()


def big_invite():
    body = big_sdp()
    head = (
        "INVITE sip:bob@example.net SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK-bigsdp-1\r\n"
        "Max-Forwards: 70\r\n"
        "From: \"Alice\" <sip:alice@example.com>;tag=big1\r\n"
        "To: <sip:bob@example.net>\r\n"
        "Call-ID: bigsdp.frag@192.0.2.2\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:alice@192.0.2.2:5060>\r\n"
        "Content-Type: application/sdp\r\n"
        "Content-Length: %d\r\n"
        "\r\n" % len(body)
    ).encode()
    return head + body


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def udp(src, dst, sport, dport, payload):
    length = 8 + len(payload)
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 17, length)
    else:
        pseudo = src + dst + struct.pack("!IxxxB", length, 17)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    c = csum(pseudo + hdr + payload) or 0xFFFF
    return struct.pack("!HHHH", sport, dport, length, c) + payload


def ipv4(src, dst, proto, payload, ident, frag_off=0, more=False):
    flags = (0x2000 if more else 0) | (frag_off // 8)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, 64, proto, 0, src, dst)
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def ipv6(src, dst, nxt, payload):
    return struct.pack("!IHBB", 6 << 28, len(payload), nxt, 64) + src + dst + payload


def eth(ethertype, payload, vlan=None, dst=MAC_B, src=MAC_A):
    tag = b"" if vlan is None else struct.pack("!HH", 0x8100, vlan)
    frame = dst + src + tag + struct.pack("!H", ethertype) + payload
    return frame + b"\0" * max(0, 60 - len(frame))  # pad to the Ethernet minimum


def fragments(src, dst, datagram, ident, mtu=1500):
    """Splits a UDP datagram (header included) into IPv4 fragments."""
    chunk = (mtu - 20) // 8 * 8
    out = []
    for off in range(0, len(datagram), chunk):
        part = datagram[off:off + chunk]
        out.append(ipv4(src, dst, 17, part, ident, off, off + chunk < len(datagram)))
    return out


def sample_frames():
    arp = eth(0x0806, struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + MAC_A + V4["ua"] + b"\0" * 6 + V4["edge"],
              dst=b"\xff" * 6)
    frames = [arp]
    frames.append(eth(0x0800, ipv4(V4["ua"], V4["edge"], 17,
                                   udp(V4["ua"], V4["edge"], 5060, 5060, rfc4475("wsinv.dat")), 0x1001)))
    frames.append(eth(0x86DD, ipv6(V6["ua"], V6["edge"], 17,
                                   udp(V6["ua"], V6["edge"], 5060, 5060, rfc4475("esc01.dat")))))
    frags = fragments(V4["ua"], V4["edge"], udp(V4["ua"], V4["edge"], 5060, 5060, big_invite()), 0x2002)
    assert len(frags) == 3, len(frags)
    resp = eth(0x0800, ipv4(V4["edge"], V4["ua"], 17, udp(V4["edge"], V4["ua"], 5060, 5060, MSG_503), 0x1003),
               vlan=100)
    frames += [eth(0x0800, frags[2]), eth(0x0800, frags[0]), resp, eth(0x0800, frags[1])]
    dns_q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x04_sip\x04_udp\x07example\x03net\x00" + \
        struct.pack("!HH", 33, 1)
    frames.append(eth(0x0800, ipv4(V4["ua"], V4["dns"], 17, udp(V4["ua"], V4["dns"], 40000, 53, dns_q), 0x1004)))
    syn = struct.pack("!HHIIBBHHH", 40001, 5060, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    frames.append(eth(0x0800, ipv4(V4["ua"], V4["edge"], 6, syn, 0x1005)))
    frames.append(eth(0x0800, ipv4(V4["ua2"], V4["edge"], 17,
                                   udp(V4["ua2"], V4["edge"], 5060, 5060, rfc4475("badvers.dat")), 0x1006)))
    return frames


def sll(ethertype, payload):
    # packet type 0 (to us), ARPHRD_ETHER 1, address length 6, address padded to 8
    return struct.pack("!HHH", 0, 1, 6) + MAC_A + b"\0\0" + struct.pack("!H", ethertype) + payload


def pcap_bytes(frames, linktype):
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for i, f in enumerate(frames):
        ts = BASE_TS_US + i * STEP_US
        out.append(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(f), len(f)) + f)
    return b"".join(out)


def pcapng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng_option(code, value):
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng_bytes(frames, linktype):
    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + pcapng_option(4, b"sipedge scripts/make-capture.py") + \
        pcapng_option(0, b"")
    idb = struct.pack("<HHI", linktype, 0, 65535) + pcapng_option(2, b"eth0") + pcapng_option(9, b"\x06") + \
        pcapng_option(0, b"")
    out = [pcapng_block(0x0A0D0D0A, shb), pcapng_block(1, idb)]
    for i, f in enumerate(frames):
        ts = BASE_TS_US + i * STEP_US
        epb = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f + b"\0" * (-len(f) % 4)
        out.append(pcapng_block(6, epb))
    return b"".join(out)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    print("make-capture: %s (%d bytes)" % (os.path.relpath(path, ROOT), len(data)))


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "data", "captures")
    os.makedirs(outdir, exist_ok=True)
    frames = sample_frames()
    write(os.path.join(outdir, "sample.pcap"), pcap_bytes(frames, 1))
    write(os.path.join(outdir, "sample.pcapng"), pcapng_bytes(frames, 1))

    # Linux cooked: the 503 over IPv4 and esc01 over IPv6.
    cooked = [
        sll(0x0800, ipv4(V4["edge"], V4["ua"], 17, udp(V4["edge"], V4["ua"], 5060, 5060, MSG_503), 0x3001)),
        sll(0x86DD, ipv6(V6["ua"], V6["edge"], 17, udp(V6["ua"], V6["edge"], 5060, 5060, rfc4475("esc01.dat")))),
    ]
    write(os.path.join(outdir, "sll.pcap"), pcap_bytes(cooked, 113))
    # Raw IP (LINKTYPE_RAW 101): wsinv over IPv4 and the 503 over IPv6.
    raw = [
        ipv4(V4["ua"], V4["edge"], 17, udp(V4["ua"], V4["edge"], 5060, 5060, rfc4475("wsinv.dat")), 0x4001),
        ipv6(V6["edge"], V6["ua"], 17, udp(V6["edge"], V6["ua"], 5060, 5060, MSG_503)),
    ]
    write(os.path.join(outdir, "raw.pcap"), pcap_bytes(raw, 101))
    print("make-capture: bigsdp INVITE is %d bytes, body %d bytes" % (len(big_invite()), len(big_sdp())))


if __name__ == "__main__":
    main()
