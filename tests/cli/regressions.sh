#!/usr/bin/env bash
# Regression inputs found by fuzzing and the malformed-input suite (testdata/regressions/, see
# PROVENANCE.md): every command ends with one "kmodel: error:" line and exit 3/4/5 (1 for load),
# no crash, no sanitizer report, no output file.
set -uo pipefail
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0; n=0
check() {
  local label="$1"; shift
  "$KMODEL" "$@" >/dev/null 2>"$T/err"; local rc=$?
  n=$((n + 1))
  local lines; lines=$(grep -c . "$T/err")
  case "$rc" in
    3|4|5) [ "$lines" = 1 ] && grep -q '^kmodel: error: ' "$T/err" || { echo "FAIL [$label] kmodel $*: stderr: $(head -c 800 "$T/err")"; fail=1; } ;;
    1) [ "$1" = load ] || { echo "FAIL [$label] kmodel $*: exit 1"; fail=1; } ;;
    *) echo "FAIL [$label] kmodel $*: exit $rc (crash or unexpected success): $(head -c 800 "$T/err")"; fail=1 ;;
  esac
  if grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$T/err"; then echo "FAIL [$label]: sanitizer report"; fail=1; fi
  if [ -n "$(ls -A "$T/out" 2>/dev/null)" ]; then echo "FAIL [$label]: output left: $(ls -A "$T/out")"; fail=1; fi
  rm -rf "$T/out"; mkdir -p "$T/out"
}
mkdir -p "$T/out"
# Inputs on which libhdf5 never returns (*_hang*) are refused when the HDF5 guard's probe times out;
# a short timeout keeps the suite fast (the probes of the other small inputs take milliseconds).
export KMODEL_HDF5_GUARD_TIMEOUT_MS=2000
# Inputs that made libhdf5 ask for gigabytes (*_oom*): the peak RSS of the whole run stays small.
# (Not measured for sanitizer builds, whose shadow memory inflates RSS.)
if ! grep -q __asan_init "$KMODEL" 2>/dev/null && [ -x /usr/bin/time ]; then
  for f in "$TESTDATA"/regressions/*_oom*; do
    [ -e "$f" ] || continue
    /usr/bin/time -f %M -o "$T/rss" "$KMODEL" inspect "$f" >/dev/null 2>&1
    kb=$(tail -1 "$T/rss")
    [ "${kb:-0}" -lt 262144 ] || { echo "FAIL [$(basename "$f")]: peak RSS ${kb} KB (limit 256 MiB)"; fail=1; }
  done
fi
for f in "$TESTDATA"/regressions/*; do
  b=$(basename "$f")
  check "$b" inspect "$f"
  check "$b" inspect --security "$f"
  check "$b" load "$f"
  check "$b" convert "$f" "$T/out/x.h5"
  check "$b" convert "$f" "$T/out/x.keras"
done
[ "$fail" = 0 ] && echo "regressions ok ($n runs)"
exit "$fail"
