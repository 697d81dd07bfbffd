#!/usr/bin/env bash
# Install the pinned docker-compose 1.29.2 (Compose v1, from PyPI) from
# deploy/compose-requirements.lock into its own virtualenv. It validates docker-compose.yml
# without a Docker engine (tests/compose/check_compose.sh) and runs the deployment where one exists.
#
# Usage: scripts/install-compose.sh [venv_dir]
#   venv_dir defaults to ${CLICKFLOW_STACK_DEPS_DIR:-<repo>/var/deps}/compose-venv
#   PYTHON   interpreter used to create the venv (default python3; the lock was resolved on 3.11)
#
# Idempotent: when the venv's stamp holds the lock's sha256 it does nothing.
# Prints one line saying what it did; errors go to stderr.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="$repo_root/deploy/compose-requirements.lock"
venv="${1:-${CLICKFLOW_STACK_DEPS_DIR:-$repo_root/var/deps}/compose-venv}"
stamp="$venv/.clickflow-compose-lock.sha256"
python="${PYTHON:-python3}"

die() { echo "install-compose: $*" >&2; exit 1; }

[[ -f "$lock" ]] || die "lock file not found: $lock"
want="$(sha256sum "$lock" | cut -d' ' -f1)"

# Fast path: stamp matches the lock and the venv still has its entry point.
if [[ -f "$stamp" && -x "$venv/bin/python" && -x "$venv/bin/docker-compose" ]] \
    && [[ "$(<"$stamp")" == "$want" ]]; then
    echo "compose venv up to date: $venv"
    exit 0
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
start=$SECONDS
log="$(mktemp "${TMPDIR:-/tmp}/install-compose.XXXXXX")"
trap 'rm -f "$log" "$log.diff"' EXIT
run() { # run a command quietly; on failure show its output and stop
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        die "failed: $*"
    fi
}
# The pinned line of one package in the lock (case-insensitive name).
pin() {
    local line
    line="$(grep -iE "^$1==" "$lock" || true)"
    [[ -n "$line" ]] || die "$lock has no pin for $1"
    echo "$line"
}

action="updated"
if [[ ! -x "$venv/bin/python" ]]; then
    command -v "$python" >/dev/null 2>&1 || die "python not found: $python (set PYTHON=...)"
    mkdir -p "$(dirname "$venv")"
    run "$python" -m venv "$venv"
    action="created"
fi

rm -f "$stamp"   # an interrupted install must not look complete
pip=("$venv/bin/python" -m pip)
# PyYAML 5.4.1 (compose needs <6) ships no cp311 wheel and its sdist does not build with
# Cython 3: put the pinned build tools in first, then build it against them.
run "${pip[@]}" install "$(pin setuptools)" "$(pin wheel)" "$(pin Cython)"
run "${pip[@]}" install --no-deps --no-build-isolation "$(pin PyYAML)"
run "${pip[@]}" install --no-deps -r "$lock"

# Remove packages a previous lock had but this one does not (pip itself is not in the lock).
norm() { sed -E '/^[[:space:]]*(#|$)/d; s/[[:space:]]*(==|@).*//; s/[-_.]+/-/g' | tr '[:upper:]' '[:lower:]' | sort -u; }
run "${pip[@]}" freeze --all --exclude pip
extra="$(comm -23 <(norm <"$log") <(norm <"$lock") | tr '\n' ' ')"
if [[ -n "${extra// /}" ]]; then
    # shellcheck disable=SC2086
    run "${pip[@]}" uninstall -y $extra
fi

run "${pip[@]}" check

# The venv must now be exactly the lock.
run "${pip[@]}" freeze --all --exclude pip
if ! diff <(sed -E '/^[[:space:]]*(#|$)/d' "$lock" | tr '[:upper:]' '[:lower:]' | sort) \
          <(tr '[:upper:]' '[:lower:]' <"$log" | sort) >"$log.diff"; then
    cat "$log.diff" >&2
    die "venv does not match $lock (diff above: < lock, > venv)"
fi

run "$venv/bin/docker-compose" version --short
[[ "$(tr -d '[:space:]' <"$log")" == "1.29.2" ]] || die "docker-compose version --short says '$(cat "$log")', not 1.29.2"

printf '%s\n' "$want" >"$stamp.tmp" && mv "$stamp.tmp" "$stamp"
echo "compose venv $action from lock in $((SECONDS - start))s: $venv"
