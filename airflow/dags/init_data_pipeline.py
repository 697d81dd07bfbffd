"""init_data_pipeline (manual): applies the ClickHouse schema and creates the Kafka topics, sends
each sample file to its topic and loads it into ClickHouse staging, then checks that every offset
the run produced arrived exactly once. Trigger with {"data_dir": "/folder/with/the/four/jsonl/files"}
to load other files.
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
    # Each load task records the offsets its produce step appended (the high watermarks before
    # and after it) and hands them on as its XCom: verify_data_load checks those offsets, not
    # whatever earlier runs left in the tables.
    loads = [
        clickflow_task(
            f"load_{topic}",
            f"before=$(clickflow ingest offsets --topic {topic})\n"
            f'clickflow produce --topic {topic} --file "$DATA_DIR/{topic}.jsonl"\n'
            f'produced=$(clickflow ingest offsets --topic {topic} --since "$before")\n'
            f"clickflow load --once --topics {topic}\n"
            'echo "$produced"',
            env=DATA_DIR_ENV,
            xcom=True,
        )
        for topic in TOPICS
    ]
    # Every offset the loads produced is in staging or in the dead letters, exactly once.
    produced = "{{ ti.xcom_pull(task_ids=%r) | join(' ') }}" % [task.task_id for task in loads]
    verify = clickflow_task(
        "verify_data_load",
        'clickflow ingest verify-load --dir "$DATA_DIR" --produced "$PRODUCED"',
        env={**DATA_DIR_ENV, "PRODUCED": produced},
        retries=1,
    )

    create_topics >> loads >> verify
