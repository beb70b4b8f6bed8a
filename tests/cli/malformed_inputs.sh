#!/usr/bin/env bash
# Generated malformed-input suite (issue 9): truncations, bit flips, zeroed regions, absurd sizes and
# shapes, wrong dtypes, Git LFS pointers, empty files and directories in place of files, for H5, JSON,
# .keras, checkpoint, SavedModel and npy fixtures; inspect/load/convert (predict -i for npy) must fail
# cleanly: one error line, exit 3/4/5 (1 for load), no crash, no hang, bounded memory, no output.
# Offsets are sampled deterministically; MALFORM_PER_FIXTURE scales the number of samples.
set -uo pipefail
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
/usr/bin/python3 "$SRC/tests/tools/malform.py" --kmodel "$KMODEL" --testdata "$TESTDATA" --work "$T" \
  --per-fixture "${MALFORM_PER_FIXTURE:-3}"
