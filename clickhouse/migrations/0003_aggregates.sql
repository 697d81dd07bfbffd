-- Pre-aggregated dashboard tables, kept exactly consistent with fact_events.
--
-- Materialized views fire on INSERT, never on REPLACE PARTITION. So the views read
-- fact_events_build and write TO the *_build twins; the builder swaps the day's partition of
-- each twin along with the fact partition:
--   ALTER TABLE {db}.fact_events         REPLACE PARTITION d FROM {db}.fact_events_build
--   ALTER TABLE {db}.agg_events_hourly   REPLACE PARTITION d FROM {db}.agg_events_hourly_build
--   ALTER TABLE {db}.agg_traffic_sources REPLACE PARTITION d FROM {db}.agg_traffic_sources_build
-- (and drops day d from all three build tables before rebuilding it). Each swap is atomic;
-- between them the aggregates lag the fact by one statement, and a rerun repairs a build
-- killed in between. Verified on 18.16: counts and uniq stay exact across rebuilds.
--
-- Users are user_domain_id; events without a device row count '' as one user, exactly as
-- uniq(user_domain_id) over fact_events does.
CREATE TABLE IF NOT EXISTS {db}.agg_events_hourly (
    event_date Date,
    event_hour DateTime('UTC'),
    event_type String,
    total_events AggregateFunction(count),
    unique_users AggregateFunction(uniq, String)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMMDD(event_date)
ORDER BY (event_date, event_hour, event_type)
{ttl:event_date + INTERVAL {fact_ttl_days} DAY};

CREATE TABLE IF NOT EXISTS {db}.agg_events_hourly_build AS {db}.agg_events_hourly;

CREATE TABLE IF NOT EXISTS {db}.agg_traffic_sources (
    event_date Date,
    utm_source String,
    utm_medium String,
    utm_campaign String,
    total_events AggregateFunction(count),
    unique_users AggregateFunction(uniq, String)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMMDD(event_date)
ORDER BY (event_date, utm_source, utm_medium, utm_campaign)
{ttl:event_date + INTERVAL {fact_ttl_days} DAY};

CREATE TABLE IF NOT EXISTS {db}.agg_traffic_sources_build AS {db}.agg_traffic_sources;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.mv_agg_events_hourly
TO {db}.agg_events_hourly_build
AS SELECT
    event_date,
    event_hour,
    event_type,
    countState() AS total_events,
    uniqState(user_domain_id) AS unique_users
FROM {db}.fact_events_build
GROUP BY event_date, event_hour, event_type;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.mv_agg_traffic_sources
TO {db}.agg_traffic_sources_build
AS SELECT
    event_date,
    utm_source,
    utm_medium,
    utm_campaign,
    countState() AS total_events,
    uniqState(user_domain_id) AS unique_users
FROM {db}.fact_events_build
GROUP BY event_date, utm_source, utm_medium, utm_campaign;
