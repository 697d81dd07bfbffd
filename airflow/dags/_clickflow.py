"""Shared pieces of the four clickflow DAGs (docs/design.md#airflow-dags): default arguments and
the task factory. Every task is a BashOperator calling the `clickflow` binary; the logic lives
there.

The stack starts Airflow with PATH holding the clickflow binary and CLICKFLOW_CONFIG naming the
config the stack runs with, and tasks inherit both, so `clickflow` in a task talks to the same
Kafka and ClickHouse as the stack. Listed in .airflowignore: this module holds no DAG.
"""
from datetime import datetime, timedelta, timezone
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator

TOPICS = ("browser_events", "device_events", "geo_events", "location_events")
# Staging table of each topic (clickhouse/migrations).
STAGING = {topic: "events_" + topic.split("_")[0] + "_raw" for topic in TOPICS}

# <resources>/airflow/dags/_clickflow.py -> <resources>/data/samples
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "data" / "samples"

# Scheduled DAGs start from here; catchup is off, so only the latest interval runs.
START_DATE = datetime(2025, 1, 1, tzinfo=timezone.utc)

DEFAULT_ARGS = {
    "owner": "clickflow",
    "retries": 2,
    "retry_delay": timedelta(seconds=15),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=5),
    "execution_timeout": timedelta(minutes=10),
}

DAG_ARGS = {
    "start_date": START_DATE,
    "catchup": False,
    "max_active_runs": 1,
    "default_args": DEFAULT_ARGS,
    "tags": ["clickflow"],
}

# The folder a run loads: {"data_dir": "/path"} in the run's conf, else the samples. Passed
# through the environment, never pasted into the command, so conf cannot inject shell code.
DATA_DIR_ENV = {"DATA_DIR": "{{ (dag_run.conf or {}).get('data_dir') or '" + str(SAMPLES_DIR) + "' }}"}


def clickflow_task(task_id, command, env=None, **kwargs):
    """A task running `command` with bash -e; the environment is the stack's plus `env`."""
    return BashOperator(
        task_id=task_id,
        bash_command="set -euo pipefail\n" + command,
        env=env,
        append_env=True,
        # The output is in the task log; nothing reads it as an XCom.
        do_xcom_push=False,
        **kwargs,
    )


# verify_data_load: every non-empty line of each file is in staging or in the dead letters
# (>=, because a replayed file is harmless: the warehouse keys events by event_id).
VERIFY_LOAD = r"""
fail=0
for topic in {topics}; do
  file="$DATA_DIR/$topic.jsonl"
  if [ ! -f "$file" ]; then
    echo "verify_data_load: FAIL: $topic: no file $file"
    fail=1
    continue
  fi
  lines=$(grep -c '[^[:space:]]' "$file" || true)
  table=events_$(echo "$topic" | cut -d_ -f1)_raw
  counts=$(clickflow sql -f csv "SELECT (SELECT count() FROM $table), (SELECT count() FROM ingest_errors WHERE _topic = '$topic')" | tail -n 1)
  rows=${{counts%%,*}}
  dead=${{counts##*,}}
  if [ "$lines" -eq 0 ] || [ $((rows + dead)) -lt "$lines" ]; then
    echo "verify_data_load: FAIL: $topic: $file has $lines lines but $table holds $rows rows and ingest_errors $dead dead letters"
    fail=1
  else
    echo "verify_data_load: ok: $topic: $lines lines -> $rows rows in $table, $dead dead letters"
  fi
done
exit $fail
""".format(topics=" ".join(TOPICS))

# validate_ingestion: each topic's dead-letter share over the last hour stays under 5% (the
# samples carry about 1%); more means a producer is sending what the loader cannot read.
VALIDATE_INGESTION = r"""
fail=0
for topic in {topics}; do
  table=events_$(echo "$topic" | cut -d_ -f1)_raw
  counts=$(clickflow sql -f csv "SELECT (SELECT count() FROM $table WHERE _ingested_at >= now() - 3600), (SELECT count() FROM ingest_errors WHERE _topic = '$topic' AND _ingested_at >= now() - 3600)" | tail -n 1)
  rows=${{counts%%,*}}
  dead=${{counts##*,}}
  if [ $((dead * 100)) -gt $(((rows + dead) * 5)) ]; then
    echo "validate_ingestion: FAIL: $topic: $dead of $((rows + dead)) lines ingested in the last hour were dead-lettered (over 5%); see analytics.ingest_errors"
    fail=1
  else
    echo "validate_ingestion: ok: $topic: $rows rows, $dead dead letters in the last hour"
  fi
done
exit $fail
""".format(topics=" ".join(TOPICS))
