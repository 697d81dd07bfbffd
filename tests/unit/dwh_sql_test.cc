// The warehouse build's pure parts: which days go into which INSERT, and the SQL it renders
// (18.16's limits: one JOIN per SELECT, every joined subquery aliased, no CTE).
#include <gtest/gtest.h>

#include <regex>

#include "warehouse/dwh_sql.h"

namespace clickflow::dwh {
namespace {

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

TEST(DwhDaysTest, DaysRenderAsIsoDatesAndPartitionIds) {
  EXPECT_EQ(DayToIso(20261101), "2026-11-01");
  EXPECT_EQ(DayList({20261101, 20261130}), "20261101, 20261130");
  EXPECT_EQ(DateList({20250301}), "toDate('2025-03-01')");
}

TEST(DwhBatchTest, ConsecutiveDaysFillABatchUpToTheTargetRows) {
  const std::vector<Day> days = {1, 2, 3, 4, 5};
  const std::vector<DayRows> rows = {{1, 40}, {2, 40}, {3, 40}, {4, 40}, {5, 40}};
  const auto batches = BatchDays(days, rows, 100);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0], (std::vector<Day>{1, 2}));
  EXPECT_EQ(batches[1], (std::vector<Day>{3, 4}));
  EXPECT_EQ(batches[2], (std::vector<Day>{5}));
}

TEST(DwhBatchTest, ADayAboveTheTargetIsABatchOfItsOwnAndNeverSplit) {
  const auto batches = BatchDays({1, 2, 3}, {{1, 10}, {2, 500}, {3, 10}}, 100);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[1], (std::vector<Day>{2}));
}

TEST(DwhBatchTest, TargetOfOneGivesOneDayPerBatch) {
  EXPECT_EQ(BatchDays({1, 2, 3}, {}, 1).size(), 3u);
  EXPECT_EQ(BatchDays({1, 2, 3}, {}, 0).size(), 3u);
}

TEST(DwhBatchTest, DaysWithoutRowsJoinTheCurrentBatch) {
  const auto batches = BatchDays({1, 2, 3}, {{1, 10}}, 100);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].size(), 3u);
  EXPECT_TRUE(BatchDays({}, {}, 100).empty());
}

TEST(DwhSqlTest, FactInsertNestsOneJoinPerSelectInTheOrderBrowserLocationDeviceGeo) {
  const std::string sql = FactInsertSql("analytics", {20261101, 20261102});
  EXPECT_EQ(Count(sql, " JOIN "), 3u);
  EXPECT_EQ(Count(sql, "ANY LEFT JOIN"), 3u);
  EXPECT_EQ(sql.find("WITH "), std::string::npos);
  const size_t location = sql.find("USING event_id");
  const size_t device = sql.find("USING click_id");
  const size_t geo = sql.rfind("USING click_id");
  ASSERT_NE(location, std::string::npos);
  EXPECT_LT(location, device);
  EXPECT_LT(device, geo);
  EXPECT_TRUE(sql.starts_with("INSERT INTO analytics.fact_events_build ("));
}

TEST(DwhSqlTest, EveryJoinedSubqueryHasAnAlias) {
  // Current releases refuse an unaliased subquery in a JOIN (joined_subquery_requires_alias).
  const std::string sql = FactInsertSql("analytics", {20261101});
  const std::regex join_side(R"(JOIN \(SELECT)");
  for (auto it = std::sregex_iterator(sql.begin(), sql.end(), join_side); it != std::sregex_iterator(); ++it) {
    // Find the closing parenthesis of this subquery and check an alias follows it.
    size_t pos = static_cast<size_t>(it->position()) + 5;
    int depth = 0;
    for (; pos < sql.size(); ++pos) {
      if (sql[pos] == '(') ++depth;
      if (sql[pos] == ')' && --depth == 0) break;
    }
    EXPECT_EQ(sql.substr(pos + 1, 4), " AS ") << sql.substr(static_cast<size_t>(it->position()), 80);
  }
  EXPECT_NE(sql.find(") AS with_location ANY LEFT JOIN"), std::string::npos);
  EXPECT_NE(sql.find(") AS with_device ANY LEFT JOIN"), std::string::npos);
}

TEST(DwhSqlTest, EverySideKeepsTheLatestIngestedCopyPerKey) {
  const std::string sql = FactInsertSql("analytics", {20261101});
  EXPECT_NE(sql.find("argMax(event_type, bitOr(bitShiftLeft(toUInt64(_ingested_at), 32)"), std::string::npos);
  EXPECT_NE(sql.find("argMax(utm_source, "), std::string::npos);
  EXPECT_NE(sql.find("argMax(user_domain_id, "), std::string::npos);
  EXPECT_NE(sql.find("argMax(geo_country, "), std::string::npos);
  EXPECT_EQ(Count(sql, "GROUP BY event_id"), 2u);
  EXPECT_EQ(Count(sql, "GROUP BY click_id"), 2u);
}

