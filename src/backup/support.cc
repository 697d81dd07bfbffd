#include "backup/support.h"

#include "clickhouse/client.h"
#include "common/error.h"
#include "common/template.h"
#include "stack/postgres_server.h"

namespace clickflow::backup {

namespace fs = std::filesystem;

double Since(Clock::time_point begin) { return std::chrono::duration<double>(Clock::now() - begin).count(); }

std::string QualifiedName(const std::string& db, const std::string& table) {
  return QuoteIdentifier(db) + "." + QuoteIdentifier(table);
}

void CopyPrivate(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  WriteFile(to, ReadFile(from), kPrivateFile);
}

namespace {

std::string PostgresHost(const Config& config) {
  const std::string& h = config.stack.host;
  return (h.empty() || h == "0.0.0.0" || h == "::") ? "127.0.0.1" : h;
}

}  // namespace

SpawnOptions PostgresTool(const Config& config, const std::string& tool) {
  const fs::path bin = stack::FindPostgresBinDir();
  if (bin.empty())
    throw Error("PostgreSQL client binaries not found under /usr/lib/postgresql: run scripts/install-deps.sh");
  SpawnOptions s;
  s.argv = {(bin / tool).string(),
            "-h",
            PostgresHost(config),
            "-p",
            std::to_string(config.stack.postgres_port),
            "-U",
            config.stack.postgres_user,
            "--no-password"};
  s.env = {{"PGPASSWORD", config.stack.postgres_password}, {"PGCONNECT_TIMEOUT", "10"}};
  s.new_session = false;
  return s;
}

}  // namespace clickflow::backup
