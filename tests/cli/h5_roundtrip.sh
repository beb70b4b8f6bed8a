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
for f in "$TESTDATA"/h5/*.h5; do
  b="$(basename "$f" .h5)"
  "$KMODEL" -q convert "$f" "$T/$b.h5" --to h5
  $PY "$SRC/tests/tools/h5_compare.py" "$f" "$T/$b.h5" >/dev/null
  "$KMODEL" -q convert "$f" "$T/$b.w.h5" --weights-only
  $PY "$SRC/tests/tools/h5_compare.py" "$f" "$T/$b.w.h5" --weights-only-b >/dev/null
  "$KMODEL" load "$T/$b.h5" >/dev/null
  want="$($PY "$SRC/tests/tools/h5_params.py" "$f")"
  got="$("$KMODEL" inspect --json "$f" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(sum(w["shape"] and __import__("math").prod(w["shape"]) or (1 if w["shape"]==[] else 0) for l in d["layers"] for w in l["weights"]))')"
  if [ "$want" != "$got" ]; then echo "param count mismatch for $f: h5py $want, kmodel $got"; exit 1; fi
  if $PY -c "import h5py,sys; sys.exit(0 if 'model_config' in h5py.File('$f','r').attrs else 1)"; then
    "$KMODEL" -q convert "$f" "$T/$b.json"
    "$KMODEL" -q convert "$T/$b.json" "$T/$b.rebuilt.h5" --weights "$T/$b.w.h5"
    $PY "$SRC/tests/tools/h5_compare.py" "$T/$b.w.h5" "$T/$b.rebuilt.h5" --weights-only-b >/dev/null
    # The rebuilt file carries the same model_config.
    $PY - "$f" "$T/$b.rebuilt.h5" <<'PYEOF'
import h5py, json, sys
a, b = (h5py.File(p, "r").attrs["model_config"] for p in sys.argv[1:3])
dec = lambda v: json.loads(v.decode() if isinstance(v, bytes) else v)
assert dec(a) == dec(b), "model_config differs after JSON + weights rebuild"
PYEOF
  fi
  n=$((n + 1))
done
echo "h5 round trip ok: $n files"
[ "$n" -ge 40 ]
