#!/usr/bin/env bash
# The two ClickHouse engines of the local stack side by side (docs/clickhouse.md): for each of
# chdb (26.9) and debian (18.16), a stack of its own (temp data dir, free loopback ports,
# Superset, no Airflow) on the same machine and the same generated data, then
#   - idle memory: RSS of the ClickHouse server and of the whole stack after IDLE_S seconds idle;
#   - bench/loader (VARIANTS, default "a d": clickflow load --once vs direct HTTP inserts);
#   - bench/charts (EVENTS x COPIES facts, RUNS runs of every chart);
#   - bench/dwh (the warehouse build against an INSERT SELECT copy, a stack of its own).
# Each bench's whole output stays in BENCH_DIR/<engine>/. One run each, in one script: read the ratios within an engine, and the engines against each
# other only with the load average printed beside them.
#
#   bench/engines/run.sh                 # both engines
#   ENGINES=chdb bench/engines/run.sh    # one
#
# Environment: ENGINES ("chdb debian"), EVENTS (200000), COPIES (5), RUNS (3), IDLE_S (60),
# CLICKFLOW (binary, default build/clickflow), BENCH_DIR (default /tmp/clickflow-bench-engines).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
engines=${ENGINES:-chdb debian}
events=${EVENTS:-200000}
clickflow=${CLICKFLOW:-$repo/build/clickflow}
work=${BENCH_DIR:-/tmp/clickflow-bench-engines}
export CLICKFLOW_STACK_DEPS_DIR=${CLICKFLOW_STACK_DEPS_DIR:-$repo/var/deps}
summary=()

for engine in $engines; do
  dir=$work/$engine
  rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$work" "$dir"
  config=$dir/clickflow.yaml
  "$clickflow" temp-config "$dir/var" "clickhouse_engine: $engine" "airflow: false" \
    "deps_dir: $CLICKFLOW_STACK_DEPS_DIR" >"$config"
  cf() { "$clickflow" --config "$config" "$@"; }
  trap 'cf stack down >/dev/null 2>&1 || true' EXIT
  echo "== $engine: stack up"
  cf stack up | tail -1
  cf migrate | tail -1
  cf topics create | tail -1
  version=$(cf sql --format csv 'SELECT version()' | tail -1 | tr -d '"')
  sleep "${IDLE_S:-60}"
  status=$(cf stack status)
  ch_mb=$(awk '$1 == "clickhouse" {print $5}' <<<"$status")
  all_mb=$(awk '$2 == "healthy" {sum += $5} END {print sum}' <<<"$status")
  echo "$status"
  echo "== $engine ($version): bench/loader"
  VARIANTS=${VARIANTS:-a d} BENCH_DIR=$work/loader-data "$repo/bench/loader/run.sh" "$config" "$events" \
    >"$dir/loader.log" 2>&1
  loader=$(tail -12 "$dir/loader.log")
  echo "== $engine ($version): bench/charts"
  cf sql "TRUNCATE TABLE analytics.fact_events" >/dev/null
  EVENTS=$events COPIES=${COPIES:-5} RUNS=${RUNS:-3} BENCH_DIR=$work/charts-data \
    "$repo/bench/charts/run.sh" "$config" >"$dir/charts.log" 2>&1
  charts=$(tail -20 "$dir/charts.log")
  cf stack down | tail -1
  trap - EXIT
  echo "== $engine ($version): bench/dwh"
  CLICKFLOW_STACK_CLICKHOUSE_ENGINE=$engine BENCH_DIR=$work/dwh-data "$repo/bench/dwh/run.sh" "$events" \
    >"$dir/dwh.log" 2>&1
  dwh=$(tail -5 "$dir/dwh.log")
  summary+=("### $engine: ClickHouse $version, load average $(cut -d' ' -f1-3 /proc/loadavg)
idle after ${IDLE_S:-60} s: clickhouse $ch_mb MB RSS, whole stack $all_mb MB
-- loader --
$loader
-- charts --
$charts
-- dwh --
$dwh")
done
printf '%s\n\n' "${summary[@]}"
