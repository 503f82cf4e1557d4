"""ONNX Runtime's top-1 accuracy on a bundled dataset's test split (IDX, or the orientation-pages
ImageFolder), for a Lathe-exported model.

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


def image_folder(folder: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A bundled ImageFolder's `train` or `test` images as Lathe's loader prepares the bundled
    orientation-pages (stored at the size it reads: centre crop, x/255, ImageNet mean and std,
    CHW) and labels (sorted class folders). Needs Pillow."""
    from PIL import Image

    with open(os.path.join(folder, "dataset.json")) as f:
        crop = int(json.load(f)["crop"])
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    root = os.path.join(folder, name)
    images, labels = [], []
    for label, cls in enumerate(sorted(os.listdir(root))):
        for file in sorted(os.listdir(os.path.join(root, cls))):
            image = np.asarray(Image.open(os.path.join(root, cls, file)).convert("RGB"), np.float32) / 255
            h, w = image.shape[:2]
            if min(h, w) != 256:
                raise SystemExit(f"{file}: stored at {w}x{h}; this reader only crops (shorter side 256)")
            top, left = (h - crop) // 2, (w - crop) // 2
            images.append(((image[top:top + crop, left:left + crop] - mean) / std).transpose(2, 0, 1))
            labels.append(label)
    return np.stack(images), np.array(labels, np.int64)


def main() -> None:
    model, folder = sys.argv[1], sys.argv[2]
    if os.path.isdir(os.path.join(folder, "test")):
        images, labels = image_folder(folder, "test")
    else:
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
