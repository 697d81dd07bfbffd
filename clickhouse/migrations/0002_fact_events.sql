-- fact_events: one row per distinct browser event_id, joined with its location (event_id)
-- and its deduplicated device and geo rows (click_id). A missing side leaves that side's
-- columns at their defaults ('' and 0), not NULL: no Nullable columns to slow every query.
--
-- The builder never inserts into fact_events. It rebuilds a whole event day into
-- fact_events_build (first dropping that day there: REPLACE PARTITION copies parts, so the
-- build table keeps them) and swaps it in with
--   ALTER TABLE {db}.fact_events REPLACE PARTITION <yyyymmdd> FROM {db}.fact_events_build
-- which is atomic and idempotent on 18.16 and later. So no event_id is ever present twice and
-- count() is exact without FINAL. An empty build partition empties the day.
--
-- Partitions are toYYYYMMDD(event_date) like every day-partitioned table here, so retention
-- handles all of them alike (system.parts partition '20221128'). ORDER BY leads with the day
-- and the event type: dashboards filter on a time range first and split by type; event_id
-- last makes duplicate checks a sorted scan.
CREATE TABLE IF NOT EXISTS {db}.fact_events (
    event_id String,
    event_timestamp DateTime('UTC'),
    event_timestamp_us UInt32,
    event_date Date,
    event_hour DateTime('UTC'),
    event_type String,
    click_id String,
    browser_name String,
    browser_user_agent String,
    browser_language String,
    page_url String,
    page_url_path String,
    referer_url String,
    referer_medium String,
    utm_medium String,
    utm_source String,
    utm_content String,
    utm_campaign String,
    os String,
    os_name String,
    os_timezone String,
    device_type String,
    device_is_mobile UInt8,
    user_custom_id String,
    user_domain_id String,
    geo_latitude Float64,
    geo_longitude Float64,
    geo_country String,
    geo_timezone String,
    geo_region_name String,
    ip_address String,
    _built_at DateTime('UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(event_date)
ORDER BY (event_date, event_type, event_id)
{ttl:event_date + INTERVAL {fact_ttl_days} DAY};

-- The build twin: same columns, engine and keys (REPLACE PARTITION demands it), so it is
-- created AS fact_events and any later ALTER must be applied to both.
CREATE TABLE IF NOT EXISTS {db}.fact_events_build AS {db}.fact_events;
