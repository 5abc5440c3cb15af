#!/bin/bash
# deps.sh [--test]: install what smtpsniff needs from Debian 12's archive.
# Without --test: to build and run it (scripts/quickstart.sh). With --test:
# also to build and run every test (scripts/test.sh): cmocka, python3 and
# python3-yaml for the test drivers, editcap and capinfos for the slices,
# clang and its sanitizer runtimes (ThreadSanitizer, fuzz targets),
# MariaDB and PostgreSQL servers for the store tests, procps (ps) for the
# scripts that start and stop them; for the live tests (tests/live/) real
# mail software and capture tools: postfix (smtp-sink, smtp-source; never
# started as a service, and preseeded so that it asks nothing), swaks and
# libnet-ssleay-perl (its STARTTLS), tcpdump, iproute2 (ip netns), ethtool,
# openssl (a certificate per run); tcpreplay for bench/live.sh; systemd
# for systemd-analyze and strace (contrib/systemd checked against what
# capture does, never started).
# Installs only what is missing, as root or through sudo. Works on a bare
# Debian 12 (a minbase container: no sudo, apt lists never fetched).
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkgconf libpcap-dev libssl-dev
    libsqlite3-dev sqlite3 libmariadb-dev libpq-dev)
if [[ ${1:-} == --test ]]; then
	pkgs+=(libcmocka-dev python3 python3-yaml wireshark-common clang
	    libclang-rt-14-dev mariadb-server mariadb-client postgresql procps
	    postfix swaks libnet-ssleay-perl tcpdump iproute2 ethtool openssl
	    tcpreplay systemd strace)
elif [[ -n ${1:-} ]]; then
	echo "usage: $0 [--test]" >&2
	exit 2
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null; then
		cat >&2 <<-EOF
		$0: these Debian packages are missing:
		  ${missing[*]}
		Installing them needs root, and sudo is not installed. Either run
		the same command again as root, or have an administrator run, as
		root:
		  apt-get update && apt-get install --no-install-recommends ${missing[*]}
		EOF
		exit 1
	fi
	# -E keeps DEBIAN_FRONTEND (no debconf questions).
	sudo=(sudo -E)
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Postfix asks which mail setup to make: none (its daemon is never used).
if [[ " ${missing[*]} " == *" postfix "* ]]; then
	echo "postfix postfix/main_mailer_type select No configuration" |
	    "${sudo[@]}" debconf-set-selections
fi
# apt-get with one retry: a dropped connection to the mirror is not worth
# a failed install; the second failure is reported.
apt_get() {
	"${sudo[@]}" apt-get "$@" >&2 ||
	    { sleep 5; "${sudo[@]}" apt-get "$@" >&2; }
}
# Always update first: on a fresh machine the lists were never fetched
# (then nothing at all can be installed), and old lists name package
# versions the mirror no longer has.
apt_get update -q
apt_get install -y -q --no-install-recommends "${missing[@]}" || {
	echo "$0: apt-get install failed; the packages needed:" \
	    "${missing[*]}" >&2
	exit 1
}
