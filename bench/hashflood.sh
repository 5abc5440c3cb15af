#!/usr/bin/env bash
# hashflood.sh [SMTPSNIFF [BEFORE_SMTPSNIFF]]
#
# Hash-flooding benchmark (issue 8 §2): N IPv6 SYNs with random 5-tuples,
# and N crafted so that all share one bucket under the unkeyed flow hash
# of d9ac6d7 and before (bench/hashflood_gen.py). Times `flows` and
# `read -o json:/dev/null` on both, best of REPS, and prints the ratio
# crafted/random (target: at most 1.3). With BEFORE_SMTPSNIFF (a binary
# built from d9ac6d7, say) its figures are printed too, for the "before".
#
# Environment: N (default 50000), REPS (default 3), OUT (where the two
# captures go; default bench/data), SMTPSNIFF_HASH_KEY as for smtpsniff.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/smtpsniff}
before=${2:-}
n=${N:-50000}
reps=${REPS:-3}
out=${OUT:-$here/data}
mkdir -p "$out"

for mode in random crafted; do
  f=$out/hashflood-$mode-$n.pcap
  [[ -s $f ]] || /usr/bin/python3 "$here/hashflood_gen.py" "$mode" "$n" "$f"
done

best() {	# best BIN ARGS...: best wall seconds of REPS runs
  local b='' t0 t1 t i
  for ((i = 0; i < reps; i++)); do
    t0=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    t1=$EPOCHREALTIME
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    if [[ -z $b ]] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then
      b=$t
    fi
  done
  echo "$b"
}

report() {	# report LABEL BIN
  local label=$1 b=$2 cmd r c
  for cmd in flows read; do
    if [[ $cmd == flows ]]; then
      r=$(best "$b" flows -q "$out/hashflood-random-$n.pcap")
      c=$(best "$b" flows -q "$out/hashflood-crafted-$n.pcap")
    else
      r=$(best "$b" read -q -o json:/dev/null "$out/hashflood-random-$n.pcap")
      c=$(best "$b" read -q -o json:/dev/null "$out/hashflood-crafted-$n.pcap")
    fi
    printf '%-8s %-6s random %8.3f s  crafted %8.3f s  crafted/random %6.2f\n' \
      "$label" "$cmd" "$r" "$c" "$(awk -v a="$c" -v b="$r" 'BEGIN { print a / b }')"
  done
}

echo "hash flood: $n IPv6 SYNs per capture, best of $reps"
[[ -n $before ]] && report before "$before"
report after "$bin"
echo "target: crafted/random <= 1.3"
