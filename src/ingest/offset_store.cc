#include "ingest/offset_store.h"

#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

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

std::map<int32_t, int64_t> OffsetStore::LoadedUpTo(const TopicSchema& schema) {
  const auto staging = MaxOffsets(schema.table, schema.topic);
  // The dead letters above each partition's staging maximum: how many, and the highest.
  std::string above = "toInt64(-1)";
  if (!staging.empty()) {
    above = "multiIf(";
    for (const auto& [partition, offset] : staging) {
      above += "_partition = " + std::to_string(partition) + ", toInt64(" + std::to_string(offset) + "), ";
    }
    above += "toInt64(-1))";
  }
  const std::string sql = "SELECT _partition, max(_offset), uniqExact(_offset) FROM " + database_ + "." +
                          std::string(kDeadLetterTable) + " WHERE _topic = " + Quote(schema.topic) +
                          " AND toInt64(_offset) > " + above + " GROUP BY _partition";
  std::map<int32_t, int64_t> out;
  for (const auto& [partition, offset] : staging) out[partition] = offset + 1;
  for (const Row& row : QueryRows(client_, sql)) {
    const auto partition = static_cast<int32_t>(row.Int(0));
    const auto it = staging.find(partition);
    const int64_t staged = it == staging.end() ? -1 : it->second;
    const int64_t dead_max = row.Int(1);
    if (row.Int(2) == dead_max - staged) out[partition] = dead_max + 1;  // no offset in between is missing
  }
  return out;
}

std::set<PartitionOffset> OffsetStore::Landed(std::string_view table, std::string_view topic,
                                              const std::map<int32_t, OffsetRange>& ranges) {
  std::set<PartitionOffset> out;
  if (ranges.empty()) return out;
  std::string where;
  for (const auto& [partition, range] : ranges) {
    if (!where.empty()) where += " OR ";
    where += "(_partition = " + std::to_string(partition) + " AND _offset BETWEEN " + std::to_string(range.first) +
             " AND " + std::to_string(range.last) + ")";
  }
  const std::string sql = "SELECT _partition, _offset FROM " + database_ + "." + std::string(table) +
                          " WHERE _topic = " + Quote(topic) + " AND (" + where + ")";
  for (const Row& row : QueryRows(client_, sql)) out.emplace(static_cast<int32_t>(row.Int(0)), row.Int(1));
  return out;
}

std::string LoaderQueryIdPrefix(std::string_view topic) { return "clickflow-load:" + std::string(topic) + ":"; }

std::string NewLoaderQueryId(std::string_view topic, std::string_view table) {
  static const uint64_t process_tag = std::random_device{}();
  static std::atomic<uint64_t> sequence{0};
  return LoaderQueryIdPrefix(topic) + std::string(table) + ":" + std::to_string(::getpid()) + "-" +
         std::to_string(process_tag % 1'000'000) + "-" + std::to_string(++sequence);
}

bool WaitForQueriesToEnd(ClickHouseClient& client, const std::string& query_id_prefix, std::chrono::milliseconds budget,
                         std::string& still_running) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  const std::string sql = "SELECT query_id FROM system.processes WHERE substring(query_id, 1, " +
                          std::to_string(query_id_prefix.size()) + ") = " + Quote(query_id_prefix) + " LIMIT 1";
  while (true) {
    const auto running = QueryRows(client, sql);
    if (running.empty()) return true;
    if (std::chrono::steady_clock::now() > deadline) {
      still_running = running.front().Str(0);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace clickflow
