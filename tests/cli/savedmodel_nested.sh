#!/usr/bin/env bash
# Nested models (a Sequential / Functional used as a layer) written as SavedModel (issue 5), proven by
# structure (no TensorFlow here). The corpus holds no real nested Sequential/Functional artifact (its
# one "nested container" .keras is a subclassed model without an architecture), so the models are
# built from the real keras_3layer(_batch_norm).h5 configs (tests/tools/nested_models.py) with `kmodel save --init`:
#   functional  x -> pretrained (the BatchNormalization Functional model) -> head
#   sequential  Sequential [Sequential block (InputLayer, Dense, BatchNormalization, Activation), Dense]
#   multi_io    inputs a, b; Sequential tower on a; out_a; a two-input Functional mixer (Concatenate,
#               Sequential deep with a Dropout) on (tower, b); out_b  -- two levels of nesting
# Asserted: the object graph (nested model nodes with their layer-N / layer_with_weights-M children,
# the variable nodes below the nested layers, the checkpoint graph mirroring it with the same ids),
# keras_metadata node paths and identifiers, the exact checkpoint keys; H5 -> SavedModel -> H5
# bit-exact (h5_compare.py) with equal configs; .keras -> SavedModel -> .keras with equal weights
# (diff-weights) and configs; SavedModel -> SavedModel gives the same files; predict agrees.
# Env: KMODEL, TESTDATA, SRC.
set -uo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0
WIRE="$SRC/tests/tools/savedmodel_wire.py"
READER="$SRC/tests/tools/bundle_reader.py"

/usr/bin/python3 "$SRC/tests/tools/nested_models.py" "$TESTDATA/diff" "$T" || { echo "FAIL: making architectures"; exit 1; }

for m in functional sequential multi_io; do
  "$KMODEL" save --arch "$T/$m.json" --init 7 -o "$T/$m.h5" >"$T/log" 2>&1 || { echo "FAIL: save $m: $(tail -3 "$T/log")"; fail=1; continue; }
  # H5 -> SavedModel -> H5: bit-exact, configs equal as JSON.
  "$KMODEL" convert "$T/$m.h5" "$T/$m.sm" --to savedmodel >"$T/log" 2>&1 || { echo "FAIL: $m h5 -> sm: $(cat "$T/log")"; fail=1; continue; }
  "$KMODEL" load "$T/$m.sm" >"$T/log" 2>&1 || { echo "FAIL: load $m.sm: $(tail -3 "$T/log")"; fail=1; }
  "$KMODEL" convert "$T/$m.sm" "$T/$m.rt.h5" >"$T/log" 2>&1 || { echo "FAIL: $m sm -> h5: $(cat "$T/log")"; fail=1; continue; }
  /usr/bin/python3 "$SRC/tests/tools/h5_compare.py" "$T/$m.h5" "$T/$m.rt.h5" >"$T/cmp" 2>&1
  grep -v "root attribute model_config differs\|root attribute training_config differs" "$T/cmp" | grep -v "^equal: " >"$T/cmp2"
  grep -q "^equal: 1 pair" "$T/cmp" || { echo "FAIL: $m round trip: $(head -3 "$T/cmp")"; fail=1; }
  [ -s "$T/cmp2" ] && { echo "FAIL: $m round trip:"; head -5 "$T/cmp2"; fail=1; }
  /usr/bin/python3 - "$T/$m.h5" "$T/$m.rt.h5" <<'PY' || { echo "FAIL: $m configs differ after H5 -> SM -> H5"; fail=1; }
