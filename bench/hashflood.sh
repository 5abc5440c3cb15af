#!/usr/bin/env bash
# hashflood.sh [SMTPSNIFF [BEFORE_SMTPSNIFF]]
#
# Hash-flooding benchmark (issue 8 §2): N IPv6 SYNs with random 5-tuples,
# and N crafted so that all share one bucket under the unkeyed flow hash
# of d9ac6d7 and before (bench/hashflood_gen.py). Times `flows` and
# `read -o json:/dev/null` on both, best of REPS, and prints the ratio
# crafted/random (target: at most 1.3), of wall and of CPU (user+sys, GNU
# time: steadier on a shared machine). With BEFORE_SMTPSNIFF (a binary
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

best() {	# best BIN ARGS...: "WALL CPU", each the best of REPS runs
  local bw='' bc='' w c i
  for ((i = 0; i < reps; i++)); do
    /usr/bin/time -f '%e %U %S' -o "$out/.time" "$@" >/dev/null 2>&1 ||
      { echo "failed: $*" >&2; exit 1; }
    read -r w c < <(awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$out/.time")
    if [[ -z $bw ]] || awk -v a="$w" -v b="$bw" 'BEGIN { exit !(a < b) }'; then bw=$w; fi
    if [[ -z $bc ]] || awk -v a="$c" -v b="$bc" 'BEGIN { exit !(a < b) }'; then bc=$c; fi
  done
  echo "$bw $bc"
}

report() {	# report LABEL BIN
  local label=$1 b=$2 cmd rw rc cw cc
  for cmd in flows read; do
    if [[ $cmd == flows ]]; then
      read -r rw rc < <(best "$b" flows -q "$out/hashflood-random-$n.pcap")
      read -r cw cc < <(best "$b" flows -q "$out/hashflood-crafted-$n.pcap")
    else
      read -r rw rc < <(best "$b" read -q -o json:/dev/null "$out/hashflood-random-$n.pcap")
      read -r cw cc < <(best "$b" read -q -o json:/dev/null "$out/hashflood-crafted-$n.pcap")
    fi
    printf '%-7s %-6s random %6.2f s (cpu %6.2f)  crafted %6.2f s (cpu %6.2f)  crafted/random: wall %6.2f cpu %6.2f\n' \
      "$label" "$cmd" "$rw" "$rc" "$cw" "$cc" \
      "$(awk -v a="$cw" -v b="$rw" 'BEGIN { print a / b }')" \
      "$(awk -v a="$cc" -v b="$rc" 'BEGIN { print (b > 0 ? a / b : 0) }')"
  done
}

echo "hash flood: $n IPv6 SYNs per capture, best of $reps"
[[ -n $before ]] && report before "$before"
report after "$bin"
echo "target: crafted/random <= 1.3"
