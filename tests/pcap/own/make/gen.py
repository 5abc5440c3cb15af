#!/usr/bin/python3
"""Make one own/ capture: gen.py CASE OUTDIR

Runs INSIDE a private network namespace that has only its loopback (make_all.sh
creates it: lo MTU 1500, TSO/GSO/GRO off, so segments are Ethernet-sized).
Starts the server, then tcpdump on lo, runs the client(s), stops tcpdump, stops
the server, and writes OUTDIR/input.pcap (checksums not yet fixed: make_all.sh
runs tcprewrite --fixcsum) and OUTDIR/expect.json from what the generator knows:
the messages it built, the replies the server was configured to give (and the
client saw), and what the server received (aiosmtpd envelope / smtp-sink dump).

Use Debian's /usr/bin/python3 (needs python3-aiosmtpd).
"""

import email
import email.policy
import hashlib
import json
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import messages as M  # noqa: E402

SERVER = "127.0.0.25"
SERVER_NAME = "mx.own.test"
CLIENT_NAME = "client.own.test"
TEST_USER = "testuser"
TEST_PASS = "test-password-not-secret"
WORK = None  # temp dir of this run


def log(*a):
    print("[gen]", *a, file=sys.stderr, flush=True)


def run(cmd, check=True, **kw):
    log("$", " ".join(cmd))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    out = p.stdout.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise SystemExit("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), out))
    return out


# ------------------------------------------------------------------ capture

class Capture:
    def __init__(self, path):
        self.path = path
        self.p = subprocess.Popen(
            ["tcpdump", "-i", "lo", "-n", "-s", "0", "-U", "--immediate-mode", "-Z", "root", "-w", path, "tcp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        line = self.p.stderr.readline().decode()
        if "listening on" not in line:
            raise SystemExit("tcpdump did not start: " + line)
        time.sleep(0.2)

    def stop(self):
        time.sleep(0.5)  # let the last ACKs and FINs through
        self.p.send_signal(signal.SIGINT)
        err = self.p.communicate(timeout=10)[1].decode()
        log("tcpdump: " + " ".join(err.split()))
        m = re.search(r"(\d+) packets captured.*?(\d+) packets dropped by kernel", err, re.S)
        if not m or int(m.group(1)) == 0 or int(m.group(2)) != 0:
            raise SystemExit("bad capture: " + err)


# ------------------------------------------------------------------ aiosmtpd server

class Recorder:
    """aiosmtpd handler: replies as configured and records what it received."""

    def __init__(self, mail_replies=None, rcpt_replies=None):
        self.mail_replies = mail_replies or {}
        self.rcpt_replies = rcpt_replies or {}
        self.events = []
        self.messages = []  # (peer, helo, mail_from, rcpts, content)
        self.auth = []
        self.qid = 0
        self.lock = threading.Lock()

    def ev(self, session, *what):
        with self.lock:
            self.events.append((session.peer,) + what)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.ev(session, "EHLO", hostname)
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        self.ev(session, "HELO", hostname)
        return "250 %s" % server.hostname

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self.mail_replies.get(address)
        if reply is None:
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
            reply = "250 2.1.0 Ok"
        self.ev(session, "MAIL", address, reply)
        return reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address)
        if reply is None:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
            reply = "250 2.1.5 Ok"
        self.ev(session, "RCPT", address, reply)
        return reply

    async def handle_RSET(self, server, session, envelope):
        self.ev(session, "RSET")
        return "250 2.0.0 Ok"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.qid += 1
            qid = self.qid
            self.messages.append({"peer": session.peer, "helo": session.host_name,
                                  "mail_from": envelope.mail_from,
                                  "rcpt": list(envelope.rcpt_tos),
                                  "content": bytes(envelope.original_content),
                                  "tls": session.ssl is not None})
        self.ev(session, "DATA", len(envelope.original_content))
        return "250 2.0.0 Ok: queued as OWN%04d" % qid

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult
        ok = (auth_data.login == TEST_USER.encode() and auth_data.password == TEST_PASS.encode())
        with self.lock:
            self.auth.append({"peer": session.peer, "mechanism": mechanism,
                              "result": "success" if ok else "failure"})
        return AuthResult(success=ok, handled=False)


def start_aiosmtpd(handler, host=SERVER, port=25, **kw):
    from aiosmtpd.controller import Controller
    c = Controller(handler, hostname=host, port=port, server_hostname=SERVER_NAME,
                   ident="own-test aiosmtpd", **kw)
    c.start()  # connects once to itself: done before tcpdump starts
    with handler.lock:
        handler.events.clear()
    return c


# ------------------------------------------------------------------ postfix private instance

MASTER_CF = """\
@LISTEN@:smtp inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
dump unix - n n - - pipe
  user=nobody argv=/bin/sh -c { exec cat > @DUMP@/${queue_id} }
"""


class Postfix:
    """A private Postfix instance (postfix -c DIR), never the system daemon.

    role "server": smtpd on SERVER:25; accepted mail goes to a pipe transport that
    writes it to a file (as nobody), so the received bytes can be checked.
    role "client": no smtpd; mail injected with its sendmail goes to pickup and the
    Postfix SMTP client relays it to [SERVER]:25 from client_addr (one connection
    at a time, cached and reused)."""

    def __init__(self, local_users=(), rcpt_access=None, role="server", client_addr=None):
        self.role = role
        self.d = os.path.join(WORK, "postfix-" + role)
        etc = os.path.join(self.d, "etc")
        for sub in ("etc", "queue", "data", "dump"):
            os.makedirs(os.path.join(self.d, sub))
        shutil.chown(os.path.join(self.d, "data"), "postfix")
        shutil.chown(os.path.join(self.d, "dump"), "nobody")
        os.chmod(WORK, 0o755)
        os.chmod(self.d, 0o755)
        with open(os.path.join(etc, "local_users"), "w") as f:
            f.writelines("%s x\n" % u for u in local_users)
        with open(os.path.join(etc, "rcpt_access"), "w") as f:
            f.writelines("%s %s\n" % kv for kv in (rcpt_access or {}).items())
        main = {
            "compatibility_level": "3.6",
            "queue_directory": self.d + "/queue",
            "data_directory": self.d + "/data",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": SERVER_NAME,
            "mydomain": "own.test",
            "myorigin": "own.test",
            "mydestination": "own.test",
            "inet_interfaces": SERVER,
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "local_recipient_maps": "texthash:%s/local_users" % etc,
            "alias_maps": "",
            "alias_database": "",
            "local_transport": "dump:",
            "default_transport": "dump:",
            "relay_transport": "dump:",
            "smtpd_peername_lookup": "no",
            "smtpd_recipient_restrictions": "check_recipient_access texthash:%s/rcpt_access, "
                                            "permit_mynetworks, reject_unauth_destination" % etc,
            "maillog_file_prefixes": self.d,
            "maillog_file": self.d + "/maillog",
            "smtpd_banner": "$myhostname ESMTP Postfix",
            "biff": "no",
        }
        master = MASTER_CF.replace("@DUMP@", self.d + "/dump")
        self.addr = SERVER
        if role == "client":
            self.addr = client_addr
            main.update({
                "myhostname": CLIENT_NAME, "mydomain": "client.own.test", "myorigin": "client.own.test",
                "mydestination": "", "inet_interfaces": client_addr,
                "relayhost": "[%s]:25" % SERVER, "local_transport": "error:no local delivery",
                "default_transport": "smtp", "relay_transport": "smtp",
                "smtp_destination_concurrency_limit": "1",
                "smtp_bind_address": client_addr,
                "defer_transports": "smtp",  # hold mail until release()
                "smtp_connection_cache_destinations": "[%s]:25, [%s], %s" % (SERVER, SERVER, SERVER),
                "smtp_connection_cache_time_limit": "3s",
                "smtp_tls_security_level": "none",
            })
            master = master.replace("@LISTEN@:smtp inet n - n - - smtpd\n",
                                    "pickup unix n - n 60 1 pickup\nsmtp unix - - n - - smtp\n")
        else:
            master = master.replace("@LISTEN@", SERVER)
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.writelines("%s = %s\n" % kv for kv in main.items())
        with open(os.path.join(etc, "master.cf"), "w") as f:
            f.write(master)
        self.etc = etc
        run(["ip", "addr", "add", self.addr + "/32", "dev", "lo"])  # postfix wants it on an interface
        run(["postfix", "-c", etc, "start"])
        for _ in range(50):
            if self.listening():
                return
            time.sleep(0.1)
        raise SystemExit("postfix did not start:\n" + self.maillog())

    def release(self):
        """Let the held mail go, all at once (so the second message reuses the connection)."""
        run(["postconf", "-c", self.etc, "-e", "defer_transports ="])
        run(["postfix", "-c", self.etc, "reload"])
        time.sleep(0.5)
        run(["postqueue", "-c", self.etc, "-f"])

    def sendmail(self, sender, msg):
        """Inject msg (recipients from its To:/Cc:) with this instance's sendmail."""
        p = subprocess.run(["sendmail", "-C", self.etc, "-f", sender, "-t", "-i"],
                           input=msg.replace(b"\r\n", b"\n"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode:
            raise SystemExit("sendmail failed: " + p.stdout.decode())

    def listening(self):
        if self.role == "client":
            return os.path.exists(os.path.join(self.d, "queue", "pid", "master.pid"))
        return (":25 " in run(["ss", "-Hltn", "src", SERVER], check=False))

    def maillog(self):
        try:
            return open(os.path.join(self.d, "maillog")).read()
        except OSError:
            return ""

    def messages(self):
        """Messages as delivered by the pipe transport, minus the Received: header
        smtpd prepended, LF turned back into CRLF: the bytes smtpd received."""
        out = {}
        for fn in os.listdir(os.path.join(self.d, "dump")):
            lines = open(os.path.join(self.d, "dump", fn), "rb").read().split(b"\n")
            assert lines[0].startswith(b"Received: from ") and lines[-1] == b""
            i = 1
            while lines[i][:1] in (b" ", b"\t"):
                i += 1
            out[fn] = b"".join(line + b"\r\n" for line in lines[i:-1])
        return out

    def stop(self):
        for _ in range(100):  # let qmgr and the pipe finish the last message
            ml = self.maillog()
            if ml.count(": removed") >= ml.count(": client="):
                break
            time.sleep(0.1)
        run(["postfix", "-c", self.etc, "stop"], check=False)
        pid_file = os.path.join(self.d, "queue", "pid", "master.pid")
        for _ in range(100):
            if not os.path.exists(pid_file):
                break
            time.sleep(0.1)
        log("postfix maillog:\n" + self.maillog())


# ------------------------------------------------------------------ smtp-sink

class SmtpSink:
    """Postfix's smtp-sink test server; dumps every message (-d) so the server-side
    size can be checked."""

    def __init__(self, listen, sessions, extra=()):
        self.dump = os.path.join(WORK, "sink")
        os.makedirs(self.dump)
        shutil.chown(self.dump, "postfix")
        os.chmod(WORK, 0o755)
        self.p = subprocess.Popen(["smtp-sink", "-u", "postfix", "-h", SERVER_NAME,
                                   "-n", str(sessions), "-d", self.dump + "/%H%M%S.", *extra,
                                   listen, "10"])
        time.sleep(0.5)

    def stop(self):
        try:
            self.p.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.p.terminate()
            self.p.wait()

    def messages(self):
        """[(x-headers dict, message bytes with CRLF)] in time order."""
        out = []
        for root, _, files in os.walk(self.dump):
            for fn in files:
                raw = open(os.path.join(root, fn), "rb").read()
                lines = raw.split(b"\n")
                assert lines[-1] == b"" and lines[-2] == b"", "dump must end with an empty line"
                lines = lines[:-2]
                xh = {}
                i = 0
                while not lines[i].startswith(b"Received: "):
                    k, v = lines[i].decode().split(": ", 1)
                    xh.setdefault(k, []).append(v)
                    i += 1
                body = lines[i + 3:]  # the Received: header is three lines
                out.append((os.path.getmtime(os.path.join(root, fn)), xh,
                            b"".join(line + b"\r\n" for line in body)))
        out.sort(key=lambda t: t[0])
        return [(xh, m) for _, xh, m in out]


# ------------------------------------------------------------------ server-side MIME check

def server_view(content):
    """What the server can tell from the message it received (Python's email
    package on the received bytes): subject, From, attachments with decoded
    size and SHA-256.  A message/rfc822 part is listed with its bytes cut from
    the raw content, then read as a message: what it carries follows it, with
    depth one more."""
    msg = email.message_from_bytes(content, policy=email.policy.default)
    atts = []

    def raw_parts(raw, boundary):
        delim = b"\r\n--" + boundary.encode()
        raw = b"\r\n" + raw
        pieces = raw.split(delim)[1:]  # drop the preamble
        out = []
        for p in pieces:
            if p.startswith(b"--"):
                break
            p = p.split(b"\r\n", 1)[1]  # rest of the delimiter line
            out.append(p)
        return out

    def body_of(raw_part):
        return raw_part.split(b"\r\n\r\n", 1)[1] if not raw_part.startswith(b"\r\n") else raw_part[2:]

    def walk(part, raw, depth):
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            atts.append({"filename": part.get_filename(), "content_type": ctype,
                         "data": body_of(raw), "depth": depth})
            walk(part.get_payload()[0], body_of(raw), depth + 1)
            return
        if part.is_multipart():
            raws = raw_parts(body_of(raw), part.get_boundary())
            subs = part.get_payload()
            assert len(raws) == len(subs), (len(raws), len(subs))
            for sub, r in zip(subs, raws):
                walk(sub, r, depth)
            return
        fn = part.get_filename()
        if part.get_content_disposition() == "attachment" or fn is not None:
            atts.append({"filename": fn, "content_type": ctype,
                         "data": part.get_payload(decode=True), "depth": depth})

    walk(msg, content, 0)
    return {
        "subject": str(msg["subject"]) if msg["subject"] is not None else None,
        "from_header": str(msg["from"]) if msg["from"] is not None else None,
        "attachments": [{"filename": a["filename"], "content_type": a["content_type"],
                         "size": len(a["data"]), "sha256": hashlib.sha256(a["data"]).hexdigest(),
                         "depth": a["depth"]}
                        for a in atts],
    }


def check_facts(content, facts, what):
    """The client's facts must match what the server received: else stop."""
    sv = server_view(content)
    problems = []
    for k in ("subject", "from_header"):
        if facts.get(k) is not None and sv[k] != facts[k]:
            problems.append("%s: server %r, generator %r" % (k, sv[k], facts[k]))
    if len(sv["attachments"]) != len(facts["attachments"]):
        problems.append("attachments: server %r, generator %r" % (sv["attachments"], facts["attachments"]))
    else:
        for s, g in zip(sv["attachments"], facts["attachments"]):
            for k in ("content_type", "size", "sha256", "filename"):
                if s[k] != g[k]:
                    problems.append("attachment %s: server %r, generator %r" % (k, s[k], g[k]))
    if problems:
        raise SystemExit("%s: generator and server disagree:\n  %s" % (what, "\n  ".join(problems)))


# ------------------------------------------------------------------ clients

def swaks(*args):
    out = run(["swaks", "--ehlo", CLIENT_NAME, "--timeout", "20", *args])
    return out


def swaks_data(name, msg):
    """swaks --data @FILE appends CRLF '.' CRLF to the file's contents (after
    dot-stuffing it): give it the message without its final CRLF so that the
    server receives exactly msg."""
    assert msg.endswith(b"\r\n") and not msg.endswith(b"\r\n\r\n")
    return "@" + write_tmp(name, msg[:-2])


def write_tmp(name, data):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def smtp_client(src, port=25, host=SERVER):
    s = smtplib.SMTP(host, port, local_hostname=CLIENT_NAME, source_address=(src, 0), timeout=20)
    return s


def expect_reply(got, code, what):
    if got[0] != code:
        raise SystemExit("%s: expected %d, got %r" % (what, code, got))


# ------------------------------------------------------------------ records

def record(helo, mail_from, rcpt, status, size=None, facts=None, server=(SERVER, 25), **extra):
    r = {"trans_depth": extra.pop("trans_depth", 1), "server": {"ip": server[0], "port": server[1]},
         "helo": helo, "mail_from": mail_from,
         "rcpt": [{"addr": a, "code": c} for a, c in rcpt], "status": status, "size": size}
    if facts:
        r["subject"] = facts["subject"]
        r["from_header"] = facts["from_header"]
        r["message_id"] = facts["message_id"]
        r["attachments"] = facts["attachments"]
    r.update(extra)
    return r


def dump_json(doc):
    """Readable JSON: one line per transaction field, one line per rcpt/attachment."""
    def one(v):
        return json.dumps(v, ensure_ascii=False)
    lines = ["{"]
    keys = list(doc)
    for ki, k in enumerate(keys):
        comma = "," if ki < len(keys) - 1 else ""
        v = doc[k]
        if k == "transactions":
            lines.append(' "transactions": [')
            for ti, t in enumerate(v):
                lines.append("  {")
                tk = list(t)
                for j, f in enumerate(tk):
                    c2 = "," if j < len(tk) - 1 else ""
                    val = t[f]
                    if isinstance(val, list) and val and isinstance(val[0], dict):
                        lines.append("   %s: [" % one(f))
                        lines.extend("    %s%s" % (one(x), "," if xi < len(val) - 1 else "")
                                     for xi, x in enumerate(val))
                        lines.append("   ]" + c2)
                    else:
                        lines.append("   %s: %s%s" % (one(f), one(val), c2))
                lines.append("  }" + ("," if ti < len(v) - 1 else ""))
            lines.append(" ]" + comma)
        else:
            lines.append(" %s: %s%s" % (one(k), one(v), comma))
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == doc
    return text


def write_expect(out, transactions, notes, **more):
    doc = {"transactions": transactions, "notes": notes}
    doc.update(more)
    with open(os.path.join(out, "expect.json"), "w") as f:
        f.write(dump_json(doc))


SIZE_NOTE = ("size = bytes of the message as the server received it: after dot-unstuffing "
             "(DATA) or the chunks joined (BDAT); the CRLF that ends the last line is "
             "included, the terminating '.' line is not.")


# ================================================================== cases

def case_rcpt_rejections(out):
    pf = Postfix(local_users=["alice", "bob", "carol", "grey"],
                 rcpt_access={"grey@own.test": "450 4.2.0 Greylisted, try again later"})
    msg, facts = M.plain_message("Per-recipient replies", "sender@client.own.test",
                                 "alice@own.test, nobody@own.test, grey@own.test, bob@own.test, ghost@own.test",
                                 "<rcpt.0001@client.own.test>",
                                 ["Two of these five recipients exist, one is greylisted."])
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        t = swaks("--server", SERVER, "--local-interface", "127.0.1.1", "--from", "sender@client.own.test",
                  "--to", "alice@own.test,nobody@own.test,grey@own.test,bob@own.test,ghost@own.test",
                  "--data", swaks_data("msg.eml", msg))
    finally:
        cap.stop()
        pf.stop()
    log(t)
    for want in ("<** 550 5.1.1 <nobody@own.test>", "<** 450 4.2.0 <grey@own.test>",
                 "<** 550 5.1.1 <ghost@own.test>", "<-  250 2.0.0 Ok: queued as"):
        assert want in t, want
    assert "nrcpt=2" in pf.maillog()
    assert list(pf.messages().values()) == [msg], pf.messages()
    rcpt = [("alice@own.test", 250), ("nobody@own.test", 550), ("grey@own.test", 450),
            ("bob@own.test", 250), ("ghost@own.test", 550)]
    write_expect(out, [record(CLIENT_NAME, "sender@client.own.test", rcpt, "accepted", len(msg), facts)],
                 "Client swaks 20201014 (127.0.1.1), server Postfix 3.7 smtpd private instance "
                 "(127.0.0.25:25): unknown local users get 550 5.1.1 (local_recipient_maps), "
                 "grey@ gets 450 4.2.0 from check_recipient_access; the message is accepted for "
                 "alice and bob (nrcpt=2 in Postfix's log) and delivered by a pipe transport "
                 "to a file: the generator's bytes exactly. " + SIZE_NOTE)


def case_auth_success(out):
    h = Recorder()
    c = start_aiosmtpd(h, port=587, authenticator=h.authenticator, auth_require_tls=False, auth_required=True)
    m1, f1 = M.plain_message("AUTH PLAIN test", "testuser@client.own.test", "bob@own.test",
                             "<auth.0001@client.own.test>", ["Sent after AUTH PLAIN."])
    m2, f2 = M.plain_message("AUTH LOGIN test", "testuser@client.own.test", "bob@own.test",
                             "<auth.0002@client.own.test>", ["Sent after AUTH LOGIN."])
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        t1 = swaks("--server", SERVER, "--port", "587", "--local-interface", "127.0.1.2",
                   "--from", "testuser@client.own.test", "--to", "bob@own.test",
                   "--auth", "PLAIN", "--auth-user", TEST_USER, "--auth-password", TEST_PASS,
                   "--data", swaks_data("m1.eml", m1))
        t2 = swaks("--server", SERVER, "--port", "587", "--local-interface", "127.0.1.2",
                   "--from", "testuser@client.own.test", "--to", "bob@own.test",
                   "--auth", "LOGIN", "--auth-user", TEST_USER, "--auth-password", TEST_PASS,
                   "--data", swaks_data("m2.eml", m2))
    finally:
        cap.stop()
        c.stop()
    log(t1 + t2)
    assert [a["mechanism"] for a in h.auth] == ["PLAIN", "LOGIN"] and all(a["result"] == "success" for a in h.auth), h.auth
    assert [x["content"] for x in h.messages] == [m1, m2]
    recs = [record(CLIENT_NAME, "testuser@client.own.test", [("bob@own.test", 250)], "accepted", len(m1), f1,
                   server=(SERVER, 587), auth={"mechanism": "PLAIN", "result": "success"}),
            record(CLIENT_NAME, "testuser@client.own.test", [("bob@own.test", 250)], "accepted", len(m2), f2,
                   server=(SERVER, 587), auth={"mechanism": "LOGIN", "result": "success"})]
    write_expect(out, recs,
                 "Two sessions (one transaction each) on the submission port 587. Client swaks "
                 "20201014 (127.0.1.2) with --auth PLAIN then --auth LOGIN; server aiosmtpd 1.4 "
                 "(127.0.0.25:587, AUTH required, 235 on success). Test credentials only. " + SIZE_NOTE,
                 must_not_store=secret_forms())


def secret_forms():
    import base64
    return sorted({TEST_PASS, base64.b64encode(TEST_PASS.encode()).decode(),
                   base64.b64encode(("\0%s\0%s" % (TEST_USER, TEST_PASS)).encode()).decode(),
                   base64.b64encode(("\0%s\0%s" % (TEST_USER, "wrong-password")).encode()).decode(),
                   "wrong-password", base64.b64encode(b"wrong-password").decode()})


def case_auth_failure(out):
    h = Recorder()
    c = start_aiosmtpd(h, port=587, authenticator=h.authenticator, auth_require_tls=False, auth_required=True)
    m1, f1 = M.plain_message("AUTH retry test", "testuser@client.own.test", "bob@own.test",
                             "<authfail.0001@client.own.test>", ["Sent after a failed AUTH PLAIN and a good AUTH LOGIN."])
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        # session 1: AUTH PLAIN with a wrong password (535), retry AUTH LOGIN (235), one message
        s = smtp_client("127.0.1.12", 587)
        s.ehlo()
        s.user, s.password = TEST_USER, "wrong-password"
        try:
            s.auth("PLAIN", s.auth_plain)
            raise SystemExit("wrong password accepted")
        except smtplib.SMTPAuthenticationError as e:
            assert e.smtp_code == 535, e
        s.user, s.password = TEST_USER, TEST_PASS
        expect_reply(s.auth("LOGIN", s.auth_login, initial_response_ok=False), 235, "AUTH LOGIN")
        expect_reply(s.mail("testuser@client.own.test"), 250, "MAIL")
        expect_reply(s.rcpt("bob@own.test"), 250, "RCPT")
        expect_reply(s.data(m1), 250, "DATA")
        s.quit()
        # session 2: AUTH PLAIN fails, the client tries MAIL anyway: 530
        s = smtp_client("127.0.1.12", 587)
        s.ehlo()
        s.user, s.password = TEST_USER, "wrong-password"
        try:
            s.auth("PLAIN", s.auth_plain)
            raise SystemExit("wrong password accepted")
        except smtplib.SMTPAuthenticationError as e:
            assert e.smtp_code == 535, e
        expect_reply(s.mail("testuser@client.own.test"), 530, "MAIL without AUTH")
        s.quit()
    finally:
        cap.stop()
        c.stop()
    assert [(a["mechanism"], a["result"]) for a in h.auth] == [("PLAIN", "failure"), ("LOGIN", "success"), ("PLAIN", "failure")], h.auth
    assert [x["content"] for x in h.messages] == [m1]
    recs = [record(CLIENT_NAME, "testuser@client.own.test", [("bob@own.test", 250)], "accepted", len(m1), f1,
                   server=(SERVER, 587), auth={"mechanism": "LOGIN", "result": "success"},
                   auth_attempts=[{"mechanism": "PLAIN", "result": "failure", "code": 535},
                                  {"mechanism": "LOGIN", "result": "success", "code": 235}]),
            record(CLIENT_NAME, "testuser@client.own.test", [], "rejected", None,
                   server=(SERVER, 587), auth={"mechanism": "PLAIN", "result": "failure"},
                   mail_reply=530,
                   auth_attempts=[{"mechanism": "PLAIN", "result": "failure", "code": 535}])]
    write_expect(out, recs,
                 "Port 587. Client Python 3.11 smtplib (127.0.1.12), server aiosmtpd 1.4 (AUTH "
                 "required). Session 1: AUTH PLAIN with a wrong password -> 535 5.7.8, then AUTH "
                 "LOGIN (334 challenges) -> 235, then one accepted message: its record's auth is "
                 "the last outcome (LOGIN success), auth_attempts lists both. Session 2: AUTH PLAIN "
                 "-> 535, MAIL -> 530 5.7.0 Authentication required, QUIT: one rejected transaction "
                 "with no recipient (if the sensor makes a record for a refused MAIL). "
                 "3 AUTH attempts in all, 2 failed (auth_guessing input). " + SIZE_NOTE,
                 must_not_store=secret_forms())


def case_bdat(out):
    pf = Postfix(local_users=["alice", "bob"], rcpt_access={})
    msg, facts = M.bdat_message()
    msg2, facts2 = M.plain_message("BDAT pipelined", "chunky@client.own.test", "bob@own.test",
                                   "<bdat.0002@client.own.test>",
                                   ["Second message: MAIL, RCPT and two BDAT chunks", ".in one write (pipelined)."])
    cuts = [0, 2500, 4100, len(msg)]  # chunk 1 and 2 end in the middle of a line
    chunks = [msg[cuts[i]:cuts[i + 1]] for i in range(3)]
    assert all(chunks) and b"".join(chunks) == msg
    replies = []
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        s = smtp_client("127.0.1.3")
        s.ehlo()
        assert s.has_extn("chunking") and s.has_extn("pipelining"), s.esmtp_features
        expect_reply(s.mail("chunky@client.own.test"), 250, "MAIL")
        expect_reply(s.rcpt("alice@own.test"), 250, "RCPT")
        for i, ch in enumerate(chunks):
            last = i == len(chunks) - 1
            s.send(b"BDAT %d%s\r\n" % (len(ch), b" LAST" if last else b"") + ch)
            r = s.getreply()
            replies.append(r)
            expect_reply(r, 250, "BDAT chunk %d" % (i + 1))
        # transaction 2, pipelined in one write: MAIL, RCPT, BDAT n, data, BDAT 0 LAST
        half = len(msg2) // 2
        s.send(b"MAIL FROM:<chunky@client.own.test>\r\nRCPT TO:<bob@own.test>\r\n"
               + b"BDAT %d\r\n" % half + msg2[:half]
               + b"BDAT %d\r\n" % (len(msg2) - half) + msg2[half:]
               + b"BDAT 0 LAST\r\n")
        for what in ("MAIL", "RCPT", "BDAT 1", "BDAT 2", "BDAT 0 LAST"):
            r = s.getreply()
            replies.append(r)
            expect_reply(r, 250, what)
        s.quit()
    finally:
        cap.stop()
        pf.stop()
    log(repr(replies))
    assert sorted(pf.messages().values()) == sorted([msg, msg2]), pf.messages()
    assert b"Ok: %d bytes queued as" % len(msg) in replies[2][1], replies
    assert b"Ok: %d bytes queued as" % len(msg2) in replies[-1][1], replies
    recs = [record(CLIENT_NAME, "chunky@client.own.test", [("alice@own.test", 250)], "accepted", len(msg), facts,
                   bdat_chunks=[len(c) for c in chunks]),
            record(CLIENT_NAME, "chunky@client.own.test", [("bob@own.test", 250)], "accepted", len(msg2), facts2,
                   trans_depth=2, bdat_chunks=[half, len(msg2) - half, 0])]
    write_expect(out, recs,
                 "Client: Python 3.11 smtplib for EHLO/MAIL/RCPT, BDAT written raw with its "
                 "send()/getreply() (no packaged client here speaks BDAT: swaks 20201014, smtplib "
                 "and Postfix's smtp client do not). Server: Postfix 3.7 smtpd private instance "
                 "(CHUNKING, PIPELINING offered), whose pipe transport delivered both messages "
                 "byte for byte as generated. Transaction 1: BDAT 2500, BDAT 1600, BDAT n LAST, "
                 "each answered before the next; chunks 1 and 2 end inside a line; the body has "
                 "lines that are '.' or start with '.', which BDAT does not stuff. Transaction 2: "
                 "MAIL, RCPT, BDAT, BDAT, BDAT 0 LAST in one write (pipelined), five 250 replies. "
                 "Postfix confirms each size in its reply to the LAST chunk (\"250 2.0.0 Ok: N bytes "
                 "queued as ...\"). "
                 + SIZE_NOTE)


def aiosmtpd_one_message(out, msg, facts, src, notes, client="swaks", rcpt=("bob@own.test",),
                         mail_from="sender@client.own.test", host=SERVER):
    h = Recorder()
    c = start_aiosmtpd(h, host=host)
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        if client == "swaks":
            t = swaks("--server", host, "--local-interface", src, "--from", mail_from,
                      "--to", ",".join(rcpt), "--data", swaks_data("msg.eml", msg))
            log(t)
        else:
            s = smtp_client(src)
            s.sendmail(mail_from, list(rcpt), msg)
            s.quit()
    finally:
        cap.stop()
        c.stop()
    assert len(h.messages) == 1
    got = h.messages[0]["content"]
    if got != msg:
        raise SystemExit("server received different bytes (%d vs %d)" % (len(got), len(msg)))
    check_facts(got, facts, out)
    write_expect(out, [record(CLIENT_NAME, mail_from, [(r, 250) for r in rcpt], "accepted", len(got), facts)],
                 notes + " " + SIZE_NOTE)
    return h


def case_attachments(out):
    msg, facts = M.attachments_message()
    aiosmtpd_one_message(out, msg, facts, "127.0.1.4",
                         "Client swaks 20201014 (127.0.1.4, --data @file), server aiosmtpd 1.4 "
                         "(127.0.0.25:25). multipart/mixed: a multipart/alternative body (text + "
                         "html, no attachment) then report.pdf (base64), notes.txt "
                         "(quoted-printable: accents, '=', soft breaks, trailing blanks, lines "
                         "starting with '.'; its decoded bytes end with CRLF) and invoice.pdf.exe "
                         "(base64, starts with MZ: a double extension). Sizes and SHA-256 are of "
                         "the decoded bytes; the server re-derived them from what it received.",
                         rcpt=("bob@own.test", "carol@own.test"), mail_from="alice@client.own.test")


def case_rfc2231_filename(out):
    msg, facts = M.rfc2231_message()
    aiosmtpd_one_message(out, msg, facts, "127.0.1.5",
                         "Client swaks 20201014 (127.0.1.5), server aiosmtpd 1.4. Subject: a UTF-8 "
                         "B encoded-word, folded, a KOI8-R Q encoded-word, then plain text (the "
                         "folding white space between the two encoded words is dropped). From: a "
                         "UTF-8 Q encoded-word display name. Attachments: (1) RFC 2231 "
                         "continuations filename*0*=UTF-8''..;filename*1*=..;filename*2=\"..\" "
                         "(same in Content-Type name*); (2) filename*=ISO-8859-1'fr'.. (3) RFC 2047 "
                         "encoded-word inside quoted filename/name (Outlook/Gmail style, not "
                         "standard); (4) plain continuations filename*0=\"..\";filename*1=\"..\". "
                         "File names are given decoded, in UTF-8.",
                         mail_from="jose@client.own.test")


def case_dot_stuffing(out):
    msg, facts = M.dot_message()
    h = Recorder()
    c = start_aiosmtpd(h)
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        s = smtp_client("127.0.1.6")
        s.sendmail("dot@client.own.test", ["bob@own.test"], msg)
        s.quit()
        t = swaks("--server", SERVER, "--local-interface", "127.0.1.16", "--from", "dot@client.own.test",
                  "--to", "bob@own.test", "--data", swaks_data("msg.eml", msg))
        log(t)
    finally:
        cap.stop()
        c.stop()
    assert len(h.messages) == 2 and all(x["content"] == msg for x in h.messages), [len(x["content"]) for x in h.messages]
    recs = [record(CLIENT_NAME, "dot@client.own.test", [("bob@own.test", 250)], "accepted", len(msg), facts)
            for _ in range(2)]
    write_expect(out, recs,
                 "Two sessions with the same message: Python 3.11 smtplib (127.0.1.6) then swaks "
                 "20201014 (127.0.1.16), both dot-stuff; server aiosmtpd 1.4 unstuffs and received "
                 "exactly the generator's %d bytes both times (%d lines start with '.', among them a "
                 "lone '.' line and the last line; on the wire each has one more '.'). "
                 % (len(msg), facts["lines_starting_with_dot"]) + SIZE_NOTE)


def case_forwarded_message(out):
    msg, facts = M.forwarded_message()
    inner = facts.pop("inner_headers")
    aiosmtpd_one_message(out, msg, facts, "127.0.1.7",
                         "Client swaks 20201014 (127.0.1.7), server aiosmtpd 1.4. Two message/rfc822 "
                         "parts: one with a file name (Thunderbird style), one with neither name nor "
                         "disposition. Their inner From/To/Subject differ from the outer ones and must "
                         "not replace them; the inner message's own attachment (numbers.xlsx) is listed "
                         "after its container with depth 1. size/sha256 of a message/rfc822 attachment: "
                         "the part body bytes (the inner message, 7bit).",
                         rcpt=("erin@own.test",), mail_from="dave@client.own.test")
    doc = json.load(open(os.path.join(out, "expect.json")))
    doc["inner_messages_not_top_level"] = inner
    with open(os.path.join(out, "expect.json"), "w") as f:
        f.write(dump_json(doc))


def case_nested_messages(out):
    msg, facts = M.nested_message()
    aiosmtpd_one_message(out, msg, facts, "127.0.1.17",
                         "Client swaks 20201014 (127.0.1.17), server aiosmtpd 1.4. A forward of a "
                         "forward: message/rfc822 inside message/rfc822, each level with an "
                         "attachment of its own after the message it carries. Every attachment is "
                         "listed, in the order it begins, a container before what it holds: "
                         "depth 0 the message's own, 1 inside the forward, 2 inside the original "
                         "(invoice.pdf.exe). Outer headers only in header.*.",
                         rcpt=("erin@own.test",), mail_from="dave@client.own.test")


def case_multi_transaction(out):
    h = Recorder(mail_replies={"blocked@spam.test": "550 5.7.1 <blocked@spam.test>: Sender address rejected: Access denied"})
    c = start_aiosmtpd(h)
    m1, f1 = M.plain_message("first of three", "one@client.own.test", "bob@own.test", "<multi.0001@client.own.test>", ["One."])
    m3, f3 = M.plain_message("second of three", "two@client.own.test", "carol@own.test", "<multi.0002@client.own.test>", ["Two."])
    m5, f5 = M.plain_message("third of three", "three@client.own.test", "bob@own.test, carol@own.test",
                             "<multi.0003@client.own.test>", ["Three."])
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        s = smtp_client("127.0.1.8")
        s.ehlo()
        # 1 accepted
        expect_reply(s.mail("one@client.own.test"), 250, "MAIL 1")
        expect_reply(s.rcpt("bob@own.test"), 250, "RCPT 1")
        expect_reply(s.data(m1), 250, "DATA 1")
        # 2 aborted by RSET
        expect_reply(s.mail("aborted@client.own.test"), 250, "MAIL 2")
        expect_reply(s.rcpt("dave@own.test"), 250, "RCPT 2")
        expect_reply(s.rset(), 250, "RSET 2")
        # 3 accepted
        expect_reply(s.mail("two@client.own.test"), 250, "MAIL 3")
        expect_reply(s.rcpt("carol@own.test"), 250, "RCPT 3")
        expect_reply(s.data(m3), 250, "DATA 3")
        # 4 MAIL rejected, then RSET
        expect_reply(s.mail("blocked@spam.test"), 550, "MAIL 4")
        expect_reply(s.rset(), 250, "RSET 4")
        # 5 accepted, two recipients
        expect_reply(s.mail("three@client.own.test"), 250, "MAIL 5")
        expect_reply(s.rcpt("bob@own.test"), 250, "RCPT 5a")
        expect_reply(s.rcpt("carol@own.test"), 250, "RCPT 5b")
        expect_reply(s.data(m5), 250, "DATA 5")
        s.quit()
    finally:
        cap.stop()
        c.stop()
    assert [x["content"] for x in h.messages] == [m1, m3, m5]
    recs = [record(CLIENT_NAME, "one@client.own.test", [("bob@own.test", 250)], "accepted", len(m1), f1, trans_depth=1),
            record(CLIENT_NAME, "aborted@client.own.test", [("dave@own.test", 250)], "aborted", None, trans_depth=2),
            record(CLIENT_NAME, "two@client.own.test", [("carol@own.test", 250)], "accepted", len(m3), f3, trans_depth=3),
            record(CLIENT_NAME, "blocked@spam.test", [], "rejected", None, trans_depth=4, mail_reply=550),
            record(CLIENT_NAME, "three@client.own.test", [("bob@own.test", 250), ("carol@own.test", 250)],
                   "accepted", len(m5), f5, trans_depth=5)]
    write_expect(out, recs,
                 "One connection, one EHLO, five transactions. Client Python 3.11 smtplib "
                 "(127.0.1.8), server aiosmtpd 1.4 with a handler that refuses MAIL from "
                 "blocked@spam.test (550 5.7.1). Order: accepted; MAIL+RCPT then RSET (aborted); "
                 "accepted; MAIL refused then RSET (rejected); accepted with two recipients. "
                 + SIZE_NOTE)


def case_starttls(out):
    import ssl
    key, crt = os.path.join(WORK, "key.pem"), os.path.join(WORK, "crt.pem")
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
         "-days", "2", "-subj", "/CN=" + SERVER_NAME])
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    h = Recorder()
    c = start_aiosmtpd(h, tls_context=ctx)
    msg, facts = M.plain_message("Sent inside TLS", "secret-sender@client.own.test", "bob@own.test",
                                 "<tls.0001@client.own.test>", ["Nobody on the wire can read this."])
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        t = swaks("--server", SERVER, "--local-interface", "127.0.1.9", "--tls",
                  "--from", "secret-sender@client.own.test", "--to", "bob@own.test",
                  "--data", swaks_data("msg.eml", msg))
    finally:
        cap.stop()
        c.stop()
    log(t)
    assert len(h.messages) == 1 and h.messages[0]["tls"] and h.messages[0]["content"] == msg
    assert "<-  220 Ready to start TLS" in t
    write_expect(out, [{"trans_depth": 1, "server": {"ip": SERVER, "port": 25}, "helo": CLIENT_NAME,
                        "mail_from": None, "rcpt": [], "status": "tls", "size": None}],
                 "Client swaks 20201014 --tls (127.0.1.9): EHLO, STARTTLS -> 220, then TLS "
                 "(Net::SSLeay); server aiosmtpd 1.4 with a throw-away self-signed certificate "
                 "(openssl req, made per run). Inside TLS the client sent EHLO again and one "
                 "message (MAIL FROM:<secret-sender@client.own.test>, 1 recipient, %d bytes) that "
                 "the server accepted; none of that is visible, so the single record has status "
                 "tls, the clear-text EHLO argument, and an empty envelope." % len(msg))


def case_ipv6(out):
    msg, facts = M.plain_message("Over IPv6", "six@client.own.test", "bob@own.test",
                                 "<ipv6.0001@client.own.test>", ["Sent over ::1."])
    sink = SmtpSink("[::1]:25", 1, ("-6",))
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        t = swaks("-6", "--server", "::1", "--local-interface", "::1", "--from", "six@client.own.test",
                  "--to", "bob@own.test", "--data", swaks_data("msg.eml", msg))
    finally:
        cap.stop()
        sink.stop()
    log(t)
    (xh, got), = sink.messages()
    assert got == msg, (len(got), len(msg))
    assert xh["X-Client-Addr"] == ["ipv6:::1"], xh
    write_expect(out, [record(CLIENT_NAME, "six@client.own.test", [("bob@own.test", 250)], "accepted",
                              len(got), facts, server=("::1", 25))],
                 "IPv6 over ::1 (both ends: the namespace's loopback has no other IPv6 address). "
                 "Client swaks 20201014 -6; server Postfix 3.7 smtp-sink -6 (its dump gave the "
                 "received message back, identical to the generator's). " + SIZE_NOTE)


def case_pipelining(out):
    sink = SmtpSink(SERVER + ":25", 10)
    pf = Postfix(role="client", client_addr="127.0.1.14")
    m1, f1 = M.plain_message("Postfix pipelined 1", "pipe1@client.own.test",
                             "bob@own.test, carol@own.test, dave@own.test",
                             "<pipe.0001@client.own.test>", ["First message relayed by Postfix."])
    m2, f2 = M.plain_message("Postfix pipelined 2", "pipe2@client.own.test", "erin@own.test, frank@own.test",
                             "<pipe.0002@client.own.test>", ["Second message, same cached connection."])
    msg, facts = M.plain_message("swaks pipelined", "pipe@client.own.test", "bob@own.test, carol@own.test",
                                 "<pipe.0003@client.own.test>", ["MAIL, RCPT, RCPT and DATA in one write."])
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        # session 1: the Postfix SMTP client relays two messages over one cached connection
        pf.sendmail("pipe1@client.own.test", m1)
        pf.sendmail("pipe2@client.own.test", m2)
        for _ in range(100):
            if pf.maillog().count("status=deferred") >= 5:
                break
            time.sleep(0.1)
        pf.release()
        for _ in range(300):
            if pf.maillog().count("status=sent") >= 5 and "127.0.1.14" not in run(["ss", "-Htn"], check=False):
                break
            time.sleep(0.1)
        else:
            raise SystemExit("postfix did not deliver:\n" + pf.maillog())
        # session 2: swaks --pipeline
        t = swaks("--pipeline", "--server", SERVER, "--local-interface", "127.0.1.13",
                  "--from", "pipe@client.own.test", "--to", "bob@own.test,carol@own.test",
                  "--data", swaks_data("msg.eml", msg))
    finally:
        cap.stop()
        sink.stop()
        pf.stop()
    log(t)
    ml = pf.maillog()
    assert "conn_use=2" in ml, "Postfix did not reuse its connection"
    got = sink.messages()
    assert len(got) == 3, len(got)
    assert got[2][1] == msg
    # the order Postfix sent them in, from its log
    qfrom = dict(re.findall(r"qmgr\[\d+\]: (\w+): from=<([^>]*)>", ml))
    order = []
    for q in re.findall(r"smtp\[\d+\]: (\w+): to=<[^>]*>, .*status=sent", ml):
        if qfrom[q] not in order:
            order.append(qfrom[q])
    def sender(xh):
        return re.match(r"<([^>]*)>", xh["X-Mail-Args"][0]).group(1)
    got[:2] = sorted(got[:2], key=lambda t: order.index(sender(t[0])))
    recs = []
    for i, (xh, m) in enumerate(got[:2]):
        # Postfix's cleanup added a Received: header (queue id, time): size from the dump
        f = f1 if m.endswith(m1) else f2
        assert m.endswith(m1) or m.endswith(m2)
        addrs = [re.match(r"<([^>]*)>", a).group(1) for a in xh["X-Rcpt-Args"]]
        mail = re.match(r"<([^>]*)>", xh["X-Mail-Args"][0]).group(1)
        recs.append(record(CLIENT_NAME, mail, [(a, 250) for a in addrs], "accepted", len(m), f,
                           trans_depth=i + 1))
    recs.append(record(CLIENT_NAME, "pipe@client.own.test", [("bob@own.test", 250), ("carol@own.test", 250)],
                       "accepted", len(msg), facts))
    write_expect(out, recs,
                 "Server Postfix 3.7 smtp-sink (offers PIPELINING). Session 1: the Postfix 3.7 "
                 "SMTP client of a private instance (127.0.1.14) relays two messages injected "
                 "with its sendmail (held with defer_transports, then released together), over one "
                 "cached connection (conn_use=2 in its log): EHLO, "
                 "then MAIL, RCPTs (with ORCPT=) and DATA in one write per message, the message in "
                 "the next, RSET between the two; the cached connection ends without QUIT (FIN "
                 "after about 2 s idle). "
                 "Postfix's pickup/cleanup prepended a Received: header (queue id and time of the "
                 "run), so those two sizes come from smtp-sink's dump of this run. Session 2: swaks "
                 "--pipeline (127.0.1.13), one message to 2 recipients. (Postfix's smtp-source was "
                 "tried first: it sends HELO and does not pipeline.) " + SIZE_NOTE)


# ------------------------------------------------------------------ evasion: crafted clients, aiosmtpd servers

def start_aiosmtpd_cls(handler, smtp_cls, host=SERVER, port=25, **kw):
    """aiosmtpd with a subclass of its SMTP session (a delayed greeting, a STARTTLS
    that answers 220 and goes on in clear text)."""
    from aiosmtpd.controller import Controller

    class Ctl(Controller):
        def factory(self):
            return smtp_cls(self.handler, **self.SMTP_kwargs)
    c = Ctl(handler, hostname=host, port=port, server_hostname=SERVER_NAME,
            ident="own-test aiosmtpd", **kw)
    c.start()
    with handler.lock:
        handler.events.clear()
    return c


def raw_client(src, port=25, host=SERVER):
    import socket
    s = socket.create_connection((host, port), timeout=20, source_address=(src, 0))
    return s


def read_replies(sock, n):
    """Read until n final reply lines ("ddd " or "ddd\r\n") have come; returns them."""
    buf = b""
    while True:
        lines = buf.split(b"\r\n")
        finals = [l for l in lines[:-1] if len(l) >= 3 and (len(l) == 3 or l[3:4] == b" ")]
        if len(finals) >= n:
            return finals
        got = sock.recv(65536)
        if not got:
            raise SystemExit("connection closed after %r" % buf)
        buf += got


def reply_codes(finals):
    return [int(l[:3]) for l in finals]


def case_pregreet(out):
    from aiosmtpd.smtp import SMTP
    import asyncio

    class SlowGreeting(SMTP):
        """Greets 0.8 s after the connection, as Postfix's postscreen greet delay
        does: a client that talks first has its commands read after the 220."""
        async def _handle_client(self):
            await asyncio.sleep(0.8)
            return await super()._handle_client()

    h = Recorder(rcpt_replies={"nobody@own.test": "550 5.1.1 <nobody@own.test>: Recipient address rejected"})
    c = start_aiosmtpd_cls(h, SlowGreeting)
    msg, facts = M.plain_message("Sent before the greeting", "bot@client.own.test", "bob@own.test",
                                 "<pregreet.0001@client.own.test>", ["The engine of a spam bot", "talks first."])
    burst = (b"HELO bot.client.own.test\r\nMAIL FROM:<bot@client.own.test>\r\n"
             b"RCPT TO:<bob@own.test>\r\nRCPT TO:<nobody@own.test>\r\nDATA\r\n"
             + msg + b".\r\nQUIT\r\n")
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        sock = raw_client("127.0.1.21")
        sock.sendall(burst)          # everything, before any server byte
        codes = reply_codes(read_replies(sock, 8))
        sock.close()
    finally:
        cap.stop()
        c.stop()
    log(codes)
    assert codes == [220, 250, 250, 250, 550, 354, 250, 221], codes
    assert len(h.messages) == 1 and h.messages[0]["content"] == msg
    write_expect(out, [record("bot.client.own.test", "bot@client.own.test",
                              [("bob@own.test", 250), ("nobody@own.test", 550)], "accepted",
                              len(msg), facts)],
                 "A crude client (a Python socket, 127.0.1.21) sends its whole conversation "
                 "in one write right after the handshake: HELO, MAIL, two RCPT, DATA, the "
                 "message, '.', QUIT; the server (aiosmtpd 1.4 whose greeting is delayed 0.8 s, "
                 "like Postfix postscreen's greet delay) greets after it and then answers the "
                 "commands in order: 220, 250, 250, 250, 550 (nobody@), 354, 250 queued, 221. "
                 "The 220 answers the connection (RFC 5321 3.1), not the HELO. " + SIZE_NOTE)


def case_ehlo_pipelined(out):
    class Refusing(Recorder):
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            if ".." in hostname:
                self.ev(session, "EHLO-refused", hostname)
                return ["501 5.5.2 <%s>: Helo command rejected: Invalid name" % hostname]
            return await super().handle_EHLO(server, session, envelope, hostname, responses)

    h = Refusing()
    c = start_aiosmtpd(h)
    m1, f1 = M.plain_message("EHLO pipelined", "eager@client.own.test", "bob@own.test",
                             "<ehlopipe.0001@client.own.test>", ["EHLO, MAIL, RCPT, DATA in one write."])
    m2, f2 = M.plain_message("EHLO refused", "second@client.own.test", "carol@own.test",
                             "<ehlopipe.0002@client.own.test>", ["The second EHLO was refused."])
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        # session 1: EHLO with the envelope pipelined after it (RFC 2920 3.1 says not to)
        s1 = raw_client("127.0.1.22")
        g = reply_codes(read_replies(s1, 1))
        s1.sendall(b"EHLO " + CLIENT_NAME.encode() + b"\r\nMAIL FROM:<eager@client.own.test>\r\n"
                   b"RCPT TO:<bob@own.test>\r\nDATA\r\n")
        codes1 = g + reply_codes(read_replies(s1, 4))
        s1.sendall(m1 + b".\r\n")
        codes1 += reply_codes(read_replies(s1, 1))
        s1.sendall(b"QUIT\r\n")
        codes1 += reply_codes(read_replies(s1, 1))
        s1.close()
        # session 2: an accepted EHLO, then a refused one with MAIL/RCPT/DATA after it
        s2 = raw_client("127.0.1.23")
        g = reply_codes(read_replies(s2, 1))
        s2.sendall(b"EHLO " + CLIENT_NAME.encode() + b"\r\n")
        codes2 = g + reply_codes(read_replies(s2, 1))
        s2.sendall(b"EHLO bad..name\r\nMAIL FROM:<second@client.own.test>\r\n"
                   b"RCPT TO:<carol@own.test>\r\nDATA\r\n")
        codes2 += reply_codes(read_replies(s2, 4))
        s2.sendall(m2 + b".\r\n")
        codes2 += reply_codes(read_replies(s2, 1))
        s2.sendall(b"QUIT\r\n")
        codes2 += reply_codes(read_replies(s2, 1))
        s2.close()
    finally:
        cap.stop()
        c.stop()
    log(codes1, codes2)
    assert codes1 == [220, 250, 250, 250, 354, 250, 221], codes1
    assert codes2 == [220, 250, 501, 250, 250, 354, 250, 221], codes2
    assert [x["content"] for x in h.messages] == [m1, m2]
    assert [x["helo"] for x in h.messages] == [CLIENT_NAME, CLIENT_NAME]
    write_expect(out, [record(CLIENT_NAME, "eager@client.own.test", [("bob@own.test", 250)], "accepted",
                              len(m1), f1),
                       record(CLIENT_NAME, "second@client.own.test", [("carol@own.test", 250)], "accepted",
                              len(m2), f2)],
                 "Server aiosmtpd 1.4 (refuses an EHLO name with '..': 501 5.5.2). Session 1 "
                 "(Python socket, 127.0.1.22): after the 220, EHLO, MAIL, RCPT and DATA in one "
                 "write; 250 (EHLO), 250, 250, 354; the message; 250; QUIT. One transaction: the "
                 "EHLO's 250 must not close what was pipelined after it. Session 2 (127.0.1.23): "
                 "EHLO client.own.test (250), then EHLO bad..name (501) with MAIL, RCPT, DATA "
                 "pipelined after it; the server kept the first name (RFC 5321 4.1.4: a refused "
                 "EHLO changes nothing; aiosmtpd's session.host_name stays client.own.test), so "
                 "the helo is the accepted one. " + SIZE_NOTE)


def case_starttls_plain(out):
    from aiosmtpd.smtp import SMTP

    class PlainStartTLS(SMTP):
        """A colluding server: STARTTLS answered 220, then no TLS at all."""
        async def smtp_STARTTLS(self, arg):
            await self.push("220 2.0.0 Ready to start TLS")

    h = Recorder()
    c = start_aiosmtpd_cls(h, PlainStartTLS)
    msg, facts = M.plain_message("Hidden behind STARTTLS", "hidden@client.own.test", "bob@own.test",
                                 "<notls.0001@client.own.test>", ["No handshake ever came."])
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        sock = raw_client("127.0.1.24")
        codes = reply_codes(read_replies(sock, 1))
        for line, n in ((b"EHLO " + CLIENT_NAME.encode(), 1), (b"STARTTLS", 1),
                        (b"EHLO " + CLIENT_NAME.encode(), 1), (b"MAIL FROM:<hidden@client.own.test>", 1),
                        (b"RCPT TO:<bob@own.test>", 1), (b"DATA", 1)):
            sock.sendall(line + b"\r\n")
            codes += reply_codes(read_replies(sock, n))
        sock.sendall(msg + b".\r\n")
        codes += reply_codes(read_replies(sock, 1))
        sock.sendall(b"QUIT\r\n")
        codes += reply_codes(read_replies(sock, 1))
        sock.close()
    finally:
        cap.stop()
        c.stop()
    log(codes)
    assert codes == [220, 250, 220, 250, 250, 250, 354, 250, 221], codes
    assert len(h.messages) == 1 and h.messages[0]["content"] == msg and not h.messages[0]["tls"]
    write_expect(out, [record(CLIENT_NAME, "hidden@client.own.test", [("bob@own.test", 250)], "accepted",
                              len(msg), facts, tls=False, anomalies_include=["starttls_not_tls"])],
                 "Two colluding ends: the server (aiosmtpd 1.4 whose STARTTLS answers "
                 "'220 2.0.0 Ready to start TLS' and starts no TLS) and a client (Python socket, "
                 "127.0.1.24) that sends EHLO again in clear text after the 220, then one "
                 "message. No TLS record is on the wire: the mail must be recorded (tls false, "
                 "anomaly starttls_not_tls), not hidden behind a status tls record. " + SIZE_NOTE)


def case_overlong_line(out):
    h = Recorder()
    c = start_aiosmtpd(h)
    msg, facts = M.plain_message("After a long line", "long@client.own.test", "bob@own.test",
                                 "<long.0001@client.own.test>", ["The NOOP before was 6000 bytes."])
    cap = Capture(os.path.join(out, "input.pcap"))
    try:
        sock = raw_client("127.0.1.25")
        codes = reply_codes(read_replies(sock, 1))
        for line in (b"EHLO " + CLIENT_NAME.encode(), b"NOOP " + b"x" * 6000,
                     b"MAIL FROM:<long@client.own.test>", b"RCPT TO:<bob@own.test>", b"DATA"):
            sock.sendall(line + b"\r\n")
            codes += reply_codes(read_replies(sock, 1))
        sock.sendall(msg + b".\r\n")
        codes += reply_codes(read_replies(sock, 1))
        sock.sendall(b"QUIT\r\n")
        codes += reply_codes(read_replies(sock, 1))
        sock.close()
    finally:
        cap.stop()
        c.stop()
    log(codes)
    assert codes == [220, 250, 500, 250, 250, 354, 250, 221], codes
    assert len(h.messages) == 1 and h.messages[0]["content"] == msg
    write_expect(out, [record(CLIENT_NAME, "long@client.own.test", [("bob@own.test", 250)], "accepted",
                              len(msg), facts, anomalies_include=["command_too_long"],
                              anomalies_exclude=["bare_lf"])],
                 "Client a Python socket (127.0.1.25), server aiosmtpd 1.4. After EHLO the client "
                 "sends NOOP with a 6000-byte argument, ended CRLF (aiosmtpd: 500 Command line too "
                 "long), then one ordinary transaction. The long line is past LIMIT_SMTP_LINE: "
                 "command_too_long, but its CR was there, only beyond the cap: no bare_lf. "
                 + SIZE_NOTE)


CASES = {
    "rcpt-rejections": case_rcpt_rejections,
    "auth-success": case_auth_success,
    "auth-failure": case_auth_failure,
    "bdat": case_bdat,
    "attachments": case_attachments,
    "rfc2231-filename": case_rfc2231_filename,
    "dot-stuffing": case_dot_stuffing,
    "forwarded-message": case_forwarded_message,
    "nested-messages": case_nested_messages,
    "multi-transaction": case_multi_transaction,
    "starttls": case_starttls,
    "ipv6": case_ipv6,
    "pipelining": case_pipelining,
    "pregreet": case_pregreet,
    "ehlo-pipelined": case_ehlo_pipelined,
    "starttls-plain": case_starttls_plain,
    "overlong-line": case_overlong_line,
}


def main():
    global WORK
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        raise SystemExit("usage: gen.py CASE OUTDIR\ncases: " + " ".join(CASES))
    case, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    WORK = tempfile.mkdtemp(prefix="smtpsniff-own-")
    try:
        CASES[case](out)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    log("done", case)


if __name__ == "__main__":
    main()
