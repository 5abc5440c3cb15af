#!/usr/bin/python3
"""Evaluate suricata-verify's eve checks against our `-o eve:` output.

usage: eve_check.py [-v] [--test NAME]... SMTPSNIFF_BINARY
       eve_check.py --import PEERS_DIR     (re-copy test.yaml, rewrite INDEX)

suricata/INDEX (next to this script) lists the suricata-verify tests
(OISF/suricata-verify @ 10a45e4bad6d) and the copy of each test's capture
in tests/pcap/peers/; suricata/<test>/test.yaml is the test's own file.
Tests none of whose checks concern our output are INDEX `skip` lines.

For each test we run
    SMTPSNIFF read -q --any-port -o eve:OUT CAPTURE
and evaluate every `filter` check of test.yaml the way suricata-verify's
run.py does: count the eve records whose values equal every `match` key
(dotted keys, [i] indexes; `has-key` / `not-has-key`, a key or a list),
and compare with `count`.  Version gates (`requires: min-version,
lt-version, version`, on the test or on a check) are resolved for the
newest Suricata 8.x: 8.x gates pass, lt-version 8.x and 9+ gates do not.

A check is ours when its event_type is smtp or fileinfo, or (without an
event_type) when it asserts smtp./email./fileinfo. keys.  Other checks
(alert, anomaly, flow, frame, drop, packet, stats, shell, suricata.log)
are listed as skipped, with the reason, and not counted.  Keys we never
produce:
  - pcap_cnt, pkt_src, flow_id (packet/flow bookkeeping): left out of the
    match, the rest is evaluated ("ignored: ..." in the output);
  - email.url, email.body_md5, email.subject_md5 (body-derived: the body
    is dropped): left out too when other smtp/email/fileinfo keys remain;
    a check with nothing else left, or a count: 0 check with such a key,
    is "not applicable" (or "explained" when disagreements.txt lists it).

../disagreements.txt lists explained disagreements (peer `suricata`):
    suricata <test> <check, 1-based> <key | count | *> <reason...>
A failing check is explained when every failing key is listed.

The last line is "N passed, N failed"; exit status 1 on any failure.
"""

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import sys

import yaml

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
from common import HERE, PCAP_DIR, Disagreements, run_smtpsniff, short

SDIR = os.path.join(HERE, "suricata")
INDEX = os.path.join(SDIR, "INDEX")
README = os.path.join(PCAP_DIR, "README.md")

# "The newest Suricata 8.x": every 8.* minimum passes, lt 8.* fails.
VERSION = (8, 999, 999)
FEATURES = set()            # no Lua, no optional build features

OUR_EVENTS = {"smtp", "fileinfo"}
OUR_TOPS = {"smtp", "email", "fileinfo"}
COMMON = {"event_type", "src_ip", "src_port", "dest_ip", "dest_port",
          "proto", "app_proto", "tx_id", "timestamp"}
META_UNPRODUCED = {"pcap_cnt", "pkt_src", "flow_id"}
CONTENT_UNPRODUCED = ("email.url", "email.body_md5", "email.subject_md5")


# ---------------------------------------------------------------- versions

def parse_version(v):
    parts = re.findall(r"\d+", str(v))[:3]
    return tuple(int(p) for p in parts) if parts else None


def vcmp(a, b):
    """Compare a with b on b's precision (missing parts of b are 0)."""
    b = b + (0,) * (3 - len(b))
    return (a > b) - (a < b)


def requires_ok(req):
    """None if satisfied, else the reason."""
    if not req:
        return None
    for k, v in req.items():
        if k == "min-version":
            if vcmp(VERSION, parse_version(v)) < 0:
                return "requires Suricata >= %s" % v
        elif k == "lt-version":
            if vcmp(VERSION, parse_version(v)) >= 0:
                return "requires Suricata < %s (older branch)" % v
        elif k == "version":
            want = parse_version(v)
            if VERSION[:len(want)] != want:
                return "only for Suricata %s" % v
        elif k == "features":
            miss = [f for f in v if f not in FEATURES]
            if miss:
                return "requires build feature(s) %s" % ", ".join(miss)
        elif k == "pcap":
            pass
        else:
            return "unknown requirement %s" % k
    return None


