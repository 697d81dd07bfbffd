// `dwh optimize` and `dwh verify`: housekeeping and consistency checks of the warehouse.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "clickhouse/client.h"
#include "clickhouse/rows.h"
#include "warehouse/checks.h"
#include "warehouse/dwh_builder.h"

namespace clickflow {
namespace {

// The days an aggregate disagrees with fact_events on, as one message ("" when none).
std::string CompareDays(const std::string& what, const std::vector<dwh_checks::DayMismatch>& days) {
  if (days.empty()) return "";
  std::string shown;
  for (size_t i = 0; i < days.size() && i < 5; ++i) {
    shown += fmt::format("{}{}: fact {} vs {}", i ? "; " : "", days[i].day, days[i].in_facts, days[i].in_aggregate);
  }
  return fmt::format("{} disagrees with fact_events on {} day(s): {}{}", what, days.size(), shown,
                     days.size() > 5 ? "; ..." : "");
}

}  // namespace

OptimizeSummary OptimizeWarehouse(ClickHouseClient& client, const Config& config) {
  DwhLock lock(config);
  const auto start = std::chrono::steady_clock::now();
  const std::string& db = config.clickhouse.database;
  OptimizeSummary summary;
  // Only partitions with more than one part: a single part is already merged, and FINAL on
  // it would rewrite it for nothing. Day partitions of the aggregates get one part per MV
  // block of the build; the dimensions one per INSERT block.
  const std::string sql = fmt::format(
      "SELECT table, partition FROM system.parts WHERE database = {} AND active AND table IN "
      "('agg_events_hourly', 'agg_traffic_sources', 'dim_users', 'dim_geo') "
      "GROUP BY table, partition HAVING count() > 1 ORDER BY table, partition",
      Quote(db));
  for (const Row& row : QueryRows(client, sql)) {
    if (row.size() < 2) continue;
    const std::string& table = row.Str(0);
    const std::string& partition = row.Str(1);
    if (partition == "tuple()") {
      client.Execute(fmt::format("OPTIMIZE TABLE {}.{} FINAL", db, table));
    } else {
      client.Execute(fmt::format("OPTIMIZE TABLE {}.{} PARTITION {} FINAL", db, table, partition));
    }
    summary.optimized.push_back(table + " " + partition);
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("dwh: optimized {} partition(s) in {:.1f} s", summary.optimized.size(), summary.seconds);
  return summary;
}

std::vector<std::string> VerifyWarehouse(ClickHouseClient& client, const Config& config) {
  const std::string& db = config.clickhouse.database;
  std::vector<std::string> problems;
  auto add = [&](std::string message) {
    if (!message.empty()) problems.push_back(std::move(message));
  };

  const int64_t duplicates = dwh_checks::CountKeys(client, db, "fact_events").Duplicates();
  if (duplicates != 0) {
    add(fmt::format("fact_events holds {} row(s) more than distinct event_ids (duplicates)", duplicates));
  }

  using dwh_checks::AggregateMeasure;
  for (const char* agg : {"agg_events_hourly", "agg_traffic_sources"}) {
    add(CompareDays(std::string(agg) + " countMerge(total_events)",
                    dwh_checks::AggregateDaysOffFacts(client, db, agg, AggregateMeasure::kEvents)));
    add(CompareDays(std::string(agg) + " uniqMerge(unique_users)",
                    dwh_checks::AggregateDaysOffFacts(client, db, agg, AggregateMeasure::kUsers)));
  }

  const int64_t fact_users = client.QueryInt(
      fmt::format("SELECT uniqExact(user_domain_id) FROM {}.fact_events WHERE user_domain_id != ''", db));
  const int64_t dim_users = client.QueryInt(fmt::format("SELECT count() FROM {}.dim_users", db));
  if (fact_users != dim_users) {
    add(fmt::format("dim_users has {} rows but fact_events has {} distinct users (run `clickflow dwh users`)",
                    dim_users, fact_users));
  }
  const int64_t dim_user_dups =
      client.QueryInt(fmt::format("SELECT count() - uniqExact(user_domain_id) FROM {}.dim_users", db));
  if (dim_user_dups != 0) add(fmt::format("dim_users holds {} duplicate user_domain_id row(s)", dim_user_dups));
  const int64_t user_events =
      client.QueryInt(fmt::format("SELECT count() FROM {}.fact_events WHERE user_domain_id != ''", db));
  const int64_t dim_user_events = client.QueryInt(fmt::format("SELECT sum(events) FROM {}.dim_users", db));
  if (user_events != dim_user_events) {
    add(fmt::format("dim_users counts {} events but fact_events has {} events with a user", dim_user_events,
                    user_events));
  }

  const int64_t geo_events =
      client.QueryInt(fmt::format("SELECT count() FROM {}.fact_events WHERE geo_country != ''", db));
  const int64_t dim_geo_events = client.QueryInt(fmt::format("SELECT sum(events) FROM {}.dim_geo", db));
  if (geo_events != dim_geo_events) {
    add(
        fmt::format("dim_geo counts {} events but fact_events has {} events with a country (run "
                    "`clickflow dwh geo`)",
                    dim_geo_events, geo_events));
  }
  return problems;
}

}  // namespace clickflow
