#!/usr/bin/env bash
# Engine latency of imported ONNX files against the same models built natively: exports the
# bundled lenet-300-100 and lenet-5 with `lathe export --format onnx`, then runs `lathe bench
# --only models` on the native and the imported files in alternating rounds (so load on a
# shared machine hits both alike) and prints each figure's median and best p50 over the rounds
# and the imported/native ratios. `LATHE_BENCH_THREADS` sets bench's --threads.
#
#   scripts/onnx-latency.sh [path/to/lathe] [rounds]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lathe="${1:-$root/.build/release/lathe}"
rounds="${2:-6}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/native" "$work/onnx"
for name in lenet-300-100 lenet-5; do
  cp "$root/samples/models/$name.safetensors" "$work/native/"
  "$lathe" export "$root/samples/models/$name.safetensors" --format onnx --output "$work/onnx/$name.onnx" >/dev/null
done
for round in $(seq "$rounds"); do
  for kind in native onnx; do
    "$lathe" bench --only models --models "$work/$kind" --latency-seconds 1 ${LATHE_BENCH_THREADS:+--threads "$LATHE_BENCH_THREADS"} \
      --json >"$work/$kind-$round.json"
  done
done
python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
figures = {}
for kind in ("native", "onnx"):
    for r in range(1, rounds + 1):
        for m in json.load(open(f"{work}/{kind}-{r}.json"))["models"]:
            name = m["model"].rsplit(".", 1)[0]
            for batch in ("batch1", "batch256"):
                figures.setdefault((name, batch, kind), []).append(m[batch]["p50_microseconds"])
print(f"p50 latency over {rounds} alternating rounds (µs): median, and best")
print(f"{'model':<15} {'batch':>5} {'native':>10} {'onnx':>10} {'ratio':>7} {'native':>10} {'onnx':>10} {'ratio':>7}")
for name in ("lenet-300-100", "lenet-5"):
    for batch in ("batch1", "batch256"):
        native, onnx = figures[(name, batch, "native")], figures[(name, batch, "onnx")]
        medians = statistics.median(native), statistics.median(onnx)
        bests = min(native), min(onnx)
        print(
            f"{name:<15} {batch[5:]:>5} {medians[0]:>10.1f} {medians[1]:>10.1f} {medians[1] / medians[0]:>7.3f}"
            f" {bests[0]:>10.1f} {bests[1]:>10.1f} {bests[1] / bests[0]:>7.3f}")
PY