import json, sys, h5py
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
t = lambda v: v.decode() if isinstance(v, bytes) else str(v)
sys.exit(0 if json.loads(t(a.attrs["model_config"])) == json.loads(t(b.attrs["model_config"])) else 1)
PY
  "$KMODEL" diff-weights "$T/$m.h5" "$T/$m.rt.h5" >"$T/diff" 2>&1 || { echo "FAIL: $m diff-weights h5 vs rt: $(tail -1 "$T/diff")"; fail=1; }
  # SavedModel -> SavedModel: the same object graph, metadata and checkpoint (build shapes kept).
  "$KMODEL" convert "$T/$m.sm" "$T/$m.sm2" --to savedmodel >"$T/log" 2>&1 || { echo "FAIL: $m sm -> sm: $(cat "$T/log")"; fail=1; continue; }
  /usr/bin/python3 "$WIRE" "$T/$m.sm" >"$T/$m.wire.json" || { echo "FAIL: wire $m"; fail=1; }
  /usr/bin/python3 "$WIRE" "$T/$m.sm2" >"$T/$m.wire2.json" || { echo "FAIL: wire $m.sm2"; fail=1; }
  /usr/bin/python3 "$READER" "$T/$m.sm/variables/variables" >"$T/$m.bundle.json" || { echo "FAIL: bundle $m"; fail=1; }
  /usr/bin/python3 "$READER" "$T/$m.sm2/variables/variables" >"$T/$m.bundle2.json" || { echo "FAIL: bundle $m.sm2"; fail=1; }
  cmp -s "$T/$m.wire.json" "$T/$m.wire2.json" || { echo "FAIL: $m: SavedModel -> SavedModel changed saved_model.pb / keras_metadata.pb"; fail=1; }
  cmp -s "$T/$m.bundle.json" "$T/$m.bundle2.json" || { echo "FAIL: $m: SavedModel -> SavedModel changed the checkpoint"; fail=1; }
  # The native engine gives the same predictions from the H5 and the SavedModel.
  ins=(-i "$T/x16.npy")
  [ "$m" = multi_io ] && ins=(-i "a=$T/x16.npy" -i "b=$T/b8.npy")
  "$KMODEL" predict "$T/$m.h5" "${ins[@]}" -o "$T/$m.p1.npz" >"$T/log" 2>&1 || { echo "FAIL: predict $m.h5: $(tail -2 "$T/log")"; fail=1; }
  "$KMODEL" predict "$T/$m.sm" "${ins[@]}" -o "$T/$m.p2.npz" >"$T/log" 2>&1 || { echo "FAIL: predict $m.sm: $(tail -2 "$T/log")"; fail=1; }
  /usr/bin/python3 - "$T/$m.p1.npz" "$T/$m.p2.npz" <<'PY' || { echo "FAIL: $m predictions differ"; fail=1; }
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
sys.exit(0 if sorted(a.files) == sorted(b.files) and a.files and all(np.array_equal(a[k], b[k]) for k in a.files) else 1)
PY
done

# The structure, against what tf.keras writes (FORMATS.md C.4-C.7, E.3; functional.py
# _layer_checkpoint_dependencies, Sequential.layers without its InputLayer, BFS node ids).
/usr/bin/python3 - "$T" <<'PY' || fail=1
import json, sys
T = sys.argv[1]
ok = True
def check(cond, msg):
    global ok
    if not cond:
        print("FAIL: " + msg); ok = False
def load(m):
    return json.load(open("%s/%s.wire.json" % (T, m))), json.load(open("%s/%s.bundle.json" % (T, m)))
K = lambda *p: "/".join(p) + "/.ATTRIBUTES/VARIABLE_VALUE"
lw = lambda n: "layer_with_weights-%d" % n
dense = lambda *p: [K(*p, "bias"), K(*p, "kernel")]
bnorm = lambda *p: [K(*p, v) for v in ("beta", "gamma", "moving_mean", "moving_variance")]

# Edges SavedModel serialization adds (list wrappers, keras_api, signatures), compared separately.
WRAPPERS = {"variables", "trainable_variables", "regularization_losses", "keras_api", "signatures", "optimizer"}
def at(og, path):
    """Node reached from the root by the dotted path's child names."""
    n = 0
    for part in path.split(".")[1:]:
        n = [c for name, c in og["children"][n] if name == part][0]
    return n
