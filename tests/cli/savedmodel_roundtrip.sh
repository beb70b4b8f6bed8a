#!/usr/bin/env bash
# Writing SavedModels (issue 5), proven by structure against the real thing (no TensorFlow here):
#  A. every Keras SavedModel fixture -> H5 -> SavedModel, and -> SavedModel directly: the same
#     keras_metadata node paths, identifiers and configs for the model and its layers, the same layer
#     object children, bit-identical variable values, dtypes and shapes; exactly the checkpoint keys of
#     the real file (metric state zero-initialised), the same trackable nodes (identifier/kind and
#     children names in breadth-first order; one known alias edge excepted); no function nodes.
#  B. H5 models of the corpus -> SavedModel -> H5: config (as JSON) and weights bit-exact
#     (tests/tools/h5_compare.py), covering Sequential, Functional with several inputs, RNNs,
#     BatchNormalization, convolutions and optimizer state.
#  C. Keras 3 .keras archives -> SavedModel: Keras 2 dialect metadata, bit-identical weights.
# All SavedModel structure is read with tests/tools/savedmodel_wire.py and bundle_reader.py.
set -uo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0
D="$TESTDATA/savedmodel"
WIRE="$SRC/tests/tools/savedmodel_wire.py"
READER="$SRC/tests/tools/bundle_reader.py"

for name in coffee_roast_savedmodel_keras tfnet_lstm_from_sequential_savedmodel_keras \
            tfnet_python_func_model_savedmodel_keras kerasteam_lso_savedmodel_tf2_2; do
  src="$D/$name"
  mkdir -p "$T/$name"
  "$KMODEL" convert "$src" "$T/$name/m.h5" >"$T/log" 2>&1 || { echo "FAIL: $name -> h5: $(cat "$T/log")"; fail=1; continue; }
  "$KMODEL" convert "$T/$name/m.h5" "$T/$name/via_h5" --to savedmodel >"$T/log" 2>&1 || { echo "FAIL: $name h5 -> sm: $(cat "$T/log")"; fail=1; continue; }
  "$KMODEL" convert "$src" "$T/$name/direct" --to savedmodel >"$T/log" 2>&1 || { echo "FAIL: $name sm -> sm: $(cat "$T/log")"; fail=1; continue; }
  for out in via_h5 direct; do
    for f in saved_model.pb keras_metadata.pb fingerprint.pb variables/variables.index variables/variables.data-00000-of-00001; do
      [ -f "$T/$name/$out/$f" ] || { echo "FAIL: $name/$out lacks $f"; fail=1; }
    done
    [ -d "$T/$name/$out/assets" ] || { echo "FAIL: $name/$out lacks assets/"; fail=1; }
    "$KMODEL" load "$T/$name/$out" >"$T/log" 2>&1 || { echo "FAIL: load $name/$out: $(tail -3 "$T/log")"; fail=1; }
  done
  for x in src via_h5 direct; do
    dir="$T/$name/$x"; [ "$x" = src ] && dir="$src"
    /usr/bin/python3 "$WIRE" "$dir" >"$T/$name/$x.wire.json" || { echo "FAIL: wire $name/$x"; fail=1; }
    /usr/bin/python3 "$READER" "$dir/variables/variables" >"$T/$name/$x.bundle.json" || { echo "FAIL: bundle $name/$x"; fail=1; }
  done
  /usr/bin/python3 - "$name" "$T/$name" <<'PY' || fail=1
import json, sys
name, d = sys.argv[1], sys.argv[2]
ok = True
def fail(msg):
    global ok
    print("FAIL: %s: %s" % (name, msg)); ok = False
def decode(v):
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if v.get("class_name") in ("__tuple__", "TensorShape") and "items" in v:
            return [decode(x) for x in v["items"]]
        return {k: decode(x) for k, x in v.items()}
    return v
def strip_ids(v):
    if isinstance(v, list):
        return [strip_ids(x) for x in v]
    if isinstance(v, dict):
        return {k: strip_ids(x) for k, x in v.items() if k != "shared_object_id"}
    return v
load = lambda x: (json.load(open("%s/%s.wire.json" % (d, x))), json.load(open("%s/%s.bundle.json" % (d, x))))
src, src_b = load("src")
og = src["object_graph"]
# Keras model/layer nodes of the source: metadata entries, or TF <= 2.4 _tf_keras_* user objects.
def keras_nodes(w):
    if w["keras_metadata"] is not None:
        return {n[0]: (n[1], n[2]) for n in w["keras_metadata"]}
    return {i: (None, ident) for i, ident in enumerate(w["object_graph"]["identifiers"]) if ident.startswith("_tf_keras")}
