#!/usr/bin/env bash
# `kmodel inspect DIR` on every SavedModel fixture: tag sets, TF versions, signatures (keys, dtypes,
# shapes, tensor names, method names), object-graph node kinds and variables, fingerprint — compared
# with tests/tools/savedmodel_wire.py, an independent hand-written wire decoder. Plus the exact
# saved_model_cli text for the TF 2.2 sample (FORMATS.md C.3) and the Keras metadata sources.
set -uo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0
D="$TESTDATA/savedmodel"
WIRE="$SRC/tests/tools/savedmodel_wire.py"

n=0
for dir in "$D"/*/; do
  dir="${dir%/}"
  name="$(basename "$dir")"
  [ -f "$dir/saved_model.pb" ] || continue
  n=$((n + 1))
  "$KMODEL" inspect --json --tree "$dir" >"$T/ours.json" 2>"$T/err" || { echo "FAIL: inspect $name: $(cat "$T/err")"; fail=1; continue; }
  /usr/bin/python3 "$WIRE" "$dir" >"$T/wire.json" || { echo "FAIL: wire decoder on $name"; fail=1; continue; }
  /usr/bin/python3 - "$name" "$T/ours.json" "$T/wire.json" <<'PY' || fail=1
import json, sys
name = sys.argv[1]
ours = json.load(open(sys.argv[2]))["saved_model"]
wire = json.load(open(sys.argv[3]))
ok = True
def check(what, a, b):
    global ok
    if a != b:
        print("FAIL: %s %s: kmodel %r, wire %r" % (name, what, a, b)); ok = False
check("schema_version", ours["schema_version"], wire["schema_version"])
check("meta graph count", len(ours["meta_graphs"]), len(wire["meta_graphs"]))
for om, wm in zip(ours["meta_graphs"], wire["meta_graphs"]):
    check("tags", om["tags"], wm["tags"])
    check("tensorflow_version", om["tensorflow_version"], wm["tensorflow_version"])
    check("signature keys", [s["key"] for s in om["signatures"]], [s["key"] for s in wm["signatures"]])
    for os_, ws in zip(om["signatures"], wm["signatures"]):
        check("method of " + os_["key"], os_["method_name"], ws["method_name"])
        for part in ("inputs", "outputs"):
            check("%s of %s" % (part, os_["key"]), os_[part], [{k: e[k] for k in ("key", "dtype", "shape", "name")} for e in ws[part]])
og = wire["object_graph"]
if og is None:
    check("object graph nodes", ours["object_graph"]["nodes"], 0)
else:
    check("object graph nodes", ours["object_graph"]["nodes"], og["nodes"])
    check("node kinds", ours["object_graph"]["kinds"], og["kinds"])
    tree = ours["object_graph"]["tree"]
    check("children", [[[c["name"], c["node"]] for c in n["children"]] for n in tree], og["children"])
    check("identifiers", [n["identifier"] for n in tree if n["kind"] in ("user_object", "variable")],
          [i for n, i in zip(tree, og["identifiers"]) if n["kind"] in ("user_object", "variable")])
    vars_ours = [[n["id"], n["identifier"], n["attributes"]["dtype"], n["attributes"]["shape"],
                  n["attributes"]["trainable"] == "true"] for n in tree if n["kind"] == "variable"]
    check("variables", vars_ours, og["variables"])
check("keras metadata", ours["keras_metadata"], wire["keras_metadata"] is not None or
      any(i.startswith("_tf_keras") for i in (og or {"identifiers": []})["identifiers"]) and name.startswith("kerasteam_lso"))
fp = {k: v for k, v in ours["fingerprint"].items() if k in (wire["fingerprint"] or {})}
check("fingerprint", fp or None, wire["fingerprint"])
sys.exit(0 if ok else 1)
PY
done
[ "$n" -ge 10 ] || { echo "FAIL: only $n SavedModel fixtures inspected"; fail=1; }

# The exact saved_model_cli block of the TF 2.2 sample (FORMATS.md C.3).
"$KMODEL" inspect "$D/kerasteam_lso_savedmodel_tf2_2" >"$T/lso.txt" 2>&1 || { echo "FAIL: inspect lso"; fail=1; }
cat >"$T/expected.txt" <<'TXT'
signature_def['serving_default']:
  The given SavedModel SignatureDef contains the following input(s):
    inputs['input_1'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 2)
        name: serving_default_input_1:0
  The given SavedModel SignatureDef contains the following output(s):
    outputs['output_1'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 2)
        name: StatefulPartitionedCall:0
  Method name is: tensorflow/serving/predict
TXT
grep -A11 "^signature_def\['serving_default'\]:" "$T/lso.txt" | diff - "$T/expected.txt" >/dev/null ||
  { echo "FAIL: lso serving_default block differs:"; grep -A11 "^signature_def\['serving_default'\]" "$T/lso.txt"; fail=1; }
grep -qx "MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:" "$T/lso.txt" || { echo "FAIL: tag-set line"; fail=1; }
grep -q "Keras metadata: object graph user_object.metadata (TF <= 2.4)" "$T/lso.txt" || { echo "FAIL: lso metadata source"; fail=1; }
grep -q "Object graph: 45 nodes (27 user_object, 12 variable, 5 function, 1 bare_concrete_function)" "$T/lso.txt" ||
  { echo "FAIL: lso object graph summary"; fail=1; }
"$KMODEL" inspect "$D/coffee_roast_savedmodel_keras" >"$T/coffee.txt" || { echo "FAIL: inspect coffee"; fail=1; }
grep -q "Keras metadata: keras_metadata.pb" "$T/coffee.txt" || { echo "FAIL: coffee metadata source"; fail=1; }
"$KMODEL" inspect "$D/serving_half_plus_two_tf2_cpu" >"$T/hp2.txt" || { echo "FAIL: inspect half_plus_two"; fail=1; }
grep -qx "Assets: foo.txt" "$T/hp2.txt" || { echo "FAIL: assets"; fail=1; }
grep -qx "  saved_model_checksum: 3202314178945370836" "$T/hp2.txt" || { echo "FAIL: fingerprint text"; fail=1; }
grep -q "Keras metadata: none" "$T/hp2.txt" || { echo "FAIL: plain TF metadata line"; fail=1; }
"$KMODEL" inspect --tree "$D/kerasteam_lso_savedmodel_tf2_2" >"$T/tree.txt" || { echo "FAIL: --tree"; fail=1; }
grep -qx "  \[8\] variable sequential/dense/kernel  dtype=DT_FLOAT  shape=(2, 2)  trainable=true  key=layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE" "$T/tree.txt" ||
  { echo "FAIL: --tree variable line"; fail=1; }

exit $fail
