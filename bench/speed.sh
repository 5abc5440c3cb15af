#!/bin/bash
# speed.sh [NEW [OLD]]: `read -o json:/dev/null` on the two benchmark
# captures every performance figure is measured on (bench/captures/, the
# scripts shared with the issues: attachment-heavy smtp-bench.pcap and the
# 100,000-session small.pcap), NEW against OLD (say, a build of the
# commit before a change), REPS alternating runs each (default 7). Prints
# the median and the best CPU time (user+sys: steadier than wall time on
# a shared machine) and wall time, and NEW/OLD. Makes the captures in
# bench/data/ on first use (root, postfix, tcpdump, tcpreplay).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
new=${1:-$here/../build/smtpsniff}
old=${2:-}
reps=${REPS:-7}
data=$here/data
mkdir -p "$data"
[[ -s $data/big/smtp-bench.pcap ]] ||
	bash "$here/captures/make-capture.sh" "$data/big" 300000000 3 7 >&2
[[ -s $data/small/small.pcap ]] ||
	bash "$here/captures/make-small.sh" "$data/small" >&2
bins=("$new")
[[ -z $old ]] || bins+=("$old")
for ((i = 0; i < reps; i++)); do
	for b in "${bins[@]}"; do
		for c in big/smtp-bench.pcap small/small.pcap; do
			/usr/bin/time -f "$b $c %e %U %S" -a -o "$data/speed.txt" \
			    "$b" read -q -o json:/dev/null "$data/$c"
		done
	done
done
/usr/bin/python3 - "$data/speed.txt" "$new" "$old" <<'PY'
import statistics as st, sys
runs = {}
for line in open(sys.argv[1]):
    b, c, wall, u, s = line.split()
    runs.setdefault((b, c), []).append((float(u) + float(s), float(wall)))
new, old = sys.argv[2], sys.argv[3]
for c in ("big/smtp-bench.pcap", "small/small.pcap"):
    for b in (new, old):
        if not b:
            continue
        r = runs[(b, c)]
        cpu = st.median(x for x, _ in r)
        print(f"{c:22} {'new' if b == new else 'old'}  cpu median "
              f"{cpu:.3f} best {min(x for x, _ in r):.3f}  wall median "
              f"{st.median(w for _, w in r):.3f} s")
    if old:
        a = st.median(x for x, _ in runs[(new, c)])
        z = st.median(x for x, _ in runs[(old, c)])
        print(f"{c:22} new/old cpu {a / z:.3f}")
PY
rm -f "$data/speed.txt"
