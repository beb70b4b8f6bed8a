#!/bin/bash
# `kmodel save` end to end, the seed's scenarios: weights by order into a differently built
# equivalent model with an extra Dropout; transfer learning by name with a new 5-unit head (the
# report says the head keeps fresh weights); a sub-model's weights into the outer model (0 of N,
# exit 1, explained); --init reproducibility; JSON + weights round trip. Env: KMODEL, TESTDATA.
set -u
D="$TESTDATA/diff"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { "$KMODEL" "$@" >"$T/out" 2>"$T/err"; echo $?; }

# Architectures derived from keras_3layer.h5's own model_config (Functional 16-64-32-32-5).
/usr/bin/python3 - "$D/keras_3layer.h5" "$T" <<'PY' || fail "making architectures"
import h5py, json, sys, copy
cfg = json.loads(h5py.File(sys.argv[1], "r").attrs["model_config"])
out = sys.argv[2]
layers = cfg["config"]["layers"]
dense = [l for l in layers if l["class_name"] == "Dense"]
# (a) Sequential, other layer names, with a Dropout after the first Dense.
seq = []
for i, l in enumerate(dense):
    c = copy.deepcopy(l["config"]); c["name"] = "d_%d" % i
    if i == 0: c["batch_input_shape"] = [None, 16]
    seq.append({"class_name": "Dense", "config": c})
    if i == 0: seq.append({"class_name": "Dropout", "config": {"name": "drop", "rate": 0.25, "trainable": True}})
json.dump({"class_name": "Sequential", "config": {"name": "seq", "layers": seq}, "keras_version": "2.3.1", "backend": "tensorflow"},
          open(out + "/seq_dropout.json", "w"))
