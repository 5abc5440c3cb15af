#!/bin/bash
# quickstart.sh: install the dependencies, build smtpsniff (build/), read the
# bundled sample capture (the Wireshark SMTP sample session) into the
# embedded SQLite default (./smtpsniff.db) and show what it stored.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build smtpsniff
echo "== build/smtpsniff read tests/pcap/peers/zeek-smtp.pcap   (into smtpsniff.db)"
build/smtpsniff read tests/pcap/peers/zeek-smtp.pcap
echo "== build/smtpsniff query messages"
build/smtpsniff query messages
