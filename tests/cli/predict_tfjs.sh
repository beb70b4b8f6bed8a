#!/usr/bin/env bash
# Differential test of `kmodel predict` against TensorFlow.js (npm @tensorflow/tfjs, pinned by
# tests/tfjs/package-lock.json): gen.js builds 70 models with seeded random weights and inputs and
# records tfjs's outputs; make_h5.py writes them as Keras H5; ref_layers.py adds NumPy references for
# layers tfjs lacks or gets wrong (43 cases: MultiHeadAttention, Attention (masked too), GRU reset_after, causal
# Conv1D, Conv1DTranspose, Depthwise/SeparableConv1D, Unit/GroupNormalization, 3D reshaping, a Keras 3
# config, ConvLSTM1D/3D, ConvLSTM2D channels_first/return_state, the corpus ConvLSTM2D model, Resizing /
# CenterCrop / bilinear UpSampling2D with TF 2 half-pixel resize, augmentation layers at inference,
# tf.keras TF-op layers).
# Needs node + `npm ci` in tests/tfjs (scripts/setup.sh), and /usr/bin/python3 with h5py + numpy.
set -euo pipefail
: "${KMODEL:?}" "${SRC:?}"
DIR="$SRC/tests/tfjs"
if [ ! -d "$DIR/node_modules/@tensorflow/tfjs" ]; then
  (cd "$DIR" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null) ||
    { echo "FAIL: tests/tfjs needs 'npm ci' (node + npm)" >&2; exit 1; }
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
node "$DIR/gen.js" "$T/cases" 2> "$T/gen.err" | grep -v '^$' | grep -v '=====\|Hi, looks' || true
if grep -q '^case ' "$T/gen.err"; then cat "$T/gen.err" >&2; echo "FAIL: tfjs could not run some cases" >&2; exit 1; fi
mkdir -p "$T/work"
for c in "$T"/cases/*.json; do /usr/bin/python3 "$DIR/make_h5.py" "$c" "$T/work" > /dev/null; done
/usr/bin/python3 "$DIR/ref_layers.py" "$T/work"
/usr/bin/python3 "$DIR/run_diff.py" "$KMODEL" "$T/work"
