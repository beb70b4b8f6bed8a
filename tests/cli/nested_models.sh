#!/usr/bin/env bash
# Nested models (a Sequential / Functional used as a layer, up to two levels deep) through the TF
# checkpoint writer/reader, the .keras writer/reader and predict. Models: tests/tools/nested_models.py
# (built from the real keras_3layer_batch_norm.h5 config with `kmodel save --init`), every weight then
# overwritten with distinct random values (moving variances positive) so that all checks see real data.
# Asserted:
# - checkpoint: the exact keys tf.keras save_weights writes (nested models tracked with their own
#   layer_with_weights-M children), each key's values equal to the H5 dataset, the nested nodes' children
#   (layer_with_weights-M and layer-N edges on the same node, weightless layers as nodes of their own);
#   checkpoint -> H5 with --arch bit-exact (h5_compare.py, configs equal) and diff-weights SAME;
#   an --arch whose nested model has fewer layers than the checkpoint: exit 4, one line.
# - .keras: H5 -> .keras -> H5 bit-exact apart from the root version/config attributes, diff-weights
#   SAME; model.weights.h5 of the two-level model holds layers/<nested>/layers/<nested>/layers/<layer>/vars.
# - predict: the two-level model's outputs (from the H5, its checkpoint-made H5, its SavedModel and its
#   .keras) equal a NumPy computation of the network from the H5 weights (h5py) to 1e-5; the nested
#   Functional model (functional) gives identical outputs from the H5 and its .keras, also equal to NumPy.
#   Each .keras is run twice: as `kmodel convert` writes it (Keras 3 node numbers, checked by
#   keras3_node_numbering.sh) and with the tf.keras node numbers that kmodel wrote before translating them
#   (keras/src/models/functional.py: call args count a nested model's calls from 0; output_layers count a
#   Functional's from 1, a Sequential's from 0; tf.keras counts both from 1 when the model has an input).
# Env: KMODEL, TESTDATA, SRC.
set -uo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0
READER="$SRC/tests/tools/bundle_reader.py"
/usr/bin/python3 "$SRC/tests/tools/nested_models.py" "$TESTDATA/diff" "$T" || { echo "FAIL: making architectures"; exit 1; }

for m in functional sequential multi_io; do
  "$KMODEL" save --arch "$T/$m.json" --init 7 -o "$T/$m.h5" >"$T/log" 2>&1 || { echo "FAIL: save $m: $(tail -3 "$T/log")"; exit 1; }
done
/usr/bin/python3 - "$T" <<'PY' || { echo "FAIL: randomizing weights"; exit 1; }
import sys, h5py, numpy as np
rng = np.random.default_rng(11)
for m in ("functional", "sequential", "multi_io"):
    with h5py.File("%s/%s.h5" % (sys.argv[1], m), "r+") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                v = rng.standard_normal(obj.shape).astype(obj.dtype)
                obj[...] = np.abs(v) + 0.5 if "moving_variance" in name else v
        f["model_weights"].visititems(visit)
PY

# ---- TF checkpoint --------------------------------------------------------------------------------
for m in functional sequential multi_io; do
  mkdir -p "$T/ck_$m"
  "$KMODEL" convert "$T/$m.h5" "$T/ck_$m/ck" --to checkpoint >"$T/log" 2>&1 || { echo "FAIL: $m h5 -> checkpoint: $(cat "$T/log")"; fail=1; continue; }
  /usr/bin/python3 "$READER" "$T/ck_$m/ck" --values >"$T/$m.bundle.json" || { echo "FAIL: bundle $m"; fail=1; continue; }
  "$KMODEL" convert "$T/ck_$m/ck" "$T/$m.ck.h5" --arch "$T/$m.h5" >"$T/log" 2>&1 || { echo "FAIL: $m checkpoint -> h5: $(cat "$T/log")"; fail=1; continue; }
  /usr/bin/python3 "$SRC/tests/tools/h5_compare.py" "$T/$m.h5" "$T/$m.ck.h5" >"$T/cmp" 2>&1 || { echo "FAIL: $m checkpoint round trip:"; head -5 "$T/cmp"; fail=1; }
  "$KMODEL" diff-weights "$T/$m.h5" "$T/$m.ck.h5" >"$T/diff" 2>&1 || { echo "FAIL: $m diff-weights: $(tail -1 "$T/diff")"; fail=1; }
  grep -q ": SAME$" "$T/diff" || { echo "FAIL: $m diff-weights not SAME: $(tail -1 "$T/diff")"; fail=1; }
