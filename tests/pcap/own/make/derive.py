#!/usr/bin/python3
"""Make the derived cases from attachments/input.pcap:  derive.py CASE OWNDIR

  vlan                    802.1Q tag 12 added to every frame (tcprewrite)
  qinq                    802.1ad tag 100 outside, 802.1Q tag 12 inside (tcprewrite twice)
  reordered-duplicated    data segments swapped, duplicated and re-cut (scapy); the
                          records must be the same as for attachments/input.pcap

expect.json is attachments/expect.json plus the VLAN ids (outer first) and notes.
Deterministic: the same input gives the same output.
"""

import json
import sys
sys.dont_write_bytecode = True
import os
import shutil
import subprocess
import sys
import tempfile


def load_expect(own):
    with open(os.path.join(own, "attachments", "expect.json")) as f:
        return json.load(f)


def write_expect(outdir, doc):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from gen import dump_json
    with open(os.path.join(outdir, "expect.json"), "w") as f:
        f.write(dump_json(doc))


def tcprewrite(src, dst, *args):
    subprocess.run(["tcprewrite", *args, "-i", src, "-o", dst], check=True)


def vlan(own, case):
    src = os.path.join(own, "attachments", "input.pcap")
    out = os.path.join(own, case)
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="smtpsniff-own-")
    try:
        inner = os.path.join(tmp, "inner.pcap")
        tcprewrite(src, inner, "--enet-vlan=add", "--enet-vlan-tag=12", "--enet-vlan-pri=0", "--enet-vlan-cfi=0")
        if case == "vlan":
            shutil.copy(inner, os.path.join(out, "input.pcap"))
            ids, how = [12], ("attachments/input.pcap with an 802.1Q tag (TPID 0x8100, VID 12) added to "
                              "every frame: tcprewrite --enet-vlan=add --enet-vlan-tag=12")
        else:
            outer = os.path.join(tmp, "outer.pcap")
            tcprewrite(inner, outer, "--enet-vlan=add", "--enet-vlan-tag=100", "--enet-vlan-pri=0",
                       "--enet-vlan-cfi=0", "--enet-vlan-proto=802.1ad")
            shutil.copy(outer, os.path.join(out, "input.pcap"))
            ids, how = [100, 12], ("attachments/input.pcap double tagged (QinQ): outer 802.1ad "
                                   "(TPID 0x88a8, VID 100), inner 802.1Q (TPID 0x8100, VID 12); "
                                   "tcprewrite --enet-vlan=add twice, the second with "
                                   "--enet-vlan-proto=802.1ad")
    finally:
        shutil.rmtree(tmp)
    doc = load_expect(own)
    for t in doc["transactions"]:
        t["vlan"] = ids
    doc["notes"] = how + ". vlan lists the VIDs outer first. Otherwise the same records as attachments/. " + doc["notes"]
    write_expect(out, doc)


