#include "ingest/load_verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

#include "clickhouse/client.h"
#include "clickhouse/rows.h"
#include "common/error.h"
#include "ingest/event_schema.h"

namespace clickflow {
namespace {

constexpr int64_t kValidationWindowSeconds = 3600;
constexpr int64_t kMaxDeadPercent = 5;

struct TopicCounts {
  int64_t rows = 0;  // in the staging table
  int64_t dead = 0;  // in the dead letters
};

// `where` (empty, or a condition starting with " AND") narrows both counts.
TopicCounts CountTopic(ClickHouseClient& client, const std::string& database, const TopicSchema& schema,
                       const std::string& where) {
  const std::string sql = fmt::format(
      "SELECT (SELECT count() FROM {0}.{1} WHERE 1{4}), "
      "(SELECT count() FROM {0}.{2} WHERE _topic = {3}{4})",
      QuoteIdentifier(database), QuoteIdentifier(schema.table), QuoteIdentifier(kDeadLetterTable), Quote(schema.topic),
      where);
  const Rows rows = QueryRows(client, sql);
  if (rows.size() != 1) {
    throw Error(fmt::format("expected one row of counts for {}, got {}", schema.topic, rows.size()));
  }
  return {rows[0].Int(0), rows[0].Int(1)};
}

struct PartitionLoad {
  int64_t rows = 0;      // staging rows in the range
  int64_t dead = 0;      // dead letters in the range
  int64_t distinct = 0;  // distinct offsets among both
};

// One PartitionLoad per range, in the order of `ranges` (each a partition of `schema.topic`).
std::vector<PartitionLoad> LoadedInRanges(ClickHouseClient& client, const std::string& database,
                                          const TopicSchema& schema, const std::vector<OffsetRange>& ranges) {
  std::string in_ranges;
  for (const OffsetRange& r : ranges) {
    if (!in_ranges.empty()) in_ranges += " OR ";
    in_ranges += fmt::format("(_partition = {} AND _offset >= {} AND _offset < {})", r.partition, r.first, r.end);
  }
  const std::string sql = fmt::format(
      "SELECT _partition, countIf(dead = 0), countIf(dead = 1), uniqExact(_offset) FROM ("
      "SELECT _partition, _offset, 0 AS dead FROM {0}.{1} WHERE {3} UNION ALL "
      "SELECT _partition, _offset, 1 AS dead FROM {0}.{2} WHERE _topic = {4} AND ({3})) GROUP BY _partition",
      QuoteIdentifier(database), QuoteIdentifier(schema.table), QuoteIdentifier(kDeadLetterTable), in_ranges,
      Quote(schema.topic));
  std::map<int64_t, PartitionLoad> by_partition;
  for (const Row& row : QueryRows(client, sql)) by_partition[row.Int(0)] = {row.Int(1), row.Int(2), row.Int(3)};
  std::vector<PartitionLoad> out;
  for (const OffsetRange& r : ranges) out.push_back(by_partition[r.partition]);
  return out;
}

}  // namespace

int64_t CountNonBlankLines(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  int64_t lines = 0;
  for (std::string line; std::getline(in, line);) {
    if (std::any_of(line.begin(), line.end(), [](char c) { return !std::isspace(static_cast<unsigned char>(c)); })) {
      ++lines;
    }
  }
  return lines;
}

std::vector<TopicCheck> VerifyLoad(ClickHouseClient& client, const std::string& database,
                                   const std::filesystem::path& data_dir, const std::vector<OffsetRange>& produced) {
  std::vector<TopicCheck> checks;
  for (const TopicSchema& schema : AllTopicSchemas()) {
    TopicCheck check;
    check.topic = schema.topic;
    const std::filesystem::path file = data_dir / TopicFileName(schema.topic);
    if (!std::filesystem::is_regular_file(file)) {
      check.message = fmt::format("{}: no file {}", schema.topic, file.string());
      checks.push_back(std::move(check));
      continue;
    }
    const int64_t lines = CountNonBlankLines(file);
    std::vector<OffsetRange> ranges;
    for (const OffsetRange& r : produced) {
      if (r.topic == schema.topic && r.size() > 0) ranges.push_back(r);
    }
    int64_t offsets = 0;
    for (const OffsetRange& r : ranges) offsets += r.size();
    if (lines == 0 || offsets < lines) {
      check.message = fmt::format("{}: {} has {} lines but this run produced {} offsets ({})", schema.topic,
                                  file.string(), lines, offsets, FormatOffsetRanges(ranges));
      checks.push_back(std::move(check));
      continue;
    }
    const std::vector<PartitionLoad> loads = LoadedInRanges(client, database, schema, ranges);
    std::string wrong;
    int64_t rows = 0, dead = 0;
    for (size_t i = 0; i < ranges.size(); ++i) {
      const PartitionLoad& l = loads[i];
      rows += l.rows;
      dead += l.dead;
      if (l.rows + l.dead != ranges[i].size() || l.distinct != ranges[i].size()) {
        wrong += fmt::format(" partition {} offsets {}..{}: {} rows, {} dead letters, {} distinct offsets;",
                             ranges[i].partition, ranges[i].first, ranges[i].end - 1, l.rows, l.dead, l.distinct);
      }
    }
    check.ok = wrong.empty();
    check.message = check.ok ? fmt::format("{}: {} lines, {} offsets produced -> {} rows in {}, {} dead letters",
                                           schema.topic, lines, offsets, rows, schema.table, dead)
                             : fmt::format("{}: not every offset of this run is in {} or {} exactly once:{}",
                                           schema.topic, schema.table, kDeadLetterTable, wrong);
    checks.push_back(std::move(check));
  }
  return checks;
}

std::vector<TopicCheck> ValidateIngestion(ClickHouseClient& client, const std::string& database) {
  std::vector<TopicCheck> checks;
  const std::string recent = fmt::format(" AND _ingested_at >= now() - {}", kValidationWindowSeconds);
  for (const TopicSchema& schema : AllTopicSchemas()) {
    const TopicCounts counts = CountTopic(client, database, schema, recent);
    const int64_t total = counts.rows + counts.dead;
    TopicCheck check;
    check.topic = schema.topic;
    check.ok = counts.dead * 100 <= total * kMaxDeadPercent;
    check.message =
        check.ok ? fmt::format("{}: {} rows, {} dead letters in the last hour", schema.topic, counts.rows, counts.dead)
                 : fmt::format("{}: {} of {} lines ingested in the last hour were dead-lettered (over {}%); see {}.{}",
                               schema.topic, counts.dead, total, kMaxDeadPercent, database, kDeadLetterTable);
    checks.push_back(std::move(check));
  }
  return checks;
}

}  // namespace clickflow
