#!/usr/bin/env bash
# Benchmark (not a test): generate a >= 1 GiB Keras H5 model, then measure `kmodel convert` H5 -> H5
# against `cp` (and `cp` + sync, since kmodel fsyncs its output), peak memory of each (/usr/bin/time -v),
# and `kmodel inspect` time on the big file vs a small one. Usage: scripts/bench_h5.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
K="${KMODEL:-build/kmodel}"
W="${1:-$(mktemp -d)}"
mkdir -p "$W"
BIG="$W/big.h5"
[ -f "$BIG" ] || /usr/bin/python3 scripts/gen_big_h5.py "$BIG"
ls -l "$BIG"
sync
measure() {  # label, command...
  local label="$1"; shift
  /usr/bin/time -v "$@" 2>"$W/time.txt" >/dev/null
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$W/time.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$W/time.txt" | awk '{print $NF}')
  printf "%-34s wall %-10s peak RSS %8d KiB\n" "$label" "$wall" "$rss"
}
for i in 1 2; do
  rm -f "$W/copy.h5" "$W/out.h5"
  measure "cp" cp "$BIG" "$W/copy.h5"
  rm -f "$W/copy.h5"
  measure "cp + sync" bash -c "cp '$BIG' '$W/copy.h5' && sync '$W/copy.h5'"
  measure "kmodel convert h5 -> h5" "$K" -q convert "$BIG" "$W/out.h5"
done
measure "kmodel inspect (1 GiB model)" "$K" inspect "$BIG"
measure "kmodel inspect --json (1 GiB)" "$K" inspect --json "$BIG"
measure "kmodel inspect (small model)" "$K" inspect testdata/h5/fml_keras_3layer_h5__keras_3layer.h5
echo "largest tensor: $(( 8192 * 8192 * 4 / 1024 )) KiB"
rm -f "$W/copy.h5" "$W/out.h5"
