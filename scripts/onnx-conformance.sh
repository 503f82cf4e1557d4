#!/usr/bin/env bash
# Runs ONNX's own backend tests on Lathe's engine: pip-installs the `onnx` package into a venv
# (it ships the test folders), then `lathe onnx-test` on onnx/backend/test/data/{pytorch-converted,
# pytorch-operator,simple} and on the node tests of the operators Lathe implements.
# Skips with a message (exit 0) when pip cannot reach the package index.
#
#   scripts/onnx-conformance.sh [path/to/lathe]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lathe="${1:-$root/.build/release/lathe}"
venv="${LATHE_ONNX_VENV:-${TMPDIR:-/tmp}/lathe-onnx-venv}"

if [ ! -x "$lathe" ]; then
  (cd "$root" && swift build -c release --product lathe) || exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || { echo "onnx-conformance: skipped (python3 -m venv failed)"; exit 0; }
fi
if ! "$venv/bin/python" -c "import onnx" 2>/dev/null; then
  if ! "$venv/bin/pip" install -q onnx; then
    echo "onnx-conformance: skipped (pip could not install onnx; is the package index reachable?)"
    exit 0
  fi
fi
data="$("$venv/bin/python" -c 'import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), "backend/test/data"))')"
echo "onnx-conformance: onnx $("$venv/bin/python" -c 'import onnx; print(onnx.__version__)'), data in $data"

# The node tests whose operators are all in Lathe's list (test_<op>_... by name).
ops="conv convtranspose gemm matmul add sub mul div sum relu leakyrelu prelu elu selu sigmoid tanh softplus softsign
hardsigmoid clip maxpool averagepool globalaveragepool globalmaxpool batchnorm lrn dropout identity flatten reshape
squeeze unsqueeze transpose concat split slice gather shape constant constantofshape pad softmax logsoftmax reduce_mean
reduce_sum quantizelinear dequantizelinear"
node_tests=()
for dir in "$data"/node/test_*; do
  name="$(basename "$dir")"
  for op in $ops; do
    case "$name" in
      test_${op}|test_${op}_*) node_tests+=("$dir"); break ;;
    esac
  done
done

status=0
for suite in pytorch-converted pytorch-operator simple; do
  echo "== $suite"
  "$lathe" onnx-test "$data/$suite" | tee "${TMPDIR:-/tmp}/lathe-onnx-$suite.txt" | tail -n 40 || status=1
done
echo "== node (${#node_tests[@]} tests of the listed operators)"
"$lathe" onnx-test "${node_tests[@]}" | tee "${TMPDIR:-/tmp}/lathe-onnx-node.txt" | tail -n 80 || status=1
exit $status
