#pragma once
// Schema migrations: numbered SQL files in clickhouse/migrations/ (NNNN_name.sql), applied in
// order by `clickflow migrate` and recorded in <db>.schema_migrations with a checksum.
//
// A file is a list of statements, each ending with ';' at the end of a line; whole-line `--`
// comments are dropped. Files are templates rendered per server (RenderMigration):
//   {db}          the configured database
//   {ttl:<expr>}  "TTL <expr>" where the server has TTL clauses (19.6+), nothing on 18.16
//   {dedup:<sql>} <sql> where the server deduplicates inserts into plain MergeTree tables
//                 (ServerVersion::SupportsInsertDeduplication), nothing otherwise; a statement
//                 that renders to nothing is skipped
//   {<name>}      a variable of the render context (e.g. {staging_ttl_days})
// Statements should be idempotent (IF NOT EXISTS): a migration interrupted half way is applied
// again from its first statement, and is only recorded once all of them ran.
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/server_version.h"
#include "common/config.h"

namespace clickflow {

class ClickHouseClient;

struct Migration {
  uint32_t version = 0;  // NNNN
  std::string name;      // the file name, e.g. "0001_staging.sql"
  std::filesystem::path path;
  std::string text;      // the file as written (checksummed), before rendering
  std::string checksum;  // SHA-256 of text, hex: `sha256sum` gives the same
};

// Reads every *.sql file of `dir`, sorted by version. A .sql file not named NNNN_name.sql,
// or two files with one version, is an error naming the file.
std::vector<Migration> LoadMigrations(const std::filesystem::path& dir);

// The names of the tables and views the migrations create in {db}, plus schema_migrations:
// the schema this version of clickflow knows (a restore runs no other DDL).
std::set<std::string> MigrationTables(const std::vector<Migration>& migrations);

// How many recent INSERTs a staging table remembers the deduplication tokens of
// (non_replicated_deduplication_window). A retry follows its lost attempt within the loader's
// retry budget, a few INSERTs later at most; the log costs a line per INSERT on disk.
constexpr int kInsertDeduplicationWindow = 1000;

struct RenderContext {
  std::string database;
  ServerVersion server;
  std::map<std::string, std::string> variables;  // {name} -> value
};

// The context for a config and server: {db}, {staging_ttl_days}, {fact_ttl_days},
// {dedup_window} (kInsertDeduplicationWindow).
RenderContext MakeRenderContext(const Config& config, const ServerVersion& server);

// Replaces the placeholders; a pure function. Throws Error on an unknown or unclosed
// placeholder, or a database name that is not a plain identifier.
std::string RenderMigration(std::string_view text, const RenderContext& context);

// Splits a file into statements: a statement ends at a ';' that ends a line (trailing
// blanks allowed); whole-line `--` comments and blank statements are dropped; the ';' is not
// kept. A last statement without ';' still counts.
std::vector<std::string> SplitStatements(std::string_view text);

struct MigrateOptions {
  bool dry_run = false;  // report what would be applied; create and write nothing
};

struct AppliedMigration {
  std::string name;
  std::vector<std::string> statements;  // as rendered for this server
};

struct MigrateResult {
  std::vector<AppliedMigration> applied;  // in order (the would-be set when dry_run)
  size_t total = 0;                       // migrations on disk
};

// Creates the database and schema_migrations if needed, checks every recorded migration's
// checksum (a changed file is an error naming it) and applies the pending ones in order.
MigrateResult Migrate(ClickHouseClient& client, const Config& config, const std::vector<Migration>& migrations,
                      const MigrateOptions& options);

}  // namespace clickflow
