#pragma once
// What is loaded is recorded in ClickHouse itself (docs/design.md#exactly-once): the highest
// _offset per (_topic, _partition) in the topic's staging table and in the dead letters. The
// loader resumes after the staging maximum (the group's committed offset as a floor) and does not
// dead-letter again what lies at or below the dead-letter maximum, so a crash between "inserted"
// and "committed to Kafka" can never repeat a row.
#include <cstdint>
#include <map>
#include <string>

#include "clickhouse/client.h"
#include "ingest/event_schema.h"

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

 private:
  ClickHouseClient& client_;
  std::string database_;
};

}  // namespace clickflow
