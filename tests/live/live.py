#!/usr/bin/python3
"""The live sensor against real SMTP traffic (issue 9): `smtpsniff capture`
on the loopback of a network namespace made for the run, beside tcpdump.

usage: live.py SMTPSNIFF CASE
    CASE: equal slices signals privileges outage config sandbox

Real servers (Postfix's smtp-sink, tests/live/smtpd.py with STARTTLS) and
clients (smtp-source, swaks, Python's smtplib, a pipelining client) talk
on 127.0.0.x / 127.0.1.x inside the namespace; nothing leaves it.

  equal       live records == `read` of tcpdump's file, as sets, with
              --threads 1 and 2; no kernel drops; the count is the one sent
  slices      -w DIR -C 1: `read DIR` == the live records
  signals     SIGTERM mid-transaction: the open one is `incomplete`, exit 0;
              SIGHUP: a renamed json file is reopened at its path
  privileges  -Z nobody: after start no id is root and no capability left
  outage      -o mysql:// with the server killed and started again while
              mail flows: every transaction ends up in the database
  config      contrib/smtpsniff.conf.example names every option and
              works with every key set; bad options are refused cleanly
  sandbox     capture as contrib/systemd's unit runs it, under strace:
              its system calls and socket families are the unit's

Needs root and `ip netns`. Without them the test fails under CI=true and
is skipped (exit 77) elsewhere: a skip never passes in CI.
"""
import email.message
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
SKIP = 77
IFACE = "lo"


def capture_cmd(binary):
    """The one place the live sensor is started."""
    return [binary, "capture", "-i", IFACE]


class Fail(Exception):
    pass


failures = []


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        if detail:
            print("     " + str(detail)[:4000].replace("\n", "\n     "),
                  flush=True)
        failures.append(what)
    return ok


def run(cmd, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(cmd, **kw)


# ------------------------------------------------------------ namespace

def outside(binary, case):
    """Make the namespace, run this script inside it, always delete it."""
    def cannot(why):
        if os.environ.get("CI", "") not in ("", "0", "false"):
            print(f"FAIL live/{case}: {why}; CI must run the live tests "
                  "(as root, with network namespaces)", flush=True)
            return 1
        print(f"SKIP live/{case}: {why}", flush=True)
        return SKIP

    if os.geteuid() != 0:
        return cannot("not root")
    for tool in ("ip", "tcpdump", "smtp-sink", "smtp-source", "swaks",
                 "openssl"):
        if shutil.which(tool) is None and not os.path.exists(
                "/usr/sbin/" + tool):
            return cannot(f"{tool} is missing (scripts/deps.sh --test)")
    ns = f"ssniff-{os.getpid()}"
    r = run(["ip", "netns", "add", ns])
    if r.returncode != 0:
        return cannot("cannot make a network namespace: " +
                      r.stderr.decode().strip())

    def cleanup(*_):
        # Everything started inside dies with it; then the name goes.
        pids = run(["ip", "netns", "pids", ns]).stdout.split()
        for p in pids:
            try:
                os.kill(int(p), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        run(["ip", "netns", "del", ns])

    def on_signal(sig, _):
        cleanup()
        sys.exit(128 + sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        r = subprocess.run(["ip", "netns", "exec", ns, PY,
                            os.path.abspath(__file__), binary, case,
                            "--inside"])
        return r.returncode
    finally:
        cleanup()


def setup_loopback():
    # Ethernet-sized segments (NOTES.md): MTU 1500 and no offloads, so a
    # message spans many packets, as on a real link.
    run(["ip", "link", "set", "lo", "mtu", "1500", "up"], check=True)
    if shutil.which("ethtool"):
        run(["ethtool", "-K", "lo", "tso", "off", "gso", "off", "gro",
             "off"])


def route_from(server, client):
    """Connections to SERVER leave from CLIENT (smtp-source cannot bind)."""
    run(["ip", "addr", "add", client + "/32", "dev", "lo"])
    run(["ip", "route", "replace", "local", server + "/32", "dev", "lo",
         "src", client, "table", "local"], check=True)


# ------------------------------------------------------------ processes

class Proc:
    """A background process whose stderr is collected line by line."""

    def __init__(self, cmd, name, **kw):
        self.name = name
        self.lines = []
        self.cond = threading.Condition()
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                  stdout=kw.pop("stdout",
                                                subprocess.DEVNULL),
                                  stderr=subprocess.PIPE, **kw)
        self.t = threading.Thread(target=self._reader, daemon=True)
        self.t.start()

    def _reader(self):
        for raw in self.p.stderr:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def text(self):
        with self.cond:
            return "".join(self.lines)

    def wait_for(self, pattern, timeout=20):
        end = time.monotonic() + timeout
        rx = re.compile(pattern)
        with self.cond:
            while True:
                for l in self.lines:
                    if rx.search(l):
                        return l
                left = end - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and
                                 not self.t.is_alive()):
                    raise Fail(f"{self.name}: no line /{pattern}/ "
                               f"(exit {self.p.poll()}):\n" +
                               "".join(self.lines))
                self.cond.wait(min(left, 0.2))

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise Fail(f"{self.name} did not stop within {timeout} s of "
                       f"signal {sig}:\n" + self.text())
        self.t.join(5)
        return rc


class Tcpdump(Proc):
    def __init__(self, path):
        # --immediate-mode: nothing left in the ring at SIGTERM; -Z root:
        # the file is written as root, where we put it.
        super().__init__(["tcpdump", "-i", IFACE, "-s", "0", "-B", "65536",
                          "-U", "--immediate-mode", "-Z", "root", "-w",
                          path, "tcp"], "tcpdump")
        self.wait_for(r"listening on")

    def finish(self):
        self.stop()
        m = re.search(r"(\d+) packets dropped by kernel", self.text())
        if not m or int(m.group(1)) != 0:
            raise Fail("tcpdump dropped packets:\n" + self.text())


class Sensor(Proc):
    """`smtpsniff capture`, started and waited for as the spec says."""

    def __init__(self, binary, args, name="capture", prefix=(),
                 argv_iface=True, **kw):
        if os.environ.get("SMTPSNIFF_LIVE_EMULATE"):
            # Development only, before capture existed: tcpdump, then read.
            self.emul = (binary, args, tempfile.mktemp(suffix=".pcap"))
            super().__init__(["tcpdump", "-i", IFACE, "-U", "-Z", "root",
                              "-B", "65536",
                              "--immediate-mode", "-w", self.emul[2]],
                             "emulated capture")
            self.wait_for("listening on")
            self.lines.append("smtpsniff: capture: listening on lo "
                              "(threads 1)\n")
            return
        self.emul = None
        cmd = capture_cmd(binary)
        if not argv_iface:  # the interface from -c
            cmd = cmd[:cmd.index("-i")]
        super().__init__(list(prefix) + cmd + args, name, **kw)
        self.wait_for(r"^smtpsniff: capture: listening on " + IFACE +
                      r" \(threads \d+\)$")

    def finish(self, sig=signal.SIGTERM):
        rc = self.stop(sig)
        if self.emul:
            binary, args, pcap = self.emul
            a, skip = [], 0
            for x in args:
                if skip:
                    skip -= 1
                elif x in ("--stats-interval", "--threads", "-B"):
                    skip = 1
                else:
                    a.append(x)
            r = run([binary, "read"] + a + [pcap])
            m = re.search(r"(\d+) packets received by filter.*?"
                          r"(\d+) packets dropped by kernel", self.text(),
                          re.S)
            self.lines.append(r.stderr.decode() + "  kernel: received %s "
                              "dropped %s ifdropped 0\n" % m.groups())
            rc = r.returncode
        return rc

    def kernel(self):
        """The summary's kernel line: received, dropped, ifdropped."""
        m = re.search(r"^  kernel: received (\d+) dropped (\d+) "
                      r"ifdropped (\d+)$", self.text(), re.M)
        if not m:
            raise Fail("capture printed no kernel line:\n" + self.text())
        return tuple(map(int, m.groups()))


def start_servers(work, tls=True):
    """smtp-sink on several addresses, and the STARTTLS server."""
    procs = []
    # 127.0.0.10: plain sink, PIPELINING offered; 127.0.0.11: every RCPT
    # refused 4xx; 127.0.0.12:2525: the end of data refused 5xx.
    for addr, extra in (("127.0.0.10:25", []), ("127.0.0.13:25", []),
                        ("127.0.0.11:25", ["-r", "RCPT"]),
                        ("127.0.0.12:2525", ["-f", "."])):
        procs.append(Proc(["smtp-sink", "-u", "nobody", "-h",
                           "sink.live.test", "-m", "512"] + extra +
                          [addr, "256"], "smtp-sink " + addr))
    if tls:
        key = os.path.join(work, "key.pem")
        crt = os.path.join(work, "crt.pem")
        r = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-keyout", key, "-out", crt, "-days", "2", "-subj",
                 "/CN=tls.live.test"])
        if r.returncode != 0:
            raise Fail("openssl: " + r.stderr.decode())
        p = Proc([PY, os.path.join(HERE, "smtpd.py"), "127.0.0.20", "587",
                  crt, key], "smtpd.py", stdout=subprocess.PIPE)
        if p.p.stdout.readline().strip() != b"ready":
            raise Fail("smtpd.py did not start:\n" + p.text())
        procs.append(p)
    for addr in ("127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13"):
        port = 2525 if addr.endswith(".12") else 25
        up = False
        for _ in range(100):
            try:
                socket.create_connection((addr, port), 1).close()
                up = True
                break
            except OSError:
                time.sleep(0.05)
        if not up:
            raise Fail(f"smtp-sink on {addr}:{port} did not start")
    return procs


