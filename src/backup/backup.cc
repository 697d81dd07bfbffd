#include "backup/backup.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "backup/support.h"
#include "clickflow_version.h"
#include "clickhouse/client.h"
#include "clickhouse/rows.h"
#include "clickhouse/stream.h"
#include "common/error.h"
#include "common/sha256.h"
#include "common/template.h"

namespace clickflow::backup {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string HumanBytes(uint64_t bytes) {
  if (bytes >= 10ull << 20) return fmt::format("{:.1f} MB", bytes / 1048576.0);
  if (bytes >= 10ull << 10) return fmt::format("{:.1f} KB", bytes / 1024.0);
  return fmt::format("{} B", bytes);
}

struct Exported {
  uint64_t bytes = 0;
  std::string sha256;
};

// Runs `sql` (a SELECT with its FORMAT) and streams the result into `file` (0600), hashing it
// on the way.
Exported ExportToFile(const ClickHouseConfig& ch, const std::string& sql, const ClickHouseSettings& settings,
                      const fs::path& file, bool gzip) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(file.c_str(), "wb"), &std::fclose);
  if (!out) throw Error("cannot write " + file.string());
  ::fchmod(::fileno(out.get()), 0600);
  Sha256 sha;
  bool write_failed = false;
  Exported exported;
  try {
    exported.bytes = StreamQuery(ch, sql, settings, StreamOptions{.gzip = gzip}, [&](std::string_view chunk) {
      if (std::fwrite(chunk.data(), 1, chunk.size(), out.get()) != chunk.size()) {
        write_failed = true;
        return false;
      }
      sha.Update(chunk);
      return true;
    });
  } catch (const Error&) {
    if (write_failed) throw Error("cannot write " + file.string() + " (disk full?)");
    throw;
  }
  if (std::fflush(out.get()) != 0 || ::fsync(::fileno(out.get())) != 0) throw Error("cannot write " + file.string());
  exported.sha256 = sha.HexDigest();
  return exported;
}

