#!/usr/bin/env bash
# The main job on bundled testdata/: set up, build, then inspect, convert, load, diff and run real
# Keras models (H5, SavedModel, checkpoint) with no Python or TensorFlow involved.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${KMODEL:-}" ] || scripts/setup.sh
[ -n "${KMODEL:-}" ] || scripts/build.sh
K=${KMODEL:-build/kmodel}
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
run() { echo; echo "\$ kmodel $*"; "$K" "$@"; }
H5=testdata/h5/fml_keras_3layer_batch_norm_h5__keras_3layer_batch_norm.h5
SM=testdata/savedmodel/coffee_roast_savedmodel_keras

# A Keras H5 model: what is in it, then the same model in other shapes.
run inspect "$H5"
run convert "$H5" "$OUT/arch.json"
run convert "$H5" "$OUT/weights.h5" --weights-only
run convert "$OUT/arch.json" "$OUT/rebuilt.h5" --weights "$OUT/weights.h5"
run load "$OUT/rebuilt.h5"
run diff-weights "$H5" "$OUT/rebuilt.h5"

# The user's example: a tf.keras SavedModel directory to H5 (and back), no TensorFlow.
run convert "$SM" "$OUT/my.h5"
run convert "$OUT/my.h5" "$OUT/my_model"
run diff-weights "$SM" "$OUT/my_model"

# A TF2 checkpoint's variable map, then the H5 model written as a checkpoint.
run inspect testdata/checkpoint/charity_tf2
mkdir -p "$OUT/ckpt"
run convert "$H5" "$OUT/ckpt/model" --to checkpoint
run inspect "$OUT/ckpt"

# Native inference on the inputs Keras saved with this model; compare with Keras's own predictions.
/usr/bin/python3 - "$OUT" <<'PY'
import sys, h5py, numpy as np
f = h5py.File("testdata/predict/LeakyReLU_0_inputs_and_outputs.h5", "r")
np.save(sys.argv[1] + "/x.npy", f["inputs/dense_input"][()])
np.save(sys.argv[1] + "/keras_y.npy", f["predictions/leaky_re_lu_1"][()])
PY
run predict testdata/predict/LeakyReLU_0_model.h5 -i "$OUT/x.npy" -o "$OUT/y.npy"
/usr/bin/python3 -c "import numpy as np, sys; a=np.load('$OUT/y.npy'); b=np.load('$OUT/keras_y.npy'); print('kmodel vs Keras predictions: max abs diff', float(np.abs(a-b).max()))"
