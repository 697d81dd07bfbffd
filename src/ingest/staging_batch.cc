#include "ingest/staging_batch.h"

#include <algorithm>
#include <cstring>

namespace clickflow {

size_t StagingBatch::LargestTable() const {
  size_t largest = 0;
  for (const auto& [topic, table] : staging) largest = std::max(largest, table.rows);
  return largest;
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

void TableRows::Clear() {
  // Keep the buffers' capacity: the next batch will be about as large.
  data.clear();
  rows = 0;
  partitions.clear();
  stamp_positions.clear();
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