# ------------------------------------------------------------ clients

class Raw:
    """A hand-made client: pipelined commands, a message cut in half."""

    def __init__(self, src, server, port=25):
        self.s = socket.create_connection((server, port), 10,
                                          source_address=(src, 0))
        self.f = self.s.makefile("rb")
        self.reply()

    def reply(self):
        while True:
            l = self.f.readline()
            if not l:
                raise Fail("raw client: connection closed")
            if l[3:4] != b"-":
                return int(l[:3])

    def send(self, data):
        self.s.sendall(data)

    def pipelined(self, n, tag):
        """EHLO, then N transactions each sent as one pipelined write."""
        self.send(b"EHLO pipe.client.live.test\r\n")
        self.reply()
        for i in range(n):
            self.send(b"MAIL FROM:<pipe-%s-%d@client.live.test>\r\n"
                      b"RCPT TO:<a@sink.live.test>\r\n"
                      b"RCPT TO:<b@sink.live.test>\r\nDATA\r\n" %
                      (tag.encode(), i))
            codes = [self.reply() for _ in range(4)]
            if codes != [250, 250, 250, 354]:
                raise Fail(f"pipelining client: replies {codes}")
            self.send(b"Subject: pipelined %d\r\n\r\n" % i +
                      b"line\r\n" * 200 + b".\r\n")
            self.reply()
        self.send(b"QUIT\r\n")
        self.reply()
        self.s.close()


