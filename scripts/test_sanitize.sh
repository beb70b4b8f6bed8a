#!/usr/bin/env bash
# Builds kmodel and its tests with AddressSanitizer + UndefinedBehaviorSanitizer (KMODEL_SANITIZE) in
# build-asan and runs the whole ctest suite there. Any sanitizer report fails the test that hit it
# (UBSan is non-recovering, ASan aborts). With clang (installed by scripts/setup.sh) the same build
# also compiles the libFuzzer harnesses (KMODEL_FUZZ; the library gets coverage instrumentation,
# which the sanitizer runtime ignores outside a fuzzer), so ctest's cli.fuzz_smoke runs each harness
# briefly from the testdata seeds. Without clang it falls back to gcc and the smoke run skips.
# Prints the build and test times.
#   env: ASAN_BUILD_DIR (default build-asan), JOBS (default nproc), KMODEL_FUZZ_SMOKE_SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
B="${ASAN_BUILD_DIR:-build-asan}"
JOBS="${JOBS:-$(nproc)}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp}"
COMPILERS=() FUZZ=OFF
if command -v clang++ >/dev/null && command -v clang >/dev/null; then
  COMPILERS=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) FUZZ=ON
fi
# A build dir configured with the other compiler cannot be switched in place: start it afresh.
if [ -f "$B/CMakeCache.txt" ]; then
  cached=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$B/CMakeCache.txt")
  want=$([ $FUZZ = ON ] && echo clang++ || echo c++)
  case "$(basename "$cached")" in clang++*) have=clang++ ;; *) have=c++ ;; esac
  [ "$have" = "$want" ] || rm -rf "$B"
fi
t0=$(date +%s)
cmake -S . -B "$B" -DKMODEL_SANITIZE=ON -DKMODEL_FUZZ=$FUZZ "${COMPILERS[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$B" -j"$JOBS"
t1=$(date +%s)
cd "$B"
set +e
ctest --output-on-failure -j"$JOBS" --timeout 1200
rc=$?
t2=$(date +%s)
echo "sanitized build ($([ $FUZZ = ON ] && echo clang, with fuzz harnesses || echo gcc)): $((t1 - t0)) s, tests: $((t2 - t1)) s, ctest exit $rc"
exit $rc
