#include "ingest/staging_batch.h"

#include <gtest/gtest.h>

#include <limits>

namespace clickflow {
namespace {

void AddRow(StagingBatch& batch, const std::string& topic, int32_t partition, int64_t offset) {
  TableRows& rows = batch.staging[topic];
  rows.data += "row-and-stamp";
  rows.RowAdded(partition, offset);
  batch.next_offsets[{topic, partition}] = offset + 1;
  batch.total_rows++;
}

TableRows RowsAt(const std::vector<PartitionOffset>& origins) {
  TableRows rows;
  for (const auto& [partition, offset] : origins) {
    rows.data += "row-" + std::to_string(partition) + "-" + std::to_string(offset) + "STMP";
    rows.RowAdded(partition, offset);
  }
  return rows;
}

// The token names the rows, not the attempt: a retry of the same rows carries the same one
// whenever and however it is stamped, other rows (another table, topic or offsets) another.
TEST(StagingBatchTest, DeduplicationTokenNamesTheRowsNotTheAttempt) {
  const std::vector<PartitionOffset> origins = {{0, 100}, {1, 7}, {0, 101}, {0, 103}, {1, 9}};
  TableRows first = RowsAt(origins);
  TableRows again = RowsAt(origins);
  first.Stamp(1700000000);
  again.Stamp(1700000500);
  const std::string token = first.DeduplicationToken("events_geo_raw", "geo_events");
  EXPECT_EQ(again.DeduplicationToken("events_geo_raw", "geo_events"), token);
  again.DropRows({});
  EXPECT_EQ(again.DeduplicationToken("events_geo_raw", "geo_events"), token);

  EXPECT_NE(first.DeduplicationToken("ingest_errors", "geo_events"), token);
  EXPECT_NE(first.DeduplicationToken("events_geo_raw", "geo_events_2"), token);
  std::vector<PartitionOffset> next = origins;
  for (auto& origin : next) origin.second += 1000;
  EXPECT_NE(RowsAt(next).DeduplicationToken("events_geo_raw", "geo_events"), token);
}

// After a lost attempt the rows that landed are dropped: what is left is other rows, named
// otherwise than the first attempt, and named alike by every further retry of them. Also when
// the dropped row lies inside a partition's range, which keeps its first and last offset.
TEST(StagingBatchTest, RowsLeftAfterDropRowsHaveTheirOwnStableToken) {
  const std::vector<PartitionOffset> origins = {{0, 100}, {0, 101}, {0, 103}, {1, 7}, {1, 9}};
  TableRows rows = RowsAt(origins);
  const std::string whole = rows.DeduplicationToken("events_geo_raw", "geo_events");

  rows.DropRows({{0, 101}});
  const std::string without_middle = rows.DeduplicationToken("events_geo_raw", "geo_events");
  EXPECT_NE(without_middle, whole);
  EXPECT_EQ(RowsAt({{0, 100}, {0, 103}, {1, 7}, {1, 9}}).DeduplicationToken("events_geo_raw", "geo_events"),
            without_middle);

  rows.DropRows({{1, 7}, {1, 9}});
  const std::string partition_0 = rows.DeduplicationToken("events_geo_raw", "geo_events");
  EXPECT_NE(partition_0, without_middle);
  EXPECT_NE(partition_0, whole);
  EXPECT_EQ(RowsAt({{0, 100}, {0, 103}}).DeduplicationToken("events_geo_raw", "geo_events"), partition_0);
}

// The loader keeps pointers to staging[topic] of its open batch (one per partition it reads)
// while it hands the batch to the insert thread: the swap must move contents, not entries.
TEST(StagingBatchTest, SwapContentsKeepsEachTablesAddressAndMovesItsRows) {
  StagingBatch open, flushing;
  AddRow(open, "browser_events", 0, 41);
  AddRow(open, "browser_events", 1, 7);
  open.dead_letters["geo_events"].data = "bad line";
  open.dead_letters["geo_events"].RowAdded(2, 5);
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

// After an INSERT whose answer was lost, the rows ClickHouse already holds are dropped and the
// rest is sent again: the kept rows must be byte for byte the encoder's, stamps where they were.
TEST(StagingBatchTest, DropRowsKeepsExactlyTheRowsThatDidNotLand) {
  TableRows rows;
  std::vector<std::string> encoded;
  for (int64_t offset = 10; offset < 16; ++offset) {
    const int32_t partition = offset % 2 == 0 ? 0 : 1;
    std::string row = "row-" + std::to_string(partition) + "-" + std::to_string(offset) + std::string(offset % 3, 'x');
    row += "STMP";
    rows.data += row;
    encoded.push_back(row);
    rows.RowAdded(partition, offset);
  }
  const std::set<PartitionOffset> landed = {{0, 10}, {1, 13}, {0, 14}, {2, 99}};
  rows.DropRows(landed);

  std::string expected;
  std::vector<PartitionOffset> expected_origins;
  for (int64_t offset = 10; offset < 16; ++offset) {
    const PartitionOffset origin{offset % 2 == 0 ? 0 : 1, offset};
    if (landed.count(origin)) continue;
    expected += encoded[offset - 10];
    expected_origins.push_back(origin);
  }
  EXPECT_EQ(rows.data, expected);
  EXPECT_EQ(rows.origins, expected_origins);
  EXPECT_EQ(rows.rows, expected_origins.size());
  ASSERT_EQ(rows.stamp_positions.size(), expected_origins.size());
  for (size_t at : rows.stamp_positions) EXPECT_EQ(rows.data.substr(at, 4), "STMP");
  EXPECT_EQ(rows.partitions.at(0).first, 12);
  EXPECT_EQ(rows.partitions.at(0).last, 12);
  EXPECT_EQ(rows.partitions.at(1).first, 11);
  EXPECT_EQ(rows.partitions.at(1).last, 15);
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
  batch.dead_letters["device_events"].RowAdded(0, 7);
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
