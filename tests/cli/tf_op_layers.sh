#!/usr/bin/env bash
# tf.keras TF-op layers (TFOpLambda / SlicingOpLambda, e.g. MobileNetV2's preprocess_input x/127.5-1,
# `a + b`, `1.0 - x`, x[:, 1:4], tf.concat): the model inspects, predicts the values a NumPy
# computation of the same model gives, and converts to every format and back with the same
# predictions and the same tf.keras node forms; functions or arguments predict does not know are
# refused by name (exit 3).
set -euo pipefail
: "${KMODEL:?}" "${TESTDATA:?}"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
J="$TESTDATA/json/generated_tfop_layers.json"

"$KMODEL" inspect "$J" > "$T/inspect.txt"
grep -q 'tf.math.truediv (TFOpLambda)' "$T/inspect.txt"
grep -q 'tf.__operators__.getitem (SlicingOpLambda) *(None, 3)' "$T/inspect.txt"
grep -q 'tf.concat (TFOpLambda) *(None, 4)' "$T/inspect.txt"
grep -q 'dense_1 (Dense) *(None, 3) *21' "$T/inspect.txt"
"$KMODEL" -q save --arch "$J" --init 3 -o "$T/m.h5"
/usr/bin/python3 -c "import numpy as np; np.save('$T/x.npy', np.random.default_rng(1).uniform(0, 255, (4, 6)).astype(np.float32))"
"$KMODEL" -q predict "$T/m.h5" -i "$T/x.npy" -o "$T/y.npy"

# NumPy reference from the H5's weights.
/usr/bin/python3 - "$T/m.h5" "$T/x.npy" "$T/y.npy" <<'PYEOF'
import sys
import h5py
import numpy as np
f = h5py.File(sys.argv[1], "r")
w = lambda l, n: f["model_weights"][l][l][n][()]
x = np.load(sys.argv[2]).astype(np.float64)
p = x / 127.5 - 1.0
h = np.maximum(p @ w("dense", "kernel:0") + w("dense", "bias:0"), 0)[:, 1:4]
s = 1.0 - (h + np.tanh(p @ w("dense_1", "kernel:0") + w("dense_1", "bias:0")))
want = np.concatenate([s, s.mean(-1, keepdims=True)], axis=-1)
got = np.load(sys.argv[3])
assert got.shape == (4, 4), got.shape
assert np.allclose(got, want, rtol=1e-5, atol=1e-6), np.abs(got - want).max()
PYEOF

# Every output format, and back to H5: same predictions; the tf.keras node forms come back unchanged.
for to in keras savedmodel; do
  "$KMODEL" -q convert "$T/m.h5" "$T/m.$to" --to "$to" 2>/dev/null
  "$KMODEL" -q predict "$T/m.$to" -i "$T/x.npy" -o "$T/y_$to.npy"
done
"$KMODEL" -q convert "$T/m.h5" "$T/m.json"
"$KMODEL" -q convert "$T/m.keras" "$T/back.h5" 2>/dev/null
"$KMODEL" -q predict "$T/back.h5" -i "$T/x.npy" -o "$T/y_back.npy"
/usr/bin/python3 - "$T" "$J" <<'PYEOF'
import json, sys
import h5py
import numpy as np
t, src = sys.argv[1], sys.argv[2]
y = np.load(t + "/y.npy")
for k in ("keras", "savedmodel", "back"):
    assert np.array_equal(np.load("%s/y_%s.npy" % (t, k)), y), k
nodes = lambda cfg: [l["inbound_nodes"] for l in cfg["config"]["layers"]]
want = nodes(json.load(open(src)))
assert nodes(json.loads(h5py.File(t + "/back.h5", "r").attrs["model_config"])) == want, "H5 -> .keras -> H5 changed the nodes"
assert nodes(json.load(open(t + "/m.json"))) == want
PYEOF

# Unknown functions and arguments: exit 3 naming them.
sed 's/"function": "nn.relu"/"function": "math.bessel_i0"/' "$J" > "$T/bessel.json"
"$KMODEL" -q save --arch "$T/bessel.json" --init 3 -o "$T/bessel.h5"
set +e
"$KMODEL" predict "$T/bessel.h5" -i "$T/x.npy" -o "$T/b.npy" 2> "$T/err"; rc=$?
set -e
[ "$rc" -eq 3 ] || { echo "FAIL: unknown TF function exit $rc"; cat "$T/err"; exit 1; }
grep -q 'tf.math.bessel_i0 is not supported' "$T/err"
[ ! -e "$T/b.npy" ]
sed 's/"keepdims": true/"keepdims": true, "frobnicate": 2/' "$J" > "$T/kw.json"
"$KMODEL" -q save --arch "$T/kw.json" --init 3 -o "$T/kw.h5"
set +e
"$KMODEL" predict "$T/kw.h5" -i "$T/x.npy" 2> "$T/err"; rc=$?
set -e
[ "$rc" -eq 3 ] && grep -q "argument 'frobnicate' of tf.math.reduce_mean is not supported" "$T/err"
# Keras 3's analogue, keras.ops calls recorded as operations ("Add" from keras.src.ops.numpy with a
# constant positional argument), is refused, not run as the Add merge layer (which would ignore the 1.0).
cat > "$T/k3op.json" <<'JSON'
{"module": "keras", "class_name": "Functional", "config": {"name": "functional", "trainable": true, "layers": [
 {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4], "dtype": "float32", "sparse": false, "name": "x"}, "registered_name": null, "name": "x", "inbound_nodes": []},
 {"module": "keras.src.ops.numpy", "class_name": "Add", "config": {"name": "add"}, "registered_name": "Add", "name": "add",
  "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["x", 0, 0]}}, 1.0], "kwargs": {}}]}],
 "input_layers": [["x", 0, 0]], "output_layers": [["add", 0, 0]]}, "registered_name": "Functional"}
JSON
/usr/bin/python3 -c "import numpy as np; np.save('$T/x4.npy', np.ones((2, 4), np.float32))"
set +e
"$KMODEL" predict "$T/k3op.json" -i "$T/x4.npy" -o "$T/k3.npy" 2> "$T/err"; rc=$?
set -e
[ "$rc" -eq 3 ] && grep -q 'Keras 3 operation Add (keras.src.ops.numpy) is not supported' "$T/err" && [ ! -e "$T/k3.npy" ]
echo "tf-op layers ok"