TEST(DwhSqlTest, TheDayFilterAppliesAfterDedupSoAnEventLandsOnTheDayOfItsLatestCopy) {
  const std::string sql = FactInsertSql("analytics", {20261101});
  const size_t dedup = sql.find("GROUP BY event_id");
  const size_t filter = sql.find("WHERE toYYYYMMDD(event_timestamp) IN (20261101)) AS browser_days");
  ASSERT_NE(filter, std::string::npos);
  EXPECT_LT(dedup, filter);
}

TEST(DwhSqlTest, SidesAreRestrictedToTheKeysOfTheDaysUnlessEveryDayIsRebuilt) {
  const std::string partial = FactInsertSql("analytics", {20261101});
  EXPECT_NE(partial.find("WHERE click_id IN (SELECT click_id FROM analytics.events_browser_raw WHERE "
                         "toYYYYMMDD(event_timestamp) IN (20261101))"),
            std::string::npos);
  const std::string all = FactInsertSql("analytics", {20261101}, /*every_day=*/true);
  EXPECT_EQ(all.find(" IN (SELECT"), std::string::npos);
}

TEST(DwhBucketTest, BucketsKeepEachInsertAtOrUnderTheTargetUpToTheCap) {
  EXPECT_EQ(BucketsFor(0, 1000), 1u);
  EXPECT_EQ(BucketsFor(1000, 1000), 1u);
  EXPECT_EQ(BucketsFor(1001, 1000), 2u);
  EXPECT_EQ(BucketsFor(2'500'000, 1'000'000), 3u);
  EXPECT_EQ(BucketsFor(1'000'000, 1), kMaxBuckets);
  EXPECT_EQ(BucketsFor(5, 0), 1u);
}

TEST(DwhBucketTest, ABucketRestrictsEverySideToItsEventsAndTheirClickIds) {
  const std::string whole = FactInsertSql("analytics", {20261101}, /*every_day=*/true);
  EXPECT_EQ(whole.find("cityHash64(event_id) %"), std::string::npos);
  // Even when every day is rebuilt, a bucket must restrict the sides (else each bucket would
  // join every key of staging).
  const std::string third = FactInsertSql("analytics", {20261101}, /*every_day=*/true, Bucket{2, 3});
  EXPECT_EQ(Count(third, "toYYYYMMDD(event_timestamp) IN (20261101) AND cityHash64(event_id) % 3 = 2"), 4u) << third;
  EXPECT_NE(third.find("WHERE click_id IN (SELECT click_id FROM analytics.events_browser_raw WHERE "
                       "toYYYYMMDD(event_timestamp) IN (20261101) AND cityHash64(event_id) % 3 = 2)"),
            std::string::npos);
}

TEST(DwhBucketTest, TheFirstDeltaBucketCreatesTheTableAndTheOthersInsertTheSameColumns) {
  const std::string first = DeltaCreateSql("analytics", Bucket{0, 2});
  const std::string second = DeltaCreateSql("analytics", Bucket{1, 2});
  EXPECT_TRUE(first.starts_with("CREATE TABLE analytics.fact_events_delta ENGINE = Memory AS SELECT ")) << first;
  EXPECT_TRUE(second.starts_with("INSERT INTO analytics.fact_events_delta SELECT ")) << second;
  const std::string second_as_first = std::regex_replace(second, std::regex("% 2 = 1"), "% 2 = 0");
  EXPECT_EQ(first.substr(first.find(" SELECT ")), second_as_first.substr(second_as_first.find(" SELECT ")));
  // The key sets of the four sides, each from the touched events of the bucket.
  EXPECT_EQ(Count(second, "FROM analytics.fact_events_touched WHERE cityHash64(event_id) % 2 = 1)"), 4u) << second;
  EXPECT_EQ(DeltaCreateSql("analytics").find("cityHash64"), std::string::npos);
}

TEST(DwhSqlTest, APatchedDayKeepsTheFactsOfUntouchedEventsAndTakesTheDeltaForTheRest) {
  const std::string keep = PatchKeepSql("analytics", 20261101);
  EXPECT_TRUE(keep.starts_with("INSERT INTO analytics.fact_events_build (event_id, ")) << keep;
  EXPECT_NE(keep.find("FROM analytics.fact_events WHERE event_date = toDate('2026-11-01') AND event_id NOT IN "
                      "(SELECT event_id FROM analytics.fact_events_delta)"),
            std::string::npos)
      << keep;
  const std::string delta = PatchDeltaSql("analytics", 20261101);
  EXPECT_NE(delta.find("FROM analytics.fact_events_delta WHERE event_date = toDate('2026-11-01')"), std::string::npos)
      << delta;
  // Same columns in the same order on both sides of the day.
  EXPECT_EQ(keep.substr(0, keep.find(" FROM ")), delta.substr(0, delta.find(" FROM ")));
}

