#!/usr/bin/env bash
# `kmodel inspect --security` (issue 9): lists Lambda bytecode, Keras 3 __lambda__ configs, custom
# objects and pickled npz members, exits 1 when any is present and 0 when none; TFOpLambda is a TF op,
# not code. Checked on corpus fixtures and on crafted Keras 3 archives (built here with zipfile).
set -uo pipefail
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0
# sec EXPECTED_RC PATH NEEDLE... : every NEEDLE (grep -E) must be in stdout.
sec() {
  local want="$1" path="$2"; shift 2
  "$KMODEL" inspect --security "$path" >"$T/out" 2>"$T/err"
  local rc=$?
  if [ "$rc" != "$want" ]; then echo "FAIL: inspect --security $path -> rc=$rc (want $want): $(cat "$T/err") $(head -5 "$T/out")"; fail=1; return; fi
  for n in "$@"; do
    grep -qE -- "$n" "$T/out" || { echo "FAIL: inspect --security $path: missing /$n/ in: $(cat "$T/out")"; fail=1; }
  done
  if [ -s "$T/err" ]; then echo "FAIL: inspect --security $path wrote to stderr: $(cat "$T/err")"; fail=1; fi
}
H5="$TESTDATA/h5"; JS="$TESTDATA/json"
# Keras 1 era Lambda: raw marshalled bytes in `function`.
sec 1 "$H5/dl4j_sequential_lambda__sequential_lambda.h5" '\[lambda\] .*lambda_1: Lambda layer: marshalled Python bytecode \(raw'
# tf.keras Lambda: base64 marshalled bytecode list.
sec 1 "$H5/dl4j_space_to_depth_graph_multi_input__space_to_depth_graph_tensorflow_2.h5" \
  '\[lambda\] .*space_to_depth_x2: Lambda layer: marshalled Python bytecode \(base64'
# Custom layer classes.
sec 1 "$JS/fml_qkeras_3layer_json_weights__qkeras_3layer.json" "\[custom_object\] .*layer class 'QDense'" "QActivation"
sec 1 "$H5/fml_hgq_jet_classifier_h5__hgq_jet_classifier.h5" '\[custom_object\]'
sec 1 "$JS/fml_garnet_1layer_with_io__garnet_1layer.json" "\[custom_object\] .*'GarNet'"
sec 1 "$TESTDATA/keras_v3/qkeras_v3_3layer.keras" "\[custom_object\] .*class 'QDense' \(module 'qkeras"
# Clean artifacts: exit 0.
sec 0 "$H5/fml_keras_3layer_h5__keras_3layer.h5" 'No code found'
sec 0 "$TESTDATA/keras_v3/stock_rnn_model.keras" 'No code found'
# A subclassed model registered by a package is a custom object (Keras imports and runs its class).
sec 1 "$TESTDATA/keras_v3/nested_container.keras" "\[custom_object\] .*'NestedDenseModel' \(registered_name 'legacy_nested_container>NestedDenseModel'\)"
sec 0 "$TESTDATA/checkpoint/charity_tf2/weights.100.hd5f" 'No code found'

/usr/bin/python3 - "$T" <<'PY'
import io, json, struct, sys, zipfile
T = sys.argv[1]
def layer(cls, name, cfg, module="keras.layers"):
    c = {"name": name, "trainable": True, "dtype": "float32"}; c.update(cfg)
    return {"module": module, "class_name": cls, "config": c, "registered_name": None}
inp = layer("InputLayer", "input", {"batch_shape": [None, 4]})
lam = layer("Lambda", "double", {"function": {"module": "builtins", "class_name": "function", "config": {
    "code": "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkAKQHaAXhyAgAAAHICAAAA+gg8c3RkaW4+",
    "defaults": None, "closure": None}, "registered_name": "function"}, "arguments": {}})
