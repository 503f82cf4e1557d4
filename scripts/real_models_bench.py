"""Latency and peak memory of the real models (scripts/real_models.py) on ONNX Runtime and on
Lathe, at batch 1 and 32 (where the model takes a batch) with 1 and 2 threads
(scripts/real-models-bench.sh).

Each figure is one fresh process on a one-set onnx-test folder written here (real inputs, ORT's
outputs): ORT with intra_op_num_threads N, inter_op 1, sequential execution, one warm-up run
then the median of ROUNDS runs; Lathe as `LK_THREADS=N lathe onnx-test FOLDER --time ROUNDS
--threads N`, which checks the outputs first and times only a set that matches. Peak memory is
the process's maximum resident set (getrusage of its parent), beside the model file's size.

    real_models_bench.py --unz DIR --lathe PATH [--rounds R] [--work DIR]
    real_models_bench.py ort FOLDER --threads N --rounds R     (one ORT figure, as JSON)
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import onnx
import onnxruntime as ort
from onnx import numpy_helper

import real_models

BATCHES = (1, 32)
THREADS = (1, 2)


# Runs argv[2:] and writes the peak RSS of its process tree (KiB) to argv[1]. Linux carries a
# process's peak RSS across fork and exec, so a child of this large script would report at least
# this script's size; started from this small interpreter, a child reports its own.
TRAMPOLINE = """import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)"""


def measured(command: list, environment: dict = None) -> tuple:
    """Runs a command to completion: (exit status, stdout and stderr, max RSS in MiB)."""
    with tempfile.TemporaryDirectory() as tmp:
        rss = Path(tmp) / "rss"
        done = subprocess.run([sys.executable, "-c", TRAMPOLINE, str(rss)] + command, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, env=dict(os.environ, **(environment or {})))
        peak = int(rss.read_text()) / 1024 if rss.exists() else float("nan")
        return done.returncode, done.stdout.decode(errors="replace"), peak


def ort_figure(folder: Path, threads: int, rounds: int) -> dict:
    """The `ort` subcommand, in its own process so its peak memory is its own."""
    sess = real_models.session(folder / "model.onnx", threads)
    data = folder / "test_data_set_0"
    feeds = {}
    for i, info in enumerate(sess.get_inputs()):
        tensor = numpy_helper.to_array(onnx.load_tensor_from_string((data / f"input_{i}.pb").read_bytes()))
        feeds[info.name] = tensor
    sess.run(None, feeds)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        sess.run(None, feeds)
        samples.append((time.perf_counter() - start) * 1000)
    return {"median_ms": statistics.median(samples), "min_ms": min(samples), "runs": rounds}


def lathe_figure(lathe: str, folder: Path, threads: int, rounds: int, limit: int) -> dict:
    command = ["timeout", str(limit), lathe, "onnx-test", str(folder), "--time", str(rounds), "--threads", str(threads)]
    status, text, rss = measured(command, {"LK_THREADS": str(threads)})
    timing = re.search(r"^time \S+ \S+: median ([0-9.]+) ms", text, re.M)
    if timing and "no input at run time" in text:
        # Integer inputs are bound as constants at import; with no other input the importer folds
        # the graph and the runs time next to nothing (MiniLM's ids and mask).
        return {"failure": f"not timed: every input is integer, bound and folded at import ({timing.group(1)} ms)",
                "rss_mib": rss}
    if timing:
        return {"median_ms": float(timing.group(1)), "rss_mib": rss}
    text = text.replace(f"{folder}/", "")
    failure = next((line[5:] for line in text.splitlines() if line.startswith("FAIL ")), "")
    if status == 124:
        failure = f"timed out after {limit} s " + failure
    return {"failure": (failure.split(": ", 1)[-1] or f"exit status {status}: {text.strip()[-200:]}"), "rss_mib": rss}


def cpu() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = re.search(r"^model name\s*:\s*(.*)$", info, re.M)
    isa = "avx512_vnni" if "avx512_vnni" in info else "avx2" if " avx2" in info else "neither avx2 nor avx512_vnni"
    return f"{name.group(1) if name else platform.processor()}, {isa}, {os.cpu_count()} cores online"


def bench(unz: Path, lathe: str, rounds: int, work: Path, limit: int, command: str) -> None:
    work.mkdir(parents=True, exist_ok=True)
    baseline = measured([sys.executable, "-c", "import numpy, onnxruntime"])[2]
    rows, notes = [], []
    for case in real_models.cases(unz):
        size = case.model.stat().st_size / 2**20
        for batch in BATCHES:
            if case.batch is None and batch != 1:
                continue
            feeds = case.batch(batch) if case.batch else case.sets[0]
            folder = work / f"{case.name}-b{batch}"
            real_models.write_folder(folder, case.model, [feeds], real_models.session(case.model))
            for threads in THREADS:
                status, text, ort_rss = measured(
                    [sys.executable, __file__, "ort", str(folder), "--threads", str(threads), "--rounds", str(rounds)])
                ours = json.loads(text.strip().splitlines()[-1]) if status == 0 else {"median_ms": float("nan")}
                theirs = lathe_figure(lathe, folder, threads, rounds, limit)
                if "median_ms" in theirs:
                    lathe_ms = f"{theirs['median_ms']:.2f}"
                    ratio = f"{theirs['median_ms'] / ours['median_ms']:.2f}"
                else:
                    notes.append(f"{case.name} batch {batch}, {threads} threads: {theirs['failure'][:200]}")
                    lathe_ms, ratio = f"({len(notes)})", ""
                rows.append(f"| {case.name} | {batch} | {threads} | {ours['median_ms']:.2f} | {lathe_ms} | {ratio} "
                            f"| {ort_rss:.0f} | {theirs['rss_mib']:.0f} | {size:.1f} |")
                print(rows[-1], file=sys.stderr, flush=True)
    print(f"`{command}` ({cpu()}; onnxruntime {ort.__version__}, {lathe}; median of {rounds} runs after one "
          f"warm-up; max RSS of the process, ORT's including Python, numpy and onnxruntime: {baseline:.0f} MiB "
          "imported alone):\n")
    print("| model | batch | threads | ORT ms | Lathe ms | Lathe/ORT | ORT max RSS MiB | Lathe max RSS MiB | file MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if notes:
        print("\nWhy Lathe has no figure:\n")
        print("\n".join(f"{k}. {note}" for k, note in enumerate(notes, 1)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "ort"])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--unz", type=Path)
    parser.add_argument("--lathe")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "lathe-real-models-bench")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds one Lathe figure may take")
    parser.add_argument("--command", default="scripts/real-models-bench.sh", help="shown above the table")
    args = parser.parse_args()
    if args.mode == "ort":
        print(json.dumps(ort_figure(args.folder, args.threads, args.rounds)))
        return 0
    if not args.unz or not args.lathe:
        parser.error("bench needs --unz and --lathe")
    bench(args.unz, args.lathe, args.rounds, args.work, args.timeout, args.command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
