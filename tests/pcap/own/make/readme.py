#!/usr/bin/python3
"""Write own/<case>/README.md and own/README.md from expect.json and the
captures:  readme.py OWNDIR"""

import json
import os
import subprocess
import sys

WHAT = {
    "rcpt-rejections": "One transaction with five RCPT: 250, 550 5.1.1 (user unknown), 450 4.2.0 (greylisted), 250, 550 5.1.1; message accepted for the two accepted recipients.",
    "auth-success": "Two submission sessions (port 587): AUTH PLAIN (initial response) then AUTH LOGIN (334 challenges), both 235, one message each.",
    "auth-failure": "AUTH PLAIN 535 then AUTH LOGIN 235 and a message; a second session with AUTH PLAIN 535 then MAIL refused 530.",
    "bdat": "CHUNKING: BDAT chunks (3 chunks, LAST on the third; chunks end mid-line; '.' lines not stuffed), then a pipelined MAIL/RCPT/BDAT/BDAT/BDAT 0 LAST transaction.",
    "attachments": "multipart/mixed with a text+html alternative and three attachments: report.pdf (base64), notes.txt (quoted-printable), invoice.pdf.exe (base64); known sizes and SHA-256; ~50 Ethernet-sized segments.",
    "rfc2231-filename": "File names with RFC 2231 continuations and charsets, an RFC 2047 encoded-word file name, a two-charset RFC 2047 Subject and From display name.",
    "dot-stuffing": "Body lines starting with '.' (a lone '.', '..', the last line), sent by two clients; size after unstuffing known from the server.",
    "nested-messages": "A forward of a forward: every attachment listed in order, a container before what it holds, depth 0, 1 and 2 (invoice.pdf.exe inside the original inside the forward).",
    "forwarded-message": "Two message/rfc822 attachments (one named, one not) whose inner From/To/Subject differ from the outer; the attachment inside the first (numbers.xlsx) is listed after it, depth 1.",
    "multi-transaction": "One connection: accepted, RSET-aborted, accepted, MAIL-rejected (550) then RSET, accepted with two recipients.",
    "starttls": "EHLO, STARTTLS, 220, then TLS: one record with status tls.",
    "ipv6": "One ordinary transaction over ::1.",
    "pipelining": "PIPELINING: the Postfix SMTP client (two messages, one cached connection, RSET between, ORCPT parameters, no QUIT) and swaks --pipeline.",
    "pregreet": "A spam-bot-style client sends HELO, MAIL, two RCPT, DATA, the message and QUIT before the (delayed) greeting; the 220 answers the connection, the replies after it the commands in order.",
    "ehlo-pipelined": "EHLO with MAIL, RCPT and DATA pipelined after it (one transaction, not two); an accepted EHLO then a refused one (501) with the envelope pipelined after it (the accepted name stays).",
    "starttls-plain": "Colluding ends: STARTTLS answered 220, then clear-text SMTP with no TLS handshake; the mail must be recorded, tls false, anomaly starttls_not_tls.",
    "overlong-line": "A 6000-byte NOOP line ended CRLF (past the 4096-byte cap: command_too_long, and no bare_lf), then one ordinary transaction.",
    "vlan": "attachments/ with an 802.1Q tag (VID 12) on every frame.",
    "qinq": "attachments/ double tagged: 802.1ad VID 100 outside, 802.1Q VID 12 inside.",
    "reordered-duplicated": "attachments/ with data segments swapped, rotated, duplicated and re-cut, a server reply duplicated: must give the same records as attachments/.",
}
ORDER = list(WHAT)

INDEX_HEAD = """\
# Own captures: SMTP made with real mail software, facts known

Captures that the peer captures (`../peers/`) lack, made here with real clients and
servers so that the SMTP parser can be tested against facts we KNOW because we
generated them: every message is built byte by byte by `make/messages.py`, the
server's replies are configured, and what the server received is checked against
what the generator sent (aiosmtpd's envelope, Postfix's pipe delivery, smtp-sink's
dump).  Each case directory has `input.pcap`, `expect.json` and a README.

## Network

All traffic stays inside a network namespace made for the run that has only its
loopback (`ip netns add`; lo at MTU 1500 with TSO/GSO/GRO off, so messages span
Ethernet-sized segments).  Servers listen on 127.0.0.25 (or ::1), clients bind to
127.0.1.x where they can.  Link type Ethernet (Linux lo: zero MACs); TCP checksums
fixed with `tcprewrite --fixcsum`.

## expect.json

`{"transactions": [...], "notes": "..."}`; each transaction has the record fields of
DESIGN.md that the generator knows: `trans_depth` (per connection), `server`,
`helo`, `mail_from`, `rcpt` (`addr`, `code`), `status`, `size`, and where known
`subject`, `from_header` (header.from, RFC 2047 decoded), `message_id`,
`attachments` (`filename` decoded to UTF-8 or null, `content_type`, `size` and
`sha256` of the decoded bytes, `depth`: an attached message is listed whole
and what it carries follows it, one level down), `auth`,
`vlan` (outer first).  Extra facts: `auth_attempts`, `mail_reply` (code of a refused
MAIL), `bdat_chunks`, `must_not_store` (secrets on the wire that the sensor must
never store), `same_records_as`, `inner_messages_not_top_level`, `tls` (the record's
`tls`), `anomalies_include` and `anomalies_exclude` (anomalies the record must, and must
not, list).

`size` = bytes of the message as the server received it: after dot-unstuffing
(DATA) or the chunks joined (BDAT); the CRLF ending the last line is included, the
terminating `.` line is not (what aiosmtpd's `envelope.original_content` holds).

## Regenerating

As root on Debian 12 (installs the packages it needs: postfix preseeded to "No
configuration" and never started as the system daemon, swaks, python3-aiosmtpd,
python3-scapy, tcpdump, tcpreplay, tshark, ethtool):

    tests/pcap/own/make/make_all.sh            # every case, then verify
    tests/pcap/own/make/make_all.sh bdat ipv6  # some cases

- `make/make_all.sh`: namespaces, checksums, derived cases, verify, READMEs.
- `make/gen.py CASE OUTDIR`: one live case (server, tcpdump, client, expect.json).
- `make/messages.py`: the messages (deterministic bytes).
- `make/derive.py`: vlan, qinq, reordered-duplicated from attachments/.
- `make/verify.py OWNDIR`: expect.json against tshark's reassembly (follow,tcp,raw)
  and an independent little SMTP walker; `make/readme.py`: these READMEs.

Contents are deterministic; ports, timestamps, TCP sequence numbers, the TLS
session and the Postfix-added Received header in pipelining/ differ per run.

Gotchas met: tcpdump needs `--immediate-mode` or packets still in the ring buffer
are lost at SIGINT; `swaks --data @FILE` appends CRLF "." CRLF after the file (so
the file is written without its last CRLF); Postfix's `smtp-source` sends HELO and
does not pipeline; Python's smtplib sends lower-case commands (`ehlo`, `mail FROM:`).

## Cases

"""



