#include "ingest/load_verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>

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
                                   const std::filesystem::path& data_dir) {
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
    const TopicCounts counts = CountTopic(client, database, schema, "");
    check.ok = lines > 0 && counts.rows + counts.dead >= lines;
    check.message = check.ok
                        ? fmt::format("{}: {} lines -> {} rows in {}, {} dead letters", schema.topic, lines,
                                      counts.rows, schema.table, counts.dead)
                        : fmt::format("{}: {} has {} lines but {} holds {} rows and {} {} dead letters", schema.topic,
                                      file.string(), lines, schema.table, counts.rows, kDeadLetterTable, counts.dead);
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
