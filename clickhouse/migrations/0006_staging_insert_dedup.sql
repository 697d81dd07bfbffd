-- Insert deduplication for the loader's tables, on servers that have it for plain MergeTree
-- tables ({dedup:...}: nothing on 18.16). Every loader INSERT carries an
-- insert_deduplication_token naming the offsets it holds (docs/loader.md#exactly-once); the
-- table remembers the tokens of its last {dedup_window} INSERTs and drops an INSERT whose token
-- it has, so a retry of rows that already landed lands nothing. An INSERT without a token is
-- deduplicated by its content: the same rows inserted twice in a row land once. TRUNCATE and
-- DROP PARTITION forget the tokens of what they remove.
--
-- Placeholders: {db}, {dedup:<sql>}, {dedup_window} (src/clickhouse/migrations.h). A setting
-- rather than a clause of 0001's CREATE TABLEs: applied migrations are not edited, and ALTER
-- reaches tables created before it too.

{dedup:ALTER TABLE {db}.events_browser_raw MODIFY SETTING non_replicated_deduplication_window = {dedup_window}};
{dedup:ALTER TABLE {db}.events_device_raw MODIFY SETTING non_replicated_deduplication_window = {dedup_window}};
{dedup:ALTER TABLE {db}.events_geo_raw MODIFY SETTING non_replicated_deduplication_window = {dedup_window}};
{dedup:ALTER TABLE {db}.events_location_raw MODIFY SETTING non_replicated_deduplication_window = {dedup_window}};
{dedup:ALTER TABLE {db}.ingest_errors MODIFY SETTING non_replicated_deduplication_window = {dedup_window}};
