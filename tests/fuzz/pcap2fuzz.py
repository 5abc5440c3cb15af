#!/usr/bin/python3
"""Turn pcap/pcapng captures into seed inputs for fuzz_reassembly.

Each frame becomes "link:u8 len:be16 dt_ms:u8 frame" (see fuzz_reassembly.c).
pcapng files are first converted with editcap. Each output file is capped so
the corpus stays small; the first packets of a capture are the interesting
ones for reassembly (handshake, first segments).

usage: pcap2fuzz.py OUTDIR CAPTURE...
"""
import os
import struct
import subprocess
import sys
import tempfile

LINKS = {1: 0, 101: 1, 12: 1, 0: 2, 108: 3, 113: 4, 276: 5, 228: 6, 229: 7}
CAP = 128 * 1024


def frames(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = data[:4]
    if magic == b'\x0a\x0d\x0d\x0a':
        with tempfile.NamedTemporaryFile(suffix='.pcap') as t:
            subprocess.run(['editcap', '-F', 'pcap', path, t.name], check=True)
            yield from frames(t.name)
        return
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        raise SystemExit(f'{path}: not a pcap file')
    nano = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
    link = struct.unpack(e + 'I', data[20:24])[0] & 0xffff
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(e + 'IIII', data[off:off + 16])
        off += 16
        us = frac // 1000 if nano else frac
        yield link, sec * 1000000 + us, data[off:off + incl]
        off += incl


def convert(path):
    out = bytearray()
    prev = None
    for link, t, frame in frames(path):
        if link not in LINKS:
            continue
        dt = 0 if prev is None else max(0, min(199, (t - prev) // 1000))
        prev = t
        frame = frame[:65535]
        rec = struct.pack('>BHB', LINKS[link], len(frame), dt) + frame
        if len(out) + len(rec) > CAP:
            break
        out += rec
    return bytes(out)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    for path in sys.argv[2:]:
        name = os.path.splitext(os.path.basename(path))[0]
        data = convert(path)
        if data:
            with open(os.path.join(outdir, name), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main()
