"""Reads a Lathe-written GGUF file with llama.cpp's own Python reader (the `gguf` package's
GGUFReader and gguf.quants.dequantize) and compares it with the reference .npz Lathe wrote beside
it (`lathe export MODEL --format gguf --type T -o F.gguf --reference F.npz`): every tensor's name
and shape must match exactly, and its values as gguf decodes them must equal Lathe's own
dequantization to float tolerance.

    python gguf_check.py FILE.gguf REFERENCE.npz

Prints one JSON object: {"gguf_version", "tensors": [{"name", "type", "shape", "max_abs_diff"}],
"metadata": {key: value}, "problems": [...]}; exits 1 when there is a problem.
Tested with gguf==0.19.0 (scripts/gguf-check.sh pins it).
"""

import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def field_value(field):
    """A scalar or string metadata value as Python sees it (arrays as their length)."""
    kind = field.types[0].name if field.types else "?"
    if kind == "STRING":
        return bytes(field.parts[field.data[0]]).decode("utf-8")
    if kind == "ARRAY":
        return f"array of {len(field.data)}"
    return field.parts[field.data[0]].tolist()[0]


def main() -> int:
    gguf_path, reference_path = sys.argv[1], sys.argv[2]
    reader = GGUFReader(gguf_path)
    reference = np.load(reference_path)
    problems = []
    rows = []
    names = [t.name for t in reader.tensors]
    if sorted(names) != sorted(reference.files):
        problems.append(f"tensor names differ: gguf {sorted(names)}, reference {sorted(reference.files)}")
    for tensor in reader.tensors:
        shape = [int(d) for d in reversed(tensor.shape.tolist())]
        row = {"name": tensor.name, "type": tensor.tensor_type.name, "shape": shape, "max_abs_diff": None}
        rows.append(row)
        if tensor.name not in reference.files:
            continue
        expected = reference[tensor.name]
        if list(expected.shape) != shape:
            problems.append(f"{tensor.name}: shape {shape} in gguf, {list(expected.shape)} in the reference")
            continue
        values = np.asarray(dequantize(tensor.data, tensor.tensor_type), dtype=np.float32).reshape(shape)
        diff = float(np.max(np.abs(values - expected))) if values.size else 0.0
        row["max_abs_diff"] = diff
        scale = float(np.max(np.abs(expected))) if expected.size else 0.0
        if not np.allclose(values, expected, rtol=1e-6, atol=1e-7 * max(scale, 1e-30)):
            problems.append(f"{tensor.name}: values differ by up to {diff} (largest |value| {scale})")
    metadata = {name: field_value(field) for name, field in reader.fields.items() if not name.startswith("GGUF.")}
    version = int(reader.fields["GGUF.version"].parts[-1][0])
    print(json.dumps({"gguf_version": version, "tensors": rows, "metadata": metadata, "problems": problems}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
