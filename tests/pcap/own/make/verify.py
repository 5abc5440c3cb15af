#!/usr/bin/python3
"""Check every own/<case>/expect.json against what tshark reassembles from input.pcap:
verify.py OWNDIR [CASE...]

tshark (follow,tcp,raw) gives each connection's two byte streams; a small SMTP
walker here pairs commands with replies (in order, so pipelining is fine), cuts
DATA (unstuffed) and BDAT chunks, and rebuilds the transactions: helo, mail_from,
rcpt codes, status, size; the message itself goes through gen.server_view (Python's
email package) for subject and attachments.  Everything must equal expect.json.
It is a check of the generator, independent of smtpsniff."""

import json
import sys
sys.dont_write_bytecode = True
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import server_view  # noqa: E402


def streams(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "tcp.stream"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.decode()
    n = len(set(x for x in out.split() if x))
    res = []
    for i in range(n):
        txt = subprocess.run(["tshark", "-r", pcap, "-q", "-z", "follow,tcp,raw,%d" % i],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.decode()
        nodes = re.findall(r"Node [01]: (\S+)", txt)
        body = txt.split("=" * 67)[1]
        c, s = b"", b""
        for line in body.split("\n"):
            if not line.strip() or line.startswith(("Follow:", "Filter:", "Node ")):
                continue
            if line.startswith("\t"):
                s += bytes.fromhex(line.strip())
            else:
                c += bytes.fromhex(line.strip())
        res.append((nodes, c, s))
    return res


class Reader:
    def __init__(self, b):
        self.b, self.i = b, 0

    def line(self):
        j = self.b.find(b"\r\n", self.i)
        if j < 0:
            return None
        ln = self.b[self.i:j]
        self.i = j + 2
        return ln

    def peek(self, n):
        return self.b[self.i:self.i + n]

    def take(self, n):
        d = self.b[self.i:self.i + n]
        self.i += n
        return d


def replies(s):
    """Server replies in order (lazily: after STARTTLS the bytes are TLS)."""
    r, cur = Reader(s), []
    while True:
        ln = r.line()
        if ln is None:
            return
        cur.append(ln)
        if len(ln) < 4 or ln[3:4] != b"-":
            yield int(ln[:3]), b"\n".join(cur)
            cur = []


def walk(c, s, server):
    """Transactions of one connection, as the generator means them."""
    cr, rep = Reader(c), replies(s)
    next(rep)  # greeting
    trans, cur, helo, auth = [], None, None, None

    def close(status):
        nonlocal cur
        if cur is not None:
            cur["status"] = cur.get("status") or status
            trans.append(cur)
            cur = None

    while True:
        ln = cr.line()
        if ln is None:
            break
        verb = ln.split(b" ", 1)[0].upper()
        arg = ln[len(verb) + 1:].decode("utf-8", "replace")
        if verb in (b"EHLO", b"HELO"):
            # RFC 5321 4.1.4: only an accepted (2xx) EHLO/HELO counts
            code, _ = next(rep)
            if code < 300:
                close("aborted" if cur and any(r["code"] < 300 for r in cur["rcpt"]) else None)
                helo = arg
        elif verb == b"AUTH":
            mech = arg.split()[0].upper()
            code, _ = next(rep)
            while code == 334:
                cr.line()
                code, _ = next(rep)
            auth = {"mechanism": mech, "result": "success" if code == 235 else "failure"}
        elif verb == b"STARTTLS":
            code, _ = next(rep)
            nxt = cr.peek(2)
            # TLS only if the client's next bytes are a TLS record (RFC 3207 4)
            is_tls = len(nxt) < 2 or (0x14 <= nxt[0] <= 0x17 and nxt[1] == 3) or nxt[0] >= 0x80
            if code == 220 and is_tls:
                trans.append({"helo": helo, "mail_from": None, "rcpt": [], "status": "tls", "size": None,
                              "server": server})
                return trans
        elif verb == b"MAIL":
            code, _ = next(rep)
            cur = {"helo": helo, "mail_from": re.search(r"<([^>]*)>", arg).group(1), "rcpt": [],
                   "status": None, "size": None, "_data": None, "_auth": auth}
            if code >= 400:
                cur["status"] = "rejected"
                close(None)
        elif verb == b"RCPT":
            code, _ = next(rep)
            if cur is not None:
                cur["rcpt"].append({"addr": re.search(r"<([^>]*)>", arg).group(1), "code": code})
        elif verb == b"DATA":
            code, _ = next(rep)
            if code != 354:
                if cur:
                    cur["status"] = "rejected"
                    close(None)
                continue
            lines = []
            while True:
                dl = cr.line()
                if dl == b".":
                    break
                lines.append(dl[1:] if dl.startswith(b".") else dl)
            data = b"".join(x + b"\r\n" for x in lines)
            code, _ = next(rep)
            cur["size"], cur["_data"] = len(data), data
            close("accepted" if code < 300 else "rejected")
        elif verb == b"BDAT":
            parts = arg.split()
            data = cr.take(int(parts[0]))
            code, _ = next(rep)
            cur["_data"] = (cur["_data"] or b"") + data
            cur.setdefault("_chunks", []).append(len(data))
            if len(parts) > 1 and parts[1].upper() == "LAST":
                cur["size"] = len(cur["_data"])
                close("accepted" if code < 300 else "rejected")
        elif verb == b"RSET":
            next(rep)
            close("aborted" if cur and any(r["code"] < 300 for r in cur["rcpt"]) else "rejected")
        elif verb == b"QUIT":
            next(rep)
            close("aborted")
            break
        else:
            next(rep)
    close("aborted")
    for t in trans:
        t["server"] = server
    return trans


def check_case(own, case):
    d = os.path.join(own, case)
    pcap = os.path.join(d, "input.pcap")
    exp = json.load(open(os.path.join(d, "expect.json")))
    got = []
    for nodes, c, s in streams(pcap):
        host, port = nodes[1].rsplit(":", 1)
        got.extend(walk(c, s, {"ip": host.strip("[]"), "port": int(port)}))
    et = exp["transactions"]
    problems = []
    if len(got) != len(et):
        problems.append("%d transactions in the capture, %d expected" % (len(got), len(et)))
    for i, (g, e) in enumerate(zip(got, et)):
        for k in ("helo", "mail_from", "rcpt", "status", "size", "server"):
            if g[k] != e[k]:
                problems.append("transaction %d %s: tshark %r, expect %r" % (i + 1, k, g[k], e[k]))
        if "bdat_chunks" in e and g.get("_chunks") != e["bdat_chunks"]:
            problems.append("transaction %d bdat chunks: %r vs %r" % (i + 1, g.get("_chunks"), e["bdat_chunks"]))
        if "auth" in e and g.get("_auth") != e["auth"]:
            problems.append("transaction %d auth: %r vs %r" % (i + 1, g.get("_auth"), e["auth"]))
        if g.get("_data") is not None and "attachments" in e:
            sv = server_view(g["_data"])
            for k in ("subject", "from_header"):
                if k in e and sv[k] != e[k]:
                    problems.append("transaction %d %s: %r vs %r" % (i + 1, k, sv[k], e[k]))
            if sv["attachments"] != e["attachments"]:
                problems.append("transaction %d attachments:\n   %r\n   %r" % (i + 1, sv["attachments"], e["attachments"]))
    want_vlan = {tuple(t.get("vlan", ())) for t in et}
    vl = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-E", "separator=,", "-e", "ieee8021ad.id", "-e", "vlan.id"],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout.decode()
    have_vlan = {tuple(int(x) for x in ln.split(",") if x) for ln in vl.strip("\n").split("\n")}
    if have_vlan != want_vlan:
        problems.append("vlan ids: capture %r, expect %r" % (have_vlan, want_vlan))
    info = subprocess.run(["capinfos", "-T", "-r", "-E", "-c", pcap], stdout=subprocess.PIPE).stdout.decode().split("\t")
    print("%-22s %-6s %8d bytes %5s frames %2d transactions  %s" % (
        case, "OK" if not problems else "FAIL", os.path.getsize(pcap), info[-1].strip(), len(got), info[1].strip()))
    for p in problems:
        print("   " + p)
    return not problems


def main():
    own = sys.argv[1]
    cases = sys.argv[2:] or sorted(x for x in os.listdir(own)
                                   if os.path.exists(os.path.join(own, x, "expect.json")))
    ok = all([check_case(own, c) for c in cases])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
