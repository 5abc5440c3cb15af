#!/usr/bin/python3
"""Compare `smtpsniff flows` with tshark's reassembly (expected.jsonl).

usage: check.py [-v] [--pcap NAME]... SMTPSNIFF_BINARY

For every capture named in expected.jsonl, runs
    SMTPSNIFF flows tests/pcap/peers/<capture>
and matches each output line (one per TCP connection) to a tshark stream
by its two endpoints (either orientation) and ts_first (equal, or within
1 microsecond: tshark's times are truncated to the microsecond by
gen_expected.py, ours may be rounded).  Then, for each direction of each
matched stream that tshark saw without a gap (the per-direction "gap"
flag of expected.jsonl; "tshark_gap" is their OR), our bytes and sha256
must equal tshark's.

Counts: one per checked stream-direction pair (pass or fail), plus one
failure for each tshark stream that no flows line matches, each flows line
that matches no tshark stream, and each capture the binary failed on.
Directions with a tshark gap are reported as skipped, not counted.

EXCEPTIONS (next to this script) lists known, explained disagreements,
one per line:   <pcap> <stream> <reason...>
<stream> is a tshark stream number, or flow:<ts_first> for a flows line
of ours that matches no tshark stream.  '#' starts a comment.  Excepted
items are reported (and not counted as failures); an exception that no
longer fires is reported too, so it can be removed.

The last line is "N passed, N failed"; exit status 1 on any failure.
"""

import ipaddress
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PCAP_DIR = os.path.join(ROOT, "tests", "pcap", "peers")
EXPECTED = os.path.join(HERE, "expected.jsonl")
EXCEPTIONS = os.path.join(HERE, "EXCEPTIONS")


def usec(iso):
    """'2009-10-05T06:06:07.492000Z' -> integer microseconds since epoch."""
    import datetime
    head, _, frac = iso.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000000 + int((frac + "000000")[:6])


def ep(d):
    return (ipaddress.ip_address(d["ip"]), int(d["port"]))


def epstr(e):
    ip, port = e
    return ("[%s]:%d" if ip.version == 6 else "%s:%d") % (ip, port)


def load_exceptions():
    exc = {}
    if not os.path.exists(EXCEPTIONS):
        return exc
    with open(EXCEPTIONS) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 2)
            if len(parts) < 3:
                sys.exit("%s:%d: need '<pcap> <stream> <reason>'" % (EXCEPTIONS, n))
            exc[(parts[0], parts[1])] = parts[2]
    return exc


