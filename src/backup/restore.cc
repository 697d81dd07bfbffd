#include "backup/restore.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "backup/support.h"
#include "clickhouse/client.h"
#include "clickhouse/migrations.h"
#include "clickhouse/server_version.h"
#include "clickhouse/stream.h"
#include "common/error.h"
#include "common/process.h"
#include "common/template.h"
#include "stack/state.h"

namespace clickflow::backup {

namespace fs = std::filesystem;

void CheckRestoreTarget(const Config& config) {
  if (auto state = stack::ReadState(config.RunDir());
      state && state->supervisor_pid > 0 && IsAlive(state->supervisor_pid)) {
    throw Error(
        fmt::format("a stack runs in {} (supervisor pid {}): restore only goes into an empty data dir; "
                    "stop it and choose a fresh data_dir",
                    config.data_dir.string(), state->supervisor_pid));
  }
  auto non_empty = [](const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir, ec) && !fs::is_empty(dir, ec);
  };
  for (const char* part : {"clickhouse/data", "postgres/data"}) {
    const fs::path dir = config.data_dir / part;
    if (non_empty(dir)) {
      throw Error(
          fmt::format("{} already holds data: restore only goes into an empty data dir (set data_dir in {} to a "
                      "new folder, or move this one away)",
                      dir.string(), config.source));
    }
  }
}

namespace {

// Stops the restore's temporary stack whatever happens.
class TemporaryStack {
 public:
  TemporaryStack(const Config& config, const fs::path& file, const StackControl& stack)
      : config_(config), file_(file), stack_(stack) {
    stack_.up(config_, file_.string());
    up_ = true;
  }
  ~TemporaryStack() {
    try {
      Down();
    } catch (const std::exception& e) {
      std::cerr << "clickflow: stopping the restore's stack: " << e.what() << "\n";
    }
  }
  void Down() {
    if (!up_) return;
    up_ = false;
    stack_.down(config_);
    std::error_code ec;
    fs::remove(file_, ec);
  }

