#!/usr/bin/env bash
# One command to the local platform: installs what is missing, builds clickflow, starts the
# stack (PostgreSQL, ClickHouse, Kafka, Airflow, Superset), applies the schema, creates the
# topics, runs init_data_pipeline on the samples, builds the warehouse, checks that the
# dashboards show data and prints how to connect. A second run reuses everything and is fast. Stop with: ./build/clickflow stack down
set -euo pipefail
cd "$(dirname "$0")"
repo="$(pwd)"

started=$SECONDS
step() { printf '==> %-44s' "$1"; step_started=$SECONDS; }
done_step() { printf ' %3ss\n' "$((SECONDS - step_started))"; }

step "installing dependencies"
scripts/install-deps.sh >/tmp/clickflow-install.log 2>&1 || { echo; cat /tmp/clickflow-install.log; exit 1; }
done_step
step "building clickflow"
cmake -S . -B build -G Ninja -DBUILD_TESTING=OFF >/dev/null
cmake --build build -j "$(nproc)" >/tmp/clickflow-build.log 2>&1 || { echo; tail -40 /tmp/clickflow-build.log; exit 1; }
done_step

[[ -f clickflow.yaml ]] || cp clickflow.yaml.example clickflow.yaml
cf() { "$repo/build/clickflow" --config "$repo/clickflow.yaml" "$@"; }

echo "==> starting the stack"
cf stack up
step "applying the ClickHouse schema"
cf migrate >/dev/null
done_step
step "creating the Kafka topics"
cf topics create >/dev/null
done_step
if [[ "$(cf config show | sed -n 's/^ *airflow: *//p')" != false ]]; then
  step "Airflow: unpausing the DAGs, loading the samples"
  airflow_url="http://127.0.0.1:$(cf config show | sed -n 's/^ *airflow_port: *//p')"
  airflow_password="$(cf config show | sed -n 's/^ *airflow_password: *//p')"
  scripts/airflow-bootstrap.sh "$airflow_url" "$airflow_password" >/tmp/clickflow-airflow.log 2>&1 \
    || { echo; cat /tmp/clickflow-airflow.log; exit 1; }
  done_step
  # build_dwh_layer runs every 15 minutes; build once now so the warehouse has the samples.
  step "building the warehouse"
  cf dwh build >/tmp/clickflow-dwh.log 2>&1 || { echo; cat /tmp/clickflow-dwh.log; exit 1; }
  done_step
  # Only now, so that the first results on the Data Quality dashboard are about the samples.
  step "Airflow: running data_quality_checks"
  scripts/airflow-bootstrap.sh "$airflow_url" "$airflow_password" quality >>/tmp/clickflow-airflow.log 2>&1 \
    || { echo; cat /tmp/clickflow-airflow.log; exit 1; }
  done_step
fi
config_value() { cf config show | sed -n "s/^ *$1: *//p"; }
if [[ "$(config_value superset)" != false ]]; then
  superset_url="http://127.0.0.1:$(config_value superset_port)"
  if [[ "$(cf sql --format csv "SELECT count() FROM analytics.quality_results" | tail -n 1)" == 0 ]]; then
    step "running the data-quality checks"
    cf quality run >/dev/null || true   # a failed check is shown on the dashboard, not fatal here
    done_step
  fi
  step "Superset: checking the dashboards show data"
  scripts/superset-check.sh "$superset_url" "$(config_value superset_password)" >/tmp/clickflow-superset.log 2>&1 \
    || { echo; cat /tmp/clickflow-superset.log; exit 1; }
  done_step
fi

cat <<INFO

clickflow is up ($((SECONDS - started)) s). Data and logs: $repo/var
  Kafka       127.0.0.1:9092          kcat -b 127.0.0.1:9092 -L
  ClickHouse  http://127.0.0.1:8123   build/clickflow sql "SELECT version()"; clients: docs/clickhouse.md
              native 127.0.0.1:9000   user clickflow / clickhouse; read-only: dashboards / dashboards
  PostgreSQL  127.0.0.1:5432          user clickflow / clickflow, databases airflow, superset
  Airflow     http://127.0.0.1:8080   admin / admin; DAGs in airflow/dags, docs/airflow.md
  Superset    http://127.0.0.1:8088   admin / admin; 5 dashboards, docs/superset.md

  Send events:       build/clickflow produce --dir data/samples   (streaming mode loads and builds them)
  Loader metrics:    http://127.0.0.1:9464/metrics
  Status:            build/clickflow stack status   (or http://127.0.0.1:9465/status, /metrics)
  Stop:              build/clickflow stack down
INFO
