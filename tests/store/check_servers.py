#!/usr/bin/python3
"""The store on real database servers: MariaDB and PostgreSQL from Debian,
started here on loopback in a temporary directory (scripts/mariadb-test.sh,
scripts/pg-test.sh), never as system services, and stopped at the end.

usage: check_servers.py SMTPSNIFF STATS_EMIT
- the same captures read into SQLite, MariaDB and PostgreSQL at once give
  the same output for every report, in every format, with every filter;
- SQL metacharacters and bytes that are not UTF-8 come back byte for byte
  from each server (compared in hex, through the servers' own clients);
- reading the captures again stores nothing twice;
- outage, for each server: the server is killed (SIGKILL) in the middle
  of a run fed through a FIFO, and started again before the run ends:
  every record is in the database at the end, none twice, and the summary
  counts what was spooled and replayed;
- outage across runs: with the server down for a whole run the records
  wait in the spool; the next run, with the server back, sends them first;
- the spool's budget: with the server down and a small --spool-max, the
  spool stays within it, the rest is refused, counted as lost and warned
  about; the next run sends exactly what was spooled (the rows the spool
  file's units make), nothing twice, and then the spool takes units again;
- passwords from the environment and from the configuration file (-c),
  never printed; a wrong one stops the run instead of spooling;
- the periodic statistics (stats_emit calls output_stats, as capture
  will): the same rows in SQLite and each server, every counter as
  given, `query stats` the same bytes from all three; a server at schema
  3 (its stats table dropped) is migrated to 4; with the server down the
  stats records wait in the spool and the next run sends them, once.
Last line: "N passed, N failed"; exit 1 on failure.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import mkpcap  # noqa: E402
from harness import check, run, summary  # noqa: E402


class Server:
    """A throwaway server through its test script: start, kill, stop."""

    def __init__(self, kind, script, workdir, cli):
        self.kind, self.script, self.dir = kind, script, workdir
        self.cli = cli
        self.url = None

    def start(self):
        out = run(["bash", os.path.join(ROOT, "scripts", self.script),
                   "start", self.dir])
        if out.returncode != 0:
            raise RuntimeError(f"{self.kind}: {out.stderr.decode()}")
        self.url = out.stdout.decode().strip().splitlines()[-1]

    def kill(self):
        run(["bash", os.path.join(ROOT, "scripts", self.script), "kill",
             self.dir])

    def stop(self):
        run(["bash", os.path.join(ROOT, "scripts", self.script), "stop",
             self.dir])

    def sql(self, query):
        """Rows of a query through the server's own client, as text."""
        out = run(self.cli + [query])
        if out.returncode != 0:
            raise RuntimeError(f"{self.kind}: {out.stderr.decode()}")
        return [l.split("\t") for l in out.stdout.decode().splitlines()]


def mariadb(workdir):
    sock = os.path.join(workdir, "mdb", "mysqld.sock")
    return Server("mariadb", "mariadb-test.sh", workdir,
                  ["mariadb", "--no-defaults", "--socket=" + sock, "-uroot",
                   "-N", "-B", "smtpsniff", "-e"])


def postgresql(workdir):
    port = os.environ.get("SMTPSNIFF_TEST_PG_PORT", "35432")
    return Server("postgresql", "pg-test.sh", workdir,
                  ["psql", "-X", "-q", "-At", "-F", "\t", "-v",
                   "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", port, "-U",
                   "postgres", "smtpsniff", "-c"])


HEX = {"mariadb": "COALESCE(LOWER(HEX({})), '')",
       "postgresql": "COALESCE(encode({}, 'hex'), '')"}


def counts(srv):
    return tuple(int(srv.sql(f"SELECT count(*) FROM {t}")[0][0])
                 for t in ("messages", "recipients", "attachments",
                           "sessions"))


def lite_counts(path):
    import sqlite3
    con = sqlite3.connect(path)
    n = tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("messages", "recipients", "attachments",
                        "sessions"))
    con.close()
    return n


def store_line(stderr, url):
    """The summary's counts for one store: written, spooled, ..."""
    m = re.search(r"store (\S+): written (\d+) spooled (\d+) replayed (\d+)"
                  r" pending (\d+) lost (\d+)", stderr)
    if not m:
        return None
    return dict(zip(("written", "spooled", "replayed", "pending", "lost"),
                    map(int, m.groups()[1:])))