def reordered(own, case):
    from scapy.all import rdpcap, PcapWriter, Ether, IP, TCP, Raw
    src = os.path.join(own, "attachments", "input.pcap")
    out = os.path.join(own, case)
    os.makedirs(out, exist_ok=True)
    pkts = list(rdpcap(src))
    times = [p.time for p in pkts]
    server_port = 25

    def payload_len(p):
        return len(p[TCP].payload) if TCP in p else 0

    c2s = [i for i, p in enumerate(pkts) if TCP in p and p[TCP].dport == server_port and payload_len(p) > 0]
    s2c = [i for i, p in enumerate(pkts) if TCP in p and p[TCP].sport == server_port and payload_len(p) > 0]
    big = [i for i in c2s if payload_len(pkts[i]) >= 1000]  # message data segments
    assert len(big) >= 30, len(big)
    order = list(range(len(pkts)))
    ops = []

    def pos(i):
        return order.index(i)

    # 1. swap two adjacent data segments (a, b) -> (b, a)
    a, b = big[3], big[4]
    pa, pb = pos(a), pos(b)
    order[pa], order[pb] = order[pb], order[pa]
    ops.append("frames %d and %d (client data) swapped" % (a + 1, b + 1))
    # 2. rotate three data segments (c, d, e) -> (e, c, d)
    c, d, e = big[10], big[11], big[12]
    pc, pd, pe = pos(c), pos(d), pos(e)
    order[pc], order[pd], order[pe] = e, c, d
    ops.append("frames %d, %d, %d (client data) sent as %d, %d, %d" % (c + 1, d + 1, e + 1, e + 1, c + 1, d + 1))
    # 3. exact duplicate right after the original
    f = big[6]
    order.insert(pos(f) + 1, ("dup", f))
    ops.append("frame %d (client data) duplicated right after itself" % (f + 1))
    # 4. exact duplicate three frames later (a late retransmission)
    g = big[16]
    order.insert(pos(g) + 4, ("dup", g))
    ops.append("frame %d (client data) duplicated three frames later" % (g + 1))
    # 5. a retransmission cut differently: the second half of h and the first half of
    #    the next segment, same bytes (overlaps both), right after the next segment
    h, h2 = big[20], big[21]
    assert pkts[h][TCP].seq + payload_len(pkts[h]) == pkts[h2][TCP].seq
    order.insert(pos(h2) + 1, ("recut", h, h2))
    ops.append("after frame %d, a retransmission covering the last 700 bytes of frame %d and the "
               "first 500 bytes of frame %d (same bytes, new cut)" % (h2 + 1, h + 1, h2 + 1))
    # 6. the last client data segment (the one with the end-of-data) duplicated
    last = c2s[-2] if payload_len(pkts[c2s[-1]]) == 6 else c2s[-1]  # [-1] may be QUIT
    order.insert(pos(last) + 1, ("dup", last))
    ops.append("frame %d (client, end of data) duplicated" % (last + 1))
    # 7. a server reply duplicated (the 354)
    r354 = [i for i in s2c if bytes(pkts[i][TCP].payload).startswith(b"354")][0]
    order.insert(pos(r354) + 1, ("dup", r354))
    ops.append("frame %d (server 354 reply) duplicated" % (r354 + 1))

    outp = []
    for o in order:
        if isinstance(o, int):
            outp.append((pkts[o].copy(), times[o]))
        elif o[0] == "dup":
            outp.append((pkts[o[1]].copy(), times[o[1]]))
        else:
            p1, p2 = pkts[o[1]], pkts[o[2]]
            data = bytes(p1[TCP].payload)[-700:] + bytes(p2[TCP].payload)[:500]
            np = p2.copy()
            np[TCP].remove_payload()
            np[TCP].seq = p1[TCP].seq + payload_len(p1) - 700
            np[TCP].add_payload(Raw(data))
            del np[IP].len
            del np[IP].chksum
            del np[TCP].chksum
            np = Ether(bytes(np))
            outp.append((np, times[o[2]]))
    w = PcapWriter(os.path.join(out, "input.pcap"), linktype=1, sync=True)
    t = None
    for p, pt in outp:
        t = pt if t is None or pt > t else t  # keep time non-decreasing
        p.time = t
        w.write(p)
    w.close()
    doc = load_expect(own)
    doc["same_records_as"] = "../attachments/input.pcap"
    doc["notes"] = ("Copy of attachments/input.pcap edited with scapy (frame numbers are those of "
                    "attachments/input.pcap): " + "; ".join(ops) + ". Timestamps kept non-decreasing "
                    "(a frame moved earlier keeps its time, the ones after it are raised to it). "
                    "Checksums are valid. The records must be exactly those of attachments/. "
                    + doc["notes"])
    write_expect(out, doc)


def main():
    case, own = sys.argv[1], sys.argv[2]
    if case in ("vlan", "qinq"):
        vlan(own, case)
    elif case == "reordered-duplicated":
        reordered(own, case)
    else:
        raise SystemExit("unknown derived case " + case)


if __name__ == "__main__":
    main()
