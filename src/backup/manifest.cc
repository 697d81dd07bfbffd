#include "backup/manifest.h"

#include <fmt/format.h>

#include <map>

#include "common/error.h"
#include "common/sha256.h"
#include "common/template.h"

namespace clickflow::backup {

namespace fs = std::filesystem;
using json = nlohmann::json;

fs::path Inside(const fs::path& root, const std::string& relative, const std::string& what) {
  const fs::path rel = fs::path(relative).lexically_normal();
  if (relative.empty() || rel.is_absolute() || rel.string().starts_with("..")) {
    throw Error(fmt::format("backup manifest: {} '{}' is not a path inside the backup", what, relative));
  }
  return root / rel;
}

json ManifestToJson(const Manifest& m) {
  json tables = json::array();
  for (const auto& t : m.tables) {
    tables.push_back({{"name", t.name},
                      {"engine", t.engine},
                      {"create_file", t.create_file},
                      {"data_file", t.data_file},
                      {"rows", t.rows}});
  }
  json files = json::array();
  for (const auto& f : m.files) {
    files.push_back(
        {{"path", f.path}, {"kind", f.kind}, {"bytes", f.bytes}, {"sha256", f.sha256}, {"restore_to", f.restore_to}});
  }
  return {{"format", m.format},
          {"clickflow_version", m.clickflow_version},
          {"created_at", m.created_at},
          {"clickhouse",
           {{"version", m.clickhouse_version},
            {"database", m.database},
            {"compression", m.compression},
            {"tables", tables}}},
          {"postgres", {{"databases", m.postgres_databases}}},
          {"files", files}};
}

Manifest ManifestFromJson(const json& doc) {
  auto field = [](const json& obj, const char* key, const std::string& where) -> const json& {
    if (!obj.is_object() || !obj.contains(key)) throw Error("backup manifest: " + where + key + " is missing");
    return obj.at(key);
  };
  try {
    Manifest m;
    m.format = field(doc, "format", "").get<int>();
    if (m.format != kManifestFormat) {
      throw Error(fmt::format("backup manifest: format {} is not supported (this clickflow reads {})", m.format,
                              kManifestFormat));
    }
    m.clickflow_version = field(doc, "clickflow_version", "").get<std::string>();
    m.created_at = field(doc, "created_at", "").get<std::string>();
    const json& ch = field(doc, "clickhouse", "");
    m.clickhouse_version = field(ch, "version", "clickhouse.").get<std::string>();
    m.database = field(ch, "database", "clickhouse.").get<std::string>();
    m.compression = field(ch, "compression", "clickhouse.").get<std::string>();
    if (m.compression != "gzip" && m.compression != "none") {
      throw Error("backup manifest: clickhouse.compression must be gzip or none, not " + m.compression);
    }
    for (const json& t : field(ch, "tables", "clickhouse.")) {
      m.tables.push_back({field(t, "name", "clickhouse.tables[].").get<std::string>(),
                          field(t, "engine", "clickhouse.tables[].").get<std::string>(),
                          field(t, "create_file", "clickhouse.tables[].").get<std::string>(),
                          field(t, "data_file", "clickhouse.tables[].").get<std::string>(),
                          field(t, "rows", "clickhouse.tables[].").get<int64_t>()});
    }
    m.postgres_databases = field(field(doc, "postgres", ""), "databases", "postgres.").get<std::vector<std::string>>();
    for (const json& f : field(doc, "files", "")) {
      m.files.push_back({field(f, "path", "files[].").get<std::string>(),
                         field(f, "kind", "files[].").get<std::string>(), field(f, "bytes", "files[].").get<uint64_t>(),
                         field(f, "sha256", "files[].").get<std::string>(), f.value("restore_to", "")});
    }
    return m;
  } catch (const json::exception& e) {
    throw Error(std::string("backup manifest: ") + e.what());
  }
}

Manifest ReadManifest(const fs::path& dir) {
  const fs::path file = dir / "manifest.json";
  if (!fs::exists(file)) {
    throw Error("no manifest.json in " + dir.string() + ": not a clickflow backup, or the backup did not finish");
  }
  json doc = json::parse(ReadFile(file), nullptr, false);
  if (doc.is_discarded()) throw Error(file.string() + " is not valid JSON");
  return ManifestFromJson(doc);
}

void VerifyBackup(const fs::path& dir, const Manifest& m) {
  std::map<std::string, const FileEntry*> listed;
  for (const FileEntry& f : m.files) {
    const fs::path path = Inside(dir, f.path, "file");
    if (!f.restore_to.empty()) Inside("/", f.restore_to, "restore_to");
    listed[fs::path(f.path).lexically_normal().string()] = &f;
    if (!fs::is_regular_file(path)) throw Error(fmt::format("backup is incomplete: {} is missing", path.string()));
    const uint64_t size = fs::file_size(path);
    if (size != f.bytes) {
      throw Error(
          fmt::format("backup is damaged: {} has {} bytes, the manifest says {}", path.string(), size, f.bytes));
    }
    const std::string sum = Sha256File(path);
    if (sum != f.sha256) {
      throw Error(fmt::format("backup is damaged: checksum mismatch for {} (sha256 {}, the manifest says {})",
                              path.string(), sum, f.sha256));
    }
  }
  for (const TableEntry& t : m.tables) {
    for (const std::string& file : {t.create_file, t.data_file}) {
      Inside(dir, file, "table file");
      if (!listed.count(fs::path(file).lexically_normal().string())) {
        throw Error(fmt::format("backup manifest: table {} names {}, which has no checksum", t.name, file));
      }
    }
    if (t.rows < 0) throw Error("backup manifest: table " + t.name + " has a negative row count");
  }
  for (const std::string& db : m.postgres_databases) {
    if (!listed.count("postgres/" + db + ".dump")) {
      throw Error("backup manifest: PostgreSQL database " + db + " has no postgres/" + db + ".dump");
    }
  }
}

void CheckKnownTables(const Manifest& m, const std::set<std::string>& known) {
  for (const TableEntry& t : m.tables) {
    if (known.count(t.name)) continue;
    throw Error(fmt::format(
        "backup holds table {}.{} ({}), which no migration of this clickflow creates: restore runs only the "
        "migrations' DDL, never a backup's; nothing was changed (to restore the rest, remove the table from "
        "manifest.json's clickhouse.tables)",
        m.database, t.name, t.create_file));
  }
}

}  // namespace clickflow::backup
