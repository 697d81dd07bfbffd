#!/usr/bin/env bash
# End to end, streaming mode: how long from `clickflow produce` until a Superset chart counts
# the events; plus the cold start of the whole stack and its idle memory. See README.md.
#
#   bench/e2e/run.sh
#
# Environment: RATE (events/s, default 5000), SECONDS_TO_RUN (default 120), CLICKFLOW (binary,
# default build/clickflow), BENCH_DIR (default /tmp/clickflow-bench-e2e; wiped first).
# It starts its own stack (every server, streaming on) on free ports and stops it at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
rate=${RATE:-5000}
duration=${SECONDS_TO_RUN:-120}
clickflow=${CLICKFLOW:-$repo/build/clickflow}
work=${BENCH_DIR:-/tmp/clickflow-bench-e2e}
total_chart="93920b78-b155-5f6a-88f0-70879b857e9a"   # "Total events" (superset/assets)

[[ -x $clickflow ]] || { echo "no clickflow binary at $clickflow (set CLICKFLOW)" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work" && chmod 755 "$work"
"$clickflow" temp-config "$work/var" "streaming: true" >"$work/clickflow.yaml"
superset_port=$(sed -n 's/^  superset_port: //p' "$work/clickflow.yaml")
cf() { "$clickflow" --config "$work/clickflow.yaml" "$@"; }
trap 'cf stack down >/dev/null 2>&1 || true' EXIT

# 1. Cold start: an empty data dir to every server healthy (Airflow and Superset included).
start=$(date +%s.%N)
cf stack up >"$work/stack-up.log"
cold=$(echo "$(date +%s.%N) - $start" | bc)
echo "cold start of the whole stack: ${cold} s"; sed 's/^/  /' "$work/stack-up.log" | tail -n +2

# 2. Idle memory: every process of every server (worker processes included), after a minute.
sleep 60
idle_mb=$(cf stack status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for c in d["components"]:
    print("  %-22s %6.0f MB" % (c["name"], c["rss_bytes"] / 2**20), file=sys.stderr)
print(round(sum(c["rss_bytes"] for c in d["components"]) / 2**20))')
echo "idle memory, all processes: ${idle_mb} MB"

# 3. Traffic: one chunk of $rate events per second for $duration s, produced on the second.
chunks=$duration
cf generate --out "$work/gen" --events $((rate * chunks)) --seed 5 --days 1 --start "$(date -u +'%Y-%m-%d 00:00:00')" >/dev/null
for f in browser_events device_events geo_events location_events; do   # line i of each file: event i
  mkdir -p "$work/split/$f"
  split -d -a 4 -l "$rate" "$work/gen/$f.jsonl" "$work/split/$f/"
done
for ((k = 0; k < chunks; ++k)); do
  d="$work/chunk/$k"; mkdir -p "$d"
  for f in browser_events device_events geo_events location_events; do
    mv "$work/split/$f/$(printf %04d "$k")" "$d/$f.jsonl"
  done
done

token=$(curl -sf -X POST "http://127.0.0.1:$superset_port/api/v1/security/login" -H 'Content-Type: application/json' \
  -d '{"username": "admin", "password": "admin", "provider": "db"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
chart_id=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$superset_port/api/v1/chart/?q=(columns:!(id,uuid),page_size:100)" \
  | python3 -c "import json,sys; print([c['id'] for c in json.load(sys.stdin)['result'] if c['uuid'] == '$total_chart'][0])")
chart_count() {  # what the chart shows right now, computed fresh (force=true)
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$superset_port/api/v1/chart/$chart_id/data/?force=true" \
    | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["result"][0]["data"][0]["count"]))'
}
base=$(chart_count)

# The poller: time when the chart first shows each cumulative count.
( while true; do echo "$(date +%s.%N) $(chart_count || echo -1)"; sleep 0.5; done ) >"$work/seen.log" &
poller=$!
produce_start=$(date +%s.%N)
for ((k = 0; k < chunks; ++k)); do
  next=$(echo "$produce_start + $k" | bc)
  now=$(date +%s.%N)
  (( $(echo "$now < $next" | bc) )) && sleep "$(echo "$next - $now" | bc)"
  cf produce --dir "$work/chunk/$k" --no-progress >/dev/null
  echo "$k $(date +%s.%N)" >>"$work/produced.log"
done
produce_end=$(date +%s.%N)
want=$((base + rate * chunks))
for _ in $(seq 1 600); do   # until the last chunk is counted (or 5 minutes)
  [[ "$(tail -n 1 "$work/seen.log" | cut -d' ' -f2)" -ge $want ]] && break
  sleep 0.5
done
kill $poller 2>/dev/null || true
echo "produced $((rate * chunks)) events in $(echo "$produce_end - $produce_start" | bc) s (target ${rate}/s)"

python3 - "$work/produced.log" "$work/seen.log" "$base" "$rate" <<'PY'
import sys
produced = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
seen = [tuple(map(float, l.split())) for l in open(sys.argv[2]) if l.split()[1] != "-1"]
base, rate = int(sys.argv[3]), int(sys.argv[4])
delays = []
for k, t_produced in produced:
    need = base + (int(k) + 1) * rate
    t_seen = next((t for t, c in seen if c >= need and t >= t_produced), None)
    if t_seen is None:
        print(f"chunk {int(k)} never counted by the chart"); continue
    delays.append(t_seen - t_produced)
delays.sort()
pct = lambda p: delays[min(len(delays) - 1, int(p / 100 * len(delays)))]
print(f"produce -> counted by the Superset chart, over {len(delays)} one-second chunks:")
print(f"  p50 {pct(50):.1f} s   p95 {pct(95):.1f} s   max {delays[-1]:.1f} s   (goal: p95 <= 30 s)")
PY
