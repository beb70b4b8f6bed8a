#!/usr/bin/env bash
# The one test command: install what is missing, build, and run every test (unit + CLI) with ctest;
# then the same suite again built with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan).
# KMODEL_SKIP_SANITIZE=1 skips the second pass (for quick local runs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j"$(nproc)" --timeout 600)
if [ "${KMODEL_SKIP_SANITIZE:-0}" != 1 ]; then
  scripts/test_sanitize.sh
fi
