#!/bin/bash
# Time and peak memory of `kmodel diff-weights` on two ~1 GiB full-model H5 files.
# Not run by the tests. Usage: scripts/bench_diff.sh [KMODEL_BINARY] [WORKDIR]
# Makes (with /usr/bin/python3 + h5py) a Sequential of 4 Dense layers (8192, 8192, 4096, 4096) over a 16384-wide
# input (kernels 512 + 256 + 128 + 64 MiB float32 = 960 MiB, ~1 GiB per file) with random weights, and a copy
# whose last kernel has one element changed; then runs diff-weights on A vs A' (exit 1 expected)
# under /usr/bin/time -v and prints elapsed time and maximum resident set size.
set -eu
KMODEL=${1:-build/kmodel}
W=${2:-$(mktemp -d)}
mkdir -p "$W"
/usr/bin/python3 - "$W" <<'PY'
import h5py, json, numpy as np, sys, os
w = sys.argv[1]
a, b = os.path.join(w, "a.h5"), os.path.join(w, "b.h5")
dims = [16384, 8192, 8192, 4096, 4096]   # kernels: 512 MiB + 256 MiB + 128 MiB + 64 MiB = 960 MiB
layers = []
for i in range(4):
    c = {"name": "dense_%d" % i, "units": dims[i + 1], "activation": "relu", "use_bias": True}
    if i == 0: c["batch_input_shape"] = [None, dims[0]]
    layers.append({"class_name": "Dense", "config": c})
cfg = json.dumps({"class_name": "Sequential", "config": {"name": "big", "layers": layers}})
rng = np.random.default_rng(0)
for path in (a, b):
    if os.path.exists(path): continue
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"; f.attrs["backend"] = "tensorflow"; f.attrs["model_config"] = cfg.encode()
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [("dense_%d" % i).encode() for i in range(4)]
        g.attrs["backend"] = b"tensorflow"; g.attrs["keras_version"] = b"2.15.0"
        rng = np.random.default_rng(0)
        for i in range(4):
            lg = g.create_group("dense_%d" % i)
            lg.attrs["weight_names"] = [("dense_%d/kernel:0" % i).encode(), ("dense_%d/bias:0" % i).encode()]
            k = rng.standard_normal((dims[i], dims[i + 1]), dtype=np.float32)
            if path == b and i == 3: k[7, 7] += 1.0
            lg.create_dataset("dense_%d/kernel:0" % i, data=k)
            lg.create_dataset("dense_%d/bias:0" % i, data=np.zeros(dims[i + 1], np.float32))
print("sizes:", os.path.getsize(a), os.path.getsize(b))
PY
set +e
/usr/bin/time -v "$KMODEL" diff-weights "$W/a.h5" "$W/b.h5" >"$W/diff.out" 2>"$W/time.txt"
rc=$?
set -e
tail -3 "$W/diff.out"
echo "exit code: $rc (1 expected: one element differs)"
grep -E "Elapsed \(wall clock\)|Maximum resident set size|User time|System time" "$W/time.txt"
