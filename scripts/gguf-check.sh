#!/usr/bin/env bash
# Checks a Lathe-written GGUF file with llama.cpp's own Python reader: runs scripts/gguf_check.py
# (see there) in a venv holding the pinned `gguf` package and numpy, `LATHE_GGUF_VENV` or
# ~/.cache/lathe-gguf-venv, made on first use. When python3 -m venv or pip fails (no package
# index), it says "gguf-check: skipped (...)" and exits 0: the check skips, it does not fail.
#
#   scripts/gguf-check.sh FILE.gguf REFERENCE.npz
#
# REFERENCE.npz is what `lathe export MODEL --format gguf --type T -o FILE.gguf --reference
# REFERENCE.npz` writes beside the file.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
gguf_version="0.19.0"
venv="${LATHE_GGUF_VENV:-$HOME/.cache/lathe-gguf-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >/dev/null || { echo "gguf-check: skipped (python3 -m venv failed)"; exit 0; }
fi
have="$("$venv/bin/python" -c 'import importlib.metadata as m, numpy; print(m.version("gguf"))' 2>/dev/null)"
if [ "$have" != "$gguf_version" ]; then
  if ! "$venv/bin/pip" install -q --retries 1 --timeout 20 "gguf==$gguf_version" numpy >/dev/null 2>&1; then
    echo "gguf-check: skipped (pip could not install gguf==$gguf_version numpy; is the package index reachable?)"
    exit 0
  fi
fi
exec "$venv/bin/python" "$root/scripts/gguf_check.py" "$@"