def smtplib_messages(src, tag, n, starttls=False):
    """Python's smtplib: messages with base64 attachments, one refused
    recipient each, several per connection (trans_depth > 1)."""
    import smtplib
    c = smtplib.SMTP("127.0.0.20", 587, local_hostname="py.client.live.test",
                     timeout=20, source_address=(src, 0))
    c.ehlo()
    if starttls:
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.starttls(context=ctx)
        c.ehlo()
    for i in range(n):
        m = email.message.EmailMessage()
        m["From"] = f"py-{tag}-{i}@client.live.test"
        m["To"] = "bob@tls.live.test"
        m["Subject"] = f"attachments {tag} {i}"
        m["Message-ID"] = f"<{tag}.{i}@client.live.test>"
        m.set_content("Two files attached.\n")
        m.add_attachment(os.urandom(20000 + 997 * i),
                         maintype="application", subtype="octet-stream",
                         filename=f"data-{tag}-{i}.bin")
        m.add_attachment(("report line\n" * 300).encode(),
                         maintype="text", subtype="plain",
                         filename=f"report-{i}.txt")
        refused = c.send_message(m, to_addrs=["bob@tls.live.test",
                                              "reject-me@tls.live.test"])
        if "reject-me@tls.live.test" not in refused:
            raise Fail(f"smtplib: the server did not refuse: {refused}")
    c.quit()


def swaks(args):
    r = run(["swaks", "--silent", "2"] + args, timeout=60)
    if r.returncode != 0:
        raise Fail(f"swaks {args}: exit {r.returncode}: " +
                   r.stderr.decode() + r.stdout.decode())


def source(args):
    r = run(["smtp-source"] + args, timeout=120)
    if r.returncode != 0:
        raise Fail(f"smtp-source {args}: exit {r.returncode}: " +
                   r.stderr.decode())


def drive(work, tag):
    """All the clients at once; returns what the records must show."""
    att = os.path.join(work, f"attach-{tag}.pdf")
    with open(att, "wb") as f:
        f.write(os.urandom(30000))
    jobs = [
        # 40 one-message sessions, 4 in parallel, 2 recipients each.
        lambda: source(["-s", "4", "-m", "40", "-r", "2", "-l", "3000",
                        "-M", "src-a.live.test", "-f",
                        f"a-{tag}@src.live.test", "-t", "r@sink.live.test",
                        "127.0.0.10:25"]),
        # 20 messages over 2 sessions (-d): trans_depth 1..10.
        lambda: source(["-d", "-s", "2", "-m", "20", "-r", "3", "-l", "800",
                        "-M", "src-b.live.test", "-f",
                        f"b-{tag}@src.live.test", "127.0.0.13:25"]),
        # Every RCPT refused 4xx; -A goes on regardless.
        lambda: source(["-A", "-s", "2", "-m", "10", "-M",
                        "src-c.live.test", "-f", f"c-{tag}@src.live.test",
                        "127.0.0.11:25"]),
        # The end of data refused 5xx.
        lambda: source(["-A", "-s", "2", "-m", "10", "-M",
                        "src-d.live.test", "-f", f"d-{tag}@src.live.test",
                        "127.0.0.12:2525"]),
        lambda: smtplib_messages("127.0.1.40", tag + "x", 2),
        lambda: smtplib_messages("127.0.1.41", tag + "y", 2),
        lambda: smtplib_messages("127.0.1.42", tag + "z", 1, starttls=True),
        lambda: Raw("127.0.1.30", "127.0.0.10").pipelined(3, tag),
    ]
    for i in range(3):
        jobs.append(lambda i=i: swaks(
            ["--server", "127.0.0.10", "--port", "25", "-li",
             f"127.0.1.{20 + i}", "--pipeline", "--ehlo",
             "swaks.live.test", "--from", f"sw-{tag}-{i}@client.live.test",
             "--to", "x@sink.live.test,y@sink.live.test", "--header",
             f"Subject: swaks {tag} {i}", "--attach-type",
             "application/pdf", "--attach", att]))
    for i in range(2):
        jobs.append(lambda i=i: swaks(
            ["--server", "127.0.0.20", "--port", "587", "-li",
             f"127.0.1.{25 + i}", "--tls", "--ehlo", "swaks.live.test",
             "--from", f"tls-{tag}-{i}@client.live.test", "--to",
             "z@tls.live.test"]))
    errors = []

    def wrap(j):
        try:
            j()
        except Exception as e:  # reported below, in this thread
            errors.append(repr(e))
    ts = [threading.Thread(target=wrap, args=(j,)) for j in jobs]
    for t in ts:
        t.start()
    for t in ts:
        t.join(180)
    if errors:
        raise Fail("clients failed: " + "; ".join(errors))
    # 40 + 20 + 10 + 10 smtp-source, 2+2+1 smtplib (the STARTTLS one: one
    # tls record), 3 pipelined, 3 swaks, 2 swaks --tls (tls records).
    return {"total": 40 + 20 + 10 + 10 + 4 + 1 + 3 + 3 + 2, "tls": 3,
            "attached": {f"data-{tag}{s}-{i}.bin" for s, n in
                         (("x", 2), ("y", 2)) for i in range(n)}}


def routes():
    route_from("127.0.0.10", "127.0.1.10")
    route_from("127.0.0.13", "127.0.1.13")
    route_from("127.0.0.11", "127.0.1.11")
    route_from("127.0.0.12", "127.0.1.12")


# ------------------------------------------------------------ records

def lines(path):
    with open(path, "rb") as f:
        return sorted(l for l in f.read().split(b"\n") if l)


def records(path):
    return [json.loads(l) for l in lines(path)]


def read_file(binary, paths, out, threads, extra=()):
    th = ["--threads", str(threads)]
    if os.environ.get("SMTPSNIFF_LIVE_EMULATE"):
        th = []
    r = run([binary, "read"] + th + ["-o", "json:" + out]
            + list(extra) + list(paths))
    if r.returncode != 0:
        raise Fail(f"read {paths}: exit {r.returncode}: " +
                   r.stderr.decode())
    return r.stderr.decode()


