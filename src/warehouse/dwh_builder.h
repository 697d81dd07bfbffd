#pragma once
// `clickflow dwh ...`: the warehouse layer (docs/design.md#warehouse-tables, #warehouse-day-swap), built from staging.
//
// Facts: the event days touched by staging rows that arrived since the last build are rebuilt
// whole into fact_events_build (whose materialized views fill the aggregate *_build twins) and
// swapped in per day with ALTER TABLE ... REPLACE PARTITION. Dimensions: rebuilt whole from
// fact_events into their twins and swapped in the same way. The watermark is recorded in
// dwh_build_state only after every swap, so a build killed anywhere reruns the same days and
// ends with the same tables: every step drops what it is about to write before writing it.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "warehouse/dwh_sql.h"

namespace clickflow {

class ClickHouseClient;

struct DwhOptions {
  bool full = false;  // rebuild every event day in staging, ignoring the watermark
  // Rows count as new from (last watermark - overlap). The loader stamps _ingested_at right
  // before each INSERT attempt, so a batch commits at most one INSERT (30 s receive timeout)
  // after its stamp, and one stamped just before the watermark can commit just after the
  // build read it. Re-reading a few minutes rebuilds a few days twice, which is harmless;
  // missing a batch would not be.
  int overlap_seconds = 300;
  // Browser rows per INSERT: several days per statement amortize the scans of staging that
  // every batch needs (each side reads its whole key column to find the batch's keys); the
  // bound keeps one batch's GROUP BYs and join tables in memory. Measured on 18.16, 2 cores:
  // 1M staged events build in ~11 s as one batch vs ~18 s one day per batch; with 10M staged,
  // 2M-row batches hit the 4 GB per-query memory limit of the local stack, 1M-row ones fit;
  // but in the 30-minute chaos soak (sessions of many events, duplicates) 960k rows did not,
  // so 500k. A day above it is built in event_id buckets of about this size (dwh::Bucket), and
  // so is an append delta; a bucket over the memory limit anyway doubles the bucket count.
  uint64_t batch_rows = 500'000;

  // AppendFacts only (streaming micro-builds). Its "new rows" overlap: a batch commits at most
  // one INSERT (30 s) after its stamp, so 60 s is enough, and it keeps the delta small.
  int append_overlap_seconds = 60;
  // An event whose location, device or geo row has not arrived yet waits this long before it
  // is appended without it; a side arriving after that forces a rebuild of its day.
  int append_grace_seconds = 20;
  // At most this many seconds of loads past the last watermark per append cycle (the overlap
  // comes on top): a backlog is caught up in slices, each cycle swapping its days in.
  int append_window_seconds = 60;
};

struct FactBuildSummary {
  std::vector<dwh::Day> days;             // every day swapped in
  std::vector<dwh::Day> appended;         // AppendFacts: the days new events were appended to (rest rebuilt)
  std::vector<std::string> dims_rebuilt;  // dimensions the guard found out of step (dwh_guard.h)
  size_t batches = 0;
  uint64_t rows = 0;  // fact rows of the rebuilt days after the build
  int64_t watermark = 0;
  double seconds = 0;
};

struct DimBuildSummary {
  std::string table;
  uint64_t rows = 0;
  double seconds = 0;
};

struct OptimizeSummary {
  std::vector<std::string> optimized;  // "table partition" merged
  double seconds = 0;
};

// Rebuilds the touched days of fact_events and both aggregates, and whatever the guard
// (dwh_guard.h) finds out of step with its twin. Throws Error on failure; another build holding
// the lock (same data dir) for longer than DwhLock waits is an Error too.
FactBuildSummary BuildFacts(ClickHouseClient& client, const Config& config, const DwhOptions& options);

// The streaming micro-build: the same result as BuildFacts, without rebuilding whole days in
// the common case. It computes the facts of every event touched since the last build into a
// scratch table (fact_events_delta) and compares them with fact_events:
//   - events fact_events does not hold yet are appended to the build twins (the views feed the
//     aggregates' twins) and their days swapped in, as a full build would;
//   - an event whose fact differs (a late side, a newer copy, a moved day) makes its days
//     patched: their twins get fact_events' rows minus the touched events, plus the delta's
//     rows (a copy of the day, not a join of its staging; rebuilt whole the BuildFacts way once
//     retention has cleared staging).
// Appending to a day relies on the twin holding exactly what fact_events holds for it (the
// last swap copied it); a day where the counts differ is rebuilt whole instead. Every cycle the
// guard (dwh_guard.h) compares each table with its twin and rebuilds what differs, days and
// dimensions. Falls back to BuildFacts before the first build.
FactBuildSummary AppendFacts(ClickHouseClient& client, const Config& config, const DwhOptions& options);

// Full rebuilds of dim_users / dim_geo from fact_events.
DimBuildSummary BuildDimUsers(ClickHouseClient& client, const Config& config);
DimBuildSummary BuildDimGeo(ClickHouseClient& client, const Config& config);

// Merges, FINAL, every partition of the aggregates and dimensions that has more than one part
// (AggregatingMergeTree collapses its rows there). fact_events is left to background merges:
// REPLACE PARTITION already guarantees one row per event_id, so FINAL would buy nothing there
// but a rewrite of the whole table. Takes the DwhLock: OPTIMIZE ... FINAL merging a partition
// while a build swaps it is the merge the guard exists for.
OptimizeSummary OptimizeWarehouse(ClickHouseClient& client, const Config& config);

// Consistency of the warehouse: one message per problem, empty when all is well.
std::vector<std::string> VerifyWarehouse(ClickHouseClient& client, const Config& config);

// Holds an exclusive lock on <run dir>/dwh.lock for as long as it lives: two builds at once
// would drop and fill the same build partitions under each other. Waits up to `wait` for a
// build in progress (the streaming micro-builds and the DAG's tasks take turns), then throws.
class DwhLock {
 public:
  explicit DwhLock(const Config& config, std::chrono::seconds wait = std::chrono::seconds(600));
  ~DwhLock();
  DwhLock(const DwhLock&) = delete;
  DwhLock& operator=(const DwhLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace clickflow
