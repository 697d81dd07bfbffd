#pragma once
// Steps shared by the two fact builds (BuildFacts in dwh_builder.cc, AppendFacts in
// dwh_append.cc). Internal to the warehouse builder.
#include <cstdint>
#include <string>
#include <vector>

#include "warehouse/dwh_builder.h"
#include "warehouse/dwh_guard.h"
#include "warehouse/dwh_sql.h"

namespace clickflow {
class ClickHouseClient;
}

namespace clickflow::dwh_steps {

// ClickHouse's "Memory limit (for query) exceeded".
constexpr int kMemoryLimitExceeded = 241;

// Runs one statement and logs how long it took (-v).
void Run(ClickHouseClient& client, const std::string& what, const std::string& sql);

std::vector<dwh::DayRows> BrowserRowsPerDay(ClickHouseClient& client, const std::string& db);

// Rebuilds `batch` whole into the twins and swaps each day in (drop, insert, replace). The
// INSERT runs in as many event_id buckets as keep each at or under `target_rows` browser rows
// (`rows_of` holds the rows per day), so a day larger than the memory limit allows still builds;
// on a memory-limit error it starts over with twice as many (up to dwh::kMaxBuckets).
void BuildBatch(ClickHouseClient& client, const std::string& db, const std::vector<dwh::Day>& batch,
                const std::vector<dwh::DayRows>& rows_of, uint64_t target_rows, bool every_day, bool carry_forward);

// Swaps the twin's partition `day` of `table` in (REPLACE PARTITION), or drops the table's
// partition when the twin's is empty: current servers refuse REPLACE PARTITION from an empty
// source ("would silently drop the destination partition's data"), which here is the point.
// Only the builder writes the twins (DwhLock), so the twin cannot fill up in between.
void SwapDay(ClickHouseClient& client, const std::string& db, const std::string& table, dwh::Day day);
// The same for a table of one partition (the dimensions): TRUNCATE when the twin is empty.
void SwapWholeTable(ClickHouseClient& client, const std::string& db, const std::string& table);

// The latest recorded watermark of `component` (unix seconds), -1 before the first build.
int64_t LastWatermark(ClickHouseClient& client, const std::string& db, const std::string& component);

// True once retention has dropped staging partitions (facts may then outlive their staging).
bool StagingWasCleared(ClickHouseClient& client, const std::string& db);

// Rebuilds dimension `table` (dim_users or dim_geo) whole from fact_events and swaps it in; the
// caller holds the DwhLock.
DimBuildSummary RebuildDim(ClickHouseClient& client, const std::string& db, const std::string& table);

// Rebuilds the dimensions the guard found out of step (after the facts are repaired: they are
// built from them); adds their names to `summary.dims_rebuilt`. The caller holds the DwhLock.
void RebuildOutOfStepDims(ClickHouseClient& client, const std::string& db, const dwh_guard::OutOfStep& out_of_step,
                          FactBuildSummary& summary);

}  // namespace clickflow::dwh_steps
