#!/bin/bash
# flood.sh SMTPSNIFF: issue 8 §3. A real session (own/multi-transaction)
# with 300,000 spoofed SYNs sent in a pause in its middle, more than the
# flow table holds (LIMIT_FLOWS): the half-open connections are evicted,
# not the session. It keeps one session id, its HELO on every record, and
# the same records as without the flood.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() {
	if eval "$2"; then
		echo "ok: $1"
		passed=$((passed + 1))
	else
		echo "FAIL: $1"
		failed=$((failed + 1))
	fi
}
in=$here/tests/pcap/own/multi-transaction/input.pcap
$py "$here/bench/flood.py" inside 300000 "$in" "$tmp/flood.pcap"
"$bin" read -q -o json:"$tmp/plain.json" "$in"
"$bin" read -o json:"$tmp/flood.json" "$tmp/flood.pcap" 2>"$tmp/summary"
strip() {	# the records without their session id (it depends on time)
	$py -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    r.pop("session")
    print(json.dumps(r, sort_keys=True))' "$1"
}
check "the flood summary counts evicted half-open connections" \
    "grep -Eq 'evictions: .* opening [1-9]' $tmp/summary"
check "no mail in flight evicted" \
    "grep -Eq 'evictions: .* mail 0' $tmp/summary"
check "records: as many as without the flood" \
    "[[ \$(wc -l <$tmp/flood.json) -eq \$(wc -l <$tmp/plain.json) && \
    \$(wc -l <$tmp/plain.json) -gt 1 ]]"
check "one session id" \
    "[[ \$($py -c 'import json,sys; print(len({json.loads(l)[\"session\"] \
    for l in open(sys.argv[1])}))' $tmp/flood.json) -eq 1 ]]"
check "every record has its HELO" \
    "! grep -q '\"helo\":null' $tmp/flood.json"
check "the records are those of the session read alone (but ts)" \
    "diff <(strip $tmp/plain.json | sed 's/\"ts\": \"[^\"]*\"//') \
    <(strip $tmp/flood.json | sed 's/\"ts\": \"[^\"]*\"//') >/dev/null"
echo "$passed passed, $failed failed"
((failed == 0))
