#!/usr/bin/python3
"""Write a pcap of one SMTP session whose envelope and subject carry SQL
metacharacters and bytes that are not UTF-8, for the store tests.

usage: mkpcap.py OUT.pcap [N]
The strings are in HOSTILE_* (imported by the checks). With N, N more
sessions follow (for volume: the outage test), each with two
transactions of two recipients, one of them refused, and addresses in
mixed case."""
import struct
import sys

HOSTILE_FROM = b"x'); DROP TABLE messages; --\"\xff\xfe@evil.example"
HOSTILE_RCPT = b"bob'--\\@example.net\xc3\x28"
HOSTILE_SUBJECT = b"caf\xe9 ' OR 1=1; -- \x00 end"


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def packet(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                      65535, 0, 0) + payload
    ph = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64,
                     6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + tcp


def session(pkts, t, c, s, cp, dialogue):
    """One TCP connection carrying dialogue [(from_client, bytes)]."""
    sp, cseq, sseq = 25, 1000, 5000

    def add(frame):
        nonlocal t
        t += 0.0001
        pkts.append((t, frame))

    add(packet(c, s, cp, sp, cseq, 0, 0x02))
    add(packet(s, c, sp, cp, sseq, cseq + 1, 0x12))
    cseq += 1
    sseq += 1
    add(packet(c, s, cp, sp, cseq, sseq, 0x10))
    for client, data in dialogue:
        if client:
            add(packet(c, s, cp, sp, cseq, sseq, 0x18, data))
            cseq += len(data)
        else:
            add(packet(s, c, sp, cp, sseq, cseq, 0x18, data))
            sseq += len(data)
    add(packet(c, s, cp, sp, cseq, sseq, 0x11))
    add(packet(s, c, sp, cp, sseq, cseq + 1, 0x11))
    add(packet(c, s, cp, sp, cseq + 1, sseq + 1, 0x10))
    return t


def hostile_dialogue():
    msg = (b"From: <" + HOSTILE_FROM + b">\r\nSubject: " + HOSTILE_SUBJECT +
           b"\r\n\r\nbody\r\n")
    return [
        (0, b"220 mx ESMTP\r\n"),
        (1, b"EHLO pc\r\n"), (0, b"250 mx\r\n"),
        (1, b"MAIL FROM:<" + HOSTILE_FROM + b">\r\n"), (0, b"250 ok\r\n"),
        (1, b"RCPT TO:<" + HOSTILE_RCPT + b">\r\n"), (0, b"250 ok\r\n"),
        (1, b"DATA\r\n"), (0, b"354 go\r\n"),
        (1, msg + b".\r\n"), (0, b"250 queued 'q'\r\n"),
        (1, b"QUIT\r\n"), (0, b"221 bye\r\n"),
    ]


def plain_dialogue(i):
    d = [(0, b"220 mx ESMTP\r\n"), (1, b"EHLO Host%d.Example\r\n" % (i % 7)),
         (0, b"250 mx\r\n")]
    for k in range(2):
        d += [
            (1, b"MAIL FROM:<User%d@Example.COM>\r\n" % (i % 11)),
            (0, b"250 ok\r\n"),
            (1, b"RCPT TO:<rcpt%d@example.net>\r\n" % (i % 13)),
            (0, b"250 2.1.5 ok\r\n"),
            (1, b"RCPT TO:<Nobody%d@example.net>\r\n" % k),
            (0, b"550 5.1.1 no such user\r\n"),
            (1, b"DATA\r\n"), (0, b"354 go\r\n"),
            (1, b"Subject: volume %d/%d\r\n\r\nbody\r\n.\r\n" % (i, k)),
            (0, b"250 queued\r\n"),
        ]
    return d + [(1, b"QUIT\r\n"), (0, b"221 bye\r\n")]


def main():
    extra = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    pkts = []
    t = session(pkts, 1700000000.0, bytes([10, 9, 0, 1]),
                bytes([10, 9, 0, 25]), 40001, hostile_dialogue())
    for i in range(extra):
        c = bytes([10, 9, 1 + i // 250 % 250, 1 + i % 250])
        t = session(pkts, t + 0.01, c, bytes([10, 9, 0, 25 + i % 3]),
                    1024 + i % 60000, plain_dialogue(i))
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts, frame in pkts:
            us = int(round(ts * 1e6))
            f.write(struct.pack("<IIII", us // 1000000, us % 1000000,
                                len(frame), len(frame)) + frame)


if __name__ == "__main__":
    main()
