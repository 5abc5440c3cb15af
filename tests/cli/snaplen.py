#!/usr/bin/python3
"""Read every peer capture again at snaplens 64, 200 and 1500 (editcap -s).

What must hold, per connection (matched by endpoints and first time):
- snaplen 1500 on captures whose frames all fit gives identical output;
- at any snaplen, bytes + gap_bytes of each direction equals the full
  read's bytes + gap_bytes: a cut byte is a gap byte, never lost silently
  and never invented;
- nothing crashes, and the same connections are found (at 64, only the
  IPv4 ones: an IPv6 header leaves no room for TCP's).
Captures where the snaplen cut IP fragments are skipped (and say so): a cut
fragment cannot be reassembled, which the summary counts as frag_cut.

usage: snaplen.py SMTPSNIFF PEERS_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile


def flows(binary, path, info=None):
    out = subprocess.run([binary, "flows", path], capture_output=True,
                         check=False)
    if info is not None:
        m = re.search(r"fragments: .* cut (\d+)", out.stderr.decode())
        info["frag_cut"] = int(m.group(1)) if m else 0
    if out.returncode not in (0, 1):
        raise SystemExit(f"{path}: exit {out.returncode}")
    res = {}
    for line in out.stdout.decode().splitlines():
        o = json.loads(line)
        key = (o["client"]["ip"], o["client"]["port"], o["server"]["ip"],
               o["server"]["port"], o["ts_first"])
        res[key] = o
    return res


def main():
    binary, peers = sys.argv[1], sys.argv[2]
    failures = checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(os.listdir(peers)):
            if ".pcap" not in name:
                continue
            src = os.path.join(peers, name)
            full = flows(binary, src)
            for snap in (64, 200, 1500):
                cut = os.path.join(tmp, f"{snap}-{name}")
                subprocess.run(["editcap", "-s", str(snap), src, cut],
                               check=True, capture_output=True)
                info = {}
                got = flows(binary, cut, info)
                if info["frag_cut"]:
                    # A fragment cut by the snaplen cannot be reassembled;
                    # decode counts it (frag_cut) and its datagram is lost.
                    print(f"skip {name} snaplen {snap}: "
                          f"{info['frag_cut']} fragments cut")
                    continue
                if snap == 64:
                    # 64 bytes hold Ethernet + IPv4 + the fixed TCP header,
                    # not IPv6's 40-byte header as well: those are lost.
                    full4 = {k: v for k, v in full.items() if ":" not in k[0]}
                    got = {k: v for k, v in got.items() if ":" not in k[0]}
                else:
                    full4 = full
                if set(got) != set(full4):
                    print(f"FAIL {name} snaplen {snap}: connections differ")
                    failures += 1
                    continue
                for key, o in full4.items():
                    for d in ("c2s", "s2c"):
                        want = o[d]["bytes"] + o[d]["gap_bytes"]
                        have = got[key][d]["bytes"] + got[key][d]["gap_bytes"]
                        checked += 1
                        if want != have:
                            failures += 1
                            print(f"FAIL {name} snaplen {snap} {key} {d}: "
                                  f"bytes+gaps {have} != {want}")
    print(f"snaplen: {checked} directions checked, {failures} failures")
    sys.exit(1 if failures else 0)


main()
