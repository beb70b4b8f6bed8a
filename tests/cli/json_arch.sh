#!/usr/bin/env bash
# Every corpus JSON architecture (Keras 1, 2, 3) inspects, loads, and round-trips JSON -> JSON with
# the same parsed content (checked with Python's json module).
set -euo pipefail
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
n=0
for f in "$TESTDATA"/json/*.json; do
  b="$(basename "$f" .json)"
  "$KMODEL" inspect "$f" >"$T/inspect.txt"
  grep -q "architecture only" "$T/inspect.txt"
  "$KMODEL" inspect --json "$f" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["model"]["class_name"], d'
  "$KMODEL" load "$f" >/dev/null
  "$KMODEL" -q convert "$f" "$T/$b.json"
  /usr/bin/python3 - "$f" "$T/$b.json" <<'PYEOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, f"{sys.argv[1]}: JSON changed in round trip"
PYEOF
  n=$((n + 1))
done
echo "json ok: $n files"
[ "$n" -ge 15 ]
