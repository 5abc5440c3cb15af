#!/usr/bin/env bash
# run.sh [CAPTURE]
#
# Throughput benchmark for smtpsniff (see bench/README.md). Not a test: it
# prints figures and checks them against the targets, exit 0 unless something
# could not run at all.
#
#   1. builds build/ (Release, Ninja) unless it is already configured
#   2. makes the capture with bench/make-capture.sh if none is given
#   3. warms the page cache (cat FILE > /dev/null; nothing is dropped)
#   4. times each command REPS times (default 3), keeps the best wall time and
#      the highest peak RSS, for the full capture and for its first half
#   5. prints a table and the ratios against the pcap_floor baseline
#
# Environment: REPS=N, BUILD_DIR=DIR (default build), BENCH_SCALE (passed to
# make-capture.sh when it makes the default capture).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# build/ unless it is configured for something other than an optimised,
# uninstrumented Release build (a developer's RelWithDebInfo, Debug or
# sanitizer tree): then build-bench/ (git-ignored by /build*/), so the
# developer's tree is left as it is.
cache_val() { sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt" 2>/dev/null; }
if [[ -n ${BUILD_DIR:-} ]]; then
  build=$BUILD_DIR
else
  build=$root/build
  if [[ -f $build/CMakeCache.txt ]] &&
     { [[ $(cache_val "$build" CMAKE_BUILD_TYPE) != Release ]] ||
       [[ $(cache_val "$build" SMTPSNIFF_SANITIZE) == ON ]] ||
       [[ $(cache_val "$build" SMTPSNIFF_FUZZ) == ON ]]; }; then
    build=$root/build-bench
  fi
fi
reps=${REPS:-3}
capture=${1:-}

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v /usr/bin/time >/dev/null || {
  log "installing package time"
  DEBIAN_FRONTEND=noninteractive apt-get install -y time >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y time >&2; }
}

# --- build -----------------------------------------------------------------------
build_type=none
floor_bin=$build/bench/pcap_floor
sniff_bin=$build/smtpsniff
if [[ -f $root/CMakeLists.txt ]]; then
  if [[ ! -f $build/CMakeCache.txt ]]; then
    log "configuring $build (Release, Ninja)"
    cmake -G Ninja -DCMAKE_BUILD_TYPE=Release -DSMTPSNIFF_WERROR=OFF -S "$root" -B "$build" >&2
  fi
  cmake --build "$build" >&2
  build_type=$(cache_val "$build" CMAKE_BUILD_TYPE)
  [[ $build_type == Release ]] ||
    log "WARNING: $build is configured as '${build_type:-<empty>}', not Release: figures are not representative"
fi
if [[ ! -x $floor_bin ]]; then
  # The top-level CMakeLists.txt does not (yet) add_subdirectory(bench): build
  # pcap_floor alone from a throwaway project inside the build tree.
  sa=$build/bench-standalone
  mkdir -p "$sa/src"
  cat > "$sa/src/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(smtpsniff_bench C)
add_subdirectory("$here" bench)
EOF
  log "building pcap_floor standalone in $sa"
  cmake -G Ninja -DCMAKE_BUILD_TYPE=Release -S "$sa/src" -B "$sa/build" >&2
  cmake --build "$sa/build" >&2
  floor_bin=$sa/build/bench/pcap_floor
fi
have_sniff=0
[[ -x $sniff_bin ]] && have_sniff=1 || log "WARNING: $sniff_bin not built: timing the floor only"

# --- capture ---------------------------------------------------------------------
if [[ -z $capture ]]; then
  capture=$("$here/make-capture.sh")
fi
[[ -s $capture ]] || die "no capture at $capture"
capture=$(cd "$(dirname "$capture")" && pwd)/$(basename "$capture")
transactions=$(cat "$capture.count" 2>/dev/null || echo '?')
connections=$(sed -n 's/^expected_connections=//p' "$capture.info" 2>/dev/null || true)
connections=${connections:-?}

