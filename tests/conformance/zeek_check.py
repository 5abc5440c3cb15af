#!/usr/bin/python3
"""Compare our `-o zeek:` output with Zeek's own smtp.log baselines.

usage: zeek_check.py [-v] [--trace NAME]... SMTPSNIFF_BINARY
       zeek_check.py --import PEERS_DIR      (re-copy the baselines)

zeek/INDEX (next to this script) lists the traces: for each, the capture
in tests/pcap/peers/ and the Zeek btest whose smtp.log baseline was
copied to zeek/<trace>/smtp.log (only baselines of the default SMTP script
behaviour; INDEX's `skip` lines say which were left out and why).

For each trace we run
    SMTPSNIFF read -q --any-port -o zeek:OUT CAPTURE
and compare its JSON lines with the baseline's TSV rows.  Rows are
grouped by connection 4-tuple; within a connection they are paired in
order (when the counts differ, by the alignment that pairs the most equal
fields: a missing or extra row is one failure).  Then every field of the
baseline's #fields but ts, uid and fuids is compared: one count each.
TSV conventions: '-' unset, '(empty)' empty set, set elements comma-
separated (rcptto, to, cc compared as sets; path, a vector, in order),
bool T/F, \\xNN escapes.  Keys of ours that are not Zeek columns fail.

../disagreements.txt lists explained disagreements (peer `zeek`):
    zeek <trace> <baseline row, 1-based | ours:N> <field | row | *> <reason>
Listed items are reported as explained, not failed; listed items that no
longer fire are reported so they can be removed.

The last line is "N passed, N failed"; exit status 1 on any failure.
"""

import argparse
import collections
import ipaddress
import json
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
from common import HERE, PCAP_DIR, Disagreements, run_smtpsniff, short

ZDIR = os.path.join(HERE, "zeek")
INDEX = os.path.join(ZDIR, "INDEX")

IGNORED = {"ts", "uid", "fuids"}
SET_FIELDS = {"rcptto", "to", "cc"}
VECTOR_FIELDS = {"path"}
BOOL_FIELDS = {"tls"}
CONN_FIELDS = ("id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p")


