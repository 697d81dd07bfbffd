#pragma once
// The SQL text of the warehouse build (docs/design.md#warehouse-tables), kept apart from the code
// that runs it so it can be read, unit-tested and checked against 18.16 in one place.
//
// Every statement here works on 18.16 and on current releases: one JOIN per SELECT (joins
// nest as subqueries), every subquery aliased (current releases require it in a JOIN), no
// CTEs, no window functions. Days are partition ids: yyyymmdd numbers, the value of
// toYYYYMMDD(event_date) that every day-partitioned table here is partitioned by.
#include <cstdint>
#include <string>
#include <vector>

namespace clickflow::dwh {

using Day = uint32_t;  // yyyymmdd, e.g. 20261101

// "2026-11-01" for 20261101.
std::string DayToIso(Day day);
// The days as "20261101, 20261102" (for IN lists of partition ids) / "toDate('2026-11-01'), ..."
std::string DayList(const std::vector<Day>& days);
std::string DateList(const std::vector<Day>& days);

// One of `count` disjoint slices of the events, by a hash of event_id. A fact build whose keys
// do not fit the per-query memory limit in one INSERT (a day of millions of events, a delta
// after an outage) runs as `count` INSERTs, each grouping and joining 1/count of the keys:
// an event's browser and location rows share its event_id, and the device and geo sides are
// restricted to the click_ids of the bucket's events, so every event is built whole in
// exactly one bucket.
struct Bucket {
  uint32_t index = 0;
  uint32_t count = 1;
};
// "cityHash64(event_id) % count = index", or "" for a single bucket.
std::string BucketCondition(const Bucket& bucket);
// How many buckets keep `rows` browser rows at or under `target_rows` per INSERT: at least 1,
// at most kMaxBuckets (each bucket scans staging's key columns once; 64 buckets of 1M rows
// is a 64M-event day).
constexpr uint32_t kMaxBuckets = 64;
uint32_t BucketsFor(uint64_t rows, uint64_t target_rows);

// Staging rows that count as new for a build: ingested at or after the previous watermark,
// minus an overlap (see DwhOptions::overlap_seconds). 0 = no previous build: everything.
struct NewRows {
  int64_t since_unix = 0;
};

// The event days to rebuild: days of browser events that are new, or whose event_id has a new
// browser or location row, or whose click_id has a new device or geo row. A new browser copy
// of an old event_id selects every day that event_id has been seen on, so an event whose
// latest copy moved to another day leaves the old day too. One row per day, sorted.
// (GROUP BY, not DISTINCT: 18.16 returns a day twice for SELECT DISTINCT ... ORDER BY.)
std::string TouchedDaysSql(const std::string& db, NewRows since);

// Browser rows per event day (all of staging), to cut the days into batches.
std::string BrowserRowsPerDaySql(const std::string& db);

// The newest _ingested_at over the four staging tables, as unix seconds (0 when empty).
std::string StagingWatermarkSql(const std::string& db);
// The oldest _ingested_at after `after_unix` over the four staging tables (0 when none).
std::string FirstLoadAfterSql(const std::string& db, int64_t after_unix);

// INSERT INTO fact_events_build of the facts of `days`, from staging:
//   browser, one row per event_id: the latest ingested copy (argMax by _ingested_at, then
//   the Kafka offset), kept when that copy's day is one of `days`;
//   ANY LEFT JOIN location by event_id, device by click_id, geo by click_id, each side
//   deduplicated the same way (latest ingested wins) and restricted to the keys of those days
//   unless `every_day` says the days are all the days staging has.
// With a Bucket of count > 1, only the events of that bucket (see Bucket).
std::string FactInsertSql(const std::string& db, const std::vector<Day>& days, bool every_day, const Bucket& bucket);
std::string FactInsertSql(const std::string& db, const std::vector<Day>& days, bool every_day = false);

// Append mode (streaming micro-builds, see AppendFacts). First fact_events_touched, a Memory
// table: event_id, click_id and day of every browser copy of every event touched by a staging
// row ingested in [since, until], whatever its day. Then fact_events_delta, a Memory table,
// holding the fact rows of those events as a build would write them now, plus _complete
// (location, device and geo rows all present) and _seen_at (the newest ingestion of its
// browser copies). Bucket 0 creates the delta, the others INSERT into it.
std::string TouchedCreateSql(const std::string& db, NewRows since, int64_t until_unix);
std::string TouchedDropSql(const std::string& db);
std::string DeltaCreateSql(const std::string& db, const Bucket& bucket = {});
std::string DeltaDropSql(const std::string& db);
// Every day those events have a browser copy on, and the days of their delta rows: the only
// days fact_events can hold them on (while staging has not been cleared).
std::string DeltaSeenDaysSql(const std::string& db);
// (fact day, delta day) of every event whose fact differs from its delta row: both days need
// a full rebuild (a late side, a newer copy, an event moved to another day). `seen_days`
// bounds the fact days searched; empty = every day (once staging was cleared, a fact may sit
// on a day none of its remaining copies is on).
std::string DeltaChangedDaysSql(const std::string& db, const std::vector<Day>& seen_days);
// The delta rows to append: events fact_events does not hold yet, complete or last seen at
// `complete_by_unix` or before (a side still in flight waits a little rather than forcing a
// rebuild; with no grace, everything is appended at once).
std::string DeltaNewFactsCondition(const std::string& db, const std::vector<Day>& seen_days, int64_t complete_by_unix);
std::string DeltaNewDaysSql(const std::string& db, const std::string& new_facts);
std::string DeltaAppendSql(const std::string& db, const std::string& new_facts, const std::vector<Day>& days);
// Patching a day (a late side, a newer copy, an event moved): instead of rebuilding it from
// staging, which costs the whole day's four-way join (9 buckets of staging scans at 4.5M
// events a day), the twin gets fact_events' rows of the day whose event is not in the delta,
// unchanged, then the delta's rows of the day: every touched event as a build makes it now.
// An event_id fact_events holds twice (rows a merge brought back, see dwh_guard.h) is kept
// once, its newest fact.
std::string PatchKeepSql(const std::string& db, Day day);
std::string PatchDeltaSql(const std::string& db, Day day);
// Rows per day of `table` (fact_events or its build twin) on `days`; empty = every day.
std::string DayCountsSql(const std::string& db, const std::string& table, const std::vector<Day>& days);

// INSERT INTO fact_events_build of the rows fact_events already holds for `days` whose
// event_id has no browser row left in staging (cleared by `dwh clear-staging`), unchanged; an
// event_id held twice (rows a merge brought back) once, its newest fact.
// Without this a late row for a day whose older staging was cleared would empty that day.
// The builder runs it only once retention has dropped staging (see retention.h).
std::string FactCarryForwardSql(const std::string& db, const std::vector<Day>& days);

// The three day-partitioned tables a fact build swaps, fact first.
const std::vector<std::string>& DayPartitionedTables();

// ALTER TABLE <table>_build DROP PARTITION day / ALTER TABLE <table> REPLACE PARTITION day
// FROM <table>_build.
std::string DropBuildPartitionSql(const std::string& db, const std::string& table, Day day);
std::string ReplacePartitionSql(const std::string& db, const std::string& table, Day day);
// ALTER TABLE <table> DROP PARTITION day: the swap of an empty twin partition (dwh_steps::SwapDay).
std::string DropPartitionSql(const std::string& db, const std::string& table, Day day);
// The active parts of one partition of <table>_build ("20261101" for a day, "all" for tuple()).
std::string TwinPartsSql(const std::string& db, const std::string& table, const std::string& partition_id);

// Dimensions: TRUNCATE the twin, INSERT SELECT from fact_events, swap the single partition.
std::string TruncateSql(const std::string& db, const std::string& table);
std::string DimUsersInsertSql(const std::string& db);
std::string DimGeoInsertSql(const std::string& db);
std::string ReplaceWholeTableSql(const std::string& db, const std::string& table);

// One dwh_build_state row (appended only after everything it describes has been swapped in).
std::string RecordStateSql(const std::string& db, const std::string& component, int64_t watermark_unix,
                           const std::vector<Day>& days, uint64_t rows_built, int64_t started_unix);
// The latest watermark of `component` as unix seconds, -1 when it has never been built.
std::string LastWatermarkSql(const std::string& db, const std::string& component);

// Cuts sorted days into consecutive batches of about `target_rows` browser rows each (a day
// is never split; a day above the target is a batch of its own). target_rows <= 1 gives one
// day per batch. `rows_of` holds the rows per day; days missing from it count 0.
struct DayRows {
  Day day;
  uint64_t rows;
};
std::vector<std::vector<Day>> BatchDays(const std::vector<Day>& days, const std::vector<DayRows>& rows_of,
                                        uint64_t target_rows);

}  // namespace clickflow::dwh
