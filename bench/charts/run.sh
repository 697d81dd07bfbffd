#!/usr/bin/env bash
# Chart latency on a 10M-event warehouse: every chart's data API (cold, force=true) next to the
# bare ClickHouse time of the same SQL. See README.md.
#
#   bench/charts/run.sh CLICKFLOW_YAML      # a running stack with Superset
#
# Environment: EVENTS (default 1000000, loaded through the real pipeline), COPIES (default 10:
# fact_events is then filled with COPIES times those events under new event and click ids),
# RUNS (default 7), CLICKFLOW (binary), BENCH_DIR (default /tmp/clickflow-bench-charts).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
config=${1:?usage: $0 CLICKFLOW_YAML}
events=${EVENTS:-1000000}
copies=${COPIES:-10}
clickflow=${CLICKFLOW:-$repo/build/clickflow}
work=${BENCH_DIR:-/tmp/clickflow-bench-charts}
cf() { "$clickflow" --config "$config" "$@"; }
value() { cf config show | sed -n "s/^ *$1: *//p" | head -1; }

# 1. EVENTS generated events through the pipeline (produce, load, dwh build).
rm -rf "$work" && mkdir -p "$work"
cf generate --out "$work/gen" --events "$events" --seed 9 >/dev/null
cf produce --dir "$work/gen" --no-progress | tail -1
cf load --once --no-metrics | tail -1
cf dwh build --step facts | tail -1
# 2. Copies under new ids, so that the charts scan COPIES x EVENTS facts with the same shape
#    (the generator's distributions). Users are copied too: the cohort chart stays meaningful.
columns=$(cf sql --format csv "SELECT name FROM system.columns WHERE database = 'analytics' AND table = 'fact_events'" \
  | tail -n +2 | tr -d '"' | paste -sd, -)
for ((i = 1; i < copies; ++i)); do
  # No SELECT * REPLACE on 18.16: the column list, with the three ids suffixed.
  select=$(echo "$columns" | sed -E "s/(^|,)(event_id|click_id|user_domain_id)(,|$)/\1concat(\2, '#$i')\3/g; s/(^|,)(event_id|click_id|user_domain_id)(,|$)/\1concat(\2, '#$i')\3/g")
  cf sql "INSERT INTO analytics.fact_events ($columns) SELECT $select FROM analytics.fact_events
          WHERE position(event_id, '#') = 0" >/dev/null
done
cf dwh users >/dev/null && cf dwh geo >/dev/null
cf quality run >/dev/null || true
echo "fact_events: $(cf sql --format csv 'SELECT count() FROM analytics.fact_events' | tail -1) rows"

python3 "$here/bench_charts.py" "http://127.0.0.1:$(value superset_port)" "$(value superset_password)" \
  "$(value url)" "$(value readonly_user)" "$(value readonly_password)" "${RUNS:-7}"
