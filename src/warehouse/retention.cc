#include "warehouse/retention.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <optional>

#include "clickhouse/client.h"
#include "clickhouse/rows.h"
#include "ingest/event_schema.h"
#include "warehouse/dwh_builder.h"

namespace clickflow {
namespace retention {

uint32_t DaysBefore(int64_t now_unix, int days) {
  using namespace std::chrono;
  const sys_days day = floor<std::chrono::days>(sys_seconds{seconds{now_unix}}) - std::chrono::days{days};
  const year_month_day ymd{day};
  return static_cast<uint32_t>(static_cast<int>(ymd.year()) * 10000 + static_cast<unsigned>(ymd.month()) * 100 +
                               static_cast<unsigned>(ymd.day()));
}

std::vector<std::string> PartitionsOlderThan(const std::vector<std::string>& partitions, uint32_t cutoff,
                                             const std::set<std::string>& protect) {
  std::vector<std::string> out;
  for (const std::string& p : partitions) {
    if (p.size() != 8 ||
        !std::all_of(p.begin(), p.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      continue;
    }
    if (static_cast<uint32_t>(std::stoul(p)) < cutoff && !protect.count(p)) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace retention

namespace {

// The staging tables of the four topics (src/ingest/event_schema) and the dead letters.
std::vector<std::string> StagingTables() {
  std::vector<std::string> tables;
  for (const TopicSchema& schema : AllTopicSchemas()) tables.emplace_back(schema.table);
  tables.emplace_back(kDeadLetterTable);
  return tables;
}
const std::vector<std::string> kFactTables = {
    "fact_events",       "agg_events_hourly",       "agg_traffic_sources",
    "fact_events_build", "agg_events_hourly_build", "agg_traffic_sources_build"};

// The first column of each row `sql` returns.
std::vector<std::string> FirstColumn(ClickHouseClient& client, const std::string& sql) {
  std::vector<std::string> out;
  for (const Row& row : QueryRows(client, sql)) out.push_back(row.Str(0));
  return out;
}

std::vector<std::string> ActivePartitions(ClickHouseClient& client, const std::string& db, const std::string& table) {
  return FirstColumn(client, fmt::format("SELECT DISTINCT partition FROM system.parts WHERE database = {} AND table = "
                                         "{} AND active ORDER BY partition",
                                         Quote(db), Quote(table)));
}

// The partitions holding the newest offset of each (_topic, _partition): the loader's resume points.
std::set<std::string> ResumePartitions(ClickHouseClient& client, const std::string& db, const std::string& table) {
  auto lines = FirstColumn(
      client,
      fmt::format("SELECT DISTINCT toYYYYMMDD(_ingested_at) FROM {db}.{t} WHERE (_topic, _partition, _offset) IN "
                  "(SELECT _topic, _partition, max(_offset) FROM {db}.{t} GROUP BY _topic, _partition)",
                  fmt::arg("db", db), fmt::arg("t", table)));
  return {lines.begin(), lines.end()};
}

// The join key by which a staging table's rows show up in fact_events: its topic's key.
std::string FactKey(const std::string& table) {
  for (const TopicSchema& schema : AllTopicSchemas()) {
    if (schema.table == table) return std::string(schema.key_field);
  }
  throw Error("no topic lands in staging table " + table);
}

// Rows of the staging partition whose key is not in fact_events (0 = all represented).
int64_t UnrepresentedRows(ClickHouseClient& client, const std::string& db, const std::string& table,
                          const std::string& partition) {
  const std::string key = FactKey(table);
  return client.QueryInt(
      fmt::format("SELECT count() FROM {db}.{t} WHERE toYYYYMMDD(_ingested_at) = {p} AND {k} NOT IN ("
                  "SELECT {k} FROM {db}.fact_events WHERE {k} IN ("
                  "SELECT {k} FROM {db}.{t} WHERE toYYYYMMDD(_ingested_at) = {p}))",
                  fmt::arg("db", db), fmt::arg("t", table), fmt::arg("k", key), fmt::arg("p", partition)));
}

class Dropper {
 public:
  Dropper(ClickHouseClient& client, const std::string& db, bool dry_run, RetentionSummary& summary)
      : client_(client), db_(db), dry_run_(dry_run), summary_(summary) {}

  void Drop(const std::string& table, const std::string& partition, const std::string& reason) {
    if (!dry_run_ && !marked_ && table.starts_with("events_")) {
      // Tell the warehouse builder, before the first drop, that staging no longer holds every
      // event it built: from now on it carries such facts forward when it rebuilds their day.
      client_.Execute(fmt::format(
          "INSERT INTO {}.dwh_build_state (component, watermark, days, rows_built, started_at, finished_at) "
          "SELECT {}, now(), emptyArrayDate(), 0, now(), now()",
          db_, Quote(kStagingDroppedComponent)));
      marked_ = true;
    }
    if (!dry_run_) client_.Execute(fmt::format("ALTER TABLE {}.{} DROP PARTITION {}", db_, table, partition));
    spdlog::info("retention: {} {}.{} partition {} ({})", dry_run_ ? "would drop" : "dropped", db_, table, partition,
                 reason);
    summary_.dropped.push_back({table, partition, reason});
  }

  void Keep(const std::string& table, const std::string& partition, const std::string& reason) {
    spdlog::info("retention: keeping {}.{} partition {}: {}", db_, table, partition, reason);
    summary_.kept.push_back({table, partition, reason});
  }

 private:
  ClickHouseClient& client_;
  const std::string& db_;
  bool dry_run_;
  bool marked_ = false;
  RetentionSummary& summary_;
};

}  // namespace

RetentionSummary RunRetention(ClickHouseClient& client, const Config& config, const RetentionOptions& options) {
  const std::string& db = config.clickhouse.database;
  const PipelineConfig& p = config.pipeline;
  const int64_t now = options.now_unix > 0 ? options.now_unix : static_cast<int64_t>(std::time(nullptr));
  // A build reads whether staging was cleared once, then rebuilds days from staging: staging
  // dropped under it would empty those days instead of carrying their facts forward.
  std::optional<DwhLock> lock;
  if (!options.dry_run) lock.emplace(config);
  RetentionSummary summary;
  Dropper dropper(client, db, options.dry_run, summary);

  for (const std::string& table : StagingTables()) {
    const std::vector<std::string> partitions = ActivePartitions(client, db, table);
    const std::set<std::string> resume = ResumePartitions(client, db, table);
    std::set<std::string> dropped;
    if (options.ttl) {
      const uint32_t cutoff = retention::DaysBefore(now, p.staging_ttl_days);
      for (const std::string& part : retention::PartitionsOlderThan(partitions, cutoff, {})) {
        if (resume.count(part)) {
          dropper.Keep(table, part, "holds the loader's resume offset");
        } else {
          dropper.Drop(table, part, fmt::format("older than staging_ttl_days={}", p.staging_ttl_days));
          dropped.insert(part);
        }
      }
    }
    if (!options.clear_staging || table == kDeadLetterTable) continue;
    // Only rows the last fact build can have seen: it covered everything ingested before its
    // watermark, give or take the loader's commit delay (an hour is far beyond it).
    const int64_t built_until = client.QueryInt(fmt::format(
        "SELECT toInt64(toUInt32(max(watermark))) - 3600 FROM {}.dwh_build_state WHERE component = 'fact_events'", db));
    const uint32_t cutoff = retention::DaysBefore(now, p.staging_keep_days);
    for (const std::string& part : retention::PartitionsOlderThan(partitions, cutoff, {})) {
      if (dropped.count(part)) continue;
      if (resume.count(part)) {
        dropper.Keep(table, part, "holds the loader's resume offset");
        continue;
      }
      const int64_t newest = client.QueryInt(
          fmt::format("SELECT toInt64(toUInt32(max(_ingested_at))) FROM {}.{} WHERE toYYYYMMDD(_ingested_at) = {}", db,
                      table, part));
      if (newest >= built_until) {
        dropper.Keep(table, part, "not yet covered by a warehouse build");
        continue;
      }
      const int64_t missing = UnrepresentedRows(client, db, table, part);
      if (missing > 0) {
        dropper.Keep(table, part, fmt::format("{} row(s) not in fact_events", missing));
      } else {
        dropper.Drop(table, part,
                     fmt::format("older than staging_keep_days={}, all rows in fact_events", p.staging_keep_days));
      }
    }
  }

  if (options.ttl) {
    const uint32_t cutoff = retention::DaysBefore(now, p.fact_ttl_days);
    for (const std::string& table : kFactTables) {
      for (const std::string& part : retention::PartitionsOlderThan(ActivePartitions(client, db, table), cutoff, {})) {
        dropper.Drop(table, part, fmt::format("older than fact_ttl_days={}", p.fact_ttl_days));
      }
    }
  }
  return summary;
}

}  // namespace clickflow
