"""Runs rendered ONNX backend-test folders on ONNX Runtime with the tolerance `lathe onnx-test`
uses (rtol 1e-3, atol 1e-4) and prints one line per folder: "ok NAME" or "FAIL NAME: why".

    python onnx_node_ort.py FOLDER [FOLDER...]
"""

import glob
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def read(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


def run(folder):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        os.path.join(folder, "model.onnx"), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    for data in sorted(glob.glob(os.path.join(folder, "test_data_set_*"))):
        inputs = {name: read(os.path.join(data, f"input_{i}.pb")) for i, name in enumerate(names)}
        outputs = session.run(None, inputs)
        for k, got in enumerate(outputs):
            path = os.path.join(data, f"output_{k}.pb")
            if not os.path.exists(path):
                continue
            want = read(path)
            if want.dtype.kind in "fc":
                if not np.allclose(np.asarray(got, dtype=want.dtype), want, rtol=1e-3, atol=1e-4, equal_nan=True):
                    return f"output {k} differs"
            elif not np.array_equal(np.asarray(got), want):
                return f"output {k} differs"


def main():
    for folder in sys.argv[1:]:
        name = os.path.basename(folder.rstrip("/"))
        try:
            why = run(folder)
        except Exception as error:  # an op ORT does not run is a failure, not a crash of the script
            why = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        print(f"ok {name}" if why is None else f"FAIL {name}: {why}")


if __name__ == "__main__":
    main()
