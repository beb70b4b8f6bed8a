#!/bin/bash
# diff-weights end to end: real corpus artifacts of the same model in different formats diff as
# equal; a perturbed copy differs (exit 1) or is within tolerance; errors exit > 1; --json.
# Env: KMODEL (binary), TESTDATA (testdata dir).
set -u
D="$TESTDATA/diff"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { "$KMODEL" "$@" >"$T/out" 2>"$T/err"; echo $?; }

# 1. Full model H5 vs weights-only H5 (hls4ml conv2d), both orders of matching.
rc=$(run diff-weights "$D/conv2d_1layer.h5" "$D/conv2d_1layer_weights.h5")
[ "$rc" = 0 ] || fail "full vs weights-only: exit $rc: $(cat "$T/out" "$T/err")"
grep -q "2 weights: 2 equal" "$T/out" || fail "summary: $(cat "$T/out")"
grep -q "SAME" "$T/out" || fail "no SAME"
rc=$(run diff-weights --by order "$D/simple_lstm_tf_keras_2_model.h5" "$D/simple_lstm_tf_keras_2_weights.h5")
[ "$rc" = 0 ] || fail "lstm full vs weights by order: exit $rc: $(cat "$T/out" "$T/err")"
grep -q "5 weights: 5 equal" "$T/out" || fail "lstm summary: $(cat "$T/out")"

# 2. JSON architecture + weights H5 vs the full H5.
rc=$(run diff-weights "$D/conv2d_1layer.json" --weights-a "$D/conv2d_1layer_weights.h5" "$D/conv2d_1layer.h5")
[ "$rc" = 0 ] || fail "json+weights vs full: exit $rc: $(cat "$T/out" "$T/err")"

# 3. --json is one parseable document with per-weight statuses.
rc=$(run diff-weights --json "$D/conv2d_1layer.h5" "$D/conv2d_1layer_weights.h5")
[ "$rc" = 0 ] || fail "--json exit $rc"
/usr/bin/python3 - "$T/out" <<'PY' || fail "--json content: $(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["same"] is True, d
assert d["counts"]["equal"] == 2, d["counts"]
keys = sorted(w["key"] for w in d["weights"])
assert keys == ["conv2d/bias", "conv2d/kernel"], keys
k = [w for w in d["weights"] if w["key"] == "conv2d/kernel"][0]
assert k["shape_a"] == [3, 3, 1, 1] and k["dtype_a"] == "float32" and k["max_abs"] == 0, k
PY

# 4. Perturbed copies (h5py): one element +1e-3 (differs), one +1e-7 relative (within tolerance).
cp "$D/keras_3layer.h5" "$T/big.h5"; cp "$D/keras_3layer.h5" "$T/tiny.h5"; chmod u+w "$T"/*.h5
/usr/bin/python3 - "$T/big.h5" "$T/tiny.h5" <<'PY' || fail "h5py perturbation"
import h5py, sys
with h5py.File(sys.argv[1], "r+") as f:
    d = f["model_weights/fc2_relu/fc2_relu/kernel:0"]; a = d[()]; a[3, 4] += 1e-3; d[...] = a
with h5py.File(sys.argv[2], "r+") as f:
    d = f["model_weights/fc1_relu/fc1_relu/bias:0"]; a = d[()]; a[0] *= (1 + 1e-7); a[1] = a[1] + 1e-7 if a[1] == 0 else a[1] * (1 + 1e-7); d[...] = a
PY
rc=$(run diff-weights "$D/keras_3layer.h5" "$T/big.h5")
[ "$rc" = 1 ] || fail "perturbed: exit $rc (want 1): $(cat "$T/out" "$T/err")"
grep -q "^differs  fc2_relu/kernel" "$T/out" || fail "differs line: $(cat "$T/out")"
grep -q "1 of 2048 elements differ" "$T/out" || fail "element count: $(cat "$T/out")"
grep -q "DIFFERENT" "$T/out" || fail "no DIFFERENT"
rc=$(run diff-weights --atol 0.01 "$D/keras_3layer.h5" "$T/big.h5")
[ "$rc" = 0 ] || fail "perturbed within --atol 0.01: exit $rc: $(cat "$T/out")"
grep -q "within_tolerance  fc2_relu/kernel" "$T/out" || fail "within_tolerance line: $(cat "$T/out")"
rc=$(run diff-weights "$D/keras_3layer.h5" "$T/tiny.h5")
[ "$rc" = 0 ] || fail "tiny perturbation should be within default tolerance: $(cat "$T/out")"
rc=$(run diff-weights --rtol 0 --atol 0 "$D/keras_3layer.h5" "$T/tiny.h5")
[ "$rc" = 1 ] || fail "tiny perturbation with zero tolerance: exit $rc"

# NaN at the same place in both: differs unless --equal-nan.
cp "$D/keras_3layer.h5" "$T/nan1.h5"; cp "$D/keras_3layer.h5" "$T/nan2.h5"; chmod u+w "$T"/nan*.h5
/usr/bin/python3 - "$T/nan1.h5" "$T/nan2.h5" <<'PY' || fail "h5py nan"
import h5py, sys, numpy as np
for p in sys.argv[1:]:
    with h5py.File(p, "r+") as f:
        d = f["model_weights/fc3_relu/fc3_relu/bias:0"]; a = d[()]; a[2] = np.nan; d[...] = a
PY
rc=$(run diff-weights "$T/nan1.h5" "$T/nan2.h5")
[ "$rc" = 1 ] || fail "NaN without --equal-nan: exit $rc"
grep -q "^differs  fc3_relu/bias" "$T/out" || fail "NaN differs line: $(cat "$T/out")"
rc=$(run diff-weights --equal-nan "$T/nan1.h5" "$T/nan2.h5")
[ "$rc" = 0 ] || fail "NaN with --equal-nan: exit $rc: $(cat "$T/out")"

# 5. Different models: names do not match -> only in A / only in B, exit 1; by order -> shape mismatch.
rc=$(run diff-weights "$D/keras_3layer.h5" "$D/conv2d_1layer.h5")
[ "$rc" = 1 ] || fail "different models: exit $rc"
grep -q "8 only in A, 2 only in B" "$T/out" || fail "only-in counts: $(cat "$T/out")"
rc=$(run diff-weights --by order "$D/keras_3layer.h5" "$D/conv2d_1layer.h5")
[ "$rc" = 1 ] || fail "different models by order: exit $rc"
grep -q "shape_mismatch  fc1_relu/kernel <-> conv2d/kernel:0  A (16, 64) vs B (3, 3, 1, 1)" "$T/out" || fail "by order: $(cat "$T/out")"

# 6. Errors exit > 1: missing file (5), usage (2).
rc=$(run diff-weights "$D/keras_3layer.h5" "$T/nope.h5")
[ "$rc" -gt 1 ] || fail "missing file: exit $rc"
rc=$(run diff-weights --by size "$D/keras_3layer.h5" "$D/keras_3layer.h5")
[ "$rc" = 2 ] || fail "bad --by: exit $rc"
echo "ok"
