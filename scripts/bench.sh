#!/usr/bin/env bash
# Measures Lathe beside the reference figures of ../shared/bench/anchors.py (numpy/OpenBLAS,
# ONNX Runtime, numpy training), in the same few minutes, and prints same-run ratios.
# Python is used here only to measure the references; Lathe itself never needs it.
#
#   scripts/bench.sh            # full run (~3 minutes)
#   scripts/bench.sh --quick    # shorter, noisier
# Results are kept in out/bench/ (lathe.json, anchors.json).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
[ "${1:-}" = "--quick" ] && quick="--quick"
out=out/bench
mkdir -p "$out"
scripts/install-deps
swift build -c release --product lathe
lathe=.build/release/lathe

anchors=../shared/bench/anchors.py
venv=${ANCHORS_VENV:-/tmp/anchors}
if [ -f "$anchors" ]; then
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q numpy onnx onnxruntime scikit-learn mlxtend threadpoolctl \
      || { echo "pip unreachable: skipping the reference figures" >&2; rm -rf "$venv"; }
  fi
fi

# Compressed variants of the sample models, built by the same pipelines a user would run.
models="$out/models"
rm -rf "$models" && mkdir -p "$models"
cp samples/models/lenet-300-100.safetensors samples/models/lenet-5.safetensors "$models/"
for p in scripts/bench-pipelines/*.yaml; do
  name=$(basename "$p" .yaml)
  "$lathe" run "$p" --output-dir "$out/run-$name" --latency-seconds 0.05 > /dev/null
  cp "$out/run-$name/01-"*.safetensors "$models/$name.safetensors"
done

echo "== lathe bench" >&2
"$lathe" bench $quick --models "$models" --json > "$out/lathe.json"
if [ -x "$venv/bin/python" ] && [ -f "$anchors" ]; then
  echo "== anchors.py (same window)" >&2
  "$venv/bin/python" "$anchors" $quick --skip fma --json "$out/anchors.json" > "$out/anchors.txt"
  echo "== lathe bench again (bracketing the anchors)" >&2
  "$lathe" bench $quick --models "$models" --json > "$out/lathe2.json"
  python3 scripts/bench_compare.py "$out/lathe.json" "$out/lathe2.json" "$out/anchors.json"
fi