# Checkpoint keys as TF names them (first breadth-first path): the variables of a nested model's layers
# are reached first through the root's `variables` list (depth 2), before their own layer nodes
# (depth 3), so they are keyed `variables/N`, N = index in model.variables (layer by layer).
V = lambda *ns: [K("variables", str(n)) for n in ns]
expected = {
  "sequential": {
    "keys": V(*range(6)) + dense(lw(1)),
    "metadata": [[0, "root", "_tf_keras_sequential"], [1, "root.layer_with_weights-0", "_tf_keras_sequential"],
                 [2, "root.layer_with_weights-1", "_tf_keras_layer"],
                 [3, "root.layer_with_weights-0.layer_with_weights-0", "_tf_keras_layer"],
                 [4, "root.layer_with_weights-0.layer_with_weights-1", "_tf_keras_layer"],
                 [5, "root.layer_with_weights-0.layer-2", "_tf_keras_layer"]],
    "children": {0: [["layer_with_weights-0", 1], ["layer-0", 1], ["layer_with_weights-1", 2], ["layer-1", 2]],
                 1: [["layer_with_weights-0", 3], ["layer-0", 3], ["layer_with_weights-1", 4], ["layer-1", 4], ["layer-2", 5]],
                 3: [["kernel", 8], ["bias", 9]],
                 4: [["gamma", 10], ["beta", 11], ["moving_mean", 12], ["moving_variance", 13]], 5: []},
    "variables": {"root.layer_with_weights-0.layer_with_weights-0.kernel": ["fc1_relu/kernel", "(16, 64)", True],
                  "root.layer_with_weights-0.layer_with_weights-1.moving_mean": ["bn1/moving_mean", "(64)", False]},
    "names": {1: "block", 3: "fc1_relu", 4: "bn1", 5: "relu1"},
  },
  "multi_io": {
    "keys": V(*range(6)) + dense(lw(1)) + V(8, 9, 10, 11) + dense(lw(3)),
    "metadata": [[0, "root", "_tf_keras_network"], [1, "root.layer-0", "_tf_keras_input_layer"],
                 [2, "root.layer-1", "_tf_keras_input_layer"], [3, "root.layer_with_weights-0", "_tf_keras_sequential"],
                 [4, "root.layer_with_weights-1", "_tf_keras_layer"], [5, "root.layer_with_weights-2", "_tf_keras_network"],
                 [6, "root.layer_with_weights-3", "_tf_keras_layer"],
                 [7, "root.layer_with_weights-0.layer_with_weights-0", "_tf_keras_layer"],
                 [8, "root.layer_with_weights-0.layer_with_weights-1", "_tf_keras_layer"],
                 [11, "root.layer_with_weights-2.layer-0", "_tf_keras_input_layer"],
                 [12, "root.layer_with_weights-2.layer-1", "_tf_keras_input_layer"],
                 [13, "root.layer_with_weights-2.layer-2", "_tf_keras_layer"],
                 [14, "root.layer_with_weights-2.layer_with_weights-0", "_tf_keras_sequential"],
                 [23, "root.layer_with_weights-2.layer_with_weights-0.layer_with_weights-0", "_tf_keras_layer"],
                 [24, "root.layer_with_weights-2.layer_with_weights-0.layer-1", "_tf_keras_layer"],
                 [25, "root.layer_with_weights-2.layer_with_weights-0.layer_with_weights-1", "_tf_keras_layer"]],
    "children": {0: [["layer-0", 1], ["layer-1", 2], ["layer_with_weights-0", 3], ["layer-2", 3], ["layer_with_weights-1", 4],
                     ["layer-3", 4], ["layer_with_weights-2", 5], ["layer-4", 5], ["layer_with_weights-3", 6], ["layer-5", 6]],
                 3: [["layer_with_weights-0", 7], ["layer-0", 7], ["layer_with_weights-1", 8], ["layer-1", 8]],
                 5: [["layer-0", 11], ["layer-1", 12], ["layer-2", 13], ["layer_with_weights-0", 14], ["layer-3", 14]],
                 14: [["layer_with_weights-0", 23], ["layer-0", 23], ["layer-1", 24], ["layer_with_weights-1", 25], ["layer-2", 25]],
                 23: [["kernel", 26], ["bias", 27]], 24: [], 25: [["kernel", 28], ["bias", 29]]},
    "variables": {"root.layer_with_weights-2.layer_with_weights-0.layer_with_weights-0.kernel": ["deep/d1/kernel", "(16, 4)", True],
                  "root.layer_with_weights-0.layer_with_weights-1.moving_mean": ["t_bn/moving_mean", "(8)", False]},
    "names": {3: "tower", 5: "mixer", 7: "t1", 8: "t_bn", 11: "p", 12: "q", 13: "cat", 14: "deep", 23: "d1", 24: "drop", 25: "d2"},
  },
  "functional": {
    # pretrained: input_1, then (Dense, BatchNormalization, Activation) x 4
    "keys": V(*range(24)) + dense(lw(1)),
    "metadata": [[0, "root", "_tf_keras_network"], [1, "root.layer-0", "_tf_keras_input_layer"],
                 [2, "root.layer_with_weights-0", "_tf_keras_network"], [3, "root.layer_with_weights-1", "_tf_keras_layer"],
                 [4, "root.layer_with_weights-0.layer-0", "_tf_keras_input_layer"]] +
                [[5 + 3 * i + j, "root.layer_with_weights-0." + p, "_tf_keras_layer"] for i in range(4)
                 for j, p in enumerate((lw(2 * i), lw(2 * i + 1), "layer-%d" % (3 * i + 3)))],
    "children": {2: [["layer-0", 4]] + sum([[[lw(2 * i), 5 + 3 * i], ["layer-%d" % (3 * i + 1), 5 + 3 * i],
                                            [lw(2 * i + 1), 6 + 3 * i], ["layer-%d" % (3 * i + 2), 6 + 3 * i],
                                            ["layer-%d" % (3 * i + 3), 7 + 3 * i]] for i in range(4)], [])},
    "variables": {},
    "names": {2: "pretrained", 4: "input_1", 5: "fc1_relu", 6: "bn1", 7: "relu1", 14: "output_softmax", 15: "bn4", 16: "softmax"},
  },
}
for m, exp in expected.items():
    w, b = load(m)
    og = w["object_graph"]
    keys = [e["key"] for e in b["entries"] if e["key"] != "_CHECKPOINTABLE_OBJECT_GRAPH"]
    check(keys == sorted(exp["keys"]), "%s: checkpoint keys %s" % (m, keys))
    # Node ids of the expectations are those of the save_weights graph (before the SavedModel's list
    # wrappers and keras_api were added): compare by node path, and edges other than those by name.
    old_path = {n[0]: n[1] for n in exp["metadata"]}
    check([n[1:] for n in w["keras_metadata"]] == [n[1:] for n in exp["metadata"]],
          "%s: keras_metadata %s" % (m, w["keras_metadata"]))
    new_id = {n[1]: n[0] for n in w["keras_metadata"]}
    for node, kids in exp["children"].items():
        got = [c for c in og["children"][new_id[old_path[node]]] if c[0] not in WRAPPERS]
        same = lambda l: [[i for i, y in enumerate(l) if y[1] == x[1]][0] for x in l]
        check([c[0] for c in got] == [c[0] for c in kids] and same(got) == same(kids),
              "%s: children of %s: %s" % (m, old_path[node], got))
    variables = {v[0]: v for v in og["variables"]}
    for p, (name, shape, trainable) in exp["variables"].items():
        node = at(og, p)
        check(node in variables and variables[node][1:] == [name, "DT_FLOAT", shape, trainable],
              "%s: variable %s: %s" % (m, p, variables.get(node)))
    meta = {int(k): json.loads(v) for k, v in w["keras_metadata_json"].items()}
    for node, name in exp["names"].items():
        nn = new_id[old_path[node]]
        check(meta[nn]["name"] == name, "%s: metadata name of %s: %s" % (m, old_path[node], meta[nn]["name"]))
    check(og["kinds"].get("function", 0) == 0 and og["kinds"].get("bare_concrete_function", 0) == 0, "%s: function nodes" % m)
    # Nested models: model metadata with their own config and model_config, and a build shape.
    for node, md in meta.items():
        ident = [x[2] for x in w["keras_metadata"] if x[0] == node][0]
        if node and ident in ("_tf_keras_sequential", "_tf_keras_network"):
            check(md["is_graph_network"] is True and md["model_config"]["config"] == md["config"] and
                  md["model_config"]["class_name"] == md["class_name"] and "build_input_shape" in md,
                  "%s: nested model metadata of node %d" % (m, node))
            check(md["class_name"] == {"_tf_keras_sequential": "Sequential", "_tf_keras_network": "Functional"}[ident],
                  "%s: class of node %d" % (m, node))
    # C.6: the checkpoint graph is the trackable part of the object graph, same ids and edges; every
    # variable node holds the VARIABLE_VALUE of its first path, and nested variables are reached
    # from the nested layer node (the same node ids in both graphs).
    ck = b["object_graph"]
    check(len(ck) == og["nodes"], "%s: checkpoint graph has %d nodes, object graph %d" % (m, len(ck), og["nodes"]))
    for i, n in enumerate(ck):
        check(n["children"] == og["children"][i], "%s: checkpoint node %d children differ" % (m, i))
    var_ids = set(variables)
    for i, n in enumerate(ck):
        attrs = [a for a in n["attributes"] if a[0] == "VARIABLE_VALUE"]
        check((i in var_ids) == bool(attrs), "%s: node %d variable/attribute mismatch" % (m, i))
        if attrs:
            check(attrs[0][1] == variables[i][1], "%s: full_name of node %d" % (m, i))
    # First paths give the keys.
    path = {0: []}
    queue = [0]
    for q in queue:
        for name, c in og["children"][q]:
            if c not in path:
                path[c] = path[q] + [name]; queue.append(c)
    for i in var_ids:
        key = [a[2] for a in ck[i]["attributes"] if a[0] == "VARIABLE_VALUE"][0]
        check(key == K(*path[i]), "%s: key of node %d %s vs path %s" % (m, i, key, path[i]))
