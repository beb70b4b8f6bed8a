#!/usr/bin/env bash
# Attention / MultiHeadAttention call arguments that change the result: use_causal_mask (a call
# argument since tf.keras 2.10) is honoured (the output differs from the non-causal call's), and
# return_attention_scores or explicit mask= arguments, which kmodel does not compute, are refused by
# name (exit 3) instead of being ignored.
set -euo pipefail
: "${KMODEL:?}"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
make_model() {  # $1 = JSON text of the MHA call kwargs, $2 = output H5
  /usr/bin/python3 - "$1" "$T/m.json" <<'PYEOF'
import json, sys
kw = json.loads(sys.argv[1])
kw["value"] = ["x", 0, 0]
model = {"class_name": "Functional", "keras_version": "2.15.0", "backend": "tensorflow", "config": {"name": "m",
  "layers": [
    {"class_name": "InputLayer", "name": "x", "inbound_nodes": [], "config": {"batch_input_shape": [None, 5, 4], "name": "x"}},
    {"class_name": "MultiHeadAttention", "name": "mha", "inbound_nodes": [[["x", 0, 0, kw]]],
     "config": {"name": "mha", "num_heads": 2, "key_dim": 3, "value_dim": 3, "dropout": 0.0, "use_bias": True,
                "output_shape": None, "attention_axes": [1],
                "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
                "bias_initializer": {"class_name": "RandomUniform", "config": {"minval": -0.5, "maxval": 0.5, "seed": None}}}}],
  "input_layers": [["x", 0, 0]], "output_layers": [["mha", 0, 0]]}}
json.dump(model, open(sys.argv[2], "w"))
PYEOF
  "$KMODEL" -q save --arch "$T/m.json" --init 5 -o "$2"
}
/usr/bin/python3 -c "import numpy as np; np.save('$T/x.npy', np.random.default_rng(2).uniform(-1, 1, (2, 5, 4)).astype(np.float32))"
make_model '{}' "$T/plain.h5"
make_model '{"use_causal_mask": true}' "$T/causal.h5"
"$KMODEL" -q predict "$T/plain.h5" -i "$T/x.npy" -o "$T/plain.npy"
"$KMODEL" -q predict "$T/causal.h5" -i "$T/x.npy" -o "$T/causal.npy"
/usr/bin/python3 - "$T/plain.npy" "$T/causal.npy" <<'PYEOF'
import sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
# Same weights (same seed and names): the last query step sees every value either way, the first
# only itself when causal.
assert np.allclose(a[:, -1], b[:, -1], atol=1e-6), "last step should not change"
assert not np.allclose(a[:, 0], b[:, 0], atol=1e-4), "use_causal_mask was ignored"
PYEOF
for kw in '{"return_attention_scores": true}' '{"attention_mask": null, "query_mask": [["x", 0, 0]]}'; do
  make_model "$kw" "$T/r.h5"
  set +e
  "$KMODEL" predict "$T/r.h5" -i "$T/x.npy" -o "$T/r.npy" 2> "$T/err"; rc=$?
  set -e
  [ "$rc" -eq 3 ] || { echo "FAIL: $kw gave exit $rc"; cat "$T/err"; exit 1; }
  grep -q "return_attention_scores\|explicit 'query_mask'" "$T/err"
  [ ! -e "$T/r.npy" ]
  rm -f "$T/r.h5"
done
echo "attention call arguments ok"
