#!/usr/bin/env bash
# The language-model figures of docs/transformers.md: every llm-* pipeline on the bundled GPT,
# plus AWQ and GPTQ with act-order from the same model, each step's perplexity, KL divergence
# from fp32 (mean, p99), top-1 agreement, file size and bits per weight, one table per pipeline.
#   scripts/llm-figures.sh [LATHE] [OUT_DIR]     (default .build/release/lathe, /tmp/lathe-llm-figures)
set -euo pipefail
cd "$(dirname "$0")/.."
lathe=${1:-.build/release/lathe}
out=${2:-/tmp/lathe-llm-figures}
[ -x "$lathe" ] || swift build -c release --product lathe
mkdir -p "$out"
cat > "$out/llm-methods.yaml" <<'YAML'
name: llm-methods
model: char-gpt
dataset: kjv
steps:
  - {name: awq-int4, technique: weight-only, method: awq, bits: 4, group_size: 32, calibration_samples: 64}
  - {name: gptq-int4-act-order, technique: weight-only, from: input, method: gptq, act_order: true, bits: 4, group_size: 32, calibration_samples: 64}
  - {name: awq-int3, technique: weight-only, from: input, method: awq, bits: 3, group_size: 32, calibration_samples: 64}
YAML
echo "cpu: $(grep -m1 -o 'avx512_vnni\|avx2' /proc/cpuinfo)"
# Wanda against magnitude where Wanda's premise holds: the same GPT with planted activation
# outliers (four channels of every norm 40x, the matrices reading them 40x smaller; the fp32
# function is unchanged). Magnitude sees the shrunken weights; |W|·‖X‖ does not change.
cat > "$out/llm-sparse-outliers.yaml" <<'YAML'
name: llm-sparse-outliers
model: char-gpt
dataset: kjv
steps:
  - {name: outliers, technique: plant-outliers, channels: 4, scale: 40}
  - {name: magnitude-50, technique: prune, from: outliers, sparsity: 0.5}
  - {name: wanda-50, technique: prune, from: outliers, method: wanda, sparsity: 0.5, calibration_samples: 64}
YAML
for pipeline in llm-int4 llm-formats llm-sparse llm-w8a8 "$out/llm-methods.yaml" "$out/llm-sparse-outliers.yaml"; do
  name=$(basename "$pipeline" .yaml)
  "$lathe" run "$pipeline" --output-dir "$out/$name" --latency-seconds 0.3 --json > "$out/$name.json"
  python3 - "$out/$name.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
print(f"\n{run.get('pipeline', sys.argv[1])}")
print(f"{'step':22s} {'perplexity':>10s} {'mean KL':>9s} {'p99 KL':>8s} {'agree':>7s} {'bytes':>9s} {'bits/w':>7s}")
for s in run["steps"]:
    e = s.get("extra", {})
    print(f"{s['name']:22s} {e.get('perplexity', float('nan')):10.4f} {e.get('mean_kl_with_input', 0):9.5f} "
          f"{e.get('p99_kl_with_input', 0):8.4f} {e.get('agreement_with_input', 1):7.2%} {s['size_bytes']:9d} "
          f"{s['bits_per_weight']:7.2f}")
PY
done