def same_reports(binary, dbs, sha, tag):
    """Every report, format and filter: the same bytes from each db."""
    filters = [[], ["--from", "USER3@example.com"],
               ["--rcpt", "NOBODY1@EXAMPLE.NET"],
               ["--since", "2023-11-14T22:13:20.1", "--until",
                "2023-11-14T22:13:20.3"],
               ["--status", "rejected"], ["--client", "10.9.1.0/28"],
               ["--server", "10.9.0.26"], ["--helo", "host2.EXAMPLE"],
               ["--subject", "VOLUME 1"], ["--attachment-sha256", sha]]
    per_report = {
        "messages": filters, "sessions": [[], filters[3], filters[5]],
        "senders": filters[:5], "servers": [[], filters[6]],
        "rejections": [[], filters[5]],
        "attachments": [[], ["--attachment-sha256", sha]], "alerts": [[]],
        "stats": [[], filters[3], ["--limit", "2"]]}
    for rep, fl in per_report.items():
        for f in fl:
            for fmt in ("table", "json", "csv"):
                outs = []
                for db in dbs:
                    o = run([binary, "query", "--db", db, rep, "--format",
                             fmt] + f)
                    outs.append((o.returncode, o.stdout, o.stderr))
                rows = outs[0][1].count(b"\n") - (fmt != "json")
                ok = all(o == outs[0] for o in outs) and outs[0][0] == 0
                # Unfiltered, every report but alerts has rows to compare.
                if not f and rep != "alerts":
                    ok = ok and rows > 0
                check(f"{tag} {rep} {fmt} {' '.join(f)}", ok,
                      " | ".join(f"{o[0]} {o[1][:300]!r} {o[2][:200]!r}"
                                 for o in outs))


def feed_fifo(fifo, data, marks):
    """Write data into fifo, pausing at each (fraction, callback)."""
    with open(fifo, "wb") as f:
        pos = 0
        for frac, cb in marks:
            end = int(len(data) * frac)
            f.write(data[pos:end])
            f.flush()
            pos = end
            cb()
        f.write(data[pos:])


def read_with_outage(binary, srv, volume, spool, fifo, extra=()):
    """A run fed through a FIFO, the server killed at 35 % of the capture
    and started again at 70 %: (exit status, stderr, events)."""
    os.makedirs(spool, exist_ok=True)
    os.mkfifo(fifo)
    with open(volume, "rb") as f:
        data = f.read()
    proc = subprocess.Popen([binary, "read", "--spool-dir", spool] +
                            list(extra) + ["-o", srv.url, fifo],
                            stderr=subprocess.PIPE)
    events = []

    def down():
        time.sleep(1.0)		# a batch or more committed
        srv.kill()
        events.append("killed")

    def up():
        time.sleep(1.0)		# records spooled while it is away
        srv.start()
        events.append("started")
        time.sleep(1.5)		# past the first retry

    t = threading.Thread(target=feed_fifo,
                         args=(fifo, data, [(0.35, down), (0.7, up)]))
    t.start()
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        t.join(timeout=120)
    return proc.returncode, err.decode(), events


def outage(binary, srv, volume, expect, tmp):
    """Kill the server in the middle of a run, start it again."""
    spool = os.path.join(tmp, f"spool-{srv.kind}")
    rc, err, events = read_with_outage(binary, srv, volume, spool,
                                       os.path.join(tmp, f"feed-{srv.kind}"))
    st = store_line(err, srv.url)
    check(f"outage {srv.kind}: run exits 0", rc == 0, err)
    check(f"outage {srv.kind}: summary", st is not None, err)
    if st is None:
        return
    check(f"outage {srv.kind}: the server was killed and came back",
          events == ["killed", "started"], str(events))
    check(f"outage {srv.kind}: records were spooled", st["spooled"] > 0,
          str(st))
    check(f"outage {srv.kind}: every spooled record replayed",
          st["replayed"] == st["spooled"] and st["pending"] == 0 and
          st["lost"] == 0, str(st))
    got = counts(srv)
    check(f"outage {srv.kind}: every record in the database, none twice",
          got == expect, f"{got} != {expect}")
    dup = srv.sql("SELECT count(*) FROM (SELECT session_id, trans_depth "
                  "FROM messages GROUP BY session_id, trans_depth "
                  "HAVING count(*) > 1) d")
    check(f"outage {srv.kind}: no message twice", dup == [["0"]], str(dup))
    check(f"outage {srv.kind}: spool emptied",
          glob.glob(os.path.join(spool, "*.spool")) == [],
          str(os.listdir(spool)))


def across_runs(binary, srv, volume, expect, tmp):
    """Down for a whole run: the next run sends the spool first."""
    spool = os.path.join(tmp, f"spool2-{srv.kind}")
    os.makedirs(spool, exist_ok=True)
    srv.kill()
    r1 = run([binary, "read", "--spool-dir", spool, "-o", srv.url, volume])
    st1 = store_line(r1.stderr.decode(), srv.url)
    check(f"spool {srv.kind}: run with the server down exits 0 (nothing "
          "lost)", r1.returncode == 0, r1.stderr.decode())
    check(f"spool {srv.kind}: everything waits in the spool",
          st1 is not None and st1["pending"] == st1["spooled"] > 0 and
          st1["written"] == 0 and st1["lost"] == 0, str(st1))
    check(f"spool {srv.kind}: one spool file",
          len(glob.glob(os.path.join(spool, "*.spool"))) == 1,
          str(os.listdir(spool)))
    srv.start()
    # The next run has nothing new to read: a capture without SMTP.
    empty = os.path.join(tmp, "empty.pcap")
    with open(empty, "wb") as f:
        f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff0000"
                              "01000000"))
    r2 = run([binary, "read", "--spool-dir", spool, "-o", srv.url, empty])
    st2 = store_line(r2.stderr.decode(), srv.url)
    check(f"spool {srv.kind}: the next run replays it", r2.returncode == 0
          and st2 is not None and st1 is not None and
          st2["replayed"] == st1["pending"] and st2["pending"] == 0,
          f"{r2.stderr.decode()} {st2}")
    got = counts(srv)
    check(f"spool {srv.kind}: every record in the database, none twice",
          got == expect, f"{got} != {expect}")