def run_flows(binary, path):
    res = subprocess.run([binary, "flows", path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    flows, bad = [], []
    for line in res.stdout.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        try:
            flows.append(json.loads(line))
        except ValueError:
            bad.append(line)
    return res.returncode, res.stderr.decode("utf-8", "replace").strip(), flows, bad


def main(argv):
    verbose = False
    only = []
    args = []
    it = iter(argv)
    for a in it:
        if a == "-v":
            verbose = True
        elif a == "--pcap":
            only.append(next(it))
        else:
            args.append(a)
    if len(args) != 1:
        sys.exit(__doc__)
    binary = os.path.abspath(args[0])

    expected = {}
    with open(EXPECTED) as f:
        for line in f:
            r = json.loads(line)
            expected.setdefault(r["pcap"], []).append(r)
    exc = load_exceptions()
    used_exc = set()
    passed = failed = skipped = excepted = 0

    for pcap in sorted(expected):
        if only and pcap not in only:
            continue
        streams = expected[pcap]
        damaged = any("capture file damaged" in s["notes"] for s in streams)
        rc, err, flows, badlines = run_flows(binary, os.path.join(PCAP_DIR, pcap))
        lines = []            # report lines for this capture
        p = fl = sk = ex = 0

        def fail(key, msg):
            nonlocal fl, ex
            if key in exc:
                used_exc.add(key)
                ex += 1
                lines.append("  EXCEPTED %s  [%s]" % (msg, exc[key]))
            else:
                fl += 1
                lines.append("  FAIL %s" % msg)

        if rc != 0 and not damaged:
            fail((pcap, "run"), "smtpsniff exited %d: %s" % (rc, " ".join(err.split())[:300]))
        elif rc != 0 and verbose:
            lines.append("  note: exit %d on damaged capture: %s" % (rc, " ".join(err.split())[:200]))
        for b in badlines:
            fail((pcap, "run"), "not JSON: %r" % b[:200])

        # match flows lines to tshark streams
        unmatched_flows = []
        matched = {}          # stream number -> flow
        for fw in flows:
            try:
                c, s = ep(fw["client"]), ep(fw["server"])
                t = usec(fw["ts_first"])
            except (KeyError, ValueError) as e:
                fail((pcap, "run"), "bad flows line (%s): %s" % (e, json.dumps(fw)[:200]))
                continue
            cands = [st for st in streams
                     if st["stream"] not in matched
                     and {ep(st["a"]), ep(st["b"])} == {c, s}
                     and abs(usec(st["ts_first"]) - t) <= 1]
            if cands:
                matched[cands[0]["stream"]] = fw
            else:
                unmatched_flows.append(fw)

        for st in streams:
            sid = st["stream"]
            key = (pcap, str(sid))
            a, b = ep(st["a"]), ep(st["b"])
            name = "stream %d %s <-> %s" % (sid, epstr(a), epstr(b))
            fw = matched.get(sid)
            if fw is None:
                fail(key, "%s (ts_first %s): no flows line%s"
                     % (name, st["ts_first"],
                        " [%s]" % st["notes"] if st["notes"] else ""))
                continue
            client = ep(fw["client"])
            if client == a:
                pairs = (("a2b", "c2s"), ("b2a", "s2c"))
            else:
                pairs = (("a2b", "s2c"), ("b2a", "c2s"))
            for tdir, odir in pairs:
                exp, ours = st[tdir], fw.get(odir, {})
                label = "%s %s(ours %s)" % (name, tdir, odir)
                if exp["gap"]:
                    sk += 1
                    if verbose:
                        same = ours.get("sha256") == exp["sha256"]
                        if not same and exp.get("model"):
                            same = "model" if ours.get("sha256") == exp["model"]["sha256"] else False
                        lines.append("  skip %s: tshark gap; ours bytes=%s gaps=%s gap_bytes=%s, "
                                     "tshark bytes=%s gap_bytes=%s; content %s"
                                     % (label, ours.get("bytes"), ours.get("gaps"),
                                        ours.get("gap_bytes"), exp["bytes"], exp["gap_bytes"],
                                        {True: "equal", False: "differs",
                                         "model": "equals the first-wins model"}[same]))
                    continue
                if ours.get("bytes") == exp["bytes"] and ours.get("sha256") == exp["sha256"]:
                    p += 1
                    if ours.get("gaps") and verbose:
                        lines.append("  note %s: equal bytes but we report gaps=%s"
                                     % (label, ours.get("gaps")))
                    continue
                model = exp.get("model")
                hint = ""
                if model and ours.get("sha256") == model["sha256"]:
                    hint = "; ours equals the first-wins model"
                fail(key, "%s: bytes ours=%s tshark=%s, sha256 %s; ours gaps=%s gap_bytes=%s%s%s"
                     % (label, ours.get("bytes"), exp["bytes"],
                        "equal" if ours.get("sha256") == exp["sha256"] else "differs",
                        ours.get("gaps"), ours.get("gap_bytes"), hint,
                        " [%s]" % st["notes"] if st["notes"] else ""))
            if verbose and usec(fw.get("ts_last", st["ts_last"])) != usec(st["ts_last"]):
                lines.append("  info %s: ts_last ours=%s tshark=%s"
                             % (name, fw.get("ts_last"), st["ts_last"]))
            if verbose and fw.get("packets") != st["packets"]:
                lines.append("  info %s: packets ours=%s tshark=%s"
                             % (name, fw.get("packets"), st["packets"]))

        for fw in unmatched_flows:
            key = (pcap, "flow:" + fw.get("ts_first", "?"))
            fail(key, "flows line matches no tshark stream: %s <-> %s ts_first %s state %s "
                 "c2s %s s2c %s" % (epstr(ep(fw["client"])), epstr(ep(fw["server"])),
                                    fw.get("ts_first"), fw.get("state"),
                                    fw.get("c2s", {}).get("bytes"),
                                    fw.get("s2c", {}).get("bytes")))

        passed += p
        failed += fl
        skipped += sk
        excepted += ex
        status = "ok" if fl == 0 else "FAILED"
        print("%-62s %-6s %2d stream(s) %2d flow(s): %d passed, %d failed, %d skipped (gap)%s"
              % (pcap, status, len(streams), len(flows), p, fl, sk,
                 ", %d excepted" % ex if ex else ""))
        for l in lines:
            print(l)

    for key in sorted(set(exc) - used_exc):
        if not only or key[0] in only:
            print("note: EXCEPTIONS entry not needed any more: %s %s" % key)
    print("%d skipped because tshark saw a gap, %d excepted" % (skipped, excepted))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
