#!/usr/bin/python3
"""Seeds for fuzz_smtp_session: each TCP stream of the captures given,
as tshark's follow gives it (chunks in capture order, per direction),
written as "tag:u8 len:be16 bytes" records (tag 0 client, 1 server).

usage: pcap2chunks.py OUTDIR CAPTURE...
"""
import os
import struct
import subprocess
import sys

CAP = 64 * 1024


def streams(path):
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e",
                          "tcp.stream"], capture_output=True, text=True)
    return sorted({int(x) for x in out.stdout.split() if x.strip()})


def chunks(path, n):
    out = subprocess.run(["tshark", "-r", path, "-q", "-z",
                          f"follow,tcp,raw,{n}"], capture_output=True,
                         text=True).stdout
    started = False
    for line in out.splitlines():
        if line.startswith("Node 1:"):
            started = True
            continue
        if not started or line.startswith("===") or not line.strip():
            continue
        server = line.startswith("\t")
        try:
            data = bytes.fromhex(line.strip())
        except ValueError:
            continue
        yield (1 if server else 0), data


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for path in sys.argv[2:]:
        base = os.path.splitext(os.path.basename(path))[0]
        for n in streams(path):
            buf = bytearray()
            for tag, data in chunks(path, n):
                for i in range(0, len(data), 65535):
                    part = data[i:i + 65535]
                    if len(buf) + 3 + len(part) > CAP:
                        break
                    buf += struct.pack(">BH", tag, len(part)) + part
            if len(buf) > 0 and (b"MAIL" in buf or b"mail" in buf or
                                 b"EHLO" in buf or b"HELO" in buf):
                with open(os.path.join(outdir, f"{base}-{n}"), "wb") as f:
                    f.write(bytes(buf))


if __name__ == "__main__":
    main()
