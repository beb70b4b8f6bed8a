#!/usr/bin/env bash
# Node numbering of nested models through H5 -> .keras -> H5 (core/keras3_dialect). tf.keras counts the
# calls of a nested Functional (or a Sequential with an input layer) from 1 in every reference; Keras 3
# counts them from 0 in call arguments (keras_history) and from 1 only for a Functional in
# input_layers/output_layers (keras/src/models/functional.py get_config / functional_from_config).
# Models: tests/tools/nested_models.py (a nested Functional; a Sequential in a Sequential; two levels
# deep in a two-input/two-output model) and, made here from its nested Functional, "twice": the nested
# Functional called on two inputs, both calls summed, its second call also a model output.
# Asserted:
# - config.json of each .keras holds the Keras 3 numbers, exactly (listed below), and every reference
#   resolves the way Keras 3's functional_from_config resolves it (call args 0 <= i < calls; output_layers
#   of a Functional 1 <= i <= calls, of a Sequential 0 <= i < calls), at every nesting level;
# - .keras -> H5 gives back the original model_config's node indices (every link triple at every level);
# - predict on each .keras equals predict on its H5 (and the round-trip H5), bit for bit.
# Env: KMODEL, TESTDATA, SRC.
set -uo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0
/usr/bin/python3 "$SRC/tests/tools/nested_models.py" "$TESTDATA/diff" "$T" || { echo "FAIL: making architectures"; exit 1; }
/usr/bin/python3 - "$T" <<'PY' || { echo "FAIL: making twice.json"; exit 1; }
import copy, json, sys
T = sys.argv[1]
f = json.load(open(T + "/functional.json"))
x, pre = f["config"]["layers"][0], f["config"]["layers"][1]
y = copy.deepcopy(x); y["name"] = y["config"]["name"] = "y"
pre["inbound_nodes"] = [[["x", 0, 0, {}]], [["y", 0, 0, {}]]]
add = {"class_name": "Add", "name": "sum", "config": {"name": "sum", "trainable": True, "dtype": "float32"},
       "inbound_nodes": [[["pretrained", 1, 0, {}], ["pretrained", 2, 0, {}]]]}
f["config"].update(name="twice", layers=[x, y, pre, add], input_layers=[["x", 0, 0], ["y", 0, 0]],
                   output_layers=[["sum", 0, 0], ["pretrained", 2, 0]])
json.dump(f, open(T + "/twice.json", "w"))
PY

models="functional sequential multi_io twice"
for m in $models; do
  "$KMODEL" save --arch "$T/$m.json" --init 7 -o "$T/$m.h5" >"$T/log" 2>&1 || { echo "FAIL: save $m: $(tail -3 "$T/log")"; exit 1; }
  "$KMODEL" convert "$T/$m.h5" "$T/$m.keras" >"$T/log" 2>&1 || { echo "FAIL: $m h5 -> keras: $(cat "$T/log")"; fail=1; continue; }
  grep -q "nested model" "$T/log" && { echo "FAIL: $m h5 -> keras warns: $(cat "$T/log")"; fail=1; }
  "$KMODEL" convert "$T/$m.keras" "$T/$m.k.h5" >"$T/log" 2>&1 || { echo "FAIL: $m keras -> h5: $(cat "$T/log")"; fail=1; continue; }
  grep -q "nested model" "$T/log" && { echo "FAIL: $m keras -> h5 warns: $(cat "$T/log")"; fail=1; }
done

/usr/bin/python3 - "$T" <<'PY' || fail=1
import json, sys, zipfile, h5py
T = sys.argv[1]
ok = True
def check(cond, msg):
    global ok
    if not cond:
        print("FAIL: " + msg); ok = False
MODELS = ("Functional", "Sequential", "Model")
def k3_refs(v, out):  # keras_history triples inside Keras 3 call args/kwargs
    if isinstance(v, dict):
        if v.get("class_name") == "__keras_tensor__":
            out.append(v["config"]["keras_history"]); return out
        for x in v.values(): k3_refs(x, out)
    elif isinstance(v, list):
        for x in v: k3_refs(x, out)
    return out
def io_refs(v, out):
    if isinstance(v, list) and len(v) == 3 and isinstance(v[0], str):
        out.append(v)
    elif isinstance(v, list):
        for x in v: io_refs(x, out)
    elif isinstance(v, dict):
        for x in v.values(): io_refs(x, out)
    return out
def resolves(model, where):
    """Every reference resolves as Keras 3's functional_from_config resolves it, at every level."""
    layers = model["layers"]
    calls = {l["name"]: len(l["inbound_nodes"]) for l in layers if "inbound_nodes" in l}
    cls = {l["name"]: l["class_name"] for l in layers if "name" in l}
    for l in layers:
        for node in l.get("inbound_nodes", []):
            check(isinstance(node, dict), "%s: node of %s not in Keras 3 form" % (where, l.get("name")))
            for name, n, t in k3_refs(node, []):
                lim = 1 if cls[name] == "InputLayer" else calls[name]
                check(0 <= n < lim, "%s: %s calls %s at node %d of %d" % (where, l["name"], name, n, lim))
        if l["class_name"] in MODELS:
            resolves(l["config"], where + "/" + l.get("name", l["config"]["name"]))
    for k in ("input_layers", "output_layers"):
        for name, n, t in io_refs(model.get(k, []), []):
            if cls[name] == "Functional":
                ok_ = 1 <= n <= calls[name]
            elif cls[name] == "InputLayer":
                ok_ = n == 0
            else:
                ok_ = 0 <= n < calls[name]
            check(ok_, "%s: %s references %s at node %d (%d calls)" % (where, k, name, n, calls.get(name, 0)))
