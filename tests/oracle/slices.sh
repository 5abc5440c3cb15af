#!/bin/sh
# slices.sh SMTPSNIFF -- a capture cut in pieces must give the same flows
# and the same records.
#
# For every capture in tests/pcap/peers with at least MIN_PKTS packets:
#   1. editcap -c K cuts it into >= 3 slices (K = ceil(packets/4)); editcap
#      writes pcapng whatever the input format, so this also checks that a
#      pcap capture read back from pcapng slices gives the same result;
#   2. for captures of at most ONE_PER_FILE_MAX packets, editcap -F pcap -c 1
#      cuts it again into one file per packet (every boundary is a cut);
# and for each cut, both
#      SMTPSNIFF flows DIR              (directory form: files in name order)
#      SMTPSNIFF flows SLICE1 SLICE2 ...
#      SMTPSNIFF read -o json:- DIR
#      SMTPSNIFF read -o json:- SLICE1 SLICE2 ...
# must print exactly what the same command on the ORIGINAL prints (stdout,
# byte for byte; stderr and exit status are not compared: file counts
# differ).
#
# The reference runs on the original are checked first, so that "the same
# as the reference" can never mean "as empty as a failed run": each must
# exit 0; flows must print at least one flow; read must print its summary,
# and records exactly when that summary counts transactions (a capture with
# no SMTP transaction legitimately gives none). Across all captures, read
# must give records for at least one. A failed reference counts as a
# failure and its cuts are not compared.
#
# Needs editcap and capinfos (Debian/Ubuntu package wireshark-common).
# Last line: "N passed, N failed" (one count per comparison or reference
# check); exit 1 on failure.
set -u
LC_ALL=C        # glob and name order: byte order, as the reader's
# With several workers, records that finish at the same point (the end of
# the capture, a timeout) come out in an order that depends on which
# worker has which connection, i.e. on the hash key: one key for all runs.
export SMTPSNIFF_HASH_KEY=00112233445566778899aabbccddeeff
export LC_ALL

MIN_PKTS=8
ONE_PER_FILE_MAX=200

if [ $# -ne 1 ]; then
    echo "usage: $0 SMTPSNIFF_BINARY" >&2
    exit 2
fi
case $1 in
    /*) BIN=$1 ;;
    *) BIN=$(pwd)/$1 ;;
esac
for tool in editcap capinfos; do
    command -v $tool >/dev/null 2>&1 || {
        echo "$0: $tool not found (install wireshark-common)" >&2
        exit 2
    }
done

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PCAPS=$ROOT/tests/pcap/peers
TMP=$(mktemp -d "${TMPDIR:-/tmp}/smtpsniff-slices.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM

passed=0
failed=0
with_records=0

fail() {
    failed=$((failed + 1))
    echo "  FAIL $*"
}

# compare CMD LABEL REF_FILE ARGS...: run CMD (flows or read) on ARGS,
# compare stdout with REF
compare() {
    c_cmd=$1 c_label=$2 ref=$3
    shift 3
    if [ "$c_cmd" = read ]; then
        "$BIN" read -q -o json:- "$@" >"$TMP/out" 2>"$TMP/err"
    else
        "$BIN" flows "$@" >"$TMP/out" 2>"$TMP/err"
    fi
    if cmp -s "$ref" "$TMP/out"; then
        passed=$((passed + 1))
        echo "  ok   $c_cmd, $c_label"
    else
        fail "$c_cmd, $c_label: output differs from the whole capture's"
        diff "$ref" "$TMP/out" | head -n 10 | cut -c 1-300 | sed 's/^/       /'
    fi
}

# reference SRC: run flows and read on the whole capture into $TMP/ref.flows
# and $TMP/ref.read, and check those runs (see the header). 0 if both are
# usable as references.
reference() {
    r_ok=0
    "$BIN" flows "$1" >"$TMP/ref.flows" 2>"$TMP/ref.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "flows, whole capture: exit $rc, expected 0"
        sed 's/^/       /' "$TMP/ref.err" | head -n 5
        r_ok=1
    elif [ ! -s "$TMP/ref.flows" ]; then
        fail "flows, whole capture: no flow printed"
        r_ok=1
    else
        passed=$((passed + 1))
    fi
    # Without -q: the summary tells how many transactions it saw.
    "$BIN" read -o json:- "$1" >"$TMP/ref.read" 2>"$TMP/ref.err"
    rc=$?
    tx=$(sed -n 's/^  smtp: .* transactions \([0-9][0-9]*\) .*/\1/p' \
        "$TMP/ref.err")
    if [ $rc -ne 0 ]; then
        fail "read, whole capture: exit $rc, expected 0"
        sed 's/^/       /' "$TMP/ref.err" | head -n 5
        r_ok=1
    elif [ -z "$tx" ]; then
        fail "read, whole capture: no summary with a transaction count"
        r_ok=1
    elif [ "$tx" -gt 0 ] && [ ! -s "$TMP/ref.read" ]; then
        fail "read, whole capture: $tx transaction(s) counted, no record printed"
        r_ok=1
    elif [ "$tx" -eq 0 ] && [ -s "$TMP/ref.read" ]; then
        fail "read, whole capture: records printed, but 0 transactions counted"
        r_ok=1
    else
        passed=$((passed + 1))
        [ "$tx" -eq 0 ] || with_records=$((with_records + 1))
    fi
    return $r_ok
}