def canon(path):
    """Records with `ts` taken out and `session` replaced by the
    connection's endpoints, each line with the times it came with; and the
    problems met (a session id on two connections, or two on one)."""
    out, ids, eps, bad = {}, {}, {}, []
    for raw in lines(path):
        r = json.loads(raw)
        ep = "%s:%d>%s:%d" % (r["client"]["ip"], r["client"]["port"],
                              r["server"]["ip"], r["server"]["port"])
        if ids.setdefault(r["session"], ep) != ep:
            bad.append(f"session {r['session']} on {ep} and "
                       f"{ids[r['session']]}")
        if eps.setdefault(ep, r["session"]) != r["session"]:
            bad.append(f"{ep}: sessions {r['session']} and {eps[ep]}")
        ts = r.pop("ts")
        r["session"] = ep
        out.setdefault(json.dumps(r, sort_keys=True), []).append(ts)
    return out, bad


def usec(ts):
    # "2026-12-02T18:26:46.984243Z": the day does not matter, the run is
    # short; a difference across midnight is caught as large.
    h, m, s = ts[11:-1].split(":")
    return round((int(h) * 3600 + int(m) * 60 + float(s)) * 1e6)


def same_sets(what, live, off, exact=False):
    """The live records against read's, as sets of lines. Two packet
    sockets get their own time stamps from Linux for the same packet
    (tpacket_rcv reads the clock for each socket when the packet carries
    no real-time stamp, as TCP's own on loopback are not): tcpdump's
    copy and the sensor's differ by a few microseconds, and with them
    `ts` and the session id (a hash of the endpoints and the first
    packet's time). So, unless EXACT (the same packets, as from -w
    slices), each record's `ts` must be within 2 ms of its twin and its
    session id the same connection's; every other byte must be equal."""
    a, b = lines(live), lines(off)
    if a == b:
        return check(what + " (byte for byte)", True)
    if exact:
        sa, sb = set(a), set(b)
        return check(what, False,
                     f"live {len(a)} records, off-line {len(b)}; only "
                     "live:\n" + "\n".join(x.decode() for x in
                                            sorted(sa - sb)[:5]) +
                     "\nonly off-line:\n" +
                     "\n".join(x.decode() for x in sorted(sb - sa)[:5]))
    (ca, bad_a), (cb, bad_b) = canon(live), canon(off)
    if bad_a or bad_b:
        return check(what, False, "session ids: " + "; ".join(
            (bad_a + bad_b)[:5]))
    if ca.keys() != cb.keys() or any(len(ca[k]) != len(cb[k]) for k in ca):
        only_a = [k for k in ca if len(ca[k]) > len(cb.get(k, []))]
        only_b = [k for k in cb if len(cb[k]) > len(ca.get(k, []))]
        return check(what, False,
                     f"live {len(a)} records, off-line {len(b)}; only "
                     "live (ts out, session as endpoints):\n" +
                     "\n".join(only_a[:5]) + "\nonly off-line:\n" +
                     "\n".join(only_b[:5]))
    worst = max(abs(usec(x) - usec(y)) for k in ca
                for x, y in zip(sorted(ca[k]), sorted(cb[k])))
    return check(what + f" (ts within {worst} us, the kernel's stamps)",
                 worst <= 2000, f"a ts differs by {worst} us")


def wait_lines(path, n, timeout):
    """Lines in PATH once it has N, or after TIMEOUT seconds."""
    end = time.monotonic() + timeout
    while True:
        have = len(lines(path)) if os.path.exists(path) else 0
        if have >= n or time.monotonic() > end:
            return have
        time.sleep(0.1)


def settle(s=1.5):
    # The clients are done; let the last ACKs and FINs reach the sensor.
    time.sleep(s)


# ------------------------------------------------------------ cases

def case_equal(binary, work):
    routes()
    start_servers(work)
    for threads in (1, 2):
        d = os.path.join(work, f"t{threads}")
        os.mkdir(d)
        pcap, live = os.path.join(d, "td.pcap"), os.path.join(d, "live.json")
        td = Tcpdump(pcap)
        sn = Sensor(binary, ["--threads", str(threads), "--stats-interval",
                             "0", "-o", "json:" + live])
        want = drive(d, f"t{threads}")
        settle()
        rc = sn.finish()
        td.finish()
        check(f"threads {threads}: capture exits 0 on SIGTERM", rc == 0,
              sn.text())
        rec, drop, ifdrop = sn.kernel()
        check(f"threads {threads}: the kernel dropped nothing "
              f"(received {rec})", drop == 0 and ifdrop == 0 and rec > 0,
              sn.text())
        check(f"threads {threads}: the listening line names the threads",
              re.search(r"listening on lo \(threads %d\)" % threads,
                        sn.text()) is not None, sn.text())
        off = os.path.join(d, "off.json")
        read_file(binary, [pcap], off, threads)
        same_sets(f"threads {threads}: live records == read of tcpdump's "
                  "file", live, off)
        got = records(live)
        check(f"threads {threads}: {want['total']} transactions",
              len(got) == want["total"], f"{len(got)} records")
        tls = sum(1 for r in got if r["status"] == "tls")
        check(f"threads {threads}: {want['tls']} STARTTLS sessions",
              tls == want["tls"], f"{tls} tls records")
        names = {a["filename"] for r in got for a in r["attachments"]}
        check(f"threads {threads}: the smtplib attachments by name",
              want["attached"] <= names, sorted(names))
        refused = sum(1 for r in got for x in r["rcpt"]
                      if x["code"] == 550)
        check(f"threads {threads}: 4 refused recipients (550)",
              refused == 4, refused)
        incomplete = [r for r in got if r["status"] == "incomplete"]
        check(f"threads {threads}: no incomplete record",
              not incomplete, incomplete[:2])
        # The other thread count reads the same file to the same set.
        other = os.path.join(d, "off-other.json")
        read_file(binary, [pcap], other, 3 - threads)
        same_sets(f"threads {threads}: read --threads {3 - threads} of "
                  "the same file", other, off, exact=True)


