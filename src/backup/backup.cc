#include "backup/backup.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "clickflow_version.h"
#include "clickhouse/client.h"
#include "clickhouse/migrations.h"
#include "common/error.h"
#include "common/process.h"
#include "common/template.h"
#include "stack/postgres_server.h"
#include "stack/stack_manager.h"
#include "stack/state.h"

namespace clickflow::backup {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr fs::perms kPrivateFile = fs::perms(0600);
constexpr fs::perms kPrivateDir = fs::perms(0700);

double Since(Clock::time_point begin) { return std::chrono::duration<double>(Clock::now() - begin).count(); }

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

// Streaming SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw Error("cannot initialise SHA-256");
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t size) { EVP_DigestUpdate(ctx_, data, size); }
  std::string HexDigest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_, digest, &size);
    std::string hex;
    for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// A path of the manifest must stay inside the backup dir (a crafted manifest must not make a
// restore read /etc/shadow or write outside the data dir).
fs::path Inside(const fs::path& root, const std::string& relative, const std::string& what) {
  const fs::path rel = fs::path(relative).lexically_normal();
  if (relative.empty() || rel.is_absolute() || rel.string().starts_with("..")) {
    throw Error(fmt::format("backup manifest: {} '{}' is not a path inside the backup", what, relative));
  }
  return root / rel;
}

// ---- ClickHouse over HTTP, streamed -------------------------------------------------------
// ClickHouseClient keeps whole bodies in memory; a table export must not, so these two calls
// drive libcurl directly with a file on the other end.

struct CurlHandle {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  ~CurlHandle() {
    if (headers) curl_slist_free_all(headers);
    if (h) curl_easy_cleanup(h);
  }
};

std::string BuildUrl(CURL* h, const std::string& base, const std::map<std::string, std::string>& params) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/";
  char sep = '?';
  for (const auto& [k, v] : params) {
    char* escaped = curl_easy_escape(h, v.data(), static_cast<int>(v.size()));
    url += sep + k + "=" + escaped;
    curl_free(escaped);
    sep = '&';
  }
  return url;
}

void SetCommon(CurlHandle& c, const ClickHouseConfig& ch) {
  c.headers = curl_slist_append(c.headers, ("X-ClickHouse-User: " + ch.user).c_str());
  c.headers = curl_slist_append(c.headers, ("X-ClickHouse-Key: " + ch.password).c_str());
  c.headers = curl_slist_append(c.headers, "Expect:");
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  // No overall limit (a big table takes as long as it takes), but give up on a stalled link.
  curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_TIME, 3600L);
}

// The server's error text; with HTTP compression on, it may itself be gzip.
std::string ErrorText(const std::string& body) {
  if (body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0x1f && static_cast<unsigned char>(body[1]) == 0x8b) {
    char pattern[] = "/tmp/clickflow-backup-error-XXXXXX";
    int fd = ::mkstemp(pattern);
    if (fd >= 0) {
      (void)!::write(fd, body.data(), body.size());
      ::close(fd);
      SpawnOptions gunzip;
      gunzip.argv = {"gzip", "-dc", pattern};
      gunzip.new_session = false;
      CommandResult r = RunCommand(gunzip);
      ::unlink(pattern);
      if (r.exit_code == 0) return ParseServerError(r.output).message;
    }
    return "(compressed error body)";
  }
  return ParseServerError(body).message;
}

struct ExportState {
  CURL* h = nullptr;
  std::FILE* out = nullptr;
  Sha256* sha = nullptr;
  uint64_t bytes = 0;
  long status = 0;
  std::string error_body;
  bool write_failed = false;
};

size_t ExportWrite(char* data, size_t size, size_t count, void* user) {
  auto* s = static_cast<ExportState*>(user);
  const size_t n = size * count;
  if (s->status == 0) curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
  if (s->status != 200) {
    if (s->error_body.size() < (1 << 16)) s->error_body.append(data, n);
    return n;
  }
  if (std::fwrite(data, 1, n, s->out) != n) {
    s->write_failed = true;
    return 0;
  }
  s->sha->Update(data, n);
  s->bytes += n;
  return n;
}

