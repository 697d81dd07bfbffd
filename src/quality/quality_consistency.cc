// check_consistency, and the query helpers every check shares.
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <sstream>

#include "quality/quality_internal.h"

namespace clickflow::quality_internal {
namespace {

constexpr size_t kMaxListed = 5;  // differing days, example ids: enough to start looking

// Per day, the aggregate's countMerge(total_events) against count() of fact_events. UNION ALL
// rather than a FULL JOIN: a day present on one side only still shows, with no join
// strictness that differs between 18.16 and current releases.
QualityResult AggregateMatchesFacts(ClickHouseClient& client, const std::string& db,
                                    const std::string& agg) {
  auto days = Rows(client, fmt::format(
      "SELECT toString(d), sum(agg_n) AS agg_total, sum(fact_n) AS fact_total FROM ("
      "SELECT event_date AS d, countMerge(total_events) AS agg_n, toUInt64(0) AS fact_n "
      "FROM {0}.{1} GROUP BY event_date "
      "UNION ALL "
      "SELECT event_date AS d, toUInt64(0) AS agg_n, count() AS fact_n "
      "FROM {0}.fact_events GROUP BY event_date"
      ") AS u GROUP BY d HAVING agg_total != fact_total ORDER BY d",
      db, agg));
  auto totals = Row(client, fmt::format(
      "SELECT (SELECT countMerge(total_events) FROM {0}.{1}), (SELECT count() FROM {0}.fact_events)",
      db, agg));
  double difference = 0;
  std::string listed;
  for (size_t i = 0; i < days.size(); ++i) {
    difference += std::fabs(Num(days[i][1]) - Num(days[i][2]));
    if (i < kMaxListed) {
      listed += fmt::format("{}{} ({} vs {})", i ? ", " : "", days[i][0], days[i][1], days[i][2]);
    }
  }
  if (days.size() > kMaxListed) listed += fmt::format(", and {} more", days.size() - kMaxListed);
  QualityResult r{"check_consistency", agg, Judge(difference, 0), difference, 0, ""};
  r.details = fmt::format("{} counts {} events, fact_events has {}", agg, totals[0], totals[1]);
  if (!days.empty()) {
    r.details += fmt::format("; off by {:.0f} events over {} day(s), {} vs fact: {}", difference,
                             days.size(), agg, listed);
  }
  return r;
}

QualityResult FutureEvents(ClickHouseClient& client, const Config& config) {
  const std::string& db = config.clickhouse.database;
  const int skew = config.quality.max_future_skew_minutes;
  const std::string future =
      fmt::format("toInt64(event_timestamp) > toInt64(now()) + {}", skew * 60);
  auto row = Row(client, fmt::format(
      "SELECT count(), toString(max(event_timestamp)) FROM {}.fact_events WHERE {}", db, future));
  const double count = Num(row[0]);
  QualityResult r{"check_consistency", "fact_events", Judge(count, 0), count, 0, ""};
  r.details = fmt::format("{:.0f} events later than now + {} min", count, skew);
  if (count > 0) {
    r.details += fmt::format(" (latest {} UTC), e.g. {}", row[1], Examples(client, fmt::format(
        "SELECT event_id FROM {}.fact_events WHERE {} ORDER BY event_timestamp DESC LIMIT 3",
        db, future)));
  }
  return r;
}

// Every distinct browser event_id staged before the last fact build must be in fact_events.
// Not a plain count comparison: staging is cleared of built rows after staging_keep_days (so
// facts may outnumber it) and rows staged after the build are not in the facts yet. Events
// older than fact retention are left out too: their fact partition is gone by design.
QualityResult StagingCoveredByFacts(ClickHouseClient& client, const Config& config) {
  const std::string& db = config.clickhouse.database;
  const std::string built = fmt::format(
      "{} AND toInt64(event_timestamp) >= toInt64(now()) - {}", FactWatermark(client, db).Covers(),
      static_cast<int64_t>(config.pipeline.fact_ttl_days - 1) * 86400);
  auto row = Row(client, fmt::format(
      "SELECT uniqExact(event_id), uniqExactIf(event_id, {1}), "
      "(SELECT count() FROM {0}.fact_events) FROM {0}.events_browser_raw",
      db, built));
  const std::string missing_ids = fmt::format(
      "SELECT event_id FROM (SELECT DISTINCT event_id FROM {0}.events_browser_raw WHERE {1}) AS s "
      "WHERE event_id NOT IN (SELECT event_id FROM {0}.fact_events)",
      db, built);
  const double missing = Num(Row(client, "SELECT count() FROM (" + missing_ids + ") AS m")[0]);
  QualityResult r{"check_consistency", "events_browser_raw", Judge(missing, 0), missing, 0, ""};
  r.details = fmt::format(
      "staging has {} distinct browser event_ids ({} covered by the last build), fact_events "
      "{} rows; {:.0f} built event_ids missing from fact_events",
      row[0], row[1], row[2], missing);
  if (missing > 0) {
    r.details += ", e.g. " + Examples(client, missing_ids + " ORDER BY event_id LIMIT 3");
  }
  return r;
}

}  // namespace

std::vector<std::vector<std::string>> Rows(ClickHouseClient& client, const std::string& sql) {
  std::istringstream in(client.Query(sql, "TabSeparated"));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

std::vector<std::string> Row(ClickHouseClient& client, const std::string& sql) {
  auto rows = Rows(client, sql);
  if (rows.empty()) throw Error("quality check: no row from: " + sql);
  return rows.front();
}

double Num(const std::string& field) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (field.empty() || ec != std::errc() || ptr != field.data() + field.size()) {
    throw Error("quality check: expected a number from ClickHouse, got '" + field + "'");
  }
  return value;
}

std::string Examples(ClickHouseClient& client, const std::string& sql) {
  std::string out;
  for (const auto& row : Rows(client, sql)) out += (out.empty() ? "" : ", ") + row.front();
  return out;
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

std::vector<QualityResult> CheckConsistency(ClickHouseClient& client, const Config& config) {
  const std::string& db = config.clickhouse.database;
  return {AggregateMatchesFacts(client, db, "agg_events_hourly"),
          AggregateMatchesFacts(client, db, "agg_traffic_sources"),
          FutureEvents(client, config), StagingCoveredByFacts(client, config)};
}

}  // namespace clickflow::quality_internal
