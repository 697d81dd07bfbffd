#include "clickhouse/migrations.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "clickhouse/client.h"
#include "clickhouse/rows.h"
#include "common/error.h"
#include "common/log.h"
#include "common/sha256.h"
#include "common/template.h"
#include "common/text.h"

namespace clickflow {
namespace fs = std::filesystem;
namespace {

bool IsIdentifier(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

size_t LineOf(std::string_view text, size_t pos) {
  size_t line = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

// schema_migrations lives next to the tables it describes; created here, not by a migration,
// because it has to exist before the first one runs.
constexpr const char* kCreateSchemaMigrations =
    "CREATE TABLE IF NOT EXISTS {}.schema_migrations (version UInt32, name String, "
    "checksum String, applied_at DateTime('UTC')) ENGINE = MergeTree ORDER BY version";

struct Recorded {
  std::string name;
  std::string checksum;
};

std::map<uint32_t, Recorded> ReadRecorded(ClickHouseClient& client, const std::string& db) {
  std::map<uint32_t, Recorded> recorded;
  const Rows rows = QueryRows(
      client, fmt::format("SELECT version, name, checksum FROM {}.schema_migrations ORDER BY applied_at", db));
  for (const Row& row : rows) {
    if (row.size() != 3) throw Error(fmt::format("{}.schema_migrations: unexpected row of {} fields", db, row.size()));
    // Two migrate runs racing may both record a version; the rows are identical, keep one.
    recorded[static_cast<uint32_t>(row.UInt(0))] = Recorded{row.Str(1), row.Str(2)};
  }
  return recorded;
}

}  // namespace

std::vector<Migration> LoadMigrations(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw Error(fmt::format("{}: no such migrations directory", dir.string()));
  static const std::regex kName(R"(^(\d{4})_[a-z0-9_]+\.sql$)");
  std::vector<Migration> migrations;
  std::map<uint32_t, std::string> seen;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    std::string name = entry.path().filename().string();
    std::smatch match;
    if (!std::regex_match(name, match, kName)) {
      throw Error(fmt::format("{}: migration files are named NNNN_name.sql (lowercase)", entry.path().string()));
    }
    Migration m;
    m.version = static_cast<uint32_t>(std::stoul(match[1].str()));
    m.name = name;
    m.path = entry.path();
    m.text = ReadFile(entry.path());
    m.checksum = Sha256Hex(m.text);
    if (auto [it, fresh] = seen.emplace(m.version, name); !fresh) {
      throw Error(fmt::format("{}: version {:04} is also used by {}", entry.path().string(), m.version, it->second));
    }
    migrations.push_back(std::move(m));
  }
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return migrations;
}

std::set<std::string> MigrationTables(const std::vector<Migration>& migrations) {
  static const std::regex kCreate(
      R"(CREATE\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?\{db\}\.(\w+))", std::regex::icase);
  std::set<std::string> tables = {"schema_migrations"};
  for (const Migration& m : migrations) {
    for (std::sregex_iterator it(m.text.begin(), m.text.end(), kCreate), end; it != end; ++it) {
      tables.insert((*it)[1].str());
    }
  }
  return tables;
}

RenderContext MakeRenderContext(const Config& config, const ServerVersion& server) {
  RenderContext context;
  context.database = config.clickhouse.database;
  context.server = server;
  context.variables["staging_ttl_days"] = std::to_string(config.pipeline.staging_ttl_days);
  context.variables["fact_ttl_days"] = std::to_string(config.pipeline.fact_ttl_days);
  context.variables["dedup_window"] = std::to_string(kInsertDeduplicationWindow);
  return context;
}

std::string RenderMigration(std::string_view text, const RenderContext& context) {
  // The name is spliced into DDL unquoted, so it must not be able to carry anything but a name.
  if (!IsIdentifier(context.database)) {
    throw Error(
        fmt::format("clickhouse.database: '{}' is not a plain name ([A-Za-z_][A-Za-z0-9_]*)", context.database));
  }
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') {
      out += text[i];
      continue;
    }
    size_t depth = 1;
    size_t close = i + 1;
    for (; close < text.size() && depth > 0; ++close) {
      if (text[close] == '{') ++depth;
      if (text[close] == '}') --depth;
    }
    if (depth != 0) throw Error(fmt::format("line {}: unclosed '{{'", LineOf(text, i)));
    std::string_view inner = text.substr(i + 1, close - i - 2);
    size_t colon = inner.find(':');
    std::string_view name = inner.substr(0, colon);
    if (colon != std::string_view::npos && name == "ttl") {
      // Rendered recursively: the expression may hold placeholders of its own ({fact_ttl_days}).
      std::string expression = Trim(RenderMigration(inner.substr(colon + 1), context));
      if (context.server.SupportsTtl()) out += "TTL " + expression;
    } else if (colon != std::string_view::npos && name == "dedup") {
      if (context.server.SupportsInsertDeduplication()) out += RenderMigration(inner.substr(colon + 1), context);
    } else if (colon == std::string_view::npos && name == "db") {
      out += context.database;
    } else if (auto it = context.variables.find(std::string(name));
               colon == std::string_view::npos && it != context.variables.end()) {
      out += it->second;
    } else {
      throw Error(fmt::format("line {}: unknown placeholder '{{{}}}'", LineOf(text, i), inner));
    }
    i = close - 1;
  }
  return out;
}

