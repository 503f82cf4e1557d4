#!/usr/bin/env bash
# Runs scripts/optuna_interop.py (read, create, dashboard: see docs/optuna-interop.md) with its
# own venv, `LATHE_OPTUNA_VENV` or ${TMPDIR:-/tmp}/lathe-optuna-venv, made on first use with
# pinned optuna, optuna-dashboard, psycopg2-binary (PostgreSQL URLs) and pandas (Optuna's
# trials_dataframe). `dashboard` also wants Debian's chromium for its screenshot and installs it
# with apt when missing; without it the API check still runs. When the venv cannot be made or
# pip cannot reach a package, it exits 77 (skipped) with the reason on stderr. stdout carries
# only the script's JSON.
#
#   scripts/optuna-check.sh read|create|dashboard ARGS...
#   scripts/optuna-check.sh --python     # prints the venv's python, for tests that run the .py
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${LATHE_OPTUNA_VENV:-${TMPDIR:-/tmp}/lathe-optuna-venv}"
packages=(optuna==5.1.0 optuna-dashboard==0.21.0 psycopg2-binary==2.9.13 pandas==2.3.3)

skip() {
  echo "optuna-check: skipped ($1)" >&2
  exit 77
}

# The venv is ready when it imports the pinned versions; otherwise (first run, or pins changed)
# pip installs them. pip's chatter goes to stderr.
ready() {
  "$venv/bin/python" - 2>/dev/null <<'EOF'
import optuna, optuna_dashboard, psycopg2, pandas
assert optuna.__version__ == "5.1.0" and optuna_dashboard.__version__ == "0.21.0"
EOF
}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2 || skip "python3 -m venv $venv failed"
fi
if ! ready; then
  "$venv/bin/pip" install -q "${packages[@]}" >&2 \
    || skip "pip could not install ${packages[*]} into $venv; is the package index reachable?"
  ready || skip "$venv does not import the pinned ${packages[*]} after pip install"
fi

if [ "${1:-}" = "--python" ]; then
  echo "$venv/bin/python"
  exit 0
fi

# Chromium only matters for the dashboard's screenshot; installing it may fail (no network, no
# sudo) and the check goes on without the picture.
if [ "${1:-}" = "dashboard" ] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  if command -v apt-get >/dev/null; then
    echo "optuna-check: installing chromium with apt for the dashboard screenshot" >&2
    { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2 \
      || echo "optuna-check: could not install chromium; the dashboard check runs without a screenshot" >&2
  fi
fi

exec "$venv/bin/python" "$root/scripts/optuna_interop.py" "$@"
