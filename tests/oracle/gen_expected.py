#!/usr/bin/python3
"""Build tests/oracle/expected.jsonl: tshark's view of every TCP stream.

For each capture in tests/pcap/peers (name order) this runs tshark twice:

  1. one `-T fields` pass over every TCP frame (endpoints, time, flags,
     sequence numbers, payload, tshark's own sequence analysis flags);
  2. one `-q -z follow,tcp,raw,N ...` pass with a -z argument per stream.

and writes one JSON line per (capture, tcp.stream):

  {"pcap", "stream", "a":{"ip","port"}, "b":{"ip","port"}, "vlan",
   "ts_first", "ts_last", "packets",
   "a2b":{"bytes","sha256","gap","gap_bytes"}, "b2a":{...},
   "tshark_gap", "notes"}

"a" is tshark's follow "Node 0" (the sender of the stream's first frame,
not necessarily the SYN sender), "b" is "Node 1".  bytes/sha256 are over
what tshark's follow printed for that direction, with its "[N bytes
missing in capture file]" markers removed.

A direction is marked "gap" when the oracle cannot be trusted for it:
  - tshark printed a missing-bytes marker in it;
  - tshark's follow printed fewer bytes than the sequence space the
    direction's segments cover (follow silently drops data it parked
    behind a hole that was never ACKed, and data that precedes the first
    segment it saw);
  - the first-wins model below finds holes in the sequence range covered;
  - a frame of that direction carrying payload was cut by the snap length.
tshark's tcp.analysis.lost_segment / ack_lost_segment flags are only noted:
they also fire when the capture merely reordered segments (an ACK seen
before the data it acknowledges), where nothing is missing.
"tshark_gap" is true when either direction has a gap.

As a check on the parsing of tshark's output, every direction is also
reassembled here from the per-frame payloads with a plain first-wins model
(start at SYN+1, else at the first data segment; bytes already placed are
kept; holes skipped, like follow's markers).  Where that model and tshark disagree the notes say so (and the
model's bytes/sha256 are recorded under "model"); the expectation stays
tshark's.

Run:  /usr/bin/python3 tests/oracle/gen_expected.py   (from anywhere)
Needs tshark on PATH (or $TSHARK).  Standard library only.
"""

import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PCAP_DIR = os.path.join(ROOT, "tests", "pcap", "peers")
OUT = os.path.join(HERE, "expected.jsonl")
VERSION_FILE = os.path.join(HERE, "TSHARK_VERSION")
TSHARK = os.environ.get("TSHARK", "tshark")

# Every preference that can change what follow prints is pinned, so the
# result does not depend on tshark's defaults or a user's profile (the
# profile directory is also replaced by an empty one, see run()).
TSHARK_PREFS = [
    "tcp.check_checksum:FALSE",       # offloaded / rewritten captures: keep bad-checksum segments
    "ip.check_checksum:FALSE",
    "tcp.analyze_sequence_numbers:TRUE",  # needed for lost_segment & co.
    "tcp.relative_sequence_numbers:TRUE",
    "tcp.desegment_tcp_streams:TRUE",     # follow is independent of it (checked: same hashes)
    "tcp.reassemble_out_of_order:TRUE",   # idem; set for stable dissection
    "tcp.try_heuristic_first:FALSE",
    "ip.defragment:TRUE",                 # IPv4 fragments reassembled before TCP
    "ipv6.defragment:TRUE",
]

FIELDS = [
    "frame.number", "frame.time_epoch", "frame.cap_len", "frame.len",
    "tcp.stream", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
    "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.len",
    "tcp.payload", "vlan.id",
    "tcp.analysis.lost_segment", "tcp.analysis.ack_lost_segment",
    "tcp.analysis.out_of_order", "tcp.analysis.retransmission",
    "tcp.analysis.reused_ports",
]

MISSING = re.compile(rb"\[(\d+) bytes missing in capture file\]\x00?")
SYN, FIN, RST = 0x02, 0x01, 0x04
SEQ_MOD = 1 << 32

def prefs_args():
    args = []
    for p in TSHARK_PREFS:
        args += ["-o", p]
    return args