 private:
  Config config_;
  fs::path file_;
  const StackControl& stack_;
  bool up_ = false;
};

// 18.16 loads parts superseded by a TRUNCATE again when it restarts within old_parts_lifetime
// (10 s, clickhouse/templates/config.xml): the schema_migrations rows the migrations wrote
// before the backup's replaced them would come back beside them. So the restore ends once the
// server has removed those parts. 26.9 does not bring them back (docs/clickhouse.md).
void WaitForTruncatedPartsRemoval(ClickHouseClient& client, const std::string& db) {
  if (!QueryServerVersion(client).RestoresReplacedPartsAfterRestart()) return;
  const std::string outdated = "SELECT count() FROM system.parts WHERE database = " + Quote(db) + " AND NOT active";
  for (int i = 0; i < 600 && client.QueryInt(outdated) > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (client.QueryInt(outdated) > 0) throw Error("ClickHouse did not remove the parts the restore replaced in 60 s");
}

void RestoreClickHouse(const Config& config, const fs::path& from, const Manifest& m, int64_t& total_rows) {
  ClickHouseClient client(config.clickhouse);
  const MigrateResult migrated =
      Migrate(client, config, LoadMigrations(config.Resource("clickhouse/migrations")), MigrateOptions{});
  std::cout << fmt::format("  clickhouse schema: {} migration(s) applied\n", migrated.applied.size());
  const std::string& db = config.clickhouse.database;
  for (const TableEntry& t : m.tables) {
    const auto t0 = Clock::now();
    const std::string qualified = QualifiedName(db, t.name);
    const bool exists = client.QueryInt("SELECT count() FROM system.tables WHERE database = " + Quote(db) +
                                        " AND name = " + Quote(t.name)) > 0;
    // CheckKnownTables let only the migrations' tables through, and the migrations just ran.
    if (!exists) throw Error(fmt::format("the migrations did not create {}: restore runs no other DDL", qualified));
    // The migrations just filled schema_migrations; the backup's rows replace them.
    if (client.QueryInt("SELECT count() FROM " + qualified) > 0) client.Execute("TRUNCATE TABLE " + qualified);
    if (t.rows > 0) {
      InsertFile(config.clickhouse, qualified, "Native", Inside(from, t.data_file, "table file"),
                 m.compression == "gzip");
    }
    const int64_t rows = client.QueryInt("SELECT count() FROM " + qualified);
    if (rows != t.rows) {
      throw Error(fmt::format("restored {} has {} rows, the backup {}", qualified, rows, t.rows));
    }
    total_rows += rows;
    std::cout << fmt::format("  clickhouse {:<24} {:>10} rows {:>6.1f} s\n", t.name, rows, Since(t0)) << std::flush;
  }
  WaitForTruncatedPartsRemoval(client, db);
}

void RestorePostgres(const Config& config, const fs::path& from, const Manifest& m) {
  for (const std::string& db : m.postgres_databases) {
    const auto t0 = Clock::now();
    SpawnOptions restore = PostgresTool(config, "pg_restore");
    // Into the database the stack created (postgres_server.cc). --no-owner/--no-privileges:
    // objects belong to this stack's postgres_user, whatever the source's was called.
    restore.argv.insert(restore.argv.end(),
                        {"--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error",
                         "--single-transaction", "-d", db, Inside(from, "postgres/" + db + ".dump", "dump").string()});
    CommandResult r = RunCommand(restore);
    if (r.exit_code != 0) throw Error("pg_restore of database " + db + " failed:\n" + r.output);
    std::cout << fmt::format("  postgres   {:<24} {:>15} {:>6.1f} s\n", db, "pg_restore", Since(t0)) << std::flush;
  }
}

fs::path WriteRestoreConfig(const Config& config) {
  // The stack of this data dir with PostgreSQL and ClickHouse (and Kafka, which the stack
  // always runs) only: Airflow and Superset must not initialise their databases before
  // pg_restore. Through a config file, since the supervisor reads its own; the environment
  // wins over files, so it says the same.
  Config restore_config = config;
  restore_config.stack.airflow = false;
  restore_config.stack.superset = false;
  restore_config.stack.streaming = false;
  fs::create_directories(config.RunDir());
  fs::path restore_file = config.RunDir() / "restore-clickflow.yaml";
  WriteFile(restore_file, ToYaml(restore_config), kPrivateFile);
  for (const char* name : {"CLICKFLOW_STACK_AIRFLOW", "CLICKFLOW_STACK_SUPERSET", "CLICKFLOW_STACK_STREAMING"}) {
    ::setenv(name, "false", 1);
  }
  return restore_file;
}

}  // namespace

RestoreSummary RunRestore(const Config& config, const fs::path& from_arg, const StackControl& stack) {
  const auto begin = Clock::now();
  const fs::path from = fs::absolute(from_arg).lexically_normal();
  CheckRestoreTarget(config);
  Manifest m = ReadManifest(from);
  // Every check on the backup comes before the stack starts: a damaged file or a table this
  // version does not know changes nothing.
  VerifyBackup(from, m);
  CheckKnownTables(m, MigrationTables(LoadMigrations(config.Resource("clickhouse/migrations"))));
  std::cout << fmt::format("backup of {} (clickflow {}, ClickHouse {}): {} tables, {} databases, checksums ok\n",
                           m.created_at, m.clickflow_version, m.clickhouse_version, m.tables.size(),
                           m.postgres_databases.size());
  if (m.database != config.clickhouse.database) {
    throw Error(
        fmt::format("the backup holds ClickHouse database {}, this config uses {}: set clickhouse.database "
                    "in {} to {}",
                    m.database, config.clickhouse.database, config.source, m.database));
  }

  const fs::path restore_file = WriteRestoreConfig(config);
  const Config restore_config = LoadConfig(restore_file.string());

  RestoreSummary summary;
  {
    std::cout << "starting PostgreSQL and ClickHouse in " << config.data_dir.string() << "\n" << std::flush;
    TemporaryStack temporary(restore_config, restore_file, stack);
    RestoreClickHouse(restore_config, from, m, summary.rows);
    RestorePostgres(restore_config, from, m);
    temporary.Down();
  }

  int secrets = 0;
  for (const FileEntry& f : m.files) {
    if (f.kind != "secret" || f.restore_to.empty()) continue;
    CopyPrivate(Inside(from, f.path, "file"), Inside(config.data_dir, f.restore_to, "restore_to"));
    ++secrets;
  }
  std::cout << fmt::format("  {} secret file(s) restored\n", secrets);
  summary.manifest = std::move(m);
  summary.seconds = Since(begin);
  return summary;
}

}  // namespace clickflow::backup
