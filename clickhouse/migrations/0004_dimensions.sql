-- Dimensions, fully rebuilt from fact_events by every warehouse build. They are small, so
-- plain MergeTree without partitions: the builder fills the *_build twin (after
-- TRUNCATE TABLE on it) and swaps the single partition in with
--   ALTER TABLE {db}.dim_users REPLACE PARTITION tuple() FROM {db}.dim_users_build
-- which is atomic on 18.16 (checked) and keeps the table, its name and its grants in place;
-- no RENAME dance (18.16 has no EXCHANGE TABLES) and Superset never sees a missing table.
-- Plain MergeTree rather than ReplacingMergeTree: the swap already guarantees one row per
-- key, so readers need no FINAL.

-- One row per user (user_domain_id); os_name, device_type and geo_country are those of the
-- user's latest event.
CREATE TABLE IF NOT EXISTS {db}.dim_users (
    user_domain_id String,
    user_custom_id String,
    first_seen DateTime('UTC'),
    last_seen DateTime('UTC'),
    events UInt64,
    os_name String,
    device_type String,
    geo_country String,
    _built_at DateTime('UTC')
) ENGINE = MergeTree
ORDER BY user_domain_id;

CREATE TABLE IF NOT EXISTS {db}.dim_users_build AS {db}.dim_users;

-- One row per (country, region); latitude/longitude are the centroid of its events.
CREATE TABLE IF NOT EXISTS {db}.dim_geo (
    geo_country String,
    geo_region_name String,
    geo_timezone String,
    latitude Float64,
    longitude Float64,
    users UInt64,
    events UInt64,
    _built_at DateTime('UTC')
) ENGINE = MergeTree
ORDER BY (geo_country, geo_region_name);

CREATE TABLE IF NOT EXISTS {db}.dim_geo_build AS {db}.dim_geo;
