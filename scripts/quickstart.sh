#!/bin/bash
# quickstart.sh: install the dependencies, build smtpsniff (build/), and run
# it on the bundled sample capture (the Wireshark SMTP sample session).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build smtpsniff
echo "== build/smtpsniff read tests/pcap/peers/zeek-smtp.pcap"
build/smtpsniff read tests/pcap/peers/zeek-smtp.pcap
