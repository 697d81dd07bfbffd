#!/usr/bin/env bash
# docker-compose: entrypoint of the Airflow containers (copied into the image as
# /opt/clickflow/deploy/airflow-entrypoint.sh). What `clickflow stack up` does before starting
# Airflow (src/stack/airflow_home.cc), then the image's own /entrypoint runs the command:
#
# - jwt_secret, secret_key, fernet_key: every process must share them (tasks authenticate to the
#   api-server's execution API with the JWT secret). Taken from the environment when .env sets
#   them, else generated once into the airflow-secrets volume and reused by every container.
# - the simple auth manager's passwords file: admin / AIRFLOW_ADMIN_PASSWORD, rewritten on each
#   start so a changed password takes effect (the manager keeps an existing entry).
set -euo pipefail

secrets_dir=/opt/airflow/secrets

# shared_secret FILE VAR COMMAND...: export VAR, from the environment if non-empty, else from
# secrets_dir/FILE, which the first container to get here creates with COMMAND's output.
shared_secret() {
  local file="$secrets_dir/$1" var="$2"
  shift 2
  if [[ -n "${!var:-}" ]]; then
    export "${var?}"
    return
  fi
  if [[ ! -s "$file" ]]; then
    local tmp
    tmp="$(mktemp "$secrets_dir/.new.XXXXXX")"   # mode 0600
    "$@" >"$tmp"
    # link(2) fails when another container created the file first: theirs wins.
    ln "$tmp" "$file" 2>/dev/null || true
    rm -f "$tmp"
  fi
  local value
  value="$(<"$file")"
  [[ -n "$value" ]] || { echo "airflow-entrypoint: $file is empty" >&2; exit 1; }
  export "$var=$value"
}

shared_secret jwt_secret AIRFLOW__API_AUTH__JWT_SECRET python -c 'import secrets; print(secrets.token_hex(32))'
shared_secret secret_key AIRFLOW__API__SECRET_KEY python -c 'import secrets; print(secrets.token_hex(32))'
shared_secret fernet_key AIRFLOW__CORE__FERNET_KEY \
  python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'

passwords="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?not set}"
python - "$passwords" <<'PY'
import json, os, sys
path = sys.argv[1]
with os.fdopen(os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
    json.dump({"admin": os.environ.get("AIRFLOW_ADMIN_PASSWORD") or "admin"}, f)
os.replace(path + ".tmp", path)
PY

exec /entrypoint "$@"
