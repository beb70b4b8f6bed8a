#!/usr/bin/env bash
# End-to-end `kmodel predict`: real corpus models against the predictions Keras stored beside them,
# every input/output file kind, --batch-size, named inputs, and the error exits (2 usage, 3 Lambda,
# 5 existing output). Needs /usr/bin/python3 with h5py + numpy for fixtures and comparisons.
set -euo pipefail
: "${KMODEL:?}" "${TESTDATA:?}"
PY=/usr/bin/python3
D="$TESTDATA/predict"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Fixtures: inputs and Keras predictions from the *_inputs_and_outputs.h5 files, as .npy
$PY - "$D" "$T" <<'PYEOF'
import sys, h5py, numpy as np, glob, os
d, t = sys.argv[1], sys.argv[2]
for f in glob.glob(d + "/*_inputs_and_outputs.h5"):
    stem = os.path.basename(f)[:-len("_inputs_and_outputs.h5")]
    h = h5py.File(f, "r")
    if "predictions" not in h: continue
    (k,) = list(h["inputs"]); np.save(f"{t}/{stem}.in.npy", h["inputs"][k][()])
    (k,) = list(h["predictions"]); np.save(f"{t}/{stem}.want.npy", h["predictions"][k][()])
PYEOF

compare() {  # compare GOT.npy WANT.npy
  $PY - "$1" "$2" <<'PYEOF' || fail "values differ: $1 vs $2"
import sys, numpy as np
g, w = np.load(sys.argv[1]), np.load(sys.argv[2])
assert g.shape == w.shape, (g.shape, w.shape)
assert g.dtype == np.float32
err = np.abs(g - w); tol = np.maximum(1e-5 * np.abs(w), 1e-6)
assert (err <= tol).all(), float(err.max())
PYEOF
}

n=0
for want in "$T"/*.want.npy; do
  stem=$(basename "$want" .want.npy)
  "$KMODEL" predict "$D/${stem}_model.h5" -i "$T/$stem.in.npy" -o "$T/$stem.got.npy" >/dev/null
  compare "$T/$stem.got.npy" "$want"
  n=$((n + 1))
done
[ "$n" -ge 6 ] || fail "expected at least 6 corpus models with predictions, ran $n"

M="$D/LeakyReLU_0_model.h5"
X="$T/LeakyReLU_0.in.npy"
# --batch-size 1 gives the same values
"$KMODEL" predict "$M" -i "$X" -o "$T/b1.npy" --batch-size 1 >/dev/null
compare "$T/b1.npy" "$T/LeakyReLU_0.want.npy"
# named input, .npz output with the output layer's name, JSON output, table on stdout
"$KMODEL" predict "$M" -i "dense_input=$X" -o "$T/o.npz" >/dev/null
$PY -c "import numpy as np,sys; z=np.load('$T/o.npz'); assert list(z)==['leaky_re_lu_1'], list(z); np.save('$T/z.npy', z['leaky_re_lu_1'])"
compare "$T/z.npy" "$T/LeakyReLU_0.want.npy"
"$KMODEL" predict "$M" -i "$X" -o "$T/o.json" >/dev/null
$PY -c "import json,numpy as np; d=json.load(open('$T/o.json')); np.save('$T/j.npy', np.array(d['leaky_re_lu_1'],dtype=np.float32))"
compare "$T/j.npy" "$T/LeakyReLU_0.want.npy"
"$KMODEL" predict "$M" -i "$X" > "$T/table.txt"
grep -q '^leaky_re_lu_1 (2, 32)$' "$T/table.txt" || fail "table header missing"
[ "$(grep -c '^  \[' "$T/table.txt")" = 2 ] || fail "table should have 2 rows"
# JSON and CSV inputs, float64 .npy input
$PY -c "import numpy as np,json; x=np.load('$X'); json.dump(x.tolist(), open('$T/x.json','w')); np.savetxt('$T/x.csv', x, delimiter=','); np.save('$T/x64.npy', x.astype(np.float64))"
for in in x.json x.csv x64.npy; do
  "$KMODEL" predict "$M" -i "$T/$in" -o "$T/from_$in.npy" >/dev/null
  compare "$T/from_$in.npy" "$T/LeakyReLU_0.want.npy"
done

# hls4ml conv2d_1layer: .dat rows reshaped to (2, 5, 5, 1)
$PY -c "import numpy as np; np.save('$T/hls.npy', np.loadtxt('$D/tb_input_features.dat').reshape(2,5,5,1).astype(np.float32)); np.save('$T/hls_want.npy', np.loadtxt('$D/tb_output_predictions.dat').reshape(2,3,3,1).astype(np.float32))"
"$KMODEL" predict "$D/conv2d_1layer.h5" -i "$T/hls.npy" -o "$T/hls_got.npy" >/dev/null
compare "$T/hls_got.npy" "$T/hls_want.npy"

# Errors: wrong shape (2), existing output (5), unknown input name (2), custom layer (3)
set +e
"$KMODEL" predict "$M" -i "$T/hls.npy" > /dev/null 2> "$T/err"; rc=$?
[ $rc = 2 ] || fail "shape mismatch exit $rc"
grep -q 'expects (None, 16)' "$T/err" || fail "shape message: $(cat "$T/err")"
"$KMODEL" predict "$M" -i "$X" -o "$T/b1.npy" > /dev/null 2>&1; rc=$?
[ $rc = 5 ] || fail "existing output exit $rc"
"$KMODEL" predict "$M" -i "nope=$X" > /dev/null 2> "$T/err"; rc=$?
[ $rc = 2 ] || fail "unknown input name exit $rc"
grep -q 'dense_input' "$T/err" || fail "unknown input message should list dense_input"
"$KMODEL" predict "$D/garnet_1layer.json" --weights "$D/garnet_1layer_weights.h5" -i "$X" > /dev/null 2> "$T/err"; rc=$?
[ $rc = 3 ] || fail "GarNet exit $rc"
grep -q 'gar_1.*GarNet' "$T/err" || fail "GarNet message: $(cat "$T/err")"
set -e
echo "predict_cli: ok ($n corpus models)"
