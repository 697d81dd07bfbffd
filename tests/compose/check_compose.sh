#!/usr/bin/env bash
# Static test of the docker-compose deployment: needs no Docker engine and no running stack.
#
#   tests/compose/check_compose.sh            # exit 0: every check passed; 1: a check failed
#
# Runs the pinned docker-compose 1.29.2 (scripts/install-compose.sh puts it in
# ${CLICKFLOW_STACK_DEPS_DIR:-<repo>/var/deps}/compose-venv; COMPOSE=/path/to/docker-compose
# overrides) on docker-compose.yml with `config`, `config --services` and `config --volumes`, in a
# clean environment (no .env, no exported variables), and checks (check_compose.py) the resolved
# file against docs/design.md and docs/docker-compose.md: the services, published ports, volumes, healthchecks,
# start order, default logins, the read-only ClickHouse user, that .env values reach every service,
# that each Dockerfile a `build:` names exists and every file it COPYs is in the repository, and
# that the copies kept in deploy/ still equal their originals.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
deps_dir="${CLICKFLOW_STACK_DEPS_DIR:-$repo/var/deps}"
compose="${COMPOSE:-$deps_dir/compose-venv/bin/docker-compose}"
python="$(dirname "$compose")/python"   # the venv's python has PyYAML

if [[ ! -x "$compose" ]]; then
  echo "FAIL: $compose not found: run scripts/install-compose.sh (or scripts/install-deps.sh)" >&2
  exit 1
fi
[[ -x "$python" ]] || python=python3

work="$(mktemp -d "${TMPDIR:-/tmp}/check-compose.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# docker-compose in a clean environment: only what the caller passes, no .env file, no daemon.
dc() {
  local env_file="$1"
  shift
  (cd "$repo" && env -i PATH="$PATH" HOME="$work" DOCKER_HOST=unix:///nonexistent \
      "$compose" --env-file "$env_file" -f docker-compose.yml "$@")
}

fail=0
: >"$work/empty.env"
if ! dc "$work/empty.env" config >"$work/config.yml" 2>"$work/config.err"; then
  echo "FAIL: docker-compose config rejects docker-compose.yml:" >&2
  cat "$work/config.err" >&2
  exit 1
fi
echo "ok: docker-compose config accepts docker-compose.yml ($("$compose" version --short))"
[[ ! -s "$work/config.err" ]] || { echo "note: docker-compose config said:"; sed 's/^/  /' "$work/config.err"; }
dc "$work/empty.env" config --services >"$work/services.txt"
dc "$work/empty.env" config --volumes >"$work/volumes.txt"

# The same file with every password and the bind address set the way a .env sets them.
cat >"$work/override.env" <<'EOF'
CLICKFLOW_BIND=0.0.0.0
CLICKHOUSE_PASSWORD=ch-Secret1
CLICKHOUSE_READONLY_PASSWORD=ro-Secret2
POSTGRES_PASSWORD=pg-Secret3
SUPERSET_ADMIN_PASSWORD=ss-Secret4
AIRFLOW_ADMIN_PASSWORD=af-Secret5
SUPERSET_SECRET_KEY=ss-key-6
AIRFLOW_JWT_SECRET=jwt-7
EOF
if ! dc "$work/override.env" config >"$work/override.yml" 2>"$work/override.err"; then
  echo "FAIL: docker-compose config with a .env of changed passwords:" >&2
  cat "$work/override.err" >&2
  exit 1
fi

for script in scripts/install-compose.sh deploy/clickflow/init.sh deploy/airflow/entrypoint.sh \
              deploy/superset/start.sh; do
  if bash -n "$repo/$script" 2>"$work/bash.err"; then
    echo "ok: bash -n $script"
  else
    echo "FAIL: $script: $(cat "$work/bash.err")"
    fail=1
  fi
done

"$python" "$repo/tests/compose/check_compose.py" "$repo" "$work" || fail=1

if ((fail)); then
  echo "check_compose: FAILED" >&2
  exit 1
fi
echo "check_compose: all checks passed"
