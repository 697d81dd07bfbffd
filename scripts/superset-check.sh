#!/usr/bin/env bash
# Checks what ./run.sh promises about Superset: the five dashboards are there and the
# "Total events" chart serves the warehouse's count through the chart-data API. Prints it.
#
#   scripts/superset-check.sh <superset base url> <admin password>
set -euo pipefail
base="${1:?usage: superset-check.sh <base url> <admin password>}"
password="${2:?usage: superset-check.sh <base url> <admin password>}"
total_events_chart="93920b78-b155-5f6a-88f0-70879b857e9a"   # superset/assets/charts/ov_total_events.yaml

json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

token="$(curl -sf -X POST "$base/api/v1/security/login" -H 'Content-Type: application/json' \
  -d "$(python3 -c 'import json, sys; print(json.dumps({"username": "admin", "password": sys.argv[1], "provider": "db"}))' "$password")" \
  | json 'd["access_token"]')"
api() { curl -sf -H "Authorization: Bearer $token" "$base$1"; }

dashboards="$(api '/api/v1/dashboard/?q=(page_size:100)' | json 'd["count"]')"
[[ "$dashboards" -ge 5 ]] || { echo "superset-check: $dashboards dashboards, expected 5; see: clickflow stack logs superset" >&2; exit 1; }

chart_id="$(api "/api/v1/chart/?q=(columns:!(id,uuid),page_size:100)" \
  | json "[c['id'] for c in d['result'] if c['uuid'] == '$total_events_chart'][0]")"
total="$(api "/api/v1/chart/$chart_id/data/" | json 'int(d["result"][0]["data"][0]["count"])')"
[[ "$total" -gt 0 ]] || { echo "superset-check: the Total events chart shows no events" >&2; exit 1; }
echo "superset: $dashboards dashboards; Total events shows $total"
