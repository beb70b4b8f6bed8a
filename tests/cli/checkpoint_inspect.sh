#!/usr/bin/env bash
# `kmodel inspect` on every checkpoint and SavedModel variables/ bundle in testdata lists exactly the
# variables, dtypes and shapes that an independent parse (tests/tools/bundle_reader.py) finds; --tree,
# --stats, --json; the legacy V1 format is listed too.
set -uo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0
READER="$SRC/tests/tools/bundle_reader.py"
D="$TESTDATA/checkpoint"

compare() {  # compare PATH_FOR_KMODEL PREFIX_FOR_READER
  if ! "$KMODEL" inspect --json "$1" >"$T/k.json" 2>"$T/err"; then
    echo "FAIL: kmodel inspect $1: $(cat "$T/err")"; fail=1; return
  fi
  if ! /usr/bin/python3 "$READER" "$2" >"$T/p.json" 2>"$T/perr"; then
    echo "FAIL: bundle_reader $2: $(cat "$T/perr")"; fail=1; return
  fi
  /usr/bin/python3 - "$T/k.json" "$T/p.json" "$1" <<'PY' || fail=1
import json, sys
k = json.load(open(sys.argv[1]))["checkpoint"]
p = json.load(open(sys.argv[2]))
ours = [(v["name"], v["dtype"], v["shape"], v["bytes"], v["shard"]) for v in k["variables"]]
theirs = [(e["key"], e["dtype"], e["shape"], e["size"], e["shard"]) for e in p["entries"]]
if ours != sorted(theirs) or not ours:
    print("FAIL: %s: kmodel %s != independent %s" % (sys.argv[3], ours, theirs)); sys.exit(1)
if k["num_shards"] != p["num_shards"] or k["totals"]["count"] != len(theirs):
    print("FAIL: %s: shard/count mismatch" % sys.argv[3]); sys.exit(1)
if k["object_based"] != ("object_graph" in p):
    print("FAIL: %s: object_based flag" % sys.argv[3]); sys.exit(1)
PY
}

compare "$D/lso_ckpt_tf2_2" "$D/lso_ckpt_tf2_2/ckpt"
compare "$D/lso_ckpt_tf2_2/ckpt" "$D/lso_ckpt_tf2_2/ckpt"
compare "$D/lso_ckpt_tf2_2/ckpt.index" "$D/lso_ckpt_tf2_2/ckpt"
compare "$D/charity_tf2" "$D/charity_tf2/weights.100.hd5f"
compare "$D/tfonnx_regression_tf1" "$D/tfonnx_regression_tf1/model"
n=0
for d in "$D"/savedmodel_variables/*/; do
  compare "$d" "${d}variables"; n=$((n + 1))
done
[ "$n" -eq 11 ] || { echo "FAIL: expected 11 SavedModel variables/ bundles, found $n"; fail=1; }

# Text report: sorted variable map, totals, slots grouped under their variable.
"$KMODEL" inspect "$D/charity_tf2" >"$T/out" 2>"$T/err" || { echo "FAIL: inspect charity"; fail=1; }
grep -q "Total: 24 variables, 74773 bytes" "$T/out" || { echo "FAIL: charity totals"; fail=1; }
grep -A2 "^  layer_with_weights-2/kernel/.ATTRIBUTES/VARIABLE_VALUE$" "$T/out" | grep -q "optimizer/m .*float32 (30, 1)" \
  || { echo "FAIL: charity slots not grouped under their variable"; cat "$T/out"; fail=1; }
# --tree shows the object graph, --stats reads values (kernel min/max from the file).
"$KMODEL" inspect --tree --stats "$D/lso_ckpt_tf2_2" >"$T/tree" 2>"$T/err" || { echo "FAIL: --tree --stats"; fail=1; }
grep -q "layer_with_weights-0 \[1\]" "$T/tree" || { echo "FAIL: --tree"; fail=1; }
grep -q "slot momentum -> \[13\]" "$T/tree" || { echo "FAIL: --tree slots"; fail=1; }
grep -q "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE .*9.22968 / 10.9011" "$T/tree" || { echo "FAIL: --stats"; fail=1; }
"$KMODEL" inspect --json --stats "$D/lso_ckpt_tf2_2" | /usr/bin/python3 -c '
import json, sys
v = {x["name"]: x for x in json.load(sys.stdin)["checkpoint"]["variables"]}
s = v["optimizer/loss_scale/current_loss_scale/.ATTRIBUTES/VARIABLE_VALUE"]["stats"]
assert s["min"] == 32768.0 and s["std"] == 0.0, s
' || { echo "FAIL: --json --stats"; fail=1; }
# --arch names the layers.
"$KMODEL" inspect --arch "$D/charity_tf2_arch.json" "$D/charity_tf2" >"$T/arch" 2>"$T/err" || { echo "FAIL: --arch: $(cat "$T/err")"; fail=1; }
grep -q "dense_1 (Dense)" "$T/arch" || { echo "FAIL: --arch layer names"; cat "$T/arch"; fail=1; }

# Legacy V1 (absolute path in the state file from the saving machine): listed like the independent
# parse of its metadata entry, values by --stats.
"$KMODEL" inspect --json --stats "$D/v1_bad_half_plus_two" >"$T/k.json" 2>"$T/err" || { echo "FAIL: V1: $(cat "$T/err")"; fail=1; }
/usr/bin/python3 "$READER" --v1 "$D/v1_bad_half_plus_two/export" >"$T/p.json" || { echo "FAIL: reader --v1"; fail=1; }
/usr/bin/python3 - "$T/k.json" "$T/p.json" <<'PY' || fail=1
import json, sys
k = json.load(open(sys.argv[1]))["checkpoint"]
p = json.load(open(sys.argv[2]))["entries"]
ours = [(v["name"], v["dtype"], v["shape"], v["stats"]["min"]) for v in k["variables"]]
theirs = [(e["key"], e["dtype"], e["shape"], e["values"][0]) for e in p]
if ours != theirs or len(ours) != 2 or k["format"] != "v1":
    print("FAIL: V1 listing %s != %s" % (ours, theirs)); sys.exit(1)
PY
exit $fail
