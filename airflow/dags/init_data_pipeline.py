"""init_data_pipeline (manual): applies the ClickHouse schema and creates the Kafka topics, sends
each sample file to its topic and loads it into ClickHouse staging, then checks that every line
arrived. Trigger with {"data_dir": "/folder/with/the/four/jsonl/files"} to load other files.
"""

from airflow.sdk import DAG

from _clickflow import DAG_ARGS, DATA_DIR_ENV, TOPICS, clickflow_task

with DAG(
    dag_id="init_data_pipeline",
    description="Create topics, load data/samples (or conf data_dir) into Kafka and staging",
    schedule=None,
    **DAG_ARGS,
):
    # Migrations are idempotent; running them here lets the DAG set up a fresh deployment.
    create_topics = clickflow_task("create_kafka_topics", "clickflow migrate\nclickflow topics create")
    loads = [
        clickflow_task(
            f"load_{topic}",
            f'clickflow produce --topic {topic} --file "$DATA_DIR/{topic}.jsonl"\n'
            f"clickflow load --once --topics {topic}",
            env=DATA_DIR_ENV,
        )
        for topic in TOPICS
    ]
    # Every non-empty line of each file is in staging or in the dead letters.
    verify = clickflow_task(
        "verify_data_load", 'clickflow ingest verify-load --dir "$DATA_DIR"', env=DATA_DIR_ENV, retries=1
    )

    create_topics >> loads >> verify