count() {
    set -- "$1"/*
    echo $#
}

# check_cut LABEL DIR: directory form and file-list form for the slices in
# DIR, for flows and for read
check_cut() {
    k_label=$1 dir=$2
    for cmd in flows read; do
        compare $cmd "$k_label, directory" "$TMP/ref.$cmd" "$dir"
        compare $cmd "$k_label, file list" "$TMP/ref.$cmd" "$dir"/*
    done
}

# cut_check LABEL DIR WANT ARGS...: editcap ARGS into DIR, which must then hold
# WANT slices (at least WANT if it starts with +), then check_cut
cut_check() {
    c_label=$1 dir=$2 want=$3
    shift 3
    rm -rf "$dir" && mkdir "$dir"
    if ! editcap "$@" 2>"$TMP/editcap.err"; then
        fail "$c_label: editcap $* failed: $(head -n 1 "$TMP/editcap.err")"
        return
    fi
    s=$(count "$dir")
    case $want in
    +*) [ "$s" -ge "${want#+}" ] ;;
    *) [ "$s" -eq "$want" ] ;;
    esac || {
        fail "$c_label: editcap made $s slice(s), expected $want"
        return
    }
    check_cut "$s $c_label" "$dir"
}

for src in "$PCAPS"/*.pcap "$PCAPS"/*.pcapng; do
    [ -f "$src" ] || continue
    f=$(basename "$src")
    n=$(capinfos -M -c "$src" 2>/dev/null | awk '/^Number of packets/ { print $NF }')
    if [ -z "$n" ] || [ "$n" -lt $MIN_PKTS ]; then
        continue
    fi
    echo "$f: $n packets"
    reference "$src" || continue
    k=$(( (n + 3) / 4 ))
    echo "  $(wc -l <"$TMP/ref.flows") flow(s), $(wc -l <"$TMP/ref.read") record(s)"

    cut_check "slices of $k packets (pcapng)" "$TMP/a" +3 \
        -c "$k" "$src" "$TMP/a/slice.pcapng"

    if [ "$n" -le $ONE_PER_FILE_MAX ]; then
        ext=${f##*.}
        if [ "$ext" = pcap ]; then fmt="-F pcap"; else fmt=""; fi
        # shellcheck disable=SC2086
        cut_check "slices of 1 packet ($ext)" "$TMP/b" "$n" \
            $fmt -c 1 "$src" "$TMP/b/p.$ext"
    fi
done

if [ $((passed + failed)) -eq 0 ]; then
    fail "no capture of $MIN_PKTS packets or more in $PCAPS"
elif [ "$with_records" -eq 0 ]; then
    fail "read gave no record for any capture: the read comparisons prove nothing"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
