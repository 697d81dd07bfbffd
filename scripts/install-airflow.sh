#!/usr/bin/env bash
# Install clickflow's pinned Apache Airflow into its own virtualenv.
#
# Usage: scripts/install-airflow.sh [venv_dir]
#   venv_dir defaults to ${CLICKFLOW_AIRFLOW_VENV:-$HOME/.local/share/clickflow/airflow-venv}
#   The base interpreter is ${CLICKFLOW_PYTHON:-python3} (must be Python 3.11).
#
# Installs exactly airflow/requirements.lock (pip --no-deps, wheels only), runs
# `pip check`, then writes a stamp holding the lock's sha256. If the stamp matches,
# the script is a no-op. The stamp is written last, so an interrupted or failed
# install has no stamp and is redone from scratch next time. (The venv is built in
# place rather than in a temp dir: venvs are not relocatable, their console-script
# shebangs hold the absolute venv path.) A lock change also rebuilds from scratch,
# so packages dropped from the lock do not linger.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock_file="$script_dir/../airflow/requirements.lock"
venv="${1:-${CLICKFLOW_AIRFLOW_VENV:-$HOME/.local/share/clickflow/airflow-venv}}"
python="${CLICKFLOW_PYTHON:-python3}"
stamp_name=".clickflow-airflow-lock.sha256"
# pip used for the install. The venv's bundled pip (23.2 on 3.11.7) works too but is
# ~2-3x slower on this lock; the resulting package set is the same either way.
pip_version="26.3"

die() { echo "install-airflow: error: $*" >&2; exit 1; }

[[ -f "$lock_file" ]] || die "lock file not found: $lock_file"
lock_sha="$(sha256sum "$lock_file")"
lock_sha="${lock_sha%% *}"

# Fast path: stamp matches and the venv's interpreter still resolves.
if [[ -x "$venv/bin/python" && -x "$venv/bin/airflow" && -f "$venv/$stamp_name" ]] \
    && [[ "$(<"$venv/$stamp_name")" == "$lock_sha" ]]; then
    echo "airflow venv up to date: $venv"
    exit 0
fi

mkdir -p "$(dirname "$venv")"
venv="$(cd "$(dirname "$venv")" && pwd)/$(basename "$venv")"   # absolute path

# Serialise concurrent runs for the same venv (flock is in util-linux).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$venv.install-lock"
    flock 9
    # Another run may have finished the install while we waited.
    if [[ -f "$venv/$stamp_name" && "$(<"$venv/$stamp_name")" == "$lock_sha" && -x "$venv/bin/airflow" ]]; then
        echo "airflow venv up to date: $venv"
        exit 0
    fi
fi

start=$SECONDS
action="installed"

# Stale, partial or out-of-date venv: remove it, but only if it looks like a venv.
if [[ -e "$venv" ]]; then
    if [[ -f "$venv/pyvenv.cfg" ]] || [[ -d "$venv" && -z "$(ls -A "$venv")" ]]; then
        rm -rf -- "$venv"
        action="rebuilt"
    else
        die "$venv exists and is not a virtualenv; refusing to delete it"
    fi
fi

command -v "$python" >/dev/null 2>&1 || die "python not found: $python"
"$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || die "$python is $("$python" -V 2>&1), the lock is for Python 3.11 (set CLICKFLOW_PYTHON)"

"$python" -m venv "$venv" || die "could not create venv at $venv"

log="$(mktemp "${TMPDIR:-/tmp}/install-airflow.XXXXXX")"
trap 'rm -f "$log"' EXIT

export PIP_DISABLE_PIP_VERSION_CHECK=1
if ! "$venv/bin/python" -m pip install --quiet --no-input --require-virtualenv \
        "pip==$pip_version" >"$log" 2>&1; then
    cat "$log" >&2
    die "could not install pip==$pip_version into $venv"
fi

if ! "$venv/bin/python" -m pip install \
        --quiet --no-input --require-virtualenv \
        --no-deps --only-binary=:all: \
        -r "$lock_file" >"$log" 2>&1; then
    cat "$log" >&2
    die "pip install failed; $venv left without a stamp (will be rebuilt next run)"
fi

if ! "$venv/bin/python" -m pip check >"$log" 2>&1; then
    cat "$log" >&2
    die "pip check failed for $venv"
fi

version="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-airflow"))')"
count="$(grep -c '==' "$lock_file")"

# Written last: its presence means the install above completed and passed pip check.
printf '%s\n' "$lock_sha" >"$venv/$stamp_name.tmp"
mv -f "$venv/$stamp_name.tmp" "$venv/$stamp_name"

echo "$action apache-airflow $version ($count pinned packages) into $venv in $((SECONDS - start))s"
