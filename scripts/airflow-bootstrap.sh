#!/usr/bin/env bash
# Puts the stack's Airflow in the state ./run.sh promises: the scheduled DAGs unpaused, and
# init_data_pipeline run once (only if it never ran) and waited for. Talks to the REST API.
#
#   scripts/airflow-bootstrap.sh <airflow base url> <admin password>
set -euo pipefail
base="${1:?usage: airflow-bootstrap.sh <base url> <admin password>}"
password="${2:?usage: airflow-bootstrap.sh <base url> <admin password>}"

json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

token="$(curl -sf -X POST "$base/auth/token" -H 'Content-Type: application/json' \
  -d "$(python3 -c 'import json, sys; print(json.dumps({"username": "admin", "password": sys.argv[1]}))' "$password")" \
  | json 'd["access_token"]')"
api() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }

# The dag-processor stores the DAGs a few seconds after it starts.
for _ in $(seq 1 120); do
  n="$(api "$base/api/v2/dags?limit=100" | json 'len(d["dags"])')"
  [[ "$n" -ge 4 ]] && break
  sleep 2
done
[[ "$n" -ge 4 ]] || { echo "airflow-bootstrap: only $n DAGs parsed; see: clickflow stack logs airflow-dag-processor" >&2; exit 1; }

for dag in init_data_pipeline streaming_to_clickhouse build_dwh_layer data_quality_checks; do
  api -X PATCH "$base/api/v2/dags/$dag" -d '{"is_paused": false}' >/dev/null
done

runs="$(api "$base/api/v2/dags/init_data_pipeline/dagRuns?limit=1" | json 'd["total_entries"]')"
if [[ "$runs" -eq 0 ]]; then
  run_id="$(api -X POST "$base/api/v2/dags/init_data_pipeline/dagRuns" -d '{"logical_date": null}' \
    | json 'd["dag_run_id"]')"
else
  run_id="$(api "$base/api/v2/dags/init_data_pipeline/dagRuns?order_by=-start_date&limit=1" \
    | json 'd["dag_runs"][0]["dag_run_id"]')"
fi
for _ in $(seq 1 300); do
  state="$(api "$base/api/v2/dags/init_data_pipeline/dagRuns/$run_id" | json 'd["state"]')"
  [[ "$state" == success || "$state" == failed ]] && break
  sleep 2
done
echo "init_data_pipeline $run_id: $state"
[[ "$state" == success ]]