# (b) Transfer: input -> fc1_relu -> fc2_relu -> new_head Dense(5).
head = {"name": "new_head", "class_name": "Dense", "inbound_nodes": [[["fc2_relu", 0, 0, {}]]],
        "config": {"name": "new_head", "units": 5, "activation": "softmax", "use_bias": True,
                   "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                   "bias_initializer": {"class_name": "Zeros", "config": {}}}}
t = copy.deepcopy(cfg); t["config"]["layers"] = layers[:3] + [head]; t["config"]["output_layers"] = [["new_head", 0, 0]]
t["keras_version"] = "2.3.1"
json.dump(t, open(out + "/transfer.json", "w"))
# (c) Outer model nesting the pretrained one as layer "pretrained", plus a head.
inner = copy.deepcopy(cfg); inner["config"]["name"] = "pretrained"
outer = {"class_name": "Model", "keras_version": "2.3.1", "config": {"name": "outer", "layers": [
    {"name": "x", "class_name": "InputLayer", "config": {"batch_input_shape": [None, 16], "name": "x"}, "inbound_nodes": []},
    {"name": "pretrained", "class_name": "Model", "config": inner["config"], "inbound_nodes": [[["x", 0, 0, {}]]]},
    {"name": "head", "class_name": "Dense", "config": {"name": "head", "units": 3}, "inbound_nodes": [[["pretrained", 1, 0, {}]]]}],
    "input_layers": [["x", 0, 0]], "output_layers": [["head", 0, 0]]}}
json.dump(outer, open(out + "/nested.json", "w"))
PY

# 1. By order into a differently built Sequential with an extra Dropout: all 8 weights, no gaps.
rc=$(run save --arch "$T/seq_dropout.json" --weights "$D/keras_3layer.h5" --by order -o "$T/seq.h5")
[ "$rc" = 0 ] || fail "save by order: exit $rc: $(cat "$T/out" "$T/err")"
grep -q "coverage: 8 loaded, 0 missing, 0 skipped (shape), 0 wrong shape, 0 unexpected in source, 0 fresh" "$T/out" || fail "coverage: $(cat "$T/out")"
grep -q "loaded     d_1/kernel <- fc2_relu/kernel:0" "$T/out" || fail "pairing: $(cat "$T/out")"
rc=$(run diff-weights --by order "$T/seq.h5" "$D/keras_3layer.h5")
[ "$rc" = 0 ] || fail "diff by order after save: exit $rc: $(cat "$T/out")"
/usr/bin/python3 - "$T/seq.h5" <<'PY' || fail "saved file layout"
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
cfg = json.loads(f.attrs["model_config"])
assert cfg["class_name"] == "Sequential", cfg["class_name"]
names = [n.decode() if isinstance(n, bytes) else n for n in f["model_weights"].attrs["layer_names"]]
assert names == ["d_0", "drop", "d_1", "d_2", "d_3"], names
assert f["model_weights/d_3"]["d_3/kernel:0"].shape == (32, 5)
PY
# The same by name finds nothing: 0 of 8, exit 1, nothing written.
rc=$(run save --arch "$T/seq_dropout.json" --weights "$D/keras_3layer.h5" -o "$T/seq_byname.h5")
[ "$rc" = 1 ] || fail "by name with other names: exit $rc"
grep -q "error: 0 of 8 weights matched (by name" "$T/out" || fail "0 of 8: $(cat "$T/out")"
[ ! -e "$T/seq_byname.h5" ] || fail "wrote a file despite the error"

# 2. Transfer learning by name with a new 5-unit head.
rc=$(run save --arch "$T/transfer.json" --weights "$D/keras_3layer.h5" -o "$T/transfer.h5")
[ "$rc" = 1 ] || fail "transfer without --allow-partial: exit $rc"
grep -q "missing    new_head/kernel" "$T/out" || fail "missing head: $(cat "$T/out")"
rc=$(run save --arch "$T/transfer.json" --weights "$D/keras_3layer.h5" --allow-partial --init 3 -o "$T/transfer.h5")
[ "$rc" = 0 ] || fail "transfer: exit $rc: $(cat "$T/out" "$T/err")"
grep -q "coverage: 4 loaded, 2 missing, 0 skipped (shape), 0 wrong shape, 4 unexpected in source, 2 fresh from initializers" "$T/out" || fail "transfer coverage: $(cat "$T/out")"
grep -q "missing    new_head/kernel (keeps fresh weights from its initializer)" "$T/out" || fail "head fresh: $(cat "$T/out")"
grep -q "unexpected output_softmax/kernel" "$T/out" || fail "unexpected: $(cat "$T/out")"
rc=$(run diff-weights "$T/transfer.h5" "$D/keras_3layer.h5")
[ "$rc" = 1 ] || fail "transfer diff: exit $rc"
grep -q "4 equal, 0 within tolerance, 0 differ, 0 shape mismatch, 0 dtype mismatch, 2 only in A, 4 only in B" "$T/out" || fail "transfer diff: $(cat "$T/out")"
/usr/bin/python3 - "$T/transfer.h5" <<'PY' || fail "fresh head values"
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1], "r")
k = f["model_weights/new_head/new_head/kernel:0"][()]
b = f["model_weights/new_head/new_head/bias:0"][()]
lim = np.sqrt(6.0 / (32 + 5))
assert k.shape == (32, 5) and np.abs(k).max() <= lim and np.abs(k).max() > 0.5 * lim, (k.shape, np.abs(k).max(), lim)
assert (b == 0).all()
PY

# 3. The nested-model trap: the sub-model's weights into the outer model.
rc=$(run save --arch "$T/nested.json" --weights "$D/keras_3layer.h5" --allow-partial -o "$T/nested.h5")
[ "$rc" = 1 ] || fail "nested trap: exit $rc: $(cat "$T/out")"
grep -q "error: 0 of 10 weights matched" "$T/out" || fail "nested 0 of N: $(cat "$T/out")"
grep -q "nested model 'pretrained'" "$T/out" || fail "nested hint: $(cat "$T/out")"
[ ! -e "$T/nested.h5" ] || fail "wrote nested.h5"

