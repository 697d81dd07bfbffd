#include "pipeline/staging_batch.h"

#include <algorithm>

namespace clickflow {

size_t StagingBatch::LargestTable() const {
  size_t largest = 0;
  for (const auto& [topic, table] : staging) largest = std::max(largest, table.rows);
  return largest;
}

void StagingBatch::Reset() {
  // Keep the buffers' capacity: the next batch will be about as large.
  for (auto& [topic, table] : staging) {
    table.data.clear();
    table.rows = 0;
    table.partitions.clear();
  }
  for (auto& [topic, table] : dead_letters) {
    table.data.clear();
    table.rows = 0;
    table.partitions.clear();
  }
  next_offsets.clear();
  total_rows = 0;
  total_dead_letters = 0;
  ingested_at = 0;
}

}  // namespace clickflow