# ------------------------------------------------------------ classification

def top(key):
    return re.split(r"[.\[]", key, 1)[0]


def key_list(v):
    return v if isinstance(v, list) else [v]


def is_content_unproduced(key):
    return any(key == c or key.startswith(c + "[") or key.startswith(c + ".")
               for c in CONTENT_UNPRODUCED)


def classify(check):
    """-> ('skip', reason) or ('ours', filter dict)."""
    if "filter" not in check:
        kind = next(iter(check), "?")
        if kind == "stats":
            return ("skip", "stats check (%s): Suricata engine counters, "
                    "not produced" % ", ".join(sorted(check["stats"])))
        if kind == "shell":
            return ("skip", "shell check on Suricata's output files: %s"
                    % short(check["shell"].get("args"), 100))
        return ("skip", "%s check: not produced" % kind)
    f = check["filter"]
    why = requires_ok(f.get("requires"))
    if why:
        return ("skip", "version-gated: " + why)
    if f.get("filename", "eve.json") != "eve.json":
        return ("skip", "checks %s, not eve" % f["filename"])
    match = f.get("match", {})
    et = match.get("event_type")
    if et is not None and et not in OUR_EVENTS:
        return ("skip", "event_type %s: not produced" % et)
    keys = []
    for k, v in match.items():
        if k in ("has-key", "not-has-key"):
            keys.extend(key_list(v))
        else:
            keys.append(k)
    foreign = sorted({top(k) for k in keys}
                     - OUR_TOPS - COMMON - META_UNPRODUCED)
    if foreign:
        return ("skip", "asserts %s keys: not produced" % ", ".join(foreign))
    if et is None and not any(top(k) in OUR_TOPS for k in keys):
        return ("skip", "no smtp/email/fileinfo key")
    return ("ours", f)


# -------------------------------------------------------------- evaluation

def find_value(name, obj):
    """suricata-verify run.py's find_value."""
    for part in name.split("."):
        m = re.match(r"^(.*)\[(\d+)\]$", part)
        index = None
        if m:
            part, index = m.group(1), int(m.group(2))
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
        if index is not None:
            try:
                obj = obj[index]
            except (IndexError, KeyError, TypeError):
                return None
    return obj


def key_ok(key, expected, ev):
    """(ok, ours) for one match entry."""
    if key == "has-key":
        vals = [find_value(k, ev) for k in key_list(expected)]
        return all(v is not None for v in vals), vals
    if key == "not-has-key":
        vals = [find_value(k, ev) for k in key_list(expected)]
        return all(v is None for v in vals), vals
    for op, fn in (("__startswith", lambda a, b: a.startswith(b)),
                   ("__endswith", lambda a, b: a.endswith(b))):
        if key.endswith(op):
            v = find_value(key[:-len(op)], ev)
            return isinstance(v, str) and fn(v, expected), v
    v = find_value(key, ev)
    return v == expected, v


def prepare(f):
    """Strip keys we never produce.  -> (match, notes, na_reason)."""
    match = dict(f.get("match", {}))
    count = f.get("count")
    notes, dropped_content = [], []
    for k in list(match):
        if k in ("has-key", "not-has-key"):
            ks = key_list(match[k])
            bad = [x for x in ks if top(x) in META_UNPRODUCED
                   or is_content_unproduced(x)]
            if bad:
                if count == 0:
                    return None, None, "count: 0 with %s %s (not produced)" % (
                        k, ", ".join(bad))
                rest = [x for x in ks if x not in bad]
                notes.append("%s %s not checked (not produced)" %
                             (k, ", ".join(bad)))
                dropped_content += bad
                if rest:
                    match[k] = rest
                else:
                    del match[k]
            continue
        if top(k) in META_UNPRODUCED or is_content_unproduced(k):
            if count == 0:
                return None, None, "count: 0 with %s (not produced)" % k
            if top(k) in META_UNPRODUCED:
                notes.append("ignored %s: %s" % (k, short(match[k], 40)))
            else:
                notes.append("%s not checked (not produced)" % k)
                dropped_content.append(k)
            del match[k]
    if dropped_content:
        left = [k for k in match if k not in ("has-key", "not-has-key")
                and top(k) in OUR_TOPS] + [
                    x for k in ("has-key", "not-has-key") if k in match
                    for x in key_list(match[k]) if top(x) in OUR_TOPS]
        if not left:
            return None, None, "asserts only %s (not produced: the body is " \
                "dropped)" % ", ".join(dropped_content)
    return match, notes, None


