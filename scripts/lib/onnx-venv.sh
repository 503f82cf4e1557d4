# Sourced by the ONNX scripts (conformance, interop, node coverage, load bench): the Python venv
# they share, `LATHE_ONNX_VENV` or ${TMPDIR:-/tmp}/lathe-onnx-venv, made on first use and given
# the modules the script needs. When python3 -m venv or pip fails (no package index), the
# script says so and exits 0: these checks skip, they do not fail.
#
#   onnx_venv SCRIPT-NAME MODULE...    sets $venv
onnx_venv() {
  local name="$1"
  shift
  venv="${LATHE_ONNX_VENV:-${TMPDIR:-/tmp}/lathe-onnx-venv}"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || { echo "$name: skipped (python3 -m venv failed)"; exit 0; }
  fi
  local imports
  imports=$(IFS=,; echo "$*")
  if ! "$venv/bin/python" -c "import $imports" 2>/dev/null; then
    if ! "$venv/bin/pip" install -q "$@"; then
      echo "$name: skipped (pip could not install $*; is the package index reachable?)"
      exit 0
    fi
  fi
}
