#!/usr/bin/python3
"""The SQLite store and `smtpsniff query`, end to end.

usage: check.py SMTPSNIFF STATS_EMIT
- every record `read` writes as JSON is in the database written by the
  same `read` (-o sqlite: and -o json: at once): message fields,
  recipients with their codes, attachments with their SHA-256;
- a session row per SMTP connection, with its transaction count;
- `read` with no -o writes smtpsniff.db in the working directory;
- reading the same capture again stores nothing twice (records are keyed
  by session and trans_depth), and leaves the schema as it is; a database
  with a newer schema version is refused with a clear error; version 1,
  with rows (schema_v1.sql), is migrated and its rows get search keys;
  version 2 as main at d9ac6d7 wrote it (data/schema_v2.db) is migrated
  and its attachments get depth 0, the new ones their depth; version 3 as
  main at d9d857a wrote it (data/schema_v3.db) is migrated to 4, every
  row kept, and takes stats rows;
- the periodic statistics (stats_emit calls output_stats, as capture
  will): a row per record in the stats table with the sensor's id, every
  counter as given, a count past INT64_MAX as INT64_MAX; the same records
  again add nothing; `query stats` lists them newest last in json, csv
  and table, --limit keeps the newest, --since/--until filter;
- pseudonymise_key_file: no address as seen reaches any output, and query
  with the same configuration finds records by their real addresses;
- `query messages` finds by sender, recipient, time, subject substring,
  status and attachment hash, in table, json and csv, and treats SQL
  metacharacters in filters as plain text.
Last line: "N passed, N failed"; exit 1 on failure.
"""
import csv
import glob
import io
import json
import os
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from harness import check, run, summary  # noqa: E402


def migrated_v2(binary, tmp):
    """Version 2 as main at d9ac6d7 made it (forwarded-message and
    attachments read with --sensor main-d9ac6d7): migrated to 3, the old
    attachment rows kept with depth 0, new rows with their depth."""
    v2 = os.path.join(tmp, "v2.db")
    with open(os.path.join(HERE, "data", "schema_v2.db"), "rb") as f:
        data = f.read()
    with open(v2, "wb") as f:
        f.write(data)
    con = sqlite3.connect(v2)
    old = con.execute("SELECT id, message_id, filename, size, sha256 FROM "
                      "attachments ORDER BY id").fetchall()
    check("version 2 file as main made it", con.execute(
        "SELECT max(version) FROM schema_version").fetchone()[0] == 2 and
        len(old) == 5 and "depth" not in [
            c[1] for c in con.execute("PRAGMA table_info(attachments)")])
    con.close()
    out = run([binary, "query", "--db", v2, "messages"])
    check("query on version 2 asks for a migration",
          out.returncode == 2 and b"brings it up to date" in out.stderr,
          out.stderr.decode())
    fwd = os.path.join(ROOT, "tests", "pcap", "own", "forwarded-message",
                       "input.pcap")
    out = run([binary, "read", "-q", "--sensor", "v3", "-o",
               "sqlite:" + v2, "-o", "json:-", fwd])
    rec = json.loads(out.stdout.decode().splitlines()[0])
    con = sqlite3.connect(v2)
    check("version 2 migrated", out.returncode == 0 and con.execute(
        "SELECT max(version) FROM schema_version").fetchone()[0] == 4,
        out.stderr.decode())
    rows = con.execute("SELECT id, message_id, filename, size, sha256, depth"
                       " FROM attachments ORDER BY id").fetchall()
    check("version 2 attachment rows kept, depth 0",
          [r[:5] for r in rows[:len(old)]] == old and
          all(r[5] == 0 for r in rows[:len(old)]), str(rows))
    check("new rows with their depth",
          [(r[2].decode() if isinstance(r[2], bytes) else r[2], r[5])
           for r in rows[len(old):]] ==
          [(a["filename"], a["depth"]) for a in rec["attachments"]] and
          [a["depth"] for a in rec["attachments"]] == [0, 1, 0],
          str(rows[len(old):]))
    con.close()
    out = run([binary, "query", "--db", v2, "attachments", "--format",
               "json"])
    check("query attachments on the migrated database",
          out.returncode == 0 and b"numbers.xlsx" in out.stdout,
          out.stderr.decode())