// Rows a merge brought back beside the current ones (src/warehouse/dwh_guard.h) are copies of
// event_ids fact_events already holds: a copy out of fact_events into the twin keeps one row
// per event_id, the newest, so the twin the guard compares with never takes them in.
TEST(DwhSqlTest, CopiesOutOfFactEventsKeepTheNewestFactOfEachEventOnce) {
  for (const std::string& sql : {PatchKeepSql("analytics", 20261101), FactCarryForwardSql("analytics", {20261101})}) {
    EXPECT_TRUE(sql.starts_with("INSERT INTO analytics.fact_events_build (")) << sql;
    EXPECT_TRUE(sql.ends_with(" ORDER BY event_id, _built_at DESC LIMIT 1 BY event_id")) << sql;
  }
}

TEST(DwhSqlTest, TouchedEventsFollowNewRowsOfAllFourTablesInTheWindow) {
  const std::string sql = TouchedCreateSql("analytics", {100}, 200);
  EXPECT_EQ(Count(sql, "_ingested_at >= toDateTime(100) AND _ingested_at <= toDateTime(200)"), 4u);
  for (const char* table : {"events_browser_raw", "events_location_raw", "events_device_raw", "events_geo_raw"}) {
    EXPECT_NE(sql.find(table), std::string::npos) << table;
  }
}

TEST(DwhSqlTest, TouchedDaysFollowNewRowsOfAllFourTablesFromTheWatermark) {
  const std::string sql = TouchedDaysSql("analytics", {1795948198});
  EXPECT_EQ(Count(sql, "_ingested_at >= toDateTime(1795948198)"), 4u);
  EXPECT_NE(sql.find("events_location_raw"), std::string::npos);
  EXPECT_NE(sql.find("events_device_raw"), std::string::npos);
  EXPECT_NE(sql.find("events_geo_raw"), std::string::npos);
  EXPECT_EQ(sql.find("DISTINCT"), std::string::npos);  // 18.16 repeats days with DISTINCT + ORDER BY
  const std::string first = TouchedDaysSql("analytics", {0});
  EXPECT_EQ(first.find("_ingested_at"), std::string::npos);
}

TEST(DwhSqlTest, SwapsReplaceOneDayPartitionFromTheBuildTwin) {
  EXPECT_EQ(
      ReplacePartitionSql("analytics", "agg_events_hourly", 20261101),
      "ALTER TABLE analytics.agg_events_hourly REPLACE PARTITION 20261101 FROM analytics.agg_events_hourly_build");
  EXPECT_EQ(DropBuildPartitionSql("analytics", "fact_events", 20261101),
            "ALTER TABLE analytics.fact_events_build DROP PARTITION 20261101");
  EXPECT_EQ(ReplaceWholeTableSql("analytics", "dim_users"),
            "ALTER TABLE analytics.dim_users REPLACE PARTITION tuple() FROM analytics.dim_users_build");
  // An empty twin partition swaps in as a drop of the table's (dwh_steps::SwapDay).
  EXPECT_EQ(DropPartitionSql("analytics", "fact_events", 20261101),
            "ALTER TABLE analytics.fact_events DROP PARTITION 20261101");
  EXPECT_EQ(TwinPartsSql("analytics", "dim_geo", "all"),
            "SELECT count() FROM system.parts WHERE database = 'analytics' AND table = 'dim_geo_build' AND "
            "partition_id = 'all' AND active");
}

TEST(DwhSqlTest, StateRowQuotesTheComponentAndHandlesNoDays) {
  const std::string none = RecordStateSql("analytics", "dim_users", 100, {}, 5, 90);
  EXPECT_NE(none.find("SELECT 'dim_users', toDateTime(100), emptyArrayDate(), 5, toDateTime(90), now()"),
            std::string::npos);
  const std::string some = RecordStateSql("analytics", "fact_events", 100, {20261101}, 5, 90);
  EXPECT_NE(some.find("[toDate('2026-11-01')]"), std::string::npos);
  EXPECT_NE(LastWatermarkSql("analytics", "it's").find("'it\\'s'"), std::string::npos);
}

}  // namespace
}  // namespace clickflow::dwh
