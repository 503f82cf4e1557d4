"""Writes ONNX's node backend tests (model.onnx + test_data_set_N/*.pb) for the given op types.

The `onnx` wheel ships the node test *cases* as Python but not their data folders; this renders
them the way onnx.backend.test.cmd_tools does for model tests. Used by scripts/onnx-conformance.sh.

    python onnx_node_tests.py OUTPUT_DIR OpType [OpType...]
    python onnx_node_tests.py OUTPUT_DIR --all     every case whose data are tensors
"""

import os
import sys

import numpy as np

from onnx import numpy_helper
from onnx.backend.test.case import node


def main() -> None:
    output, ops = sys.argv[1], set(sys.argv[2:])
    every = ops == {"--all"}
    written = 0
    for case in node.collect_testcases():
        used = {n.op_type for n in case.model.graph.node}
        if not used or (not every and not used <= ops):
            continue
        values = [v for inputs, outputs in case.data_sets for v in list(inputs) + list(outputs)]
        if not all(hasattr(v, "shape") and hasattr(v, "dtype") for v in values):
            continue  # sequences, maps and optionals: not tensors
        folder = os.path.join(output, case.name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        for i, (inputs, outputs) in enumerate(case.data_sets):
            data = os.path.join(folder, f"test_data_set_{i}")
            os.makedirs(data, exist_ok=True)
            parts = (("input", inputs, case.model.graph.input), ("output", outputs, case.model.graph.output))
            for kind, tensors, infos in parts:
                for j, value in enumerate(tensors):
                    with open(os.path.join(data, f"{kind}_{j}.pb"), "wb") as f:
                        f.write(numpy_helper.from_array(np.asarray(value), infos[j].name).SerializeToString())
        written += 1
    print(f"onnx_node_tests: wrote {written} node tests to {output}")


if __name__ == "__main__":
    main()
