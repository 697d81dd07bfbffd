// The guard's table list and its SQL (src/warehouse/dwh_guard.h); the guard at work against
// ClickHouse is in tests/integration/dwh_test.cc.
#include "warehouse/dwh_guard.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace clickflow::dwh_guard {
namespace {

bool Guarded(const std::string& table, bool by_day) {
  const auto& tables = GuardedTables();
  return std::any_of(tables.begin(), tables.end(),
                     [&](const GuardedTable& g) { return g.table == table && g.by_day == by_day; });
}

TEST(DwhGuardTest, GuardsEveryTableABuildSwapsIn) {
  for (const std::string& table : dwh::DayPartitionedTables()) EXPECT_TRUE(Guarded(table, true)) << table;
  EXPECT_TRUE(Guarded("dim_users", false));
  EXPECT_TRUE(Guarded("dim_geo", false));
}

TEST(DwhGuardTest, ComparesATableWithItsTwinPerDayOnAMeasureMergesKeep) {
  const GuardedTable agg{"agg_events_hourly", true, "countMerge(total_events)"};
  const std::string sql = MismatchSql("analytics", agg);
  EXPECT_NE(sql.find("FROM analytics.agg_events_hourly GROUP BY p"), std::string::npos) << sql;
  EXPECT_NE(sql.find("FROM analytics.agg_events_hourly_build GROUP BY p"), std::string::npos) << sql;
  EXPECT_NE(sql.find("toYYYYMMDD(event_date) AS p"), std::string::npos) << sql;
  EXPECT_NE(sql.find("toUInt64(countMerge(total_events))"), std::string::npos) << sql;
  EXPECT_NE(sql.find("HAVING t != w"), std::string::npos) << sql;
  const std::string dim = MismatchSql("analytics", {"dim_geo", false, "count()"});
  EXPECT_EQ(dim.find("event_date"), std::string::npos) << dim;
}

}  // namespace
}  // namespace clickflow::dwh_guard
