#!/usr/bin/env bash
# make-capture.sh [OUT.pcap]
#
# Makes a large SMTP capture on loopback for bench/run.sh, with Postfix's
# smtp-sink (server) and smtp-source (client generator), captured by tcpdump.
# Loopback only: the server listens on 127.0.0.25:2525 (2525 is one of
# smtpsniff's default SMTP ports). smtp-source cannot choose its source
# address, so clients come from 127.0.0.1.
#
# Writes, next to OUT.pcap (default bench/data/smtp-bench.pcap):
#   OUT.pcap.count   the exact number of mail transactions (one number)
#   OUT.pcap.info    key=value details: what smtp-source and smtp-sink counted,
#                    sessions, tcpdump's drop counters, generation time, ...
#   OUT.pcap.params  the parameters stamp; an existing capture is reused when
#                    its stamp matches (delete the files or set FORCE=1 to redo)
#
# Environment:
#   BENCH_SCALE=F  multiply every phase's message count by F (default 1;
#                  e.g. 0.1 for a quick ~100 MB capture)
#   FORCE=1        regenerate even if a matching capture exists
#
# Never starts the Postfix system daemon; only the two test programs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/data/smtp-bench.pcap}
scale=${BENCH_SCALE:-1}

server_addr=127.0.0.25
server_port=2525

# Traffic phases: "name messages sessions length recipients persistent".
#   messages    transactions smtp-source sends in that phase (-m), before scaling
#   sessions    parallel sessions (-s)
#   length      message payload bytes (-l)
#   recipients  RCPT TO per transaction (-r)
#   persistent  1 = many transactions per connection (-d), 0 = one per connection
# About 1 GB and ~38k transactions at scale 1.
phases=(
  "small    30000 20  10000 1 0"
  "multi     6000  6  50000 3 1"
  "large     1500 10 200000 2 0"
)
stamp_version=1

