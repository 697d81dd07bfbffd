#!/usr/bin/env bash
# Loader throughput: `clickflow load --once` vs a classic Python consumer, ClickHouse's own Kafka
# engine, and direct HTTP JSONEachRow inserts, all on the same generated events, in one run,
# against the Kafka and ClickHouse of a running stack. See README.md.
#
#   bench/loader/run.sh CLICKFLOW_YAML [EVENTS]
#
# Environment: EVENTS (default 1000000 browser events, ~4x as many lines over the 4 topics),
# VARIANTS (default "a b c c2 d d2"), CLICKFLOW (binary, default build/clickflow), BENCH_DIR
# (work dir for the generated files, default /tmp/clickflow-bench-loader), MALFORMED_RATE
# (generator --malformed-rate, default 0; >0 skips (b), see README), KEEP_DBS=1 (keep the
# bench_* databases), B_STALL_S (seconds without progress before (b) is declared stalled, 180),
# BENCH_A_COMMIT=sync (variant a commits synchronously after each insert; default async).
#
# Needs: `clickflow migrate` and `clickflow topics create` done on that stack; curl; python3
# (a virtualenv with requirements.txt is created in bench/loader/.venv if missing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
config=${1:?usage: $0 CLICKFLOW_YAML [EVENTS]}
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
events=${2:-${EVENTS:-1000000}}
variants=${VARIANTS:-"a b c c2 d d2"}
clickflow=${CLICKFLOW:-$repo/build/clickflow}
work=${BENCH_DIR:-/tmp/clickflow-bench-loader}
venv=$here/.venv
malformed_rate=${MALFORMED_RATE:-0}
stall_s=${B_STALL_S:-180}
run_id=$(date +%s)

