#!/usr/bin/env bash
# `kmodel predict` on image preprocessing layers, the cases without a numeric reference (those are in
# tests/tfjs/ref_layers.py): bilinear UpSampling2D refused (exit 3) for Keras versions whose resize
# convention is uncertain and run for the others, bad Resizing / CenterCrop / RandomCrop configs
# (exit 4 malformed, exit 3 unsupported or too large), and the output shapes `inspect` shows.
# Needs /usr/bin/python3 with h5py + numpy.
set -uo pipefail
: "${KMODEL:?}" "${SRC:?}"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0

# model NAME KERAS_VERSION ("" = none) INPUT_SHAPE_JSON LAYER_JSON: a one-layer Sequential H5.
model() {
  /usr/bin/python3 - "$SRC/tests/tfjs" "$T/$1.h5" "$2" "$3" "$4" <<'PYEOF'
import json, sys
import h5py
sys.path.insert(0, sys.argv[1])
from ref_layers import sequential, write_h5
path, version, shape, layer = sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), json.loads(sys.argv[5])
config = sequential(shape, [layer])
if version:
    config["keras_version"] = version
else:
    del config["keras_version"]
write_h5(path, config, [])
with h5py.File(path, "a") as f:
    if version:
        f.attrs["keras_version"] = version.encode()
    else:
        del f.attrs["keras_version"]
PYEOF
}
/usr/bin/python3 -c "import numpy as np; np.save('$T/x.npy', np.arange(2*5*6*2, dtype=np.float32).reshape(2, 5, 6, 2))"

# expect CODE MESSAGE_SUBSTRING ("" = any) MODEL: predict MODEL on x.npy
expect() {
  local code="$1" needle="$2" name="$3"
  "$KMODEL" predict "$T/$name.h5" -i "$T/x.npy" -o "$T/$name.out.npy" >"$T/out" 2>"$T/err"
  local rc=$?
  if [ "$rc" != "$code" ] || { [ -n "$needle" ] && ! grep -q -- "$needle" "$T/err"; }; then
    echo "FAIL: predict $name -> rc=$rc (want $code, '$needle'), stderr: $(cat "$T/err")"; fail=1
  fi
}
SHAPE='[5, 6, 2]'
UP='{"class_name": "UpSampling2D", "config": {"name": "up", "size": [2, 2], "interpolation": "bilinear"}}'

# Bilinear UpSampling2D: refused where the half-pixel convention is not certain ...
model up_keras224 "2.2.4" "$SHAPE" "$UP"
expect 3 'half-pixel' up_keras224
expect 3 '"2.2.4"' up_keras224
model up_tfkeras224 "2.2.4-tf" "$SHAPE" "$UP"
expect 3 'only Keras 3 and tf.keras >= 2.3' up_tfkeras224
model up_standalone231 "2.3.1" "$SHAPE" "$UP"
expect 3 'half-pixel' up_standalone231
model up_noversion "" "$SHAPE" "$UP"
expect 3 'unknown version' up_noversion
# ... and run for tf.keras >= 2.3 and Keras 3 (values: tests/tfjs ref_upsampling2d_bilinear).
model up_tfkeras230 "2.3.0-tf" "$SHAPE" "$UP"
expect 0 '' up_tfkeras230
model up_keras3 "3.4.1" "$SHAPE" "$UP"
expect 0 '' up_keras3
/usr/bin/python3 -c "import numpy as np; assert np.load('$T/up_keras3.out.npy').shape == (2, 10, 12, 2)" ||
  { echo "FAIL: bilinear UpSampling2D output shape"; fail=1; }
model up_huge "2.15.0" "$SHAPE" '{"class_name": "UpSampling2D", "config": {"name": "up", "size": [65536, 65536], "interpolation": "bilinear"}}'
expect 3 'limit' up_huge
model up_bicubic "2.15.0" "$SHAPE" '{"class_name": "UpSampling2D", "config": {"name": "up", "size": 2, "interpolation": "bicubic"}}'
expect 3 'bicubic' up_bicubic

