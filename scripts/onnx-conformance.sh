#!/usr/bin/env bash
# Runs ONNX's own backend tests on Lathe's engine: pip-installs the `onnx` package into a venv
# (it ships the test folders), then `lathe onnx-test` on onnx/backend/test/data/{pytorch-converted,
# pytorch-operator,simple} and on the node tests of the operators Lathe implements. Exits non-zero
# when any test fails (several use operators outside Lathe's list; see docs/onnx.md).
# Skips with a message (exit 0) when pip cannot reach the package index.
#
#   scripts/onnx-conformance.sh [path/to/lathe]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lathe="${1:-$root/.build/release/lathe}"

if [ ! -x "$lathe" ]; then
  (cd "$root" && swift build -c release --product lathe) || exit 1
fi
# shellcheck source=scripts/lib/onnx-venv.sh
source "$root/scripts/lib/onnx-venv.sh"
onnx_venv onnx-conformance onnx
data="$("$venv/bin/python" -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "backend/test/data"))')"
echo "onnx-conformance: onnx $("$venv/bin/python" -c 'import onnx; print(onnx.__version__)'), data in $data"

# ONNX's node tests whose operators are all in Lathe's list: the wheel ships their cases as Python,
# rendered here into backend-test folders.
ops="Conv ConvTranspose Gemm MatMul Add Sub Mul Div Sum Relu LeakyRelu PRelu Elu Selu Sigmoid Tanh Softplus Softsign
HardSigmoid Clip MaxPool AveragePool GlobalAveragePool GlobalMaxPool BatchNormalization LRN Dropout Identity Flatten
Reshape Squeeze Unsqueeze Transpose Concat Split Slice Gather Shape Constant ConstantOfShape Pad Softmax LogSoftmax
ReduceMean ReduceSum QuantizeLinear DequantizeLinear"
ops="$ops LayerNormalization RMSNormalization InstanceNormalization GroupNormalization DepthToSpace SpaceToDepth Tile"
node="${TMPDIR:-/tmp}/lathe-onnx-node-tests"
rm -rf "$node"
# shellcheck disable=SC2086
"$venv/bin/python" "$root/scripts/onnx_node_tests.py" "$node" $ops 2>/dev/null

status=0
for suite in pytorch-converted pytorch-operator simple; do
  echo "== $suite"
  "$lathe" onnx-test "$data/$suite" | tee "${TMPDIR:-/tmp}/lathe-onnx-$suite.txt" | tail -n 40 || status=1
done
echo "== node tests of the listed operators"
"$lathe" onnx-test "$node" | tee "${TMPDIR:-/tmp}/lathe-onnx-node.txt" | tail -n 80 || status=1
exit $status