def evaluate(match, count, events):
    """-> (ok, got, diagnostics lines, failing keys)."""
    got = 0
    for ev in events:
        if all(key_ok(k, v, ev)[0] for k, v in match.items()):
            got += 1
    if got == count:
        return True, got, [], []
    diag, failing = [], set()
    et = match.get("event_type")
    cands = [ev for ev in events
             if et is None or ev.get("event_type") == et]
    if got > count:
        failing.add("count")
        diag.append("expected %d matching records, ours has %d" % (count, got))
    else:
        diag.append("expected %d matching records, ours has %d" % (count, got))
        scored = []
        for ev in cands:
            bad = [(k, v, key_ok(k, v, ev)[1]) for k, v in match.items()
                   if not key_ok(k, v, ev)[0]]
            scored.append((len(bad), ev, bad))
        scored.sort(key=lambda s: s[0])
        if not scored:
            failing.add("count")
            diag.append("ours has no %s record" % (et or "matching"))
        else:
            best = scored[0][0]
            for n, ev, bad in scored:
                if n != best or n == 0:
                    continue
                diag.append("closest: our %s tx_id %s differs on:" % (
                    ev.get("event_type"), ev.get("tx_id")))
                for k, v, ours in bad:
                    failing.add(k)
                    diag.append("    %s: expected %s ours %s" % (
                        k, short(v, 120), short(ours, 120)))
            if not failing:
                failing.add("count")
    return False, got, diag, sorted(failing)


# ------------------------------------------------------------------ import

def readme_map():
    m = {}
    with open(README, encoding="utf-8") as f:
        for line in f:
            cells = [c.strip().strip("`") for c in line.split("|")]
            if len(cells) > 3 and cells[2].startswith("peers/"):
                m[cells[2].split(" ")[0]] = cells[1]
    return m


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def do_import(peers):
    base = os.path.join(peers, "suricata-verify")
    rmap = readme_map()
    by_hash = None
    uses, skips = [], []
    for y in sorted(glob.glob(os.path.join(base, "**", "test.yaml"),
                              recursive=True)):
        tdir = os.path.dirname(y)
        test = os.path.relpath(tdir, base)
        with open(y, encoding="utf-8") as f:
            cfg = yaml.safe_load(f) or {}
        why = requires_ok(cfg.get("requires"))
        if why:
            skips.append((test, "test " + why))
            continue
        checks = cfg.get("checks") or []
        blocked = [c["stats"]["firewall.blocked"] for c in checks
                   if isinstance(c.get("stats"), dict)
                   and c["stats"].get("firewall.blocked")]
        if blocked and "--simulate-ips" in " ".join(
                key_list(cfg.get("args") or [])):
            skips.append((test, "IPS simulation drops the flow (stats "
                          "firewall.blocked %d): its smtp expectations are "
                          "those of a blocked session, a passive sensor sees "
                          "it all" % blocked[0]))
            continue
        kinds = [classify(c) for c in checks]
        if not any(k[0] == "ours" for k in kinds):
            reasons = sorted({k[1].split(":")[0] for k in kinds})
            skips.append((test, "no smtp/fileinfo check: " + "; ".join(reasons)))
            continue
        if cfg.get("pcap"):
            pcap = os.path.normpath(os.path.join(tdir, cfg["pcap"]))
        else:
            found = sorted(glob.glob(os.path.join(tdir, "*.pcap")) +
                           glob.glob(os.path.join(tdir, "*.pcapng")))
            if len(found) != 1:
                skips.append((test, "cannot tell its pcap: %s" % found))
                continue
            pcap = found[0]
        rel = "peers/" + os.path.relpath(pcap, peers)
        local = rmap.get(rel)
        if local is None:
            if by_hash is None:
                by_hash = {sha256(p): os.path.basename(p) for p in
                           glob.glob(os.path.join(PCAP_DIR, "*.pcap*"))}
            local = by_hash.get(sha256(pcap))
        if local is None:
            skips.append((test, "no copy of %s in tests/pcap/peers" % rel))
            continue
        dst = os.path.join(SDIR, test, "test.yaml")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(y, dst)
        uses.append((test, local, rel))
    with open(INDEX, "w", encoding="utf-8") as f:
        f.write("# suricata-verify tests used by eve_check.py (written by\n"
                "# eve_check.py --import; OISF/suricata-verify @ "
                "10a45e4bad6d29d0f1239d93119ea24e1bbdab19).\n"
                "#   use  <test> <capture in tests/pcap/peers/>  "
                "# <the test's pcap>\n"
                "#   skip <test> <reason>\n")
        for t, l, r in uses:
            f.write("use %-60s %-60s # %s\n" % (t, l, r))
        for t, r in skips:
            f.write("skip %-60s %s\n" % (t, r))
    print("%d tests used, %d skipped; wrote %s" % (len(uses), len(skips),
                                                  os.path.relpath(INDEX)))