def unit_values(u, off, n):
    """Offsets after each of n values of a unit (tests/store: unit.h)."""
    ends = []
    for _ in range(n):
        tag = u[off]
        off += 1
        if not tag & 0x80:
            off += 8 if tag == 0 else 4 + int.from_bytes(u[off:off + 4],
                                                          "little")
        ends.append(off)
    return ends


def as_schema_2(unit):
    """A schema 3 MESSAGE unit ('N') as smtpsniff wrote it before ('M'):
    attachments without their depth."""
    if unit[:1] != b"N":
        return unit
    off = unit_values(unit, 1, 7 + 22)[-1]
    nr = int.from_bytes(unit[off + 1:off + 9], "little")
    off = unit_values(unit, off, 1 + 5 * nr)[-1]
    na = int.from_bytes(unit[off + 1:off + 9], "little")
    out, off = bytearray(b"M" + unit[1:off + 9]), off + 9
    for _ in range(na):
        ends = unit_values(unit, off, 6)
        out += unit[off:ends[4]]
        off = ends[5]
    return bytes(out + unit[off:])


def old_spool(binary, srv, cap, tmp):
    """A spool written before schema 3 is replayed: depth 0."""
    spool = os.path.join(tmp, f"spool3-{srv.kind}")
    os.makedirs(spool, exist_ok=True)
    srv.sql("DELETE FROM attachments")
    srv.kill()
    run([binary, "read", "-q", "--sensor", "old", "--spool-dir", spool,
         "-o", srv.url, cap])
    path = glob.glob(os.path.join(spool, "*.spool"))[0]
    data, units, off = open(path, "rb").read(), [], 0
    while off < len(data):
        n = int.from_bytes(data[off:off + 4], "little")
        units.append(data[off + 4:off + 4 + n])
        off += 8 + n
    old = [as_schema_2(u) for u in units]
    with open(path, "wb") as f:
        for u in old:
            f.write(len(u).to_bytes(4, "little") + u +
                    len(u).to_bytes(4, "little"))
    srv.start()
    r = run([binary, "read", "-q", "--spool-dir", spool, "-o", srv.url,
             os.path.join(tmp, "empty.pcap")])
    got = srv.sql("SELECT count(*), COALESCE(sum(depth), 0) FROM "
                  "attachments")
    check(f"spool {srv.kind}: schema 2 units replayed, depth 0",
          r.returncode == 0 and any(u[:1] == b"M" for u in old) and
          got[0][0] != "0" and got[0][1] == "0",
          f"{r.stderr.decode()} {got}")


def spool_units(path):
    """The units of a spool file: 4-byte length, unit, the length again
    (src/store/spool.c)."""
    with open(path, "rb") as f:
        data = f.read()
    units, pos = [], 0
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "little")
        if data[pos + 4 + n:pos + 8 + n] != data[pos:pos + 4]:
            raise ValueError(f"{path}: a torn unit at {pos}")
        units.append(data[pos + 4:pos + 4 + n])
        pos += 8 + n
    return units


def unit_decode(u, pos, k):
    """k values of a unit from pos (src/store/unit.h): a tag byte (0 an
    integer, 0x80 set NULL), then 8 bytes or a 4-byte length and bytes."""
    vals = []
    for _ in range(k):
        tag = u[pos]
        pos += 1
        if tag & 0x80:
            vals.append(None)
        elif tag == 0:
            vals.append(int.from_bytes(u[pos:pos + 8], "little",
                                       signed=True))
            pos += 8
        else:
            n = int.from_bytes(u[pos:pos + 4], "little")
            vals.append(u[pos + 4:pos + 4 + n])
            pos += 4 + n
    return vals, pos


def rows_of(units):
    """The rows the units make in an empty database: (messages,
    recipients, attachments, sessions), as counts() gives them."""
    msgs = rcpts = atts = 0
    uids = set()
    for u in units:
        if u[:1] == b"T":		# a stats record: no session
            continue
        key, pos = unit_decode(u, 1, 7)
        uids.add(key[0])
        if u[:1] in (b"M", b"N"):	# N: schema 3 (attachment depth)
            msgs += 1
            _, pos = unit_decode(u, pos, 22)
            (n,), pos = unit_decode(u, pos, 1)
            rcpts += n
            _, pos = unit_decode(u, pos, 5 * n)
            (n,), pos = unit_decode(u, pos, 1)
            atts += n
    return (msgs, rcpts, atts, len(uids))


