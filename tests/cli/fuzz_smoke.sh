#!/usr/bin/env bash
# Fuzzing smoke run (issue 9): runs every libFuzzer harness for a few seconds (KMODEL_FUZZ_SMOKE_SECONDS,
# default 8) from the testdata seeds, with ASan + UBSan + LeakSanitizer. A harness that crashes, leaks,
# hangs or trips a sanitizer fails the test. The harnesses are built by the sanitized pass of the test
# command (scripts/test_sanitize.sh configures clang with KMODEL_FUZZ=ON in build-asan); in a build
# without them (the plain gcc build) this test says so and passes — the sanitized pass runs it for real.
set -uo pipefail
BUILD="$(cd "$(dirname "$KMODEL")" && pwd)"
if [ ! -x "$BUILD/fuzz/fuzz_json" ]; then
  echo "skip: no fuzz harnesses in $BUILD (they are built and run by scripts/test_sanitize.sh)"; exit 0
fi
SECS="${KMODEL_FUZZ_SMOKE_SECONDS:-8}"
start=$(date +%s)
# A fresh corpus directory each time: the smoke run starts from the seeds, as on a clean clone.
rm -rf "$BUILD/fuzz/corpus"
if ! FUZZ_NO_BUILD=1 FUZZ_BUILD_DIR="$BUILD" bash "$SRC/scripts/fuzz.sh" "$SECS"; then
  echo "FAIL: a fuzz harness crashed (see above)"; exit 1
fi
echo "fuzz smoke ok in $(( $(date +%s) - start )) s"
