#include "warehouse/dwh_guard.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "clickhouse/client.h"
#include "clickhouse/rows.h"

namespace clickflow::dwh_guard {

const std::vector<GuardedTable>& GuardedTables() {
  static const std::vector<GuardedTable> tables = {
      {"fact_events", true, "count()"},
      {"agg_events_hourly", true, "countMerge(total_events)"},
      {"agg_traffic_sources", true, "countMerge(total_events)"},
      {"dim_users", false, "count()"},
      {"dim_geo", false, "count()"},
  };
  return tables;
}

std::string MismatchSql(const std::string& db, const GuardedTable& guarded) {
  const std::string partition = guarded.by_day ? "toYYYYMMDD(event_date)" : "toUInt32(0)";
  return fmt::format(
      "SELECT p, sum(in_table) AS t, sum(in_twin) AS w FROM ("
      "SELECT {p} AS p, toUInt64({m}) AS in_table, toUInt64(0) AS in_twin FROM {db}.{t} GROUP BY p "
      "UNION ALL "
      "SELECT {p} AS p, toUInt64(0) AS in_table, toUInt64({m}) AS in_twin FROM {db}.{t}_build GROUP BY p"
      ") AS u GROUP BY p HAVING t != w ORDER BY p",
      fmt::arg("db", db), fmt::arg("t", guarded.table), fmt::arg("p", partition), fmt::arg("m", guarded.measure));
}

OutOfStep FindOutOfStep(ClickHouseClient& client, const std::string& db) {
  OutOfStep out;
  for (const GuardedTable& guarded : GuardedTables()) {
    for (const Row& row : QueryRows(client, MismatchSql(db, guarded))) {
      const auto partition = static_cast<dwh::Day>(row.UInt(0));
      const std::string where = guarded.by_day ? dwh::DayToIso(partition) + " of " + guarded.table : guarded.table;
      spdlog::warn("dwh: {} has {} ({}) but {} in its build twin: rebuilding it whole", where, row.UInt(1),
                   guarded.measure, row.UInt(2));
      if (guarded.by_day) {
        out.days.insert(partition);
      } else {
        out.dims.push_back(guarded.table);
      }
    }
  }
  return out;
}

}  // namespace clickflow::dwh_guard
