#pragma once
// `clickflow restore --from DIR`: a backup (backup/backup.h) into the empty data dir of a
// config.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "backup/manifest.h"
#include "common/config.h"

namespace clickflow::backup {

// Starts and stops the stack of a config. A restore needs PostgreSQL and ClickHouse running
// while it writes into them; the command line hands it the stack manager's StackUp/StackDown,
// so backup does not drive the supervisor itself.
struct StackControl {
  // Starts the stack of `config` (read by the supervisor from `config_path`) and returns once
  // it is up; throws Error when it does not come up.
  std::function<void(const Config& config, const std::string& config_path)> up;
  std::function<void(const Config& config)> down;
};

// Restore only goes into an empty data dir: throws Error when a stack runs there or it already
// holds ClickHouse's or PostgreSQL's data folder.
void CheckRestoreTarget(const Config& config);

struct RestoreSummary {
  Manifest manifest;
  int64_t rows = 0;
  double seconds = 0;
};

// Restores `from` into the (empty) data dir of `config`: verifies the checksums, starts
// PostgreSQL and ClickHouse through `stack` (Kafka too: the stack manager always runs it; no
// Airflow, Superset or streaming), applies the migrations, inserts every table, pg_restores both
// databases, puts the secrets back, checks the row counts and stops the stack again.
RestoreSummary RunRestore(const Config& config, const std::filesystem::path& from, const StackControl& stack);

}  // namespace clickflow::backup