// The rows of one export, exactly: the loader and the builder keep writing while we read, so
// count() before or after may differ from what the SELECT saw. The server's query_log records
// result_rows of the very query (found by its query_id).
std::optional<int64_t> ExportedRows(ClickHouseClient& client, const std::string& query_id) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  bool flush = true;
  while (Clock::now() < deadline) {
    if (flush) {
      try {
        client.Execute("SYSTEM FLUSH LOGS");
      } catch (const ClickHouseError&) {
        flush = false;  // not allowed or not supported: wait for the periodic flush instead
      }
    }
    try {
      // `type` is UInt8 on 18.16 (2 = finished) and Enum8 later ('QueryFinish').
      const Rows rows =
          QueryRows(client, "SELECT result_rows FROM system.query_log WHERE event_date >= yesterday() AND query_id = " +
                                Quote(query_id) + " AND toString(type) IN ('2', 'QueryFinish') LIMIT 1");
      if (!rows.empty()) return rows[0].Int(0);
    } catch (const ClickHouseError& e) {
      // 60: the table appears with the first flush; anything else: no query_log here.
      if (e.code() != 60 || flush) return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return std::nullopt;
}

TableEntry BackupTable(ClickHouseClient& client, const Config& config, const fs::path& to, const std::string& name,
                       const std::string& engine, bool gzip, std::vector<FileEntry>& files) {
  const std::string& db = config.clickhouse.database;
  const std::string qualified = QualifiedName(db, name);
  TableEntry t;
  t.name = name;
  t.engine = engine;

  const json show = json::parse(client.Query("SHOW CREATE TABLE " + qualified, "JSON"));
  const std::string create = show.at("data").at(0).at("statement").get<std::string>();
  t.create_file = "clickhouse/" + name + ".sql";
  WriteFile(to / t.create_file, create + "\n", kPrivateFile);
  files.push_back(
      {t.create_file, "clickhouse-schema", fs::file_size(to / t.create_file), Sha256File(to / t.create_file), ""});

  t.data_file = "clickhouse/" + name + (gzip ? ".native.gz" : ".native");
  const std::string query_id = "clickflow-backup-" + RandomHex(12);
  for (int attempt = 1;; ++attempt) {
    const int64_t before = client.QueryInt("SELECT count() FROM " + qualified);
    const Exported e = ExportToFile(config.clickhouse, "SELECT * FROM " + qualified + " FORMAT Native",
                                    {{"query_id", query_id + "-" + std::to_string(attempt)}, {"log_queries", "1"}},
                                    to / t.data_file, gzip);
    std::optional<int64_t> rows = ExportedRows(client, query_id + "-" + std::to_string(attempt));
    const int64_t after = client.QueryInt("SELECT count() FROM " + qualified);
    if (rows && before == after && *rows != before) {
      // The table did not change, so the export has count() rows: this query_log is wrong.
      spdlog::warn("backup: query_log says {} rows for {}, count() {}; using count()", *rows, qualified, before);
      rows = before;
    }
    if (!rows) {
      // No query_log: a table that did not change during the export has count() rows.
      if (before == after)
        rows = before;
      else if (attempt >= 5) {
        throw Error(
            fmt::format("{} kept changing during the export ({} -> {} rows) and the server has no query_log "
                        "to count what was read: stop the loader and retry",
                        qualified, before, after));
      }
    }
    if (rows) {
      t.rows = *rows;
      files.push_back({t.data_file, "clickhouse-data", e.bytes, e.sha256, ""});
      return t;
    }
  }
}

struct SecretFile {
  const char* relative;  // under the data dir
};
constexpr SecretFile kSecrets[] = {
    {"airflow/fernet_key"}, {"airflow/jwt_secret"}, {"airflow/secret_key"}, {"superset/secret_key"}};

// The folder of a new backup, 0700 with its sub-folders; refuses one that holds anything.
fs::path PrepareFolder(const fs::path& to_arg) {
  fs::path to = fs::absolute(to_arg).lexically_normal();
  if (fs::exists(to) && !(fs::is_directory(to) && fs::is_empty(to))) {
    throw Error(to.string() + " already exists and is not an empty folder: choose a new one");
  }
  fs::create_directories(to);
  for (const char* sub : {"", "clickhouse", "postgres", "secrets", "config"}) {
    fs::create_directories(to / sub);
    fs::permissions(to / sub, kPrivateDir);
  }
  return to;
}

void BackupClickHouse(const Config& config, const fs::path& to, bool gzip, Manifest& m) {
  ClickHouseClient client(config.clickhouse);
  m.clickhouse_version = QueryRows(client, "SELECT version()").at(0).Str(0);
  const Rows tables = QueryRows(
      client, "SELECT name, engine FROM system.tables WHERE database = " + Quote(m.database) + " ORDER BY name");
  for (const Row& row : tables) {
    const std::string& name = row.Str(0);
    const std::string& engine = row.Str(1);
    if (!IsBackupTable(name, engine)) continue;
    const auto t0 = Clock::now();
    TableEntry t = BackupTable(client, config, to, name, engine, gzip, m.files);
    std::cout << fmt::format("  clickhouse {:<24} {:>10} rows {:>10} {:>6.1f} s\n", name, t.rows,
                             HumanBytes(m.files.back().bytes), Since(t0))
              << std::flush;
    m.tables.push_back(std::move(t));
  }
  if (m.tables.empty())
    throw Error("no tables in ClickHouse database " + m.database + ": run `clickflow migrate` first?");
}

void BackupPostgres(const Config& config, const fs::path& to, Manifest& m) {
  for (const std::string db : {"airflow", "superset"}) {
    const auto t0 = Clock::now();
    const std::string file = "postgres/" + db + ".dump";
    SpawnOptions dump = PostgresTool(config, "pg_dump");
    dump.argv.insert(dump.argv.end(), {"-Fc", "-d", db, "-f", (to / file).string()});
    CommandResult r = RunCommand(dump);
    if (r.exit_code != 0) throw Error("pg_dump of database " + db + " failed:\n" + r.output);
    fs::permissions(to / file, kPrivateFile);
    m.postgres_databases.push_back(db);
    m.files.push_back({file, "postgres", fs::file_size(to / file), Sha256File(to / file), ""});
    std::cout << fmt::format("  postgres   {:<24} {:>15} {:>10} {:>6.1f} s\n", db, "pg_dump -Fc",
                             HumanBytes(m.files.back().bytes), Since(t0))
              << std::flush;
  }
}

void BackupSecretsAndConfig(const Config& config, const fs::path& to, Manifest& m) {
  int secrets = 0;
  for (const SecretFile& s : kSecrets) {
    const fs::path source = config.data_dir / s.relative;
    if (!fs::exists(source)) continue;  // that part of the stack never ran here
    const std::string file = std::string("secrets/") + s.relative;
    CopyPrivate(source, to / file);
    fs::permissions((to / file).parent_path(), kPrivateDir);
    m.files.push_back({file, "secret", fs::file_size(to / file), Sha256File(to / file), s.relative});
    ++secrets;
  }
  const std::string config_file = "config/clickflow.yaml";
  if (config.source != "defaults" && fs::exists(config.source)) {
    CopyPrivate(config.source, to / config_file);
  } else {
    WriteFile(to / config_file, ToYaml(config), kPrivateFile);
  }
  m.files.push_back({config_file, "config", fs::file_size(to / config_file), Sha256File(to / config_file), ""});
  std::cout << fmt::format("  {} secret file(s) and the config\n", secrets);
}

}  // namespace

bool IsBackupTable(const std::string& name, const std::string& engine) {
  if (name.starts_with(".inner.")) return false;
  if (name.ends_with("_build")) return false;
  return engine.ends_with("MergeTree");
}

BackupSummary RunBackup(const Config& config, const fs::path& to_arg, const BackupOptions& options) {
  const auto begin = Clock::now();
  ::umask(077);
  const fs::path to = PrepareFolder(to_arg);

  Manifest m;
  m.clickflow_version = CLICKFLOW_VERSION;
  m.created_at = UtcNow();
  m.database = config.clickhouse.database;
  m.compression = options.compress ? "gzip" : "none";
  BackupClickHouse(config, to, options.compress, m);
  BackupPostgres(config, to, m);
  BackupSecretsAndConfig(config, to, m);

  // Last, so a backup with a manifest is a finished one.
  WriteFile(to / "manifest.json", ManifestToJson(m).dump(2) + "\n", kPrivateFile);

  BackupSummary summary;
  for (const FileEntry& f : m.files) summary.bytes += f.bytes;
  summary.manifest = std::move(m);
  summary.seconds = Since(begin);
  return summary;
}
}  // namespace clickflow::backup
