#!/bin/bash
# memcap.sh: the memory budget's figures (issue 8 §3). Makes the hostile
# captures with bench/flood.py (in bench/data/, reused) and prints, for
# each, the peak RSS (GNU time), the budget's own peak by layer and the
# evictions from smtpsniff's summary:
#   - 1,000,000 spoofed SYNs (target: peak RSS <= memcap + 64 MiB);
#   - 20,000 sessions each with MAIL and 1,000 RCPT, never finished
#     (target: under the cap);
#   - a real session inside 300,000 SYNs (one session id, whole records:
#     tests/cli/flood.sh checks it; here its figures).
# Usage: bench/memcap.sh [SMTPSNIFF] (default build/smtpsniff).
# MEMCAPS="512M 64M" to choose the budgets tried.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/smtpsniff}
data=$here/data
py=/usr/bin/python3
mkdir -p "$data"
make_once() {	# make_once FILE ARGS...: flood.py ARGS unless FILE exists
	local f=$1
	shift
	[[ -s $f ]] || { echo "making $f" >&2; $py "$here/flood.py" "$@"; }
}
make_once "$data/syn1m.pcap" syn 1000000 "$data/syn1m.pcap"
make_once "$data/rcpt20k.pcap" rcpt 20000 1000 "$data/rcpt20k.pcap"
make_once "$data/inside300k.pcap" inside 300000 \
    "$here/../tests/pcap/own/multi-transaction/input.pcap" \
    "$data/inside300k.pcap"
printf '%-16s %-8s %10s %10s %10s  %s\n' capture memcap "rss MiB" \
    "budget MiB" "wall s" "evictions"
for cap in ${MEMCAPS:-512M 64M}; do
	for c in syn1m rcpt20k inside300k; do
		/usr/bin/time -f '%M %e' -o "$data/time.txt" "$bin" read \
		    --memcap "$cap" -o json:/dev/null "$data/$c.pcap" \
		    2>"$data/summary.txt"
		read -r rss wall <"$data/time.txt"
		peak=$(sed -n 's/.*memory: limit [0-9]* peak \([0-9]*\).*/\1/p' \
		    "$data/summary.txt")
		ev=$(sed -n 's/^  evictions: //p' "$data/summary.txt")
		printf '%-16s %-8s %10d %10d %10s  %s\n' "$c" "$cap" \
		    $((rss / 1024)) $((peak >> 20)) "$wall" "${ev:-none}"
	done
done