def run(args):
    env = dict(os.environ)
    env["WIRESHARK_CONFIG_DIR"] = run.confdir
    env["LC_ALL"] = "C"
    res = subprocess.run([TSHARK] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    err = res.stderr.decode("utf-8", "replace")
    if "appears to be damaged or corrupt" in err or "cut short" in err:
        # tshark read the records before the damage, like libpcap does
        run.damaged = err.strip().splitlines()[-1]
    elif res.returncode != 0:
        sys.stderr.write(err)
        raise SystemExit("tshark failed: %s" % " ".join(args))
    return res.stdout.decode("ascii", "replace")


def iso(epoch):
    """'1254722767.492000000' -> '2009-10-05T06:06:07.492000Z' (truncated to us)."""
    sec, _, frac = epoch.partition(".")
    frac = (frac + "000000000")[:9]
    t = datetime.datetime.fromtimestamp(int(sec), datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "." + frac[:6] + "Z"


def last(v):
    return v.split(",")[-1] if v else ""


def endpoint(s):
    """'10.0.0.1:25' or '[::1]:25' -> (ip, port)."""
    m = re.match(r"^\[(.*)\]:(\d+)$", s) or re.match(r"^(.*):(\d+)$", s)
    return m.group(1), int(m.group(2))


def read_frames(path):
    out = run(["-n", "-r", path] + prefs_args() +
              ["-Y", "tcp && !icmp && !icmpv6", "-T", "fields",
               "-E", "separator=/t", "-E", "occurrence=a",
               "-E", "aggregator=,"] + sum((["-e", f] for f in FIELDS), []))
    frames = []
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        if not v.get("tcp.stream"):
            continue
        src = last(v["ip.src"]) or last(v["ipv6.src"])
        dst = last(v["ip.dst"]) or last(v["ipv6.dst"])
        # addresses in tshark's canonical text form are compared as-is
        frames.append({
            "no": int(v["frame.number"]),
            "time": v["frame.time_epoch"],
            "truncated": int(v["frame.cap_len"]) < int(v["frame.len"]),
            "stream": int(last(v["tcp.stream"])),
            "src": (src, int(last(v["tcp.srcport"]))),
            "dst": (dst, int(last(v["tcp.dstport"]))),
            "flags": int(last(v["tcp.flags"]), 16),
            "seq": int(last(v["tcp.seq_raw"])),
            "len": int(last(v["tcp.len"]) or 0),
            "payload": bytes.fromhex(last(v["tcp.payload"])),
            "vlan": [int(x) for x in v["vlan.id"].split(",") if x],
            "lost": bool(v["tcp.analysis.lost_segment"]),
            "ack_lost": bool(v["tcp.analysis.ack_lost_segment"]),
            "ooo": bool(v["tcp.analysis.out_of_order"]),
            "rexmit": bool(v["tcp.analysis.retransmission"]),
            "reused": bool(v["tcp.analysis.reused_ports"]),
        })
    return frames


def read_follow(path, streams):
    """-> {stream: {"nodes": [(ip,port),(ip,port)], "data": [[chunks],[chunks]]}}"""
    args = ["-n", "-r", path] + prefs_args() + ["-q"]
    for s in streams:
        args += ["-z", "follow,tcp,raw,%d" % s]
    res = {}
    cur = None
    for line in run(args).splitlines():
        if line.startswith("Filter: tcp.stream eq "):
            cur = {"nodes": [None, None], "data": [[], []]}
            res[int(line.split()[-1])] = cur
        elif cur is None or line.startswith("=") or line.startswith("Follow:"):
            continue
        elif line.startswith("Node 0: ") or line.startswith("Node 1: "):
            cur["nodes"][int(line[5])] = endpoint(line[8:].strip())
        elif line.strip():
            side = 1 if line.startswith("\t") else 0
            cur["data"][side].append(bytes.fromhex(line.strip()))
    return res


def model(frames, sender):
    """First-wins reassembly of one direction from frame payloads.

    -> (bytes, holes, before): every byte placed, in sequence order, holes
    left out (the same shape as tshark's follow with its markers removed);
    the number of bytes missing between the start and the last byte; the
    number of payload bytes lying before the start (dropped)."""
    base = None
    for f in frames:
        if f["src"] == sender and f["flags"] & SYN:
            base = (f["seq"] + 1) % SEQ_MOD
            break
    segs = [f for f in frames if f["src"] == sender and f["payload"]
            and not f["flags"] & RST]
    if base is None:
        if not segs:
            return b"", 0, 0
        base = segs[0]["seq"]
    buf = {}
    before = 0
    for f in segs:
        off = (f["seq"] - base) % SEQ_MOD
        if f["flags"] & SYN:
            off = (off + 1) % SEQ_MOD          # data in a SYN follows the ISN
        if off >= SEQ_MOD // 2:                 # before the start
            off -= SEQ_MOD
        for i, b in enumerate(f["payload"]):
            if off + i < 0:
                before += 1
            elif off + i not in buf:
                buf[off + i] = b
    end = max(buf) + 1 if buf else 0
    data = bytes(buf[i] for i in sorted(buf))
    return data, end - len(buf), before


def strip_markers(chunks):
    data = bytearray()
    missing = 0
    for c in chunks:
        m = MISSING.fullmatch(c)
        if m:
            missing += int(m.group(1))
        else:
            data += c
    return bytes(data), missing


def stream_record(name, sid, frames, follow):
    nodes = follow["nodes"]
    first = frames[0]
    if nodes[0] is None:
        nodes = [first["src"], first["dst"]]
    vlans = sorted({tuple(f["vlan"]) for f in frames})
    notes = []
    if not any(f["flags"] & SYN for f in frames):
        notes.append("no SYN seen")
    if any(f["reused"] for f in frames):
        notes.append("tshark: ports reused")
    if len(vlans) > 1:
        notes.append("several VLAN tag stacks: %s" % vlans)
    rec = {"pcap": name, "stream": sid,
           "a": {"ip": nodes[0][0], "port": nodes[0][1]},
           "b": {"ip": nodes[1][0], "port": nodes[1][1]},
           "vlan": list(vlans[0]) if vlans else [],
           "ts_first": iso(first["time"]), "ts_last": iso(frames[-1]["time"]),
           "packets": len(frames)}
    gap_any = False
    for side, key in ((0, "a2b"), (1, "b2a")):
        sender, other = nodes[side], nodes[1 - side]
        mine = [f for f in frames if f["src"] == sender]
        data, missing = strip_markers(follow["data"][side])
        why = []
        if missing:
            why.append("tshark marker: %d bytes missing" % missing)
        mdata, holes, before = model(frames, sender)
        if holes:
            why.append("model: %d bytes of holes" % holes)
        if any(f["truncated"] and f["len"] for f in mine):
            why.append("payload cut by snaplen")
        # tshark's loss heuristics fire on mere reordering in the capture
        # too: they are notes, not proof of a gap
        if any(f["lost"] for f in mine):
            notes.append("%s: tcp.analysis.lost_segment" % key)
        if any(f["ack_lost"] for f in frames if f["src"] == other):
            notes.append("%s: tcp.analysis.ack_lost_segment (on peer's frames)" % key)
        if len(data) < len(mdata):
            why.append("follow printed %d of %d bytes" % (len(data), len(mdata)))
        d = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
             "gap": bool(why), "gap_bytes": missing}
        n_ooo = sum(f["ooo"] for f in mine)
        n_rx = sum(f["rexmit"] for f in mine)
        if n_ooo:
            notes.append("%s: %d out-of-order" % (key, n_ooo))
        if n_rx:
            notes.append("%s: %d retransmission(s)" % (key, n_rx))
        if before:
            notes.append("%s: %d payload bytes before stream start" % (key, before))
        if why:
            notes.append("%s gap: %s" % (key, ", ".join(why)))
        if mdata != data:
            d["model"] = {"bytes": len(mdata),
                          "sha256": hashlib.sha256(mdata).hexdigest()}
            notes.append("%s: first-wins model differs from tshark (%d vs %d bytes%s)"
                         % (key, len(mdata), len(data),
                            ", same length" if len(mdata) == len(data) else ""))
        rec[key] = d
        gap_any = gap_any or d["gap"]
    rec["tshark_gap"] = gap_any
    rec["notes"] = "; ".join(notes)
    return rec


def captures():
    return sorted(f for f in os.listdir(PCAP_DIR)
                  if f.endswith(".pcap") or f.endswith(".pcapng"))


def main():
    with tempfile.TemporaryDirectory() as confdir:
        run.confdir = confdir
        version = run(["--version"]).splitlines()[0].strip()
        lines = []
        for name in captures():
            path = os.path.join(PCAP_DIR, name)
            run.damaged = None
            frames = read_frames(path)
            damaged = run.damaged
            by_stream = {}
            for f in frames:
                by_stream.setdefault(f["stream"], []).append(f)
            if not by_stream:
                continue
            follow = read_follow(path, sorted(by_stream))
            for sid in sorted(by_stream):
                rec = stream_record(name, sid, by_stream[sid],
                                    follow.get(sid, {"nodes": [None, None],
                                                     "data": [[], []]}))
                if damaged:
                    rec["notes"] = "; ".join(
                        x for x in (rec["notes"], "capture file damaged, tshark stops: "
                                    + damaged) if x)
                lines.append(json.dumps(rec, sort_keys=False, separators=(",", ":")))
            sys.stderr.write("%-60s %3d stream(s)\n" % (name, len(by_stream)))
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(VERSION_FILE, "w") as f:
        f.write("# tshark that produced expected.jsonl (gen_expected.py)\n")
        f.write(version + "\n")
        f.write("# preferences: " + " ".join(TSHARK_PREFS) + "\n")
    sys.stderr.write("%d streams -> %s\n" % (len(lines), OUT))


if __name__ == "__main__":
    main()
