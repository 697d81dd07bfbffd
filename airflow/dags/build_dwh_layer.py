"""build_dwh_layer (every 15 minutes): rebuilds the fact days touched by new staging rows (and the
aggregates with them), then the dimensions, merges, verifies the warehouse, and drops staging
partitions older than staging_keep_days whose events are already in fact_events.
"""

from datetime import timedelta

from airflow.sdk import DAG

from _clickflow import DAG_ARGS, clickflow_task

with DAG(
    dag_id="build_dwh_layer",
    description="Staging -> fact_events, aggregates, dim_users, dim_geo",
    schedule="*/15 * * * *",
    dagrun_timeout=timedelta(minutes=45),
    **DAG_ARGS,
):
    facts = clickflow_task("build_fact_events", "clickflow dwh facts")
    users = clickflow_task("update_dim_users", "clickflow dwh users")
    geo = clickflow_task("update_dim_geo", "clickflow dwh geo")
    optimize = clickflow_task("optimize_tables", "clickflow dwh optimize")
    # A wrong warehouse stays wrong on retry: one retry (ClickHouse may be restarting), no more.
    verify = clickflow_task("verify_dwh_layer", "clickflow dwh verify", retries=1)
    clear = clickflow_task("clear_staging_old_data", "clickflow dwh clear-staging")

    facts >> [users, geo] >> optimize >> verify >> clear
