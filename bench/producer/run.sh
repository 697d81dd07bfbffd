#!/usr/bin/env bash
# Producer throughput: clickflow produce vs kcat -P vs a Python confluent-kafka producer, on the
# same generated browser_events.jsonl, against the Kafka of a running stack. See README.md.
#
#   bench/producer/run.sh CLICKFLOW_YAML [EVENTS]
#
# Environment: EVENTS (default 1000000), RUNS (default 3; the best run of each tool counts),
# CLICKFLOW (binary, default build/clickflow), BENCH_DIR (work dir, default /tmp/clickflow-bench),
# BENCH_VENV (virtualenv, default $BENCH_DIR/venv).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
config=${1:?usage: $0 CLICKFLOW_YAML [EVENTS]}
events=${2:-${EVENTS:-1000000}}
runs=${RUNS:-3}
clickflow=${CLICKFLOW:-$repo/build/clickflow}
work=${BENCH_DIR:-/tmp/clickflow-bench}
venv=${BENCH_VENV:-$work/venv}
confluent_kafka_version=2.16.1

[[ -x $clickflow ]] || { echo "no clickflow binary at $clickflow (set CLICKFLOW)" >&2; exit 1; }
command -v kcat >/dev/null || { echo "kcat is not installed" >&2; exit 1; }
mkdir -p "$work"

bootstrap=$("$clickflow" -c "$config" config show | awk '$1 == "bootstrap_servers:" {print $2; exit}')
[[ -n $bootstrap ]] || { echo "cannot read kafka.bootstrap_servers from $config" >&2; exit 1; }

# The Python baseline and the topic helpers, from PyPI, pinned.
if ! "$venv/bin/python" -c "import confluent_kafka" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "confluent-kafka==$confluent_kafka_version"
fi
py() { "$venv/bin/python" "$here/bench_kafka.py" "$@"; }

# One generated file (deterministic), reused across runs of the same size.
data=$work/data-$events
file=$data/browser_events.jsonl
if [[ ! -s $file ]]; then
  "$clickflow" generate --out "$data" --events "$events" --seed 1 2>/dev/null
fi
lines=$(grep -c . "$file")
bytes=$(stat -c %s "$file")
cat "$file" >/dev/null  # in the page cache for every tool alike

# Same producer settings for all three (DefaultProducerProperties in src/kafka/producer.cc).
kcat_props=(-X enable.idempotence=true -X acks=all -z lz4 -X linger.ms=10 -X batch.size=1000000
            -X batch.num.messages=100000 -X partitioner=murmur2_random -X message.timeout.ms=120000)

topics=()
cleanup() { if ((${#topics[@]})); then py delete "$bootstrap" "${topics[@]}" >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT

fresh_topic() {  # a new 3-partition topic per run, so every run starts from an empty log
  local t="bench_$1_$$_$2"
  py create "$bootstrap" "$t"
  topics+=("$t")
  echo "$t"
}

now() { date +%s.%N; }

declare -A best
run_tool() {  # tool run-index -> prints seconds; checks the topic received every line
  local tool=$1 i=$2 topic start end got
  topic=$(fresh_topic "$tool" "$i")
  start=$(now)
  case $tool in
    # Undocumented --any-topic: clickflow produce otherwise only accepts the four platform
    # topics; --key-field keys by event_id as browser_events would be.
    clickflow) "$clickflow" -c "$config" produce --any-topic --key-field event_id --no-progress \
                 --topic "$topic" --file "$file" >/dev/null ;;
    # Null keys, like kcat: the like-for-like comparison of the produce path itself.
    clickflow-nokey) "$clickflow" -c "$config" produce --any-topic --no-progress \
                 --topic "$topic" --file "$file" >/dev/null ;;
    kcat)      kcat -P -b "$bootstrap" -t "$topic" "${kcat_props[@]}" -l "$file" ;;
    python)    py produce "$bootstrap" "$topic" "$file" event_id >/dev/null ;;
  esac
  end=$(now)
  got=$(py count "$bootstrap" "$topic")
  if [[ $got != "$lines" ]]; then
    echo "$tool: topic $topic has $got messages, expected $lines" >&2
    exit 1
  fi
  echo "$end - $start" | bc -l
}

echo "file: $file ($lines lines, $((bytes / 1000000)) MB); kafka: $bootstrap; best of $runs runs" >&2
# Warm-up: the broker's JIT and page cache, so the first tool measured is not penalised.
"$clickflow" -c "$config" produce --any-topic --no-progress --topic "$(fresh_topic warmup 0)" \
  --file "$file" >/dev/null

for i in $(seq 1 "$runs"); do
  for tool in clickflow clickflow-nokey kcat python; do  # interleaved, so drift hits every tool alike
    s=$(run_tool "$tool" "$i")
    printf '  run %d  %-15s %7.2f s  %9.0f lines/s\n' "$i" "$tool" "$s" "$(echo "$lines / $s" | bc -l)" >&2
    if [[ -z ${best[$tool]:-} ]] || (($(echo "$s < ${best[$tool]}" | bc -l))); then best[$tool]=$s; fi
  done
done

rate() { echo "$lines / ${best[$1]}" | bc -l; }
echo
printf '%-15s %9s %12s %9s  %s\n' tool seconds lines/s MB/s notes
for tool in clickflow clickflow-nokey kcat python; do
  note=""
  [[ $tool == clickflow ]] && note="keys: event_id (simdjson), zero-copy values"
  [[ $tool == clickflow-nokey ]] && note="null keys (no JSON parsing), as kcat"
  [[ $tool == kcat ]] && note="NO keys (kcat -P sends each line as a value only)"
  [[ $tool == python ]] && note="keys: event_id (json.loads), confluent-kafka $confluent_kafka_version"
  printf '%-15s %9.2f %12.0f %9.1f  %s\n' "$tool" "${best[$tool]}" "$(rate "$tool")" \
    "$(echo "$bytes / 1000000 / ${best[$tool]}" | bc -l)" "$note"
done
printf '\nclickflow/kcat   %.2fx  (goal >= 0.9x)\n' "$(echo "$(rate clickflow) / $(rate kcat)" | bc -l)"
printf 'clickflow-nokey/kcat %.2fx  (like for like: both without keys)\n' \
  "$(echo "$(rate clickflow-nokey) / $(rate kcat)" | bc -l)"
printf 'clickflow/python %.2fx  (goal >= 3x)\n' "$(echo "$(rate clickflow) / $(rate python)" | bc -l)"
