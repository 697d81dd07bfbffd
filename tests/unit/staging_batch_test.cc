#include "ingest/staging_batch.h"

#include <gtest/gtest.h>

#include <limits>

namespace clickflow {
namespace {

void AddRow(StagingBatch& batch, const std::string& topic, int32_t partition, int64_t offset) {
  TableRows& rows = batch.staging[topic];
  rows.data += "row-and-stamp";
  rows.RowAdded();
  rows.partitions[partition].Add(offset);
  batch.next_offsets[{topic, partition}] = offset + 1;
  batch.total_rows++;
}

// The loader keeps pointers to staging[topic] of its open batch (one per partition it reads)
// while it hands the batch to the insert thread: the swap must move contents, not entries.
TEST(StagingBatchTest, SwapContentsKeepsEachTablesAddressAndMovesItsRows) {
  StagingBatch open, flushing;
  AddRow(open, "browser_events", 0, 41);
  AddRow(open, "browser_events", 1, 7);
  open.dead_letters["geo_events"].data = "bad line";
  open.dead_letters["geo_events"].RowAdded();
  open.total_dead_letters = 1;
  const TableRows* browser = &open.staging["browser_events"];

  flushing.SwapContents(open);

  EXPECT_EQ(&open.staging["browser_events"], browser);
  EXPECT_EQ(browser->rows, 0u);
  EXPECT_TRUE(open.Empty());
  EXPECT_EQ(open.total_rows, 0u);
  EXPECT_EQ(flushing.staging.at("browser_events").rows, 2u);
  EXPECT_EQ(flushing.staging.at("browser_events").partitions.at(0).last, 41);
  EXPECT_EQ(flushing.dead_letters.at("geo_events").rows, 1u);
  EXPECT_EQ(flushing.total_rows, 2u);
  EXPECT_EQ(flushing.total_dead_letters, 1u);
  EXPECT_EQ((flushing.next_offsets.at({"browser_events", 1})), 8);

  // The next batch fills the same entry; a second swap after a reset brings the buffers back.
  flushing.Reset();
  AddRow(open, "browser_events", 2, 3);
  flushing.SwapContents(open);
  EXPECT_EQ(&open.staging["browser_events"], browser);
  EXPECT_EQ(browser->rows, 0u);
  EXPECT_EQ(flushing.staging.at("browser_events").partitions.count(2), 1u);
  EXPECT_EQ(flushing.staging.at("browser_events").partitions.count(0), 0u);
}

// The loader flushes at pipeline.batch_max_bytes of RowBinary: staging rows and dead letters
// both count, since both are held in memory until the batch lands.
TEST(StagingBatchTest, BytesCountsEveryTableStagingAndDeadLetters) {
  StagingBatch batch;
  EXPECT_EQ(batch.Bytes(), 0u);
  size_t expected = 0;
  for (int offset = 0; offset < 5; ++offset) {
    AddRow(batch, offset % 2 ? "browser_events" : "geo_events", 0, offset);
    expected += std::string("row-and-stamp").size();
    EXPECT_EQ(batch.Bytes(), expected);
  }
  const std::string dead = "a dead letter of some length";
  batch.dead_letters["device_events"].data += dead;
  batch.dead_letters["device_events"].RowAdded();
  expected += dead.size();
  EXPECT_EQ(batch.Bytes(), expected);
  batch.Reset();
  EXPECT_EQ(batch.Bytes(), 0u);
}

// A table over 4 GiB must not wrap its stamp positions (a wrapped one stamps another row's
// bytes and leaves its own _ingested_at stale).
TEST(StagingBatchTest, StampPositionsAddressTablesOver4GiB) {
  using Position = decltype(TableRows::stamp_positions)::value_type;
  const uint64_t beyond_4gib = (uint64_t{1} << 32) + 4;
  EXPECT_GE(static_cast<uint64_t>(std::numeric_limits<Position>::max()), beyond_4gib);
  EXPECT_EQ(static_cast<uint64_t>(static_cast<Position>(beyond_4gib)), beyond_4gib);
}

}  // namespace
}  // namespace clickflow