done

/usr/bin/python3 - "$T" <<'PY' || fail=1
import json, sys, h5py, numpy as np
T = sys.argv[1]
ok = True
def check(cond, msg):
    global ok
    if not cond:
        print("FAIL: " + msg); ok = False
K = lambda *p: "/".join(p) + "/.ATTRIBUTES/VARIABLE_VALUE"
lw = lambda n: "layer_with_weights-%d" % n
dense = lambda *p: {K(*p, "kernel"): "%s/kernel", K(*p, "bias"): "%s/bias"}
bnorm = lambda *p: {K(*p, v): "%s/" + v for v in ("gamma", "beta", "moving_mean", "moving_variance")}
def named(d, h5path):
    return {k: h5path + "/" + (v % "")[1:] for k, v in d.items()}
# key -> H5 dataset (below model_weights) holding the same values
expected = {
  "sequential": {**named(dense(lw(0), lw(0)), "block/fc1_relu"), **named(bnorm(lw(0), lw(1)), "block/bn1"),
                 **named(dense(lw(1)), "head/head")},
  "multi_io": {**named(dense(lw(0), lw(0)), "tower/t1"), **named(bnorm(lw(0), lw(1)), "tower/t_bn"),
               **named(dense(lw(1)), "out_a/out_a"), **named(dense(lw(2), lw(0), lw(0)), "mixer/deep/d1"),
               **named(dense(lw(2), lw(0), lw(1)), "mixer/deep/d2"), **named(dense(lw(3)), "out_b/out_b")},
  "functional": dict(sum([list(named(dense(lw(0), lw(2 * i)), "pretrained/" + d).items()) +
                          list(named(bnorm(lw(0), lw(2 * i + 1)), "pretrained/" + b).items())
                          for i, (d, b) in enumerate([("fc1_relu", "bn1"), ("fc2_relu", "bn2"), ("fc3_relu", "bn3"),
                                                      ("output_softmax", "bn4")])], []) +
                     list(named(dense(lw(1)), "head/head").items())),
}
for m, exp in expected.items():
    b = json.load(open("%s/%s.bundle.json" % (T, m)))
    entries = {e["key"]: e for e in b["entries"] if e["key"] != "_CHECKPOINTABLE_OBJECT_GRAPH"}
    check(sorted(entries) == sorted(exp), "%s: checkpoint keys %s" % (m, sorted(entries)))
    f = h5py.File("%s/%s.h5" % (T, m), "r")["model_weights"]
    for key, ds in exp.items():
        if key not in entries:
            continue
        want = f[ds + ":0"][()]
        got = np.array(entries[key]["values"], dtype=np.float32).reshape(want.shape)
        check(list(entries[key]["shape"]) == list(want.shape) and np.array_equal(got, want),
              "%s: values of %s differ from %s" % (m, key, ds))
    # Nested model nodes: layer_with_weights-M and layer-N name the same node; weightless layers too.
    g = b["object_graph"]
    def child(node, name):
        hits = [c for n, c in g[node]["children"] if n == name]
        return hits[0] if hits else None
    root = g[0]
    if m == "multi_io":
        mixer = child(0, "layer_with_weights-2")
        check(mixer is not None and child(0, "layer-4") == mixer, "multi_io: mixer is root layer-4 / layer_with_weights-2")
        check([n for n, _ in g[mixer]["children"]] == ["layer-0", "layer-1", "layer-2", "layer_with_weights-0", "layer-3"],
              "multi_io: mixer children %s" % g[mixer]["children"])
        deep = child(mixer, "layer-3")
        check(deep == child(mixer, "layer_with_weights-0"), "multi_io: deep under both edges")
        check([n for n, _ in g[deep]["children"]] == ["layer_with_weights-0", "layer-0", "layer-1", "layer_with_weights-1", "layer-2"],
              "multi_io: deep children (Sequential.layers without its InputLayer) %s" % g[deep]["children"])
        drop = child(deep, "layer-1")
        check(drop is not None and g[drop]["children"] == [] and g[drop]["attributes"] == [], "multi_io: Dropout node")
        d1 = child(deep, "layer-0")
        check(sorted(n for n, _ in g[d1]["children"]) == ["bias", "kernel"], "multi_io: d1 variables")
        kern = child(d1, "kernel")
        check(g[kern]["attributes"][0][1] == "deep/d1/kernel", "multi_io: full_name of d1/kernel %s" % g[kern]["attributes"])
    if m == "sequential":
        block = child(0, "layer-0")
        check([n for n, _ in g[block]["children"]] ==
              ["layer_with_weights-0", "layer-0", "layer_with_weights-1", "layer-1", "layer-2"],
              "sequential: block children %s" % g[block]["children"])
    # Node ids breadth-first from the root, as TF numbers them.
    seen, queue = {0}, [0]
    for q in queue:
        for _, c in g[q]["children"]:
            if c not in seen:
                seen.add(c); queue.append(c)
    check(queue == list(range(len(g))), "%s: node ids not breadth-first" % m)