log() { printf '[make-capture] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- tools ------------------------------------------------------------------
ensure_tools() {
  local need=()
  [[ -x /usr/sbin/smtp-sink && -x /usr/sbin/smtp-source ]] || need+=(postfix)
  command -v tcpdump >/dev/null || need+=(tcpdump)
  command -v capinfos >/dev/null && command -v editcap >/dev/null || need+=(wireshark-common)
  ((${#need[@]})) || return 0
  log "installing: ${need[*]}"
  [[ $(id -u) == 0 ]] || die "need root to apt-get install ${need[*]}"
  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
  # Keep the package's maintainer scripts from starting any daemon.
  local own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2 \
    || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2; }
  ((own_policy)) && rm -f /usr/sbin/policy-rc.d
  return 0
}

# --- parameters stamp -------------------------------------------------------
scaled() { # scaled COUNT -> COUNT*scale rounded, at least 1
  awk -v n="$1" -v f="$scale" 'BEGIN { v = int(n * f + 0.5); if (v < 1) v = 1; print v }'
}

params_stamp() {
  echo "version=$stamp_version"
  echo "server=$server_addr:$server_port"
  echo "scale=$scale"
  local p
  for p in "${phases[@]}"; do
    # shellcheck disable=SC2086
    set -- $p
    echo "phase=$1 messages=$(scaled "$2") sessions=$3 length=$4 recipients=$5 persistent=$6"
  done
}

stamp=$(params_stamp)
if [[ -z ${FORCE:-} && -s $out && -s $out.count && -f $out.params ]] &&
   [[ $(cat "$out.params") == "$stamp" ]]; then
  log "reusing $out ($(cat "$out.count") transactions)"
  echo "$out"
  exit 0
fi

ensure_tools
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

# --- run ----------------------------------------------------------------------
work=$(mktemp -d "${out}.tmp.XXXXXX")
sink_pid='' td_pid=''
cleanup() {
  [[ -n $td_pid ]] && kill -INT "$td_pid" 2>/dev/null && wait "$td_pid" 2>/dev/null
  [[ -n $sink_pid ]] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if (exec 3<>"/dev/tcp/$server_addr/$server_port") 2>/dev/null; then
  die "something already listens on $server_addr:$server_port"
fi

total_expected=0
for p in "${phases[@]}"; do
  set -- $p
  total_expected=$((total_expected + $(scaled "$2")))
done
log "generating $total_expected transactions into $out (scale $scale)"

# smtp-sink: -c prints running counters (sess/quit/mesg) separated by CR.
# As root it must drop privileges with -u. Backlog 1024.
/usr/sbin/smtp-sink -u nobody -c -m 512 "$server_addr:$server_port" 1024 \
  > "$work/sink.out" 2> "$work/sink.err" &
sink_pid=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/$server_addr/$server_port") 2>/dev/null && break
  sleep 0.1
done
kill -0 "$sink_pid" 2>/dev/null || die "smtp-sink did not start: $(cat "$work/sink.err")"
# exactly one probe above connected (the loop stops at the first success), and
# smtp-sink counts it as a session: subtract it from its session count
sink_base_sessions=1

# tcpdump: 256 MB kernel buffer (-B is KiB), full packets, stay root (-Z root)
# so the file stays owned by the caller.
tcpdump -i lo -s 0 -B 262144 -Z root -w "$work/cap.pcap" \
  "host $server_addr and tcp port $server_port" 2> "$work/tcpdump.err" &
td_pid=$!
for _ in $(seq 50); do
  grep -q 'listening on' "$work/tcpdump.err" 2>/dev/null && break
  sleep 0.1
done
grep -q 'listening on' "$work/tcpdump.err" || die "tcpdump did not start: $(cat "$work/tcpdump.err")"

t0=$(date +%s.%N)
source_total=0
for p in "${phases[@]}"; do
  set -- $p
  name=$1 m=$(scaled "$2") s=$3 l=$4 r=$5 d=$6
  args=(-c -m "$m" -s "$s" -l "$l" -r "$r" -M bench.example -f sender@bench.example
        -t rcpt@bench.example -S "smtpsniff bench $name")
  ((d)) && args+=(-d)
  log "phase $name: smtp-source ${args[*]} $server_addr:$server_port"
  if ! /usr/sbin/smtp-source "${args[@]}" "$server_addr:$server_port" \
       > "$work/source.$name.out" 2> "$work/source.$name.err"; then
    die "smtp-source failed in phase $name: $(tail -3 "$work/source.$name.err")"
  fi
  # -c prints a CR-separated running counter of completed DATA commands
  done_n=$(tr '\r' '\n' < "$work/source.$name.out" | awk 'NF { n = $1 } END { print n + 0 }')
  [[ $done_n == "$m" ]] || die "phase $name: smtp-source completed $done_n of $m messages"
  source_total=$((source_total + done_n))
done
t1=$(date +%s.%N)

sleep 1 # let the last FIN/ACKs reach tcpdump and the sink's counters settle
kill -INT "$td_pid"; wait "$td_pid" || true; td_pid=''
kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true; sink_pid=''

sink_last=$(tr '\r' '\n' < "$work/sink.out" | grep 'sess=' | tail -1)
sink_sess=$(sed -n 's/.*sess=\([0-9]*\).*/\1/p' <<<"$sink_last")
sink_quit=$(sed -n 's/.*quit=\([0-9]*\).*/\1/p' <<<"$sink_last")
sink_mesg=$(sed -n 's/.*mesg=\([0-9]*\).*/\1/p' <<<"$sink_last")
kdrop=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$work/tcpdump.err")
idrop=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by interface.*/\1/p' "$work/tcpdump.err")
captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured.*/\1/p' "$work/tcpdump.err")

log "tcpdump: $(grep -E 'captured|received|dropped' "$work/tcpdump.err" | paste -sd ';' | sed 's/;/; /g')"
log "smtp-source completed $source_total messages; smtp-sink counted: $sink_last"
[[ ${kdrop:-x} == 0 ]] || die "tcpdump dropped ${kdrop:-?} packets in the kernel (or no drop line): $(cat "$work/tcpdump.err")"
[[ -z $idrop || $idrop == 0 ]] || die "tcpdump: $idrop packets dropped by interface"
[[ $sink_mesg == "$source_total" ]] || die "smtp-sink counted $sink_mesg messages, smtp-source $source_total"

capinfos -M "$work/cap.pcap" > "$work/capinfos.txt" || die "capinfos failed on the capture"
cap_packets=$(capinfos -c -M "$work/cap.pcap" | awk -F': *' '/Number of packets/ { print $2 }')
[[ $cap_packets == "$captured" ]] || die "capinfos counts $cap_packets packets, tcpdump captured $captured"

# Connections the generator made: one per transaction in non-persistent
# phases, one per session in persistent ones.
expected_conns=0
for p in "${phases[@]}"; do
  set -- $p
  if (($6)); then expected_conns=$((expected_conns + $3)); else expected_conns=$((expected_conns + $(scaled "$2"))); fi
done

gen_seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
{
  echo "transactions=$source_total"
  echo "smtp_source_completed=$source_total"
  echo "smtp_sink_messages=$sink_mesg"
  echo "smtp_sink_sessions=$((sink_sess - sink_base_sessions))"
  echo "smtp_sink_quits=$sink_quit"
  echo "expected_connections=$expected_conns"
  echo "packets=$cap_packets"
  echo "bytes=$(stat -c %s "$work/cap.pcap")"
  echo "tcpdump_dropped_by_kernel=$kdrop"
  echo "generation_seconds=$gen_seconds"
  echo "generated_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "filter=host $server_addr and tcp port $server_port"
} > "$work/info"

mv -f "$work/cap.pcap" "$out"
echo "$source_total" > "$out.count"
cat "$work/info" > "$out.info"
sed "s|^File name: .*|File name:           $out|" "$work/capinfos.txt" > "$out.capinfos"
printf '%s\n' "$stamp" > "$out.params"
log "done in ${gen_seconds}s: $(du -h "$out" | cut -f1), $cap_packets packets, $source_total transactions, 0 dropped by kernel"
sed -n '/^Number of packets/p;/^File size/p;/^Data size/p;/^Capture duration/p' "$out.capinfos" | sed 's/^/[make-capture]   /' >&2
echo "$out"
