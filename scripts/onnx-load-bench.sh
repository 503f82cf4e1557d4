#!/usr/bin/env bash
# Loading a ~100 MB ONNX file (issue 5's figure: under 1 s, under 2x the file size in extra memory).
# Builds a 784-5000-4000-10 Gemm/Relu MLP with random weights (96 MB, opset 17) with the pip
# `onnx` package in the conformance venv, then runs `lathe inspect` on it (read, decode every
# initializer, build the graph, one batch-1 pass for the shapes) under /usr/bin/time, beside
# `lathe inspect` of a tiny model as the baseline memory of the process; then `lathe onnx-test`
# on a folder of the same file with one test data set (a batch of 2, expected output from numpy),
# which imports it and runs it once.
# Skips with a message (exit 0) when pip cannot reach the package index.
#
#   scripts/onnx-load-bench.sh [path/to/lathe]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lathe="${1:-$root/.build/release/lathe}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[ -x "$lathe" ] || (cd "$root" && swift build -c release --product lathe) || exit 1
# shellcheck source=scripts/lib/onnx-venv.sh
source "$root/scripts/lib/onnx-venv.sh"
onnx_venv onnx-load-bench onnx
mkdir -p "$work/big/test_data_set_0"
"$venv/bin/python" - "$work/big/model.onnx" <<'PY'
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
rng = np.random.default_rng(0)
sizes = [784, 5000, 4000, 10]
nodes, inits, prev = [], [], "x"
for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
    inits += [numpy_helper.from_array((rng.standard_normal((b, a)) * 0.01).astype(np.float32), f"W{i}"),
              numpy_helper.from_array(np.zeros(b, np.float32), f"B{i}")]
    last = i == len(sizes) - 2
    out = "y" if last else f"g{i}"
    nodes.append(helper.make_node("Gemm", [prev, f"W{i}", f"B{i}"], [out], transB=1))
    if not last:
        nodes.append(helper.make_node("Relu", [out], [f"h{i}"]))
        prev = f"h{i}"
graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 784])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], inits)
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])
x = rng.standard_normal((2, 784)).astype(np.float32)
y = x
for i, t in enumerate(inits[::2]):
    y = y @ numpy_helper.to_array(t).T
    if i < len(sizes) - 2:
        y = np.maximum(y, 0)
folder = sys.argv[1].rsplit("/", 1)[0] + "/test_data_set_0/"
for name, value in (("input_0", x), ("output_0", y.astype(np.float32))):
    with open(folder + name + ".pb", "wb") as f:
        f.write(numpy_helper.from_array(value).SerializeToString())
PY
size_kb=$(( $(stat -c %s "$work/big/model.onnx") / 1024 ))
base=$(/usr/bin/time -f "%M" "$lathe" inspect "$root/samples/models/lenet-5.safetensors" 2>&1 >/dev/null | tail -1)
echo "file: $((size_kb / 1024)) MB; baseline (inspect lenet-5): max RSS $((base / 1024)) MB"
for run in 1 2 3; do
  for command in inspect onnx-test; do
    target="$work/big"
    [ "$command" = inspect ] && target="$work/big/model.onnx"
    out=$(/usr/bin/time -f "%e %M" "$lathe" "$command" "$target" 2>&1 >/dev/null | tail -1)
    read -r seconds rss <<<"$out"
    echo "run $run, $command: $seconds s, max RSS $((rss / 1024)) MB, extra $(((rss - base) / 1024)) MB =" \
      "$(awk -v e=$((rss - base)) -v f="$size_kb" 'BEGIN { printf "%.2f", e / f }')x the file"
  done
done
"$lathe" onnx-test "$work/big" | tail -1
