"""ONNX Runtime's top-1 accuracy on a bundled dataset's test split, for a Lathe-exported model.

    python onnx_interop.py MODEL.onnx DATASET_FOLDER

Prints one JSON object: {"model", "accuracy", "samples", "providers", "ops"}.
"""

import gzip
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort


def idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def split(folder: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A bundled dataset's `train` or `test` images (scaled as Lathe scales them) and labels."""
    with open(os.path.join(folder, "dataset.json")) as f:
        scale = float(json.load(f).get("scale", 255))
    images = idx(os.path.join(folder, f"{name}-images-idx3-ubyte.gz")).astype(np.float32) / scale
    labels = idx(os.path.join(folder, f"{name}-labels-idx1-ubyte.gz")).astype(np.int64)
    return images, labels


def main() -> None:
    model, folder = sys.argv[1], sys.argv[2]
    images, labels = split(folder, "test")
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else -1 for d in feed.shape]
    x = images.reshape([len(images)] + shape[1:])
    # The first floating-point output: classifiers from skl2onnx put an int64 label first.
    scores = next(o.name for o in session.get_outputs() if o.type in ("tensor(float)", "tensor(double)"))
    logits = session.run([scores], {feed.name: x})[0]
    accuracy = float((logits.argmax(axis=1) == labels).mean())
    ops = sorted({n.op_type for n in onnx.load(model).graph.node})
    print(json.dumps({"model": model, "accuracy": accuracy, "samples": len(labels), "ops": ops}))


if __name__ == "__main__":
    main()
