// AppendFacts: the streaming micro-build (see dwh_builder.h). Rebuilding a whole event day
// every few seconds costs more as the day fills (2 s -> 25 s over two minutes at 5,000
// events/s, bench/e2e); appending the new events costs what arrived since the last cycle.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <set>

#include "clickhouse/client.h"
#include "warehouse/dwh_builder.h"
#include "warehouse/dwh_steps.h"

namespace clickflow {
namespace {

using Clock = std::chrono::steady_clock;
using namespace dwh_steps;

std::vector<dwh::Day> Days(ClickHouseClient& client, const std::string& sql) {
  std::vector<dwh::Day> days;
  for (const auto& row : ParseNumberRows(client.Query(sql))) days.push_back(static_cast<dwh::Day>(row.at(0)));
  return days;
}

void DropDeltaTables(ClickHouseClient& client, const std::string& db) {
  client.Execute(dwh::DeltaDropSql(db));
  client.Execute(dwh::TouchedDropSql(db));
}

std::map<dwh::Day, uint64_t> DayCounts(ClickHouseClient& client, const std::string& db, const std::string& table,
                                       const std::vector<dwh::Day>& days) {
  std::map<dwh::Day, uint64_t> counts;
  for (const auto& row : ParseNumberRows(client.Query(dwh::DayCountsSql(db, table, days)))) {
    counts[static_cast<dwh::Day>(row.at(0))] = row.at(1);
  }
  return counts;
}

// Rewrites one day's twins from fact_events and the delta (dwh::PatchKeepSql), then swaps it in.
// Costs a copy of the day's facts, not the four-way join of its staging rows that BuildBatch
// runs: after a kill, late sides make the watch patch the current day every few cycles, and at
// 1.6M events a day a rebuild already took 53 s (30-minute soak, session 4).
void PatchDay(ClickHouseClient& client, const std::string& db, dwh::Day day) {
  for (const std::string& table : dwh::DayPartitionedTables()) {
    client.Execute(dwh::DropBuildPartitionSql(db, table, day));
  }
  Run(client, "keep the untouched facts of " + dwh::DayToIso(day), dwh::PatchKeepSql(db, day));
  Run(client, "add the touched facts of " + dwh::DayToIso(day), dwh::PatchDeltaSql(db, day));
  for (const std::string& table : dwh::DayPartitionedTables()) {
    client.Execute(dwh::ReplacePartitionSql(db, table, day));
  }
}

// The append itself, under the lock; nullopt when the delta does not fit in memory.
std::optional<FactBuildSummary> AppendLocked(ClickHouseClient& client, const Config& config,
                                             const DwhOptions& options) {
  const std::string& db = config.clickhouse.database;
  // Once retention has cleared staging, a fact may outlive its staging copies: look for existing
  // facts on every day, and rebuild days carrying such facts forward (as BuildFacts does).
  const bool cleared = StagingWasCleared(client, db);
  DwhLock lock(config);
  const auto start = Clock::now();
  const int64_t started_unix = std::time(nullptr);
  FactBuildSummary summary;
  // As in BuildFacts: the watermark first, so rows arriving meanwhile are in the next cycle.
  const int64_t staged_up_to = client.QueryInt(dwh::StagingWatermarkSql(db));
  const int64_t last = LastWatermark(client, db, "fact_events");
  const int64_t since = std::max<int64_t>(1, last - options.append_overlap_seconds);

  // A cycle takes at most `append_window_seconds` of loads past the last watermark (plus the
  // overlap before it), starting at the first load after it (after a quiet hour, the next
  // loads are one slice away, not sixty). Behind, after an outage or under a burst, the watch
  // catches up in slices. Loads after an outage come in bursts (a minute of backlog can land
  // in one second of _ingested_at), so the delta is also cut into event_id buckets of at most
  // batch_rows browser rows, and into twice as many on a memory-limit error.
  const int64_t first_new = client.QueryInt(dwh::FirstLoadAfterSql(db, last));
  const int64_t slice_start = first_new > 0 ? std::max(last, first_new - 1) : last;
  summary.watermark =
      std::max(last, std::min(staged_up_to, slice_start + std::max(1, options.append_window_seconds)));
  DropDeltaTables(client, db);  // a cycle killed midway leaves them behind
  Run(client, "find the touched events", dwh::TouchedCreateSql(db, {since}, summary.watermark));
  const auto rows = static_cast<uint64_t>(client.QueryInt("SELECT count() FROM " + db + ".fact_events_touched"));
  uint32_t buckets = dwh::BucketsFor(rows, options.batch_rows);
  while (true) {
    client.Execute(dwh::DeltaDropSql(db));
    try {
      if (buckets > 1) spdlog::info("dwh: delta of {} browser rows in {} event_id buckets", rows, buckets);
      for (uint32_t i = 0; i < buckets; ++i) {
        Run(client, "compute the delta", dwh::DeltaCreateSql(db, {i, buckets}));
      }
      break;
    } catch (const ClickHouseError& e) {
      if (e.code() != kMemoryLimitExceeded) throw;
      if (buckets >= dwh::kMaxBuckets) {
        DropDeltaTables(client, db);
        spdlog::warn("dwh: the delta exceeds the memory limit even in {} buckets; rebuilding the touched days whole",
                     buckets);
        return std::nullopt;
      }
      buckets = std::min(dwh::kMaxBuckets, buckets * 2);
      spdlog::warn("dwh: the delta exceeds the memory limit; trying {} event_id buckets", buckets);
    }
  }
  // Days whose facts changed (a late side, a newer copy, a moved event): patched, or rebuilt
  // whole once staging was cleared.
  std::set<dwh::Day> rebuild;
  // Days whose fact_events partition is out of step with its build twin, which the last swap
  // copied: a crash between appending to the twin and the swap leaves the twin ahead, and on
  // 18.16 a background merge that was running when REPLACE PARTITION swapped the day commits
  // its merged part anyway (server log: "Unexpected number of parts removed when adding ...:
  // 0 instead of 6"), bringing the old rows back beside the new ones (CI soak, session 5).
  // Neither side can be trusted then: such days are rebuilt whole from staging. Checked every
  // cycle for every day, since the merge may commit after the cycle that swapped.
  std::set<dwh::Day> out_of_step;
  const auto facts = DayCounts(client, db, "fact_events", {});
  const auto twins = DayCounts(client, db, "fact_events_build", {});
  if (!cleared) {
    for (const auto& [day, rows] : facts) {
      const auto twin = twins.find(day);
      if (twin != twins.end() && twin->second != rows) {
        spdlog::warn("dwh: {} has {} facts but {} in its build twin: rebuilding it whole", dwh::DayToIso(day), rows,
                     twin->second);
        out_of_step.insert(day);
      }
    }
  }
  std::vector<dwh::Day> append;
  std::string new_facts;
  if (client.QueryInt("SELECT count() FROM " + db + ".fact_events_delta") > 0) {
    const std::vector<dwh::Day> seen = cleared ? std::vector<dwh::Day>{} : Days(client, dwh::DeltaSeenDaysSql(db));
    for (const auto& row : ParseNumberRows(client.Query(dwh::DeltaChangedDaysSql(db, seen)))) {
      rebuild.insert(static_cast<dwh::Day>(row.at(0)));
      rebuild.insert(static_cast<dwh::Day>(row.at(1)));
    }
    new_facts = dwh::DeltaNewFactsCondition(db, seen, started_unix - options.append_grace_seconds);
    std::vector<dwh::Day> candidates;
    for (dwh::Day day : Days(client, dwh::DeltaNewDaysSql(db, new_facts))) {
      if (!rebuild.count(day) && !out_of_step.count(day)) candidates.push_back(day);
    }
    if (!candidates.empty()) {
      // Appending adds to what the twin holds: it must hold what fact_events holds (a day only
      // one of them has is not covered by the check above).
      for (dwh::Day day : candidates) {
        const uint64_t in_facts = facts.count(day) ? facts.at(day) : 0;
        const uint64_t in_twin = twins.count(day) ? twins.at(day) : 0;
        if (in_facts == in_twin) {
          append.push_back(day);
        } else {
          spdlog::info("dwh: {} has {} facts but {} in its build twin: rebuilding it whole", dwh::DayToIso(day),
                       in_facts, in_twin);
          out_of_step.insert(day);
        }
      }
    }
  }
  std::set<dwh::Day> patched;
  if (!cleared) {
    // The delta holds every touched event whole, and fact_events every other event of the day.
    for (dwh::Day day : rebuild) {
      if (out_of_step.count(day)) continue;
      PatchDay(client, db, day);
      patched.insert(day);
    }
    rebuild = out_of_step;
  } else {
    rebuild.insert(out_of_step.begin(), out_of_step.end());
  }
  summary.batches += patched.size();
  if (!rebuild.empty()) {
    // Once staging was cleared, a touched event's delta row may lack what only its fact still
    // has; a rebuild carries such facts forward (FactCarryForwardSql) instead.
    const std::vector<dwh::Day> days(rebuild.begin(), rebuild.end());
    const auto rows_per_day = BrowserRowsPerDay(client, db);
    const auto batches = dwh::BatchDays(days, rows_per_day, options.batch_rows);
    for (const auto& batch : batches) BuildBatch(client, db, batch, rows_per_day, options.batch_rows, false, cleared);
    summary.batches += batches.size();
  }
  if (!append.empty()) {
    Run(client, "append new facts", dwh::DeltaAppendSql(db, new_facts, append));
    for (dwh::Day day : append) {
      for (const std::string& table : dwh::DayPartitionedTables()) {
        client.Execute(dwh::ReplacePartitionSql(db, table, day));
      }
    }
    ++summary.batches;
  }
  DropDeltaTables(client, db);

  summary.appended = append;
  std::set<dwh::Day> touched(rebuild);
  touched.insert(patched.begin(), patched.end());
  touched.insert(append.begin(), append.end());
  summary.days.assign(touched.begin(), touched.end());
  if (!summary.days.empty()) {
    summary.rows = static_cast<uint64_t>(client.QueryInt(
        "SELECT count() FROM " + db + ".fact_events WHERE event_date IN (" + dwh::DateList(summary.days) + ")"));
  }
  client.Execute(dwh::RecordStateSql(db, "fact_events", summary.watermark, summary.days, summary.rows, started_unix));
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!summary.days.empty()) {
    spdlog::info("dwh: appended to {} day(s), patched {} day(s), rebuilt {} day(s) whole, in {:.2f} s{}",
                 append.size(), patched.size(), rebuild.size(), summary.seconds,
                 summary.watermark < staged_up_to
                     ? fmt::format(" ({} s of loads still to catch up)", staged_up_to - summary.watermark)
                     : "");
  }
  return summary;
}

}  // namespace

FactBuildSummary AppendFacts(ClickHouseClient& client, const Config& config, const DwhOptions& options) {
  const std::string& db = config.clickhouse.database;
  if (options.full || LastWatermark(client, db, "fact_events") < 0) return BuildFacts(client, config, options);
  if (auto appended = AppendLocked(client, config, options)) return *appended;
  return BuildFacts(client, config, options);  // takes the lock AppendLocked has released
}

}  // namespace clickflow