def spool_budget(binary, srv, volume, tmp):
    """Down for a run with a small --spool-max: the spool keeps what fits,
    the rest is lost, said; the next run sends exactly what was kept."""
    spool = os.path.join(tmp, f"spoolmax-{srv.kind}")
    os.makedirs(spool, exist_ok=True)
    budget = 128 * 1024
    read = [binary, "read", "--spool-dir", spool, "--spool-max", "128K",
            "-o", srv.url]
    srv.kill()
    r1 = run(read + [volume])
    err1 = r1.stderr.decode()
    st1 = store_line(err1, srv.url)
    full = re.search(r" spool_full (\d+) spool_errors (\d+)", err1)
    tag = f"spool budget {srv.kind}"
    check(f"{tag}: a run that lost records exits 2", r1.returncode == 2,
          err1)
    check(f"{tag}: some spooled, the rest lost and counted as spool_full",
          st1 is not None and full is not None and st1["spooled"] > 0 and
          st1["lost"] > 0 and st1["written"] == 0 and
          st1["pending"] == st1["spooled"] and
          int(full.group(1)) == st1["lost"] and full.group(2) == "0",
          err1[-2000:])
    check(f"{tag}: warned once when full, and at exit",
          err1.count("is full") == 1 and
          f"{st1 and st1['lost']} records refused" in err1 and
          "NOT written" in err1, err1[-2000:])
    files = glob.glob(os.path.join(spool, "*.spool"))
    check(f"{tag}: one spool file, within the budget", len(files) == 1 and
          0 < os.path.getsize(files[0]) <= budget,
          f"{files} {[os.path.getsize(f) for f in files]}")
    if len(files) != 1 or st1 is None:
        srv.start()
        return
    units = spool_units(files[0])
    want = rows_of(units)
    check(f"{tag}: the file holds what was counted spooled",
          len(units) == st1["spooled"], f"{len(units)} {st1}")
    srv.start()
    empty = os.path.join(tmp, "empty.pcap")
    with open(empty, "wb") as f:
        f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff0000"
                              "01000000"))
    r2 = run(read + [empty])
    st2 = store_line(r2.stderr.decode(), srv.url)
    check(f"{tag}: the next run sends the spool, loses nothing",
          r2.returncode == 0 and st2 is not None and
          st2["replayed"] == st1["spooled"] and st2["pending"] == 0 and
          st2["lost"] == 0, f"{r2.stderr.decode()} {st2}")
    got = counts(srv)
    check(f"{tag}: the database has the spooled rows, and no more",
          got == want and want[0] > 0, f"{got} != {want}")
    dup = srv.sql("SELECT count(*) FROM (SELECT session_id, trans_depth "
                  "FROM messages GROUP BY session_id, trans_depth "
                  "HAVING count(*) > 1) d")
    check(f"{tag}: no message twice", dup == [["0"]], str(dup))
    check(f"{tag}: spool emptied",
          glob.glob(os.path.join(spool, "*.spool")) == [],
          str(os.listdir(spool)))
    # Emptied, the spool takes units again, as many as the first time.
    srv.kill()
    r3 = run(read + [volume])
    st3 = store_line(r3.stderr.decode(), srv.url)
    check(f"{tag}: sent, the spool has room again",
          st3 is not None and st3["spooled"] == st1["spooled"] and
          st3["lost"] == st1["lost"], f"{st3} {st1}")
    srv.start()
    for f in glob.glob(os.path.join(spool, "*.spool")):
        os.unlink(f)


def outage_budget(binary, srv, volume, expect, tmp):
    """An outage in the middle of a run, with a spool budget too small for
    it: what was spooled is sent when the server is back, the spool has
    room again, and what it refused is lost, counted, and missing."""
    spool = os.path.join(tmp, f"spool4-{srv.kind}")
    rc, err, events = read_with_outage(
        binary, srv, volume, spool, os.path.join(tmp, f"feed4-{srv.kind}"),
        ["--spool-max", "64K"])
    st = store_line(err, srv.url)
    full = re.search(r" spool_full (\d+) spool_errors (\d+)", err)
    tag = f"outage budget {srv.kind}"
    check(f"{tag}: the server was killed and came back",
          events == ["killed", "started"], str(events))
    check(f"{tag}: a run that lost records exits 2", rc == 2, err[-2000:])
    check(f"{tag}: spooled, replayed in the run, the rest counted lost",
          st is not None and full is not None and st["spooled"] > 0 and
          st["replayed"] == st["spooled"] and st["pending"] == 0 and
          st["lost"] > 0 and int(full.group(1)) == st["lost"] and
          full.group(2) == "0", err[-2000:])
    check(f"{tag}: said when full, and when it had room again",
          err.count("is full") == 1 and "has room again" in err and
          err.index("is full") < err.index("has room again"), err[-2000:])
    got = counts(srv)
    check(f"{tag}: the refused records are missing, the rest there once",
          st is not None and got[0] < expect[0] and
          got[0] + got[3] >= expect[0] + expect[3] - st["lost"],
          f"{got} {expect} {st}")
    dup = srv.sql("SELECT count(*) FROM (SELECT session_id, trans_depth "
                  "FROM messages GROUP BY session_id, trans_depth "
                  "HAVING count(*) > 1) d")
    check(f"{tag}: no message twice", dup == [["0"]], str(dup))
    check(f"{tag}: spool emptied",
          glob.glob(os.path.join(spool, "*.spool")) == [],
          str(os.listdir(spool)))