def layer_nodes(w):
    """{edge name ('root' or 'layer-N'): node id} for the model and the root's layer-N children."""
    out = {"root": 0}
    for cname, cid in w["object_graph"]["children"][0]:
        if cname.startswith("layer-"):
            out[cname] = cid
    return out
def variables(w, b):
    """{node id: (name, dtype, shape, trainable, sha256)} via the checkpoint graph (same ids, C.6)."""
    sha = {e["key"]: e["sha256"] for e in b["entries"]}
    out = {}
    for vid, vname, dt, shape, tr in w["object_graph"]["variables"]:
        attrs = b["object_graph"][vid]["attributes"] if vid < len(b["object_graph"]) else []
        keys = [a[2] for a in attrs if a[0] == "VARIABLE_VALUE"]
        out[vid] = (vname, dt, shape, tr, sha.get(keys[0]) if keys else None)
    return out
import hashlib
ZERO_F32 = hashlib.sha256(b"\0\0\0\0").hexdigest()
FN = ("function", "bare_concrete_function")
def canon(w):
    """[(kind or identifier, [(child name, canonical id)])] over the non-function nodes, breadth-first."""
    og = w["object_graph"]
    kinds = og["node_kinds"]
    seen, order = {0: 0}, [0]
    for i in order:
        for n, c in og["children"][i]:
            if kinds[c] not in FN and c not in seen:
                seen[c] = len(order); order.append(c)
    out = []
    for i in order:
        kind = og["identifiers"][i] if kinds[i] == "user_object" else kinds[i]
        out.append((kind, [(n, seen[c]) for n, c in og["children"][i] if kinds[c] not in FN]))
    return out
src_layers, src_keras, src_vars = layer_nodes(src), keras_nodes(src), variables(src, src_b)
root_md = json.loads(src["root_metadata"])
model_name = root_md["name"]
def var_children(w, vars_, node, prefix=""):
    """{attr path: variable tuple} of a layer node: variable children and (one level) sub-object ones."""
    out = {}
    for cname, cid in w["object_graph"]["children"][node]:
        if cid in vars_:
            out[prefix + cname] = vars_[cid]
        elif cname in ("cell", "forward_layer", "backward_layer", "layer") and not prefix:
            out.update(var_children(w, vars_, cid, cname + "/"))
    return out
