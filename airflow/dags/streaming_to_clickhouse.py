"""streaming_to_clickhouse (every 5 minutes): loads what arrived in each Kafka topic into its
ClickHouse staging table, exactly once (`clickflow load --once` resumes from the offsets recorded
in ClickHouse), then checks the dead-letter share of the last hour.
"""

from datetime import timedelta

from airflow.sdk import DAG

from _clickflow import DAG_ARGS, TOPICS, clickflow_task

with DAG(
    dag_id="streaming_to_clickhouse",
    description="Kafka -> ClickHouse staging, exactly once",
    schedule="*/5 * * * *",
    dagrun_timeout=timedelta(minutes=15),
    **DAG_ARGS,
):
    consumes = [clickflow_task(f"consume_{topic}", f"clickflow load --once --topics {topic}") for topic in TOPICS]
    # Each topic's dead-letter share over the last hour is at most 5%.
    validate = clickflow_task("validate_ingestion", "clickflow ingest validate", retries=1)

    consumes >> validate
