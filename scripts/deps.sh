#!/bin/bash
# deps.sh [--test]: install what smtpsniff needs from Debian 12's archive.
# Without --test: to build and run. With --test: also to run the tests
# (cmocka, editcap for the slice tests, clang for the fuzz targets).
# Installs only what is missing; uses sudo when not root.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkgconf libpcap-dev libssl-dev libsqlite3-dev sqlite3 libmariadb-dev libpq-dev)
if [[ ${1:-} == --test ]]; then
	pkgs+=(libcmocka-dev python3 python3-yaml wireshark-common clang libclang-rt-14-dev
	    mariadb-server mariadb-client postgresql)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
sudo=
[[ $(id -u) -eq 0 ]] || sudo=sudo
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >&2
${sudo:+$sudo -E} apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
