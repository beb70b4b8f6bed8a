#!/usr/bin/env bash
# The main job on bundled testdata/: set up, build, then inspect, convert and load real Keras models.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
K=build/kmodel
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
run() { echo; echo "\$ kmodel $*"; "$K" "$@"; }

run inspect testdata/h5/fml_keras_3layer_batch_norm_h5__keras_3layer_batch_norm.h5
run convert testdata/h5/fml_keras_3layer_batch_norm_h5__keras_3layer_batch_norm.h5 "$OUT/model.h5"
run convert testdata/h5/fml_keras_3layer_batch_norm_h5__keras_3layer_batch_norm.h5 "$OUT/arch.json"
run convert testdata/h5/fml_keras_3layer_batch_norm_h5__keras_3layer_batch_norm.h5 "$OUT/weights.h5" --weights-only
run convert "$OUT/arch.json" "$OUT/rebuilt.h5" --weights "$OUT/weights.h5"
run load "$OUT/rebuilt.h5"