for x in ("via_h5", "direct"):
    new, new_b = load(x)
    nog = new["object_graph"]
    if nog["kinds"].get("function") or nog["kinds"].get("bare_concrete_function"):
        fail("%s: function nodes written" % x)
    new_layers, new_vars = layer_nodes(new), variables(new, new_b)
    if set(new_layers) != set(src_layers):
        fail("%s: layer edges %s vs %s" % (x, sorted(new_layers), sorted(src_layers)))
        continue
    new_md = {n[0]: (n[1], n[2]) for n in new["keras_metadata"]}
    new_json = new["keras_metadata_json"]
    src_json = src.get("keras_metadata_json") or {}
    for edge, sid in src_layers.items():
        nid = new_layers[edge]
        # identifiers and node paths of the model and layer metadata nodes
        if sid in src_keras:
            spath, sident = src_keras[sid]
            if nid not in new_md:
                fail("%s: no metadata for %s" % (x, edge)); continue
            npath, nident = new_md[nid]
            if nident != sident:
                fail("%s: identifier of %s: %s vs %s" % (x, edge, nident, sident))
            if spath is not None and npath != spath:
                fail("%s: node_path of %s: %s vs %s" % (x, edge, npath, spath))
            smeta = json.loads(src_json[str(sid)]) if str(sid) in src_json else None
            nmeta = json.loads(new_json[str(nid)])
            if smeta is not None:
                for key in ("class_name", "name", "config", "trainable", "dtype"):
                    # the model's own "config" is get_config() without the saving scope's shared_object_id
                    if strip_ids(decode(smeta.get(key))) != strip_ids(decode(nmeta.get(key))):
                        fail("%s: metadata %s of %s differs" % (x, key, edge))
                if "build_input_shape" in smeta:
                    sb, nb = decode(smeta["build_input_shape"]), decode(nmeta.get("build_input_shape"))
                    if x == "direct":
                        if sb != nb:  # kept from the source metadata
                            fail("direct: build_input_shape of %s: %s vs %s" % (edge, nb, sb))
                    elif nb is None:
                        # via H5 it is derived from the config: only a layer behind a custom layer lacks one
                        if name != "tfnet_python_func_model_savedmodel_keras":
                            fail("via_h5: no build_input_shape for %s" % edge)
                    elif len(nb) != len(sb) or any(n is not None and n != s for n, s in zip(nb, sb)):
                        fail("via_h5: build_input_shape of %s: %s vs %s" % (edge, nb, sb))
        # the same variables below the layer: names, dtypes, shapes, trainable, bytes
        if edge != "root":
            sv = var_children(src, src_vars, sid)
            nv = var_children(new, new_vars, nid)
            # The source may reach one variable by several names (Normalization's adapt_mean = mean):
            # every name written is one of the source's, and the same distinct variables are there.
            if not set(nv) <= set(sv) or sorted(set(v[1:] for v in sv.values())) != sorted(set(v[1:] for v in nv.values())):
                fail("%s: variables of %s: %s vs %s" % (x, edge, sorted(nv), sorted(sv)))
            if sorted(set(v[4] for v in sv.values())) != sorted(set(v[4] for v in nv.values())):
                fail("%s: variable payloads of %s differ" % (x, edge))
            for attr in sv:
                if attr in nv:
                    a, b = sv[attr], nv[attr]
                    # names: the source's may carry the model scope ("sequential/dense/kernel")
                    if b[0] != a[0] and model_name + "/" + b[0] != a[0]:
                        fail("%s: name of %s/%s: %s vs %s" % (x, edge, attr, b[0], a[0]))
                    if a[1:] != b[1:]:
                        fail("%s: %s/%s dtype/shape/trainable/bytes differ: %s vs %s" % (x, edge, attr, b[1:], a[1:]))
    nroot = json.loads(new["root_metadata"])
    if decode(nroot["model_config"]) != decode(root_md["model_config"]):
        fail("%s: model_config" % x)
    if "training_config" in root_md and decode(nroot.get("training_config")) != decode(root_md["training_config"]):
        fail("%s: training_config" % x)
    if nroot.get("keras_version") != root_md.get("keras_version"):
        fail("%s: keras_version" % x)
    # Optimizer state survives with bit-identical values.
    src_opt = sorted(v[4] for k, v in src_vars.items() if "metrics" not in str(k) and v[0] not in ("total", "count"))
    new_opt = sorted(v[4] for v in new_vars.values())
    missing = [h for h in src_opt if h not in new_opt]
    if missing and x == "direct":
        fail("%s: %d variable payloads missing" % (x, len(missing)))
    # Exactly the checkpoint keys of the real file (metrics, list-wrapper paths, optimizer layout).
    skeys = sorted(e["key"] for e in src_b["entries"])
    nkeys = sorted(e["key"] for e in new_b["entries"])
    if skeys != nkeys:
        fail("%s: checkpoint keys differ: only src %s, only new %s" % (x, sorted(set(skeys) - set(nkeys)), sorted(set(nkeys) - set(skeys))))
    # Same bytes, dtype and shape per key where the H5 carries the value; metric state (no H5 home)
    # is written zero-initialised.
    se = {e["key"]: e for e in src_b["entries"]}
    for e in new_b["entries"]:
        s = se.get(e["key"])
        if s is None or e["key"] == "_CHECKPOINTABLE_OBJECT_GRAPH":
            continue
        if (s["dtype"], s["shape"]) != (e["dtype"], e["shape"]):
            fail("%s: %s dtype/shape %s vs %s" % (x, e["key"], (e["dtype"], e["shape"]), (s["dtype"], s["shape"])))
        if e["key"].startswith("keras_api/metrics/"):
            if e["sha256"] != ZERO_F32:
                fail("%s: metric %s not zero" % (x, e["key"]))
        elif s["sha256"] != e["sha256"]:
            fail("%s: %s bytes differ" % (x, e["key"]))
    # The same trackable (non-function) nodes: kind/identifier and children names, in the canonical
    # breadth-first order. Known gap: the custom layer of tfnet_python_func also tracks its `matrix`
    # as `owned_weight`, an alias neither H5 nor kmodel's IR records.
    known = {("tfnet_python_func_model_savedmodel_keras", "owned_weight")}
    cs, cn = canon(src), canon(new)
    if len(cs) != len(cn):
        fail("%s: %d trackable nodes vs %d" % (x, len(cn), len(cs)))
    for i, (a, b) in enumerate(zip(cs, cn)):
        a_kids = [k for k in a[1] if (name, k[0]) not in known]
        if a[0] != b[0] or a_kids != b[1]:
            fail("%s: node %d: %s %s vs %s %s" % (x, i, b[0], b[1], a[0], a[1])); break
print("ok: %s" % name) if ok else None
sys.exit(0 if ok else 1)
PY
done

