#!/usr/bin/env python3
"""Prints Lathe's bench figures beside anchors.py's, measured in the same window, as ratios.

usage: bench_compare.py LATHE_JSON [LATHE_JSON ...] ANCHORS_JSON
Lathe runs taken before and after the anchors are averaged, so host drift hits both sides.
Standard library only.
"""
import json
import statistics
import sys


def main():
    *lathe_paths, anchors_path = sys.argv[1:]
    runs = [json.load(open(p)) for p in lathe_paths]
    anchors = json.load(open(anchors_path))

    def mean(values):
        values = [v for v in values if v is not None]
        return statistics.mean(values) if values else None

    print(f"\nSame-window comparison ({len(runs)} lathe run(s) around one anchors run)")
    print(f"lathe threads: {runs[0].get('threads')}, CPU: {', '.join(runs[0].get('cpu_features', []))}\n")

    sgemm = anchors.get("sgemm", {}).get("unset", {}).get("results", [])
    if sgemm and runs[0].get("gemm"):
        print("fp32 GEMM GFLOP/s        lathe   numpy 2t  ratio   numpy 1t")
        for n in (256, 512, 1024, 2048):
            ours = mean([next(g["gflops"] for g in r["gemm"] if g["n"] == n) for r in runs])
            np2 = next(x["gflops"] for x in sgemm if x["n"] == n and x["threads"] == 2)
            np1 = next(x["gflops"] for x in sgemm if x["n"] == n and x["threads"] == 1)
            print(f"  n={n:<5}              {ours:7.1f}   {np2:7.1f}  {ours / np2:5.2f}x  {np1:7.1f}")

    onnx = anchors.get("onnx", {})
    names = {
        "lenet-300-100.safetensors": "LeNet-300-100 fp32",
        "lenet-300-100-int8.safetensors": "LeNet-300-100 int8 static QDQ pc U8S8",
        "lenet-300-100-sparse90.safetensors": "LeNet-300-100 fp32",
        "lenet-5.safetensors": "LeNet-5 fp32",
        "lenet-5-int8.safetensors": "LeNet-5 int8 static QDQ pc U8S8",
    }
    if onnx and runs[0].get("models"):
        print("\nlatency p50 (ORT column: the same model in ORT; sparse90 is compared with ORT fp32)")
        print("                                  lathe        ORT 1t       ORT 2t   lathe/ORT(1t)  lathe/ORT(2t)")
        for file, key in names.items():
            ort = onnx.get(key)
            rows = [next((m for m in r["models"] if m["model"] == file), None) for r in runs]
            if ort is None or None in rows:
                continue
            for batch, field in ((1, "batch1"), (256, "batch256")):
                ours = mean([m[field]["p50_microseconds"] for m in rows]) / 1e6
                t1, t2 = ort[f"lat_t1_b{batch}"], ort[f"lat_t2_b{batch}"]
                print(f"  {file[:-12]:<24} b{batch:<4} {fmt(ours)}  {fmt(t1)}  {fmt(t2)}   "
                      f"{ours / t1:9.2f}x   {ours / t2:9.2f}x")

    # Same-run ratios inside Lathe: what compression bought, measured on the same machine.
    def lat(file, field):
        rows = [next((m for m in r["models"] if m["model"] == file), None) for r in runs]
        return None if None in rows else mean([m[field]["p50_microseconds"] for m in rows])
    print("\nLathe against itself (same runs)")
    for compressed, base in (("lenet-300-100-int8", "lenet-300-100"), ("lenet-5-int8", "lenet-5"),
                             ("lenet-300-100-sparse90", "lenet-300-100")):
        for field in ("batch1", "batch256"):
            a, b = lat(compressed + ".safetensors", field), lat(base + ".safetensors", field)
            if a and b:
                print(f"  {compressed:<24} {field:<9} {b / a:5.2f}x faster than {base}")

    # The same ratios on every kernel path lathe bench forced (one machine, every path).
    paths = runs[0].get("path_models") or []
    if paths:
        print("\nLathe against itself on each kernel path (* the default path)")
        print(f"  {'':<24} {'':<9}" + "".join(f"{p['path'] + ('*' if p['is_default'] else ''):>13}" for p in paths))
        for compressed, base in (("lenet-300-100-int8", "lenet-300-100"), ("lenet-5-int8", "lenet-5"),
                                 ("lenet-300-100-sparse90", "lenet-300-100")):
            for field in ("batch1", "batch256"):
                cells = []
                for i in range(len(paths)):
                    def path_lat(file):
                        rows = [next((m for m in r["path_models"][i]["models"] if m["model"] == file), None)
                                for r in runs]
                        return None if None in rows else mean([m[field]["p50_microseconds"] for m in rows])
                    a, b = path_lat(compressed + ".safetensors"), path_lat(base + ".safetensors")
                    cells.append(f"{b / a:12.2f}x" if a and b else f"{'':>13}")
                print(f"  {compressed:<24} {field:<9}" + "".join(cells))

    train = anchors.get("train", {})
    if train and runs[0].get("training"):
        ours = mean([r["training"]["epoch_ms"] for r in runs]) / 1000
        mem = max(r["training"]["peak_memory_bytes"] for r in runs) / 1e6
        print("\ntraining lenet-300-100, mnist-5k, batch 32, SGD: time per epoch")
        for key, label in (("mnist_numpy_sgd_t2", "numpy 2t"), ("mnist_numpy_sgd_t1", "numpy 1t")):
            if key in train:
                ref = train[key]["epoch_s"]
                print(f"  lathe {fmt(ours)}  {label} {fmt(ref)}  ratio {ours / ref:.2f}x")
        print(f"  lathe peak memory of the whole bench process: {mem:.0f} MB")


def fmt(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} µs"
    return f"{seconds * 1e3:8.3f} ms"


if __name__ == "__main__":
    main()