std::vector<std::string> SplitStatements(std::string_view text) {
  std::vector<std::string> statements;
  std::string current;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    std::string trimmed = Trim(line);
    if (trimmed.starts_with("--")) continue;
    if (trimmed.ends_with(";")) {
      std::string_view kept = line.substr(0, line.find_last_of(';'));
      current.append(kept);
      if (std::string statement = Trim(current); !statement.empty()) statements.push_back(statement);
      current.clear();
    } else {
      current.append(line);
      current += '\n';
    }
  }
  if (std::string statement = Trim(current); !statement.empty()) statements.push_back(statement);
  return statements;
}

MigrateResult Migrate(ClickHouseClient& client, const Config& config, const std::vector<Migration>& migrations,
                      const MigrateOptions& options) {
  ServerVersion server = QueryServerVersion(client);
  RenderContext context = MakeRenderContext(config, server);
  const std::string& db = context.database;
  RenderMigration("{db}", context);  // validates the database name before it reaches any SQL
  spdlog::debug("migrating {} on ClickHouse {}", db, server.ToString());

  bool have_table = client.QueryInt(fmt::format("SELECT count() FROM system.tables WHERE database = {} AND name = "
                                                "'schema_migrations'",
                                                Quote(db))) > 0;
  if (!options.dry_run) {
    client.Execute(fmt::format("CREATE DATABASE IF NOT EXISTS {}", db));
    client.Execute(fmt::format(kCreateSchemaMigrations, db));
    have_table = true;
  }
  std::map<uint32_t, Recorded> recorded;
  if (have_table) recorded = ReadRecorded(client, db);

  MigrateResult result;
  result.total = migrations.size();
  std::set<uint32_t> on_disk;
  for (const Migration& m : migrations) {
    on_disk.insert(m.version);
    auto it = recorded.find(m.version);
    if (it != recorded.end()) {
      // An applied migration is history: editing it would leave servers that ran the old text
      // and servers that run the new one with different schemas.
      if (it->second.checksum != m.checksum) {
        throw Error(
            fmt::format("{}: changed after it was applied (recorded checksum {}, file now {}); add a new "
                        "migration instead of editing this one",
                        m.path.string(), it->second.checksum, m.checksum));
      }
      if (it->second.name != m.name) {
        spdlog::warn("migration {:04} was applied as {} and is now named {}", m.version, it->second.name, m.name);
      }
      continue;
    }
    AppliedMigration applied{m.name, {}};
    for (const std::string& statement : SplitStatements(m.text)) {
      try {
        // A statement only some servers run ({dedup:...}) renders to nothing on the others.
        if (std::string rendered = Trim(RenderMigration(statement, context)); !rendered.empty()) {
          applied.statements.push_back(std::move(rendered));
        }
      } catch (const Error& e) {
        throw Error(fmt::format("{}: {}", m.path.string(), e.what()));
      }
    }
    if (!options.dry_run) {
      for (size_t i = 0; i < applied.statements.size(); ++i) {
        try {
          client.Execute(applied.statements[i]);
        } catch (const ClickHouseError& e) {
          throw Error(fmt::format("{}: statement {} failed: {}", m.path.string(), i + 1, e.what()));
        }
      }
      client.Execute(fmt::format(
          "INSERT INTO {}.schema_migrations (version, name, checksum, applied_at) VALUES ({}, {}, {}, now())", db,
          m.version, Quote(m.name), Quote(m.checksum)));
      spdlog::debug("applied {} ({} statements)", m.name, applied.statements.size());
    }
    result.applied.push_back(std::move(applied));
  }
  for (const auto& [version, r] : recorded) {
    if (!on_disk.contains(version)) {
      spdlog::warn("migration {} is recorded in {}.schema_migrations but not on disk (a newer clickflow?)", r.name, db);
    }
  }
  return result;
}

}  // namespace clickflow
