#pragma once
// `clickflow retention` and `clickflow dwh clear-staging`: age out data by dropping whole day
// partitions (18.16 has no TTL clauses, and a dropped partition frees its disk at once).
//
// - Staging (events_*_raw, ingest_errors; partition = toYYYYMMDD(_ingested_at)): partitions
//   older than pipeline.staging_ttl_days are dropped.
// - Warehouse (fact_events, both aggregates and their *_build twins; partition =
//   toYYYYMMDD(event_date)): partitions older than pipeline.fact_ttl_days are dropped.
// - Clear staging: a staging partition older than pipeline.staging_keep_days is dropped when
//   every one of its rows is represented in fact_events (browser and location rows by
//   event_id, device and geo rows by click_id) and the last fact build started after it was
//   written. A partition with even one unrepresented row stays whole until its TTL: rows
//   are never deleted one by one (on 18.16 ALTER ... DELETE is an asynchronous mutation that
//   rewrites every part of the table, a poor trade for a space saving).
//
// Never dropped: the partition that holds max(_offset) of a (_topic, _partition) in a staging
// table. The loader resumes from that maximum (docs/design.md#exactly-once); with it gone the resume
// point would fall back to the group's committed offset, and a partition whose commit lagged
// would be read again.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/config.h"

namespace clickflow {

class ClickHouseClient;

// The dwh_build_state component retention records before it first drops a staging partition.
inline constexpr const char* kStagingDroppedComponent = "staging_dropped";

struct RetentionOptions {
  bool dry_run = false;
  bool ttl = true;            // drop partitions past staging_ttl_days / fact_ttl_days
  bool clear_staging = true;  // drop represented staging partitions past staging_keep_days
  int64_t now_unix = 0;       // 0 = the clock; "older than N days" counts from this day (UTC)
};

struct PartitionAction {
  std::string table;
  std::string partition;  // "20261101"
  std::string reason;
};

struct RetentionSummary {
  std::vector<PartitionAction> dropped;  // or, with dry_run, to be dropped
  std::vector<PartitionAction> kept;     // old enough but kept, and why
};

// Takes the warehouse lock (DwhLock, dwh_builder.h) unless dry_run: a build deciding whether to
// carry facts forward must see staging as it will rebuild from it.
RetentionSummary RunRetention(ClickHouseClient& client, const Config& config, const RetentionOptions& options);

// Pure helpers (unit-tested).
namespace retention {

// The yyyymmdd day `days` days before the UTC day of `now_unix`.
uint32_t DaysBefore(int64_t now_unix, int days);

// Partition ids (yyyymmdd text) strictly older than `cutoff` and not in `protect`. Ids that are
// not a day (e.g. "tuple()") are never returned.
std::vector<std::string> PartitionsOlderThan(const std::vector<std::string>& partitions, uint32_t cutoff,
                                             const std::set<std::string>& protect);

}  // namespace retention
}  // namespace clickflow
