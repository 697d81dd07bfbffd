#include "stack/postgres_server.h"

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/template.h"

namespace clickflow::stack {

namespace fs = std::filesystem;

fs::path FindPostgresBinDir() {
  fs::path best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    int version = std::atoi(entry.path().filename().c_str());
    if (version > best_version && fs::exists(entry.path() / "bin" / "postgres")) {
      best_version = version;
      best = entry.path() / "bin";
    }
  }
  return best;
}

PostgresServer::PostgresServer(const Config& config)
    : Component(config), bin_dir_(FindPostgresBinDir()), user_(ServiceUser("postgres")) {}

void PostgresServer::CheckInstalled() const {
  if (bin_dir_.empty()) {
    throw Error("PostgreSQL server binaries not found under /usr/lib/postgresql: run scripts/install-deps.sh");
  }
}

void PostgresServer::Prepare() {
  PrepareOwnedDir(WorkDir(), user_);
  PrepareOwnedDir(SocketDir(), user_);
  if (fs::exists(DataDir() / "PG_VERSION")) return;

  spdlog::info("postgres: initdb in {}", DataDir().string());
  // The superuser's password goes through a file only the service user can read.
  const fs::path pwfile = WorkDir() / "initdb.pw";
  WriteFile(pwfile, config_.stack.postgres_password + "\n", fs::perms(0600));
  ChownTo(pwfile, user_);
  SpawnOptions initdb;
  initdb.argv = {Bin("initdb"),
                 "-D",
                 DataDir(),
                 "-U",
                 config_.stack.postgres_user,
                 "--pwfile=" + pwfile.string(),
                 "--auth-local=trust",
                 "--auth-host=scram-sha-256",
                 "-E",
                 "UTF8",
                 "--locale=C.UTF-8"};
  initdb.run_as_user = user_;
  CommandResult r = RunCommand(initdb);
  fs::remove(pwfile);
  if (r.exit_code != 0) throw Error("initdb failed:\n" + r.output);
}

SpawnOptions PostgresServer::Command() const {
  SpawnOptions s;
  s.argv = {Bin("postgres"), "-D", DataDir(), "-c", "listen_addresses=" + config_.stack.host, "-c",
            "port=" + std::to_string(config_.stack.postgres_port), "-c",
            "unix_socket_directories=" + SocketDir().string(),
            // Small and quiet: two metadata databases on a 2-core machine.
            "-c", "max_connections=200", "-c", "shared_buffers=128MB", "-c", "logging_collector=off", "-c",
            "log_min_messages=warning"};
  s.run_as_user = user_;
  s.log_file = LogFile();
  return s;
}

bool PostgresServer::Healthy() const {
  SpawnOptions s;
  s.argv = {Bin("pg_isready"), "-q", "-h", config_.stack.host, "-p", std::to_string(config_.stack.postgres_port)};
  return RunCommand(s).exit_code == 0;
}

CommandResult PostgresServer::Psql(const std::string& database, const std::string& sql) const {
  SpawnOptions s;
  s.argv = {Bin("psql"),
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            SocketDir(),
            "-p",
            std::to_string(config_.stack.postgres_port),
            "-U",
            config_.stack.postgres_user,
            "-d",
            database,
            "-c",
            sql};
  s.run_as_user = user_;
  return RunCommand(s);
}

void PostgresServer::AfterHealthy() {
  for (const std::string db : {"airflow", "superset"}) {
    CommandResult exists = Psql("postgres", "SELECT 1 FROM pg_database WHERE datname = '" + db + "'");
    if (exists.exit_code != 0) throw Error("postgres: cannot query databases: " + exists.output);
    if (exists.output.find('1') != std::string::npos) continue;
    CommandResult created = Psql("postgres", "CREATE DATABASE " + db);
    if (created.exit_code != 0) throw Error("postgres: cannot create database " + db + ": " + created.output);
    spdlog::info("postgres: created database {}", db);
  }
}

}  // namespace clickflow::stack
