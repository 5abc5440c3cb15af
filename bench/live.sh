#!/usr/bin/env bash
# live.sh [CAPTURE]: how fast `smtpsniff capture` keeps up, without kernel
# drops (bench/README.md, "Live capture"). Not a test: it prints figures.
#
# A network namespace of its own with a veth pair (vethA -> vethB); the
# sensor listens on vethB, tcpreplay sends CAPTURE into vethA, at
# --topspeed and at fixed --pps steps, LIMIT packets a run. For each thread
# count, the table gives what tcpreplay achieved, what the kernel gave the
# sensor and dropped (the summary's `kernel:` line), and the sensor's CPU
# time; then the highest rate with no drop and the first with drops. Last,
# `smtpsniff read --threads T` on the same file, for comparison.
#
# CAPTURE: an Ethernet capture (MTU 1500); by default one made with
# bench/captures/make-small.sh (40,000 one-message sessions, ~110 MB, ~870 k
# packets) in bench/data/live/, kept for the next run.
# Environment: THREADS (default "1 2"), RATES (pps steps, default
# "50000 100000 150000 200000 250000 topspeed"), LIMIT (packets a
# run, default 400000), OUT (default json:/dev/null; sqlite:FILE works: a
# fresh file each run), BUFKIB (capture -B, default the sensor's),
# REPLAYERS (tcpreplay processes at once, default "1 2": each sends its own
# LIMIT/N packets of the file, at RATE/N; one replayer alone cannot
# outrun the sensor here), BUILD_DIR (default build). Needs root,
# tcpreplay (and editcap), postfix, tcpdump.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$root/build}
bin=$build/smtpsniff
threads=${THREADS:-1 2}
rates=${RATES:-50000 100000 150000 200000 250000 topspeed}
limit=${LIMIT:-400000}
replayers=${REPLAYERS:-1 2}
out=${OUT:-json:/dev/null}
log() { printf '[live] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (network namespace, packet sockets)"
for t in tcpreplay editcap ip /usr/bin/time; do
	command -v "$t" >/dev/null ||
	    die "missing $t (scripts/deps.sh --test; apt-get install time)"
done
[[ -x $bin ]] || die "no $bin: build first (ninja -C $build)"

cap=${1:-}
if [[ -z $cap ]]; then
	cap=$here/data/live/small.pcap
	if [[ ! -f $cap ]]; then
		log "making $cap (make-small.sh, 4 x 10000 sessions)"
		bash "$here/captures/make-small.sh" "$here/data/live" 10000 >&2
	fi
fi
[[ -f $cap ]] || die "no capture $cap"
cat "$cap" >/dev/null # page cache warm

# The one place the live sensor is started (stderr to $2).
sensor() {
	local t=$1 errlog=$2 o=$out bufopt=()
	[[ -n ${BUFKIB:-} ]] && bufopt=(-B "$BUFKIB")
	if [[ $o == sqlite:* ]]; then
		rm -f "${o#sqlite:}"*
	fi
	ip netns exec "$ns" "$bin" capture -i vethB --threads "$t" \
	    --stats-interval 0 "${bufopt[@]}" -o "$o" 2>"$errlog" &
	spid=$!
	for _ in $(seq 200); do
		grep -q '^smtpsniff: capture: listening on' "$errlog" && return 0
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$errlog" >&2
	die "the sensor did not start"
}

ns=ssbench-$$
tmp=$(mktemp -d)
cleanup() {
	for p in $(ip netns pids "$ns" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null || true
	done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add vethA type veth peer name vethB
ip -n "$ns" link set vethA up
ip -n "$ns" link set vethB up
# Frames as they were captured, no merging on the way in.
ip netns exec "$ns" ethtool -K vethB gro off >/dev/null 2>&1 || true

# CPU seconds (user + system) of a live process, from /proc/PID/stat.
cpu_of() {
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' \
	    "/proc/$1/stat"
}

pkts=$(capinfos -Tc "$cap" 2>/dev/null | awk -F'\t' 'NR == 2 { print $2 }' ||
    true)
log "capture $cap (${pkts:-?} packets), $limit packets a run, output $out"
log "cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"

# N consecutive parts of LIMIT/N packets, one per replayer, in memory
# (tmpfs or page cache) and preloaded by tcpreplay (-K).
for n in $replayers; do
	for i in $(seq "$n"); do
		a=$(((i - 1) * limit / n + 1))
		b=$((i * limit / n))
		editcap -r "$cap" "$tmp/part-$n-$i.pcap" "$a-$b" >/dev/null
	done
done

printf '%-2s %-3s %-9s %10s %8s %10s %9s %9s %6s %7s\n' R T asked pkt/s \
    Mbit/s sent k_recv k_drop drop% cpu_s >"$tmp/table"
declare -A best_pps best_mbps first_drop
for n in $replayers; do
for t in $threads; do
	k=$n/$t
	best_pps[$k]=0
	best_mbps[$k]=0
	first_drop[$k]=none
	for r in $rates; do
		sensor "$t" "$tmp/sensor.log"
		if [[ $r == topspeed ]]; then
			ropt=(--topspeed)
		else
			ropt=(--pps="$((r / n))")
		fi
		pids=()
		for i in $(seq "$n"); do
			ip netns exec "$ns" tcpreplay -K -i vethA "${ropt[@]}" \
			    "$tmp/part-$n-$i.pcap" >"$tmp/replay-$i.log" 2>&1 &
			pids+=($!)
		done
		for i in $(seq "$n"); do
			wait "${pids[$((i - 1))]}" || {
				cat "$tmp/replay-$i.log" >&2
				die "tcpreplay failed"
			}
		done
		sleep 1 # the ring drained
		cpu=$(cpu_of "$spid")
		kill -TERM "$spid"
		wait "$spid" || true
		read -r rec drop ifdrop < <(sed -n \
		    's/^  kernel: received \([0-9]*\) dropped \([0-9]*\) ifdropped \([0-9]*\)$/\1 \2 \3/p' \
		    "$tmp/sensor.log")
		[[ -n ${rec:-} ]] || { cat "$tmp/sensor.log" >&2;
		    die "no kernel line in the sensor's summary"; }
		# Rates of replayers that ran side by side add up.
		read -r sent pps mbps < <(cat "$tmp"/replay-*.log | awk '
		    /^Actual:/ { s += $2 }
		    /^Rated:/ { m += $4; p += $6 }
		    END { print s, p, m }')
		rm -f "$tmp"/replay-*.log
		lost=$((drop + ifdrop))
		pct=$(awk -v l="$lost" -v s="$sent" \
		    'BEGIN { printf "%.2f", s ? 100 * l / s : 0 }')
		printf '%-2s %-3s %-9s %10.0f %8.1f %10s %9s %9s %6s %7.2f\n' \
		    "$n" "$t" "$r" "$pps" "$mbps" "$sent" "$rec" "$lost" "$pct" \
		    "$cpu" | tee -a "$tmp/table" >&2
		if ((lost == 0)) && awk -v a="$pps" -v b="${best_pps[$k]}" \
		    'BEGIN { exit !(a > b) }'; then
			best_pps[$k]=$pps
			best_mbps[$k]=$mbps
		fi
		if ((lost > 0)) && [[ ${first_drop[$k]} == none ]]; then
			first_drop[$k]="$r (achieved $(printf %.0f "$pps") pkt/s, $pct% dropped)"
		fi
	done
done
done

echo "== smtpsniff capture -i vethB -o $out; R tcpreplay -i vethA (LIMIT $limit packets a run)"
cat "$tmp/table"
echo
for n in $replayers; do
	for t in $threads; do
		k=$n/$t
		printf 'replayers %s, threads %s: highest rate with no kernel drop: %.0f pkt/s, %.1f Mbit/s; drops begin at: %s\n' \
		    "$n" "$t" "${best_pps[$k]}" "${best_mbps[$k]}" "${first_drop[$k]}"
	done
done
echo
echo "== smtpsniff read -o json:/dev/null on the same file (whole file)"
printf '%-3s %8s %8s %12s %8s\n' T wall_s cpu_s pkt/s MB/s
bytes=$(stat -c %s "$cap")
for t in $threads; do
	/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$bin" read -q \
	    --threads "$t" -o json:/dev/null "$cap"
	read -r wall u s <"$tmp/time"
	awk -v t="$t" -v w="$wall" -v u="$u" -v s="$s" -v p="${pkts:-0}" \
	    -v b="$bytes" 'BEGIN { printf "%-3s %8.2f %8.2f %12.0f %8.1f\n",
	    t, w, u + s, w ? p / w : 0, w ? b / w / 1e6 : 0 }'
done
