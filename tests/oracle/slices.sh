#!/bin/sh
# slices.sh SMTPSNIFF -- a capture cut in pieces must give the same flows.
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
# must print exactly what  SMTPSNIFF flows ORIGINAL  prints (stdout, byte
# for byte; stderr and exit status are not compared: file counts differ).
#
# Needs editcap and capinfos (Debian/Ubuntu package wireshark-common).
# Last line: "N passed, N failed" (one count per comparison); exit 1 on failure.
set -u
LC_ALL=C        # glob and name order: byte order, as the reader's
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

# compare LABEL REF_FILE ARGS...: run flows on ARGS, compare stdout with REF
compare() {
    c_label=$1 ref=$2
    shift 2
    "$BIN" flows "$@" >"$TMP/out" 2>"$TMP/err"
    if cmp -s "$ref" "$TMP/out"; then
        passed=$((passed + 1))
        echo "  ok   $c_label"
    else
        failed=$((failed + 1))
        echo "  FAIL $c_label: output differs from the whole capture's"
        diff "$ref" "$TMP/out" | head -n 10 | cut -c 1-300 | sed 's/^/       /'
    fi
}

count() {
    set -- "$1"/*
    echo $#
}

# check_cut LABEL DIR: directory form and file-list form for the slices in DIR
check_cut() {
    k_label=$1 dir=$2
    compare "$k_label, directory" "$TMP/ref" "$dir"
    compare "$k_label, file list" "$TMP/ref" "$dir"/*
}

for src in "$PCAPS"/*.pcap "$PCAPS"/*.pcapng; do
    [ -f "$src" ] || continue
    f=$(basename "$src")
    n=$(capinfos -M -c "$src" 2>/dev/null | awk '/^Number of packets/ { print $NF }')
    if [ -z "$n" ] || [ "$n" -lt $MIN_PKTS ]; then
        continue
    fi
    "$BIN" flows "$src" >"$TMP/ref" 2>"$TMP/err"
    flows=$(wc -l <"$TMP/ref")
    k=$(( (n + 3) / 4 ))
    echo "$f: $n packets, $flows flow(s)"

    rm -rf "$TMP/a" && mkdir "$TMP/a"
    editcap -c "$k" "$src" "$TMP/a/slice.pcapng" 2>"$TMP/editcap.err"
    s=$(count "$TMP/a")
    check_cut "$s slices of $k packets (pcapng)" "$TMP/a"

    if [ "$n" -le $ONE_PER_FILE_MAX ]; then
        rm -rf "$TMP/b" && mkdir "$TMP/b"
        ext=${f##*.}
        if [ "$ext" = pcap ]; then fmt="-F pcap"; else fmt=""; fi
        # shellcheck disable=SC2086
        editcap $fmt -c 1 "$src" "$TMP/b/p.$ext" 2>"$TMP/editcap.err"
        s=$(count "$TMP/b")
        check_cut "$s slices of 1 packet ($ext)" "$TMP/b"
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
