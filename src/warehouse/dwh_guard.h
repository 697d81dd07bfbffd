#pragma once
// The guard against rows a swap did not leave (docs/design.md#warehouse-day-swap). Every
// warehouse table is filled by swapping in its build twin (REPLACE PARTITION copies the twin's
// parts, so the twin keeps what the swap put there). On 18.16 a background merge that was
// running when REPLACE PARTITION swapped a partition commits its merged part anyway (server
// log: "Unexpected number of parts removed when adding ...: 0 instead of 6"), bringing the old
// rows back beside the new ones; a build killed between filling a twin and swapping it leaves
// the twin ahead. Either way a table and its twin no longer hold the same rows. The guard
// compares them, partition by partition, on a measure that merges do not change, and names
// what to rebuild. It reads no staging, so it holds after retention has cleared staging too.
// It runs on every server: the merge is 18.16's, but kills happen everywhere, and a `dwh watch`
// cycle killed after swapping a day's facts and before its aggregates leaves that day to no one
// else (the next cycle finds its events in fact_events already, so it neither patches nor
// appends to the day).
#include <set>
#include <string>
#include <vector>

#include "warehouse/dwh_sql.h"

namespace clickflow {
class ClickHouseClient;
}

namespace clickflow::dwh_guard {

// One table the guard compares with its twin (<table>_build).
struct GuardedTable {
  std::string table;
  bool by_day = false;  // partitioned by toYYYYMMDD(event_date); otherwise one partition
  // Equal on a table and its twin when they hold the same rows, whatever their merges did:
  // count() on a MergeTree, countMerge(total_events) on an AggregatingMergeTree (which
  // collapses rows as it merges).
  std::string measure;
};

// fact_events and both aggregates (by day), dim_users and dim_geo (whole).
const std::vector<GuardedTable>& GuardedTables();

// (partition, measure in the table, measure in the twin) of every partition where the two
// differ, a partition on one side only counting 0 on the other; the partition is the day
// (yyyymmdd) of a day-partitioned table, 0 otherwise. UNION ALL rather than a FULL JOIN, which
// 18.16 and current releases treat differently.
std::string MismatchSql(const std::string& db, const GuardedTable& guarded);

// What the guard found out of step with its twin.
struct OutOfStep {
  std::set<dwh::Day> days;        // rebuild whole: facts and both aggregates of the day
  std::vector<std::string> dims;  // rebuild whole from fact_events
};
OutOfStep FindOutOfStep(ClickHouseClient& client, const std::string& db);

}  // namespace clickflow::dwh_guard
