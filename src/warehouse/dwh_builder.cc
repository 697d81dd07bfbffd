#include "warehouse/dwh_builder.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>

#include "clickhouse/client.h"
#include "clickhouse/rows.h"
#include "common/error.h"
#include "warehouse/dwh_steps.h"
#include "warehouse/retention.h"

namespace clickflow {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

namespace dwh_steps {

// Runs one statement and logs how long it took (-v), the way to see where a build spends time.
void Run(ClickHouseClient& client, const std::string& what, const std::string& sql) {
  const auto start = Clock::now();
  client.Execute(sql);
  spdlog::debug("dwh: {} in {:.2f} s", what, SecondsSince(start));
}

std::vector<dwh::Day> TouchedDays(ClickHouseClient& client, const std::string& db, int64_t since) {
  std::vector<dwh::Day> days;
  for (const auto& row : QueryRows(client, dwh::TouchedDaysSql(db, {since}))) {
    days.push_back(static_cast<dwh::Day>(row.UInt(0)));
  }
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  return days;
}

std::vector<dwh::DayRows> BrowserRowsPerDay(ClickHouseClient& client, const std::string& db) {
  std::vector<dwh::DayRows> out;
  for (const auto& row : QueryRows(client, dwh::BrowserRowsPerDaySql(db))) {
    out.push_back({static_cast<dwh::Day>(row.UInt(0)), row.UInt(1)});
  }
  return out;
}

void BuildBatch(ClickHouseClient& client, const std::string& db, const std::vector<dwh::Day>& batch,
                const std::vector<dwh::DayRows>& rows_of, uint64_t target_rows, bool every_day, bool carry_forward) {
  uint64_t rows = 0;
  for (const dwh::DayRows& r : rows_of) {
    if (std::find(batch.begin(), batch.end(), r.day) != batch.end()) rows += r.rows;
  }
  uint32_t buckets = dwh::BucketsFor(rows, target_rows);
  while (true) {
    // Drop first: a build killed after its INSERT leaves rows in the twins, and REPLACE copies
    // parts rather than moving them, so the twins still hold the previous build's days too.
    for (dwh::Day day : batch) {
      for (const std::string& table : dwh::DayPartitionedTables()) {
        client.Execute(dwh::DropBuildPartitionSql(db, table, day));
      }
    }
    if (buckets > 1) spdlog::info("dwh: {} browser rows: building in {} event_id buckets", rows, buckets);
    try {
      for (uint32_t i = 0; i < buckets; ++i) {
        Run(client, "insert facts from staging", dwh::FactInsertSql(db, batch, every_day, {i, buckets}));
      }
      break;
    } catch (const ClickHouseError& e) {
      // What a bucket needs depends on the data (copies per event, device and geo rows per
      // session), not on browser rows alone: the 30-minute soak's 960k-row buckets needed more
      // than 3.8 GB.
      if (e.code() != kMemoryLimitExceeded || buckets >= dwh::kMaxBuckets) throw;
      buckets = std::min(dwh::kMaxBuckets, buckets * 2);
      spdlog::warn("dwh: a bucket exceeded the memory limit; starting over in {} buckets", buckets);
    }
  }
  if (carry_forward) {
    Run(client, "carry forward facts without staging rows", dwh::FactCarryForwardSql(db, batch));
  }
  // Each swap is atomic; between them the aggregates lag the fact by a statement, and a build
  // killed here is repaired by the rerun (the watermark has not moved).
  for (dwh::Day day : batch) {
    for (const std::string& table : dwh::DayPartitionedTables()) {
      SwapDay(client, db, table, day);
    }
  }
}

void SwapDay(ClickHouseClient& client, const std::string& db, const std::string& table, dwh::Day day) {
  if (client.QueryInt(dwh::TwinPartsSql(db, table, std::to_string(day))) > 0) {
    client.Execute(dwh::ReplacePartitionSql(db, table, day));
  } else {
    client.Execute(dwh::DropPartitionSql(db, table, day));
  }
}

void SwapWholeTable(ClickHouseClient& client, const std::string& db, const std::string& table) {
  if (client.QueryInt(dwh::TwinPartsSql(db, table, "all")) > 0) {
    client.Execute(dwh::ReplaceWholeTableSql(db, table));
  } else {
    client.Execute(dwh::TruncateSql(db, table));
  }
}

int64_t LastWatermark(ClickHouseClient& client, const std::string& db, const std::string& component) {
  return client.QueryInt(dwh::LastWatermarkSql(db, component));
}

bool StagingWasCleared(ClickHouseClient& client, const std::string& db) {
  return client.QueryInt(fmt::format("SELECT count() FROM {}.dwh_build_state WHERE component = {}", db,
                                     Quote(kStagingDroppedComponent))) > 0;
}

DimBuildSummary RebuildDim(ClickHouseClient& client, const std::string& db, const std::string& table) {
  const auto start = Clock::now();
  const int64_t started_unix = std::time(nullptr);
  // The dimension reflects the facts as of the last fact build; record that watermark.
  const int64_t watermark = std::max<int64_t>(0, LastWatermark(client, db, "fact_events"));
  client.Execute(dwh::TruncateSql(db, table + "_build"));
  if (table != "dim_users" && table != "dim_geo") throw Error("no dimension " + table);
  Run(client, "insert " + table, table == "dim_users" ? dwh::DimUsersInsertSql(db) : dwh::DimGeoInsertSql(db));
  SwapWholeTable(client, db, table);
  DimBuildSummary summary;
  summary.table = table;
  summary.rows = static_cast<uint64_t>(client.QueryInt("SELECT count() FROM " + db + "." + table));
  client.Execute(dwh::RecordStateSql(db, table, watermark, {}, summary.rows, started_unix));
  summary.seconds = SecondsSince(start);
  spdlog::info("dwh: {} rebuilt: {} rows in {:.1f} s", table, summary.rows, summary.seconds);
  return summary;
}

void RebuildOutOfStepDims(ClickHouseClient& client, const std::string& db, const dwh_guard::OutOfStep& out_of_step,
                          FactBuildSummary& summary) {
  for (const std::string& table : out_of_step.dims) {
    RebuildDim(client, db, table);
    summary.dims_rebuilt.push_back(table);
  }
}

}  // namespace dwh_steps

namespace {
using namespace dwh_steps;

DimBuildSummary BuildDim(ClickHouseClient& client, const Config& config, const std::string& table) {
  DwhLock lock(config);
  return RebuildDim(client, config.clickhouse.database, table);
}

}  // namespace

using namespace dwh_steps;

DwhLock::DwhLock(const Config& config, std::chrono::seconds wait) {
  std::error_code ec;
  std::filesystem::create_directories(config.RunDir(), ec);
  const std::string path = (config.RunDir() / "dwh.lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error("cannot open " + path + ": " + std::strerror(errno));
  // Builds take turns: the streaming micro-builds and the DAG's tasks often meet here.
  const auto deadline = Clock::now() + wait;
  bool logged = false;
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (Clock::now() >= deadline) {
      ::close(fd_);
      throw Error("another warehouse build held " + path + " for " + std::to_string(wait.count()) +
                  " s; try again when it has finished");
    }
    if (!logged) spdlog::info("dwh: waiting for another warehouse build to finish ({})", path);
    logged = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

DwhLock::~DwhLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

FactBuildSummary BuildFacts(ClickHouseClient& client, const Config& config, const DwhOptions& options) {
  DwhLock lock(config);
  const auto start = Clock::now();
  const int64_t started_unix = std::time(nullptr);
  const std::string& db = config.clickhouse.database;
  FactBuildSummary summary;

  // Read the watermark before choosing days: rows arriving during the build are then either
  // in this build or at/after the watermark, hence in the next one.
  summary.watermark = client.QueryInt(dwh::StagingWatermarkSql(db));
  const int64_t last = LastWatermark(client, db, "fact_events");
  int64_t since = 0;  // 0 = every day
  if (!options.full && last >= 0) {
    since = std::max<int64_t>(1, last - options.overlap_seconds);
  }
  summary.days = TouchedDays(client, db, since);
  const dwh_guard::OutOfStep out_of_step = dwh_guard::FindOutOfStep(client, db);
  summary.days.insert(summary.days.end(), out_of_step.days.begin(), out_of_step.days.end());
  std::sort(summary.days.begin(), summary.days.end());
  summary.days.erase(std::unique(summary.days.begin(), summary.days.end()), summary.days.end());
  const std::vector<dwh::DayRows> rows_per_day = BrowserRowsPerDay(client, db);
  const auto batches = dwh::BatchDays(summary.days, rows_per_day, options.batch_rows);
  // One batch holding every day staging has: the per-key restrictions would select everything.
  const bool every_day = batches.size() == 1 && std::all_of(rows_per_day.begin(), rows_per_day.end(), [&](auto& r) {
                           return std::binary_search(summary.days.begin(), summary.days.end(), r.day);
                         });
  // Facts whose staging rows are gone must be carried over from fact_events when their day is
  // rebuilt. That costs a scan of staging's event_ids per batch, so it runs only once
  // retention has dropped staging partitions (it records that before dropping any).
  const bool carry_forward = StagingWasCleared(client, db);
  summary.batches = batches.size();
  spdlog::info("dwh: {} day(s) to rebuild in {} batch(es) ({})", summary.days.size(), batches.size(),
               since == 0 ? "all days"
                          : "rows ingested since watermark " + std::to_string(last) + " - " +
                                std::to_string(options.overlap_seconds) + " s");
  for (size_t i = 0; i < batches.size(); ++i) {
    const auto batch_start = Clock::now();
    BuildBatch(client, db, batches[i], rows_per_day, options.batch_rows, every_day, carry_forward);
    spdlog::info("dwh: batch {}/{}: {} .. {} ({} days) in {:.1f} s", i + 1, batches.size(),
                 dwh::DayToIso(batches[i].front()), dwh::DayToIso(batches[i].back()), batches[i].size(),
                 SecondsSince(batch_start));
  }
  if (!summary.days.empty()) {
    summary.rows = static_cast<uint64_t>(client.QueryInt(
        "SELECT count() FROM " + db + ".fact_events WHERE event_date IN (" + dwh::DateList(summary.days) + ")"));
  }
  client.Execute(dwh::RecordStateSql(db, "fact_events", summary.watermark, summary.days, summary.rows, started_unix));
  RebuildOutOfStepDims(client, db, out_of_step, summary);
  summary.seconds = SecondsSince(start);
  return summary;
}

DimBuildSummary BuildDimUsers(ClickHouseClient& client, const Config& config) {
  return BuildDim(client, config, "dim_users");
}

DimBuildSummary BuildDimGeo(ClickHouseClient& client, const Config& config) {
  return BuildDim(client, config, "dim_geo");
}

}  // namespace clickflow
