"""Shared helpers of zeek_check.py and eve_check.py (stdlib only)."""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PCAP_DIR = os.path.join(ROOT, "tests", "pcap", "peers")
DISAGREEMENTS = os.path.join(HERE, "disagreements.txt")

# Both peers find SMTP by its content on any port (Zeek's dpd.sig,
# Suricata's protocol detection), so we run with --any-port too.
READ_ARGS = ["read", "-q", "--any-port"]


class Disagreements:
    """tests/conformance/disagreements.txt, one explained item a line:
        <peer> <test-or-trace> <row-or-check-index> <field> <reason...>
    <field> may be '*' (the whole row or check).  '#' starts a comment."""

    def __init__(self, peer, path=DISAGREEMENTS):
        self.items = {}     # (test, index, field) -> reason
        self.used = set()
        if not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = line.split(None, 4)
                if len(parts) < 5:
                    sys.exit("%s:%d: want '<peer> <test> <index> <field> "
                             "<reason>'" % (path, n))
                if parts[0] != peer:
                    continue
                self.items[(parts[1], parts[2], parts[3])] = parts[4]

    def explain(self, test, index, field):
        """The reason if (test, index, field) is listed (or field '*')."""
        for key in ((test, str(index), field), (test, str(index), "*")):
            if key in self.items:
                self.used.add(key)
                return self.items[key]
        return None

    def unused(self, tests_run):
        """Listed items that no longer fire, for the tests that ran."""
        return sorted(k for k in self.items
                      if k not in self.used and k[0] in tests_run)


def run_smtpsniff(binary, pcap, spec, extra=()):
    """Run `binary read -o SPEC:tmp pcap`; return (lines, error)."""
    with tempfile.TemporaryDirectory(prefix="smtpsniff-conf-") as d:
        out = os.path.join(d, "out")
        cmd = [binary] + READ_ARGS + list(extra) + ["-o", "%s:%s" % (spec, out),
                                                    pcap]
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            return None, "%s: %s" % (" ".join(cmd), e)
        msg = "%s: exit %d: %s" % (
            " ".join(cmd), p.returncode,
            p.stderr.decode("utf-8", "replace").strip()[-500:])
        # Exit 1 with output is a capture-file error after which the
        # packets read are kept (a damaged file): note it, use the output.
        # A signal or any other status is a failure.
        if p.returncode != 0 and (p.returncode != 1 or
                                  not os.path.exists(out)):
            return None, msg
        if p.returncode != 0:
            print("  note: %s (output of the packets read is used)" % msg)
        if not os.path.exists(out):
            return [], None
        with open(out, encoding="utf-8", errors="surrogateescape") as f:
            return [l for l in f.read().split("\n") if l.strip()], None


def short(v, n=160):
    s = repr(v)
    return s if len(s) <= n else s[:n - 3] + "..."
