#pragma once
// One batch of the loader: RowBinary rows per staging table plus dead letters, all stamped with
// the same _ingested_at, and for every (topic, partition) the offset range they cover. The
// batch is what the loader inserts atomically (one INSERT per table = one part).
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/event_schema.h"

namespace clickflow {

struct OffsetRange {
  int64_t first = -1;
  int64_t last = -1;
  void Add(int64_t offset) {
    if (first < 0 || offset < first) first = offset;
    if (offset > last) last = offset;
  }
};

using PartitionOffset = std::pair<int32_t, int64_t>;

struct TableRows {
  std::string data;  // RowBinary
  size_t rows = 0;
  std::map<int32_t, OffsetRange> partitions;  // which offsets the rows hold
  // Where each row's _ingested_at sits in `data`. 64-bit although pipeline.batch_max_bytes
  // keeps a table far below 4 GiB: positions stay right whatever the config allows, for 4 more
  // bytes a row.
  std::vector<size_t> stamp_positions;
  std::vector<PartitionOffset> origins;  // each row's Kafka partition and offset

  // Called after the row of (partition, offset) was appended: its last four bytes are its
  // _ingested_at.
  void RowAdded(int32_t partition, int64_t offset) {
    rows++;
    stamp_positions.push_back(data.size() - 4);
    origins.emplace_back(partition, offset);
    partitions[partition].Add(offset);
  }
  // Removes the rows whose (partition, offset) is in `landed`: after an INSERT whose outcome is
  // unknown, only what ClickHouse does not hold is sent again.
  void DropRows(const std::set<PartitionOffset>& landed);
  // Stamps every row with `ingested_at` (RowBinary UInt32, little endian). The loader stamps
  // right before each INSERT attempt, so a row's _ingested_at is never more than one INSERT
  // older than its commit, however long the batch was open or retried: the warehouse build
  // reads "rows since the last build" by _ingested_at, with an overlap that must cover it.
  void Stamp(uint32_t ingested_at);
  // The name of these rows for the server's insert deduplication (insert_deduplication_token):
  // the table, the topic and per partition the first and last offset and how many rows lie
  // between. It names the rows, not the attempt, so a retry of a batch whose first attempt
  // landed unseen is dropped by the server. DropRows only ever removes rows, so the rows left
  // after it have another name (one count at least is lower), which stays the same for every
  // further retry of them.
  std::string DeduplicationToken(std::string_view table, std::string_view topic) const;
  void Clear();
};

struct StagingBatch {
  uint32_t ingested_at = 0;
  std::chrono::steady_clock::time_point opened;
  std::map<std::string, TableRows> staging;       // by topic
  std::map<std::string, TableRows> dead_letters;  // by topic
  // The next offset to commit per (topic, partition): everything before it is in this batch
  // or already loaded (including lines skipped because their dead letter already exists).
  std::map<std::pair<std::string, int32_t>, int64_t> next_offsets;
  size_t total_rows = 0;
  size_t total_dead_letters = 0;

  bool Empty() const { return next_offsets.empty(); }
  // The lowest offset of each (topic, partition) in the batch: everything below it is loaded.
  std::map<std::pair<std::string, int32_t>, int64_t> FirstOffsets() const;
  // The largest number of rows any one table holds (the batch_size trigger).
  size_t LargestTable() const;
  // RowBinary bytes of every table, staging and dead letters (the batch_max_bytes trigger).
  size_t Bytes() const;
  void Reset();
  // Exchanges the contents with `other` table by table, without moving the map entries: a
  // pointer to staging[topic] keeps pointing at this batch's table for that topic.
  void SwapContents(StagingBatch& other);
};

}  // namespace clickflow
