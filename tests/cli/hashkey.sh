#!/bin/bash
# hashkey.sh SMTPSNIFF -- no output depends on the hash key (issue 8 §2).
# `flows` and `read -o json:-` (records, then the summary on stderr) under
# two keys fixed with SMTPSNIFF_HASH_KEY must be byte-identical: on every
# capture of tests/pcap read as one (145 connections, 37 open at once,
# fragments), and on SYNs aimed at one bucket of the old hash mixed with
# random ones (all left open: closed at the end in order of activity).
# With several workers the records are the same sets (order: docs).
# Also: a malformed key stops at start. Last line: "N passed, N failed".
set -u
BIN=$(readlink -f "$1")
HERE=$(dirname "$(readlink -f "$0")")
ROOT=$HERE/../..
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
KEY_A=000102030405060708090a0b0c0d0e0f
KEY_B=f0e1d2c3b4a5968778695a4b3c2d1e0f

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

# same NAME ARGS...: the command's stdout, stderr and exit code under
# both keys are identical (and it printed something).
same() {
	local name=$1 k
	shift
	for k in A B; do
		local key=KEY_$k
		SMTPSNIFF_HASH_KEY=${!key} "$BIN" "$@" >"$T/out.$k" \
		    2>"$T/err.$k"
		echo $? >"$T/rc.$k"
	done
	check "$name: output printed" test -s "$T/out.A"
	check "$name: same output under both keys" cmp -s "$T/out.A" "$T/out.B"
	check "$name: same summary under both keys" cmp -s "$T/err.A" "$T/err.B"
	check "$name: same exit code" cmp -s "$T/rc.A" "$T/rc.B"
}

all=("$ROOT"/tests/pcap/peers/*.pcap "$ROOT"/tests/pcap/own/*/input.pcap)
same "flows, all test captures" flows "${all[@]}"
# One worker: byte for byte. Several: the same records, but those that
# finish together (at the end, at a timeout) come out in worker order,
# and which worker has a connection depends on the key (docs).
same "read json, all test captures" read --threads 1 -o json:- "${all[@]}"
# Each capture on its own: one continuous capture, as a sensor sees. (Read
# as one, the captures' times jump back and forth between years, and
# where a jump is confirmed depends on which packets a worker sees.)
n3=0 bad_keys=0 bad_one=0
for f in "${all[@]}"; do
	for k in A B; do
		key=KEY_$k
		SMTPSNIFF_HASH_KEY=${!key} "$BIN" read -q --threads 3 \
		    -o json:- "$f" 2>/dev/null | sort >"$T/sorted3.$k"
	done
	"$BIN" read -q --threads 1 -o json:- "$f" 2>/dev/null | sort \
	    >"$T/sorted1"
	n3=$((n3 + $(wc -l <"$T/sorted3.A")))
	cmp -s "$T/sorted3.A" "$T/sorted3.B" || bad_keys=$((bad_keys + 1))
	cmp -s "$T/sorted3.A" "$T/sorted1" || {
		bad_one=$((bad_one + 1))
		echo "  differs with 3 workers: $f"
	}
done
check "read, 3 workers: records printed" test "$n3" -gt 100
check "read, 3 workers: the same records under both keys" \
    test "$bad_keys" -eq 0
check "read, 3 workers: the same records as one, each capture" \
    test "$bad_one" -eq 0
/usr/bin/python3 "$ROOT/bench/hashflood_gen.py" mixed 4000 "$T/flood.pcap"
same "flows, aimed and random SYNs" flows "$T/flood.pcap"
check "flows, aimed and random SYNs: every one" test \
    "$(wc -l <"$T/out.A")" -eq 4000

SMTPSNIFF_HASH_KEY=0123 "$BIN" flows "$T/flood.pcap" >"$T/out" 2>"$T/err"
rc=$?
check "a malformed key exits 2" test "$rc" -eq 2
check "a malformed key is named" grep -q SMTPSNIFF_HASH_KEY "$T/err"
check "a malformed key prints nothing" test ! -s "$T/out"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
