#!/usr/bin/python3
"""Check `smtpsniff read` against the facts of our own captures.

For every tests/pcap/own/<case>/ with input.pcap and expect.json (facts the
generator knows from the client and server sides, not from parsing the
capture), run `SMTPSNIFF read -q -o json:- input.pcap` and compare each
expected transaction with the record of the same trans_depth, field by
field: helo, mail_from, rcpt (address and code), status, size, subject,
from_header, message_id, attachments (name, type, size, SHA-256), auth,
vlan. Secrets listed in must_not_store must appear nowhere in the output.
Cases with same_records_as must give the same records as that case (ts,
session and vlan aside).

usage: check.py SMTPSNIFF
Last line: "N passed, N failed" (one per compared field); exit 1 on failure.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def read(binary, pcap, *extra):
    out = subprocess.run([binary, "read", "-q", *extra, "-o", "json:-",
                          "-o", "zeek:-", "-o", "eve:-", pcap],
                         capture_output=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"exit {out.returncode}: {out.stderr.decode()}")
    lines = [json.loads(l) for l in out.stdout.decode().splitlines()]
    # Our records are the lines with "type":"smtp"; the rest is zeek/eve.
    return out.stdout, [r for r in lines if r.get("type") == "smtp"]


def main():
    binary = os.path.abspath(sys.argv[1])
    passed = failed = 0
    cache = {}

    def check(case, what, want, have):
        nonlocal passed, failed
        if want == have:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {case} {what}: expected {want!r}, got {have!r}")

    cases = sorted(d for d in os.listdir(HERE)
                   if os.path.isfile(os.path.join(HERE, d, "expect.json")))
    for case in cases:
        exp = json.load(open(os.path.join(HERE, case, "expect.json")))
        try:
            raw, recs = read(binary, os.path.join(HERE, case, "input.pcap"))
        except RuntimeError as e:
            print(f"FAIL {case}: {e}")
            failed += 1
            continue
        cache[case] = recs
        txs = exp["transactions"]
        check(case, "record count", len(txs), len(recs))
        used = set()
        for i, tx in enumerate(txs):
            depth = tx.get("trans_depth", i + 1)
            # Several sessions may each have a depth 1: take them in
            # order, preferring the one with the expected sender.
            cands = [j for j, x in enumerate(recs) if j not in used and
                     x["trans_depth"] == depth and
                     ("server" not in tx or
                      x["server"]["port"] == tx["server"]["port"])]
            best = [j for j in cands
                    if recs[j].get("mail_from") == tx.get("mail_from")]
            pick = (best or cands or [None])[0]
            r = recs[pick] if pick is not None else None
            if pick is not None:
                used.add(pick)
            if r is None:
                check(case, f"tx {depth}", "present", "missing")
                continue
            label = f"tx {depth}"
            for k in ("helo", "mail_from", "status", "size", "tls"):
                if k in tx:
                    check(case, f"{label} {k}", tx[k], r.get(k))
            if "rcpt" in tx:
                check(case, f"{label} rcpt",
                      [(x["addr"], x.get("code")) for x in tx["rcpt"]],
                      [(x["addr"], x["code"]) for x in r["rcpt"]])
            h = r.get("header") or {}
            for k, hk in (("subject", "subject"), ("from_header", "from"),
                          ("message_id", "message_id")):
                if k in tx:
                    check(case, f"{label} header.{hk}", tx[k], h.get(hk))
            if "attachments" in tx:
                check(case, f"{label} attachments",
                      [(a.get("filename"), a.get("content_type"), a["size"],
                        a["sha256"], a.get("depth", 0))
                       for a in tx["attachments"]],
                      [(a["filename"], a["content_type"], a["size"],
                        a["sha256"], a.get("depth"))
                       for a in r["attachments"]])
            if "auth" in tx:
                a = r.get("auth") or {}
                check(case, f"{label} auth",
                      (tx["auth"].get("mechanism"), tx["auth"].get("result")),
                      (a.get("mechanism"), a.get("result")))
            if "vlan" in tx:
                check(case, f"{label} vlan", tx["vlan"], r.get("vlan"))
            for a in tx.get("anomalies_include", []):
                check(case, f"{label} anomaly {a}", True,
                      a in r.get("anomalies", []))
            for a in tx.get("anomalies_exclude", []):
                check(case, f"{label} no anomaly {a}", False,
                      a in r.get("anomalies", []))
        # Secrets appear in no output, even with user names asked for.
        raw_users, _ = read(binary, os.path.join(HERE, case, "input.pcap"),
                            "--auth-user")
        for secret in exp.get("must_not_store", []):
            check(case, "secret not stored", False, secret.encode() in raw)
            check(case, "secret not stored (--auth-user)", False,
                  secret.encode() in raw_users)
    # Copies that must give the same records (reordered, VLAN-tagged).
    for case in cases:
        exp = json.load(open(os.path.join(HERE, case, "expect.json")))
        other = exp.get("same_records_as")
        if not other or case not in cache or other not in cache:
            continue
        strip = lambda rs: [{k: v for k, v in r.items()
                             if k not in ("ts", "session", "vlan")} for r in rs]
        check(case, f"same records as {other}", strip(cache[other]),
              strip(cache[case]))
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