def capinfo(pcap):
    out = subprocess.run(["capinfos", "-T", "-r", "-E", "-c", "-s", pcap],
                         stdout=subprocess.PIPE, check=True).stdout.decode().strip().split("\t")
    return {"encap": out[1], "frames": int(out[2]), "bytes": os.path.getsize(pcap)}


def conversations(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-q", "-z", "conv,tcp"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=True).stdout.decode()
    return [ln.split()[0] + " -> " + ln.split()[2] for ln in out.splitlines() if "<->" in ln]


def tsummary(t):
    rc = ", ".join("%s %d" % (r["addr"], r["code"]) for r in t["rcpt"]) or "-"
    extra = ""
    if t.get("auth"):
        extra += " auth %s %s;" % (t["auth"]["mechanism"], t["auth"]["result"])
    if t.get("attachments"):
        extra += " %d attachment(s);" % len(t["attachments"])
    if t.get("vlan"):
        extra += " vlan %s;" % t["vlan"]
    return "| %d | %s | %s | %s | %s | %s |%s" % (
        t["trans_depth"], t["helo"], t["mail_from"], rc, t["status"], t["size"], extra)


def case_readme(own, case):
    d = os.path.join(own, case)
    e = json.load(open(os.path.join(d, "expect.json")))
    ci = capinfo(os.path.join(d, "input.pcap"))
    derived = case in ("vlan", "qinq", "reordered-duplicated")
    lines = [
        "# %s" % case, "",
        WHAT[case], "",
        "## How it was made", "",
        e["notes"], "",
        "Command (as root, Debian 12; regenerates input.pcap and expect.json%s):" % (
            " from attachments/input.pcap" if derived else ""), "",
        "    tests/pcap/own/make/make_all.sh %s" % case, "",
    ]
    if not derived:
        lines += [
            "make_all.sh creates a network namespace with only its loopback (lo MTU 1500, "
            "TSO/GSO/GRO off: Ethernet-sized segments), runs `make/gen.py %s` inside it "
            "(server, then `tcpdump -i lo --immediate-mode -w`, then the client(s)), and fixes "
            "the TCP checksums with `tcprewrite --fixcsum`. Message contents are fixed; ports, "
            "timestamps and sequence numbers differ from run to run." % case, "",
        ]
    lines += [
        "## Capture", "",
        "Link type %s, %d frames, %d bytes; TCP checksums valid. Connections: %s." % (
            ci["encap"], ci["frames"], ci["bytes"], "; ".join(conversations(os.path.join(d, "input.pcap")))), "",
        "## Expected records (expect.json)", "",
        "| trans_depth | helo | mail_from | rcpt and codes | status | size |",
        "|---|---|---|---|---|---|",
    ] + [tsummary(t) for t in e["transactions"]] + [""]
    for t in e["transactions"]:
        for a in t.get("attachments", []):
            lines.append("- attachment %r %s %d bytes sha256 %s depth %d" % (a["filename"], a["content_type"], a["size"], a["sha256"], a.get("depth", 0)))
    if e.get("must_not_store"):
        lines += ["", "Strings that must never be stored (test credentials and their base64 forms): "
                  + ", ".join("`%s`" % s for s in e["must_not_store"])]
    lines += ["", "`make/verify.py` checks expect.json against tshark's reassembly of this capture.", ""]
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write("\n".join(lines))
    return ci, len(e["transactions"])


def main():
    own = sys.argv[1]
    rows, total = [], 0
    for case in ORDER:
        if not os.path.exists(os.path.join(own, case, "expect.json")):
            continue
        ci, n = case_readme(own, case)
        total += ci["bytes"]
        rows.append("| [%s](%s/) | %s | %d | %d | %d |" % (case, case, WHAT[case], n, ci["frames"], ci["bytes"]))
    idx = INDEX_HEAD
    with open(os.path.join(own, "README.md"), "w") as f:
        f.write(idx)
        f.write("| case | what | records | frames | bytes |\n|---|---|---|---|---|\n")
        f.write("\n".join(rows) + "\n\nTotal: %d bytes.\n" % total)


if __name__ == "__main__":
    main()