def read_index():
    uses, skips = [], []
    with open(INDEX, encoding="utf-8") as f:
        for line in f:
            line = line.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            p = line.split(None, 2)
            if p[0] == "use":
                uses.append((p[1], p[2].split()[0]))
            elif p[0] == "skip":
                skips.append((p[1], p[2] if len(p) > 2 else ""))
    return uses, skips


# -------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("binary", nargs="?")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--test", action="append", default=[])
    ap.add_argument("--import", dest="peers", metavar="PEERS_DIR")
    a = ap.parse_args()
    if a.peers:
        do_import(a.peers)
        return 0
    if not a.binary:
        ap.error("SMTPSNIFF_BINARY required")

    uses, skips = read_index()
    dis = Disagreements("suricata")
    passed = failed = explained = na = skipped = 0
    tests_run = set()
    for t, r in skips:
        if not a.test or t in a.test:
            print("skip test %s: %s" % (t, r))
    for test, capture in uses:
        if a.test and test not in a.test:
            continue
        tests_run.add(test)
        print("== %s (%s)" % (test, capture))
        with open(os.path.join(SDIR, test, "test.yaml"), encoding="utf-8") as f:
            cfg = yaml.safe_load(f) or {}
        lines, err = run_smtpsniff(a.binary, os.path.join(PCAP_DIR, capture),
                                   "eve")
        if err:
            print("  FAIL run: %s" % err)
            failed += 1
            continue
        events = []
        for n, l in enumerate(lines, 1):
            try:
                events.append(json.loads(l))
            except ValueError as e:
                print("  FAIL our eve line %d is not JSON: %s" % (n, e))
                failed += 1
        if a.v:
            for ev in events:
                print("  ours: %s" % short(ev, 400))
        for idx, check in enumerate(cfg.get("checks") or [], 1):
            kind, f = classify(check)
            if kind == "skip":
                skipped += 1
                print("  check %d skipped: %s" % (idx, f))
                continue
            match, notes, na_why = prepare(f)
            desc = short(f.get("match"), 200)
            if na_why:
                why = dis.explain(test, idx, "*")
                if why:
                    explained += 1
                    print("  check %d explained: %s  [%s]" % (idx, na_why, why))
                else:
                    na += 1
                    print("  check %d not applicable: %s" % (idx, na_why))
                continue
            count = f.get("count")
            ok, got, diag, failing = evaluate(match, count, events)
            note = ("  (%s)" % "; ".join(notes)) if notes else ""
            if ok:
                passed += 1
                print("  check %d ok: count %d %s%s" % (idx, count, desc, note))
                continue
            reasons = [dis.explain(test, idx, k) for k in failing]
            if failing and all(reasons):
                explained += 1
                print("  check %d explained: count %d %s%s  [%s]" % (
                    idx, count, desc, note, "; ".join(sorted(set(reasons)))))
            else:
                failed += 1
                print("  check %d FAIL: count %d %s%s" % (idx, count, desc,
                                                          note))
                print("    failing: %s" % " ".join(failing))
            for d in diag:
                print("    " + d)
    for key in dis.unused(tests_run):
        print("note: disagreements.txt item no longer fires: suricata %s %s %s"
              % key)
    print("%d explained, %d not applicable, %d skipped" % (explained, na,
                                                           skipped))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
