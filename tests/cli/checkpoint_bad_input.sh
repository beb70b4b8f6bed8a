#!/usr/bin/env bash
# Corrupt or hostile checkpoints: a one-line error naming the file (and the key where there is one),
# exit code 4 (bad input), no crash, no huge allocation. Tensor data corruption is found when data is
# read (`load`, `inspect --stats`, `convert`); index-level problems already on `inspect`.
set -uo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
fail=0
D="$TESTDATA/checkpoint"
CORRUPT="$SRC/tests/tools/corrupt_bundle.py"
KERNEL="layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"

fresh() { rm -rf "$T/c"; cp -r "$D/lso_ckpt_tf2_2" "$T/c"; chmod -R u+w "$T/c"; }
flip() { /usr/bin/python3 -c "
import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, 'rb').read()); b[o] ^= 0x5a; open(p, 'wb').write(b)" "$1" "$2"; }
# An ASan build reserves terabytes of shadow memory, so the address-space bound only applies to
# plain builds (ASan itself reports oversized allocations).
ASAN_BINARY=0
if grep -q __asan_init "$KMODEL" 2>/dev/null; then ASAN_BINARY=1; fi
expect() {  # expect CODE NEEDLE -- kmodel args...
  local code="$1" needle="$2"; shift 3
  [ "$ASAN_BINARY" = 1 ] || ulimit -v 4000000  # a huge allocation would fail rather than swap
  "$KMODEL" "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  if [ "$rc" != "$code" ] || ! grep -q -- "$needle" "$T/err" || [ "$(wc -l <"$T/err")" -ne 1 ]; then
    echo "FAIL: kmodel $* -> rc=$rc (want $code, '$needle'), stderr: $(cat "$T/err")"; fail=1
  fi
}

fresh; head -c 30 "$D/lso_ckpt_tf2_2/ckpt.index" >"$T/c/ckpt.index"
expect 4 "ckpt.index.*too short" -- inspect "$T/c"
fresh; head -c 800 "$D/lso_ckpt_tf2_2/ckpt.index" >"$T/c/ckpt.index"
expect 4 "ckpt.index" -- inspect "$T/c"
fresh; flip "$T/c/ckpt.index" 838
expect 4 "bad magic" -- inspect "$T/c"
fresh; flip "$T/c/ckpt.index" 60
expect 4 "ckpt.index.*checksum mismatch" -- inspect "$T/c"
fresh; flip "$T/c/ckpt.index" 775
expect 4 "ckpt.index.*checksum mismatch" -- inspect "$T/c/ckpt"
fresh; /usr/bin/python3 -c "import os; os.truncate('$T/c/ckpt.data-00001-of-00002', 20)"
expect 4 "ckpt.data-00001-of-00002.*runs past the end of the shard" -- inspect "$T/c"
fresh; rm "$T/c/ckpt.data-00001-of-00002"
expect 4 "ckpt.data-00001-of-00002.*missing" -- inspect "$T/c"
fresh; flip "$T/c/ckpt.data-00001-of-00002" 1
"$KMODEL" inspect "$T/c" >"$T/out" 2>"$T/err" || { echo "FAIL: inspect read tensor data without --stats"; fail=1; }
expect 4 "$KERNEL.*checksum mismatch" -- inspect --stats "$T/c"   # the index is fine, the tensor is not
"$KMODEL" load "$T/c" >"$T/out" 2>"$T/err"; rc=$?               # load validates: exit 1, problem named
if [ "$rc" != 1 ] || ! grep -q "$KERNEL.*checksum mismatch" "$T/out"; then echo "FAIL: load -> rc=$rc"; fail=1; fi
mkdir "$T/o"
expect 4 "checksum mismatch" -- convert "$T/c" "$T/o/ckpt" --to checkpoint
[ -z "$(ls -A "$T/o")" ] || { echo "FAIL: failed convert left files: $(ls -A "$T/o")"; fail=1; }
fresh; flip "$T/c/ckpt.data-00000-of-00002" 300
expect 4 "_CHECKPOINTABLE_OBJECT_GRAPH.*checksum mismatch" -- inspect "$T/c"
fresh; /usr/bin/python3 "$CORRUPT" set-shape "$T/c/ckpt" "$KERNEL" 1099511627776,1099511627776
expect 4 "$KERNEL.*too many elements" -- inspect "$T/c"
fresh; /usr/bin/python3 "$CORRUPT" set-shape "$T/c/ckpt" "$KERNEL" 3,2
expect 4 "$KERNEL.*needs 24 bytes but the entry holds 16" -- inspect "$T/c"
fresh; /usr/bin/python3 "$CORRUPT" set-size "$T/c/ckpt" "$KERNEL" 1152921504606846976
expect 4 "$KERNEL" -- inspect "$T/c"
fresh; /usr/bin/python3 "$CORRUPT" set-shape "$T/c/ckpt" _CHECKPOINTABLE_OBJECT_GRAPH 1125899906842624
expect 4 "_CHECKPOINTABLE_OBJECT_GRAPH.*cannot fit" -- inspect "$T/c"
fresh; printf 'model_checkpoint_path: "gone"\n' >"$T/c/checkpoint"
expect 4 "checkpoint.*gone" -- inspect "$T/c"
exit $fail
