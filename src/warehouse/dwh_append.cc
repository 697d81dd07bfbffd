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
#include "clickhouse/rows.h"
#include "warehouse/dwh_builder.h"
#include "warehouse/dwh_steps.h"

namespace clickflow {
namespace {

using Clock = std::chrono::steady_clock;
using namespace dwh_steps;

std::vector<dwh::Day> Days(ClickHouseClient& client, const std::string& sql) {
  std::vector<dwh::Day> days;
  for (const auto& row : QueryRows(client, sql)) days.push_back(static_cast<dwh::Day>(row.UInt(0)));
  return days;
}

void DropDeltaTables(ClickHouseClient& client, const std::string& db) {
  client.Execute(dwh::DeltaDropSql(db));
  client.Execute(dwh::TouchedDropSql(db));
}

std::map<dwh::Day, uint64_t> DayCounts(ClickHouseClient& client, const std::string& db, const std::string& table,
                                       const std::vector<dwh::Day>& days) {
  std::map<dwh::Day, uint64_t> counts;
  for (const auto& row : QueryRows(client, dwh::DayCountsSql(db, table, days))) {
    counts[static_cast<dwh::Day>(row.UInt(0))] = row.UInt(1);
  }
  return counts;
}

// Rewrites one day's twins from fact_events and the delta (dwh::PatchKeepSql), then swaps it in.
// Costs a copy of the day's facts, not the four-way join of its staging rows that BuildBatch
// runs: after a kill, late sides make the watch patch the current day every few cycles, and at
// 1.6M events a day a rebuild takes about 53 s (30-minute soak).
void PatchDay(ClickHouseClient& client, const std::string& db, dwh::Day day) {
  for (const std::string& table : dwh::DayPartitionedTables()) {
    client.Execute(dwh::DropBuildPartitionSql(db, table, day));
  }
  Run(client, "keep the untouched facts of " + dwh::DayToIso(day), dwh::PatchKeepSql(db, day));
  Run(client, "add the touched facts of " + dwh::DayToIso(day), dwh::PatchDeltaSql(db, day));
  for (const std::string& table : dwh::DayPartitionedTables()) {
    SwapDay(client, db, table, day);
  }
}

// Where this cycle starts and ends, in _ingested_at (unix seconds).
struct AppendWindow {
  int64_t staged_up_to = 0;  // the newest load in staging when the cycle began
  int64_t since = 0;         // rows loaded from here on count as new (last watermark - overlap)
  int64_t watermark = 0;     // ... up to here, recorded when the cycle ends
};

// As in BuildFacts: the watermark first, so rows arriving meanwhile are in the next cycle.
//
// A cycle takes at most `append_window_seconds` of loads past the last watermark (plus the
// overlap before it), starting at the first load after it (after a quiet hour, the next
// loads are one slice away, not sixty). Behind, after an outage or under a burst, the watch
// catches up in slices.
AppendWindow ChooseWindow(ClickHouseClient& client, const std::string& db, const DwhOptions& options) {
  AppendWindow window;
  window.staged_up_to = client.QueryInt(dwh::StagingWatermarkSql(db));
  const int64_t last = LastWatermark(client, db, "fact_events");
  window.since = std::max<int64_t>(1, last - options.append_overlap_seconds);
  const int64_t first_new = client.QueryInt(dwh::FirstLoadAfterSql(db, last));
  const int64_t slice_start = first_new > 0 ? std::max(last, first_new - 1) : last;
  window.watermark =
      std::max(last, std::min(window.staged_up_to, slice_start + std::max(1, options.append_window_seconds)));
  return window;
}

// Fills fact_events_touched with the events loaded in the window; returns their browser rows.
uint64_t FindTouchedEvents(ClickHouseClient& client, const std::string& db, const AppendWindow& window) {
  DropDeltaTables(client, db);  // a cycle killed midway leaves them behind
  Run(client, "find the touched events", dwh::TouchedCreateSql(db, {window.since}, window.watermark));
  return static_cast<uint64_t>(client.QueryInt("SELECT count() FROM " + db + ".fact_events_touched"));
}

// Computes the facts of the touched events into fact_events_delta. Loads after an outage come
// in bursts (a minute of backlog can land in one second of _ingested_at), so the delta is cut
// into event_id buckets of at most batch_rows browser rows, and into twice as many on a
// memory-limit error. False (scratch tables dropped) when even dwh::kMaxBuckets do not fit.
bool ComputeDelta(ClickHouseClient& client, const std::string& db, uint64_t touched_rows, const DwhOptions& options) {
  uint32_t buckets = dwh::BucketsFor(touched_rows, options.batch_rows);
  while (true) {
    client.Execute(dwh::DeltaDropSql(db));
    try {
      if (buckets > 1) spdlog::info("dwh: delta of {} browser rows in {} event_id buckets", touched_rows, buckets);
      for (uint32_t i = 0; i < buckets; ++i) {
        Run(client, "compute the delta", dwh::DeltaCreateSql(db, {i, buckets}));
      }
      return true;
    } catch (const ClickHouseError& e) {
      if (e.code() != kMemoryLimitExceeded) throw;
      if (buckets >= dwh::kMaxBuckets) {
        DropDeltaTables(client, db);
        spdlog::warn("dwh: the delta exceeds the memory limit even in {} buckets; rebuilding the touched days whole",
                     buckets);
        return false;
      }
      buckets = std::min(dwh::kMaxBuckets, buckets * 2);
      spdlog::warn("dwh: the delta exceeds the memory limit; trying {} event_id buckets", buckets);
    }
  }
}

// Each day's row count in fact_events and in its build twin.
struct DayCountsPair {
  std::map<dwh::Day, uint64_t> facts;
  std::map<dwh::Day, uint64_t> twins;
  uint64_t Facts(dwh::Day day) const { return facts.count(day) ? facts.at(day) : 0; }
  uint64_t Twins(dwh::Day day) const { return twins.count(day) ? twins.at(day) : 0; }
};

// What the cycle does to each day it touches.
struct DayPlan {
  // Days whose facts changed (a late side, a newer copy, a moved event): patched, or rebuilt
  // whole once staging was cleared.
  std::set<dwh::Day> changed;
  std::set<dwh::Day> out_of_step;  // rebuilt whole (BuildBatch: staging, and what it no longer holds carried forward)
  std::vector<dwh::Day> append;    // days that only gain new events
  std::string new_facts;           // SQL condition on the delta: the facts to append
};

// Sorts the days of the delta's events into changed days and days to append to. Appending adds
// to what the twin holds: it must hold what fact_events holds (a day only one of them has is
// not covered by the guard, which runs before), or the day is rebuilt whole instead.
void PlanDeltaDays(ClickHouseClient& client, const std::string& db, bool cleared, int64_t complete_by_unix,
                   const DayCountsPair& counts, DayPlan& plan) {
  if (client.QueryInt("SELECT count() FROM " + db + ".fact_events_delta") == 0) return;
  const std::vector<dwh::Day> seen = cleared ? std::vector<dwh::Day>{} : Days(client, dwh::DeltaSeenDaysSql(db));
  for (const auto& row : QueryRows(client, dwh::DeltaChangedDaysSql(db, seen))) {
    plan.changed.insert(static_cast<dwh::Day>(row.UInt(0)));
    plan.changed.insert(static_cast<dwh::Day>(row.UInt(1)));
  }
  plan.new_facts = dwh::DeltaNewFactsCondition(db, seen, complete_by_unix);
  for (dwh::Day day : Days(client, dwh::DeltaNewDaysSql(db, plan.new_facts))) {
    if (plan.changed.count(day) || plan.out_of_step.count(day)) continue;
    if (counts.Facts(day) == counts.Twins(day)) {
      plan.append.push_back(day);
    } else {
      spdlog::info("dwh: {} has {} facts but {} in its build twin: rebuilding it whole", dwh::DayToIso(day),
                   counts.Facts(day), counts.Twins(day));
      plan.out_of_step.insert(day);
    }
  }
}

// `guarded`: the days the guard found out of step with their twins (dwh_guard.h).
DayPlan PlanDays(ClickHouseClient& client, const std::string& db, bool cleared, int64_t complete_by_unix,
                 const std::set<dwh::Day>& guarded) {
  DayPlan plan;
  const DayCountsPair counts{DayCounts(client, db, "fact_events", {}), DayCounts(client, db, "fact_events_build", {})};
  plan.out_of_step = guarded;
  PlanDeltaDays(client, db, cleared, complete_by_unix, counts, plan);
  return plan;
}

// Patches the changed days (the delta holds every touched event whole, and fact_events every
// other event of the day); returns them. Once staging was cleared nothing is patched: a touched
// event's delta row may lack what only its fact still has, so its day is rebuilt whole
// instead, carrying such facts forward (FactCarryForwardSql). Leaves in `plan.out_of_step`
// every day to rebuild whole.
std::set<dwh::Day> PatchChangedDays(ClickHouseClient& client, const std::string& db, bool cleared, DayPlan& plan) {
  std::set<dwh::Day> patched;
  if (cleared) {
    plan.out_of_step.insert(plan.changed.begin(), plan.changed.end());
    return patched;
  }
  for (dwh::Day day : plan.changed) {
    if (plan.out_of_step.count(day)) continue;
    PatchDay(client, db, day);
    patched.insert(day);
  }
  return patched;
}

// Rebuilds `days` whole from staging, the BuildFacts way; returns the number of batches.
size_t RebuildDaysWhole(ClickHouseClient& client, const std::string& db, const std::set<dwh::Day>& rebuild,
                        bool cleared, const DwhOptions& options) {
  if (rebuild.empty()) return 0;
  const std::vector<dwh::Day> days(rebuild.begin(), rebuild.end());
  const auto rows_per_day = BrowserRowsPerDay(client, db);
  const auto batches = dwh::BatchDays(days, rows_per_day, options.batch_rows);
  for (const auto& batch : batches) BuildBatch(client, db, batch, rows_per_day, options.batch_rows, false, cleared);
  return batches.size();
}

// Appends the new facts to the twins of `plan.append` and swaps those days in; returns the
// number of batches (0 or 1).
size_t AppendNewFacts(ClickHouseClient& client, const std::string& db, const DayPlan& plan) {
  if (plan.append.empty()) return 0;
  Run(client, "append new facts", dwh::DeltaAppendSql(db, plan.new_facts, plan.append));
  for (dwh::Day day : plan.append) {
    for (const std::string& table : dwh::DayPartitionedTables()) {
      SwapDay(client, db, table, day);
    }
  }
  return 1;
}

// Records the cycle's watermark and days in dwh_build_state, and says what it did.
void RecordCycle(ClickHouseClient& client, const std::string& db, const AppendWindow& window, int64_t started_unix,
                 Clock::time_point start, const std::set<dwh::Day>& patched, const std::set<dwh::Day>& rebuilt,
                 FactBuildSummary& summary) {
  std::set<dwh::Day> touched(rebuilt);
  touched.insert(patched.begin(), patched.end());
  touched.insert(summary.appended.begin(), summary.appended.end());
  summary.days.assign(touched.begin(), touched.end());
  if (!summary.days.empty()) {
    summary.rows = static_cast<uint64_t>(client.QueryInt(
        "SELECT count() FROM " + db + ".fact_events WHERE event_date IN (" + dwh::DateList(summary.days) + ")"));
  }
  client.Execute(dwh::RecordStateSql(db, "fact_events", summary.watermark, summary.days, summary.rows, started_unix));
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!summary.days.empty()) {
    spdlog::info("dwh: appended to {} day(s), patched {} day(s), rebuilt {} day(s) whole, in {:.2f} s{}",
                 summary.appended.size(), patched.size(), rebuilt.size(), summary.seconds,
                 summary.watermark < window.staged_up_to
                     ? fmt::format(" ({} s of loads still to catch up)", window.staged_up_to - summary.watermark)
                     : "");
  }
}

// The append itself, under the lock; nullopt when the delta does not fit in memory.
std::optional<FactBuildSummary> AppendLocked(ClickHouseClient& client, const Config& config,
                                             const DwhOptions& options) {
  const std::string& db = config.clickhouse.database;
  DwhLock lock(config);
  // Once retention has cleared staging, a fact may outlive its staging copies: look for existing
  // facts on every day, and rebuild days carrying such facts forward (as BuildFacts does).
  const bool cleared = StagingWasCleared(client, db);
  const auto start = Clock::now();
  const int64_t started_unix = std::time(nullptr);
  const AppendWindow window = ChooseWindow(client, db, options);
  FactBuildSummary summary;
  summary.watermark = window.watermark;
  const uint64_t touched_rows = FindTouchedEvents(client, db, window);
  if (!ComputeDelta(client, db, touched_rows, options)) return std::nullopt;

  // The guard checks every day each cycle: on 18.16 a merge may commit after the cycle that
  // swapped, and on any server a writer (a cycle like this one, a build) killed between a day's swaps
  // leaves that day for this cycle to find.
  const dwh_guard::OutOfStep out_of_step = dwh_guard::FindOutOfStep(client, db);
  DayPlan plan = PlanDays(client, db, cleared, started_unix - options.append_grace_seconds, out_of_step.days);
  const std::set<dwh::Day> patched = PatchChangedDays(client, db, cleared, plan);
  summary.batches += patched.size();
  summary.batches += RebuildDaysWhole(client, db, plan.out_of_step, cleared, options);
  summary.batches += AppendNewFacts(client, db, plan);
  DropDeltaTables(client, db);

  summary.appended = plan.append;
  RecordCycle(client, db, window, started_unix, start, patched, plan.out_of_step, summary);
  RebuildOutOfStepDims(client, db, out_of_step, summary);
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