STATS_SQL = ("SELECT se.name, st.ts, st.uptime_ns, st.threads, st.packets,"
             " st.bytes, st.kernel_received, st.kernel_drops,"
             " st.kernel_ifdrops, st.flows, st.flows_active, st.sessions,"
             " st.records, st.records_lost, st.alerts, st.mem_limit,"
             " st.mem_total, st.mem_flows, st.mem_reassembly,"
             " st.mem_fragments, st.mem_sessions, st.mem_records FROM stats"
             " st JOIN sensors se ON se.id = st.sensor_id"
             " ORDER BY st.ts, se.name")


def given(rec, sensor):
    """A stats row as stats_emit gave it, as text (the servers' clients
    print text): counters past INT64_MAX stored as INT64_MAX."""
    ns = rec["ts"]
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + \
        ".%06dZ" % (ns % 10**9 // 1000)
    vals = [rec[k] for k in ("uptime_ns", "threads", "packets", "bytes",
                             "kernel_received", "kernel_drops",
                             "kernel_ifdrops", "flows", "flows_active",
                             "sessions", "records", "records_lost",
                             "alerts", "mem_limit", "mem_total")]
    vals += rec["mem_layer"]
    return [sensor, ts] + [str(min(v, 2**63 - 1)) for v in vals]


def lite_stats(path):
    import sqlite3
    con = sqlite3.connect(path)
    rows = [[str(v) for v in r] for r in con.execute(STATS_SQL)]
    con.close()
    return rows


def stats_rows(emit, servers, lite, outs):
    """Stats records into SQLite and both servers at once: the rows each
    holds are what was given."""
    want = []
    for sensor, seed, extra in (("s1", "0", []), ("s2", "1", ["--huge"])):
        r = run([emit, "--sensor", sensor, "--seed", seed, "-n", "3"] +
                extra + outs)
        recs = [json.loads(l) for l in r.stdout.decode().splitlines()]
        check(f"stats_emit {sensor} into SQLite and the servers",
              r.returncode == 0 and len(recs) == 3 and
              r.stderr.decode().count("written 3 ") == 3,
              r.stderr.decode())
        want += [given(x, sensor) for x in recs]
    want.sort(key=lambda w: (w[1], w[0]))
    check("stats rows in SQLite", lite_stats(lite) == want,
          f"{lite_stats(lite)} != {want}")
    for s in servers:
        got = s.sql(STATS_SQL)
        check(f"{s.kind}: the stats rows, every counter as given",
              got == want, f"{got} != {want}")


def stats_migrated(binary, emit, servers, lite, outs, cap):
    """A server at schema 3 (the stats table dropped, the version row
    gone) is migrated to 4 by the next run and takes stats rows again."""
    for s in servers:
        s.sql("DROP TABLE stats")
        s.sql("DELETE FROM schema_version WHERE version = 4")
    before = [counts(s) for s in servers]
    r = run([binary, "read", "-q", "--sensor", "s1"] +
            [a for s in servers for a in ("-o", s.url)] + [cap])
    check("servers at schema 3 migrated", r.returncode == 0,
          r.stderr.decode())
    for s, b in zip(servers, before):
        check(f"{s.kind}: 3 -> 4, rows kept",
              s.sql("SELECT max(version) FROM schema_version") == [["4"]]
              and counts(s) == b and
              s.sql("SELECT count(*) FROM stats") == [["0"]],
              f"{counts(s)} {b}")
    r = run([emit, "--sensor", "s1", "-n", "3"] + outs)
    check("stats again after the migration", r.returncode == 0,
          r.stderr.decode())
    want = lite_stats(lite)
    for s in servers:
        got = s.sql(STATS_SQL)
        check(f"{s.kind}: the migrated table takes the rows SQLite has "
              "(the same records: nothing twice in SQLite)",
              got == [w for w in want if w[0] == "s1"] and len(got) == 3,
              f"{got} != {want}")


def stats_spooled(emit, srv, tmp):
    """Stats records made while the server is away wait in the spool;
    the next run sends them first, and again adds nothing twice."""
    spool = os.path.join(tmp, f"spool-stats-{srv.kind}")
    os.makedirs(spool, exist_ok=True)
    srv.sql("DELETE FROM stats")
    srv.kill()
    base = [emit, "--sensor", "s9", "--spool-dir", spool, "-o", srv.url]
    r1 = run(base + ["--seed", "9", "-n", "4"])
    recs = [json.loads(l) for l in r1.stdout.decode().splitlines()]
    st1 = store_line(r1.stderr.decode(), srv.url)
    check(f"stats spool {srv.kind}: all wait in the spool",
          r1.returncode == 0 and st1 is not None and st1["spooled"] == 4
          and st1["pending"] == 4 and st1["lost"] == 0, r1.stderr.decode())
    files = glob.glob(os.path.join(spool, "*.spool"))
    check(f"stats spool {srv.kind}: STATS units in the file",
          len(files) == 1 and [u[:1] for u in spool_units(files[0])] ==
          [b"T"] * 4, str(files))
    srv.start()
    r2 = run(base + ["-n", "0"])
    st2 = store_line(r2.stderr.decode(), srv.url)
    check(f"stats spool {srv.kind}: the next run sends them",
          r2.returncode == 0 and st2 is not None and st2["replayed"] == 4
          and st2["pending"] == 0, r2.stderr.decode())
    want = sorted((given(x, "s9") for x in recs), key=lambda w: w[1])
    got = srv.sql(STATS_SQL)
    check(f"stats spool {srv.kind}: the rows, once", got == want,
          f"{got} != {want}")
    # The same records spooled and sent again (as after a crash before
    # the spool was cleared): nothing twice.
    srv.kill()
    run(base + ["--seed", "9", "-n", "4"])
    srv.start()
    r3 = run(base + ["-n", "0"])
    check(f"stats spool {srv.kind}: sent twice, stored once",
          r3.returncode == 0 and srv.sql(STATS_SQL) == want,
          r3.stderr.decode())


def passwords(binary, srv, cap, tmp):
    """A MariaDB user with a password: from the environment, from the
    configuration file, never printed; a wrong one is an error at start
    (not a reason to spool)."""
    # Every character a naive reader cuts or splits at: comment
    # characters, '=', both quotes, a backslash, blanks (taken whole).
    secret = "#s3cr'et; pw=\"x\" \\ end"
    lit = secret.replace("\\", "\\\\").replace("'", "''")
    srv.sql("CREATE USER IF NOT EXISTS 'sniff'@'127.0.0.1' IDENTIFIED BY "
            f"'{lit}'")
    srv.sql("GRANT ALL ON smtpsniff.* TO 'sniff'@'127.0.0.1'")
    url = srv.url.replace("root@", "sniff@")
    env = dict(os.environ, SMTPSNIFF_DB_PASSWORD=secret)
    r = run([binary, "read", "-o", url, cap], env=env)
    check("password from the environment", r.returncode == 0 and
          secret.encode() not in r.stderr, r.stderr.decode())
    conf = os.path.join(tmp, "smtpsniff.conf")
    with open(conf, "w") as f:
        f.write(f"# test\noutput = {url}\nsensor = conf-sensor\n"
                f"db_password = {secret}\n")
    os.chmod(conf, 0o600)
    r = run([binary, "read", "-c", conf, cap])
    check("password and outputs from the configuration", r.returncode == 0
          and secret.encode() not in r.stderr and b"others may read" not in
          r.stderr, r.stderr.decode())
    check("sensor from the configuration",
          srv.sql("SELECT count(*) FROM sensors WHERE name = 'conf-sensor'")
          == [["1"]])
    q = run([binary, "query", "-c", conf, "sessions", "--format", "csv"])
    check("query finds the configured database", q.returncode == 0 and
          q.stdout.count(b"\n") > 1, q.stderr.decode())
    os.chmod(conf, 0o644)
    r = run([binary, "read", "-c", conf, cap])
    check("a password file others can read is warned about",
          r.returncode == 0 and b"others may read" in r.stderr,
          r.stderr.decode())
    # The same password in double quotes, with a comment line, a blank
    # line and a section-less file's CRLF ends.
    quoted = secret.replace("\\", "\\\\").replace('"', '\\"')
    qconf = os.path.join(tmp, "quoted.conf")
    with open(qconf, "w", newline="") as f:
        f.write(f"; quoted\r\n\r\noutput = {url}\r\n"
                f"  db_password = \"{quoted}\"  \r\n")
    os.chmod(qconf, 0o600)
    r = run([binary, "read", "-c", qconf, cap])
    check("a quoted password from the configuration", r.returncode == 0
          and secret.encode() not in r.stderr, r.stderr.decode())
    wrong = dict(os.environ, SMTPSNIFF_DB_PASSWORD="wrong")
    spool = os.path.join(tmp, "spool-pw")
    os.makedirs(spool)
    r = run([binary, "read", "--spool-dir", spool, "-o", url, cap],
            env=wrong)
    check("a wrong password stops the run, nothing spooled",
          r.returncode == 2 and b"denied" in r.stderr and
          b"wrong" not in r.stderr and os.listdir(spool) == [],
          r.stderr.decode())
    # In the URL, percent-encoded; [::1] when loopback has it.
    enc = urllib.parse.quote(secret, safe="")
    port = srv.url.rsplit(":", 1)[1].split("/")[0]
    urls = [("127.0.0.1", url.replace("sniff@", f"sniff:{enc}@"))]
    if has_loopback6():
        srv.sql("CREATE USER IF NOT EXISTS 'sniff'@'::1' IDENTIFIED BY "
                f"'{lit}'")
        srv.sql("GRANT ALL ON smtpsniff.* TO 'sniff'@'::1'")
        urls.append(("[::1]", f"mysql://sniff:{enc}@[::1]:{port}/smtpsniff"))
    for host, u in urls:
        r = run([binary, "read", "-o", u, cap])
        st = store_line(r.stderr.decode(), u)
        check(f"a percent-encoded password in the URL, {host}",
              r.returncode == 0 and st is not None and st["written"] > 0
              and secret.encode() not in r.stderr and enc.encode() not in
              r.stderr, r.stderr.decode())
    r = run([binary, "read", "-o", urls[0][1].replace("@127", "%zz@127"),
             cap])
    check("a malformed URL is a clear error, no password shown",
          r.returncode == 2 and b"bad %-escape in the password" in r.stderr
          and secret.encode() not in r.stderr and enc.encode() not in
          r.stderr, r.stderr.decode())
    with open(conf, "a") as f:
        f.write("outptu = x\n")
    r = run([binary, "read", "-c", conf, cap])
    check("an unknown configuration key is an error with its line",
          r.returncode == 2 and b"smtpsniff.conf:5: unknown key outptu"
          in r.stderr, r.stderr.decode())


def has_loopback6():
    """Whether loopback has ::1 (mariadb-test.sh then binds it too)."""
    try:
        with open("/proc/net/if_inet6") as f:
            return any(l.split()[0] == "0" * 31 + "1" and
                       l.split()[-1] == "lo" for l in f)
    except OSError:
        return False


def pg_passwords(binary, srv, cap, tmp):
    """A PostgreSQL role with the same hostile password (scram-sha-256
    for it alone, the rest stays trust): percent-encoded in the URI, from
    the environment and the configuration; libpq's complaints that quote
    the URI never show it, encoded or not."""
    secret = "#s3cr'et; pw=\"x\" \\ end"
    lit = secret.replace("'", "''")
    srv.sql(f"CREATE ROLE sniffpw LOGIN PASSWORD '{lit}'")
    srv.sql("CREATE DATABASE pwdb OWNER sniffpw")
    hba = os.path.join(srv.dir, "pg", "data", "pg_hba.conf")
    with open(hba) as f:
        rules = f.read()
    with open(hba, "w") as f:
        f.write("host all sniffpw 127.0.0.1/32 scram-sha-256\n" + rules)
    srv.sql("SELECT pg_reload_conf()")
    port = srv.url.rsplit(":", 1)[1].split("/")[0]
    enc = urllib.parse.quote(secret, safe="")
    bare = f"postgresql://sniffpw@127.0.0.1:{port}/pwdb"

    def clean(r):
        return secret.encode() not in r.stderr and \
            enc.encode() not in r.stderr

    r = run([binary, "read", "-o", bare, cap],
            env=dict(os.environ, SMTPSNIFF_DB_PASSWORD="wrong"))
    check("postgresql: the role really needs its password",
          r.returncode == 2 and b"password authentication failed" in
          r.stderr, r.stderr.decode())
    for how, u in (("in the URI", bare.replace("sniffpw@",
                                                f"sniffpw:{enc}@")),
                   ("as password=", bare + "?password=" + enc)):
        r = run([binary, "read", "-o", u, cap])
        st = store_line(r.stderr.decode(), u)
        check(f"postgresql: a percent-encoded password {how}",
              r.returncode == 0 and st is not None and st["written"] > 0
              and clean(r), r.stderr.decode())
    r = run([binary, "read", "-o", bare, cap],
            env=dict(os.environ, SMTPSNIFF_DB_PASSWORD=secret))
    check("postgresql: the password from the environment",
          r.returncode == 0 and clean(r), r.stderr.decode())
    conf = os.path.join(tmp, "pg.conf")
    with open(conf, "w") as f:
        f.write(f"output = {bare}\ndb_password = {secret}\n")
    os.chmod(conf, 0o600)
    r = run([binary, "read", "-c", conf, cap])
    check("postgresql: the password from the configuration",
          r.returncode == 0 and clean(r), r.stderr.decode())
    # libpq quotes the URI back when it cannot parse it.
    for u in (bare.replace("sniffpw@", f"sniffpw:{enc}@[") ,
              bare.replace("sniffpw@", f"sniffpw:{enc}%zz@"),
              bare + "?password=" + enc + "%zz"):
        r = run([binary, "read", "-o", u, cap])
        check(f"postgresql: a bad URI's error hides the password ({u[-30:]})",
              r.returncode == 2 and b"*" in r.stderr and clean(r),
              r.stderr.decode())


def main():
    binary = os.path.abspath(sys.argv[1])
    emit = os.path.abspath(sys.argv[2])
    caps = sorted(glob.glob(os.path.join(ROOT, "tests/pcap/own/*/input.pcap")))
    caps.append(os.path.join(ROOT, "tests/pcap/peers/zeek-smtp.pcap"))
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)	# the servers run as their own users
        hostile = os.path.join(tmp, "hostile.pcap")
        volume = os.path.join(tmp, "volume.pcap")
        subprocess.run([sys.executable, os.path.join(HERE, "mkpcap.py"),
                        hostile, "60"], check=True)
        subprocess.run([sys.executable, os.path.join(HERE, "mkpcap.py"),
                        volume, "3000"], check=True)
        servers = [mariadb(os.path.join(tmp, "my")),
                   postgresql(os.path.join(tmp, "pg"))]
        try:
            for s in servers:
                s.start()
            lite = os.path.join(tmp, "t.db")
            outs = ["-o", "sqlite:" + lite] + \
                [a for s in servers for a in ("-o", s.url)]
            # The periodic statistics, before the reports compare them.
            stats_rows(emit, servers, lite, outs)
            sha = None
            for cap in caps + [hostile]:
                r = run([binary, "read", "-q", "--sensor", "s1", "-o",
                         "json:-"] + outs + [cap])
                check(f"read {os.path.basename(os.path.dirname(cap))}",
                      r.returncode == 0, r.stderr.decode())
                for line in r.stdout.decode().splitlines():
                    for a in json.loads(line).get("attachments", []):
                        sha = sha or a.get("sha256")
            check("an attachment to filter on", sha is not None)
            expect = lite_counts(lite)
            for s in servers:
                check(f"{s.kind}: the rows SQLite has", counts(s) == expect,
                      f"{counts(s)} != {expect}")
            same_reports(binary, ["sqlite:" + lite] + [s.url for s in
                                                        servers], sha or "0",
                         "identical")
            # Bytes, through each server's own client.
            import sqlite3
            con = sqlite3.connect(lite)
            con.text_factory = bytes
            want = [[(v or b"").hex() for v in row] for row in con.execute(
                "SELECT m.mail_from, m.subject, r.addr FROM messages m "
                "JOIN recipients r ON r.message_id = m.id "
                "ORDER BY m.ts, r.id")]
            con.close()
            # The envelope keeps the wire's bytes; a header is decoded
            # text, invalid bytes and NUL as U+FFFD (docs/MIME.md).
            subject = mkpcap.HOSTILE_SUBJECT.decode("utf-8", "replace")
            subject = subject.replace("\0", "\ufffd").encode()
            check("hostile strings in SQLite", any(
                w[0].startswith(mkpcap.HOSTILE_FROM.hex()) and
                w[1] == subject.hex() and
                w[2] == mkpcap.HOSTILE_RCPT.hex() for w in want),
                str(want[:3]))
            for s in servers:
                cols = ", ".join(HEX[s.kind].format(c) for c in
                                 ("m.mail_from", "m.subject", "r.addr"))
                got = s.sql(f"SELECT {cols} FROM messages m JOIN recipients"
                            " r ON r.message_id = m.id ORDER BY m.ts, r.id")
                got = [[v or "" for v in row] for row in got]
                check(f"{s.kind}: bytes as they were seen", got == want,
                      f"{got[:2]} != {want[:2]}")
            # Attachment depths (schema 3), the same as SQLite's.
            con = sqlite3.connect(lite)
            want = [[str(v) for v in row] for row in con.execute(
                "SELECT a.sha256, a.depth FROM attachments a JOIN messages"
                " m ON m.id = a.message_id ORDER BY m.ts, a.id")]
            con.close()
            check("an attachment inside an attached message",
                  ["1"] in [w[1:] for w in want])
            for s in servers:
                got = s.sql("SELECT a.sha256, a.depth FROM attachments a "
                            "JOIN messages m ON m.id = a.message_id "
                            "ORDER BY m.ts, a.id")
                check(f"{s.kind}: attachment depths", got == want,
                      f"{got[:3]} != {want[:3]}")
            # Back to schema 2 (the column and schema 4's table dropped),
            # then migrated again: old rows get depth 0.
            for s in servers:
                s.sql("ALTER TABLE attachments DROP COLUMN depth")
                s.sql("DROP TABLE stats")
                s.sql("DELETE FROM schema_version WHERE version >= 3")
            r = run([binary, "read", "-q", "--sensor", "s1"] +
                    [a for s in servers for a in ("-o", s.url)] + [caps[0]])
            check("servers at schema 2 migrated", r.returncode == 0,
                  r.stderr.decode())
            for s in servers:
                v = s.sql("SELECT max(version) FROM schema_version")
                d = s.sql("SELECT count(*), sum(depth) FROM attachments")
                check(f"{s.kind}: 2 -> 4", v == [["4"]] and
                      d[0][0] == str(len(want)) and d[0][1] == "0",
                      f"{v} {d}")
            # Again: nothing twice.
            for cap in caps[:3] + [hostile]:
                run([binary, "read", "-q", "--sensor", "s1"] + outs + [cap])
            for s in servers:
                check(f"{s.kind}: a re-read stores nothing twice",
                      counts(s) == expect, f"{counts(s)} != {expect}")
            stats_migrated(binary, emit, servers, lite, outs, caps[0])
            for s in servers:
                stats_spooled(emit, s, tmp)
            passwords(binary, servers[0], caps[0], tmp)
            pg_passwords(binary, servers[1], caps[0], tmp)
            # Outages, on a database of their own.
            vlite = os.path.join(tmp, "v.db")
            run([binary, "read", "-q", "-o", "sqlite:" + vlite, volume])
            vexpect = lite_counts(vlite)
            for s in servers:
                s.sql("DROP TABLE messages, recipients, attachments, "
                      "sessions, sensors, alerts, stats, schema_version")
                outage(binary, s, volume, vexpect, tmp)
                s.sql("DROP TABLE messages, recipients, attachments, "
                      "sessions, sensors, alerts, stats, schema_version")
                across_runs(binary, s, volume, vexpect, tmp)
                old_spool(binary, s, os.path.join(
                    ROOT, "tests/pcap/own/forwarded-message/input.pcap"),
                    tmp)
                s.sql("DROP TABLE messages, recipients, attachments, "
                      "sessions, sensors, alerts, stats, schema_version")
                spool_budget(binary, s, volume, tmp)
                s.sql("DROP TABLE messages, recipients, attachments, "
                      "sessions, sensors, alerts, stats, schema_version")
                outage_budget(binary, s, volume, vexpect, tmp)
        finally:
            for s in servers:
                s.stop()
    return summary()


if __name__ == "__main__":
    sys.exit(main())