struct Exported {
  uint64_t bytes = 0;
  std::string sha256;
};

// Runs `sql` (a SELECT with its FORMAT) and streams the body into `file`.
Exported ExportToFile(const ClickHouseConfig& ch, const std::string& sql, std::map<std::string, std::string> params,
                      const fs::path& file, bool gzip) {
  CurlHandle c;
  if (!c.h) throw Error("cannot initialise libcurl");
  SetCommon(c, ch);
  if (gzip) {
    // The server compresses (http_zlib_compression_level, 3 by default); we store the gzip
    // stream as it comes, so the client spends no CPU on it.
    c.headers = curl_slist_append(c.headers, "Accept-Encoding: gzip");
    params["enable_http_compression"] = "1";
  }
  // The server buffers the whole result (in memory up to buffer_size, then in a temporary file
  // of its tmp_path) before the status line: an error half way is an HTTP error, never a 200
  // with an exception glued to a truncated file.
  params["wait_end_of_query"] = "1";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(file.c_str(), "wb"), &std::fclose);
  if (!out) throw Error("cannot write " + file.string());
  ::fchmod(::fileno(out.get()), 0600);
  Sha256 sha;
  ExportState state;
  state.h = c.h;
  state.out = out.get();
  state.sha = &sha;
  const std::string url = BuildUrl(c.h, ch.url, params);
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
  curl_easy_setopt(c.h, CURLOPT_POST, 1L);
  curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, sql.c_str());
  curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(sql.size()));
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, &ExportWrite);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &state);
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c.h, CURLOPT_ERRORBUFFER, error_buffer);
  const CURLcode rc = curl_easy_perform(c.h);
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &state.status);
  if (state.write_failed) throw Error("cannot write " + file.string() + " (disk full?)");
  if (rc != CURLE_OK) {
    throw Error(fmt::format("ClickHouse at {}: {} [{}]", ch.url, error_buffer[0] ? error_buffer : curl_easy_strerror(rc), sql));
  }
  if (state.status != 200) {
    throw Error(fmt::format("ClickHouse error (HTTP {}): {} [{}]", state.status, ErrorText(state.error_body), sql));
  }
  if (std::fflush(out.get()) != 0 || ::fsync(::fileno(out.get())) != 0) throw Error("cannot write " + file.string());
  return {state.bytes, sha.HexDigest()};
}

size_t ReadFromFile(char* buffer, size_t size, size_t count, void* user) {
  return std::fread(buffer, 1, size * count, static_cast<std::FILE*>(user));
}

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() < (1 << 16)) body->append(data, size * count);
  return size * count;
}

// INSERT INTO <table> FORMAT Native with `file` as the body, streamed from disk.
void InsertFromFile(const ClickHouseConfig& ch, const std::string& table, const fs::path& file, bool gzip) {
  CurlHandle c;
  if (!c.h) throw Error("cannot initialise libcurl");
  SetCommon(c, ch);
  // The server inflates a gzip request body itself (Content-Encoding), so the file goes as is.
  if (gzip) c.headers = curl_slist_append(c.headers, "Content-Encoding: gzip");
  c.headers = curl_slist_append(c.headers, "Content-Type: application/octet-stream");
  const std::string query = "INSERT INTO " + table + " FORMAT Native";
  const std::string url = BuildUrl(c.h, ch.url, {{"query", query}});
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!in) throw Error("cannot read " + file.string());
  std::string body;
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
  curl_easy_setopt(c.h, CURLOPT_POST, 1L);
  curl_easy_setopt(c.h, CURLOPT_READFUNCTION, &ReadFromFile);
  curl_easy_setopt(c.h, CURLOPT_READDATA, in.get());
  curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(fs::file_size(file)));
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, &CollectBody);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &body);
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c.h, CURLOPT_ERRORBUFFER, error_buffer);
  const CURLcode rc = curl_easy_perform(c.h);
  long status = 0;
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) {
    throw Error(fmt::format("ClickHouse at {}: {} [{}]", ch.url, error_buffer[0] ? error_buffer : curl_easy_strerror(rc), query));
  }
  if (status != 200) throw Error(fmt::format("ClickHouse error (HTTP {}): {} [{}]", status, ErrorText(body), query));
}

