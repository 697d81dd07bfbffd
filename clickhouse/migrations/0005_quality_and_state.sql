-- Results of `clickflow quality run`, one row per check per run, for the Data Quality
-- dashboard (latest per check: argMax(status, checked_at) GROUP BY check). `check` and
-- `table` are keywords elsewhere in SQL, hence the backquotes here; 18.16 accepts them bare
-- in queries too.
CREATE TABLE IF NOT EXISTS {db}.quality_results (
    run_id String,
    `check` String,
    `table` String,
    status Enum8('pass' = 1, 'warn' = 2, 'fail' = 3),
    observed Float64,
    threshold Float64,
    details String,
    checked_at DateTime('UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMM(checked_at)
ORDER BY (`check`, checked_at)
{ttl:checked_at + INTERVAL {fact_ttl_days} DAY};

-- What the warehouse builder has built: an append-only log, one row per component
-- ('fact_events', 'dim_users', ...) per successful build. The current state of a component is
-- its latest row (argMax(watermark, finished_at)), so no FINAL or mutation is ever needed and
-- the history feeds the ingestion-lag panel. `watermark` is the staging _ingested_at the
-- build covered up to; `days` the event days it rebuilt, `rows_built` the rows it wrote.
CREATE TABLE IF NOT EXISTS {db}.dwh_build_state (
    component String,
    watermark DateTime('UTC'),
    days Array(Date),
    rows_built UInt64,
    started_at DateTime('UTC'),
    finished_at DateTime('UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMM(finished_at)
ORDER BY (component, finished_at);
