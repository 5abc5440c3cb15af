#!/usr/bin/python3
"""flood.py: hostile captures for the memory-budget benchmark (issue 8 §3).

  flood.py syn N OUT.pcap            N SYNs from random spoofed sources to
                                     10.0.0.25:25, 1 microsecond apart
  flood.py rcpt SESSIONS RCPTS OUT   SESSIONS SMTP sessions, each with MAIL
                                     and RCPTS recipients, never finished
  flood.py inside N IN.pcap OUT      IN (one real session, Ethernet) with N
                                     spoofed SYNs sent in a pause made in
                                     its middle

Written directly as a classic pcap (Ethernet, IPv4, TCP with correct
checksums), deterministic (seeded), no scapy needed.
"""
import os
import random
import struct
import sys

# One IPv4/TCP frame writer for every capture we make (tests/store/mkpcap.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "store"))
from mkpcap import packet as frame  # noqa: E402

SYN, ACK, PSH = 0x02, 0x10, 0x08


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0,
                                 262144, 1))

    def put(self, t_us, data):
        self.f.write(struct.pack("<IIII", t_us // 1000000, t_us % 1000000,
                                 len(data), len(data)))
        self.f.write(data)

    def close(self):
        self.f.close()


def ip4(a):
    return bytes(int(x) for x in a.split("."))


SERVER = ip4("10.0.0.25")


def syn_flood(w, n, t0, rng):
    for i in range(n):
        src = struct.pack("!I", 0x0B000000 | rng.getrandbits(24))  # 11/8
        w.put(t0 + i, frame(src, SERVER, rng.randint(1024, 65535), 25,
                            rng.getrandbits(32), 0, SYN))


def rcpt_flood(w, sessions, rcpts, rng):
    t = 1_700_000_000_000_000
    for s in range(sessions):
        cli = struct.pack("!I", 0x0A010000 | (s + 1))  # 10.1.x.x
        port = 1024 + s % 60000
        cs, ss = 1000, 5000
        out = []

        def c2s(data, flags=ACK | PSH):
            nonlocal cs
            out.append(frame(cli, SERVER, port, 25, cs, ss, flags, data))
            cs += len(data) + (1 if flags & SYN else 0)

        def s2c(data, flags=ACK | PSH):
            nonlocal ss
            out.append(frame(SERVER, cli, 25, port, ss, cs, flags, data))
            ss += len(data) + (1 if flags & SYN else 0)

        c2s(b"", SYN)
        s2c(b"", SYN | ACK)
        c2s(b"", ACK)
        s2c(b"220 mx.example.org ESMTP\r\n")
        c2s(b"EHLO bot%d.example.com\r\n" % s)
        s2c(b"250-mx.example.org\r\n250 PIPELINING\r\n")
        c2s(b"MAIL FROM:<spam%d@example.com>\r\n" % s)
        s2c(b"250 2.1.0 Ok\r\n")
        batch = []
        for r in range(rcpts):
            batch.append(b"RCPT TO:<user%05d@example.net>\r\n" % r)
            if len(batch) == 40 or r == rcpts - 1:
                c2s(b"".join(batch))
                s2c(b"250 2.1.5 Ok\r\n" * len(batch))
                batch = []
        for data in out:
            w.put(t, data)
            t += 10


def read_pcap(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        nano = magic == 0xA1B23C4D
        if magic not in (0xA1B2C3D4, 0xA1B23C4D):
            sys.exit("inside: %s: a little-endian classic pcap, please" % path)
        recs = []
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            sec, frac, caplen, _ = struct.unpack("<IIII", h)
            us = sec * 1000000 + (frac // 1000 if nano else frac)
            recs.append((us, f.read(caplen)))
        return recs


def inside(w, n, path, rng):
    """Split the session in the middle of its packets, move the second
    half later by n microseconds plus a second, and send n SYNs 1 us apart
    in that pause."""
    recs = read_pcap(path)
    at = len(recs) // 2
    shift = n + 1_000_000
    for us, data in recs[:at]:
        w.put(us, data)
    t0 = recs[at - 1][0] + 500_000
    for i in range(n):
        src = struct.pack("!I", 0x0B000000 | rng.getrandbits(24))
        w.put(t0 + i, frame(src, SERVER, rng.randint(1024, 65535), 25,
                            rng.getrandbits(32), 0, SYN))
    for us, data in recs[at:]:
        w.put(us + shift, data)


def main():
    rng = random.Random(8)
    if len(sys.argv) >= 4 and sys.argv[1] == "syn":
        w = Writer(sys.argv[3])
        syn_flood(w, int(sys.argv[2]), 1_700_000_000_000_000, rng)
    elif len(sys.argv) >= 5 and sys.argv[1] == "rcpt":
        w = Writer(sys.argv[4])
        rcpt_flood(w, int(sys.argv[2]), int(sys.argv[3]), rng)
    elif len(sys.argv) >= 5 and sys.argv[1] == "inside":
        w = Writer(sys.argv[4])
        inside(w, int(sys.argv[2]), sys.argv[3], rng)
    else:
        sys.exit(__doc__)
    w.close()


if __name__ == "__main__":
    main()
