#!/bin/bash
# Regenerate the own/ captures (as root, Debian 12):  make_all.sh [CASE...]
#
# Each live case runs in a network namespace of its own that has only its
# loopback (lo at MTU 1500 with TSO/GSO/GRO off, so segments are Ethernet-sized):
# no traffic can reach any other host.  gen.py starts the server, tcpdump and the
# client(s) inside it and writes input.pcap + expect.json; this script then fixes
# the TCP checksums (loopback leaves them unfilled) with tcprewrite --fixcsum.
# The derived cases (vlan, reordered-duplicated) are made from attachments/ by
# derive.py.  Contents are deterministic; ports, timestamps, the TLS certificate
# and smtp-source's Date header differ from run to run.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OWN=$(dirname "$HERE")
PY=/usr/bin/python3   # Debian's: the python3 on PATH cannot import python3-aiosmtpd
export PYTHONDONTWRITEBYTECODE=1

LIVE="rcpt-rejections auth-success auth-failure bdat attachments rfc2231-filename dot-stuffing
      forwarded-message nested-messages multi-transaction starttls ipv6 pipelining
      pregreet ehlo-pipelined starttls-plain overlong-line"
DERIVED="vlan qinq reordered-duplicated"

need() {
    local missing=()
    for p in postfix swaks python3-aiosmtpd python3-scapy tcpdump tcpreplay tshark wireshark-common ethtool openssl iproute2; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
    fi
}

live_case() {
    local c=$1 ns="ssown-$1-$$"
    ip netns add "$ns"
    ip -n "$ns" link set lo mtu 1500 up
    ip netns exec "$ns" ethtool -K lo tso off gso off gro off >/dev/null
    local rc=0 stage
    stage=$(mktemp -d /tmp/smtpsniff-own-stage.XXXXXX)
    ip netns exec "$ns" "$PY" "$HERE/gen.py" "$c" "$stage" || rc=$?
    # nothing we started may outlive the namespace (postfix's children exit late)
    for _ in $(seq 50); do
        [ -z "$(ip netns pids "$ns")" ] && break
        sleep 0.2
    done
    for pid in $(ip netns pids "$ns"); do
        echo "killing leftover pid $pid: $(tr '\0' ' ' < /proc/$pid/cmdline)" >&2
        kill "$pid" || true
    done
    ip netns del "$ns"
    [ $rc -eq 0 ] || { echo "case $c failed" >&2; rm -rf "$stage"; return $rc; }
    tcprewrite --fixcsum -i "$stage/input.pcap" -o "$stage/fixed.pcap"
    mkdir -p "$OWN/$c"
    cp "$stage/fixed.pcap" "$OWN/$c/input.pcap"
    cp "$stage/expect.json" "$OWN/$c/expect.json"
    rm -rf "$stage"
}

need
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=($LIVE $DERIVED)
for c in "${cases[@]}"; do
    echo "=== $c"
    case " $DERIVED " in
        *" $c "*) "$PY" "$HERE/derive.py" "$c" "$OWN" ;;
        *) live_case "$c" ;;
    esac
done
"$PY" "$HERE/verify.py" "$OWN" "${cases[@]}"
"$PY" "$HERE/readme.py" "$OWN"
