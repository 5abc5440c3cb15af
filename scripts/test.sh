#!/bin/bash
# test.sh: the whole test suite. Builds and runs every test (unit, CLI,
# tshark oracle, slices, fuzz corpus replay) in build/, then again with
# AddressSanitizer + UndefinedBehaviorSanitizer (-fno-sanitize-recover=all)
# in build-asan/. Exit status 0 only if both pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
jobs=$(nproc)

echo "== build/ (Release)"
cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== build-asan/ (ASan + UBSan)"
cmake -G Ninja -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
    -DSMTPSNIFF_SANITIZE=ON >/dev/null
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
