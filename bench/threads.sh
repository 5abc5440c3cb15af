#!/bin/bash
# threads.sh [BIN [OLD]]: `read --threads N -o json:/dev/null` on the two
# benchmark captures (bench/captures/: attachment-heavy smtp-bench.pcap,
# 100,000-session small.pcap) for N = 1, 2 (and OLD, a build without
# workers, if given), against the libpcap floor (bench/pcap_floor: read
# every packet, nothing else), REPS alternating runs (default 5), all in
# one run. Prints the median wall and CPU (user+sys) seconds, packets per
# second, and wall / floor. Nothing else competes here: this is what the
# workers give when the machine is ours (compare bench/live.sh, where the
# replayer takes a core). Makes the captures on first use, as speed.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/smtpsniff}
old=${2:-}
floor=${FLOOR:-$here/../build/bench/pcap_floor}
reps=${REPS:-5}
data=$here/data
[[ -x $floor ]] || { echo "no $floor: build with ninja -C build" >&2; exit 2; }
[[ -s $data/big/smtp-bench.pcap ]] ||
	bash "$here/captures/make-capture.sh" "$data/big" 300000000 3 7 >&2
[[ -s $data/small/small.pcap ]] ||
	bash "$here/captures/make-small.sh" "$data/small" >&2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
names=(floor "threads 1" "threads 2")
cmds=("$floor" "$bin read -q --threads 1 -o json:/dev/null"
    "$bin read -q --threads 2 -o json:/dev/null")
if [[ -n $old ]]; then
	names+=("old")
	cmds+=("$old read -q -o json:/dev/null")
fi
for ((r = 0; r < reps; r++)); do
	for c in big/smtp-bench.pcap small/small.pcap; do
		for i in "${!cmds[@]}"; do
			/usr/bin/time -f "$c|${names[$i]}|%e|%U|%S" -a -o "$out" \
			    ${cmds[$i]} "$data/$c" >/dev/null 2>&1 || true
		done
	done
done
/usr/bin/python3 - "$out" "$data" <<'EOF'
import statistics, subprocess, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.strip().split("|")
    if len(parts) != 5:
        continue
    cap, name, e, u, s = parts
    rows.setdefault((cap, name), []).append((float(e), float(u) + float(s)))
for cap in ("big/smtp-bench.pcap", "small/small.pcap"):
    pk = subprocess.run(["capinfos", "-c", "-M", sys.argv[2] + "/" + cap],
        capture_output=True, text=True).stdout.split()[-1]
    pk = int(pk)
    fl = statistics.median(e for e, _ in rows[(cap, "floor")])
    print(f"{cap}: {pk} packets; median of {len(rows[(cap, 'floor')])} runs")
    print(f"  {'':10} {'wall s':>7} {'cpu s':>7} {'Mpkt/s':>7} {'x floor':>8}")
    for (c, name), v in rows.items():
        if c != cap:
            continue
        w = statistics.median(e for e, _ in v)
        cpu = statistics.median(x for _, x in v)
        print(f"  {name:10} {w:7.2f} {cpu:7.2f} {pk / w / 1e6:7.2f} "
              f"{w / fl:8.2f}")
EOF
