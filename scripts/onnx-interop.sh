#!/usr/bin/env bash
# Exports every bundled sample model to ONNX as fp32, as int8 (the int8-ptq pipeline's result,
# written as QDQ) and weight-only int4 and int8 (w4, w8: group-32 scales, written at opset 21 as
# blocked DequantizeLinear feeding MatMul), then compares ONNX Runtime's top-1 accuracy on the
# test split with `lathe eval` on the same .onnx file. Needs pip (onnxruntime, onnx, numpy); skips with a
# message (exit 0) when the package index cannot be reached.
#
#   scripts/onnx-interop.sh [path/to/lathe]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lathe="${1:-$root/.build/release/lathe}"
out="${LATHE_ONNX_INTEROP_DIR:-${TMPDIR:-/tmp}/lathe-onnx-interop}"

if [ ! -x "$lathe" ]; then
  (cd "$root" && swift build -c release --product lathe) || exit 1
fi
# shellcheck source=scripts/lib/onnx-venv.sh
source "$root/scripts/lib/onnx-venv.sh"
onnx_venv onnx-interop onnxruntime onnx numpy
echo "onnx-interop: onnxruntime $("$venv/bin/python" -c 'import onnxruntime; print(onnxruntime.__version__)')"
mkdir -p "$out"
status=0
printf "%-16s %-5s %10s %10s %8s\n" model kind lathe ort diff
for file in "$root"/samples/models/*.safetensors; do
  name="$(basename "$file" .safetensors)"
  dataset="$("$lathe" inspect "$file" --json | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["dataset"])')"
  "$lathe" export "$file" --format onnx --output "$out/$name-fp32.onnx" >/dev/null || status=1
  rm -rf "$out/$name-int8"
  # The bundled int8-ptq pipeline, pointed at this model and its dataset.
  sed -e "s|^model:.*|model: $file|" -e "s|^dataset:.*|dataset: $dataset|" "$root/samples/pipelines/int8-ptq.yaml" \
    >"$out/$name-int8.yaml"
  "$lathe" run "$out/$name-int8.yaml" --output-dir "$out/$name-int8" --latency-seconds 0.02 --json >/dev/null || status=1
  int8="$(ls "$out/$name-int8"/*.safetensors 2>/dev/null | grep -v input | tail -n 1)"
  "$lathe" export "$int8" --format onnx --output "$out/$name-int8.onnx" >/dev/null || status=1
  # Weight-only int4 and int8 (group 32), written as opset-21 blocked DequantizeLinear + MatMul.
  for bits in 4 8; do
    rm -rf "$out/$name-w$bits"
    printf "name: w%s\nmodel: %s\ndataset: %s\nsteps:\n  - name: w%s\n    technique: weight-only\n    bits: %s\n    group_size: 32\n" \
      "$bits" "$file" "$dataset" "$bits" "$bits" >"$out/$name-w$bits.yaml"
    "$lathe" run "$out/$name-w$bits.yaml" --output-dir "$out/$name-w$bits" --latency-seconds 0.02 --json >/dev/null || status=1
    weightOnly="$(ls "$out/$name-w$bits"/*.safetensors 2>/dev/null | grep -v input | tail -n 1)"
    "$lathe" export "$weightOnly" --format onnx --output "$out/$name-w$bits.onnx" >/dev/null || status=1
  done
  for kind in fp32 int8 w4 w8; do
    model="$out/$name-$kind.onnx"
    ours="$("$lathe" eval "$model" --dataset "$dataset" --json | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')"
    theirs="$("$venv/bin/python" "$root/scripts/onnx_interop.py" "$model" "$root/samples/datasets/$dataset" \
      | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')"
    diff="$("$venv/bin/python" -c "print(f'{abs($ours - $theirs) * 100:.2f}')")"
    printf "%-16s %-5s %9.2f%% %9.2f%% %7s\n" "$name" "$kind" "$("$venv/bin/python" -c "print($ours*100)")" \
      "$("$venv/bin/python" -c "print($theirs*100)")" "$diff"
    if "$venv/bin/python" -c "import sys; sys.exit(0 if $diff <= 0.1 else 1)"; then :; else status=1; fi
  done
done

# A third-party file: scikit-learn's MLPClassifier on the digits train split, exported by
# skl2onnx; Lathe opens it through its probabilities output, quantizes it to int8 with the
# bundled pipeline, and exports that.
if "$venv/bin/python" -c "import skl2onnx, sklearn" 2>/dev/null || "$venv/bin/pip" install -q skl2onnx scikit-learn; then
  (cd "$root/scripts" && "$venv/bin/python" skl2onnx_digits.py "$root/samples/datasets/digits" "$out/skl2onnx-fp32.onnx") \
    || status=1
  rm -rf "$out/skl2onnx-int8"
  "$lathe" run "$root/samples/pipelines/int8-ptq.yaml" --model "$out/skl2onnx-fp32.onnx" --dataset digits \
    --output-dir "$out/skl2onnx-int8" --latency-seconds 0.02 --json >/dev/null || status=1
  "$lathe" export "$out/skl2onnx-int8/01-int8.safetensors" --format onnx --output "$out/skl2onnx-int8.onnx" \
    >/dev/null || status=1
  for kind in fp32 int8; do
    model="$out/skl2onnx-$kind.onnx"
    ours="$("$lathe" eval "$model" --dataset digits --json | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')"
    theirs="$("$venv/bin/python" "$root/scripts/onnx_interop.py" "$model" "$root/samples/datasets/digits" \
      | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')"
    diff="$("$venv/bin/python" -c "print(f'{abs($ours - $theirs) * 100:.2f}')")"
    printf "%-16s %-5s %9.2f%% %9.2f%% %7s\n" skl2onnx-mlp "$kind" "$("$venv/bin/python" -c "print($ours*100)")" \
      "$("$venv/bin/python" -c "print($theirs*100)")" "$diff"
    if "$venv/bin/python" -c "import sys; sys.exit(0 if $diff <= 0.1 else 1)"; then :; else status=1; fi
  done
else
  echo "skl2onnx-mlp: skipped (pip could not install skl2onnx and scikit-learn)"
fi
exit $status
