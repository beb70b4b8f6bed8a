#!/usr/bin/env bash
# Keras 3 .keras end to end: every corpus .keras inspects and loads; .keras -> .keras keeps config
# bytes and weights; H5 (Keras 1/2) -> .keras has bit-identical weights where an independent Python
# implementation of Keras 3's layout rules (snake_case(class) + counter, RNN cells) expects them;
# hostile archives exit 4 and write nothing; no overwrite without --force.
set -uo pipefail
KMODEL="$(cd "$(dirname "$KMODEL")" && pwd)/$(basename "$KMODEL")"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0
K3="$TESTDATA/keras_v3"
H5="$TESTDATA/h5"
CHECK="$SRC/tests/cli/keras3_check.py"

for f in "$K3"/*.keras; do
  "$KMODEL" inspect "$f" >"$T/inspect.txt" 2>"$T/err" || { echo "FAIL: inspect $f: $(cat "$T/err")"; fail=1; }
  "$KMODEL" load "$f" >/dev/null 2>"$T/err" || { echo "FAIL: load $f: $(cat "$T/err")"; fail=1; }
done
"$KMODEL" inspect "$K3/stock_rnn_model.keras" | grep -q "lstm_1 (LSTM)" || { echo "FAIL: inspect lists no lstm_1"; fail=1; }
"$KMODEL" inspect "$K3/qkeras_v3_3layer.keras" | grep -q "fc1 (QDense)" || { echo "FAIL: inspect lists no fc1"; fail=1; }
"$KMODEL" inspect "$K3/nested_container.keras" 2>/dev/null | grep -q "d_0 (Dense)" || { echo "FAIL: inspect lists no d_0"; fail=1; }

# .keras -> .keras
for f in "$K3"/*.keras; do
  b="$(basename "$f" .keras)"
  "$KMODEL" convert "$f" "$T/$b.keras" >/dev/null 2>"$T/err" || { echo "FAIL: convert $f: $(cat "$T/err")"; fail=1; continue; }
  /usr/bin/python3 "$CHECK" same-keras "$f" "$T/$b.keras" || { echo "FAIL: $b round trip differs"; fail=1; }
done

# H5 -> .keras: weights where Keras 3 would look for them, bit for bit.
for f in fml_keras_3layer_h5__keras_3layer.h5 fml_keras_3layer_batch_norm_h5__keras_3layer_batch_norm.h5 \
         fml_keras_conv1d_small_h5__keras_conv1d_small.h5 fml_keras_jetTagger_conv2d_small_h5__keras_jetTagger_Conv2D_small.h5 \
         dl4j_simple_lstm_tf_keras_2_io__simple_lstm_tf_keras_2_model.h5 hls4ml_KERAS_gru_json_weights__KERAS_gru_model_weights.h5 \
         hls4ml_KERAS_lstm_json_weights__KERAS_lstm_model_weights.h5 dl4j_tfkeras_issue_9349_functional_adam__issue_9349.hdf5 \
         dl4j_tfkeras_cnn2d_40__cnn2d_40.h5 signature_siamese_lstm_h5__siamese_model.h5 fml_hgq_jet_classifier_h5__hgq_jet_classifier.h5; do
  "$KMODEL" convert "$H5/$f" "$T/$f.keras" >/dev/null 2>"$T/err" || { echo "FAIL: convert $f: $(cat "$T/err")"; fail=1; continue; }
  /usr/bin/python3 "$CHECK" h5-vs-keras "$H5/$f" "$T/$f.keras" || { echo "FAIL: $f weights/layout"; fail=1; }
  "$KMODEL" load "$T/$f.keras" >/dev/null 2>"$T/err" || { echo "FAIL: load $f.keras: $(cat "$T/err")"; fail=1; }
done

# Every full-model H5 and Keras SavedModel fixture -> .keras: diff-weights says SAME. Custom layer classes
# keep their variables in order only (Keras 3 files do not name variables), so those pair by order.
same() {  # same A B [diff-weights options...]
  local a="$1" b="$2"; shift 2
  "$KMODEL" diff-weights "$@" "$a" "$b" >"$T/diff" 2>&1 || { echo "FAIL: diff-weights $* $a $b: $(tail -3 "$T/diff")"; fail=1; }
}
# And back: .keras -> H5 is SAME as the original too. Keras 1 files hold per-gate LSTM/GRU arrays that
# Keras (and so the .keras writer) merges into kernel/recurrent_kernel/bias; diff-weights compares
# a Keras 1 file as Keras loads it and says so in a note. Weights-only H5 files have no architecture:
# they go to .keras with their JSON architecture (convert ARCH.json --weights W.h5), compared with
# the full H5 assembled from the same pair.
n_full=0 n_weights=0
for f in "$H5"/*.h5 "$H5"/*.hdf5; do
  b="$(basename "$f")"
  case "$b" in *space_to_depth*) continue;; esac                     # no weights at all
  src="$f" opt=()
  if "$KMODEL" inspect "$f" 2>/dev/null | head -1 | grep -q "weights only"; then
    arch=$(ls "$TESTDATA/json/${b%%__*}__"*.json 2>/dev/null | head -1)
    [ -n "$arch" ] || { echo "FAIL: no JSON architecture for weights-only $b"; fail=1; continue; }
    "$KMODEL" convert "$arch" --weights "$f" "$T/full_$b.h5" >/dev/null 2>"$T/err" || { echo "FAIL: assemble $b: $(cat "$T/err")"; fail=1; continue; }
    src="$T/full_$b.h5"
    "$KMODEL" convert "$arch" --weights "$f" "$T/d_$b.keras" >/dev/null 2>"$T/err" || { echo "FAIL: convert $b: $(cat "$T/err")"; fail=1; continue; }
    n_weights=$((n_weights + 1))
  else
    "$KMODEL" convert "$f" "$T/d_$b.keras" >/dev/null 2>"$T/err" || { echo "FAIL: convert $b: $(cat "$T/err")"; fail=1; continue; }
    n_full=$((n_full + 1))
  fi
  case "$b" in *garnet*|*hgq*|*proxy_jet*) opt=(--by order);; esac  # custom layers: Keras 3 names no variables
  same "$src" "$T/d_$b.keras" "${opt[@]}"
  "$KMODEL" convert "$T/d_$b.keras" "$T/back_$b.h5" >/dev/null 2>"$T/err" || { echo "FAIL: $b .keras -> h5: $(cat "$T/err")"; fail=1; continue; }
  same "$src" "$T/back_$b.h5" "${opt[@]}"
  case "$b" in *keras_1*|*keras1*)
    grep -q "note: A: .*Keras 1 per-gate weights (\(12\|24\) arrays) merged" "$T/diff" || { echo "FAIL: $b: no Keras 1 merge note"; fail=1; };;
  esac
done
[ "$n_full" -ge 30 ] && [ "$n_weights" -eq 13 ] || { echo "FAIL: expected >= 30 full and 13 weights-only H5 files, got $n_full and $n_weights"; fail=1; }
for d in kerasteam_lso_savedmodel_tf2_2 tfnet_lstm_from_sequential_savedmodel_keras tfnet_python_func_model_savedmodel_keras coffee_roast_savedmodel_keras; do
  "$KMODEL" convert "$TESTDATA/savedmodel/$d" "$T/$d.keras" >/dev/null 2>"$T/err" || { echo "FAIL: convert $d: $(cat "$T/err")"; fail=1; continue; }
  case "$d" in
    tfnet_python_func*) same "$TESTDATA/savedmodel/$d" "$T/$d.keras" --by order;;
    coffee_roast*)  # tf.keras Normalization's `count` has no Keras 3 variable: reported, the rest equal
      grep -q "count:0' has no Keras 3 variable" "$T/err" || { echo "FAIL: coffee_roast count not reported"; fail=1; }
      "$KMODEL" diff-weights "$TESTDATA/savedmodel/$d" "$T/$d.keras" >"$T/diff" 2>&1
      grep -q "6 equal, 0 within tolerance, 0 differ, 0 shape mismatch, 0 dtype mismatch, 1 only in A, 0 only in B" "$T/diff" ||
        { echo "FAIL: coffee_roast diff: $(tail -2 "$T/diff")"; fail=1; }
      # Back to tf.keras H5: Normalization gets its `count` again (tf.keras loads by position), initial value 0.
      "$KMODEL" convert "$T/$d.keras" "$T/cr_back.h5" >/dev/null 2>"$T/err" || { echo "FAIL: coffee_roast .keras -> h5"; fail=1; }
      grep -q "tf.keras variable 'count' has no Keras 3 counterpart" "$T/err" || { echo "FAIL: count re-creation not reported"; fail=1; }
      /usr/bin/python3 -c "
import h5py, sys
g = h5py.File(sys.argv[1])['model_weights/normalization']
names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs['weight_names']]
assert names == ['normalization/mean:0', 'normalization/variance:0', 'normalization/count:0'], names
c = g['normalization/count:0']
assert c.dtype == 'int64' and c.shape == () and c[()] == 0, (c.dtype, c.shape, c[()])" "$T/cr_back.h5" ||
        { echo "FAIL: coffee_roast back to H5 lacks Normalization count"; fail=1; }
      "$KMODEL" diff-weights "$TESTDATA/savedmodel/$d" "$T/cr_back.h5" >"$T/diff" 2>&1
      grep -q "7 weights: 6 equal, 0 within tolerance, 1 differ" "$T/diff" && grep -q "^differs  normalization/count" "$T/diff" ||
        { echo "FAIL: coffee_roast back diff: $(tail -2 "$T/diff")"; fail=1; };;
    *) same "$TESTDATA/savedmodel/$d" "$T/$d.keras";;
  esac
done
same "$K3/stock_rnn_model.keras" "$T/stock_rnn_model.keras" --optimizer

# Translated configs use the keys of a real Keras 3 archive for the same classes (InputLayer, LSTM,
# Dropout, Dense in the Keras 3.4.1 stock_rnn archive; compile_config and its optimizer).
for f in dl4j_simple_lstm_tf_keras_2_io__simple_lstm_tf_keras_2_model.h5 hls4ml_KERAS_lstm_json_weights__KERAS_lstm_model_weights.h5 \
         hls4ml_KERAS_gru_json_weights__KERAS_gru_model_weights.h5 fml_keras_3layer_h5__keras_3layer.h5; do
  "$KMODEL" convert --force "$H5/$f" "$T/kl.keras" >/dev/null 2>&1 || { echo "FAIL: convert $f"; fail=1; continue; }
  /usr/bin/python3 "$CHECK" keys-like "$K3/stock_rnn_model.keras" "$T/kl.keras" || { echo "FAIL: $f keys differ from real Keras 3"; fail=1; }
done

# .keras -> H5 -> .keras and H5 -> .keras -> H5: weights SAME at every step, layers unchanged.
for b in stock_rnn_model qkeras_v3_3layer; do
  "$KMODEL" convert "$K3/$b.keras" "$T/rt_$b.h5" >/dev/null 2>"$T/err" || { echo "FAIL: $b -> h5: $(cat "$T/err")"; fail=1; continue; }
  "$KMODEL" convert "$T/rt_$b.h5" "$T/rt_$b.keras" >/dev/null 2>"$T/err" || { echo "FAIL: $b h5 -> keras: $(cat "$T/err")"; fail=1; continue; }
  same "$K3/$b.keras" "$T/rt_$b.h5"
  same "$K3/$b.keras" "$T/rt_$b.keras"
  /usr/bin/python3 -c "import json,sys,zipfile
layers=lambda p: [(l['class_name'], l['config']['name']) for l in json.loads(zipfile.ZipFile(p).read('config.json'))['config']['layers']]
assert layers(sys.argv[1]) == layers(sys.argv[2]), (layers(sys.argv[1]), layers(sys.argv[2]))" "$K3/$b.keras" "$T/rt_$b.keras" ||
    { echo "FAIL: $b layers changed through H5"; fail=1; }
done
"$KMODEL" convert --weights-only "$K3/nested_container.keras" "$T/nested.h5" >/dev/null 2>&1 || { echo "FAIL: nested -> weights h5"; fail=1; }
same "$K3/nested_container.keras" "$T/nested.h5" --by order
for f in signature_siamese_lstm_h5__siamese_model.h5 dl4j_tfkeras_issue_9349_functional_adam__issue_9349.hdf5 fml_keras_3layer_batch_norm_h5__keras_3layer_batch_norm.h5; do
  "$KMODEL" convert "$H5/$f" "$T/b_$f.keras" >/dev/null 2>&1 && "$KMODEL" convert "$T/b_$f.keras" "$T/b_$f.h5" >/dev/null 2>"$T/err" ||
    { echo "FAIL: $f -> keras -> h5: $(cat "$T/err")"; fail=1; continue; }
  same "$H5/$f" "$T/b_$f.h5"
done

# No overwrite without --force (exit 5), with --force fine.
"$KMODEL" convert "$K3/qkeras_v3_3layer.keras" "$T/qkeras_v3_3layer.keras" >/dev/null 2>&1
rc=$?; [ "$rc" = 5 ] || { echo "FAIL: overwrite without --force gave rc=$rc"; fail=1; }
"$KMODEL" convert --force "$K3/qkeras_v3_3layer.keras" "$T/qkeras_v3_3layer.keras" >/dev/null 2>&1 || { echo "FAIL: --force"; fail=1; }

# Hostile archives: exit 4 with the entry named, nothing written outside.
/usr/bin/python3 "$K3/make_unsafe_zips.py" "$T/evil" >/dev/null
mkdir -p "$T/work/out"
for z in evil.keras; do
  (cd "$T/work/out" && "$KMODEL" convert "$T/evil/$z" "$T/work/out/x.keras" >/dev/null 2>"$T/err"); rc=$?
  [ "$rc" = 4 ] && grep -q "escape.txt" "$T/err" || { echo "FAIL: $z rc=$rc: $(cat "$T/err")"; fail=1; }
done
# Crafted zips that name config.json are claimed as .keras and refused with the reason.
for spec in "dotdot:'..' component" "duplicate:duplicate entry" "encrypted:encrypted entry"; do
  z="${spec%%:*}"; why="${spec#*:}"
  cp "$T/evil/$z.zip" "$T/evil/$z.keras"
  "$KMODEL" inspect "$T/evil/$z.keras" >/dev/null 2>"$T/err"; rc=$?
  [ "$rc" = 4 ] && grep -q -- "$why" "$T/err" || { echo "FAIL: $z.keras rc=$rc: $(cat "$T/err")"; fail=1; }
done
# Corrupt members: exit 4, one line naming the archive member.
/usr/bin/python3 - "$K3/stock_rnn_model.keras" "$T/evil" <<'PY'
import sys, zipfile
src, out = sys.argv[1], sys.argv[2]
zi = zipfile.ZipFile(src)
def make(name, members):
    with zipfile.ZipFile(out + "/" + name, "w") as zo:
        for k, v in members:
            zo.writestr(k, v)
meta, cfg, w = zi.read("metadata.json"), zi.read("config.json"), zi.read("model.weights.h5")
make("garbage_h5.keras", [("metadata.json", meta), ("config.json", cfg), ("model.weights.h5", b"garbage" * 100)])
make("truncated_h5.keras", [("metadata.json", meta), ("config.json", cfg), ("model.weights.h5", w[:500000])])
make("bad_json.keras", [("metadata.json", meta), ("config.json", b'{"class_name": ')])
PY
for spec in "garbage_h5:model.weights.h5" "truncated_h5:model.weights.h5" "bad_json:config.json"; do
  z="${spec%%:*}"; why="${spec#*:}"
  "$KMODEL" load "$T/evil/$z.keras" >/dev/null 2>"$T/err"; rc=$?
  [ "$rc" = 4 ] && grep -q -- "$why" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ] || { echo "FAIL: $z.keras rc=$rc: $(cat "$T/err")"; fail=1; }
done
[ -z "$(ls -A "$T/work/out")" ] || { echo "FAIL: files left in output dir: $(ls -A "$T/work/out")"; fail=1; }
[ ! -e "$T/work/escape.txt" ] && [ ! -e "$T/escape.txt" ] || { echo "FAIL: escape.txt written"; fail=1; }
exit $fail