sys.exit(0 if ok else 1)
PY

# .keras (Keras 3) -> SavedModel -> .keras: the same weights and config.
for m in functional sequential multi_io; do
  "$KMODEL" convert "$T/$m.h5" "$T/$m.keras" >"$T/log" 2>&1 || { echo "FAIL: $m h5 -> keras: $(cat "$T/log")"; fail=1; continue; }
  "$KMODEL" convert "$T/$m.keras" "$T/$m.k.sm" --to savedmodel >"$T/log" 2>&1 || { echo "FAIL: $m keras -> sm: $(cat "$T/log")"; fail=1; continue; }
  "$KMODEL" convert "$T/$m.k.sm" "$T/$m.back.keras" >"$T/log" 2>&1 || { echo "FAIL: $m sm -> keras: $(cat "$T/log")"; fail=1; continue; }
  "$KMODEL" diff-weights "$T/$m.keras" "$T/$m.back.keras" >"$T/diff" 2>&1 || { echo "FAIL: $m .keras weights: $(tail -1 "$T/diff")"; fail=1; }
  grep -q "0 differ, 0 shape mismatch, 0 dtype mismatch, 0 only in A, 0 only in B" "$T/diff" || { echo "FAIL: $m .keras diff: $(tail -1 "$T/diff")"; fail=1; }
  "$KMODEL" diff-weights "$T/$m.h5" "$T/$m.k.sm" >"$T/diff" 2>&1 || { echo "FAIL: $m h5 vs keras-made sm: $(tail -1 "$T/diff")"; fail=1; }
  /usr/bin/python3 - "$T/$m.keras" "$T/$m.back.keras" <<'PY' || { echo "FAIL: $m .keras config differs after SavedModel"; fail=1; }
import json, sys, zipfile
cfg = lambda p: {k: v for k, v in json.loads(zipfile.ZipFile(p).read("config.json")).items() if k != "compile_config"}
sys.exit(0 if cfg(sys.argv[1]) == cfg(sys.argv[2]) else 1)
PY
  # The Keras 2 dialect goes into keras_metadata (tf.keras reads it): no Keras 3 "module" keys.
  /usr/bin/python3 "$WIRE" "$T/$m.k.sm" >"$T/k.json" || fail=1
  /usr/bin/python3 - "$T/k.json" "$T/$m.wire.json" <<'PY' || { echo "FAIL: $m keras-made SavedModel metadata"; fail=1; }
import json, sys
k, h = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ok = '"module"' not in json.dumps(k["keras_metadata_json"])
ok = ok and k["keras_metadata"] == h["keras_metadata"]
sys.exit(0 if ok else 1)
PY
done
exit $fail