def by_name(model, name):
    return [l for l in model["layers"] if l.get("name") == name][0]
def histories(model, name):
    return [k3_refs(n, []) for n in by_name(model, name)["inbound_nodes"]]

cfg = {m: json.loads(zipfile.ZipFile("%s/%s.keras" % (T, m)).read("config.json"))["config"]
       for m in ("functional", "sequential", "multi_io", "twice")}
for m, c in cfg.items():
    resolves(c, m)
# Exact Keras 3 numbers (tf.keras numbers of the H5 in the comments).
check(histories(cfg["functional"], "head") == [[["pretrained", 0, 0]]], "functional: head %s" % histories(cfg["functional"], "head"))  # 1
check(cfg["functional"]["output_layers"] == [["head", 0, 0]], "functional: output_layers")
mi = cfg["multi_io"]
check(histories(mi, "out_a") == [[["tower", 0, 0]]], "multi_io: out_a %s" % histories(mi, "out_a"))  # Sequential tower: 1
check(histories(mi, "mixer") == [[["tower", 0, 0], ["b", 0, 0]]], "multi_io: mixer %s" % histories(mi, "mixer"))
check(histories(mi, "out_b") == [[["mixer", 0, 0]]], "multi_io: out_b %s" % histories(mi, "out_b"))  # Functional: 1
mixer = by_name(mi, "mixer")["config"]
check(mixer["output_layers"] == [["deep", 0, 0]], "multi_io: mixer output_layers %s" % mixer["output_layers"])  # Sequential: 1
check(histories(mixer, "deep") == [[["cat", 0, 0]]], "multi_io: deep %s" % histories(mixer, "deep"))
tw = cfg["twice"]
check(histories(tw, "pretrained") == [[["x", 0, 0]], [["y", 0, 0]]], "twice: pretrained calls")
check(histories(tw, "sum") == [[["pretrained", 0, 0], ["pretrained", 1, 0]]], "twice: sum %s" % histories(tw, "sum"))  # 1, 2
check(tw["output_layers"] == [["sum", 0, 0], ["pretrained", 2, 0]], "twice: output_layers %s" % tw["output_layers"])  # Functional: kept

# .keras -> H5: the original tf.keras numbers at every level.
def k2_links(model, out, where):
    for l in model["layers"]:
        for node in l.get("inbound_nodes", []):
            out.append((where, l.get("name"), json.dumps([[t[0], t[1], t[2]] for t in node])))
        if l["class_name"] in MODELS:
            k2_links(l["config"], out, where + "/" + l.get("name", l["config"].get("name", "")))
    for k in ("input_layers", "output_layers"):
        if k in model:
            out.append((where, k, json.dumps(model[k])))
    return out
for m in cfg:
    a = json.loads(h5py.File("%s/%s.h5" % (T, m), "r").attrs["model_config"])["config"]
    b = json.loads(h5py.File("%s/%s.k.h5" % (T, m), "r").attrs["model_config"])["config"]
    la, lb = k2_links(a, [], m), k2_links(b, [], m)
    check(la == lb, "%s: node references after .keras -> H5 differ:\n  %s\n  %s" % (m, sorted(set(la) - set(lb)), sorted(set(lb) - set(la))))
sys.exit(0 if ok else 1)
PY

# predict: each .keras (Keras 3 numbers) and the round-trip H5 give the H5's outputs exactly.
declare -A inputs=([functional]="-i $T/x16.npy" [sequential]="-i $T/x16.npy" [multi_io]="-i a=$T/x16.npy -i b=$T/b8.npy"
                   [twice]="-i x=$T/x16.npy -i y=$T/x16b.npy")
/usr/bin/python3 -c "import numpy as np; np.save('$T/x16b.npy', np.random.default_rng(5).standard_normal((5, 16)).astype(np.float32))"
for m in $models; do
  for src in $m.h5 $m.keras $m.k.h5; do
    # shellcheck disable=SC2086
    "$KMODEL" predict "$T/$src" ${inputs[$m]} -o "$T/$src.npz" >"$T/log" 2>&1 ||
      { echo "FAIL: predict $src: $(tail -2 "$T/log")"; fail=1; }
  done
  /usr/bin/python3 - "$T/$m.h5.npz" "$T/$m.keras.npz" "$T/$m.k.h5.npz" <<'PY' || { echo "FAIL: predict $m: .keras / round trip differ from the H5"; fail=1; }
import sys, numpy as np
ref = np.load(sys.argv[1])
ok = len(ref.files) >= 1 and all(np.abs(ref[k]).max() > 0 for k in ref.files)
for p in sys.argv[2:]:
    o = np.load(p)
    ok = ok and sorted(o.files) == sorted(ref.files) and all(np.array_equal(o[k], ref[k]) for k in ref.files)
sys.exit(0 if ok else 1)
PY
done
exit $fail
