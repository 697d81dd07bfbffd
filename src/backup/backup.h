#pragma once
// `clickflow backup --to DIR` and `clickflow restore --from DIR`: a self-contained copy of a
// stack's state (ClickHouse tables, Airflow's and Superset's PostgreSQL databases, secrets and
// the config) and its restore into an empty data dir.
//
// Layout of a backup (the folder is 0700, every file 0600):
//   manifest.json                      what is in it, with the SHA-256 of every other file
//   clickhouse/<table>.sql             SHOW CREATE TABLE
//   clickhouse/<table>.native[.gz]     SELECT * FROM <table> FORMAT Native (gzip over HTTP)
//   postgres/airflow.dump              pg_dump -Fc
//   postgres/superset.dump             pg_dump -Fc
//   secrets/airflow/{fernet_key,jwt_secret,secret_key}, secrets/superset/secret_key
//   config/clickflow.yaml              the config the backup was taken with (reference only)
//
// Why Native over HTTP and not FREEZE or BACKUP: ALTER TABLE ... FREEZE hard-links parts into
// the *server's* shadow/ folder, which clickflow can only read when the server runs on this
// machine under our data dir; a remote or containerized ClickHouse (docker-compose, a managed
// server) gives no file access. BACKUP TABLE only exists from 22.x, and the local stack runs
// 18.16. A streamed `SELECT * ... FORMAT Native` works against every server over the one
// protocol clickflow already speaks, keeps every type exact (AggregateFunction states of the
// agg_* tables included: Native carries their serialized states), and restores with
// `INSERT ... FORMAT Native`. Both directions stream through a file; nothing is held in memory.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/error.h"

namespace clickflow::backup {

inline constexpr int kManifestFormat = 1;

struct TableEntry {
  std::string name;        // without the database
  std::string engine;      // MergeTree, AggregatingMergeTree, ...
  std::string create_file; // relative to the backup dir
  std::string data_file;   // relative to the backup dir
  int64_t rows = 0;        // rows in data_file
};

// Every file of the backup but the manifest: what it is, its checksum and where a restore puts
// it (restore_to, relative to the data dir; empty when the restore reads it instead).
struct FileEntry {
  std::string path;        // relative to the backup dir
  std::string kind;        // clickhouse-schema | clickhouse-data | postgres | secret | config
  uint64_t bytes = 0;
  std::string sha256;
  std::string restore_to;
};

struct Manifest {
  int format = kManifestFormat;
  std::string clickflow_version;
  std::string created_at;          // UTC, ISO 8601
  std::string clickhouse_version;  // SELECT version()
  std::string database;            // the analytics database
  std::string compression;         // "gzip" or "none" (ClickHouse data files)
  std::vector<TableEntry> tables;
  std::vector<std::string> postgres_databases;
  std::vector<FileEntry> files;
};

nlohmann::json ManifestToJson(const Manifest& manifest);
// Throws Error naming the field when a required one is missing or has the wrong type.
Manifest ManifestFromJson(const nlohmann::json& doc);

// Reads <dir>/manifest.json; throws Error when it is missing or malformed.
Manifest ReadManifest(const std::filesystem::path& dir);

// Lower-case hex SHA-256 of a file, read in chunks.
std::string Sha256File(const std::filesystem::path& file);

// Checks that every file of the manifest exists with its size and SHA-256, that every table's
// files are listed, and that no listed path leaves the backup dir. Throws Error naming the
// first file that does not match.
void VerifyBackup(const std::filesystem::path& dir, const Manifest& manifest);

// Restore only goes into an empty data dir: throws Error when a stack runs there or it already
// holds ClickHouse's or PostgreSQL's data folder.
void CheckRestoreTarget(const Config& config);

// Which tables of the analytics database a backup holds: MergeTree-family tables with data of
// their own. Materialized views and their `.inner.` tables, views, and the warehouse builder's
// *_build scratch twins (emptied and refilled by every build) are left out.
bool IsBackupTable(const std::string& name, const std::string& engine);

struct BackupOptions {
  bool compress = true;  // gzip the ClickHouse data (HTTP compression, done by the server)
};

struct BackupSummary {
  Manifest manifest;
  uint64_t bytes = 0;
  double seconds = 0;
};

// Writes a backup of the running stack of `config` into `to` (created; must not exist or be
// empty). Prints one line per table and database on stdout.
BackupSummary RunBackup(const Config& config, const std::filesystem::path& to, const BackupOptions& options);

struct RestoreSummary {
  Manifest manifest;
  int64_t rows = 0;
  double seconds = 0;
};

// Restores `from` into the (empty) data dir of `config`: verifies the checksums, starts
// PostgreSQL and ClickHouse (Kafka too: the stack manager always runs it; no Airflow, Superset or
// streaming), applies the migrations, inserts every table, pg_restores both databases, puts the
// secrets back, checks the row counts and stops the stack again.
RestoreSummary RunRestore(const Config& config, const std::filesystem::path& from);

}  // namespace clickflow::backup
