-- Staging: one table per Kafka topic, one row per valid record, as the loader parsed it.
--
-- Placeholders (rendered by clickflow migrate, see src/clickhouse/migrations.h):
--   {db}                 the configured database (clickhouse.database)
--   {ttl:<expr>}         "TTL <expr>" on servers with TTL (19.6+), nothing on 18.16
--   {staging_ttl_days}   pipeline.staging_ttl_days
--
-- Types: ids stay String (a malformed id in valid JSON still loads and is visible, rather
-- than dying in a UUID parse). 18.16 has no DateTime64, so event_timestamp is whole seconds
-- and event_timestamp_us holds the microseconds within that second (0..999999). Every
-- DateTime is DateTime('UTC'): the data is UTC by contract, and a bare DateTime would parse
-- and print text in the server's time zone, which on a developer machine is anything.
-- Every table ends with the Kafka coordinates and the batch stamp: the loader resumes from
-- max(_offset) per (_topic, _partition), which ORDER BY (_topic, _partition, _offset) keeps
-- cheap, and stamps one _ingested_at on a whole batch so a batch is one part in one
-- partition. Retention drops whole day partitions (everywhere); the TTL is a backstop where
-- the server has one.

CREATE TABLE IF NOT EXISTS {db}.events_browser_raw (
    event_id String,
    event_timestamp DateTime('UTC'),
    event_timestamp_us UInt32,
    event_type String,
    click_id String,
    browser_name String,
    browser_user_agent String,
    browser_language String,
    _topic String,
    _partition UInt16,
    _offset UInt64,
    _ingested_at DateTime('UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(_ingested_at)
ORDER BY (_topic, _partition, _offset)
{ttl:_ingested_at + INTERVAL {staging_ttl_days} DAY};

CREATE TABLE IF NOT EXISTS {db}.events_device_raw (
    click_id String,
    os String,
    os_name String,
    os_timezone String,
    device_type String,
    device_is_mobile UInt8,
    user_custom_id String,
    user_domain_id String,
    _topic String,
    _partition UInt16,
    _offset UInt64,
    _ingested_at DateTime('UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(_ingested_at)
ORDER BY (_topic, _partition, _offset)
{ttl:_ingested_at + INTERVAL {staging_ttl_days} DAY};

CREATE TABLE IF NOT EXISTS {db}.events_geo_raw (
    click_id String,
    geo_latitude Float64,
    geo_longitude Float64,
    geo_country String,
    geo_timezone String,
    geo_region_name String,
    ip_address String,
    _topic String,
    _partition UInt16,
    _offset UInt64,
    _ingested_at DateTime('UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(_ingested_at)
ORDER BY (_topic, _partition, _offset)
{ttl:_ingested_at + INTERVAL {staging_ttl_days} DAY};

CREATE TABLE IF NOT EXISTS {db}.events_location_raw (
    event_id String,
    page_url String,
    page_url_path String,
    referer_url String,
    referer_medium String,
    utm_medium String,
    utm_source String,
    utm_content String,
    utm_campaign String,
    _topic String,
    _partition UInt16,
    _offset UInt64,
    _ingested_at DateTime('UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(_ingested_at)
ORDER BY (_topic, _partition, _offset)
{ttl:_ingested_at + INTERVAL {staging_ttl_days} DAY};

-- Dead letters: records that failed validation, with the reason. They count as loaded for
-- the loader's resume point, so a bad record is recorded once and never blocks a partition.
CREATE TABLE IF NOT EXISTS {db}.ingest_errors (
    _topic String,
    _partition UInt16,
    _offset UInt64,
    raw String,
    error String,
    _ingested_at DateTime('UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(_ingested_at)
ORDER BY (_topic, _partition, _offset)
{ttl:_ingested_at + INTERVAL {staging_ttl_days} DAY};
