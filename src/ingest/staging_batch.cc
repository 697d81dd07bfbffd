#include "ingest/staging_batch.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace clickflow {

size_t StagingBatch::LargestTable() const {
  size_t largest = 0;
  for (const auto& [topic, table] : staging) largest = std::max(largest, table.rows);
  return largest;
}

std::map<std::pair<std::string, int32_t>, int64_t> StagingBatch::FirstOffsets() const {
  std::map<std::pair<std::string, int32_t>, int64_t> out;
  for (const auto* tables : {&staging, &dead_letters}) {
    for (const auto& [topic, table] : *tables) {
      for (const auto& [partition, range] : table.partitions) {
        auto [it, added] = out.emplace(std::pair{topic, partition}, range.first);
        if (!added) it->second = std::min(it->second, range.first);
      }
    }
  }
  return out;
}

size_t StagingBatch::Bytes() const {
  size_t bytes = 0;
  for (const auto& [topic, table] : staging) bytes += table.data.size();
  for (const auto& [topic, table] : dead_letters) bytes += table.data.size();
  return bytes;
}

void TableRows::Stamp(uint32_t ingested_at) {
  const char bytes[4] = {static_cast<char>(ingested_at & 0xff), static_cast<char>((ingested_at >> 8) & 0xff),
                         static_cast<char>((ingested_at >> 16) & 0xff), static_cast<char>(ingested_at >> 24)};
  for (size_t at : stamp_positions) std::memcpy(data.data() + at, bytes, 4);
}

void TableRows::DropRows(const std::set<PartitionOffset>& landed) {
  if (landed.empty()) return;
  std::string kept;
  std::vector<size_t> kept_stamps;
  std::vector<PartitionOffset> kept_origins;
  std::map<int32_t, OffsetRange> kept_partitions;
  size_t row_start = 0;
  for (size_t i = 0; i < rows; ++i) {
    const size_t row_end = stamp_positions[i] + 4;  // the stamp is a row's last field
    if (!landed.count(origins[i])) {
      kept.append(data, row_start, row_end - row_start);
      kept_stamps.push_back(kept.size() - 4);
      kept_origins.push_back(origins[i]);
      kept_partitions[origins[i].first].Add(origins[i].second);
    }
    row_start = row_end;
  }
  data.swap(kept);
  stamp_positions.swap(kept_stamps);
  origins.swap(kept_origins);
  partitions.swap(kept_partitions);
  rows = origins.size();
}

std::string TableRows::DeduplicationToken(std::string_view table, std::string_view topic) const {
  std::map<int32_t, size_t> counts;
  for (const auto& [partition, offset] : origins) counts[partition]++;
  std::string token = fmt::format("{}:{}", table, topic);
  for (const auto& [partition, range] : partitions) {
    token += fmt::format(":{}={}-{}/{}", partition, range.first, range.last, counts[partition]);
  }
  return token;
}

void TableRows::Clear() {
  // Keep the buffers' capacity: the next batch will be about as large.
  data.clear();
  rows = 0;
  partitions.clear();
  stamp_positions.clear();
  origins.clear();
}

void StagingBatch::Reset() {
  for (auto& [topic, table] : staging) table.Clear();
  for (auto& [topic, table] : dead_letters) table.Clear();
  next_offsets.clear();
  total_rows = 0;
  total_dead_letters = 0;
  ingested_at = 0;
}

void StagingBatch::SwapContents(StagingBatch& other) {
  auto swap_tables = [](std::map<std::string, TableRows>& a, std::map<std::string, TableRows>& b) {
    for (auto& [topic, table] : a) std::swap(table, b[topic]);
    for (auto& [topic, table] : b) {
      if (!a.count(topic)) std::swap(table, a[topic]);
    }
  };
  swap_tables(staging, other.staging);
  swap_tables(dead_letters, other.dead_letters);
  std::swap(ingested_at, other.ingested_at);
  std::swap(opened, other.opened);
  std::swap(next_offsets, other.next_offsets);
  std::swap(total_rows, other.total_rows);
  std::swap(total_dead_letters, other.total_dead_letters);
}

}  // namespace clickflow
