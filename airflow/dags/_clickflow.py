"""Shared pieces of the four clickflow DAGs (docs/design.md#airflow-dags): default arguments and
the task factory. Every task is a BashOperator calling the `clickflow` binary; the logic lives
there.

The stack starts Airflow with PATH holding the clickflow binary and CLICKFLOW_CONFIG naming the
config the stack runs with, and tasks inherit both, so `clickflow` in a task talks to the same
Kafka and ClickHouse as the stack. Listed in .airflowignore: this module holds no DAG.
"""

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator


def _topics():
    """The platform's topics, one task each, from the binary's one list (src/ingest/event_schema.cc).

    Read when the DAG file is parsed; a missing binary fails the import with this message."""
    try:
        out = subprocess.run(["clickflow", "topics", "names"], check=True, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        raise RuntimeError(f"clickflow DAGs: cannot list the topics with `clickflow topics names`: {e}") from e
    return tuple(out.stdout.split())


TOPICS = _topics()

# <resources>/airflow/dags/_clickflow.py -> <resources>/data/samples
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "data" / "samples"

# Scheduled DAGs start from here; catchup is off, so only the latest interval runs.
START_DATE = datetime(2025, 1, 1, tzinfo=UTC)

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


def clickflow_task(task_id, command, env=None, xcom=False, **kwargs):
    """A task running `command` with bash -e; the environment is the stack's plus `env`.

    The output is in the task log; with xcom=True its last line is also the task's XCom."""
    return BashOperator(
        task_id=task_id,
        bash_command="set -euo pipefail\n" + command,
        env=env,
        append_env=True,
        do_xcom_push=xcom,
        **kwargs,
    )