def case_slices(binary, work):
    routes()
    start_servers(work, tls=False)
    for threads in (1, 2):
        d = os.path.join(work, f"t{threads}")
        sl = os.path.join(d, "slices")
        os.makedirs(sl)
        live = os.path.join(d, "live.json")
        sn = Sensor(binary, ["--threads", str(threads), "--stats-interval",
                             "0", "-w", sl, "-C", "1", "-o",
                             "json:" + live])
        # About 4 MB: several 1 MB slices per worker.
        source(["-s", "4", "-m", "60", "-r", "2", "-l", "60000", "-M",
                "slices.live.test", "127.0.0.10:25"])
        Raw("127.0.1.31", "127.0.0.10").pipelined(2, "s")
        settle()
        rc = sn.finish()
        check(f"slices, threads {threads}: exit 0", rc == 0, sn.text())
        files = sorted(os.listdir(sl))
        check(f"slices, threads {threads}: several slices ({len(files)})",
              len(files) >= 3, files)
        big = [f for f in files if os.path.getsize(os.path.join(sl, f)) >
               1000000 + 70000]
        check(f"slices, threads {threads}: none much over 1 MB", not big,
              [(f, os.path.getsize(os.path.join(sl, f))) for f in big])
        off = os.path.join(d, "off.json")
        read_file(binary, [sl], off, threads)
        same_sets(f"slices, threads {threads}: read DIR == live", live, off,
                  exact=True)
        n = len(lines(live))
        check(f"slices, threads {threads}: 62 transactions", n == 62, n)

    # -W 1: a ring of one slice per worker, and capture goes on.
    d = os.path.join(work, "ring")
    sl = os.path.join(d, "slices")
    os.makedirs(sl)
    live = os.path.join(d, "live.json")
    sn = Sensor(binary, ["--threads", "2", "--stats-interval", "0", "-w",
                         sl, "-C", "1", "-W", "1", "-o", "json:" + live])
    source(["-s", "4", "-m", "60", "-r", "2", "-l", "60000", "127.0.0.10:25"])
    settle()
    files = os.listdir(sl)
    check(f"-W 1, threads 2: at most a slice per worker ({len(files)})",
          1 <= len(files) <= 2, files)
    source(["-s", "2", "-m", "5", "127.0.0.10:25"])
    settle()
    rc = sn.finish()
    n = len(lines(live))
    check("-W 1: capture went on past the ring's end: exit 0, 65 records",
          rc == 0 and n == 65, (rc, n))
    m = re.search(r"^  archive: .*$", sn.text(), re.M)
    print("     " + (m.group(0).strip() if m else "no archive line"))


def case_signals(binary, work):
    routes()
    start_servers(work, tls=False)
    # SIGTERM with a transaction open.
    live = os.path.join(work, "term.json")
    sn = Sensor(binary, ["--stats-interval", "0", "-o", "json:" + live])
    source(["-s", "2", "-m", "6", "-M", "term.live.test", "127.0.0.10:25"])
    half = Raw("127.0.1.32", "127.0.0.10")
    half.send(b"EHLO half.live.test\r\n")
    half.reply()
    half.send(b"MAIL FROM:<half@client.live.test>\r\n")
    half.reply()
    half.send(b"RCPT TO:<r@sink.live.test>\r\n")
    half.reply()
    half.send(b"DATA\r\n")
    half.reply()
    half.send(b"Subject: cut\r\n\r\n" + b"first half\r\n" * 100)
    settle()
    rc = sn.finish()
    check("SIGTERM: exit 0", rc == 0, sn.text())
    got = records(live)
    st = sorted(r["status"] for r in got)
    check("SIGTERM: 6 accepted, and the open transaction incomplete",
          st == ["accepted"] * 6 + ["incomplete"], st)
    cut = [r for r in got if r["mail_from"] == "half@client.live.test"]
    check("SIGTERM: the open one is the cut message",
          len(cut) == 1 and cut[0]["status"] == "incomplete", cut)
    half.s.close()

    # SIGHUP: logrotate renames the file, then signals.
    path = os.path.join(work, "hup.json")
    sn = Sensor(binary, ["--stats-interval", "0", "-o", "json:" + path])
    source(["-s", "2", "-m", "5", "-f", "before@client.live.test",
            "127.0.0.10:25"])
    # A record is in the file soon after its transaction ended, link
    # quiet or not: a log shipper tailing it must not wait for more mail.
    seen = wait_lines(path, 5, 3)
    check("json: the records are in the file within 3 s while capture "
          f"runs (flushed; {seen} of 5)", seen == 5)
    os.rename(path, path + ".1")
    sn.p.send_signal(signal.SIGHUP)
    time.sleep(1)
    check("SIGHUP: the file is made again at its path",
          os.path.exists(path))
    source(["-s", "2", "-m", "7", "-f", "after@client.live.test",
            "127.0.0.10:25"])
    settle()
    rc = sn.finish()
    check("SIGHUP then SIGTERM: exit 0", rc == 0, sn.text())
    old = [r["mail_from"] for r in records(path + ".1")]
    new = [r["mail_from"] for r in records(path)] if os.path.exists(
        path) else []
    check("SIGHUP: the 5 before are in the renamed file",
          old == ["before@client.live.test"] * 5, old)
    check("SIGHUP: the 7 after are in the new file",
          new == ["after@client.live.test"] * 7, new)

    # A SIGHUP with nothing renamed (`systemctl reload`, logrotate's
    # copytruncate) and a restart of the service must not lose what the
    # file holds: a log file is appended to.
    sn = Sensor(binary, ["--stats-interval", "0", "-o", "json:" + path])
    source(["-s", "2", "-m", "2", "-f", "third@client.live.test",
            "127.0.0.10:25"])
    settle()
    sn.p.send_signal(signal.SIGHUP)
    time.sleep(1)
    source(["-s", "2", "-m", "2", "-f", "fourth@client.live.test",
            "127.0.0.10:25"])
    settle()
    rc = sn.finish()
    got = sorted(r["mail_from"] for r in records(path))
    want = sorted(["after@client.live.test"] * 7 +
                  ["third@client.live.test"] * 2 +
                  ["fourth@client.live.test"] * 2)
    check("a restart and a SIGHUP without a rename append to the file, "
          "losing nothing", rc == 0 and got == want,
          f"{len(got)} records of {len(want)}: {got}")