lam["config"]["function"]["class_name"] = "__lambda__"
custom = layer("MyDense", "mine", {"units": 2}, module="my_package.layers")
custom["registered_name"] = "my_package>MyDense"
def keras(path, layers, extra=None):
    cfg = {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": layers}, "registered_name": None}
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.3.3"}))
        z.writestr("config.json", json.dumps(cfg))
        for k, v in (extra or {}).items():
            z.writestr(k, v)
keras(T + "/k3_lambda.keras", [inp, lam])
keras(T + "/k3_custom.keras", [inp, custom])
keras(T + "/k3_clean.keras", [inp, layer("Dense", "d", {"units": 2})])
def npy(descr, shape, payload):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + payload
npz = io.BytesIO()
with zipfile.ZipFile(npz, "w") as z:
    # A pickled dict as Keras 2.13's npz store writes it (0-d object array); never unpickled by kmodel.
    z.writestr("dense.npy", npy("|O", "()", b"\x80\x04}\x94."))
    z.writestr("plain.npy", npy("<f4", "(2,)", bytes(8)))
keras(T + "/k3_npz.keras", [inp, layer("Dense", "d", {"units": 2})], {"model.weights.npz": npz.getvalue()})
with open(T + "/weights.npz", "wb") as f:
    f.write(npz.getvalue())
# TFOpLambda names a TF op: not code.
tfop = {"class_name": "Functional", "config": {"name": "m", "layers": [
    {"class_name": "InputLayer", "name": "x", "config": {"batch_input_shape": [None, 3], "dtype": "float32", "name": "x"}, "inbound_nodes": []},
    {"class_name": "TFOpLambda", "name": "tf.math.multiply", "config": {"name": "tf.math.multiply", "trainable": True,
     "dtype": "float32", "function": "math.multiply"}, "inbound_nodes": [[["x", 0, 0, {"y": 2.0, "name": None}]]]}],
    "input_layers": [["x", 0, 0]], "output_layers": [["tf.math.multiply", 0, 0]]},
    "keras_version": "2.9.0", "backend": "tensorflow"}
with open(T + "/tfoplambda.json", "w") as f:
    json.dump(tfop, f)
PY
sec 1 "$T/k3_lambda.keras" '\[lambda\] .*double: Lambda layer: Keras 3 __lambda__ marshalled Python bytecode'
sec 1 "$T/k3_custom.keras" "\[custom_object\] .*class 'MyDense' \(module 'my_package.layers'\)"
sec 0 "$T/k3_clean.keras" 'No code found'
sec 1 "$T/k3_npz.keras" "\[pickle\] model.weights.npz:dense.npy: npy array of object dtype"
sec 1 "$T/weights.npz" "\[pickle\] weights.npz:dense.npy"
if grep -q plain.npy "$T/out"; then echo "FAIL: a float32 npz member was reported as pickle"; fail=1; fi
sec 0 "$T/tfoplambda.json" 'No code found'

# --json: one document with the findings.
"$KMODEL" inspect --security --json "$H5/dl4j_sequential_lambda__sequential_lambda.h5" >"$T/sec.json"
rc=$?
/usr/bin/python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['clean'] is False and d['format'] == 'h5', d
kinds = sorted(f['kind'] for f in d['findings'])
assert kinds == ['lambda', 'lambda'], kinds
" "$T/sec.json" || { echo "FAIL: --security --json document"; fail=1; }
[ "$rc" = 1 ] || { echo "FAIL: --security --json exit $rc (want 1)"; fail=1; }
# Errors keep the usual contract.
"$KMODEL" inspect --security "$T/missing.h5" >/dev/null 2>"$T/err"; rc=$?
[ "$rc" = 5 ] && [ "$(grep -c . "$T/err")" = 1 ] || { echo "FAIL: missing file -> rc=$rc $(cat "$T/err")"; fail=1; }
printf 'garbage' >"$T/bad.keras"
"$KMODEL" inspect --security "$T/bad.keras" >/dev/null 2>"$T/err"; rc=$?
[ "$rc" = 4 ] && [ "$(grep -c . "$T/err")" = 1 ] || { echo "FAIL: garbage .keras -> rc=$rc $(cat "$T/err")"; fail=1; }

[ "$fail" = 0 ] && echo "inspect --security ok"
exit "$fail"
