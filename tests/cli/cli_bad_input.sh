#!/usr/bin/env bash
# Bad input gets a one-line error naming the file, the documented exit code, and no output file.
set -uo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0
# expect CODE MESSAGE_SUBSTRING -- kmodel args...
expect() {
  local code="$1" needle="$2"; shift 3
  "$KMODEL" "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  local lines; lines=$(wc -l <"$T/err")
  if [ "$rc" != "$code" ] || ! grep -q -- "$needle" "$T/err" || [ "$lines" -ne 1 ]; then
    echo "FAIL: kmodel $* -> rc=$rc (want $code), stderr: $(cat "$T/err")"; fail=1
  fi
  if [ -e "$T/out.h5" ]; then echo "FAIL: output written for: kmodel $*"; fail=1; rm -f "$T/out.h5"; fi
}
GOOD="$TESTDATA/h5/fml_keras_3layer_h5__keras_3layer.h5"
head -c 5000 "$GOOD" >"$T/truncated.h5"
printf 'this is not hdf5\n' >"$T/text.h5"
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 12345\n' >"$T/lfs.h5"
printf '{"name": "x", "values": [1, 2]}' >"$T/notmodel.json"
printf '{"class_name": "Sequential", "config": {"layers": 3}}' >"$T/badmodel.json"
/usr/bin/python3 -c "import h5py; h5py.File('$T/plain.h5','w').create_dataset('x', data=[1,2,3])"
: >"$T/empty.h5"
mkdir "$T/emptydir"

expect 4 "truncated.h5" -- inspect "$T/truncated.h5"
expect 4 "truncated.h5" -- convert "$T/truncated.h5" "$T/out.h5"
expect 4 "not a Keras" -- inspect "$T/text.h5"
expect 4 "Git LFS pointer" -- load "$T/lfs.h5"
expect 4 "without Keras attributes" -- convert "$T/plain.h5" "$T/out.h5"
expect 4 "empty" -- inspect "$T/empty.h5"
expect 4 "not a Keras" -- inspect "$T/notmodel.json"
expect 4 "badmodel.json" -- convert "$T/badmodel.json" "$T/out.h5"
expect 4 "emptydir" -- inspect "$T/emptydir"
expect 5 "no such file" -- inspect "$T/missing.h5"
expect 2 "format" -- convert "$GOOD" "$T/out.unknownext"
# An existing output is never overwritten without --force, and keeps its content.
printf 'precious' >"$T/exists.h5"
expect 5 "already exists" -- convert "$GOOD" "$T/exists.h5"
if [ "$(cat "$T/exists.h5")" != "precious" ]; then echo "FAIL: existing output modified"; fail=1; fi
"$KMODEL" -q convert "$GOOD" "$T/exists.h5" --force || { echo "FAIL: --force did not replace"; fail=1; }
# No temp files are left behind.
if ls -A "$T" | grep -q kmodel-tmp; then echo "FAIL: temp files left: $(ls -A "$T")"; fail=1; fi
# A name without an extension is a SavedModel directory, as in Keras' model.save("my_model").
"$KMODEL" convert "$GOOD" "$T/my_model" >"$T/out" 2>"$T/err" || { echo "FAIL: convert to my_model: $(cat "$T/err")"; fail=1; }
grep -q "format savedmodel" "$T/out" || { echo "FAIL: my_model not chosen as savedmodel: $(cat "$T/out")"; fail=1; }
[ -f "$T/my_model/saved_model.pb" ] || { echo "FAIL: no saved_model.pb in my_model"; fail=1; }
[ "$fail" = 0 ] && echo "bad input ok"
exit "$fail"