def status_ids(pid):
    with open(f"/proc/{pid}/status") as f:
        st = dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
    return st


def case_privileges(binary, work):
    routes()
    start_servers(work, tls=False)
    nobody = 65534
    # The output's directory is nobody's, as /var/log/smtpsniff would be
    # the service user's: a SIGHUP reopens the file there after the drop.
    outdir = os.path.join(work, "out")
    os.mkdir(outdir)
    os.chown(outdir, nobody, nobody)
    live = os.path.join(outdir, "nobody.json")
    for threads in (1, 2):
        sn = Sensor(binary, ["-Z", "nobody", "--threads", str(threads),
                             "--stats-interval", "0", "-o",
                             "json:" + live])
        st = status_ids(sn.p.pid)
        uids = [int(x) for x in st["Uid"].split()]
        gids = [int(x) for x in st["Gid"].split()]
        check(f"-Z nobody, threads {threads}: every uid is nobody's",
              uids == [nobody] * 4, st["Uid"])
        check(f"-Z nobody, threads {threads}: every gid is nogroup's",
              gids == [nobody] * 4, st["Gid"])
        groups = sorted(int(g) for g in st.get("Groups", "").split())
        check(f"-Z nobody, threads {threads}: nobody's groups only, none "
              "of root's", groups == sorted(set(os.getgrouplist(
                  "nobody", nobody)) - {nobody}) or
              groups == sorted(set(os.getgrouplist("nobody", nobody))),
              st.get("Groups"))
        check(f"-Z nobody, threads {threads}: no capability left",
              int(st["CapEff"], 16) == 0 and int(st["CapPrm"], 16) == 0
              and int(st.get("CapAmb", "0"), 16) == 0,
              (st["CapEff"], st["CapPrm"], st.get("CapAmb")))
        # Every thread, not only the main one.
        tids = os.listdir(f"/proc/{sn.p.pid}/task")
        bad = [t for t in tids if [int(x) for x in status_ids(
            f"{sn.p.pid}/task/{t}")["Uid"].split()] != [nobody] * 4]
        check(f"-Z nobody, threads {threads}: every thread ({len(tids)})",
              not bad, bad)
        # And it still sees the traffic.
        source(["-s", "2", "-m", "4", "-f", "one@client.live.test",
                "127.0.0.10:25"])
        settle()
        os.rename(live, live + ".1")
        sn.p.send_signal(signal.SIGHUP)
        time.sleep(1)
        source(["-s", "2", "-m", "3", "-f", "two@client.live.test",
                "127.0.0.10:25"])
        settle()
        rc = sn.finish()
        n1 = len(lines(live + ".1"))
        n2 = len(lines(live)) if os.path.exists(live) else None
        check(f"-Z nobody, threads {threads}: exit 0, 4 records, and 3 in "
              "the file a SIGHUP made again as nobody",
              rc == 0 and n1 == 4 and n2 == 3 and
              os.stat(live).st_uid == nobody, (rc, n1, n2, sn.text()))
        for f in (live, live + ".1"):
            if os.path.exists(f):
                os.unlink(f)

    # The alternative to root (the systemd unit's): a user that is not
    # root with only CAP_NET_RAW, ambient. -Z has nothing to do then.
    cmd = ["setpriv", "--reuid=%d" % nobody, "--regid=%d" % nobody,
           "--clear-groups", "--inh-caps=-all,+net_raw",
           "--ambient-caps=-all,+net_raw", "--bounding-set=-all,+net_raw"]
    sn = Sensor(binary, ["--threads", "2", "-B", "32768",
                         "--stats-interval", "0", "-o", "json:" + live],
                prefix=cmd)
    # Promiscuous mode through PACKET_ADD_MEMBERSHIP: no CAP_NET_ADMIN.
    m = re.search(r"promiscuity (\d+)", run(["ip", "-d", "link", "show",
                                             IFACE]).stdout.decode())
    check("CAP_NET_RAW alone: the interface is promiscuous, once a worker",
          m is not None and int(m.group(1)) == 2, m and m.group(0))
    st = status_ids(sn.p.pid)
    check("CAP_NET_RAW alone: runs as nobody with only CAP_NET_RAW (1<<13)",
          st["Uid"].split() == [str(nobody)] * 4 and
          int(st["CapEff"], 16) == 1 << 13, (st["Uid"], st["CapEff"]))
    source(["-s", "2", "-m", "5", "127.0.0.10:25"])
    settle()
    rc = sn.finish()
    n = len(lines(live)) if os.path.exists(live) else None
    check("CAP_NET_RAW alone: listens with 2 threads (fanout), promisc, "
          "a 32 MiB ring, exit 0, "
          "5 records", rc == 0 and n == 5, (rc, n, sn.text()))


