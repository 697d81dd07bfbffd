#!/usr/bin/env bash
# Installs the pinned ruff of scripts/lint-requirements.lock into its own virtualenv, for
# scripts/lint.sh.
#
#   scripts/install-ruff.sh [venv_dir]   (default ${CLICKFLOW_STACK_DEPS_DIR:-<repo>/var/deps}/ruff-venv)
#
# Idempotent: when the venv's stamp holds the lock's sha256 it does nothing.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="$repo/scripts/lint-requirements.lock"
venv="${1:-${CLICKFLOW_STACK_DEPS_DIR:-$repo/var/deps}/ruff-venv}"
stamp="$venv/.clickflow-lock.sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"

if [[ -x "$venv/bin/ruff" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
  echo "ruff venv up to date: $venv"
  exit 0
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
rm -f "$stamp"  # an interrupted install must not look complete
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
"$venv/bin/python" -m pip install --no-deps -r "$lock" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
echo "$want" >"$stamp"
echo "ruff installed: $("$venv/bin/ruff" --version) in $venv"