def read_index():
    uses, skips = [], []
    with open(INDEX, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            p = line.split()
            if p[0] == "use":
                uses.append({"trace": p[1], "capture": p[2], "btest": p[3],
                             "args": p[4:]})
            elif p[0] == "skip":
                skips.append({"trace": p[1], "btest": p[2],
                              "reason": " ".join(p[3:])})
    return uses, skips


def unescape(s):
    b = re.sub(rb"\\x([0-9a-fA-F]{2})",
               lambda m: bytes([int(m.group(1), 16)]), s.encode("utf-8",
                                                              "surrogateescape"))
    return b.decode("utf-8", "replace")


def norm_ip(s):
    try:
        return str(ipaddress.ip_address(s))
    except ValueError:
        return s


def canon_tsv(field, raw, unset, empty, set_sep):
    """A TSV cell -> canonical value (None = unset)."""
    if raw == unset:
        return None
    if field in SET_FIELDS or field in VECTOR_FIELDS:
        if raw == empty:
            items = []
        else:
            items = [unescape(x) for x in raw.split(set_sep)]
        if field in VECTOR_FIELDS:
            return tuple(norm_ip(x) for x in items)
        return tuple(sorted(items))
    if field in BOOL_FIELDS:
        return {"T": True, "F": False}.get(raw, raw)
    v = unescape(raw)
    if field in ("id.orig_h", "id.resp_h", "x_originating_ip"):
        return norm_ip(v)
    if field in ("id.orig_p", "id.resp_p", "trans_depth"):
        try:
            return int(v)
        except ValueError:
            return v
    return v


def canon_json(field, v):
    if v is None:
        return None
    if field in SET_FIELDS or field in VECTOR_FIELDS:
        if not isinstance(v, list):
            return ("<not an array>", repr(v))
        if field in VECTOR_FIELDS:
            return tuple(norm_ip(str(x)) for x in v)
        return tuple(sorted(str(x) for x in v))
    if field in ("id.orig_h", "id.resp_h", "x_originating_ip"):
        return norm_ip(str(v))
    return v


def read_baseline(path):
    fields, rows = None, []
    sep, set_sep, empty, unset = "\t", ",", "(empty)", "-"
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                if line.startswith("#separator "):
                    sep = unescape(line.split(" ", 1)[1])
                    continue
                key, _, val = line[1:].partition(sep)
                if key == "fields":
                    fields = val.split(sep)
                elif key == "set_separator":
                    set_sep = val
                elif key == "empty_field":
                    empty = val
                elif key == "unset_field":
                    unset = val
                continue
            if not line or fields is None:
                continue
            cells = line.split(sep)
            rows.append({f: canon_tsv(f, c, unset, empty, set_sep)
                         for f, c in zip(fields, cells)})
    return fields or [], rows


def conn_key(row):
    return tuple(row.get(f) for f in CONN_FIELDS)


def conn_str(k):
    oh, op, rh, rp = k
    fmt = lambda h, p: ("[%s]:%s" if ":" in str(h) else "%s:%s") % (h, p)
    return "%s > %s" % (fmt(oh, op), fmt(rh, rp))


def score(a, b, fields):
    return sum(1 for f in fields if a.get(f) == b.get(f))


def align(base, ours, fields):
    """Pair rows of one connection: in order when the counts agree, else
    the order-preserving alignment with the most equal fields."""
    if len(base) == len(ours):
        return list(zip(range(len(base)), range(len(ours))))
    n, m = len(base), len(ours)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best[i][j] = max(best[i + 1][j], best[i][j + 1],
                             best[i + 1][j + 1] + 1000 +
                             score(base[i], ours[j], fields))
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if best[i][j] == best[i + 1][j + 1] + 1000 + score(base[i], ours[j],
                                                            fields):
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def do_import(peers):
    uses, _ = read_index()
    for u in uses:
        src = os.path.join(peers, "zeek", "smtp", u["trace"], "expected",
                           u["btest"], "smtp.log")
        dst = os.path.join(ZDIR, u["trace"], "smtp.log")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        print("copied %s -> %s" % (src, os.path.relpath(dst)))


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("binary", nargs="?")
    ap.add_argument("-v", action="store_true", help="print equal fields too")
    ap.add_argument("--trace", action="append", default=[])
    ap.add_argument("--import", dest="peers", metavar="PEERS_DIR")
    a = ap.parse_args()
    if a.peers:
        do_import(a.peers)
        return 0
    if not a.binary:
        ap.error("SMTPSNIFF_BINARY required")

    uses, skips = read_index()
    dis = Disagreements("zeek")
    passed = failed = explained = 0
    per_field = collections.defaultdict(lambda: [0, 0, 0])  # pass fail expl
    traces_run = set()

    for s in skips:
        print("skip %s/%s: %s" % (s["trace"], s["btest"], s["reason"]))

    for u in uses:
        trace = u["trace"]
        if a.trace and trace not in a.trace:
            continue
        traces_run.add(trace)
        tp = tf = te = 0
        print("== %s (%s; %s)" % (trace, u["capture"], u["btest"]))
        fields, base = read_baseline(os.path.join(ZDIR, trace, "smtp.log"))
        cmp_fields = [f for f in fields if f not in IGNORED]
        lines, err = run_smtpsniff(a.binary,
                                   os.path.join(PCAP_DIR, u["capture"]),
                                   "zeek", u["args"])
        if err:
            print("  FAIL run: %s" % err)
            failed += 1
            continue
        ours = []
        extra_keys = collections.Counter()
        for n, l in enumerate(lines, 1):
            try:
                o = json.loads(l)
            except ValueError as e:
                print("  FAIL our line %d is not JSON: %s" % (n, e))
                failed += 1
                tf += 1
                continue
            for k in o:
                if k not in fields:
                    extra_keys[k] += 1
            row = {f: canon_json(f, o.get(f)) for f in fields}
            row["_n"] = n
            ours.append(row)
        for k, c in sorted(extra_keys.items()):
            print("  FAIL our key %r is not a Zeek smtp.log column (%d rows)"
                  % (k, c))
            failed += 1
            tf += 1
            per_field[k][1] += 1

        for i, r in enumerate(base, 1):
            r["_n"] = i
        bconn, oconn, order = {}, {}, []
        for r in base:
            k = conn_key(r)
            if k not in bconn:
                order.append(k)
            bconn.setdefault(k, []).append(r)
        for r in ours:
            k = conn_key(r)
            if k not in bconn and k not in oconn:
                order.append(k)
            oconn.setdefault(k, []).append(r)

        def outcome(index, field, msg):
            nonlocal failed, explained, tf, te
            why = dis.explain(trace, index, field)
            if why:
                explained += 1
                te += 1
                per_field[field][2] += 1
                print("  explained %s: %s  [%s]" % (index, msg, why))
            else:
                failed += 1
                tf += 1
                per_field[field][1] += 1
                print("  FAIL %s: %s" % (index, msg))

        for k in order:
            b, o = bconn.get(k, []), oconn.get(k, [])
            pairs = align(b, o, cmp_fields)
            pb = {i for i, _ in pairs}
            po = {j for _, j in pairs}
            for i, r in enumerate(b):
                if i not in pb:
                    outcome(r["_n"], "row", "row %d (%s, trans_depth %s) "
                            "missing from ours: zeek %s" % (
                                r["_n"], conn_str(k), r.get("trans_depth"),
                                short({f: r[f] for f in cmp_fields
                                       if r.get(f) is not None}, 400)))
            for j, r in enumerate(o):
                if j not in po:
                    outcome("ours:%d" % r["_n"], "row",
                            "our line %d (%s, trans_depth %s) has no zeek "
                            "row: ours %s" % (
                                r["_n"], conn_str(k), r.get("trans_depth"),
                                short({f: r[f] for f in cmp_fields
                                       if r.get(f) is not None}, 400)))
            for i, j in pairs:
                br, orow = b[i], o[j]
                for f in cmp_fields:
                    if br.get(f) == orow.get(f):
                        passed += 1
                        tp += 1
                        per_field[f][0] += 1
                        if a.v:
                            print("  ok %d %s: %s" % (br["_n"], f,
                                                      short(br.get(f))))
                        continue
                    outcome(br["_n"], f,
                            "row %d (our line %d, %s) %s: zeek %s ours %s" % (
                                br["_n"], orow["_n"], conn_str(k), f,
                                short(br.get(f)), short(orow.get(f))))
        print("  %s: %d passed, %d failed, %d explained" % (trace, tp, tf, te))

    for key in dis.unused(traces_run):
        print("note: disagreements.txt item no longer fires: zeek %s %s %s"
              % key)
    print("per field (passed/failed/explained):")
    for f in sorted(per_field):
        p, fl, e = per_field[f]
        if fl or e or a.v:
            print("  %-18s %4d %4d %4d" % (f, p, fl, e))
    print("%d explained" % explained)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
