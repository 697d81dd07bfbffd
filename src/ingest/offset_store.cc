#include "ingest/offset_store.h"

#include <sstream>

namespace clickflow {

std::map<int32_t, int64_t> OffsetStore::MaxOffsets(std::string_view table, std::string_view topic) {
  // ORDER BY (_topic, _partition, _offset) makes this a cheap range read.
  const std::string sql = "SELECT _partition, max(_offset) FROM " + database_ + "." + std::string(table) +
                          " WHERE _topic = " + Quote(topic) + " GROUP BY _partition";
  std::istringstream rows(client_.Query(sql, "TabSeparated"));
  std::map<int32_t, int64_t> out;
  int32_t partition;
  int64_t offset;
  while (rows >> partition >> offset) out[partition] = offset;
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
