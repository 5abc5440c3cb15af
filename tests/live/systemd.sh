#!/bin/bash
# systemd.sh SMTPSNIFF: contrib/systemd/smtpsniff.service passes
# `systemd-analyze verify` without a single warning (verify exits 0 even
# for an unknown key, so its output must be empty too), and its exposure
# (`systemd-analyze security`) stays at most 2.5 of 10. The unit is
# checked with ExecStart pointing at the binary just built (verify wants
# it to exist); nothing is started. Without systemd-analyze: a failure
# under CI=true, a skip (77) elsewhere.
set -euo pipefail
bin=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
unit=$here/../../contrib/systemd/smtpsniff.service
if ! command -v systemd-analyze >/dev/null; then
	if [[ -n ${CI:-} && ${CI:-} != false && ${CI:-} != 0 ]]; then
		echo "FAIL: systemd-analyze is missing (scripts/deps.sh --test" \
		    "installs systemd)"
		exit 1
	fi
	echo "SKIP: systemd-analyze is missing"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -q '^ExecStart=/usr/local/bin/smtpsniff capture ' "$unit" || {
	echo "FAIL: ExecStart is not /usr/local/bin/smtpsniff capture ..."
	exit 1
}
sed "s#/usr/local/bin/smtpsniff#$bin#" "$unit" >"$tmp/smtpsniff.service"
fail=0
if ! out=$(systemd-analyze verify --man=no "$tmp/smtpsniff.service" 2>&1) ||
    [[ -n $out ]]; then
	echo "FAIL: systemd-analyze verify:"
	echo "$out"
	fail=1
else
	echo "ok   systemd-analyze verify: no warning"
fi
sec=$(systemd-analyze security --offline=yes "$tmp/smtpsniff.service" 2>&1 |
    sed -n 's/.*Overall exposure level for smtpsniff.service: \([0-9.]*\).*/\1/p')
if [[ -z $sec ]] || awk -v s="$sec" 'BEGIN { exit !(s > 2.5) }'; then
	echo "FAIL: exposure ${sec:-unknown} (at most 2.5)"
	fail=1
else
	echo "ok   exposure $sec of 10 (at most 2.5)"
fi
# The keys the unit relies on.
for k in 'DynamicUser=yes' 'CapabilityBoundingSet=CAP_NET_RAW' \
    'NoNewPrivileges=yes' 'ProtectSystem=strict' 'StateDirectory=smtpsniff' \
    'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qxF "$k" "$unit" || { echo "FAIL: no line $k"; fail=1; }
done
exit $fail