sys.exit(0 if ok else 1)
PY

# Bad input: the architecture's nested model has fewer layers than the checkpoint's (exit 4, one line).
/usr/bin/python3 - "$T/sequential.json" "$T/short.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["config"]["layers"][0]["config"]["layers"].pop()  # block without its Activation
json.dump(m, open(sys.argv[2], "w"))
PY
"$KMODEL" convert "$T/ck_sequential/ck" "$T/short.h5" --arch "$T/short.json" >"$T/log" 2>&1
rc=$?
[ "$rc" -eq 4 ] || { echo "FAIL: short nested architecture: exit $rc, want 4: $(cat "$T/log")"; fail=1; }
[ "$(wc -l <"$T/log")" -eq 1 ] && grep -q "nested model 'block' has 2 layers" "$T/log" ||
  { echo "FAIL: short nested architecture message: $(cat "$T/log")"; fail=1; }
[ -e "$T/short.h5" ] && { echo "FAIL: output written despite the error"; fail=1; }

# ---- .keras ---------------------------------------------------------------------------------------
for m in functional sequential multi_io; do
  "$KMODEL" convert "$T/$m.h5" "$T/$m.keras" >"$T/log" 2>&1 || { echo "FAIL: $m h5 -> keras: $(cat "$T/log")"; fail=1; continue; }
  "$KMODEL" convert "$T/$m.keras" "$T/$m.k.h5" >"$T/log" 2>&1 || { echo "FAIL: $m keras -> h5: $(cat "$T/log")"; fail=1; continue; }
  # The Keras 3 config and version replace the tf.keras ones; layers, weight names and data are equal.
  /usr/bin/python3 "$SRC/tests/tools/h5_compare.py" "$T/$m.h5" "$T/$m.k.h5" >"$T/cmp" 2>&1
  grep -v -E "root attribute (backend|keras_version|model_config) (differs|missing)|weights group attribute (keras_version|backend) differs" "$T/cmp" >"$T/cmp2"
  [ -s "$T/cmp2" ] && { echo "FAIL: $m .keras round trip:"; head -5 "$T/cmp2"; fail=1; }
  "$KMODEL" diff-weights "$T/$m.h5" "$T/$m.k.h5" >"$T/diff" 2>&1 || { echo "FAIL: $m .keras diff-weights: $(tail -1 "$T/diff")"; fail=1; }
  grep -q ": SAME$" "$T/diff" || { echo "FAIL: $m .keras diff-weights not SAME: $(tail -1 "$T/diff")"; fail=1; }
