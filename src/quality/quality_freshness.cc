#include "quality/quality_freshness.h"

#include <fmt/format.h>

#include <algorithm>

#include "ingest/event_schema.h"
#include "quality/quality_internal.h"
#include "warehouse/checks.h"

namespace clickflow::quality_freshness {
namespace {

std::string Minutes(double seconds) { return fmt::format("{:.1f} min", seconds / 60); }

std::vector<StagingLoad> ReadStagingLoads(ClickHouseClient& client, const std::string& db) {
  std::vector<StagingLoad> loads;
  for (const TopicSchema& schema : AllTopicSchemas()) {
    const std::string table(schema.table);
    const Row row = QueryFirstRow(
        client, fmt::format("SELECT count(), toInt64(now()) - toInt64(max(_ingested_at)), toInt64(max(_ingested_at)) "
                            "FROM {}.{}",
                            db, table));
    loads.push_back({table, row.UInt(0), row.Int(1), row.Int(2)});
  }
  return loads;
}

NewestEvent ReadNewestEvent(ClickHouseClient& client, const Config& config, const std::vector<StagingLoad>& loads) {
  // Future events are check_consistency's business, so they do not hide a stale newest event.
  const Row row = QueryFirstRow(
      client,
      fmt::format("SELECT count(), toInt64(now()) - toInt64(max(event_timestamp)), toString(max(event_timestamp)) "
                  "FROM {}.fact_events WHERE toInt64(event_timestamp) <= toInt64(now()) + {}",
                  config.clickhouse.database, config.quality.max_future_skew_minutes * 60));
  NewestEvent newest{row.UInt(0), row.Int(1), row.Str(2), -1};
  for (const StagingLoad& load : loads) {
    if (load.rows == 0) continue;
    if (newest.newest_load_age_seconds < 0 || load.age_seconds < newest.newest_load_age_seconds) {
      newest.newest_load_age_seconds = load.age_seconds;
    }
  }
  return newest;
}

// The warehouse keeps up: the newest staged row is covered by a build.
QualityResult BuildLag(int64_t newest_ingest, int64_t watermark, const QualityConfig& q) {
  QualityResult lag{
      "check_freshness", "fact_events", QualityStatus::kPass, 0, static_cast<double>(q.max_build_lag_minutes), ""};
  if (newest_ingest == 0) {
    lag.details = "build lag: nothing staged";
  } else if (watermark == 0) {
    lag.observed = -1;
    lag.status = QualityStatus::kFail;
    lag.details = "build lag: staging has rows but the warehouse was never built (observed -1)";
  } else {
    lag.observed = std::max<int64_t>(0, newest_ingest - watermark) / 60.0;
    lag.status = Judge(lag.observed, lag.threshold);
    lag.details = fmt::format("build lag: newest staged row is {} newer than the last fact build",
                              Minutes(std::max<int64_t>(0, newest_ingest - watermark)));
  }
  return lag;
}

}  // namespace

std::string HumanAge(int64_t seconds) {
  if (seconds < 2 * 3600) return Minutes(static_cast<double>(seconds));
  if (seconds < 2 * 86400) return fmt::format("{:.1f} h", seconds / 3600.0);
  return fmt::format("{:.1f} days", seconds / 86400.0);
}

std::vector<QualityResult> JudgeStagingLoads(const std::vector<StagingLoad>& loads, const QualityConfig& q) {
  const bool anything_loaded = std::any_of(loads.begin(), loads.end(), [](const StagingLoad& l) { return l.rows > 0; });
  std::vector<QualityResult> out;
  for (const StagingLoad& load : loads) {
    QualityResult r{
        "check_freshness", load.table, QualityStatus::kFail, -1, static_cast<double>(q.max_ingestion_age_minutes), ""};
    if (load.rows == 0 && !anything_loaded) {
      r.status = QualityStatus::kWarn;
      r.details = fmt::format(
          "{}: no rows loaded yet, nor in any other staging table: nothing was ingested, "
          "so nothing stopped (observed -1 = no rows)",
          load.table);
    } else if (load.rows == 0) {
      r.details = fmt::format(
          "{} is empty while other staging tables have rows: nothing ingested "
          "(observed -1 = no rows)",
          load.table);
    } else {
      r.observed = static_cast<double>(load.age_seconds) / 60;
      r.status = Judge(r.observed, r.threshold);
      r.details = fmt::format("newest ingestion {} ago (limit {} min)", Minutes(static_cast<double>(load.age_seconds)),
                              q.max_ingestion_age_minutes);
    }
    out.push_back(r);
  }
  return out;
}

QualityResult JudgeNewestEvent(const NewestEvent& newest, const QualityConfig& q) {
  QualityResult age{
      "check_freshness", "fact_events", QualityStatus::kWarn, -1, static_cast<double>(q.max_event_age_minutes), ""};
  if (newest.events == 0) {
    age.details = "fact_events holds no events (observed -1 = no rows)";
    return age;
  }
  age.observed = static_cast<double>(newest.age_seconds) / 60;
  age.status = Judge(age.observed, age.threshold, QualityStatus::kWarn);
  const bool loading = newest.newest_load_age_seconds >= 0 &&
                       newest.newest_load_age_seconds <= static_cast<int64_t>(q.max_ingestion_age_minutes) * 60;
  if (age.status == QualityStatus::kWarn && loading) {
    age.details = fmt::format(
        "newest event {} UTC is {} old but staging received rows {} ago: a replay of old "
        "data (a backfill or the shipped samples), not an ingestion stop (warn beyond {} min)",
        newest.timestamp, HumanAge(newest.age_seconds), Minutes(static_cast<double>(newest.newest_load_age_seconds)),
        q.max_event_age_minutes);
  } else {
    age.details = fmt::format("newest event {} UTC, {} ago (warn beyond {} min)", newest.timestamp,
                              Minutes(static_cast<double>(newest.age_seconds)), q.max_event_age_minutes);
  }
  return age;
}

std::vector<QualityResult> CheckFreshness(ClickHouseClient& client, const Config& config) {
  const std::string& db = config.clickhouse.database;
  const std::vector<StagingLoad> loads = ReadStagingLoads(client, db);
  std::vector<QualityResult> out = JudgeStagingLoads(loads, config.quality);
  const NewestEvent newest = ReadNewestEvent(client, config, loads);
  out.push_back(JudgeNewestEvent(newest, config.quality));
  int64_t newest_ingest = 0;
  for (const StagingLoad& load : loads) {
    if (load.rows > 0) newest_ingest = std::max(newest_ingest, load.newest_unix);
  }
  out.push_back(BuildLag(newest_ingest, dwh_checks::FactWatermark(client, db).at, config.quality));
  return out;
}

}  // namespace clickflow::quality_freshness
