#!/usr/bin/env bash
# Workbench figures on a real terminal (tmux): time from start to the first drawn home screen,
# to the measured input model, resident memory of the idle workbench, and the frame-build time.
#   scripts/workbench-bench.sh            (builds release first)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps
swift build -c release --product lathe >&2
lathe=$PWD/.build/release/lathe
sock="lathe-bench-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true' EXIT
start=$(date +%s.%N)
tmux -L "$sock" new-session -d -s wb -x 200 -y 60 "$lathe"
until tmux -L "$sock" capture-pane -p -t wb | grep -q "Model ·"; do sleep 0.01; done
drawn=$(date +%s.%N)
until tmux -L "$sock" capture-pane -p -t wb | grep -q "input: "; do sleep 0.02; done
measured=$(date +%s.%N)
sleep 2
pid=$(pgrep -f "^$lathe$" | head -1)
rss=$(awk '/VmRSS/ {print $2}' /proc/"$pid"/status)
# Key press to visible change while a step trains in the background: start the pipeline,
# wait until training shows, then time `?` until the help overlay is on screen.
tmux -L "$sock" send-keys -t wb a
until tmux -L "$sock" capture-pane -p -t wb | grep -q "running prune"; do sleep 0.01; done
sleep 1
latencies=""
for i in 1 2 3 4 5; do
  t0=$(date +%s.%N)
  tmux -L "$sock" send-keys -t wb "?"
  until tmux -L "$sock" capture-pane -p -t wb | grep -q "run next step"; do sleep 0.002; done
  t1=$(date +%s.%N)
  latencies="$latencies $(echo "($t1 - $t0) * 1000" | bc | cut -d. -f1)"
  tmux -L "$sock" send-keys -t wb Escape
  until ! tmux -L "$sock" capture-pane -p -t wb | grep -q "run next step"; do sleep 0.002; done
done
tmux -L "$sock" send-keys -t wb c
tmux -L "$sock" send-keys -t wb q
echo "key press to visible change while training (ms, 5 tries, includes tmux polling):$latencies"
echo "start to first drawn home screen: $(echo "$drawn - $start" | bc) s"
echo "start to measured input model (accuracy, size, latency shown): $(echo "$measured - $start" | bc) s"
echo "idle workbench resident memory: $((rss / 1024)) MB"
"$lathe" bench --only tui