done
/usr/bin/python3 - "$T/multi_io.keras" "$T/multi_io.h5" <<'PY' || { echo "FAIL: multi_io model.weights.h5 layout"; fail=1; }
import io, sys, zipfile, h5py, numpy as np
w = h5py.File(io.BytesIO(zipfile.ZipFile(sys.argv[1]).read("model.weights.h5")), "r")
src = h5py.File(sys.argv[2], "r")["model_weights"]
want = {"layers/sequential/layers/dense/vars/0": "tower/t1/kernel:0",
        "layers/sequential/layers/batch_normalization/vars/3": "tower/t_bn/moving_variance:0",
        "layers/functional/layers/sequential/layers/dense/vars/0": "mixer/deep/d1/kernel:0",
        "layers/functional/layers/sequential/layers/dense/vars/1": "mixer/deep/d1/bias:0",
        "layers/functional/layers/sequential/layers/dense_1/vars/0": "mixer/deep/d2/kernel:0",
        "layers/functional/layers/sequential/layers/dense_1/vars/1": "mixer/deep/d2/bias:0",
        "layers/dense_1/vars/0": "out_b/out_b/kernel:0"}
ok = all(p in w and np.array_equal(w[p][()], src[s][()]) for p, s in want.items())
ok = ok and w["layers/functional/layers/sequential/layers/dense/vars"].attrs["name"] in ("d1", b"d1")
ok = ok and "layers/functional/layers/sequential/layers/dropout/vars" in w
n = []
w.visititems(lambda name, o: n.append(name) if isinstance(o, h5py.Dataset) else None)
sys.exit(0 if ok and len(n) == 14 else 1)
PY

# ---- predict --------------------------------------------------------------------------------------
# <m>.tfnum.keras: <m>.keras with tf.keras node numbers, as older kmodel versions wrote it (see the header).
for m in functional multi_io; do
  /usr/bin/python3 - "$T/$m.keras" "$T/$m.tfnum.keras" <<'PY' || { echo "FAIL: renumbering $m.keras"; fail=1; }
import json, sys, zipfile
src = zipfile.ZipFile(sys.argv[1])
cfg = json.loads(src.read("config.json"))
changed = []
def skips_first(l):  # tf.keras _should_skip_first_node: the nested model has its own input node
    c = l["config"]
    return l["class_name"] != "Sequential" or (c["layers"] and c["layers"][0]["class_name"] == "InputLayer")
def renumber(model):
    nested = {l["name"]: l for l in model["layers"] if l["class_name"] in ("Functional", "Sequential") and skips_first(l)}
    def walk(v):
        if isinstance(v, dict):
            h = v.get("config", {}).get("keras_history") if v.get("class_name") == "__keras_tensor__" else None
            if h and h[0] in nested:
                h[1] += 1; changed.append(h[0])
            for x in v.values(): walk(x)
        elif isinstance(v, list):
            for x in v: walk(x)
    for l in model["layers"]:
        walk(l["inbound_nodes"])
        if l["class_name"] in ("Functional", "Sequential") and "input_layers" in l["config"]:
            renumber(l["config"])
    for ref in model["output_layers"]:
        if ref[0] in nested and nested[ref[0]]["class_name"] == "Sequential":
            ref[1] += 1; changed.append(ref[0])
renumber(cfg["config"])
with zipfile.ZipFile(sys.argv[2], "w") as out:
    for name in src.namelist():
        out.writestr(name, json.dumps(cfg) if name == "config.json" else src.read(name))
sys.exit(0 if changed else 1)
PY
done
# The nested Functional: H5 and .keras give the same outputs, equal to NumPy.
for src in functional.h5 functional.keras functional.tfnum.keras; do
  "$KMODEL" predict "$T/$src" -i "$T/x16.npy" -o "$T/$src.npz" >"$T/log" 2>&1 ||
    { echo "FAIL: predict $src: $(tail -2 "$T/log")"; fail=1; continue; }
done
/usr/bin/python3 - "$T/functional.h5" "$T/x16.npy" "$T"/functional.{h5,keras,tfnum.keras}.npz <<'PY' || { echo "FAIL: predict functional differs"; fail=1; }
import json, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
w = lambda p: f["model_weights/" + p + ":0"][()].astype(np.float64)
cfg = json.loads(f.attrs["model_config"])
pre = [l for l in cfg["config"]["layers"] if l["name"] == "pretrained"][0]["config"]
h = np.load(sys.argv[2]).astype(np.float64)
for l in pre["layers"]:  # a chain: Dense, BatchNormalization, Activation
    c, n = l["config"], "pretrained/" + l["config"]["name"]
    if l["class_name"] == "Dense":
        assert c["activation"] == "linear"
        h = h @ w(n + "/kernel") + w(n + "/bias")
    elif l["class_name"] == "BatchNormalization":
        h = (h - w(n + "/moving_mean")) / np.sqrt(w(n + "/moving_variance") + c["epsilon"]) * w(n + "/gamma") + w(n + "/beta")
    elif l["class_name"] == "Activation" and c["activation"] == "relu":
        h = np.maximum(h, 0)
    elif l["class_name"] == "Activation" and c["activation"] == "softmax":
        e = np.exp(h - h.max(axis=-1, keepdims=True)); h = e / e.sum(axis=-1, keepdims=True)
    else:
        assert l["class_name"] == "InputLayer", l["class_name"]
