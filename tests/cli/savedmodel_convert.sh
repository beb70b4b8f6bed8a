#!/usr/bin/env bash
# `kmodel convert DIR out.{h5,json,ckpt}` for every Keras SavedModel fixture with a saved_model.pb.
# Checked independently of kmodel: the H5 (read with h5py) holds the root metadata's model_config
# (decoded from the wire by tests/tools/savedmodel_wire.py, json_utils tuples -> lists) and, for every
# weight, bytes whose sha256 equals the bundle entry of the variable of that name (read by
# tests/tools/bundle_reader.py); `kmodel load out.h5` passes; JSON and checkpoint outputs likewise.
# Plain TF SavedModels are refused (exit 3) and bad directories give exit 4, with no output.
set -uo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0
D="$TESTDATA/savedmodel"
WIRE="$SRC/tests/tools/savedmodel_wire.py"
READER="$SRC/tests/tools/bundle_reader.py"

# name:expected H5 weight_names per layer (layer|w1,w2;layer|...)
cases=(
  "coffee_roast_savedmodel_keras:normalization|mean:0,variance:0,count:0;dense|dense/kernel:0,dense/bias:0;dense_1|dense_1/kernel:0,dense_1/bias:0"
  "tfnet_lstm_from_sequential_savedmodel_keras:lstm|lstm/lstm_cell/kernel:0,lstm/lstm_cell/recurrent_kernel:0,lstm/lstm_cell/bias:0;dense|dense/kernel:0,dense/bias:0"
  "tfnet_python_func_model_savedmodel_keras:transformer|transformer/matrix:0;softmax|"
  "kerasteam_lso_savedmodel_tf2_2:dense|dense/kernel:0,dense/bias:0"
)
n=0
for c in "${cases[@]}"; do
  name="${c%%:*}"; layout="${c#*:}"
  dir="$D/$name"
  n=$((n + 1))
  mkdir -p "$T/$name"
  /usr/bin/python3 "$WIRE" "$dir" >"$T/$name/wire.json" || { echo "FAIL: wire $name"; fail=1; continue; }
  /usr/bin/python3 "$READER" "$dir/variables/variables" >"$T/$name/bundle.json" || { echo "FAIL: bundle $name"; fail=1; continue; }
  "$KMODEL" convert "$dir" "$T/$name/out.h5" >"$T/log" 2>&1 || { echo "FAIL: convert $name -> h5: $(cat "$T/log")"; fail=1; continue; }
  "$KMODEL" load "$T/$name/out.h5" >"$T/log" 2>&1 || { echo "FAIL: load $name.h5: $(tail -3 "$T/log")"; fail=1; }
  "$KMODEL" convert "$dir" "$T/$name/out.json" >"$T/log" 2>&1 || { echo "FAIL: convert $name -> json: $(cat "$T/log")"; fail=1; }
  "$KMODEL" convert "$dir" "$T/$name/ckpt" --to checkpoint >"$T/log" 2>&1 || { echo "FAIL: convert $name -> ckpt: $(cat "$T/log")"; fail=1; }
  /usr/bin/python3 "$READER" "$T/$name/ckpt" >"$T/$name/ckpt.json" || { echo "FAIL: independent reader rejects $name ckpt"; fail=1; }
  /usr/bin/python3 - "$name" "$layout" "$T/$name" <<'PY' || fail=1
import hashlib, json, sys
import h5py, numpy as np
name, layout, d = sys.argv[1], sys.argv[2], sys.argv[3]
wire = json.load(open(d + "/wire.json"))
bundle = json.load(open(d + "/bundle.json"))
ok = True
def fail(msg):
    global ok
    print("FAIL: %s: %s" % (name, msg)); ok = False

def decode(v):
    """json_utils decoding: tuples/TensorShapes -> lists."""
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if v.get("class_name") in ("__tuple__", "TensorShape") and "items" in v:
            return [decode(x) for x in v["items"]]
        return {k: decode(x) for k, x in v.items()}
    return v
root = json.loads(wire["root_metadata"])
want_config = decode(root["model_config"])
text = lambda v: v.decode() if isinstance(v, bytes) else str(v)
f = h5py.File(d + "/out.h5", "r")
if json.loads(text(f.attrs["model_config"])) != want_config:
    fail("H5 model_config differs from the SavedModel metadata")
if text(f.attrs["keras_version"]) != root["keras_version"]:
    fail("keras_version")
if "training_config" in root and json.loads(text(f.attrs["training_config"])) != decode(root["training_config"]):
    fail("training_config")
js = json.loads(open(d + "/out.json").read())
if js.pop("keras_version", root["keras_version"]) != root["keras_version"] or js.pop("backend", "tensorflow") != "tensorflow":
    fail("JSON output versions")
if js != want_config:
    fail("JSON output differs from the SavedModel model_config")

# Variables by graph name (checkpoint object graph full_name) -> sha256 of the bundle payload.
# Layer variables only: not below the optimizer or keras_api (metrics), no slots.
sha = {e["key"]: e["sha256"] for e in bundle["entries"]}
by_name = {}
for node in bundle["object_graph"]:
    for attr, full, key in node["attributes"]:
        if attr == "VARIABLE_VALUE" and full and not key.startswith(("optimizer/", "keras_api/")) \
                and ".OPTIMIZER_SLOT" not in key:
            by_name.setdefault(full, []).append(sha[key])
