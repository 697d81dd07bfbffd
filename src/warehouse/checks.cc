#include "warehouse/checks.h"

#include <fmt/format.h>

#include "clickhouse/client.h"
#include "clickhouse/rows.h"
#include "common/error.h"

namespace clickflow::dwh_checks {

KeyCounts CountKeys(ClickHouseClient& client, const std::string& db, const std::string& table,
                    const std::string& column) {
  const Row row = QueryFirstRow(client, fmt::format("SELECT count(), uniqExact({}) FROM {}.{}", column, db, table));
  return {row.UInt(0), row.UInt(1)};
}

std::vector<DayMismatch> AggregateDaysOffFacts(ClickHouseClient& client, const std::string& db,
                                               const std::string& aggregate, AggregateMeasure measure) {
  const bool events = measure == AggregateMeasure::kEvents;
  const std::string in_aggregate = events ? "countMerge(total_events)" : "uniqMerge(unique_users)";
  const std::string in_facts = events ? "count()" : "uniq(user_domain_id)";
  const std::string sql = fmt::format(
      "SELECT toYYYYMMDD(d), sum(agg_n) AS agg_total, sum(fact_n) AS fact_total FROM ("
      "SELECT event_date AS d, {2} AS agg_n, toUInt64(0) AS fact_n "
      "FROM {0}.{1} GROUP BY event_date "
      "UNION ALL "
      "SELECT event_date AS d, toUInt64(0) AS agg_n, {3} AS fact_n "
      "FROM {0}.fact_events GROUP BY event_date"
      ") AS u GROUP BY d HAVING agg_total != fact_total ORDER BY d",
      db, aggregate, in_aggregate, in_facts);
  std::vector<DayMismatch> days;
  for (const Row& row : QueryRows(client, sql)) {
    days.push_back({static_cast<dwh::Day>(row.UInt(0)), row.UInt(1), row.UInt(2)});
  }
  return days;
}

EventTotals AggregateEventTotals(ClickHouseClient& client, const std::string& db, const std::string& aggregate) {
  const Row row = QueryFirstRow(
      client,
      fmt::format("SELECT (SELECT countMerge(total_events) FROM {0}.{1}), (SELECT count() FROM {0}.fact_events)", db,
                  aggregate));
  return {row.UInt(0), row.UInt(1)};
}

std::string BuildWatermark::Covers() const {
  return fmt::format("toInt64(_ingested_at) {} {}", inclusive ? "<=" : "<", at);
}

BuildWatermark FactWatermark(ClickHouseClient& client, const std::string& db) {
  const std::string state = db + ".dwh_build_state WHERE component = 'fact_events'";
  if (client.QueryInt("SELECT count() FROM " + state) > 0) {
    return {client.QueryInt("SELECT toInt64(max(watermark)) FROM " + state), true};
  }
  return {client.QueryInt("SELECT toInt64(max(_built_at)) FROM " + db + ".fact_events"), false};
}

}  // namespace clickflow::dwh_checks