want = h @ w("head/head/kernel") + w("head/head/bias")
got = [np.load(p) for p in sys.argv[3:]]
ok = all(g.files == ["head"] and g["head"].shape == (5, 3) for g in got)
ok = ok and all(np.array_equal(g["head"], got[0]["head"]) for g in got[1:])  # identical, not just close
ok = ok and np.allclose(got[0]["head"], want, atol=1e-5, rtol=0) and np.abs(want).max() > 0.1
if not ok:
    print("max |diff| to NumPy: %s" % [float(np.abs(g["head"] - want).max()) for g in got if g["head"].shape == want.shape])
sys.exit(0 if ok else 1)
PY
"$KMODEL" convert "$T/multi_io.h5" "$T/multi_io.sm" --to savedmodel >"$T/log" 2>&1 || { echo "FAIL: multi_io -> sm: $(cat "$T/log")"; fail=1; }
for src in multi_io.h5 multi_io.ck.h5 multi_io.sm multi_io.keras multi_io.tfnum.keras; do
  "$KMODEL" predict "$T/$src" -i "a=$T/x16.npy" -i "b=$T/b8.npy" -o "$T/$src.npz" >"$T/log" 2>&1 ||
    { echo "FAIL: predict $src: $(tail -2 "$T/log")"; fail=1; continue; }
  /usr/bin/python3 - "$T/multi_io.h5" "$T/x16.npy" "$T/b8.npy" "$T/$src.npz" <<'PY' || { echo "FAIL: predict $src differs from NumPy"; fail=1; }
import json, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
w = lambda p: f["model_weights/" + p + ":0"][()].astype(np.float64)
cfg = json.loads(f.attrs["model_config"])
tower = [l for l in cfg["config"]["layers"] if l["name"] == "tower"][0]
eps = [l for l in tower["config"]["layers"] if l["config"]["name"] == "t_bn"][0]["config"]["epsilon"]
a, b = np.load(sys.argv[2]).astype(np.float64), np.load(sys.argv[3]).astype(np.float64)
relu = lambda x: np.maximum(x, 0)
t = relu(a @ w("tower/t1/kernel") + w("tower/t1/bias"))
t = (t - w("tower/t_bn/moving_mean")) / np.sqrt(w("tower/t_bn/moving_variance") + eps) * w("tower/t_bn/gamma") + w("tower/t_bn/beta")
out_a = t @ w("out_a/out_a/kernel") + w("out_a/out_a/bias")
h = np.concatenate([t, b], axis=-1)
h = relu(h @ w("mixer/deep/d1/kernel") + w("mixer/deep/d1/bias"))          # Dropout: identity at inference
h = h @ w("mixer/deep/d2/kernel") + w("mixer/deep/d2/bias")
out_b = h @ w("out_b/out_b/kernel") + w("out_b/out_b/bias")
p = np.load(sys.argv[4])
ok = sorted(p.files) == ["out_a", "out_b"] and p["out_a"].shape == (5, 2) and p["out_b"].shape == (5, 1)
ok = ok and np.allclose(p["out_a"], out_a, atol=1e-5, rtol=0) and np.allclose(p["out_b"], out_b, atol=1e-5, rtol=0)
ok = ok and np.abs(out_b).max() > 0.1 and np.abs(out_a).max() > 0.1  # real signal, not zeros
if not ok:
    print("max |diff| out_a %g out_b %g" % (np.abs(p["out_a"] - out_a).max(), np.abs(p["out_b"] - out_b).max()))
sys.exit(0 if ok else 1)
PY
done
exit $fail