# B. H5 -> SavedModel -> H5.
H="$TESTDATA/h5"
n=0
for f in fml_keras_3layer_h5__keras_3layer.h5 fml_keras_3layer_batch_norm_h5__keras_3layer_batch_norm.h5 \
         charity_AlphabetSoupModel_h5__AlphabetSoupModel.h5 dl4j_optimizers_adam__adam.h5 \
         dl4j_simple_lstm_tf_keras_2_io__simple_lstm_tf_keras_2_model.h5 hls4ml_KERAS_gru_json_weights__KERAS_gru_model_weights.h5 \
         dl4j_space_to_depth_graph_multi_input__space_to_depth_graph_tensorflow_2.h5 signature_siamese_lstm_h5__siamese_model.h5 \
         dl4j_tfkeras_issue_9349_functional_adam__issue_9349.hdf5 dl4j_tfkeras_cnn2d_40__cnn2d_40.h5 \
         dl4j_tfkeras_convlstm2d_1__convlstm2d_1.h5 dl4j_tfkeras_misc_0_embedding__misc_0.h5 \
         fml_keras_conv1d_small_h5__keras_conv1d_small.h5 dl4j_masking_zero_lstm__masking_zero_lstm.h5; do
  b="${f%.*}"
  "$KMODEL" convert "$H/$f" "$T/$b" --to savedmodel >"$T/log" 2>&1 || { echo "FAIL: $f -> sm: $(cat "$T/log")"; fail=1; continue; }
  "$KMODEL" convert "$T/$b" "$T/$b.h5" >"$T/log" 2>&1 || { echo "FAIL: $b sm -> h5: $(cat "$T/log")"; fail=1; continue; }
  /usr/bin/python3 "$SRC/tests/tools/h5_compare.py" "$H/$f" "$T/$b.h5" >"$T/cmp" 2>&1
  # Configs travel as JSON inside keras_metadata.pb: compare them as JSON, everything else as h5_compare does.
  grep -v "root attribute model_config differs\|root attribute training_config differs" "$T/cmp" >"$T/cmp2"
  if [ -s "$T/cmp2" ]; then echo "FAIL: $f round trip:"; head -5 "$T/cmp2"; fail=1; fi
  /usr/bin/python3 - "$H/$f" "$T/$b.h5" <<'PY' || { echo "FAIL: $f configs"; fail=1; }
import json, sys, h5py
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
t = lambda v: v.decode() if isinstance(v, bytes) else str(v)
for attr in ("model_config", "training_config"):
    if (attr in a.attrs) != (attr in b.attrs):
        sys.exit(1)
    if attr in a.attrs and json.loads(t(a.attrs[attr])) != json.loads(t(b.attrs[attr])):
        print("%s differs" % attr); sys.exit(1)
PY
  n=$((n + 1))
done
[ "$n" -ge 14 ] || { echo "FAIL: only $n H5 models round-tripped"; fail=1; }

# C. Keras 3 archives -> SavedModel: the config is translated to the tf.keras (Keras 2) dialect, and
#    the weights come back bit-identical (diff-weights SAME, by name) through SavedModel -> H5.
for k in qkeras_v3_3layer stock_rnn_model; do
  "$KMODEL" convert "$TESTDATA/keras_v3/$k.keras" "$T/k_$k" --to savedmodel >"$T/log" 2>&1 || { echo "FAIL: $k.keras -> sm: $(cat "$T/log")"; fail=1; continue; }
  "$KMODEL" load "$T/k_$k" >"$T/log" 2>&1 || { echo "FAIL: load k_$k: $(tail -2 "$T/log")"; fail=1; }
  "$KMODEL" convert "$T/k_$k" "$T/k_$k.h5" >"$T/log" 2>&1 || { echo "FAIL: k_$k -> h5: $(cat "$T/log")"; fail=1; continue; }
  "$KMODEL" diff-weights "$TESTDATA/keras_v3/$k.keras" "$T/k_$k.h5" >"$T/diff" 2>&1 || { echo "FAIL: $k weights: $(tail -1 "$T/diff")"; fail=1; }
  grep -q "0 differ, 0 shape mismatch, 0 dtype mismatch, 0 only in A, 0 only in B" "$T/diff" || { echo "FAIL: $k diff: $(tail -1 "$T/diff")"; fail=1; }
  /usr/bin/python3 "$WIRE" "$T/k_$k" >"$T/k.json" || fail=1
  /usr/bin/python3 - "$T/k.json" <<'PY' || { echo "FAIL: $k metadata dialect"; fail=1; }
import json, sys
w = json.load(open(sys.argv[1]))
root = json.loads(w["root_metadata"])
mc = root["model_config"]
layers = mc["config"]["layers"]
ok = "module" not in mc and all("module" not in l for l in layers)
ok = ok and all("batch_input_shape" in l["config"] for l in layers if l["class_name"] == "InputLayer")
ok = ok and root["is_graph_network"] and len(w["keras_metadata"]) >= 2
sys.exit(0 if ok else 1)
PY
done
exit $fail