def case_outage(binary, work):
    routes()
    start_servers(work, tls=False)
    mdir = os.path.join(work, "mariadb")
    script = os.path.join(ROOT, "scripts", "mariadb-test.sh")

    def mdb(cmd):
        r = run(["bash", script, cmd, mdir])
        if r.returncode != 0:
            raise Fail(f"mariadb-test.sh {cmd}: " + r.stderr.decode())
        return r.stdout.decode().strip()
    url = mdb("start").splitlines()[-1]
    spool = os.path.join(work, "spool")
    os.mkdir(spool)
    live = os.path.join(work, "live.json")
    # The same records to a file beside the database: what the sensor
    # recorded, to find in the database afterwards, by session and depth.
    sn = Sensor(binary, ["--stats-interval", "0", "--spool-dir", spool,
                         "-o", url, "-o", "json:" + live])
    stop = threading.Event()
    errors, sent = [], [0]

    def traffic():
        i = 0
        try:
            while not stop.is_set():
                source(["-s", "2", "-m", "10", "-r", "2", "-l", "2000",
                        "-f", f"out{i}@client.live.test", "127.0.0.10:25"])
                sent[0] += 10
                i += 1
                time.sleep(0.1)
        except Exception as e:
            errors.append(repr(e))
    t = threading.Thread(target=traffic)
    t.start()
    time.sleep(2)
    before = sent[0]
    mdb("kill")
    time.sleep(3)
    during = sent[0] - before
    mdb("start")
    time.sleep(3)
    stop.set()
    t.join(60)
    settle()
    rc = sn.finish()
    check("outage: capture exits 0", rc == 0, sn.text())
    check("outage: the clients ran, and sent mail while the server was "
          f"away ({during} of {sent[0]})", not errors and during > 0,
          errors)
    got = records(live)
    check(f"outage: {sent[0]} transactions recorded",
          len(got) == sent[0], len(got))
    want = {(r["session"], r["trans_depth"], r["status"]) for r in got}
    sock = os.path.join(mdir, "mdb", "mysqld.sock")
    r = run(["mariadb", "--no-defaults", "--socket=" + sock, "-uroot", "-N",
             "-B", "smtpsniff", "-e",
             "SELECT s.uid, m.trans_depth, m.status FROM messages m "
             "JOIN sessions s ON s.id = m.session_id"])
    if r.returncode != 0:
        raise Fail("mariadb: " + r.stderr.decode())
    have = {(u, int(d), st) for u, d, st in
            (l.split("\t") for l in r.stdout.decode().splitlines())}
    check("outage: every transaction is in the database, once",
          want == have and len(have) == len(got),
          f"missing {len(want - have)}, extra {len(have - want)}; "
          f"{sorted(want - have)[:5]}\n" + sn.text())
    m = re.search(r"spooled (\d+) replayed (\d+) pending (\d+) lost (\d+)",
                  sn.text())
    check("outage: records waited in the spool while the server was away, "
          "all sent after, none lost",
          m is not None and int(m.group(1)) > 0 and m.group(3) == "0" and
          m.group(4) == "0", sn.text())
    mdb("stop")


def capture_longopts():
    """The long options of capture, from its source: every one must be a
    key of the example configuration (but help, config, list-interfaces)."""
    names = set()
    for f in ("src/cli/capture.c", "src/cli/pipeline.h"):
        with open(os.path.join(ROOT, f)) as fh:
            names |= set(re.findall(r'\{ "([a-z][a-z-]*)",', fh.read()))
    return {n.replace("-", "_") for n in names} - {
        "help", "config", "list_interfaces"}


def case_config(binary, work):
    """contrib/smtpsniff.conf.example: every capture option is a key of
    it, and capture starts with every key of it uncommented (its example
    values, paths put in the work directory); bad options are refused,
    not a crash."""
    routes()
    start_servers(work, tls=False)
    example = os.path.join(ROOT, "contrib", "smtpsniff.conf.example")
    key = os.path.join(work, "pseudo.key")
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(key, 0o600)
    spool = os.path.join(work, "spool")
    os.mkdir(spool)
    os.chown(work, 65534, 65534)
    out = os.path.join(work, "capture.json")
    over = {("", "spool_dir"): spool, ("", "output"): "sqlite:" +
            os.path.join(work, "top.db"), ("", "pseudonymise_key_file"):
            key, ("capture", "interface"): "lo", ("capture", "user"):
            "nobody", ("capture", "spool_dir"): spool,
            ("capture", "filter"): "tcp port 25",
            ("capture", "write"): os.path.join(work, "slices")}
    os.mkdir(os.path.join(work, "slices"))
    os.chown(os.path.join(work, "slices"), 65534, 65534)
    conf, section, keys, outputs = [], "", set(), 0
    with open(example) as f:
        for l in f:
            m = re.match(r"^\[(\w+)\]$", l.strip())
            if m:
                section = m.group(1)
                conf.append(l)
                continue
            m = re.match(r"^#(\w+) = (.*)$", l.rstrip("\n"))
            if not m:
                continue
            k, v = m.groups()
            if section == "capture":
                keys.add(k)
            if (section, k) == ("capture", "output"):
                # Both of the example's files: a json and an eve beside.
                v = "json:" + out if outputs == 0 else \
                    "eve:" + os.path.join(work, "eve.json")
                outputs += 1
            v = over.get((section, k), v)
            conf.append(f"{k} = {v}\n")
    want = capture_longopts()
    check("the example names every capture option",
          want <= keys, sorted(want - keys))
    check("the example names no key capture lacks", keys <= want,
          sorted(keys - want))
    path = os.path.join(work, "smtpsniff.conf")
    with open(path, "w") as f:
        f.writelines(conf)
    sn = Sensor(binary, ["-c", path], argv_iface=False)
    source(["-s", "2", "-m", "6", "127.0.0.10:25"])
    settle()
    rc = sn.finish()
    n = len(lines(out)) if os.path.exists(out) else None
    check("capture -c (every key of the example): exit 0, 6 records",
          rc == 0 and n == 6, (rc, n, "".join(conf), sn.text()))
    sl = os.listdir(os.path.join(work, "slices"))
    check("capture -c: slices written (write, file_size, files)",
          0 < len(sl), sl)
    for bad in (["--bogus"], ["-i"], ["-i", "lo", "-x"]):
        r = run([binary, "capture"] + bad, timeout=20)
        check(f"capture {' '.join(bad)}: exit 2 with the usage, no crash",
              r.returncode == 2 and b"usage" in r.stderr,
              (r.returncode, r.stderr.decode()[-300:]))


