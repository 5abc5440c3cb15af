#!/bin/bash
# quickstart.sh: install the dependencies, build smtpsniff (build/, without
# its tests: those need scripts/deps.sh --test, which scripts/test.sh runs),
# read the bundled sample capture (Zeek's SMTP sample sessions) into the
# embedded SQLite default (./smtpsniff.db) and show what it stored.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release \
    -DSMTPSNIFF_TESTS=OFF >/dev/null
ninja -C build smtpsniff
echo "== build/smtpsniff read tests/pcap/peers/zeek-smtp.pcap (into smtpsniff.db)"
build/smtpsniff read tests/pcap/peers/zeek-smtp.pcap
echo "== build/smtpsniff query messages"
build/smtpsniff query messages
