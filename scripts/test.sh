#!/bin/bash
# test.sh: the whole test suite, in three builds. Exit status 0 only if all
# pass.
#   build/       Release: every test (ctest labels unit, corpus,
#                conformance, capture, store, integration: the stores on
#                real MariaDB and PostgreSQL servers, live: the capture
#                command on real traffic in a network namespace, as root).
#   build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer
#                (-fno-sanitize-recover=all): every test but the
#                integration ones (the servers are slow to start, and the
#                code they drive runs on SQLite in the store tests too;
#                live_outage is one of them).
#   build-tsan/  ThreadSanitizer (clang): unit, corpus, conformance and
#                store: the store's writer thread, through unit_store and
#                store_sqlite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
jobs=$(nproc)

echo "== build/ (Release): all tests"
cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release \
    -DSMTPSNIFF_TESTS=ON >/dev/null
ninja -C build
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== build-asan/ (ASan + UBSan): all tests but integration"
cmake -G Ninja -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
    -DSMTPSNIFF_SANITIZE=ON -DSMTPSNIFF_TESTS=ON >/dev/null
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" \
    -LE '^integration$'

echo "== build-tsan/ (ThreadSanitizer, clang): unit, corpus, conformance, store"
CC=clang cmake -G Ninja -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSMTPSNIFF_TSAN=ON -DSMTPSNIFF_TESTS=ON >/dev/null
ninja -C build-tsan
TSAN_OPTIONS=halt_on_error=1 \
    ctest --test-dir build-tsan --output-on-failure -j "$jobs" \
    -L '^(unit|corpus|conformance|store)$'
