#pragma once
// What is loaded is recorded in ClickHouse itself (docs/design.md#exactly-once): the highest
// _offset per (_topic, _partition) in the topic's staging table and in the dead letters. The
// loader resumes after the staging maximum (the group's committed offset as a floor) and does not
// dead-letter again what lies at or below the dead-letter maximum, so a crash between "inserted"
// and "committed to Kafka" can never repeat a row.
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "clickhouse/client.h"
#include "ingest/event_schema.h"
#include "ingest/staging_batch.h"

namespace clickflow {

struct LoadedOffsets {
  int64_t staging = -1;       // highest offset with a staging row, -1 when none
  int64_t dead_letters = -1;  // highest offset with a dead letter, -1 when none
};

class OffsetStore {
 public:
  OffsetStore(ClickHouseClient& client, std::string database) : client_(client), database_(std::move(database)) {}

  // Per partition of `schema.topic`.
  std::map<int32_t, LoadedOffsets> Read(const TopicSchema& schema);

  // Highest offset per partition of `topic` in `table` (staging or dead letters).
  std::map<int32_t, int64_t> MaxOffsets(std::string_view table, std::string_view topic);

  // How far each partition of `schema.topic` is loaded without a hole: after the staging
  // maximum, or after the dead-letter maximum when every offset between the two is a dead
  // letter (a tail of malformed lines). Dead letters of a batch whose staging rows have not
  // landed yet (they are inserted first) leave holes, so they do not count.
  std::map<int32_t, int64_t> LoadedUpTo(const TopicSchema& schema);

  // Which of the offsets in `ranges` `table` holds for `topic`.
  std::set<PartitionOffset> Landed(std::string_view table, std::string_view topic,
                                   const std::map<int32_t, OffsetRange>& ranges);

 private:
  ClickHouseClient& client_;
  std::string database_;
};

// Every loader INSERT carries a query_id that starts with LoaderQueryIdPrefix(topic), so any
// member can see, in system.processes, an INSERT of another that is still running.
std::string LoaderQueryIdPrefix(std::string_view topic);
std::string NewLoaderQueryId(std::string_view topic, std::string_view table);

// Waits until ClickHouse runs no query whose id starts with `query_id_prefix` (an exact id is
// its own prefix). An INSERT that is reading its rows cannot be killed on 18.16 ("unkillable
// stages"), so it is waited out. Returns false, with the id in `still_running`, after `budget`.
bool WaitForQueriesToEnd(ClickHouseClient& client, const std::string& query_id_prefix, std::chrono::milliseconds budget,
                         std::string& still_running);

}  // namespace clickflow
