#!/bin/bash
# run.sh SMTPSNIFF -- the command line: help, exit codes, error messages,
# output that is valid JSON, and reads at smaller snaplens (snaplen.py).
# Last line: "N passed, N failed"; exit 1 on any failure.
set -u
BIN=$(readlink -f "$1")
HERE=$(dirname "$(readlink -f "$0")")
PEERS="$HERE/../pcap/peers"
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

check() {	# check NAME COND-COMMAND...
	local name=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $name"
	fi
}

run() {		# run ARGS...: sets rc, out, err
	"$BIN" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

run --help
check "top-level --help exits 0" test "$rc" -eq 0
check "top-level --help names flows" grep -q "flows" "$T/out"
run flows --help
check "flows --help exits 0" test "$rc" -eq 0
run
check "no command is a usage error (2)" test "$rc" -eq 2
run bogus
check "unknown command is a usage error (2)" test "$rc" -eq 2
run flows
check "flows without a path is a usage error (2)" test "$rc" -eq 2

run flows /nonexistent/x.pcap
check "missing file exits 2" test "$rc" -eq 2
check "missing file is named in the message" grep -q "/nonexistent/x.pcap" "$T/err"
check "missing file prints no records" test ! -s "$T/out"

echo "not a capture" >"$T/notes.txt"
run flows "$T/notes.txt"
check "non-capture file exits 1" test "$rc" -eq 1
check "non-capture file says why" grep -q "unknown file format" "$T/err"

# A capture cut in the middle of its last record: reported, rest kept.
src="$PEERS/suricata-bug-3616-smtp.pcap"
size=$(stat -c %s "$src")
head -c $((size - 100)) "$src" >"$T/cut.pcap"
run flows "$T/cut.pcap"
check "truncated capture exits 1" test "$rc" -eq 1
check "truncated capture is reported" grep -q "truncated" "$T/err"
check "truncated capture still gives its connections" test -s "$T/out"
check "summary on stderr" grep -q "^summary: files 1" "$T/err"

# Every line of every peer capture is one JSON object with the fields.
"$BIN" flows -q "$PEERS"/*.pcap* >"$T/all.jsonl" 2>/dev/null
check "flows over all peer captures" test -s "$T/all.jsonl"
check "every line is JSON with the documented fields" "$PY" - "$T/all.jsonl" <<'PYEOF'
import json, sys
keys = {"client", "server", "vlan", "ts_first", "ts_last", "state",
        "midstream", "packets", "c2s", "s2c"}
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert keys <= set(o), o
    assert o["state"] in ("closed", "reset", "timeout", "open", "evicted",
                          "reused"), o
    for d in ("c2s", "s2c"):
        assert set(o[d]) == {"bytes", "sha256", "gaps", "gap_bytes"}, o
        assert len(o[d]["sha256"]) == 64
    assert o["ts_first"] <= o["ts_last"]
    n += 1
assert n > 100, n
PYEOF

# A full disk is a clear error and a failing exit, never a silent loss.
run read -q -o json:/dev/full "$src"
check "full disk exits 2" test "$rc" -eq 2
check "full disk says so" grep -q "No space left" "$T/err"
run read -q -o sqlite:/nonexistent/dir/x.db "$src"
check "unwritable database exits 2" test "$rc" -eq 2
check "unwritable database is named" grep -q "/nonexistent/dir/x.db" "$T/err"

# -q silences the summary.
run flows -q "$src"
check "-q prints no summary" test ! -s "$T/err"

# Snaplen: cut bytes become gaps of the same size (snaplen.py).
if "$PY" "$HERE/snaplen.py" "$BIN" "$PEERS" >"$T/snap" 2>&1; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	cat "$T/snap"
	echo "FAIL: snaplen invariants"
fi
tail -1 "$T/snap"

echo "$pass passed, $fail failed"
test "$fail" -eq 0
