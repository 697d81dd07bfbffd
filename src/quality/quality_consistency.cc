// check_consistency, and the query helpers every check shares.
#include <fmt/format.h>

#include <cmath>

#include "quality/quality_internal.h"
#include "warehouse/checks.h"

namespace clickflow::quality_internal {
namespace {

constexpr size_t kMaxListed = 5;  // differing days, example ids: enough to start looking

// Per day, the aggregate's countMerge(total_events) against count() of fact_events.
QualityResult AggregateMatchesFacts(ClickHouseClient& client, const std::string& db, const std::string& agg) {
  const auto days = dwh_checks::AggregateDaysOffFacts(client, db, agg, dwh_checks::AggregateMeasure::kEvents);
  const auto totals = dwh_checks::AggregateEventTotals(client, db, agg);
  double difference = 0;
  std::string listed;
  for (size_t i = 0; i < days.size(); ++i) {
    difference += std::fabs(static_cast<double>(days[i].in_aggregate) - static_cast<double>(days[i].in_facts));
    if (i < kMaxListed) {
      listed += fmt::format("{}{} ({} vs {})", i ? ", " : "", dwh::DayToIso(days[i].day), days[i].in_aggregate,
                            days[i].in_facts);
    }
  }
  if (days.size() > kMaxListed) listed += fmt::format(", and {} more", days.size() - kMaxListed);
  QualityResult r{"check_consistency", agg, Judge(difference, 0), difference, 0, ""};
  r.details = fmt::format("{} counts {} events, fact_events has {}", agg, totals.in_aggregate, totals.in_facts);
  if (!days.empty()) {
    r.details +=
        fmt::format("; off by {:.0f} events over {} day(s), {} vs fact: {}", difference, days.size(), agg, listed);
  }
  return r;
}

QualityResult FutureEvents(ClickHouseClient& client, const Config& config) {
  const std::string& db = config.clickhouse.database;
  const int skew = config.quality.max_future_skew_minutes;
  const std::string future = fmt::format("toInt64(event_timestamp) > toInt64(now()) + {}", skew * 60);
  auto row = QueryFirstRow(
      client, fmt::format("SELECT count(), toString(max(event_timestamp)) FROM {}.fact_events WHERE {}", db, future));
  const double count = row.Double(0);
  QualityResult r{"check_consistency", "fact_events", Judge(count, 0), count, 0, ""};
  r.details = fmt::format("{:.0f} events later than now + {} min", count, skew);
  if (count > 0) {
    r.details += fmt::format(
        " (latest {} UTC), e.g. {}", row.Str(1),
        Examples(client,
                 fmt::format("SELECT event_id FROM {}.fact_events WHERE {} ORDER BY event_timestamp DESC LIMIT 3", db,
                             future)));
  }
  return r;
}

// Every distinct browser event_id staged before the last fact build must be in fact_events.
// Not a plain count comparison: staging is cleared of built rows after staging_keep_days (so
// facts may outnumber it) and rows staged after the build are not in the facts yet. Events
// older than fact retention are left out too: their fact partition is gone by design.
QualityResult StagingCoveredByFacts(ClickHouseClient& client, const Config& config) {
  const std::string& db = config.clickhouse.database;
  const std::string built = fmt::format("{} AND toInt64(event_timestamp) >= toInt64(now()) - {}",
                                        dwh_checks::FactWatermark(client, db).Covers(),
                                        static_cast<int64_t>(config.pipeline.fact_ttl_days - 1) * 86400);
  auto row = QueryFirstRow(client, fmt::format("SELECT uniqExact(event_id), uniqExactIf(event_id, {1}), "
                                               "(SELECT count() FROM {0}.fact_events) FROM {0}.events_browser_raw",
                                               db, built));
  const std::string missing_ids = fmt::format(
      "SELECT event_id FROM (SELECT DISTINCT event_id FROM {0}.events_browser_raw WHERE {1}) AS s "
      "WHERE event_id NOT IN (SELECT event_id FROM {0}.fact_events)",
      db, built);
  const double missing = QueryFirstRow(client, "SELECT count() FROM (" + missing_ids + ") AS m").Double(0);
  QualityResult r{"check_consistency", "events_browser_raw", Judge(missing, 0), missing, 0, ""};
  r.details = fmt::format(
      "staging has {} distinct browser event_ids ({} covered by the last build), fact_events "
      "{} rows; {:.0f} built event_ids missing from fact_events",
      row.Str(0), row.Str(1), row.Str(2), missing);
  if (missing > 0) {
    r.details += ", e.g. " + Examples(client, missing_ids + " ORDER BY event_id LIMIT 3");
  }
  return r;
}

}  // namespace

std::string Examples(ClickHouseClient& client, const std::string& sql) {
  std::string out;
  // Empty lines kept: an empty id is an example too.
  for (const Row& row : ParseTabSeparated(client.Query(sql, "TabSeparated"), true)) {
    out += (out.empty() ? "" : ", ") + row.Str(0);
  }
  return out;
}

std::vector<QualityResult> CheckConsistency(ClickHouseClient& client, const Config& config) {
  const std::string& db = config.clickhouse.database;
  return {AggregateMatchesFacts(client, db, "agg_events_hourly"),
          AggregateMatchesFacts(client, db, "agg_traffic_sources"), FutureEvents(client, config),
          StagingCoveredByFacts(client, config)};
}

}  // namespace clickflow::quality_internal
