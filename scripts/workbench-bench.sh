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
tmux -L "$sock" send-keys -t wb q
echo "start to first drawn home screen: $(echo "$drawn - $start" | bc) s"
echo "start to measured input model (accuracy, size, latency shown): $(echo "$measured - $start" | bc) s"
echo "idle workbench resident memory: $((rss / 1024)) MB"
"$lathe" bench --only tui