# 4. --init: reproducible per seed, different across seeds, right distributions. The architecture
# comes from a full H5 (its own weights ignored); initializers VarianceScaling(1, fan_in, uniform).
rc=$(run save --arch "$D/keras_3layer.h5" --init 5 -o "$T/i5.h5")
[ "$rc" = 0 ] || fail "init: exit $rc: $(cat "$T/out" "$T/err")"
grep -q "coverage: 0 loaded, 0 missing, 0 skipped (shape), 0 wrong shape, 0 unexpected in source, 8 fresh" "$T/out" || fail "init coverage: $(cat "$T/out")"
run save --arch "$D/keras_3layer.h5" --init 5 -o "$T/i5b.h5" >/dev/null
run save --arch "$D/keras_3layer.h5" --init 6 -o "$T/i6.h5" >/dev/null
rc=$(run diff-weights "$T/i5.h5" "$T/i5b.h5"); [ "$rc" = 0 ] || fail "same seed differs"
rc=$(run diff-weights "$T/i5.h5" "$T/i6.h5"); [ "$rc" = 1 ] || fail "other seed equal"
rc=$(run diff-weights "$T/i5.h5" "$D/keras_3layer.h5"); [ "$rc" = 1 ] || fail "fresh equals trained"
/usr/bin/python3 - "$T/i5.h5" <<'PY' || fail "init distributions"
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1], "r")
k = f["model_weights/fc1_relu/fc1_relu/kernel:0"][()]
lim = np.sqrt(3.0 / 16)
assert k.shape == (16, 64) and np.abs(k).max() <= lim and np.abs(k).max() > 0.9 * lim, np.abs(k).max()
assert abs(k.std() - lim / np.sqrt(3)) < 0.1 * lim, k.std()
b = f["model_weights/fc1_relu/fc1_relu/bias:0"][()]
assert np.abs(b).max() <= np.sqrt(3.0 / 64) and b.std() > 0, b
PY
# A custom initializer name in the config is reported as unsupported (exit 3), not guessed.
rc=$(run save --arch "$D/conv2d_1layer.json" --init 5 -o "$T/custom.h5")
[ "$rc" = 3 ] || fail "custom initializer: exit $rc"
grep -q 'initializer "random_kernel" is not supported' "$T/err" || fail "custom initializer message: $(cat "$T/err")"
rc=$(run save --arch "$D/conv2d_1layer.json" -o "$T/none.h5")
[ "$rc" = 2 ] || fail "no weights and no --init: exit $rc"
# Refuse to overwrite without --force.
rc=$(run save --arch "$D/keras_3layer.h5" --init 5 -o "$T/i5.h5"); [ "$rc" = 5 ] || fail "overwrite: exit $rc"
rc=$(run save --arch "$D/keras_3layer.h5" --init 5 -o "$T/i5.h5" --force); [ "$rc" = 0 ] || fail "--force: exit $rc"

# 5. JSON + weights-only H5 -> full H5, equal to the corpus full model.
rc=$(run save --arch "$D/conv2d_1layer.json" --weights "$D/conv2d_1layer_weights.h5" -o "$T/rt.h5")
[ "$rc" = 0 ] || fail "round trip: exit $rc: $(cat "$T/out" "$T/err")"
rc=$(run diff-weights "$T/rt.h5" "$D/conv2d_1layer.h5")
[ "$rc" = 0 ] || fail "round trip diff: $(cat "$T/out")"
# 6. --to: the same assembly written as a checkpoint and as .keras diffs equal to the corpus H5.
rc=$(run save --arch "$D/conv2d_1layer.json" --weights "$D/conv2d_1layer_weights.h5" -o "$T/rt_ckpt" --to checkpoint)
[ "$rc" = 0 ] || fail "save --to checkpoint: exit $rc: $(cat "$T/out" "$T/err")"
[ -e "$T/rt_ckpt.index" ] || fail "no checkpoint index written"
rc=$(run diff-weights "$T/rt_ckpt" "$D/conv2d_1layer.h5" --arch-a "$D/conv2d_1layer.json")
[ "$rc" = 0 ] || fail "checkpoint diff: $(cat "$T/out" "$T/err")"
rc=$(run save --arch "$D/conv2d_1layer.json" --weights "$D/conv2d_1layer_weights.h5" -o "$T/rt.keras")
[ "$rc" = 0 ] || fail "save .keras: exit $rc: $(cat "$T/out" "$T/err")"
rc=$(run diff-weights "$T/rt.keras" "$D/conv2d_1layer.h5")
[ "$rc" = 0 ] || fail ".keras diff: $(cat "$T/out")"
echo "ok"
