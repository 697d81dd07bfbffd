#include "quality/quality_freshness.h"

#include <gtest/gtest.h>

namespace clickflow::quality_freshness {
namespace {

const QualityConfig kConfig;  // max_ingestion_age_minutes 60, max_event_age_minutes 1440

std::vector<StagingLoad> Loads(uint64_t rows, int64_t age_seconds) {
  std::vector<StagingLoad> loads;
  for (const char* table : {"events_browser_raw", "events_device_raw", "events_geo_raw", "events_location_raw"}) {
    loads.push_back({table, rows, age_seconds, 1'800'000'000 - age_seconds});
  }
  return loads;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(FreshnessTest, EmptyStagingBeforeAnyLoadWarnsThatNothingWasLoaded) {
  const auto results = JudgeStagingLoads(Loads(0, 0), kConfig);
  ASSERT_EQ(results.size(), 4u);
  for (const QualityResult& r : results) {
    EXPECT_EQ(r.status, QualityStatus::kWarn) << r.details;
    EXPECT_EQ(r.observed, -1);
    EXPECT_TRUE(Contains(r.details, r.table + ": no rows loaded yet")) << r.details;
  }
}

TEST(FreshnessTest, OneEmptyTableWhileOthersHaveRowsFails) {
  auto loads = Loads(10, 60);
  loads[2].rows = 0;
  const auto results = JudgeStagingLoads(loads, kConfig);
  EXPECT_EQ(results[2].status, QualityStatus::kFail);
  EXPECT_TRUE(Contains(results[2].details, "events_geo_raw is empty while other staging tables have rows"))
      << results[2].details;
  EXPECT_EQ(results[0].status, QualityStatus::kPass) << results[0].details;
}

TEST(FreshnessTest, IngestionOlderThanTheLimitFailsAndAtTheLimitPasses) {
  auto loads = Loads(10, 60 * 60);
  loads[1].age_seconds = 60 * 60 + 60;
  const auto results = JudgeStagingLoads(loads, kConfig);
  EXPECT_EQ(results[0].status, QualityStatus::kPass) << results[0].details;
  EXPECT_EQ(results[1].status, QualityStatus::kFail) << results[1].details;
  EXPECT_DOUBLE_EQ(results[1].observed, 61);
  EXPECT_EQ(results[1].details, "newest ingestion 61.0 min ago (limit 60 min)");
}

TEST(FreshnessTest, OldEventsLoadedRecentlyAreAReplayNotAnIngestionStop) {
  const int64_t forty_days = 40 * 86400 + 3 * 3600;
  const QualityResult r = JudgeNewestEvent({100, forty_days, "2026-10-28 09:00:00", 600}, kConfig);
  EXPECT_EQ(r.status, QualityStatus::kWarn);
  EXPECT_DOUBLE_EQ(r.observed, forty_days / 60.0);
  EXPECT_EQ(r.details,
            "newest event 2026-10-28 09:00:00 UTC is 40.1 days old but staging received rows 10.0 min ago: "
            "a replay of old data (a backfill or the shipped samples), not an ingestion stop (warn beyond 1440 min)");
}

TEST(FreshnessTest, OldEventsWithStaleIngestionOnlyGiveTheirAge) {
  const QualityResult stale = JudgeNewestEvent({100, 3 * 86400, "2026-11-01 00:00:00", 2 * 3600}, kConfig);
  EXPECT_EQ(stale.status, QualityStatus::kWarn);
  EXPECT_EQ(stale.details, "newest event 2026-11-01 00:00:00 UTC, 4320.0 min ago (warn beyond 1440 min)");
  const QualityResult unstaged = JudgeNewestEvent({100, 3 * 86400, "2026-11-01 00:00:00", -1}, kConfig);
  EXPECT_FALSE(Contains(unstaged.details, "replay")) << unstaged.details;
}

TEST(FreshnessTest, RecentEventsPassAndNoEventsWarn) {
  const QualityResult recent = JudgeNewestEvent({100, 120, "2026-11-01 00:00:00", 60}, kConfig);
  EXPECT_EQ(recent.status, QualityStatus::kPass);
  EXPECT_EQ(recent.details, "newest event 2026-11-01 00:00:00 UTC, 2.0 min ago (warn beyond 1440 min)");
  const QualityResult none = JudgeNewestEvent({0, 0, "1970-01-01 00:00:00", -1}, kConfig);
  EXPECT_EQ(none.status, QualityStatus::kWarn);
  EXPECT_EQ(none.observed, -1);
}

TEST(FreshnessTest, HumanAgeSwitchesUnits) {
  EXPECT_EQ(HumanAge(90), "1.5 min");
  EXPECT_EQ(HumanAge(3 * 3600), "3.0 h");
  EXPECT_EQ(HumanAge(3 * 86400), "3.0 days");
}

}  // namespace
}  // namespace clickflow::quality_freshness
