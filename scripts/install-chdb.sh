#!/usr/bin/env bash
# Installs the pinned chdb-core of clickhouse/chdb/requirements.lock (the ClickHouse 26.9 engine
# the local stack runs by default, docs/clickhouse.md) into its own virtualenv.
#
#   scripts/install-chdb.sh [venv_dir]   (default ${CLICKFLOW_STACK_DEPS_DIR:-<repo>/var/deps}/chdb-venv)
#
# Idempotent: when the venv's stamp holds the lock's sha256 it does nothing.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="$repo/clickhouse/chdb/requirements.lock"
venv="${1:-${CLICKFLOW_STACK_DEPS_DIR:-$repo/var/deps}/chdb-venv}"
stamp="$venv/.clickflow-lock.sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
  echo "chdb venv up to date: $venv"
  exit 0
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
rm -f "$stamp"  # an interrupted install must not look complete
# Debian's python3: the service user runs it, and it cannot reach an interpreter under /root.
[[ "$(readlink -f "$venv/bin/python3" 2>/dev/null)" == /usr/bin/python3* ]] || { rm -rf "$venv"; /usr/bin/python3 -m venv "$venv"; }
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
"$venv/bin/python" -m pip install --no-deps --require-hashes -r "$lock" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
# The service user (clickhouse) runs the engine from here.
chmod -R a+rX "$venv"
echo "$want" >"$stamp"
echo "chdb-core installed: $(grep -o 'chdb-core==[^ ]*' "$lock") in $venv"
