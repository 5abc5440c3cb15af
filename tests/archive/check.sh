#!/bin/sh
# check.sh SMTPSNIFF ARCHIVE_SPLIT -- captures written through the packet
# archive by two workers, read back as one capture.
#
# For every capture in tests/pcap/own/*/input.pcap and tests/pcap/peers:
#   ARCHIVE_SPLIT ORIGINAL DIR deals its TCP connections out to two
#   workers (round-robin by connection) that write rotated slices into
#   DIR through archive.c (-G 1, -C 4096: their slices overlap in time);
#   it checks that DIR read back has exactly ORIGINAL's packets and goes
#   back in time no more often than ORIGINAL (split.c);
# then
#   SMTPSNIFF read -q -o json:- DIR   and   SMTPSNIFF flows DIR
# must print the same lines as on ORIGINAL, sorted (output order follows
# the order connections end, which ties may change; the records not).
#
# Our own captures are one or two connections each, one after another;
# so that many connections overlap, they are also shifted in time to start
# 50 ms apart and merged into one (editcap -t, mergecap), the first
# capture checked ("own-mix"): there the reader must have had both
# workers' slices open at once.
#
# A capture whose reference run fails or prints nothing is no comparison
# (counted as a failure if read fails). Across all captures, at least one
# must have records, and at least one must have had both workers' slices
# overlapping (the reader had 3 files open or more): else the test proves
# nothing and fails.
# Last line: "N passed, N failed"; exit 1 on failure.
set -u
LC_ALL=C
export LC_ALL

if [ $# -ne 2 ]; then
    echo "usage: $0 SMTPSNIFF ARCHIVE_SPLIT" >&2
    exit 2
fi
BIN=$1
SPLIT=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/smtpsniff-archive.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM

for tool in editcap mergecap capinfos; do
    command -v $tool >/dev/null 2>&1 || {
        echo "$0: $tool not found (install wireshark-common)" >&2
        exit 2
    }
done

# own-mix: every own capture, the i-th moved to start at T0 + i * 50 ms.
i=0
for f in "$ROOT"/tests/pcap/own/*/input.pcap; do
    s=$(capinfos -T -r -S -a "$f" | cut -f2)
    off=$(awk -v i=$i -v s="$s" 'BEGIN { printf "%.6f", 1800000000 + i * 0.05 - s }')
    editcap -t "$off" "$f" "$TMP/shift$i.pcap" || exit 2
    i=$((i + 1))
done
mergecap -F pcap -w "$TMP/own-mix.pcap" "$TMP"/shift*.pcap || exit 2
rm -f "$TMP"/shift*.pcap

passed=0
failed=0
with_records=0
merged=0

fail() {
    failed=$((failed + 1))
    echo "  FAIL $*"
}

for src in "$TMP/own-mix.pcap" "$ROOT"/tests/pcap/own/*/input.pcap "$ROOT"/tests/pcap/peers/*.pcap \
    "$ROOT"/tests/pcap/peers/*.pcapng; do
    [ -f "$src" ] || continue
    label=${src#"$ROOT"/tests/pcap/}
    label=${label#"$TMP"/}
    rm -rf "$TMP/d" && mkdir "$TMP/d"
    if ! line=$("$SPLIT" "$src" "$TMP/d" 2>"$TMP/split.err"); then
        fail "$label: split: ${line:-no output} $(head -n 2 "$TMP/split.err")"
        continue
    fi
    set -- $line
    open_max=$9
    w0=$(ls "$TMP/d" | grep -c -- '-w000-')
    w1=$(ls "$TMP/d" | grep -c -- '-w001-')
    if [ "$w0" -gt 0 ] && [ "$w1" -gt 0 ] && [ "$open_max" -ge 3 ]; then
        merged=$((merged + 1))
    elif [ "$label" = own-mix.pcap ]; then
        fail "own-mix: the workers' slices never overlapped ($line)"
    fi
    "$BIN" read -q -o json:- "$src" 2>/dev/null | sort >"$TMP/ref.read"
    rc=$?
    "$BIN" read -q -o json:- "$TMP/d" 2>"$TMP/err" | sort >"$TMP/out.read"
    if cmp -s "$TMP/ref.read" "$TMP/out.read"; then
        passed=$((passed + 1))
        [ -s "$TMP/ref.read" ] && with_records=$((with_records + 1))
    else
        fail "$label: read: records differ (slices w0 $w0 w1 $w1)"
        diff "$TMP/ref.read" "$TMP/out.read" | head -n 6 | cut -c 1-200 |
            sed 's/^/       /'
    fi
    "$BIN" flows "$src" 2>/dev/null | sort >"$TMP/ref.flows"
    "$BIN" flows "$TMP/d" 2>/dev/null | sort >"$TMP/out.flows"
    if cmp -s "$TMP/ref.flows" "$TMP/out.flows"; then
        passed=$((passed + 1))
    else
        fail "$label: flows differ (slices w0 $w0 w1 $w1)"
        diff "$TMP/ref.flows" "$TMP/out.flows" | head -n 6 | cut -c 1-200 |
            sed 's/^/       /'
    fi
    echo "  $label: $line, slices w0 $w0 w1 $w1"
done

if [ "$with_records" -eq 0 ]; then
    fail "no capture gave records: the comparisons prove nothing"
fi
if [ "$merged" -eq 0 ]; then
    fail "no capture had two workers' slices overlapping: the merge was not tested"
fi
echo "$merged captures with overlapping slices, $with_records with records"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
