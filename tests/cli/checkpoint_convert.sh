#!/usr/bin/env bash
# `kmodel convert ... --to checkpoint`: H5 -> checkpoint and checkpoint -> checkpoint. The output is
# checked by the independent reader (tests/tools/bundle_reader.py: table, protos and CRCs by hand):
# values equal h5py's / the source bundle's bytes, keys are the ones TF wrote for the same model.
set -uo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0
READER="$SRC/tests/tools/bundle_reader.py"
D="$TESTDATA/checkpoint"
H5="$TESTDATA/h5/charity_AlphabetSoupModel_h5__AlphabetSoupModel.h5"

mkdir "$T/out"
"$KMODEL" convert "$H5" "$T/out/ckpt" --to checkpoint >"$T/log" 2>&1 || { echo "FAIL: convert h5: $(cat "$T/log")"; fail=1; }
for f in ckpt.index ckpt.data-00000-of-00001 checkpoint; do
  [ -f "$T/out/$f" ] || { echo "FAIL: missing $f"; fail=1; }
done
[ "$(ls -A "$T/out" | wc -l)" -eq 3 ] || { echo "FAIL: stray files: $(ls -A "$T/out")"; fail=1; }
grep -qx 'model_checkpoint_path: "ckpt"' "$T/out/checkpoint" || { echo "FAIL: state file"; fail=1; }
/usr/bin/python3 "$READER" "$T/out/ckpt" --values >"$T/ours.json" || { echo "FAIL: independent reader rejects output"; fail=1; }
/usr/bin/python3 "$READER" "$D/charity_tf2/weights.100.hd5f" >"$T/tf.json" || fail=1
/usr/bin/python3 - "$H5" "$T/ours.json" "$T/tf.json" <<'PY' || fail=1
import json, sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
ours = {e["key"]: e for e in json.load(open(sys.argv[2]))["entries"]}
tf = {e["key"]: e for e in json.load(open(sys.argv[3]))["entries"]}
ok = True
# Every key we wrote is a key TF wrote for the same architecture, with the same dtype and shape.
for k, e in ours.items():
    if k not in tf or tf[k]["dtype"] != e["dtype"] or tf[k]["shape"] != e["shape"]:
        print("FAIL: key %s not as TF wrote it" % k); ok = False
# Values are the H5 datasets, element for element.
mw = f["model_weights"]
for i, layer in enumerate(["dense", "dense_1", "dense_2"]):
    for attr in ["kernel", "bias"]:
        ds = np.asarray(mw[layer][layer][attr + ":0"])
        got = np.asarray(ours["layer_with_weights-%d/%s/.ATTRIBUTES/VARIABLE_VALUE" % (i, attr)]["values"], dtype=np.float32)
        if not np.array_equal(ds.reshape(-1), got):
            print("FAIL: values of %s/%s" % (layer, attr)); ok = False
ow = f["optimizer_weights"]
m = np.asarray(ow["Adam"]["dense_1"]["kernel"]["m:0"]).reshape(-1)
got = np.asarray(ours["layer_with_weights-1/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE"]["values"], dtype=np.float32)
if not np.array_equal(m, got):
    print("FAIL: optimizer slot values"); ok = False
it = int(np.asarray(ow["Adam"]["iter:0"]))
if ours["optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE"]["values"] != [it]:
    print("FAIL: iter"); ok = False
sys.exit(0 if ok else 1)
PY

# Overwrite protection (exit 5), --force replaces.
"$KMODEL" convert "$H5" "$T/out/ckpt" --to checkpoint >"$T/log" 2>&1; rc=$?
[ "$rc" = 5 ] || { echo "FAIL: overwrite without --force -> rc=$rc"; fail=1; }
"$KMODEL" convert "$H5" "$T/out/ckpt" --to checkpoint --force >"$T/log" 2>&1 || { echo "FAIL: --force: $(cat "$T/log")"; fail=1; }
[ "$(ls -A "$T/out" | wc -l)" -eq 3 ] || { echo "FAIL: stray files after --force: $(ls -A "$T/out")"; fail=1; }

# checkpoint -> checkpoint: same keys, bit-identical tensors (sha256 of every payload).
for src in lso_ckpt_tf2_2:ckpt charity_tf2:weights.100.hd5f; do
  dir="${src%%:*}"; prefix="${src##*:}"
  mkdir -p "$T/rt/$dir"
  "$KMODEL" convert "$D/$dir" "$T/rt/$dir/ckpt" --to checkpoint >"$T/log" 2>&1 || { echo "FAIL: convert $dir: $(cat "$T/log")"; fail=1; continue; }
  /usr/bin/python3 "$READER" "$D/$dir/$prefix" >"$T/a.json" && /usr/bin/python3 "$READER" "$T/rt/$dir/ckpt" >"$T/b.json" || { echo "FAIL: reader on $dir"; fail=1; continue; }
  /usr/bin/python3 - "$T/a.json" "$T/b.json" "$dir" <<'PY' || fail=1
import json, sys
a = {e["key"]: e["sha256"] for e in json.load(open(sys.argv[1]))["entries"] if e["key"] != "_CHECKPOINTABLE_OBJECT_GRAPH"}
b = {e["key"]: e["sha256"] for e in json.load(open(sys.argv[2]))["entries"] if e["key"] != "_CHECKPOINTABLE_OBJECT_GRAPH"}
if a != b:
    print("FAIL: %s round trip differs: %s" % (sys.argv[3], set(a.items()) ^ set(b.items()))); sys.exit(1)
PY
done

# A directory destination writes <dir>/ckpt; a missing parent directory is an I/O error (exit 5).
mkdir "$T/dirdst"
"$KMODEL" convert "$D/lso_ckpt_tf2_2" "$T/dirdst" --to checkpoint >"$T/log" 2>&1 || { echo "FAIL: dir destination"; fail=1; }
[ -f "$T/dirdst/ckpt.index" ] || { echo "FAIL: dir destination did not write ckpt.index"; fail=1; }
"$KMODEL" convert "$D/lso_ckpt_tf2_2" "$T/nope/ckpt" --to checkpoint >"$T/log" 2>&1; rc=$?
[ "$rc" = 5 ] || { echo "FAIL: missing parent -> rc=$rc"; fail=1; }
exit $fail
