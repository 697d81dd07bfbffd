"""data_quality_checks (hourly): five checks over staging and the warehouse, each recording its
results in analytics.quality_results under the run's id, then the Markdown report. A check exits
non-zero when it fails; the report runs anyway and fails the run, naming the failed checks.
"""

from datetime import timedelta

from airflow.sdk import DAG

from _clickflow import DAG_ARGS, clickflow_task

CHECKS = ("check_freshness", "check_nulls", "check_duplicates", "check_referential_integrity", "check_consistency")

with DAG(
    dag_id="data_quality_checks",
    description="Freshness, nulls, duplicates, referential integrity, consistency; Markdown report",
    schedule="@hourly",
    dagrun_timeout=timedelta(minutes=45),
    **DAG_ARGS,
):
    # Data problems do not go away on retry; retries are for ClickHouse being unreachable.
    checks = [
        clickflow_task(name, f"clickflow quality run --check {name} --run-id '{{{{ run_id }}}}'", retries=1)
        for name in CHECKS
    ]
    report = clickflow_task(
        "generate_quality_report",
        "clickflow quality run --check generate_quality_report --run-id '{{ run_id }}'",
        trigger_rule="all_done",
        retries=1,
    )

    checks >> report
