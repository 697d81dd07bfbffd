#include "clickhouse/migrations.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "clickhouse/client.h"
#include "common/error.h"
#include "common/log.h"

namespace clickflow {
namespace fs = std::filesystem;
namespace {

std::string TrimCopy(std::string_view text) {
  const char* ws = " \t\r\n";
  size_t begin = text.find_first_not_of(ws);
  if (begin == std::string_view::npos) return "";
  return std::string(text.substr(begin, text.find_last_not_of(ws) - begin + 1));
}

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

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot read", path.string()));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
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
  std::string body = client.Query(
      fmt::format("SELECT version, name, checksum FROM {}.schema_migrations ORDER BY applied_at", db),
      "TabSeparated");
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    size_t t1 = line.find('\t');
    size_t t2 = line.find('\t', t1 + 1);
    uint32_t version = 0;
    if (t1 == std::string::npos || t2 == std::string::npos ||
        std::from_chars(line.data(), line.data() + t1, version).ec != std::errc()) {
      throw Error(fmt::format("{}.schema_migrations: unexpected row '{}'", db, line));
    }
    // Two migrate runs racing may both record a version; the rows are identical, keep one.
    recorded[version] = Recorded{line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1)};
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
      throw Error(fmt::format("{}: migration files are named NNNN_name.sql (lowercase)",
                              entry.path().string()));
    }
    Migration m;
    m.version = static_cast<uint32_t>(std::stoul(match[1].str()));
    m.name = name;
    m.path = entry.path();
    m.text = ReadFile(entry.path());
    m.checksum = Sha256Hex(m.text);
    if (auto [it, fresh] = seen.emplace(m.version, name); !fresh) {
      throw Error(fmt::format("{}: version {:04} is also used by {}", entry.path().string(), m.version,
                              it->second));
    }
    migrations.push_back(std::move(m));
  }
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return migrations;
}

RenderContext MakeRenderContext(const Config& config, const ServerVersion& server) {
  RenderContext context;
  context.database = config.clickhouse.database;
  context.server = server;
  context.variables["staging_ttl_days"] = std::to_string(config.pipeline.staging_ttl_days);
  context.variables["fact_ttl_days"] = std::to_string(config.pipeline.fact_ttl_days);
  return context;
}

std::string RenderMigration(std::string_view text, const RenderContext& context) {
  // The name is spliced into DDL unquoted, so it must not be able to carry anything but a name.
  if (!IsIdentifier(context.database)) {
    throw Error(fmt::format("clickhouse.database: '{}' is not a plain name ([A-Za-z_][A-Za-z0-9_]*)",
                            context.database));
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
      std::string expression = TrimCopy(RenderMigration(inner.substr(colon + 1), context));
      if (context.server.SupportsTtl()) out += "TTL " + expression;
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
    std::string trimmed = TrimCopy(line);
    if (trimmed.starts_with("--")) continue;
    if (trimmed.ends_with(";")) {
      std::string_view kept = line.substr(0, line.find_last_of(';'));
      current.append(kept);
      if (std::string statement = TrimCopy(current); !statement.empty()) statements.push_back(statement);
      current.clear();
    } else {
      current.append(line);
      current += '\n';
    }
  }
  if (std::string statement = TrimCopy(current); !statement.empty()) statements.push_back(statement);
  return statements;
}

// FIPS 180-4 SHA-256: small enough to keep here rather than linking a crypto library for
// checksums that `sha256sum` must reproduce.
std::string Sha256Hex(std::string_view data) {
  static constexpr std::array<uint32_t, 64> k = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  auto rotr = [](uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  std::string message(data);
  uint64_t bit_length = static_cast<uint64_t>(data.size()) * 8;
  message += static_cast<char>(0x80);
  while (message.size() % 64 != 56) message += '\0';
  for (int i = 7; i >= 0; --i) message += static_cast<char>((bit_length >> (i * 8)) & 0xff);
  for (size_t chunk = 0; chunk < message.size(); chunk += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(message.data() + chunk + i * 4);
      w[i] = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    }
    for (int i = 16; i < 64; ++i) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  std::string hex;
  for (uint32_t word : h) hex += fmt::format("{:08x}", word);
  return hex;
}

MigrateResult Migrate(ClickHouseClient& client, const Config& config,
                      const std::vector<Migration>& migrations, const MigrateOptions& options) {
  ServerVersion server = QueryServerVersion(client);
  RenderContext context = MakeRenderContext(config, server);
  const std::string& db = context.database;
  RenderMigration("{db}", context);  // validates the database name before it reaches any SQL
  spdlog::debug("migrating {} on ClickHouse {}", db, server.ToString());

  bool have_table = client.QueryInt(fmt::format(
                        "SELECT count() FROM system.tables WHERE database = {} AND name = "
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
        throw Error(fmt::format(
            "{}: changed after it was applied (recorded checksum {}, file now {}); add a new "
            "migration instead of editing this one",
            m.path.string(), it->second.checksum, m.checksum));
      }
      if (it->second.name != m.name) {
        spdlog::warn("migration {:04} was applied as {} and is now named {}", m.version,
                     it->second.name, m.name);
      }
      continue;
    }
    AppliedMigration applied{m.name, {}};
    for (const std::string& statement : SplitStatements(m.text)) {
      try {
        applied.statements.push_back(TrimCopy(RenderMigration(statement, context)));
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
          "INSERT INTO {}.schema_migrations (version, name, checksum, applied_at) VALUES ({}, {}, {}, now())",
          db, m.version, Quote(m.name), Quote(m.checksum)));
      spdlog::debug("applied {} ({} statements)", m.name, applied.statements.size());
    }
    result.applied.push_back(std::move(applied));
  }
  for (const auto& [version, r] : recorded) {
    if (!on_disk.contains(version)) {
      spdlog::warn("migration {} is recorded in {}.schema_migrations but not on disk (a newer clickflow?)",
                   r.name, db);
    }
  }
  return result;
}

}  // namespace clickflow