STATS_COLS = ["uptime_ns", "threads", "packets", "bytes", "kernel_received",
              "kernel_drops", "kernel_ifdrops", "flows", "flows_active",
              "sessions", "records", "records_lost", "alerts", "mem_limit",
              "mem_total", "mem_flows", "mem_reassembly", "mem_fragments",
              "mem_sessions", "mem_records"]
INT64_MAX = 2**63 - 1


def iso(ns):
    """ns since the epoch as the store writes time (UTC, microseconds)."""
    t = time.gmtime(ns // 10**9)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + \
        ".%06dZ" % (ns % 10**9 // 1000)


def stats_row(rec):
    """What stats_emit gave, as the stats table's columns after ts."""
    vals = dict(rec)
    layers = STATS_COLS[STATS_COLS.index("mem_flows"):]
    if len(layers) != len(rec["mem_layer"]):
        raise ValueError(f"{layers} for {rec['mem_layer']}")
    for name, v in zip(layers, rec["mem_layer"]):
        vals[name] = v
    return [min(vals[c], INT64_MAX) for c in STATS_COLS]


def emit_stats(emit, db, *args):
    out = run([emit, "-o", "sqlite:" + db, *args])
    recs = [json.loads(l) for l in out.stdout.decode().splitlines()]
    return out, recs


def stats(binary, emit, tmp):
    """The periodic statistics into SQLite, and `query stats`."""
    db = os.path.join(tmp, "stats.db")
    out, recs = emit_stats(emit, db, "--sensor", "probe-a", "-n", "3")
    check("stats_emit into SQLite", out.returncode == 0 and len(recs) == 3
          and b"written 3 " in out.stderr and b"lost 0" in out.stderr,
          out.stderr.decode())
    out, huge = emit_stats(emit, db, "--sensor", "probe-b", "--seed", "1",
                           "-n", "2", "--huge")
    check("a second sensor, a count past INT64_MAX", out.returncode == 0 and
          len(huge) == 2 and huge[0]["packets"] == 2**64 - 1,
          out.stderr.decode())
    con = sqlite3.connect(db)
    rows = con.execute("SELECT se.name, st.ts, " + ", ".join(
        "st." + c for c in STATS_COLS) + " FROM stats st JOIN sensors se"
        " ON se.id = st.sensor_id ORDER BY st.ts, st.id").fetchall()
    want = [("probe-a", iso(r["ts"]), *stats_row(r)) for r in recs] + \
        [("probe-b", iso(r["ts"]), *stats_row(r)) for r in huge]
    check("a stats row per record, every counter as given", rows == want,
          f"{rows} != {want}")
    check("packets past INT64_MAX stored as INT64_MAX",
          rows[3][2 + STATS_COLS.index("packets")] == INT64_MAX, str(rows))
    con.close()
    # The same records again (a spool sent twice): nothing twice.
    emit_stats(emit, db, "--sensor", "probe-a", "-n", "3")
    con = sqlite3.connect(db)
    check("the same records again add nothing", con.execute(
        "SELECT count(*) FROM stats").fetchone()[0] == 5)
    con.close()

    def q(*args):
        o = run([binary, "query", "--db", db, "stats", *args])
        return o.returncode, o.stdout.decode(), o.stderr.decode()

    rc, txt, err = q("--format", "json")
    got = [json.loads(l) for l in txt.splitlines()]
    check("query stats json: every row, newest last", rc == 0 and
          [g["ts"] for g in got] == sorted(w[1] for w in want) and
          len(got) == 5, txt + err)
    byts = {w[1]: w for w in want}
    ok = len(got) == 5
    for g in got:
        w = byts.get(g["ts"])
        ok = ok and w is not None and g["sensor"] == w[0] and \
            [g[c] for c in STATS_COLS[1:]] == list(w[3:])
        # Seconds to the microsecond, exactly.
        ok = ok and w is not None and json.dumps(g["uptime"]) == \
            "%d.%06d" % (w[2] // 10**9, w[2] % 10**9 // 1000)
    check("query stats json: the values, uptime in seconds", ok, txt)
    rc, txt, err = q("--format", "json", "--limit", "2")
    got2 = [json.loads(l) for l in txt.splitlines()]
    check("query stats --limit keeps the newest, newest last", rc == 0 and
          [g["ts"] for g in got2] == [g["ts"] for g in got[-2:]], txt + err)
    rc, txt, err = q("--format", "csv", "--since", got[1]["ts"],
                     "--until", got[3]["ts"])
    rows = list(csv.reader(io.StringIO(txt)))
    check("query stats csv, --since/--until", rc == 0 and
          rows[0][:3] == ["ts", "sensor", "uptime"] and
          [r[0] for r in rows[1:]] == [got[1]["ts"], got[2]["ts"]] and
          rows[1][rows[0].index("kernel_drops")] ==
          str(got[1]["kernel_drops"]), txt + err)
    rc, txt, err = q()
    lines = txt.splitlines()
    check("query stats table", rc == 0 and len(lines) == 6 and
          lines[0].split()[:4] == ["ts", "sensor", "uptime", "threads"] and
          lines[-1].split()[0] == got[-1]["ts"], txt + err)
    rc, txt, err = q("--from", "a@b")
    check("query stats refuses a filter it has not", rc == 2 and
          "no such filter" in err, err)


def migrated_v3(binary, emit, tmp):
    """Version 3 as main at d9d857a made it (forwarded-message and
    attachments read with --sensor main-d9d857a): migrated to 4 with
    every row kept, and the stats table there to take rows."""
    v3 = os.path.join(tmp, "v3.db")
    with open(os.path.join(HERE, "data", "schema_v3.db"), "rb") as f:
        data = f.read()
    with open(v3, "wb") as f:
        f.write(data)
    tables = ("sensors", "sessions", "messages", "recipients",
              "attachments", "alerts")
    con = sqlite3.connect(v3)
    before = {t: con.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
              for t in tables}
    check("version 3 file as main made it", con.execute(
        "SELECT max(version) FROM schema_version").fetchone()[0] == 3 and
        len(before["messages"]) == 2 and len(before["attachments"]) == 6
        and con.execute("SELECT count(*) FROM sqlite_master WHERE name = "
                        "'stats'").fetchone()[0] == 0)
    con.close()
    out = run([binary, "query", "--db", v3, "stats"])
    check("query on version 3 asks for a migration",
          out.returncode == 2 and b"brings it up to date" in out.stderr,
          out.stderr.decode())
    # A run that opens it and stores nothing (a capture without packets):
    # the migration alone.
    empty = os.path.join(tmp, "empty.pcap")
    with open(empty, "wb") as f:
        f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff0000"
                              "01000000"))
    out = run([binary, "read", "-q", "--sensor", "main-d9d857a", "-o",
               "sqlite:" + v3, empty])
    con = sqlite3.connect(v3)
    check("version 3 migrated", out.returncode == 0 and con.execute(
        "SELECT max(version) FROM schema_version").fetchone()[0] == 4,
        out.stderr.decode())
    after = {t: con.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
             for t in tables}
    check("version 3 rows kept as they were, none added", after == before,
          str([t for t in tables if after[t] != before[t]]))
    con.close()
    out, recs = emit_stats(emit, v3, "--sensor", "main-d9d857a", "-n", "2")
    con = sqlite3.connect(v3)
    rows = con.execute("SELECT sensor_id, ts FROM stats ORDER BY ts")\
        .fetchall()
    sid = [r[0] for r in before["sensors"] if r[1] == "main-d9d857a"]
    check("the migrated database takes stats rows, the sensor's own id",
          out.returncode == 0 and len(sid) == 1 and
          rows == [(sid[0], iso(r["ts"])) for r in recs],
          f"{rows} {sid} {out.stderr.decode()}")
    con.close()


def pseudonymised(binary, caps, tmp):
    """pseudonymise_key_file: no address as seen reaches any output; query
    with the same configuration finds them by their real address."""
    key = os.path.join(tmp, "key")
    with open(key, "wb") as f:
        f.write(bytes(range(32)))
    db = os.path.join(tmp, "pseudo.db")
    conf = os.path.join(tmp, "pseudo.conf")
    with open(conf, "w") as f:
        f.write(f"pseudonymise_key_file = {key}\noutput = sqlite:{db}\n"
                "output = json:-\n")
    clear = []
    for cap in caps:
        out = run([binary, "read", "-q", "-o", "json:-", cap])
        clear += [json.loads(l) for l in out.stdout.decode().splitlines()]
    addrs = {a.lower() for r in clear
             for a in [r.get("mail_from") or ""] +
             [x["addr"] for x in r["rcpt"]] if "@" in a}
    check("addresses to look for", len(addrs) > 10, str(addrs))
    lines = b""
    for cap in caps:
        out = run([binary, "read", "-q", "-c", conf, cap])
        check(f"pseudonymised read {os.path.basename(os.path.dirname(cap))}",
              out.returncode == 0, out.stderr.decode())
        lines += out.stdout
    dump = run(["sqlite3", db, ".dump"]).stdout
    leaked = sorted(a for a in addrs if a.encode() in lines.lower() or
                    a.encode() in dump.lower())
    check("no local part as seen in the JSON or the database",
          not leaked and b"anon-" in dump and b"anon-" in lines, str(leaked))
    r0 = next(r for r in clear if r.get("mail_from") and "@" in
              r["mail_from"] and r["rcpt"])
    out = run([binary, "query", "-c", conf, "messages", "--from",
               r0["mail_from"].upper(), "--format", "json"])
    rows = [json.loads(l) for l in out.stdout.decode().splitlines()]
    check("query with the key finds the real address", out.returncode == 0
          and rows and all(x["mail_from"].startswith("anon-") for x in rows)
          and any(x["ts"] == r0["ts"] for x in rows), out.stderr.decode())
    out = run([binary, "query", "--db", db, "messages", "--from",
               r0["mail_from"], "--format", "json"])
    check("without the key the real address finds nothing",
          out.returncode == 0 and out.stdout == b"", out.stdout.decode())
    with open(key, "wb") as f:
        f.write(b"short")
    out = run([binary, "read", "-q", "-c", conf, caps[0]])
    check("a short key is refused", out.returncode == 2 and
          b"at least 16 bytes" in out.stderr, out.stderr.decode())


def main():
    binary = os.path.abspath(sys.argv[1])
    emit = os.path.abspath(sys.argv[2])
    caps = sorted(glob.glob(os.path.join(ROOT, "tests/pcap/own/*/input.pcap")))
    caps.append(os.path.join(ROOT, "tests/pcap/peers/zeek-smtp.pcap"))
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "t.db")
        recs = []
        for cap in caps:
            out = run([binary, "read", "-q", "--sensor", "s1",
                       "-o", "sqlite:" + db, "-o", "json:-", cap])
            check(f"read {os.path.basename(os.path.dirname(cap))}",
                  out.returncode == 0, out.stderr.decode())
            recs += [json.loads(l) for l in out.stdout.decode().splitlines()]
        con = sqlite3.connect(db)
        con.text_factory = bytes
        n = con.execute("SELECT count(*) FROM messages").fetchone()[0]
        # The reordered copy of a capture has the same records: stored once.
        distinct = len({(r["session"], r["trans_depth"]) for r in recs})
        check("one message row per record, none twice", n == distinct,
              f"{n} != {distinct}")
        for r in recs:
            row = con.execute(
                "SELECT m.id, m.mail_from, m.status, m.size, m.subject, "
                "m.last_reply, m.helo FROM messages m JOIN sessions s ON "
                "s.id = m.session_id WHERE s.uid = ? AND m.trans_depth = ?",
                (r["session"], r["trans_depth"])).fetchone()
            if row is None:
                check("message row", False, r["session"])
                continue
            mid = row[0]
            dec = lambda v: v.decode("utf-8", "replace") if v is not None else None
            hdr = r.get("header") or {}
            check("mail_from", dec(row[1]) == r["mail_from"])
            check("status", dec(row[2]) == r["status"])
            check("size", row[3] == r["size"])
            check("subject", dec(row[4]) == hdr.get("subject"))
            check("last_reply", dec(row[5]) == r["last_reply"])
            check("helo", dec(row[6]) == r["helo"])
            rc = con.execute("SELECT addr, code FROM recipients WHERE "
                             "message_id = ? ORDER BY id", (mid,)).fetchall()
            check("recipients", [(dec(a), c) for a, c in rc] ==
                  [(x["addr"], x["code"]) for x in r["rcpt"]])
            at = con.execute("SELECT filename, size, sha256, depth FROM "
                             "attachments WHERE message_id = ? ORDER BY id",
                             (mid,)).fetchall()
            check("attachments", [(dec(f), s, dec(h), d)
                                  for f, s, h, d in at] ==
                  [(a["filename"], a["size"], a["sha256"], a["depth"])
                   for a in r["attachments"]])
        uids = {r["session"] for r in recs}
        srows = dict(con.execute("SELECT uid, transactions FROM sessions"))
        for u in uids:
            want = max(r["trans_depth"] for r in recs if r["session"] == u)
            check("session row", srows.get(u.encode()) == want,
                  f"{u}: {srows.get(u.encode())} != {want}")
        check("one sensor", con.execute("SELECT count(*) FROM sensors")
              .fetchone()[0] == 1)
        con.close()

        # Again into the same database: more rows, same schema, same sensor.
        out = run([binary, "read", "-q", "--sensor", "s1", "-o",
                   "sqlite:" + db, caps[0]])
        check("read into an existing database", out.returncode == 0,
              out.stderr.decode())
        con = sqlite3.connect(db)
        check("schema version 4", con.execute(
            "SELECT max(version) FROM schema_version").fetchone()[0] == 4)
        check("nothing stored twice", con.execute(
            "SELECT count(*) FROM messages").fetchone()[0] == distinct)
        con.close()

        # query messages
        def q(*args):
            o = run([binary, "query", "--db", db, "messages", *args])
            return o.returncode, o.stdout.decode("utf-8", "replace")

        rc, txt = q("--format", "json")
        rows = [json.loads(l) for l in txt.splitlines()]
        check("query all", rc == 0 and len(rows) == distinct,
              f"{rc} {len(rows)}")
        r0 = next(r for r in recs if r["attachments"])
        rc, txt = q("--from", r0["mail_from"].upper(), "--format", "json")
        check("query --from (any case)", rc == 0 and all(
            json.loads(l)["mail_from"] == r0["mail_from"]
            for l in txt.splitlines()) and txt != "")
        rc, txt = q("--rcpt", r0["rcpt"][0]["addr"], "--format", "csv")
        rows = list(csv.reader(io.StringIO(txt)))
        check("query --rcpt csv", rc == 0 and len(rows) >= 2 and
              rows[0][0] == "ts")
        rc, txt = q("--attachment-sha256", r0["attachments"][0]["sha256"],
                    "--format", "json")
        check("query --attachment-sha256", rc == 0 and any(
            json.loads(l)["ts"] == r0["ts"] for l in txt.splitlines()))
        rc, txt = q("--subject", "' OR 1=1 --", "--format", "json")
        check("SQL metacharacters in a filter are text", rc == 0 and txt == "")
        rc, txt = q("--since", "2100", "--format", "json")
        check("query --since", rc == 0 and txt == "")
        rc, txt = q("--status", "accepted")
        check("table output", rc == 0 and txt.splitlines()[0].startswith("ts "))

        # The other reports.
        def qj(report, *args):
            o = run([binary, "query", "--db", db, report, "--format",
                     "json", *args])
            return o.returncode, [json.loads(l) for l in
                                  o.stdout.decode().splitlines()]

        rc, rows = qj("rejections")
        rej = [(x["addr"], x["code"]) for r in recs for x in r["rcpt"]
               if x["code"] is not None and not 200 <= x["code"] < 300]
        check("rejections: every refused RCPT counted", rc == 0 and
              sum(x["rejected"] for x in rows) == len(
                  {(r["session"], r["trans_depth"], x["addr"])
                   for r in recs for x in r["rcpt"]
                   if x["code"] is not None and not 200 <= x["code"] < 300}),
              f"{rows} vs {rej}")
        rc, rows = qj("attachments", "--attachment-sha256",
                      r0["attachments"][0]["sha256"])
        check("attachments report by hash", rc == 0 and len(rows) == 1 and
              rows[0]["filenames"] == r0["attachments"][0]["filename"] and
              rows[0]["hosts"] >= 1)
        inner = [(a["sha256"], a["depth"]) for r in recs
                 for a in r["attachments"] if a["depth"] == 2]
        rc, rows = qj("attachments", "--attachment-sha256", inner[0][0])
        check("attachments report: the depth it was found at",
              rc == 0 and len(rows) == 1 and rows[0]["depth"] == 2,
              str(rows))
        rc, rows = qj("servers")
        servers = {(r["server"]["ip"], r["server"]["port"]) for r in recs}
        check("servers report: every server seen", rc == 0 and
              {(x["server"], x["port"]) for x in rows} >= servers)
        rc, rows = qj("senders")
        check("senders report sorted by messages", rc == 0 and rows and
              rows == sorted(rows, key=lambda x: -x["messages"]))
        rc, rows = qj("sessions", "--client", "127.0.0.0/8")
        check("sessions report, client CIDR", rc == 0 and rows and all(
            x["client"].startswith("127.") or x["client"].startswith("[")
            for x in rows))
        rc, rows = qj("sessions", "--client", "::1/128")
        check("sessions report, IPv6 CIDR", rc == 0 and rows and all(
            x["client"].startswith("[::1]") for x in rows))
        rc, rows = qj("alerts")
        check("alerts report (empty until detection)", rc == 0 and rows == [])

        # Default output: smtpsniff.db in the working directory.
        out = run([binary, "read", "-q", caps[0]], cwd=tmp)
        check("default sqlite:smtpsniff.db", out.returncode == 0 and
              os.path.exists(os.path.join(tmp, "smtpsniff.db")))

        # A newer schema is refused; an older (empty) one is migrated.
        newer = os.path.join(tmp, "newer.db")
        con = sqlite3.connect(newer)
        con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        con.execute("INSERT INTO schema_version VALUES (99)")
        con.commit()
        con.close()
        out = run([binary, "read", "-q", "-o", "sqlite:" + newer, caps[0]])
        check("newer schema refused", out.returncode == 2 and
              b"newer" in out.stderr, out.stderr.decode())
        # Empty: made from nothing.
        older = os.path.join(tmp, "older.db")
        con = sqlite3.connect(older)
        con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        con.commit()
        con.close()
        out = run([binary, "read", "-q", "-o", "sqlite:" + older, caps[0]])
        con = sqlite3.connect(older)
        check("empty schema made", out.returncode == 0 and con.execute(
            "SELECT max(version) FROM schema_version").fetchone()[0] == 4 and
            con.execute("SELECT count(*) FROM messages").fetchone()[0] > 0)
        con.close()
        # Version 1 as smtpsniff 0.1 made it, with rows: migrated, and
        # its rows get their search keys.
        v1 = os.path.join(tmp, "v1.db")
        con = sqlite3.connect(v1)
        with open(os.path.join(HERE, "schema_v1.sql")) as f:
            con.executescript(f.read())
        con.close()
        out = run([binary, "query", "--db", v1, "messages"])
        check("query on version 1 asks for a migration",
              out.returncode == 2 and b"brings it up to date" in out.stderr,
              out.stderr.decode())
        out = run([binary, "read", "-q", "-o", "sqlite:" + v1, caps[0]])
        con = sqlite3.connect(v1)
        check("version 1 migrated", out.returncode == 0 and con.execute(
            "SELECT max(version) FROM schema_version").fetchone()[0] == 4,
            out.stderr.decode())
        check("version 1 rows keyed", con.execute(
            "SELECT mail_from_key FROM messages WHERE id = 1").fetchone() ==
            ("old.sender@example.org",) and con.execute(
            "SELECT addr_key FROM recipients WHERE message_id = 1")
            .fetchone() == ("old.rcpt@example.net",))
        check("version 1 rows kept, new ones added", con.execute(
            "SELECT count(*) FROM messages").fetchone()[0] > 1)
        con.close()
        out = run([binary, "query", "--db", v1, "messages", "--from",
                   "OLD.SENDER@example.org", "--rcpt", "old.rcpt@EXAMPLE.net",
                   "--format", "json"])
        rows = [json.loads(l) for l in out.stdout.decode().splitlines()]
        check("version 1 rows found by address", out.returncode == 0 and
              len(rows) == 1 and rows[0]["client"] == "192.0.2.7:40000",
              out.stdout.decode() + out.stderr.decode())
        migrated_v2(binary, tmp)
        migrated_v3(binary, emit, tmp)
        stats(binary, emit, tmp)
        pseudonymised(binary, caps, tmp)
    sys.exit(summary())


main()
