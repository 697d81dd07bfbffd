// `dwh optimize` and `dwh verify`: housekeeping and consistency checks of the warehouse.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <sstream>

#include "clickhouse/client.h"
#include "warehouse/dwh_builder.h"

namespace clickflow {
namespace {

std::vector<std::vector<std::string>> ParseRows(const std::string& tsv) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(tsv);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> row;
    std::istringstream fields(line);
    std::string field;
    while (std::getline(fields, field, '\t')) row.push_back(field);
    rows.push_back(std::move(row));
  }
  return rows;
}

// day -> value from "SELECT day, value ..." rows.
std::map<std::string, std::string> PerDay(ClickHouseClient& client, const std::string& sql) {
  std::map<std::string, std::string> out;
  for (auto& row : ParseRows(client.Query(sql))) {
    if (row.size() >= 2) out[row[0]] = row[1];
  }
  return out;
}

// Days where `got` differs from `want`, as one message ("" when none).
std::string CompareDays(const std::string& what, const std::map<std::string, std::string>& want,
                        const std::map<std::string, std::string>& got) {
  std::vector<std::string> diffs;
  auto value = [](const std::map<std::string, std::string>& m, const std::string& day) {
    auto it = m.find(day);
    return it == m.end() ? std::string("0") : it->second;
  };
  std::map<std::string, bool> days;
  for (const auto& [day, _] : want) days[day] = true;
  for (const auto& [day, _] : got) days[day] = true;
  for (const auto& [day, _] : days) {
    if (value(want, day) != value(got, day)) {
      diffs.push_back(fmt::format("{}: fact {} vs {}", day, value(want, day), value(got, day)));
    }
  }
  if (diffs.empty()) return "";
  std::string shown;
  for (size_t i = 0; i < diffs.size() && i < 5; ++i) shown += (i ? "; " : "") + diffs[i];
  return fmt::format("{} disagrees with fact_events on {} day(s): {}{}", what, diffs.size(), shown,
                     diffs.size() > 5 ? "; ..." : "");
}

}  // namespace

OptimizeSummary OptimizeWarehouse(ClickHouseClient& client, const Config& config) {
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
  for (const auto& row : ParseRows(client.Query(sql))) {
    if (row.size() < 2) continue;
    const std::string& table = row[0];
    const std::string& partition = row[1];
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

  const int64_t duplicates =
      client.QueryInt(fmt::format("SELECT count() - uniqExact(event_id) FROM {}.fact_events", db));
  if (duplicates != 0) {
    add(fmt::format("fact_events holds {} row(s) more than distinct event_ids (duplicates)", duplicates));
  }

  const auto facts = PerDay(client, fmt::format(
      "SELECT toYYYYMMDD(event_date) AS day, count() FROM {}.fact_events GROUP BY day", db));
  const auto users = PerDay(client, fmt::format(
      "SELECT toYYYYMMDD(event_date) AS day, uniq(user_domain_id) FROM {}.fact_events GROUP BY day", db));
  for (const char* agg : {"agg_events_hourly", "agg_traffic_sources"}) {
    add(CompareDays(std::string(agg) + " countMerge(total_events)", facts,
                    PerDay(client, fmt::format("SELECT toYYYYMMDD(event_date) AS day, "
                                               "countMerge(total_events) FROM {}.{} GROUP BY day",
                                               db, agg))));
    add(CompareDays(std::string(agg) + " uniqMerge(unique_users)", users,
                    PerDay(client, fmt::format("SELECT toYYYYMMDD(event_date) AS day, "
                                               "uniqMerge(unique_users) FROM {}.{} GROUP BY day",
                                               db, agg))));
  }

  const int64_t fact_users = client.QueryInt(fmt::format(
      "SELECT uniqExact(user_domain_id) FROM {}.fact_events WHERE user_domain_id != ''", db));
  const int64_t dim_users = client.QueryInt(fmt::format("SELECT count() FROM {}.dim_users", db));
  if (fact_users != dim_users) {
    add(fmt::format("dim_users has {} rows but fact_events has {} distinct users (run `clickflow dwh users`)",
                    dim_users, fact_users));
  }
  const int64_t dim_user_dups = client.QueryInt(
      fmt::format("SELECT count() - uniqExact(user_domain_id) FROM {}.dim_users", db));
  if (dim_user_dups != 0) add(fmt::format("dim_users holds {} duplicate user_domain_id row(s)", dim_user_dups));
  const int64_t user_events = client.QueryInt(fmt::format(
      "SELECT count() FROM {}.fact_events WHERE user_domain_id != ''", db));
  const int64_t dim_user_events = client.QueryInt(fmt::format("SELECT sum(events) FROM {}.dim_users", db));
  if (user_events != dim_user_events) {
    add(fmt::format("dim_users counts {} events but fact_events has {} events with a user",
                    dim_user_events, user_events));
  }

  const int64_t geo_events = client.QueryInt(fmt::format(
      "SELECT count() FROM {}.fact_events WHERE geo_country != ''", db));
  const int64_t dim_geo_events = client.QueryInt(fmt::format("SELECT sum(events) FROM {}.dim_geo", db));
  if (geo_events != dim_geo_events) {
    add(fmt::format("dim_geo counts {} events but fact_events has {} events with a country (run "
                    "`clickflow dwh geo`)",
                    dim_geo_events, geo_events));
  }
  return problems;
}

}  // namespace clickflow
