#!/usr/bin/env bash
# Benchmarks for `lathe search` (docs/search.md quotes what it printed):
#   1. samplers on Branin and Hartmann-6 (curves over seeds, trials to reach within 1% of the optimum)
#      and NSGA-II against random on ZDT1;
#   2. a 40-trial per-layer pruning study on lenet-300-100 against the best uniform sparsity (grid);
#   3. trial throughput with --jobs 1 and --jobs 2 (the same random trials);
#   4. kill -9 of a study mid-run, then --resume: no finished trial lost, none run twice.
# Usage: scripts/search-bench.sh [functions] [pruning] [throughput] [resume]   (default: all)
# Env: LATHE (binary; default: release build in .build), SEEDS (10), OUT (folder; default: a temp one).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LATHE=${LATHE:-$ROOT/.build/release/lathe}
SEEDS=${SEEDS:-10}
OUT=${OUT:-$(mktemp -d /tmp/lathe-search-bench.XXXXXX)}
PARTS=${*:-functions pruning throughput resume}
mkdir -p "$OUT"
cd "$OUT"
echo "binary $LATHE; work folder $OUT; $(nproc) cores"

# The fine-tune every pruning trial gets (short, so 40 trials fit in minutes).
prune_step() { # $1: final_sparsity value or range
  cat <<YAML
model: lenet-300-100
dataset: mnist-5k
steps:
  - name: prune
    technique: gradual-prune
    final_sparsity: $1
    pruning_epochs: 2
    epochs: 4
    lr: 0.02
YAML
}
FLOOR=${FLOOR:-0.94}

for part in $PARTS; do
  case $part in
  functions)
    echo "== samplers on known functions ($SEEDS seeds)"
    "$LATHE" search --benchmark --seeds "$SEEDS" --samplers random,tpe,gp,pso
    ;;
  pruning)
    echo "== lenet-300-100: smallest model with accuracy >= $FLOOR"
    { echo "name: uniform"; prune_step "{search: float, low: 0.80, high: 0.98}"
      printf 'search:\n  objectives: [minimize size_bytes]\n  constraints: [accuracy >= %s]\n  sampler: grid\n' "$FLOOR"
    } > uniform.yaml
    { echo "name: per-layer"; prune_step "{search: per-layer, low: 0.5, high: 0.99}"
      printf 'search:\n  objectives: [minimize size_bytes]\n  constraints: [accuracy >= %s]\n  sampler: tpe\n' "$FLOOR"
    } > per-layer.yaml
    echo "-- uniform sparsity, grid of 10 (0.80 ... 0.98)"
    "$LATHE" search uniform.yaml --trials 10 --study uniform.jsonl --output uniform.best.yaml 2>/dev/null
    echo "-- per-layer sparsity, TPE, 40 trials"
    "$LATHE" search per-layer.yaml --trials 40 --study per-layer.jsonl --output per-layer.best.yaml 2>/dev/null
    FLOOR=$FLOOR python3 - <<'PY'
import json, os
floor = float(os.environ["FLOOR"])
def trials(path):
    out = {}
    for line in open(path):
        e = json.loads(line)
        if e["event"] == "start": out.setdefault(e["trial"], {})["params"] = e["params"]
        if e["event"] == "finish": out[e["trial"]].update(e)
    return [t for t in out.values() if t.get("state") == "complete"]
for name in ["uniform", "per-layer"]:
    ts = sorted(trials(name + ".jsonl"), key=lambda t: t["metrics"]["size_bytes"])
    print(f"{name}: size_bytes vs accuracy")
    for t in ts[:12]:
        m = t["metrics"]
        print(f"  {m['size_bytes']:8.0f}  {m['accuracy']*100:6.2f}%  " + " ".join(f"{k.split('.')[-1]}={v}" for k, v in sorted(t["params"].items())))
best = {}
for name in ["uniform", "per-layer"]:
    ok = [t for t in trials(name + ".jsonl") if t["metrics"]["accuracy"] >= floor - 1e-6]
    best[name] = min(ok, key=lambda t: t["metrics"]["size_bytes"]) if ok else None
u, p = best["uniform"], best["per-layer"]
if u and p:
    print(f"smallest with accuracy >= {floor}: uniform {u['metrics']['size_bytes']:.0f} B ({u['metrics']['accuracy']*100:.2f}%), "
          f"per-layer {p['metrics']['size_bytes']:.0f} B ({p['metrics']['accuracy']*100:.2f}%): "
          f"{u['metrics']['size_bytes'] / p['metrics']['size_bytes']:.2f}x smaller")
PY
    ;;
  throughput)
    echo "== throughput: the same 12 random trials with --jobs 1 and --jobs 2"
    { echo "name: throughput"; prune_step "{search: per-layer, low: 0.5, high: 0.99}"; } > throughput.yaml
    for jobs in 1 2; do
      rm -f "throughput-$jobs.jsonl"
      start=$(date +%s.%N)
      "$LATHE" search throughput.yaml --trials 12 --jobs "$jobs" --sampler random --study "throughput-$jobs.jsonl" \
        --output throughput.best.yaml --json 2>/dev/null | python3 -c "import json,sys; r=json.load(sys.stdin); print(f'  jobs $jobs: {r[\"complete\"]} trials in {r[\"seconds\"]:.1f} s = {r[\"trials_per_minute\"]:.2f} trials/min')"
    done
    ;;
  resume)
    echo "== kill -9 mid-study, then --resume"
    { echo "name: resume"; prune_step "{search: per-layer, low: 0.5, high: 0.99}"; } > resume.yaml
    rm -rf resume.jsonl resume.trials
    "$LATHE" search resume.yaml --trials 10 --jobs 2 --sampler tpe --study resume.jsonl --output resume.best.yaml \
      > /dev/null 2>&1 &
    pid=$!
    finished() { local n; n=$(grep -c '"finish"' resume.jsonl 2>/dev/null) || true; echo "${n:-0}"; }
    while [ "$(finished)" -lt 4 ]; do sleep 0.2; done
    sleep 1
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    sleep 0.5
    cp resume.jsonl killed.jsonl
    echo "  killed with $(grep -c '"finish"' killed.jsonl) finished, $(grep -c '"start"' killed.jsonl) started; live workers: $(pgrep -f "resume.trials" | wc -l)"
    "$LATHE" search resume.yaml --trials 10 --jobs 2 --study resume.jsonl --resume --output resume.best.yaml > /dev/null 2>&1
    python3 - <<'PY'
import json
def events(path): return [json.loads(l) for l in open(path)]
before, after = events("killed.jsonl"), events("resume.jsonl")
fin_before = {e["trial"]: e for e in before if e["event"] == "finish"}
fin_after = [e for e in after if e["event"] == "finish"]
numbers = [e["trial"] for e in fin_after]
lost = [n for n, e in fin_before.items() if e not in fin_after]
twice = sorted({n for n in numbers if numbers.count(n) > 1})
# A trial in flight at the kill is marked failed and run again as a new trial (retryOf).
retries = {e["retryOf"]: e["trial"] for e in after if e["event"] == "start" and "retryOf" in e}
counted = sorted(set(numbers) - set(retries))
print(f"  after resume: {len(counted)} trials count of 10; lost {lost}; finished twice {twice}; "
      f"in flight at the kill, failed and run again as: {retries}")
assert not lost and not twice and len(counted) == 10 and sorted(set(numbers)) == list(range(10 + len(retries)))
print("  resume check passed")
PY
    ;;
  *) echo "unknown part $part" >&2; exit 2 ;;
  esac
done