[[ -x $clickflow ]] || { echo "no clickflow binary at $clickflow (set CLICKFLOW)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }
mkdir -p "$work"
log() { echo "$*" >&2; }
now() { date +%s.%N; }

# --- configuration (as clickflow sees it, env overrides included) ------------------------------
shown=$("$clickflow" -c "$config" config show)
cfg() {  # section key
  awk -v s="$1" -v k="$2" '/^[a-z_]+:/ {sec = $1; sub(":$", "", sec); next}
                           sec == s && $1 == k ":" {print $2; exit}' <<<"$shown"
}
bootstrap=$(cfg kafka bootstrap_servers)
ch_url=$(cfg clickhouse url)
ch_db=$(cfg clickhouse database)
ch_user=$(cfg clickhouse user)
ch_password=$(cfg clickhouse password)
ch_host=$(cfg stack host)
ch_tcp_port=$(cfg stack clickhouse_tcp_port)
batch_size=$(cfg pipeline batch_size)
[[ -n $bootstrap && -n $ch_url && -n $ch_db && -n $ch_tcp_port ]] || { echo "cannot read $config" >&2; exit 1; }

ch() {  # one statement over HTTP; prints the answer (TabSeparated)
  curl -sS --fail-with-body -u "$ch_user:$ch_password" "$ch_url/" --data-binary "$1"
}
ch_version=$(ch 'SELECT version()') || { echo "ClickHouse at $ch_url does not answer" >&2; exit 1; }
if [[ $(ch "EXISTS TABLE $ch_db.events_browser_raw") != 1 ]]; then
  echo "$ch_db.events_browser_raw is missing: run \`clickflow -c $config migrate\` first" >&2
  exit 1
fi

# --- Python (variant (a) and the helpers), pinned, from PyPI ----------------------------------
if ! "$venv/bin/python" -c "import confluent_kafka, clickhouse_driver" 2>/dev/null; then
  log "creating $venv (requirements.txt)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
fi
py() { "$venv/bin/python" "$here/bench_loader.py" "$@"; }
pyjson() { "$venv/bin/python" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# --- the events: generated once, produced once ------------------------------------------------
data=$work/data-$events-m$malformed_rate
if [[ ! -s $data/manifest.json ]]; then
  "$clickflow" generate --out "$data" --events "$events" --seed 1 --malformed-rate "$malformed_rate" >&2
fi
topics=() tables=()  # the platform's list, from the binary (ingest/event_schema)
while IFS=$'\t' read -r t tb; do topics+=("$t"); tables+=("$tb"); done < <("$clickflow" topics names --tables)
((${#topics[@]} == 4)) || { echo "$clickflow topics names --tables: expected four topics" >&2; exit 1; }
declare -A lines valid
total_lines=0 total_valid=0
for t in "${topics[@]}"; do
  lines[$t]=$(pyjson "d['files']['$t.jsonl']['lines']" <"$data/manifest.json")
  valid[$t]=$((lines[$t] - $(pyjson "d['files']['$t.jsonl']['malformed']" <"$data/manifest.json")))
  got=$(grep -c . "$data/$t.jsonl")
  [[ $got == "${lines[$t]}" ]] || { echo "$data/$t.jsonl: $got lines, manifest says ${lines[$t]}" >&2; exit 1; }
  total_lines=$((total_lines + lines[$t])); total_valid=$((total_valid + valid[$t]))
done
bytes=$(cat "$data"/*.jsonl | wc -c)
log "events: $data ($total_lines lines, $total_valid valid, $((bytes / 1000000)) MB)"
log "stack: kafka $bootstrap, clickhouse $ch_url ($ch_version), database $ch_db; clickflow $clickflow"

start_offsets=$(py watermarks "$bootstrap")
t0=$(now)
"$clickflow" -c "$config" produce --dir "$data" --no-progress >&2
t1=$(now)
end_offsets=$(py watermarks "$bootstrap")
for t in "${topics[@]}"; do
  n=$(pyjson "sum(d[1]['$t'].values()) - sum(d[0]['$t'].values())" <<<"[$start_offsets, $end_offsets]")
  [[ $n == "${lines[$t]}" ]] || { echo "$t received $n messages, expected ${lines[$t]}" >&2; exit 1; }
done
log "produced $total_lines lines once in $(printf %.1f "$(echo "$t1 - $t0" | bc -l)") s"

# --- helpers per variant ----------------------------------------------------------------------
fresh_db() { ch "DROP DATABASE IF EXISTS $1" >/dev/null; }
copy_tables() {  # db: empty copies of the four staging tables and ingest_errors
  ch "CREATE DATABASE $1" >/dev/null
  for tb in "${tables[@]}" ingest_errors; do ch "CREATE TABLE $1.$tb AS $ch_db.$tb" >/dev/null; done
}
table_rows() { ch "SELECT count() FROM $1.$2"; }
db_rows() {
  local n=0
  for tb in "${tables[@]}"; do n=$((n + $(table_rows "$1" "$tb"))); done
  echo "$n"
}
# A content checksum over every data column (not the Kafka columns nor _ingested_at), so the
# variants can be compared row for row: same rows, same converted values. Coordinates are
# compared to 9 decimals: 18.16's float parser (variants b, c) is off by one ulp on ~0.5% of
# them, where the loader's std::from_chars (and Python's float) round correctly.
declare -A data_cols
for tb in "${tables[@]}"; do
  data_cols[$tb]=$(ch "SELECT arrayStringConcat(groupArray(c), ', ') FROM (SELECT if(type = 'Float64',
    concat('round(', name, ', 9)'), name) AS c FROM system.columns
    WHERE database = '$ch_db' AND table = '$tb' AND name NOT IN ('_topic', '_partition', '_offset', '_ingested_at'))")
done
checksum() {
  local out="" tb
  for tb in "${tables[@]}"; do
    out+=$(ch "SELECT sum(cityHash64(${data_cols[$tb]})) FROM $1.$tb")-
  done
  echo "${out%-}"
}
settle() {  # wait for background merges of the previous variant, so they do not bill the next
  local i
  for i in $(seq 1 120); do
    [[ $(ch "SELECT count() FROM system.merges") == 0 ]] && break
    sleep 1
  done
  sleep 2
}
commit_start() {  # group topic...: the group starts at the offsets before the produce
  local group=$1
  shift
  py commit "$bootstrap" "$group" "$(pyjson "json.dumps({t: d[t] for t in '$*'.split()})" <<<"$start_offsets")"
}

declare -A secs rows note content
record() {  # variant db seconds note
  local v=$1 db=$2 per="" tb t i
  secs[$v]=$3
  rows[$v]=$(db_rows "$db")
  note[$v]=$4
  for i in 0 1 2 3; do
    t=${topics[$i]} tb=${tables[$i]}
    n=$(table_rows "$db" "$tb")
    [[ $n == "${valid[$t]}" ]] || per+=" $tb=$n/${valid[$t]}"
  done
  if [[ -n $per ]]; then note[$v]="ROW COUNT MISMATCH:$per; ${note[$v]}"; fi
  content[$v]=$(checksum "$db")
  log "  $v: ${rows[$v]} rows in $(printf %.1f "$3") s${per:+ (MISMATCH$per)}"
  if [[ ${KEEP_DBS:-0} != 1 ]]; then fresh_db "$db"; fi
  settle
}

run_a() {  # classic Python consumer: confluent-kafka + clickhouse-driver, 1000 rows per INSERT
  local db=bench_a group=bench_a_$run_id out
  fresh_db $db; copy_tables $db; settle
  commit_start "$group" "${topics[@]}"
  local s e
  s=$(now)
  local n="python: confluent-kafka poll + json.loads + clickhouse-driver, 1000 rows/INSERT"
  py consume "$bootstrap" "$group" "$ch_host" "$ch_tcp_port" "$ch_user" "$ch_password" $db \
    "$start_offsets" "$end_offsets" 1000 >/dev/null || n="FAILED; $n"
  e=$(now)
  record a $db "$(echo "$e - $s" | bc -l)" "$n"
}

run_b() {  # ClickHouse Kafka engine + materialized views
  local db=bench_b group=bench_b_$run_id t s e n last_n last_change
  if [[ $malformed_rate != 0 ]]; then
    secs[b]=0 rows[b]=0 content[b]=-
    note[b]="SKIPPED: 18.16 has no kafka_skip_broken_messages; a malformed line stalls the engine"
    return
  fi
  fresh_db $db
  # The engine in 18.16 starts a new group at the END of the log (auto.offset.reset is not
  # settable per table): commit the pre-produce offsets first, so it reads exactly our events.
  for t in "${topics[@]}"; do commit_start "${group}_$t" "$t"; done
  local ddl
  ddl=$(py ddl kafka $db "$ch_db" "$bootstrap" "$group")
  s=$(now)
  while IFS= read -r stmt; do ch "$stmt" >/dev/null; done <<<"$ddl"
  last_n=0 last_change=$(now)
  while true; do
    n=$(db_rows $db)
    e=$(now)
    ((n >= total_valid)) && break
    if ((n != last_n)); then last_n=$n last_change=$e; fi
    if (($(echo "$e - $last_change > $stall_s" | bc -l))); then
      log "  b: no progress for $stall_s s at $n rows: giving up"
      break
    fi
    sleep 0.5
  done
  for t in "${tables[@]}"; do  # stop the consumers
    for x in mv_$t mid_$t in_$t; do ch "DROP TABLE IF EXISTS $db.$x" >/dev/null; done
  done
  record b $db "$(echo "$e - $s" | bc -l)" "Kafka engine (18.16: 1 consumer/topic, no _topic/_partition/_offset) + MV"
}

run_c() {  # direct HTTP JSONEachRow, no Kafka; batch lines per INSERT
  local v=$1 lines_per_insert=$2 db=bench_$1 s e
  fresh_db "$db"
  while IFS= read -r stmt; do ch "$stmt" >/dev/null; done <<<"$(py ddl null "$db" "$ch_db")"
  settle
  s=$(now)
  local n="HTTP JSONEachRow, $lines_per_insert lines/INSERT -> Null table + MV"
  py http "$ch_url" "$ch_user" "$ch_password" "$db" "$data" "$lines_per_insert" >/dev/null || n="FAILED; $n"
  e=$(now)
  record "$v" "$db" "$(echo "$e - $s" | bc -l)" "$n"
}

run_d() {  # clickflow load --once
  local v=$1 bs=$2 db=bench_$1 group=bench_${1}_$run_id s e
  fresh_db "$db"
  CLICKFLOW_CLICKHOUSE_DATABASE=$db "$clickflow" -c "$config" migrate >/dev/null
  settle
  commit_start "$group" "${topics[@]}"
  s=$(now)
  local n="clickflow load --once, batch_size $bs (RowBinary)"
  CLICKFLOW_CLICKHOUSE_DATABASE=$db CLICKFLOW_PIPELINE_BATCH_SIZE=$bs \
    "$clickflow" -c "$config" load --once --group "$group" >&2 || n="FAILED; $n"
  e=$(now)
  record "$v" "$db" "$(echo "$e - $s" | bc -l)" "$n"
}

cleanup() {
  if [[ ${KEEP_DBS:-0} != 1 ]]; then
    for v in a b c c2 d d2; do fresh_db bench_$v 2>/dev/null || true; done
  fi
}
trap cleanup EXIT

for v in $variants; do
  log "variant $v"
  case $v in
    a) run_a ;;
    b) run_b ;;
    c) run_c c 1000 ;;
    c2) run_c c2 100000 ;;
    d) run_d d "$batch_size" ;;
    d2) run_d d2 10000 ;;
    *) echo "unknown variant $v" >&2; exit 1 ;;
  esac
done

# --- results ----------------------------------------------------------------------------------
ref=""
for v in d d2 a c c2 b; do [[ -n ${content[$v]:-} && ${content[$v]} != - ]] && { ref=$v; break; }; done
echo
echo "loader bench: $events browser events, $total_lines lines ($total_valid valid) in 4 topics, $((bytes / 1000000)) MB;"
echo "ClickHouse $ch_version; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-3s %10s %9s %10s  %-7s %s\n' variant rows seconds rows/s content notes
for v in $variants; do
  [[ -n ${secs[$v]:-} ]] || continue
  rate=0
  (($(echo "${secs[$v]} > 0" | bc -l))) && rate=$(echo "${rows[$v]} / ${secs[$v]}" | bc -l)
  c=-
  if [[ ${content[$v]} != - ]]; then
    if [[ ${content[$v]} == "${content[$ref]}" ]]; then c="=$ref"; else c=DIFFERS; fi
  fi
  printf '%-7s %10d %9.1f %10.0f  %-7s %s\n' "$v" "${rows[$v]}" "${secs[$v]}" "$rate" "$c" "${note[$v]}"
done
ratio() {  # x y goal
  if [[ -n ${secs[$1]:-} && -n ${secs[$2]:-} ]] && (($(echo "${secs[$1]} > 0 && ${secs[$2]} > 0" | bc -l))) \
     && [[ ${note[$1]} != ROW* && ${note[$2]} != ROW* && ${note[$2]} != SKIPPED* ]]; then
    local r
    r=$(echo "(${rows[$1]} / ${secs[$1]}) / (${rows[$2]} / ${secs[$2]})" | bc -l)
    local verdict=met
    (($(echo "$r < $3" | bc -l))) && verdict="NOT met"
    printf '%s/%-3s %6.2fx  (goal >= %sx: %s)\n' "$1" "$2" "$r" "$3" "$verdict"
  else
    printf '%s/%-3s    n/a  (a variant was skipped or lost rows)\n' "$1" "$2"
  fi
}
echo
ratio d a 10; ratio d b 1.5; ratio d c 0.8
ratio d2 a 10; ratio d2 b 1.5; ratio d2 c 0.8; ratio d2 c2 0.8
