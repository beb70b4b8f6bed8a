#!/usr/bin/env bash
# Every corpus H5 file: convert H5 -> H5 (and -> weights-only H5, and -> JSON + weights -> H5) with
# kmodel, then check with h5py (an independent reader) that attributes, layer/weight orders, dtypes,
# shapes and bytes are identical; `kmodel load` passes on every output; param counts from
# `inspect --json` equal h5py's count.
set -euo pipefail
PY=/usr/bin/python3
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
n=0
: >"$T/pairs"
: >"$T/params"
: >"$T/configs"
for f in "$TESTDATA"/h5/*.h5 "$TESTDATA"/h5/*.hdf5; do
  b="$(basename "$f" .h5)"
  "$KMODEL" -q convert "$f" "$T/$b.h5" --to h5
  echo "$f $T/$b.h5" >>"$T/pairs"
  "$KMODEL" -q convert "$f" "$T/$b.w.h5" --weights-only
  echo "$f $T/$b.w.h5 weights-only" >>"$T/pairs"
  "$KMODEL" load "$T/$b.h5" >/dev/null
  "$KMODEL" inspect --json "$f" >"$T/$b.inspect.json"
  echo "$f $T/$b.inspect.json" >>"$T/params"
  if "$KMODEL" -q convert "$f" "$T/$b.json" 2>/dev/null; then
    "$KMODEL" -q convert "$T/$b.json" "$T/$b.rebuilt.h5" --weights "$T/$b.w.h5"
    echo "$T/$b.w.h5 $T/$b.rebuilt.h5 weights-only" >>"$T/pairs"
    echo "$f $T/$b.rebuilt.h5" >>"$T/configs"
  fi
  n=$((n + 1))
done
$PY "$SRC/tests/tools/h5_compare.py" --batch "$T/pairs"
$PY - "$T/params" "$T/configs" "$SRC/tests/tools" <<'PYEOF'
import json, math, subprocess, sys
import h5py
sys.path.insert(0, sys.argv[3])
from h5_compare import str_list  # independent h5py reader helpers
def h5py_params(path):
    with h5py.File(path, "r") as f:
        g = f if ("layer_names" in f.attrs or "layer_names0" in f.attrs) else f["model_weights"]
        return sum(math.prod(g[l][w].shape) for l in str_list(g, "layer_names") for w in str_list(g[l], "weight_names") or [])
for line in open(sys.argv[1]):
    h5, js = line.split()
    d = json.load(open(js))
    got = sum(math.prod(w["shape"]) for l in d["layers"] for w in l["weights"])
    assert got == h5py_params(h5), f"{h5}: params kmodel {got} vs h5py {h5py_params(h5)}"
    assert d["totals"]["params"] >= got, f"{h5}: totals.params smaller than the weights present"
dec = lambda v: json.loads(v.decode() if isinstance(v, bytes) else v)
nconf = 0
for line in open(sys.argv[2]):
    a, b = line.split()
    assert dec(h5py.File(a, "r").attrs["model_config"]) == dec(h5py.File(b, "r").attrs["model_config"]), a
    nconf += 1
print(f"params and configs ok ({nconf} rebuilt from JSON + weights)")
PYEOF
echo "h5 round trip ok: $n files"
[ "$n" -ge 44 ]
