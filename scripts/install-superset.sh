#!/usr/bin/env bash
# Install the pinned Apache Superset (+ clickhouse-sqlalchemy, psycopg2-binary,
# gunicorn) from superset/requirements.lock into its own virtualenv.
#
# Usage: scripts/install-superset.sh [venv_dir]
#   venv_dir defaults to ${CLICKFLOW_SUPERSET_VENV:-$HOME/.local/share/clickflow/superset-venv}
#   PYTHON   interpreter used to create the venv (default python3; must be 3.11,
#            the version the lock was resolved and tested on)
#
# Idempotent: when the venv's stamp holds the lock's sha256 it does nothing.
# Prints one line saying what it did; errors go to stderr.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="$repo_root/superset/requirements.lock"
venv="${1:-${CLICKFLOW_SUPERSET_VENV:-$HOME/.local/share/clickflow/superset-venv}}"
stamp="$venv/.clickflow-superset-lock.sha256"
python="${PYTHON:-python3}"
pip_version="26.3"   # venv's bundled pip (23.2.1 on 3.11.7) downloads the lock ~2x slower

die() { echo "install-superset: $*" >&2; exit 1; }

[[ -f "$lock" ]] || die "lock file not found: $lock"
want="$(sha256sum "$lock" | cut -d' ' -f1)"

# Fast path: stamp matches the lock and the venv still has its entry points.
if [[ -f "$stamp" && -x "$venv/bin/python" && -x "$venv/bin/superset" ]] \
    && [[ "$(<"$stamp")" == "$want" ]]; then
    echo "superset venv up to date: $venv"
    exit 0
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
start=$SECONDS
log="$(mktemp "${TMPDIR:-/tmp}/install-superset.XXXXXX")"
trap 'rm -f "$log"' EXIT
run() { # run a command quietly; on failure show its output and stop
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        die "failed: $*"
    fi
}

action="updated"
if [[ ! -x "$venv/bin/python" ]]; then
    command -v "$python" >/dev/null 2>&1 || die "python not found: $python (set PYTHON=...)"
    pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    [[ "$pyver" == "3.11" ]] || die "$python is Python $pyver; the lock is for Python 3.11 (set PYTHON=...)"
    mkdir -p "$(dirname "$venv")"
    run "$python" -m venv "$venv"
    action="created"
fi
venv_pyver="$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[[ "$venv_pyver" == "3.11" ]] || die "$venv uses Python $venv_pyver; the lock is for Python 3.11"

rm -f "$stamp"   # an interrupted install must not look complete
pip=("$venv/bin/python" -m pip)
if [[ "$("${pip[@]}" --version | cut -d' ' -f2)" != "$pip_version" ]]; then
    run "${pip[@]}" install "pip==$pip_version"
fi
run "${pip[@]}" install --no-deps -r "$lock"

# Remove packages a previous lock had but this one does not (pip/setuptools/wheel are
# not in `pip freeze` output and are left alone).
norm() { sed -E '/^[[:space:]]*(#|$)/d; s/[[:space:]]*(==|@).*//; s/[-_.]+/-/g' | tr '[:upper:]' '[:lower:]' | sort -u; }
run "${pip[@]}" freeze --all --exclude pip --exclude setuptools --exclude wheel
extra="$(comm -23 <(norm <"$log") <(norm <"$lock") | tr '\n' ' ')"
if [[ -n "${extra// /}" ]]; then
    # shellcheck disable=SC2086
    run "${pip[@]}" uninstall -y $extra
fi

run "${pip[@]}" check

# The venv must now be exactly the lock.
run "${pip[@]}" freeze --all --exclude pip --exclude setuptools --exclude wheel
if ! diff <(sed -E '/^[[:space:]]*(#|$)/d' "$lock" | tr '[:upper:]' '[:lower:]' | sort) \
          <(tr '[:upper:]' '[:lower:]' <"$log" | sort) >"$log.diff"; then
    cat "$log.diff" >&2; rm -f "$log.diff"
    die "venv does not match $lock (diff above: < lock, > venv)"
fi
rm -f "$log.diff"

printf '%s\n' "$want" >"$stamp.tmp" && mv "$stamp.tmp" "$stamp"
echo "superset venv $action from lock in $((SECONDS - start))s: $venv"
