#!/bin/bash
# test.sh: the whole test suite. Builds and runs every test (unit, CLI,
# tshark oracle, slices, fuzz corpus replay, the stores on real database
# servers) in build/, then again with AddressSanitizer +
# UndefinedBehaviorSanitizer (-fno-sanitize-recover=all) in build-asan/,
# then with ThreadSanitizer (clang) in build-tsan/. Exit status 0 only if
# all pass.
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

echo "== build-tsan/ (ThreadSanitizer, clang)"
CC=clang cmake -G Ninja -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSMTPSNIFF_TSAN=ON >/dev/null
ninja -C build-tsan
TSAN_OPTIONS=halt_on_error=1 \
    ctest --test-dir build-tsan --output-on-failure -j "$jobs"