// ---- the pieces of a backup -----------------------------------------------------------------

std::string QualifiedName(const std::string& db, const std::string& table) {
  return QuoteIdentifier(db) + "." + QuoteIdentifier(table);
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
      const std::string text = client.Query(
          "SELECT toString(result_rows) FROM system.query_log WHERE event_date >= yesterday() AND query_id = " +
              Quote(query_id) + " AND toString(type) IN ('2', 'QueryFinish') LIMIT 1",
          "TabSeparated");
      if (!text.empty()) return std::stoll(text);
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
  files.push_back({t.create_file, "clickhouse-schema", fs::file_size(to / t.create_file), Sha256File(to / t.create_file), ""});

  t.data_file = "clickhouse/" + name + (gzip ? ".native.gz" : ".native");
  const std::string query_id = "clickflow-backup-" + RandomHex(12);
  for (int attempt = 1;; ++attempt) {
    const int64_t before = client.QueryInt("SELECT count() FROM " + qualified);
    Exported e = ExportToFile(config.clickhouse, "SELECT * FROM " + qualified + " FORMAT Native",
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
      if (before == after) rows = before;
      else if (attempt >= 5) {
        throw Error(fmt::format("{} kept changing during the export ({} -> {} rows) and the server has no query_log "
                                "to count what was read: stop the loader and retry", qualified, before, after));
      }
    }
    if (rows) {
      t.rows = *rows;
      files.push_back({t.data_file, "clickhouse-data", e.bytes, e.sha256, ""});
      return t;
    }
  }
}

// Where pg_dump and pg_restore reach the stack's PostgreSQL over TCP with the config's login
// (PGPASSWORD): works as root and as a user, and against a server we cannot reach by socket.
std::string PostgresHost(const Config& config) {
  const std::string& h = config.stack.host;
  return (h.empty() || h == "0.0.0.0" || h == "::") ? "127.0.0.1" : h;
}

SpawnOptions PostgresTool(const Config& config, const std::string& tool) {
  const fs::path bin = stack::FindPostgresBinDir();
  if (bin.empty()) throw Error("PostgreSQL client binaries not found under /usr/lib/postgresql: run scripts/install-deps.sh");
  SpawnOptions s;
  s.argv = {(bin / tool).string(), "-h", PostgresHost(config), "-p", std::to_string(config.stack.postgres_port), "-U",
            config.stack.postgres_user, "--no-password"};
  s.env = {{"PGPASSWORD", config.stack.postgres_password}, {"PGCONNECT_TIMEOUT", "10"}};
  s.new_session = false;
  return s;
}

struct SecretFile {
  const char* relative;  // under the data dir
};
constexpr SecretFile kSecrets[] = {
    {"airflow/fernet_key"}, {"airflow/jwt_secret"}, {"airflow/secret_key"}, {"superset/secret_key"}};

void CopyPrivate(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  WriteFile(to, ReadFile(from), kPrivateFile);
}

}  // namespace

// ---- manifest ---------------------------------------------------------------------------------

json ManifestToJson(const Manifest& m) {
  json tables = json::array();
  for (const auto& t : m.tables) {
    tables.push_back({{"name", t.name}, {"engine", t.engine}, {"create_file", t.create_file},
                      {"data_file", t.data_file}, {"rows", t.rows}});
  }
  json files = json::array();
  for (const auto& f : m.files) {
    files.push_back({{"path", f.path}, {"kind", f.kind}, {"bytes", f.bytes}, {"sha256", f.sha256},
                     {"restore_to", f.restore_to}});
  }
  return {{"format", m.format},
          {"clickflow_version", m.clickflow_version},
          {"created_at", m.created_at},
          {"clickhouse", {{"version", m.clickhouse_version}, {"database", m.database}, {"compression", m.compression},
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
      m.files.push_back({field(f, "path", "files[].").get<std::string>(), field(f, "kind", "files[].").get<std::string>(),
                         field(f, "bytes", "files[].").get<uint64_t>(), field(f, "sha256", "files[].").get<std::string>(),
                         f.value("restore_to", "")});
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

std::string Sha256File(const fs::path& file) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!in) throw Error("cannot read " + file.string());
  Sha256 sha;
  std::vector<char> buffer(1 << 20);
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), in.get())) > 0) sha.Update(buffer.data(), n);
  if (std::ferror(in.get())) throw Error("cannot read " + file.string());
  return sha.HexDigest();
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
      throw Error(fmt::format("backup is damaged: {} has {} bytes, the manifest says {}", path.string(), size, f.bytes));
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

