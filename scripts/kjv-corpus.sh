#!/usr/bin/env bash
# Makes samples/datasets/kjv: the King James Bible (public domain) from Debian's bible-kjv
# package, one verse per line without its number, a blank line between chapters. Every 40th
# chapter (the 40th, 80th, ... of the 1,189 in book order: 29 chapters, 100 kB) is the test
# part; the rest train. The split is by chapter, so no test verse has its neighbours in the
# training text; the test part is small so that scoring a pipeline step takes seconds.
#   scripts/kjv-corpus.sh [OUT_DIR]      (default samples/datasets/kjv)
set -euo pipefail
out=${1:-"$(dirname "$0")/../samples/datasets/kjv"}
if ! command -v bible >/dev/null; then
  echo "installing Debian's bible-kjv (the text and its reader)" >&2
  ${SUDO:-$( [ "$(id -u)" = 0 ] || echo sudo)} apt-get install -y bible-kjv >/dev/null
fi
mkdir -p "$out"
bible -l0 gen1:1-rev22:21 | python3 -c '
import sys, re
chapters, current = [], None
for line in sys.stdin:
    line = line.rstrip("\n")
    verse = re.match(r"^\s+\d+ (.*)$", line)
    if verse:
        current.append(verse.group(1))
    elif line.strip():
        current = []
        chapters.append(current)
train = [c for i, c in enumerate(chapters) if i % 40 != 39]
test = [c for i, c in enumerate(chapters) if i % 40 == 39]
out = sys.argv[1]
for name, part in (("train", train), ("test", test)):
    with open(f"{out}/{name}.txt", "w") as f:
        f.write("\n\n".join("\n".join(c) for c in part) + "\n")
print(f"{len(chapters)} chapters: {len(train)} train, {len(test)} test", file=sys.stderr)
' "$out"
gzip -9nf "$out/train.txt" "$out/test.txt"
ls -l "$out"
