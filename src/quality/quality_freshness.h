#pragma once
// check_freshness, split into what it reads and how it judges that: the judging functions are
// pure, so every case (nothing loaded yet, a replay of old events, ingestion that stopped) is
// tested without a server.
#include <cstdint>
#include <string>
#include <vector>

#include "clickhouse/client.h"
#include "common/config.h"
#include "quality/quality_checks.h"

namespace clickflow::quality_freshness {

// The newest load of one staging table.
struct StagingLoad {
  std::string table;
  uint64_t rows = 0;
  int64_t age_seconds = 0;  // now - max(_ingested_at); meaningless when rows == 0
  int64_t newest_unix = 0;  // max(_ingested_at)
};

// One result per staging table. An empty table is a warning while every staging table is
// empty (nothing was ever loaded: no ingestion to have stopped) and a failure while another
// one has rows (that topic never arrived). A newest load older than max_ingestion_age_minutes
// means ingestion stopped: a failure.
std::vector<QualityResult> JudgeStagingLoads(const std::vector<StagingLoad>& loads, const QualityConfig& q);

// The newest event of fact_events (events later than now + max_future_skew_minutes left out).
struct NewestEvent {
  uint64_t events = 0;
  int64_t age_seconds = 0;  // now - max(event_timestamp)
  std::string timestamp;    // max(event_timestamp), "2026-11-01 10:00:00" (UTC)
  // now - the newest _ingested_at of all staging, -1 when staging is empty.
  int64_t newest_load_age_seconds = -1;
};

// Event time is the source's clock: an old newest event is a warning, never a failure. When
// staging received rows within max_ingestion_age_minutes, the details say the old events are a
// replay (a backfill, the shipped samples), since ingestion itself is alive.
QualityResult JudgeNewestEvent(const NewestEvent& newest, const QualityConfig& q);

// "12.5 min", "3.0 h", "40.2 days": an age as a person reads it.
std::string HumanAge(int64_t seconds);

std::vector<QualityResult> CheckFreshness(ClickHouseClient& client, const Config& config);

}  // namespace clickflow::quality_freshness