void CheckRestoreTarget(const Config& config) {
  if (auto state = stack::ReadState(config.RunDir()); state && state->supervisor_pid > 0 && IsAlive(state->supervisor_pid)) {
    throw Error(fmt::format("a stack runs in {} (supervisor pid {}): restore only goes into an empty data dir; "
                            "stop it and choose a fresh data_dir", config.data_dir.string(), state->supervisor_pid));
  }
  auto non_empty = [](const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir, ec) && !fs::is_empty(dir, ec);
  };
  for (const char* part : {"clickhouse/data", "postgres/data"}) {
    const fs::path dir = config.data_dir / part;
    if (non_empty(dir)) {
      throw Error(fmt::format("{} already holds data: restore only goes into an empty data dir (set data_dir in {} to a "
                              "new folder, or move this one away)", dir.string(), config.source));
    }
  }
}

bool IsBackupTable(const std::string& name, const std::string& engine) {
  if (name.starts_with(".inner.")) return false;
  if (name.ends_with("_build")) return false;
  return engine.ends_with("MergeTree");
}

// ---- backup -----------------------------------------------------------------------------------

BackupSummary RunBackup(const Config& config, const fs::path& to_arg, const BackupOptions& options) {
  const auto begin = Clock::now();
  ::umask(077);
  const fs::path to = fs::absolute(to_arg).lexically_normal();
  if (fs::exists(to) && !(fs::is_directory(to) && fs::is_empty(to))) {
    throw Error(to.string() + " already exists and is not an empty folder: choose a new one");
  }
  fs::create_directories(to);
  for (const char* sub : {"", "clickhouse", "postgres", "secrets", "config"}) {
    fs::create_directories(to / sub);
    fs::permissions(to / sub, kPrivateDir);
  }

  Manifest m;
  m.clickflow_version = CLICKFLOW_VERSION;
  m.created_at = UtcNow();
  m.database = config.clickhouse.database;
  m.compression = options.compress ? "gzip" : "none";

  ClickHouseClient client(config.clickhouse);
  m.clickhouse_version = client.Query("SELECT version()", "TabSeparated");
  while (!m.clickhouse_version.empty() && m.clickhouse_version.back() == '\n') m.clickhouse_version.pop_back();

  const std::string tables_tsv = client.Query(
      "SELECT name, engine FROM system.tables WHERE database = " + Quote(m.database) + " ORDER BY name", "TabSeparated");
  std::istringstream lines(tables_tsv);
  for (std::string line; std::getline(lines, line);) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    const std::string name = line.substr(0, tab), engine = line.substr(tab + 1);
    if (!IsBackupTable(name, engine)) continue;
    const auto t0 = Clock::now();
    TableEntry t = BackupTable(client, config, to, name, engine, options.compress, m.files);
    std::cout << fmt::format("  clickhouse {:<24} {:>10} rows {:>10} {:>6.1f} s\n", name, t.rows,
                             HumanBytes(m.files.back().bytes), Since(t0))
              << std::flush;
    m.tables.push_back(std::move(t));
  }
  if (m.tables.empty()) throw Error("no tables in ClickHouse database " + m.database + ": run `clickflow migrate` first?");

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

  // Last, so a backup with a manifest is a finished one.
  WriteFile(to / "manifest.json", ManifestToJson(m).dump(2) + "\n", kPrivateFile);

  BackupSummary summary;
  for (const FileEntry& f : m.files) summary.bytes += f.bytes;
  summary.manifest = std::move(m);
  summary.seconds = Since(begin);
  return summary;
}

// ---- restore ----------------------------------------------------------------------------------

