// Retention's pure parts: the cutoff day and which partitions are old enough to drop.
#include <gtest/gtest.h>

#include "warehouse/retention.h"

namespace clickflow::retention {
namespace {

constexpr int64_t k20261129Noon = 1795953600;  // 2026-11-29 12:00:00 UTC

TEST(RetentionCutoffTest, CountsWholeUtcDaysBackFromToday) {
  EXPECT_EQ(DaysBefore(k20261129Noon, 0), 20261129u);
  EXPECT_EQ(DaysBefore(k20261129Noon, 7), 20261122u);
  EXPECT_EQ(DaysBefore(k20261129Noon, 29), 20261031u);
  EXPECT_EQ(DaysBefore(k20261129Noon, 365), 20251129u);
  EXPECT_EQ(DaysBefore(k20261129Noon - 12 * 3600, 1), 20261128u);  // midnight is the new day
}

TEST(RetentionPartitionsTest, OnlyDayPartitionsStrictlyOlderThanTheCutoffGo) {
  const std::vector<std::string> parts = {"20261120", "20261122", "20261121", "20261123", "tuple()", "202611"};
  EXPECT_EQ(PartitionsOlderThan(parts, 20261122, {}), (std::vector<std::string>{"20261120", "20261121"}));
}

TEST(RetentionPartitionsTest, ProtectedPartitionsAreNeverReturned) {
  EXPECT_EQ(PartitionsOlderThan({"20250101", "20250102"}, 20261122, {"20250102"}),
            (std::vector<std::string>{"20250101"}));
}

}  // namespace
}  // namespace clickflow::retention
