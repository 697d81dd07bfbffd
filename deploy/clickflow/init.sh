#!/usr/bin/env bash
# docker-compose: the clickflow-init service (copied into the clickflow image as
# /opt/clickflow/deploy/init.sh). Compose starts it once Kafka, ClickHouse and Superset are
# healthy; it applies the schema, creates the topics and provisions the dashboards, then exits 0
# (clickflow-loader waits for that). Every step is idempotent: `docker-compose up` runs it again.
set -euo pipefail

# Default logins are accepted only while the published ports are bound to loopback
# (docs/design.md#security-rules): anywhere else, refuse until each password in .env is changed.
bind="${CLICKFLOW_BIND:-127.0.0.1}"
case "$bind" in
  127.*|localhost|::1) ;;
  *)
    defaults=()
    [[ "${CLICKFLOW_CLICKHOUSE_PASSWORD:-}" != "clickhouse" ]] || defaults+=(CLICKHOUSE_PASSWORD)
    [[ "${CLICKFLOW_CLICKHOUSE_READONLY_PASSWORD:-}" != "dashboards" ]] || defaults+=(CLICKHOUSE_READONLY_PASSWORD)
    [[ "${CLICKFLOW_STACK_SUPERSET_PASSWORD:-}" != "admin" ]] || defaults+=(SUPERSET_ADMIN_PASSWORD)
    [[ "${AIRFLOW_ADMIN_PASSWORD:-}" != "admin" ]] || defaults+=(AIRFLOW_ADMIN_PASSWORD)
    [[ "${POSTGRES_PASSWORD:-}" != "clickflow" ]] || defaults+=(POSTGRES_PASSWORD)
    if ((${#defaults[@]})); then
      echo "clickflow-init: CLICKFLOW_BIND=$bind publishes the ports beyond loopback, but these still" \
           "have their default values: ${defaults[*]}. Set them in .env (docs/docker-compose.md)." >&2
      exit 1
    fi
    ;;
esac

echo "clickflow-init: clickflow migrate"
clickflow migrate
echo "clickflow-init: clickflow topics create"
clickflow topics create
# --force: Superset's metadata lives in its own volume, so this container's stamp cannot tell
# whether that Superset already has the bundle; the import overwrites by uuid, never duplicates.
superset_url="${SUPERSET_URL:-http://superset:8088}"
echo "clickflow-init: clickflow superset import --url $superset_url"
clickflow superset import --url "$superset_url" --force
echo "clickflow-init: done"
