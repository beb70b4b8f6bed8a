#!/bin/bash
# `kmodel save` on Keras 1 artifacts (per-gate LSTM weights "lstm_1_W_i", Bidirectional halves)
# and a BatchNormalization model (non-trainable moving statistics) by order; --json report;
# diff-weights refuses inputs without weights. Env: KMODEL, TESTDATA.
set -u
D="$TESTDATA/diff"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { "$KMODEL" "$@" >"$T/out" 2>"$T/err"; echo $?; }

# Keras 1.2.2: JSON config + save_weights file (no keras_version) -> full H5 equal to model.save's.
rc=$(run save --arch "$D/simple_lstm_tf_keras_1_config.json" --weights "$D/simple_lstm_tf_keras_1_weights.h5" -o "$T/k1.h5")
[ "$rc" = 0 ] || fail "keras 1 save: exit $rc: $(cat "$T/out" "$T/err")"
grep -q "coverage: 14 loaded, 0 missing" "$T/out" || fail "keras 1 coverage: $(cat "$T/out")"
grep -q "loaded     lstm_1/U_f <- lstm_1_U_f:0" "$T/out" || fail "keras 1 names: $(cat "$T/out")"
rc=$(run diff-weights "$T/k1.h5" "$D/simple_lstm_tf_keras_1_model.h5")
[ "$rc" = 0 ] || fail "keras 1 diff: $(cat "$T/out")"
grep -q "^14 weights: 14 equal" "$T/out" || fail "keras 1 diff summary: $(cat "$T/out")"
# Keras 1 Bidirectional(LSTM): 24 per-gate arrays, forward then backward.
rc=$(run save --arch "$D/bidirectional_lstm_tensorflow_1.h5" -o "$T/bi.h5")
[ "$rc" = 0 ] || fail "bidirectional re-save: exit $rc: $(cat "$T/out" "$T/err")"
grep -q "loaded     bidirectional_1/backward_lstm_1_b_o <- backward_lstm_1_b_o:0" "$T/out" || fail "bidirectional: $(cat "$T/out")"
rc=$(run diff-weights --by order "$T/bi.h5" "$D/bidirectional_lstm_tensorflow_1.h5")
[ "$rc" = 0 ] || fail "bidirectional diff: $(cat "$T/out")"

# BatchNormalization by order: gamma, beta (trainable) then moving_mean, moving_variance.
rc=$(run save --json --arch "$D/keras_3layer_batch_norm.h5" --weights "$D/keras_3layer_batch_norm.h5" --by order -o "$T/bn.h5")
[ "$rc" = 0 ] || fail "bn save: exit $rc: $(cat "$T/out" "$T/err")"
/usr/bin/python3 - "$T/out" "$T/bn.h5" <<'PY' || fail "bn report/layout: $(cat "$T/out")"
import json, sys, h5py
r = json.load(open(sys.argv[1]))
assert r["ok"] is True and r["expected"] == 24 and len(r["loaded"]) == 24 and r["missing"] == [], r
assert "bn1/moving_variance <- bn1/moving_variance:0" in r["loaded"], r["loaded"]
g = h5py.File(sys.argv[2], "r")["model_weights/bn1"]
names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
assert names == ["bn1/gamma:0", "bn1/beta:0", "bn1/moving_mean:0", "bn1/moving_variance:0"], names
PY
rc=$(run diff-weights "$T/bn.h5" "$D/keras_3layer_batch_norm.h5")
[ "$rc" = 0 ] || fail "bn diff: $(cat "$T/out")"

# A tf.keras H5 with an Embedding: its model_config carries no keras_version and "output_dim"
# must not be taken for Keras 1; the file's own version decides (weights named "embeddings").
rc=$(run save --arch "$D/misc_0.h5" -o "$T/misc.h5")
[ "$rc" = 0 ] || fail "embedding re-save: exit $rc: $(cat "$T/out" "$T/err")"
grep -q "loaded     embedding/embeddings <- embedding/embeddings:0" "$T/out" || fail "embedding names: $(cat "$T/out")"
rc=$(run diff-weights "$T/misc.h5" "$D/misc_0.h5")
[ "$rc" = 0 ] || fail "embedding diff: $(cat "$T/out")"

# Two architectures without weights: nothing to compare is a usage error (exit 2).
rc=$(run diff-weights "$D/simple_lstm_tf_keras_1_config.json" "$D/conv2d_1layer.json")
[ "$rc" = 2 ] || fail "no weights: exit $rc"
echo "ok"
