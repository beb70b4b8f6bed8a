#!/usr/bin/env bash
# Benchmark (not a test): `kmodel inspect` on TF checkpoints reads only the .index (and the small object
# graph), so its time must not grow with the tensor data. Builds Keras H5 models of growing size with
# h5py (Sequential of Dense(8192) layers, 256 MiB per kernel), converts each to a checkpoint with
# `kmodel convert --to checkpoint` (the largest holds >= 4 GiB of tensor data), then times `inspect`,
# `inspect --json` and, for contrast, `inspect --stats` (which reads every tensor).
#
# Usage: scripts/bench_checkpoint.sh [KMODEL_BINARY] [WORK_DIR]
#   KMODEL_BINARY defaults to build/kmodel; WORK_DIR (needs ~9 GiB free) defaults to a temp dir that is
#   removed at the end. Set LAYERS="1 4 17" to choose the sizes (number of 256 MiB layers).
set -euo pipefail
KMODEL="${1:-build/kmodel}"
WORK="${2:-$(mktemp -d)}"
CLEAN=0
[ -z "${2:-}" ] && CLEAN=1
LAYERS="${LAYERS:-1 4 17}"
RUNS="${RUNS:-3}"
cleanup() { if [ "$CLEAN" = 1 ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT
mkdir -p "$WORK"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() {  # prints the median wall time in seconds of RUNS runs of the command
  for _ in $(seq "$RUNS"); do
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null
    e=$(date +%s.%N)
    echo "$e - $s" | bc
  done | median
}

printf '%-8s %12s %10s %10s %12s %12s %12s\n' layers data_bytes index_B convert_s inspect_s json_s stats_s
for n in $LAYERS; do
  h5="$WORK/model_$n.h5"
  ck="$WORK/ckpt_$n"
  if [ ! -f "$h5" ]; then
    /usr/bin/python3 - "$h5" "$n" <<'PY'
import json, sys
import h5py, numpy as np
path, n = sys.argv[1], int(sys.argv[2])
units = 8192
layers = [{"class_name": "InputLayer", "config": {"batch_input_shape": [None, units], "dtype": "float32",
                                                 "sparse": False, "ragged": False, "name": "input"}}]
names = ["dense_%d" % i for i in range(n)]
for name in names:
    layers.append({"class_name": "Dense", "config": {"name": name, "trainable": True, "dtype": "float32",
                   "units": units, "activation": "linear", "use_bias": True}})
config = {"class_name": "Sequential", "config": {"name": "bench", "layers": layers}}
with h5py.File(path, "w") as f:
    f.attrs["model_config"] = json.dumps(config)
    f.attrs["keras_version"] = "2.8.0"
    f.attrs["backend"] = "tensorflow"
    mw = f.create_group("model_weights")
    mw.attrs["layer_names"] = np.array([s.encode() for s in names])
    mw.attrs["keras_version"] = "2.8.0"
    mw.attrs["backend"] = "tensorflow"
    row = np.arange(units, dtype=np.float32) / units
    for i, name in enumerate(names):
        g = mw.create_group(name)
        g.attrs["weight_names"] = np.array([("%s/kernel:0" % name).encode(), ("%s/bias:0" % name).encode()])
        inner = g.create_group(name)
        k = inner.create_dataset("kernel:0", shape=(units, units), dtype=np.float32)
        for r0 in range(0, units, 1024):  # 32 MiB slabs
            k[r0:r0 + 1024] = row[None, :] + (np.arange(r0, r0 + 1024, dtype=np.float32)[:, None] + i)
        inner.create_dataset("bias:0", data=row + i)
PY
  fi
  if [ ! -f "$ck/ckpt.index" ]; then
    mkdir -p "$ck"
    s=$(date +%s.%N)
    "$KMODEL" convert "$h5" "$ck/ckpt" --to checkpoint >/dev/null
    e=$(date +%s.%N)
    convert_s=$(echo "$e - $s" | bc)
  else
    convert_s="-"
  fi
  data_bytes=$(stat -c %s "$ck/ckpt.data-00000-of-00001")
  index_bytes=$(stat -c %s "$ck/ckpt.index")
  sync
  inspect_s=$(timeit "$KMODEL" inspect "$ck")
  json_s=$(timeit "$KMODEL" inspect --json "$ck")
  if [ "${STATS:-1}" = 1 ]; then
    stats_s=$(RUNS=1 timeit "$KMODEL" inspect --stats "$ck")
  else
    stats_s="-"
  fi
  printf '%-8s %12s %10s %10s %12s %12s %12s\n' "$n" "$data_bytes" "$index_bytes" "$convert_s" "$inspect_s" "$json_s" "$stats_s"
  rm -f "$h5"  # keep disk use to one model at a time
done
