#!/usr/bin/env bash
# Times the warehouse build (`clickflow dwh build --full`: facts in day batches and event_id
# buckets, both aggregates, dim_users, dim_geo, OPTIMIZE) on N generated events, in a stack of
# its own (temp data dir, free loopback ports, no Airflow or Superset), against a baseline run
# in the same script on the same server: a plain INSERT SELECT copy of the browser staging
# table, the least any build that reads the events must do. See README.md.
#
#   bench/dwh/run.sh [EVENTS]        # default 1,000,000 browser events over 7 days
#
# Environment: CLICKFLOW (binary, default build/clickflow), BENCH_DIR (default
# /tmp/clickflow-bench-dwh; generated events are kept per size and reused), RUNS (default 2:
# best of), CLICKFLOW_STACK_DEPS_DIR (default <repo>/var/deps, filled by scripts/install-deps.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
events=${1:-1000000}
runs=${RUNS:-2}
clickflow=${CLICKFLOW:-$repo/build/clickflow}
work=${BENCH_DIR:-/tmp/clickflow-bench-dwh}
gen="$work/gen-$events"
stack="$work/stack"

rm -rf "$stack" && mkdir -p "$stack"
"$clickflow" temp-config "$stack/var" "streaming: false" "airflow: false" "superset: false" \
  >"$stack/clickflow.yaml"
cf() { "$clickflow" --config "$stack/clickflow.yaml" "$@"; }
q() { cf sql --format csv "$1" | tail -n 1; }
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
trap 'cf stack down >/dev/null 2>&1 || true' EXIT

if [[ ! -f $gen/browser_events.jsonl ]]; then
  echo "generating $events events (7 days, 1% duplicates, 2% late) into $gen"
  cf generate --out "$gen" --events "$events" --seed 5 --days 7 --duplicate-rate 0.01 --late-rate 0.02 >/dev/null
fi
cf stack up >/dev/null
cf migrate >/dev/null
cf topics create >/dev/null
cf produce --dir "$gen" --no-progress >/dev/null
cf load --once 2>&1 | tail -n 1
rows=$(q "SELECT count() FROM analytics.events_browser_raw")
echo "staged: $rows browser rows, $(q "SELECT count() FROM analytics.events_location_raw") location," \
  "$(q "SELECT count() FROM analytics.events_device_raw") device, $(q "SELECT count() FROM analytics.events_geo_raw") geo"

best_copy="" best_build=""
for ((r = 1; r <= runs; ++r)); do
  cf sql "DROP TABLE IF EXISTS analytics.bench_copy" >/dev/null
  cf sql "CREATE TABLE analytics.bench_copy AS analytics.events_browser_raw" >/dev/null
  t0=$(now)
  cf sql "INSERT INTO analytics.bench_copy SELECT * FROM analytics.events_browser_raw" >/dev/null
  copy=$(calc "$(now) - $t0")
  t0=$(now)
  cf dwh build --full >"$work/build.log" 2>&1
  build=$(calc "$(now) - $t0")
  printf 'run %d: copy %.1f s, dwh build --full %.1f s\n' "$r" "$copy" "$build"
  [[ -n $best_build && $(calc "$build >= $best_build") == True ]] || best_build=$build
  [[ -n $best_copy && $(calc "$copy >= $best_copy") == True ]] || best_copy=$copy
done
cf sql "DROP TABLE IF EXISTS analytics.bench_copy" >/dev/null
grep -E "batch|bucket|rebuilt|optimized" "$work/build.log" | sed 's/^[0-9:.]* info  /  /' | tail -n 12

facts=$(q "SELECT count() FROM analytics.fact_events")
distinct=$(q "SELECT uniqExact(event_id) FROM analytics.fact_events")
[[ $facts == "$distinct" ]] || { echo "FAIL: fact_events has $facts rows for $distinct event_ids"; exit 1; }
cf dwh verify >/dev/null || { echo "FAIL: dwh verify"; exit 1; }
echo
echo "dwh bench: $events generated events, $rows browser rows staged, $facts facts; $(nproc) cores," \
  "ClickHouse $(q "SELECT version()" | tr -d '"'); best of $runs"
printf '%-34s %8s %12s\n' "" seconds "events/s"
printf '%-34s %8.1f %12.0f\n' "baseline: copy browser staging" "$best_copy" "$(calc "$facts / $best_copy")"
printf '%-34s %8.1f %12.0f\n' "dwh build --full" "$best_build" "$(calc "$facts / $best_build")"
printf 'build / copy: %.1fx the time of a plain copy\n' "$(calc "$best_build / $best_copy")"
