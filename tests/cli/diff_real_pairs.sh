#!/bin/bash
# Real corpus artifacts of the same model in different formats diff as equal: a TF 2.2 checkpoint
# vs the SavedModel of the same model (weights and LossScaleOptimizer state), a tf.keras H5 vs the
# training checkpoint of the same run (by name and by order); H5 converted to .keras and to a
# checkpoint stays equal; the nested-model trap through a checkpoint. Env: KMODEL, TESTDATA.
set -u
D="$TESTDATA/diff"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { "$KMODEL" "$@" >"$T/out" 2>"$T/err"; echo $?; }

rc=$(run diff-weights "$D/lso_ckpt_tf2_2/ckpt" "$D/lso_savedmodel_tf2_2")
[ "$rc" = 0 ] || fail "lso ckpt vs savedmodel: exit $rc: $(cat "$T/out" "$T/err")"
grep -q "^2 weights: 2 equal" "$T/out" || fail "lso summary: $(cat "$T/out")"
rc=$(run diff-weights --optimizer --all "$D/lso_ckpt_tf2_2/ckpt" "$D/lso_savedmodel_tf2_2")
[ "$rc" = 0 ] || fail "lso --optimizer: exit $rc: $(cat "$T/out")"
grep -q "^10 weights: 10 equal" "$T/out" || fail "lso optimizer summary: $(cat "$T/out")"
grep -q "^equal  dense/kernel  (2, 2)" "$T/out" || fail "lso kernel line: $(cat "$T/out")"

for by in name order; do
  rc=$(run diff-weights --by $by "$D/AlphabetSoupModel.h5" "$D/charity_ckpt/weights.100.hd5f")
  [ "$rc" = 0 ] || fail "charity h5 vs ckpt by $by: exit $rc: $(cat "$T/out" "$T/err")"
  grep -q "^6 weights: 6 equal" "$T/out" || fail "charity by $by: $(cat "$T/out")"
done

# Conversions keep the weights (and matching by name works across the formats' naming).
"$KMODEL" convert "$D/keras_3layer_batch_norm.h5" "$T/bn.keras" >/dev/null || fail "convert to .keras"
"$KMODEL" convert "$D/keras_3layer_batch_norm.h5" "$T/bn_ckpt" --to checkpoint >/dev/null || fail "convert to checkpoint"
rc=$(run diff-weights "$D/keras_3layer_batch_norm.h5" "$T/bn.keras")
[ "$rc" = 0 ] || fail "h5 vs .keras: exit $rc: $(cat "$T/out")"
grep -q "^24 weights: 24 equal" "$T/out" || fail "h5 vs .keras summary: $(cat "$T/out")"
rc=$(run diff-weights "$T/bn.keras" "$T/bn_ckpt")
[ "$rc" = 0 ] || fail ".keras vs ckpt: exit $rc: $(cat "$T/out")"
# save straight to a SavedModel (BatchNormalization moving statistics included), then compare.
rc=$(run save --arch "$D/keras_3layer_batch_norm.h5" -o "$T/bn_sm" --to savedmodel)
[ "$rc" = 0 ] || fail "save --to savedmodel: exit $rc: $(cat "$T/out" "$T/err")"
rc=$(run diff-weights "$T/bn_sm" "$D/keras_3layer_batch_norm.h5")
[ "$rc" = 0 ] || fail "savedmodel vs h5: exit $rc: $(cat "$T/out")"
grep -q "^24 weights: 24 equal" "$T/out" || fail "savedmodel summary: $(cat "$T/out")"

# The nested-model trap with a checkpoint: the sub-model's checkpoint into the outer model.
"$KMODEL" convert "$D/keras_3layer.h5" "$T/sub_ckpt" --to checkpoint >/dev/null || fail "convert sub-model"
/usr/bin/python3 - "$D/keras_3layer.h5" "$T/outer.json" <<'PY' || fail "outer architecture"
import h5py, json, sys
inner = json.loads(h5py.File(sys.argv[1], "r").attrs["model_config"])["config"]
inner["name"] = "pretrained"
json.dump({"class_name": "Model", "keras_version": "2.3.1", "config": {"name": "outer", "layers": [
    {"name": "x", "class_name": "InputLayer", "config": {"batch_input_shape": [None, 16], "name": "x"}, "inbound_nodes": []},
    {"name": "pretrained", "class_name": "Model", "config": inner, "inbound_nodes": [[["x", 0, 0, {}]]]},
    {"name": "head", "class_name": "Dense", "config": {"name": "head", "units": 3}, "inbound_nodes": [[["pretrained", 1, 0, {}]]]}],
    "input_layers": [["x", 0, 0]], "output_layers": [["head", 0, 0]]}}, open(sys.argv[2], "w"))
PY
rc=$(run save --arch "$T/outer.json" --weights "$T/sub_ckpt" --allow-partial -o "$T/outer.h5")
[ "$rc" = 1 ] || fail "checkpoint trap: exit $rc: $(cat "$T/out" "$T/err")"
grep -q "error: 0 of 10 weights matched (by name; the source offers 8 weights)" "$T/out" || fail "trap message: $(cat "$T/out")"
grep -q "nested model 'pretrained'" "$T/out" || fail "trap hint: $(cat "$T/out")"
[ ! -e "$T/outer.h5" ] || fail "trap wrote a file"
# The outer model's own artifact round-trips: nested weights named by their sublayers.
"$KMODEL" save --arch "$T/outer.json" --init 2 -o "$T/outer_init.h5" >/dev/null || fail "outer --init"
"$KMODEL" convert "$T/outer_init.h5" "$T/outer_ckpt" --to checkpoint >/dev/null || fail "outer to checkpoint"
# (a checkpoint names nested layers only through its architecture: --weights-arch)
rc=$(run save --arch "$T/outer.json" --weights "$T/outer_ckpt" --weights-arch "$T/outer.json" -o "$T/outer_back.h5")
[ "$rc" = 0 ] || fail "outer from its checkpoint: exit $rc: $(cat "$T/out" "$T/err")"
rc=$(run diff-weights "$T/outer_init.h5" "$T/outer_back.h5")
[ "$rc" = 0 ] || fail "outer round trip: $(cat "$T/out")"
/usr/bin/python3 - "$T/outer_init.h5" <<'PY' || fail "nested weight names"
import h5py, sys
g = h5py.File(sys.argv[1], "r")["model_weights/pretrained"]
names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
assert names[0] == "fc1_relu/kernel:0", names
assert g["fc1_relu/kernel:0"].shape == (16, 64)
PY
echo "ok"
