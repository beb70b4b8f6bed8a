#!/usr/bin/env bash
# Keras 3 archives -> H5: the H5 gets a Keras 2 dialect model_config (no module/registered_name,
# InputLayer batch_input_shape) and a legacy training_config, checked with h5py; the weights are the
# same as in the archive (kmodel diff-weights exit 0); the H5 loads.
set -euo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
n=0
for f in "$TESTDATA"/keras_v3/qkeras_v3_3layer.keras "$TESTDATA"/keras_v3/stock_rnn_model.keras; do
  b="$(basename "$f" .keras)"
  "$KMODEL" -q convert "$f" "$T/$b.h5" 2>/dev/null
  "$KMODEL" load "$T/$b.h5" >/dev/null
  "$KMODEL" -q diff-weights "$f" "$T/$b.h5" >/dev/null
  /usr/bin/python3 - "$T/$b.h5" <<'PYEOF'
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
dec = lambda v: json.loads(v.decode() if isinstance(v, bytes) else v)
mc = dec(f.attrs["model_config"])
assert set(mc) == {"class_name", "config"}, mc.keys()
text = json.dumps(mc)
assert '"module"' not in text and '"registered_name"' not in text, "Keras 3 keys left in model_config"
layers = mc["config"]["layers"]
inputs = [l for l in layers if l["class_name"] == "InputLayer"]
assert not inputs or "batch_input_shape" in inputs[0]["config"], inputs
if "training_config" in f.attrs:
    tc = dec(f.attrs["training_config"])
    assert "optimizer_config" in tc and "class_name" in tc["optimizer_config"], tc
PYEOF
  n=$((n + 1))
done
echo "keras3 -> h5 ok: $n archives"