pcap_packets() { capinfos -c -M "$1" | awk -F': *' '/Number of packets/ { print $2 }'; }
packets=$(pcap_packets "$capture")

# First half of the packets, to show that peak RSS does not grow with the size
# of the capture. Kept beside the capture and remade when the capture changes.
half=${capture%.pcap}.half.pcap
half_n=$((packets / 2))
if [[ ! -s $half || $half -ot $capture || $(pcap_packets "$half") != "$half_n" ]]; then
  log "making $half (packets 1-$half_n)"
  editcap -r "$capture" "$half" "1-$half_n"
fi

# --- timing ----------------------------------------------------------------------
declare -a labels=()
declare -A wall=() rss=() cpu=() input_of=() status=() baseline=()

# timeit LABEL INPUT CMD...
#   Runs CMD (stdout to /dev/null) $reps times; keeps the best wall time (bash
#   EPOCHREALTIME, microseconds) and the highest peak RSS (GNU time %M, KB).
#   INPUT is the capture the command reads, for MB/s and for the ratio against
#   the floor: a label starting with "floor" is the baseline for its INPUT.
timeit() {
  local label=$1 input=$2; shift 2
  local i t0 t1 best='' maxrss=0 bestcpu='' tf
  tf=$(mktemp)
  log "timing $label: $* (x$reps)"
  for ((i = 0; i < reps; i++)); do
    t0=$EPOCHREALTIME
    if ! /usr/bin/time -o "$tf" -f '%e %M %U %S' "$@" > /dev/null 2> "$tf.err"; then
      log "$label failed: $(tail -3 "$tf.err")"
      labels+=("$label"); input_of[$label]=$input; status[$label]=FAIL
      rm -f "$tf" "$tf.err"; return 0
    fi
    t1=$EPOCHREALTIME
    local el kb us sy
    read -r el kb us sy < <(tail -1 "$tf")
    el=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    ((kb > maxrss)) && maxrss=$kb
    if [[ -z $best ]] || awk -v a="$el" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$el; bestcpu=$(awk -v u="$us" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')
    fi
  done
  rm -f "$tf" "$tf.err"
  labels+=("$label"); input_of[$label]=$input; status[$label]=ok
  wall[$label]=$best; rss[$label]=$maxrss; cpu[$label]=$bestcpu
  [[ $label == floor* ]] && baseline[$input]=$label
  return 0
}

log "warming the page cache"
cat "$capture" "$half" > /dev/null

timeit "floor"        "$capture" "$floor_bin" "$capture"
if ((have_sniff)); then
  timeit "flows"      "$capture" "$sniff_bin" flows "$capture"
  # Reassembly alone: the same output with the SHA-256 of each direction
  # left out (SHA-256 runs at ~1.7 GB/s here, slower than the floor reads).
  timeit "flows no-hash" "$capture" "$sniff_bin" flows --no-hash "$capture"
  # SMTP and MIME, the records written as JSON; target read <= 2 x floor.
  timeit "read json" "$capture" "$sniff_bin" read -q -o json:/dev/null "$capture"
  # Into SQLite (a fresh database each time); target >= 100000 tx/s.
  sqlite_db=$(mktemp -u /tmp/smtpsniff-bench-XXXXXX.db)
  timeit "read sqlite" "$capture" sh -c 'rm -f "$1"*; exec "$2" read -q -o "sqlite:$1" "$3"' \
    sh "$sqlite_db" "$sniff_bin" "$capture"
  rm -f "$sqlite_db"*
fi
# --- store ingest: many small transactions ---------------------------------------
# The capture above has 26 KB messages, so reading dominates; ingest is
# measured on its own capture of small ones (tests/store/mkpcap.py: N
# sessions of 2 transactions, 2 recipients each), into each database, end
# to end (the json run shows what reading alone costs).
store_n=${BENCH_STORE_SESSIONS:-50000}
store_cap=$here/data/store-volume-$store_n.pcap
store_tx=$((2 * store_n))
if ((have_sniff)); then
  [[ -s $store_cap ]] || /usr/bin/python3 "$root/tests/store/mkpcap.py" "$store_cap" "$store_n"
  cat "$store_cap" > /dev/null
  timeit "store: json" "$store_cap" "$sniff_bin" read -q -o json:/dev/null "$store_cap"
  sqlite_db=$(mktemp -u /tmp/smtpsniff-bench-XXXXXX.db)
  timeit "store: sqlite" "$store_cap" sh -c 'rm -f "$1"*; exec "$2" read -q -o "sqlite:$1" "$3"' \
    sh "$sqlite_db" "$sniff_bin" "$store_cap"
  rm -f "$sqlite_db"*
  srv=$(mktemp -d /tmp/smtpsniff-bench-srv-XXXXXX)
  chmod 755 "$srv"
  if command -v mariadbd >/dev/null && my_url=$("$root/scripts/mariadb-test.sh" start "$srv/my" 2>/dev/null); then
    timeit "store: mariadb" "$store_cap" sh -c 'mariadb --no-defaults --socket="$1" -uroot \
      -e "DROP DATABASE IF EXISTS smtpsniff; CREATE DATABASE smtpsniff" &&
      exec "$2" read -q --spool-dir "$3" -o "$4" "$5"' \
      sh "$srv/my/mdb/mysqld.sock" "$sniff_bin" "$srv" "$my_url" "$store_cap"
    "$root/scripts/mariadb-test.sh" stop "$srv/my"
  else
    log "no MariaDB server (scripts/deps.sh --test installs one): skipped"
  fi
  if pg_url=$("$root/scripts/pg-test.sh" start "$srv/pg" 2>/dev/null); then
    timeit "store: postgresql" "$store_cap" sh -c 'psql -q "$1" -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public" &&
      exec "$2" read -q --spool-dir "$3" -o "$1" "$4"' \
      sh "$pg_url" "$sniff_bin" "$srv" "$store_cap"
    "$root/scripts/pg-test.sh" stop "$srv/pg"
  else
    log "no PostgreSQL server (scripts/deps.sh --test installs one): skipped"
  fi
  rm -rf "$srv"
fi

timeit "floor (half)" "$half"    "$floor_bin" "$half"
if ((have_sniff)); then
  timeit "flows (half)" "$half"  "$sniff_bin" flows "$half"
  timeit "no-hash (half)" "$half" "$sniff_bin" flows --no-hash "$half"
  timeit "read (half)" "$half" "$sniff_bin" read -q -o json:/dev/null "$half"
fi

# Untimed sanity checks: flows prints one JSON line per TCP connection,
# read one record per transaction, all accepted.
flow_lines='n/a'
read_lines='n/a'
read_accepted='n/a'
if ((have_sniff)); then
  flow_lines=$("$sniff_bin" flows "$capture" 2>/dev/null | wc -l || true)
  records=$(mktemp)
  "$sniff_bin" read -q -o json:"$records" "$capture" || true
  read_lines=$(wc -l < "$records")
  read_accepted=$(grep -c '"status":"accepted"' "$records" || true)
  rm -f "$records"
fi

# --- report ----------------------------------------------------------------------
size_b=$(stat -c %s "$capture")
half_b=$(stat -c %s "$half")
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

echo
echo "smtpsniff benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:  $(nproc) CPU(s), $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)"
echo "build:    $build ($build_type), git $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo none)"
echo "capture:  $capture"
echo "          $(mb "$size_b") MB, $packets packets, $transactions transactions (generator), $connections TCP connections (generator)"
echo "half:     $(mb "$half_b") MB, $half_n packets"
echo "timing:   best of $reps, page cache warm; MB = 10^6 bytes; RSS = peak resident set"
echo
printf '%-18s %9s %9s %9s %8s %9s %10s\n' command "input MB" "wall s" "cpu s" "x floor" "MB/s" "RSS KB"
printf '%-18s %9s %9s %9s %8s %9s %10s\n' ------- -------- ------ ----- ------- ---- ------
for l in "${labels[@]}"; do
  in=${input_of[$l]}
  inb=$(stat -c %s "$in")
  if [[ ${status[$l]} != ok ]]; then
    printf '%-18s %9s %9s\n' "$l" "$(mb "$inb")" FAILED
    continue
  fi
  base=${baseline[$in]:-}
  ratio='-'
  [[ -n $base && $base != "$l" ]] && ratio=$(awk -v a="${wall[$l]}" -v b="${wall[$base]}" 'BEGIN { printf "%.2f", a / b }')
  printf '%-18s %9s %9.3f %9s %8s %9.0f %10s\n' "$l" "$(mb "$inb")" "${wall[$l]}" "${cpu[$l]}" "$ratio" \
    "$(awk -v b="$inb" -v t="${wall[$l]}" 'BEGIN { print b / 1e6 / t }')" "${rss[$l]}"
done
echo

if ((have_sniff)) && [[ ${status[flows]:-} == ok ]]; then
  r=$(awk -v a="${wall[flows]}" -v b="${wall[floor]}" 'BEGIN { printf "%.2f", a / b }')
  ok=$(awk -v r="$r" 'BEGIN { print (r <= 1.5) ? "PASS" : "FAIL" }')
  echo "target flows <= 1.5 x floor:  $r x  $ok"
  if [[ ${status['flows no-hash']:-} == ok ]]; then
    r=$(awk -v a="${wall['flows no-hash']}" -v b="${wall[floor]}" 'BEGIN { printf "%.2f", a / b }')
    echo "flows --no-hash (reassembly alone):  $r x floor  $(awk -v r="$r" 'BEGIN { print (r <= 1.5) ? "PASS" : "FAIL" }')"
  fi
  if [[ ${status['flows (half)']:-} == ok ]]; then
    echo "flows peak RSS: full $((rss[flows])) KB, half $((rss['flows (half)'])) KB" \
         "($(awk -v a="${rss[flows]}" -v b="${rss['flows (half)']}" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }') for 2x the packets)"
  fi
  echo "flows output lines: $flow_lines (generator made $connections TCP connections)"
fi
if [[ -n ${status['read json']:-} && ${status['read json']} == ok ]]; then
  r=$(awk -v a="${wall['read json']}" -v b="${wall[floor]}" 'BEGIN { printf "%.2f", a / b }')
  echo "target read <= 2 x floor:  $r x  $(awk -v r="$r" 'BEGIN { print (r <= 2) ? "PASS" : "FAIL" }')"
  if [[ ${status['read (half)']:-} == ok ]]; then
    echo "read peak RSS: full $((rss['read json'])) KB, half $((rss['read (half)'])) KB"
  fi
  if [[ ${status['read sqlite']:-} == ok ]]; then
    echo "read into SQLite: $(awk -v n="$transactions" -v t="${wall['read sqlite']}" 'BEGIN { printf "%.0f", n / t }') transactions/s end to end (target 100000)"
  fi
  for db in sqlite mariadb postgresql; do
    [[ ${status["store: $db"]:-} == ok ]] || continue
    # End to end only: the store writes in a thread of its own, so
    # reading and writing overlap and the json time cannot be subtracted.
    echo "ingest into $db: $(awk -v n="$store_tx" -v t="${wall["store: $db"]}" 'BEGIN { printf "%.0f", n / t }') transactions/s end to end" \
         "($store_tx transactions, $((store_tx * 2)) recipients, $store_n sessions)$([[ $db == sqlite ]] && echo "; target 100000")"
  done
  echo "read records: $read_lines, accepted $read_accepted (generator sent $transactions transactions)" \
       "$([[ $read_accepted == "$transactions" ]] && echo "ALL FOUND" || echo "MISSING SOME")"
fi
