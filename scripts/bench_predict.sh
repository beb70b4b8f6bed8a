#!/usr/bin/env bash
# Benchmark (not a test): `kmodel predict` vs onnxruntime-node on the same weights, one thread each.
# Models: MLP 784-512-512-10, MNIST-sized CNN, LSTM(128) over 50 steps; batch 1 and 64. Also kmodel's
# Dense(512->512) at batch 64 vs a plain Eigen GEMM of that shape. Times are in-process (kmodel
# predict --bench, ort session.run), excluding model loading: the minimum over runs of wall time
# and of process CPU time (the latter is immune to preemption on a shared, loaded machine). Outputs of both engines are checked to agree (1e-5).
# Needs: python3-onnx (apt), node + npm (npm ci --ignore-scripts in scripts/bench_predict), g++.
# Each figure is the minimum over PASSES passes (alternating the two engines) of RUNS runs each.
# Usage: scripts/bench_predict.sh [KMODEL] [RUNS] [PASSES]   (default build/kmodel, 100 runs, 3 passes)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
KMODEL="${1:-$HERE/../build/kmodel}"
RUNS="${2:-100}"
PASSES="${3:-3}"
PY=/usr/bin/python3
B="$HERE/bench_predict"
$PY -c "import onnx" 2>/dev/null || { echo "needs python3-onnx: apt-get install -y python3-onnx" >&2; exit 1; }
[ -d "$B/node_modules/onnxruntime-node" ] || (cd "$B" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export OMP_NUM_THREADS=1
$PY "$B/make_models.py" "$T"

min_of() { sed -n 's/.*ms, min \([0-9.e+-]*\) ms.*/\1/p'; }
cpu_min_of() { sed -n 's/.*cpu min \([0-9.e+-]*\) ms.*/\1/p'; }
ratio() { echo "$1 / $2" | bc -l; }
min2() { if [ -z "$1" ] || (( $(echo "$2 < $1" | bc -l) )); then echo "$2"; else echo "$1"; fi; }
printf "%-5s %5s | %10s %10s %6s | %10s %10s %6s\n" model batch "kmodel ms" "ort ms" "k/ort" "kmodel cpu" "ort cpu" "k/ort"
for m in mlp cnn lstm; do
  for b in 1 64; do
    x="$T/${m}_b$b"
    shape=$($PY -c "import numpy as np; print(','.join(map(str, np.load('$x.npy').shape)))")
    ort=; km=; ortc=; kmc=
    for _ in $(seq "$PASSES"); do
      ort_line=$(node "$B/ort_bench.js" "$T/$m.onnx" "$x.bin" "$shape" "$RUNS" "$x.ort.bin")
      km_line=$("$KMODEL" predict "$T/$m.h5" -i "$x.npy" -o "$x.k.npy" --force --bench "$RUNS" 2>&1 >/dev/null)
      ort=$(min2 "$ort" "$(echo "$ort_line" | min_of)"); km=$(min2 "$km" "$(echo "$km_line" | min_of)")
      ortc=$(min2 "$ortc" "$(echo "$ort_line" | cpu_min_of)"); kmc=$(min2 "$kmc" "$(echo "$km_line" | cpu_min_of)")
    done
    $PY -c "
import numpy as np
k = np.load('$x.k.npy'); o = np.fromfile('$x.ort.bin', dtype=np.float32).reshape(k.shape)
assert np.allclose(k, o, rtol=1e-5, atol=1e-6), float(np.abs(k - o).max())"
    printf "%-5s %5s | %10.4f %10.4f %6.2f | %10.4f %10.4f %6.2f\n" "$m" "$b" "$km" "$ort" "$(ratio "$km" "$ort")" \
      "$kmc" "$ortc" "$(ratio "$kmc" "$ortc")"
  done
done

g++ -O3 -DNDEBUG -march=native ${CXXFLAGS:-} -I/usr/include/eigen3 "$B/gemm_bench.cc" -o "$T/gemm_bench"
eig=; km=
for _ in $(seq "$PASSES"); do
  eig=$(min2 "$eig" "$("$T/gemm_bench" 64 "$RUNS" | min_of)")
  km=$(min2 "$km" "$("$KMODEL" predict "$T/dense.h5" -i "$T/dense_b64.npy" -o "$T/dense.k.npy" --force --bench "$RUNS" 2>&1 >/dev/null | min_of)")
done
gflop=$(echo "2 * 64 * 512 * 512 / 1000000000" | bc -l)
printf "dense 64x512x512: kmodel %.4f ms (%.1f GFLOP/s), plain Eigen GEMM %.4f ms (%.1f GFLOP/s): kmodel at %.0f%% of Eigen\n" \
  "$km" "$(echo "$gflop / ($km / 1000)" | bc -l)" "$eig" "$(echo "$gflop / ($eig / 1000)" | bc -l)" "$(echo "100 * $eig / $km" | bc -l)"
