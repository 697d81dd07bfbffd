#pragma once
// What a backup holds (manifest.json) and the checks a restore runs on it before it touches
// anything: every file present with its size and SHA-256, every path inside the backup.
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace clickflow::backup {

inline constexpr int kManifestFormat = 1;

struct TableEntry {
  std::string name;         // without the database
  std::string engine;       // MergeTree, AggregatingMergeTree, ...
  std::string create_file;  // relative to the backup dir
  std::string data_file;    // relative to the backup dir
  int64_t rows = 0;         // rows in data_file
};

// Every file of the backup but the manifest: what it is, its checksum and where a restore puts
// it (restore_to, relative to the data dir; empty when the restore reads it instead).
struct FileEntry {
  std::string path;  // relative to the backup dir
  std::string kind;  // clickhouse-schema | clickhouse-data | postgres | secret | config
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

// Checks that every file of the manifest exists with its size and SHA-256, that every table's
// files are listed, and that no listed path leaves the backup dir. Throws Error naming the
// first file that does not match.
void VerifyBackup(const std::filesystem::path& dir, const Manifest& manifest);

// Throws Error naming the table and its DDL file when the backup holds a table not in `known`
// (the tables the migrations create): a restore runs the migrations, never a backup's DDL.
void CheckKnownTables(const Manifest& manifest, const std::set<std::string>& known);

// root/relative, where `relative` comes from a manifest: throws Error when it is absolute or
// climbs out of root (a crafted manifest must not make a restore read /etc/shadow or write
// outside the data dir). `what` names it in the error.
std::filesystem::path Inside(const std::filesystem::path& root, const std::string& relative, const std::string& what);

}  // namespace clickflow::backup
