"""ONNX Runtime's top-1 accuracy on a bundled dataset's test split (IDX, the orientation-pages
ImageFolder, or the kjv text, scored as next-byte accuracy with the perplexity beside it), for a
Lathe-exported model.

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


def text_windows(folder: str, window: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """A text corpus's test part as Lathe's TextCorpus cuts it: bytes are the ids, windows of
    `window` do not overlap, each position's target is the byte after it."""
    path = os.path.join(folder, "test.txt")
    data = gzip.open(path + ".gz").read() if os.path.exists(path + ".gz") else open(path, "rb").read()
    text = np.frombuffer(data, np.uint8)
    count = (len(text) - window - 1) // window + 1
    inputs = np.stack([text[w * window:(w + 1) * window] for w in range(count)]).astype(np.float32)
    targets = np.stack([text[w * window + 1:(w + 1) * window + 1] for w in range(count)]).astype(np.int64)
    return inputs, targets


def text_scores(session: ort.InferenceSession, inputs: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """Next-token accuracy and perplexity over every position, 32 windows per run."""
    feed = session.get_inputs()[0].name
    correct, nll = 0, 0.0
    for start in range(0, len(inputs), 32):
        logits = session.run(None, {feed: inputs[start:start + 32]})[0].astype(np.float64)
        t = targets[start:start + 32]
        correct += int((logits.argmax(axis=-1) == t).sum())
        top = logits.max(axis=-1, keepdims=True)
        log_z = np.log(np.exp(logits - top).sum(axis=-1)) + top[..., 0]
        nll += float((log_z - np.take_along_axis(logits, t[..., None], axis=-1)[..., 0]).sum())
    return correct / targets.size, float(np.exp(nll / targets.size))


def main() -> None:
    model, folder = sys.argv[1], sys.argv[2]
    ops = sorted({n.op_type for n in onnx.load(model).graph.node})
    if any(os.path.exists(os.path.join(folder, f)) for f in ("test.txt", "test.txt.gz")):
        inputs, targets = text_windows(folder)
        session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        accuracy, perplexity = text_scores(session, inputs, targets)
        print(json.dumps({"model": model, "accuracy": accuracy, "perplexity": perplexity,
                          "samples": len(inputs), "ops": ops}))
        return
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
    print(json.dumps({"model": model, "accuracy": accuracy, "samples": len(labels), "ops": ops}))


if __name__ == "__main__":
    main()
