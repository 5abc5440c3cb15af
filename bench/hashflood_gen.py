#!/usr/bin/python3
"""hashflood_gen.py MODE N OUT.pcap [SEED]

Writes N IPv6 TCP SYNs (Ethernet, valid checksums, 20 us apart) to one
server, 2001:db9::25 port 25, for the hash-flooding benchmark (bench/
hashflood.sh) and the key-independence test (tests/cli/hashkey.sh).

MODE random:  clients at random addresses in 2001:db8::/32, random ports.
MODE crafted: clients in 2001:db8:0::/48 chosen so that every flow key has
              the same 64-bit hash under the flow table of d9ac6d7 and
              before (constant seed, invertible mixer): the mixer is run
              backwards to pick address bytes 6-13 for each client port.
              Under a keyed hash they are as spread as random ones.
MODE mixed:   half of each, interleaved.
Standard library only (no scapy): it must run anywhere the tests run.
"""
import os
import random
import struct
import sys

# The Internet checksum, as every capture we make computes it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "store"))
from mkpcap import csum  # noqa: E402

M64 = (1 << 64) - 1
SEED = 0x9E3779B97F4A7C15
GOLDEN = 0x9E3779B97F4A7C15
C1 = 0xFF51AFD7ED558CCD
C2 = 0xC4CEB9FE1A85EC53
SERVER = bytes.fromhex("20010db9000000000000000000000025")


def mix64(h):
    h ^= h >> 33
    h = (h * C1) & M64
    h ^= h >> 33
    h = (h * C2) & M64
    h ^= h >> 33
    return h


def unmix64(h):
    h ^= h >> 33
    h = (h * pow(C2, -1, 1 << 64)) & M64
    h ^= h >> 33
    h = (h * pow(C1, -1, 1 << 64)) & M64
    h ^= h >> 33
    return h


def flow_key(client, cport, server, sport):
    """struct flow_key of d9ac6d7 on a little-endian host (2 VLAN slots)."""
    a, b = (client, cport), (server, sport)
    if (a[0], a[1]) > (b[0], b[1]):
        a, b = b, a
    return (struct.pack("<BBHHHH", 6, 0, 0, 0, a[1], b[1]) + a[0] + b[0])


def old_hash(key):
    h = SEED
    i = 0
    while i + 8 <= len(key):
        (w,) = struct.unpack_from("<Q", key, i)
        h = (mix64(h ^ w) + GOLDEN) & M64
        i += 8
    for c in key[i:]:
        h = ((h ^ c) * 0x100000001B3) & M64
    return mix64(h)


def crafted_client(cport, target=0x5EED5EED5EED5EED):
    """A client address in 2001:db8:0::/48 whose key hashes to one value."""
    client = bytearray(bytes.fromhex("20010db8000000000000000000000001"))
    key = flow_key(bytes(client), cport, SERVER, 25)
    h = SEED
    for i in (0, 8):
        (w,) = struct.unpack_from("<Q", key, i)
        h = (mix64(h ^ w) + GOLDEN) & M64
    w = unmix64((target - GOLDEN) & M64) ^ h
    # Key bytes 16-23 are the client's address bytes 6-13 (it sorts first).
    client[6:14] = struct.pack("<Q", w)
    return bytes(client)


def syn(client, cport, seq):
    tcp = struct.pack("!HHIIBBHHH", cport, 25, seq, 0, 5 << 4, 0x02,
                      65535, 0, 0)
    pseudo = client + SERVER + struct.pack("!IxxxB", len(tcp), 6)
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + client + SERVER
    eth = bytes.fromhex("020000000001020000000002") + b"\x86\xdd"
    return eth + ip6 + tcp


def main():
    if len(sys.argv) not in (4, 5) or \
            sys.argv[1] not in ("random", "crafted", "mixed"):
        sys.exit(__doc__)
    mode, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) == 5 else 1)
    if mode == "crafted" and n > 64512:
        sys.exit("crafted: at most 64512 (one per client port)")
    hashes = set()
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            kind = mode if mode != "mixed" else \
                ("crafted" if i % 2 else "random")
            if kind == "crafted":
                cport = 1024 + (i if mode == "crafted" else i // 2)
                client = crafted_client(cport)
                hashes.add(old_hash(flow_key(client, cport, SERVER, 25)))
            else:
                client = bytes.fromhex("20010db8") + rng.randbytes(12)
                cport = rng.randrange(1024, 65536)
            frame = syn(client, cport, rng.getrandbits(32))
            usec = 20 * i
            f.write(struct.pack("<IIII", 1700000000 + usec // 1000000,
                                usec % 1000000, len(frame), len(frame)))
            f.write(frame)
    if mode != "random" and len(hashes) != 1:
        sys.exit("crafted keys do not share one old hash")


if __name__ == "__main__":
    main()
