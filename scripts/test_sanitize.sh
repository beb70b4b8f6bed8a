#!/usr/bin/env bash
# Builds kmodel and its tests with AddressSanitizer + UndefinedBehaviorSanitizer (KMODEL_SANITIZE) in
# build-asan and runs the whole ctest suite there. Any sanitizer report fails the test that hit it
# (UBSan is non-recovering, ASan aborts). Prints the build and test times.
#   env: ASAN_BUILD_DIR (default build-asan), JOBS (default nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
B="${ASAN_BUILD_DIR:-build-asan}"
JOBS="${JOBS:-$(nproc)}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
t0=$(date +%s)
cmake -S . -B "$B" -DKMODEL_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$B" -j"$JOBS"
t1=$(date +%s)
cd "$B"
set +e
ctest --output-on-failure -j"$JOBS" --timeout 1200 -E "${SANITIZE_EXCLUDE:-^cli\.fuzz_smoke$}"
rc=$?
t2=$(date +%s)
echo "sanitized build: $((t1 - t0)) s, tests: $((t2 - t1)) s, ctest exit $rc"
exit $rc