def syscall_groups():
    """systemd's syscall groups, each to its syscalls (nested expanded)."""
    out = run(["systemd-analyze", "syscall-filter"]).stdout.decode()
    groups, cur = {}, None
    for l in out.splitlines():
        if l.startswith("@"):
            cur = groups.setdefault(l.strip(), [])
        elif cur is not None and l.strip() and not l.strip().startswith(
                "#"):
            cur.append(l.strip())

    def expand(name, seen=()):
        if not name.startswith("@"):
            return {name}
        res = set()
        for m in groups.get(name, []):
            if m not in seen:
                res |= expand(m, seen + (name,))
        return res
    return expand


def unit_filter(unit):
    """The syscalls and address families contrib/systemd's unit allows."""
    expand = syscall_groups()
    allow, deny, fams = None, set(), set()
    with open(unit) as f:
        for l in f:
            l = l.strip()
            if l.startswith("SystemCallFilter="):
                v = l.split("=", 1)[1]
                names = set()
                for n in v.lstrip("~").split():
                    names |= expand(n)
                if v.startswith("~"):
                    deny |= names
                else:
                    allow = names if allow is None else allow | names
            elif l.startswith("RestrictAddressFamilies="):
                fams = set(l.split("=", 1)[1].split())
    return (allow or set()) - deny, fams


def case_sandbox(binary, work):
    """Capture as the systemd unit runs it (a user that is not root, only
    CAP_NET_RAW), traced with strace through start, mail, SIGHUP and
    SIGTERM: every system call it makes is one the unit's
    SystemCallFilter allows, and every socket's family one of its
    RestrictAddressFamilies. A call outside them would fail with EPERM
    under systemd, where no test of ours runs."""
    if shutil.which("strace") is None or \
            shutil.which("systemd-analyze") is None:
        raise Fail("strace or systemd-analyze is missing (scripts/deps.sh "
                   "--test)")
    routes()
    start_servers(work, tls=False)
    os.chown(work, 65534, 65534)
    allowed, fams = unit_filter(os.path.join(ROOT, "contrib", "systemd",
                                             "smtpsniff.service"))
    check("the unit's filter resolves to many calls", len(allowed) > 200,
          len(allowed))
    trace = os.path.join(work, "strace")
    out = os.path.join(work, "s.json")
    cmd = ["strace", "-f", "-qq", "-o", trace, "setpriv",
           "--reuid=65534", "--regid=65534", "--clear-groups",
           "--inh-caps=-all,+net_raw", "--ambient-caps=-all,+net_raw",
           "--bounding-set=-all,+net_raw"]
    sn = Sensor(binary, ["--threads", "2", "--stats-interval", "1", "-o",
                         "json:" + out, "-o", "sqlite:" +
                         os.path.join(work, "s.db"), "--spool-dir", work],
                prefix=cmd, env=dict(os.environ, ASAN_OPTIONS=os.environ.get(
                    "ASAN_OPTIONS", "") + ":detect_leaks=0"))
    # (LeakSanitizer cannot run under ptrace: it would abort at exit.)
    # The sensor is strace's child (setpriv exec'd it).
    kids = run(["ps", "-o", "pid=", "--ppid", str(sn.p.pid)]).stdout.split()
    if len(kids) != 1:
        raise Fail(f"strace's children: {kids}")
    pid = int(kids[0])
    source(["-s", "2", "-m", "4", "127.0.0.10:25"])
    settle()
    os.rename(out, out + ".1")
    os.kill(pid, signal.SIGHUP)
    time.sleep(0.5)
    source(["-s", "2", "-m", "3", "127.0.0.10:25"])
    settle()
    os.kill(pid, signal.SIGTERM)
    rc = sn.stop()
    check("traced: exit 0, 4 + 3 records", rc == 0 and len(lines(
        out + ".1")) >= 4 and len(lines(out)) >= 3, sn.text())
    used, socks, started = set(), set(), False
    with open(trace) as f:
        for l in f:
            if not started:
                started = re.search(r'execve\("[^"]*smtpsniff"', l) and \
                    l.rstrip().endswith("= 0")
                continue
            m = re.match(r"^\d+ +(?:<\.\.\. )?(\w+)[( ]", l)
            if m and m.group(1) not in ("exited", "killed", "restart_syscall"):
                used.add(m.group(1))
            m = re.match(r"^\d+ +socket\((AF_\w+)", l)
            if m:
                socks.add(m.group(1))
    check(f"traced: {len(used)} kinds of system call seen", started and
          len(used) > 20, sorted(used))
    check("every system call is one the unit allows (SystemCallFilter)",
          used <= allowed, sorted(used - allowed))
    check("every socket is of a family the unit allows "
          "(RestrictAddressFamilies)", socks <= fams,
          f"{sorted(socks)} against {sorted(fams)}")


CASES = {"equal": case_equal, "slices": case_slices,
         "signals": case_signals, "privileges": case_privileges,
         "outage": case_outage, "config": case_config,
         "sandbox": case_sandbox}


def inside(binary, case):
    setup_loopback()
    work = tempfile.mkdtemp(prefix=f"smtpsniff-live-{case}.")
    os.chmod(work, 0o755)
    t0 = time.monotonic()
    try:
        CASES[case](binary, work)
    except Fail as e:
        check(f"live/{case}", False, e)
    except Exception:
        import traceback
        check(f"live/{case}", False, traceback.format_exc())
    print(f"live/{case}: {time.monotonic() - t0:.1f} s, "
          f"{len(failures)} failure(s)", flush=True)
    if failures:
        print(f"work files kept in {work}", flush=True)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    if sys.argv[3:] == ["--inside"]:
        return inside(binary, sys.argv[2])
    return outside(binary, sys.argv[2])


if __name__ == "__main__":
    sys.exit(main())
