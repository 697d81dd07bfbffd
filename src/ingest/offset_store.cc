#include "ingest/offset_store.h"

#include "clickhouse/rows.h"

namespace clickflow {

std::map<int32_t, int64_t> OffsetStore::MaxOffsets(std::string_view table, std::string_view topic) {
  // ORDER BY (_topic, _partition, _offset) makes this a cheap range read.
  const std::string sql = "SELECT _partition, max(_offset) FROM " + database_ + "." + std::string(table) +
                          " WHERE _topic = " + Quote(topic) + " GROUP BY _partition";
  std::map<int32_t, int64_t> out;
  for (const Row& row : QueryRows(client_, sql)) out[static_cast<int32_t>(row.Int(0))] = row.Int(1);
  return out;
}

std::map<int32_t, LoadedOffsets> OffsetStore::Read(const TopicSchema& schema) {
  std::map<int32_t, LoadedOffsets> out;
  for (const auto& [partition, offset] : MaxOffsets(schema.table, schema.topic)) out[partition].staging = offset;
  for (const auto& [partition, offset] : MaxOffsets(kDeadLetterTable, schema.topic)) {
    out[partition].dead_letters = offset;
  }
  return out;
}

}  // namespace clickflow