# Resizing / CenterCrop / RandomCrop configs
resizing() { echo "{\"class_name\": \"Resizing\", \"config\": {\"name\": \"rs\"$1}}"; }
model rs_no_height "2.15.0" "$SHAPE" "$(resizing ', "width": 4')"
expect 4 'no "height"' rs_no_height
model rs_zero "2.15.0" "$SHAPE" "$(resizing ', "height": 0, "width": 4')"
expect 4 'positive integer' rs_zero
model rs_fraction "2.15.0" "$SHAPE" "$(resizing ', "height": 2.5, "width": 4')"
expect 4 'positive integer' rs_fraction
model rs_side_huge "2.15.0" "$SHAPE" "$(resizing ', "height": 1e9, "width": 4')"
expect 3 'limit' rs_side_huge
model rs_total_huge "2.15.0" "$SHAPE" "$(resizing ', "height": 65536, "width": 65536')"
expect 3 'limit' rs_total_huge
model rs_bicubic "2.15.0" "$SHAPE" "$(resizing ', "height": 3, "width": 4, "interpolation": "bicubic"')"
expect 3 'interpolation "bicubic"' rs_bicubic
model rs_lanczos "3.4.1" "$SHAPE" "$(resizing ', "height": 3, "width": 4, "interpolation": "lanczos3"')"
expect 3 'lanczos3' rs_lanczos
model rs_pad "3.4.1" "$SHAPE" "$(resizing ', "height": 3, "width": 4, "pad_to_aspect_ratio": true')"
expect 3 'pad_to_aspect_ratio' rs_pad
model cc_no_width "2.15.0" "$SHAPE" '{"class_name": "CenterCrop", "config": {"name": "cc", "height": 3}}'
expect 4 'no "width"' cc_no_width
model cc_negative "2.15.0" "$SHAPE" '{"class_name": "CenterCrop", "config": {"name": "cc", "height": -3, "width": 2}}'
expect 4 'positive integer' cc_negative
model crop_other_size "2.15.0" "$SHAPE" '{"class_name": "RandomCrop", "config": {"name": "crop", "height": 3, "width": 3}}'
expect 3 'RandomCrop of a 5x6 input' crop_other_size
model crop_same_size "2.15.0" "$SHAPE" '{"class_name": "RandomCrop", "config": {"name": "crop", "height": 5, "width": 6}}'
expect 0 '' crop_same_size
/usr/bin/python3 -c "import numpy as np; assert (np.load('$T/crop_same_size.out.npy') == np.load('$T/x.npy')).all()" ||
  { echo "FAIL: RandomCrop of the target size is not the identity"; fail=1; }

# inspect: output shapes (channels_first keeps the channel axis first)
model rs_cf "3.4.1" '[2, 5, 6]' "$(resizing ', "height": 3, "width": 4, "data_format": "channels_first"')"
"$KMODEL" inspect "$T/rs_cf.h5" | grep -q 'rs (Resizing) *(None, 2, 3, 4)' || { echo "FAIL: inspect Resizing channels_first shape"; fail=1; }
"$KMODEL" inspect "$T/crop_other_size.h5" | grep -q 'crop (RandomCrop) *(None, 3, 3, 2)' || { echo "FAIL: inspect RandomCrop shape"; fail=1; }
model flip "2.15.0" "$SHAPE" '{"class_name": "RandomFlip", "config": {"name": "flip", "mode": "horizontal"}}'
"$KMODEL" inspect "$T/flip.h5" | grep -q 'flip (RandomFlip) *(None, 5, 6, 2)' || { echo "FAIL: inspect RandomFlip shape"; fail=1; }

[ "$fail" = 0 ] && echo "predict_preprocessing: ok"
exit "$fail"
