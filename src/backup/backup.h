#pragma once
// `clickflow backup --to DIR`: a self-contained copy of a stack's state (ClickHouse tables,
// Airflow's and Superset's PostgreSQL databases, secrets and the config), which `clickflow
// restore` (backup/restore.h) puts into an empty data dir.
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

#include "backup/manifest.h"
#include "common/config.h"

namespace clickflow::backup {

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

}  // namespace clickflow::backup