model_name = root["name"]
def bundle_sha(wname):
    base = wname[:-2] if wname.endswith(":0") else wname
    hits = by_name.get(base, []) + by_name.get(model_name + "/" + base, [])
    return hits[0] if len(hits) == 1 else None

mw = f["model_weights"]
layer_names = [text(x) for x in mw.attrs["layer_names"]]
want_layers = [item.split("|")[0] for item in layout.split(";")]
if [l for l in layer_names if l in want_layers] != want_layers:
    fail("layer order %r" % layer_names)
ckpt = json.load(open(d + "/ckpt.json"))
ckpt_sha = {e["key"]: e["sha256"] for e in ckpt["entries"]}
ckpt_shas = set(ckpt_sha.values())
count = 0
for item in layout.split(";"):
    lname, ws = item.split("|")
    want_ws = [w for w in ws.split(",") if w]
    got_ws = [text(x) for x in mw[lname].attrs["weight_names"]]
    if got_ws != want_ws:
        fail("weight_names of %s: %r" % (lname, got_ws))
        continue
    for w in got_ws:
        data = np.asarray(mw[lname][w])
        h = hashlib.sha256(data.tobytes()).hexdigest()
        b = bundle_sha(w)
        if b is None:
            fail("no unique bundle variable for %s" % w)
        elif h != b:
            fail("bytes of %s differ from the bundle" % w)
        if h not in ckpt_shas:
            fail("checkpoint output lacks the bytes of %s" % w)
        count += 1
if name == "kerasteam_lso_savedmodel_tf2_2":
    # Same model, same object-graph mapping: the checkpoint keys TF wrote for the layer weights.
    for key in ("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", "layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE"):
        if ckpt_sha.get(key) != sha[key]:
            fail("checkpoint key/value %s" % key)
print("ok: %s: %d weights bit-identical" % (name, count)) if ok else None
sys.exit(0 if ok else 1)
PY
done
[ "$n" -eq 4 ] || { echo "FAIL: cases"; fail=1; }

# Plain TF SavedModels have no Keras architecture: exit 3, nothing written.
for name in serving_half_plus_two_tf2_cpu tfjs_node_sm_times_three_float serving_half_plus_two_tf1_cpu; do
  "$KMODEL" convert "$D/$name" "$T/plain.h5" >"$T/out" 2>"$T/err"; rc=$?
  [ "$rc" = 3 ] || { echo "FAIL: $name -> h5 rc=$rc"; fail=1; }
  [ -e "$T/plain.h5" ] && { echo "FAIL: $name wrote output"; fail=1; }
  [ "$(wc -l <"$T/err")" = 1 ] || { echo "FAIL: $name error not one line: $(cat "$T/err")"; fail=1; }
  grep -qi "architecture" "$T/err" || { echo "FAIL: $name error does not say why: $(cat "$T/err")"; fail=1; }
done

# Bad directories: exit 4, one line on stderr, nothing on stdout, no output file.
bad() {  # label, dir
  "$KMODEL" convert "$2" "$T/bad.h5" >"$T/out" 2>"$T/err"; rc=$?
  [ "$rc" = 4 ] || { echo "FAIL: $1: rc=$rc $(cat "$T/err")"; fail=1; }
  [ -s "$T/out" ] && { echo "FAIL: $1: stdout not empty"; fail=1; }
  [ "$(wc -l <"$T/err")" = 1 ] || { echo "FAIL: $1: stderr not one line: $(cat "$T/err")"; fail=1; }
  [ -e "$T/bad.h5" ] && { echo "FAIL: $1: output written"; fail=1; }
  "$KMODEL" inspect "$2" >"$T/out" 2>"$T/err"; rc=$?
  [ "$rc" = 4 ] || { echo "FAIL: inspect $1: rc=$rc"; fail=1; }
  [ -s "$T/out" ] && { echo "FAIL: inspect $1: stdout not empty"; fail=1; }
}
cp -r "$D/coffee_roast_savedmodel_keras" "$T/novars" && chmod -R u+w "$T/novars" && rm -rf "$T/novars/variables"
bad "missing variables/" "$T/novars"
cp -r "$D/coffee_roast_savedmodel_keras" "$T/trunc" && chmod -R u+w "$T/trunc"
head -c 40000 "$D/coffee_roast_savedmodel_keras/saved_model.pb" >"$T/trunc/saved_model.pb"
bad "truncated saved_model.pb" "$T/trunc"
cp -r "$D/coffee_roast_savedmodel_keras" "$T/foreign" && chmod -R u+w "$T/foreign"
cp "$D/coffee_roast_savedmodel_keras/keras_metadata.pb" "$T/foreign/saved_model.pb"
bad "keras_metadata.pb as saved_model.pb" "$T/foreign"
echo "not a protobuf at all" >"$T/foreign/saved_model.pb"
bad "text as saved_model.pb" "$T/foreign"
bad "saved_model.pb absent" "$D/serving_tf_text_regression_keras_partial"

exit $fail
