#pragma once
// Each subcommand lives in its own cmd_<name>.cc and registers itself on the root app here.
#include <CLI/CLI.hpp>

#include <string>

#include "common/config.h"

namespace clickflow::cli {

// Options every subcommand shares; the config is loaded lazily, once a command runs.
struct GlobalOptions {
  std::string config_path;
  bool verbose = false;
  Config LoadConfig() const { return clickflow::LoadConfig(config_path); }
};

void RegisterGenerate(CLI::App& app, GlobalOptions& global);
void RegisterTopics(CLI::App& app, GlobalOptions& global);
void RegisterProduce(CLI::App& app, GlobalOptions& global);
void RegisterLoad(CLI::App& app, GlobalOptions& global);
void RegisterIngest(CLI::App& app, GlobalOptions& global);
void RegisterDwh(CLI::App& app, GlobalOptions& global);
void RegisterRetention(CLI::App& app, GlobalOptions& global);
void RegisterQuality(CLI::App& app, GlobalOptions& global);
void RegisterMigrate(CLI::App& app, GlobalOptions& global);
void RegisterSql(CLI::App& app, GlobalOptions& global);
void RegisterStack(CLI::App& app, GlobalOptions& global);
void RegisterConfig(CLI::App& app, GlobalOptions& global);
void RegisterTempConfig(CLI::App& app, GlobalOptions& global);
void RegisterSuperset(CLI::App& app, GlobalOptions& global);
void RegisterBackup(CLI::App& app, GlobalOptions& global);

}  // namespace clickflow::cli