namespace {

// Stops the restore's temporary stack whatever happens.
class TemporaryStack {
 public:
  TemporaryStack(const Config& config, const fs::path& file) : config_(config), file_(file) {
    stack::StackUp(config_, file_.string());
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
    stack::StackDown(config_);
    std::error_code ec;
    fs::remove(file_, ec);
  }

 private:
  Config config_;
  fs::path file_;
  bool up_ = false;
};

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
    if (!exists) {
      // A table no migration creates (added by hand on the source): its own DDL.
      client.Execute(ReadFile(Inside(from, t.create_file, "table file")));
    }
    // The migrations just filled schema_migrations; the backup's rows replace them.
    if (client.QueryInt("SELECT count() FROM " + qualified) > 0) client.Execute("TRUNCATE TABLE " + qualified);
    if (t.rows > 0) InsertFromFile(config.clickhouse, qualified, Inside(from, t.data_file, "table file"), m.compression == "gzip");
    const int64_t rows = client.QueryInt("SELECT count() FROM " + qualified);
    if (rows != t.rows) {
      throw Error(fmt::format("restored {} has {} rows, the backup {}", qualified, rows, t.rows));
    }
    total_rows += rows;
    std::cout << fmt::format("  clickhouse {:<24} {:>10} rows {:>6.1f} s\n", t.name, rows, Since(t0)) << std::flush;
  }
}

void RestorePostgres(const Config& config, const fs::path& from, const Manifest& m) {
  for (const std::string& db : m.postgres_databases) {
    const auto t0 = Clock::now();
    SpawnOptions restore = PostgresTool(config, "pg_restore");
    // Into the database the stack created (postgres_server.cc). --no-owner/--no-privileges:
    // objects belong to this stack's postgres_user, whatever the source's was called.
    restore.argv.insert(restore.argv.end(), {"--clean", "--if-exists", "--no-owner", "--no-privileges",
                                             "--exit-on-error", "--single-transaction", "-d", db,
                                             Inside(from, "postgres/" + db + ".dump", "dump").string()});
    CommandResult r = RunCommand(restore);
    if (r.exit_code != 0) throw Error("pg_restore of database " + db + " failed:\n" + r.output);
    std::cout << fmt::format("  postgres   {:<24} {:>15} {:>6.1f} s\n", db, "pg_restore", Since(t0)) << std::flush;
  }
}

}  // namespace

RestoreSummary RunRestore(const Config& config, const fs::path& from_arg) {
  const auto begin = Clock::now();
  const fs::path from = fs::absolute(from_arg).lexically_normal();
  CheckRestoreTarget(config);
  Manifest m = ReadManifest(from);
  VerifyBackup(from, m);
  std::cout << fmt::format("backup of {} (clickflow {}, ClickHouse {}): {} tables, {} databases, checksums ok\n",
                           m.created_at, m.clickflow_version, m.clickhouse_version, m.tables.size(),
                           m.postgres_databases.size());
  if (m.database != config.clickhouse.database) {
    throw Error(fmt::format("the backup holds ClickHouse database {}, this config uses {}: set clickhouse.database "
                            "in {} to {}", m.database, config.clickhouse.database, config.source, m.database));
  }

  // The stack of this data dir with PostgreSQL and ClickHouse (and Kafka, which the stack
  // always runs) only: Airflow and Superset must not initialise their databases before
  // pg_restore. Through a config file, since the supervisor reads its own; the environment
  // wins over files, so it says the same.
  Config restore_config = config;
  restore_config.stack.airflow = false;
  restore_config.stack.superset = false;
  restore_config.stack.streaming = false;
  fs::create_directories(config.RunDir());
  const fs::path restore_file = config.RunDir() / "restore-clickflow.yaml";
  WriteFile(restore_file, ToYaml(restore_config), kPrivateFile);
  for (const char* name : {"CLICKFLOW_STACK_AIRFLOW", "CLICKFLOW_STACK_SUPERSET", "CLICKFLOW_STACK_STREAMING"}) {
    ::setenv(name, "false", 1);
  }
  restore_config = LoadConfig(restore_file.string());

  RestoreSummary summary;
  {
    std::cout << "starting PostgreSQL and ClickHouse in " << config.data_dir.string() << "\n" << std::flush;
    TemporaryStack temporary(restore_config, restore_file);
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
